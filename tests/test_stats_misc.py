"""Peaks in 2D/3D, histograms, two-sample comparisons and image similarity."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from gancosmo import stats as S
from gancosmo.stats.fields import gaussian_maps, lognormal_cubes, lognormal_maps


def _brute_peaks(x, r, strict=True):
    """Reference peak mask by explicit periodic neighbour comparisons (numpy)."""
    d = x.ndim
    mx = np.full(x.shape, -np.inf)
    for off in itertools.product(range(-r, r + 1), repeat=d):
        if any(off):
            mx = np.maximum(mx, np.roll(x, [-o for o in off], axis=tuple(range(d))))
    return x > mx if strict else x >= mx


@pytest.mark.parametrize("r", [1, 2])
def test_peak_counts_2d_match_brute_force(r):
    maps = lognormal_maps(3, 48, 3.0, seed=3)
    th = np.linspace(maps.min(), maps.max(), 12)
    _, counts = S.peak_counts_2d(maps, th, neighbourhood=r, differential=False)
    for b in range(3):
        m = _brute_peaks(maps[b], r)
        ref, _ = np.histogram(maps[b][m], th)
        # numpy's last bin is closed; ours (and lenstools') is half open
        ref[-1] -= np.sum(maps[b][m] == th[-1])
        np.testing.assert_array_equal(counts[b], ref)


@pytest.mark.parametrize("r", [1, 2])
def test_peak_counts_3d_match_brute_force(r):
    cubes = lognormal_cubes(2, 16, 50.0, seed=4)
    th = np.linspace(0.0, cubes.max() + 1, 10)
    _, counts = S.peak_counts_3d(cubes, th, neighbourhood=r)
    vals = S.peak_values(cubes, neighbourhood=r)
    for b in range(2):
        m = _brute_peaks(cubes[b], r)
        ref, _ = np.histogram(cubes[b][m], th)
        np.testing.assert_array_equal(counts[b], ref)
        np.testing.assert_array_equal(np.sort(vals[b]), np.sort(cubes[b][m]))


def test_non_strict_peaks_count_plateaus():
    x = np.zeros((1, 8, 8))
    x[0, 2, 2] = x[0, 2, 3] = 1.0
    assert S.peak_values(x, 1, strict=True)[0].size == 0
    assert S.peak_values(x, 1, strict=False, threshold=0.5)[0].size == 2


def test_open_boundary_peaks_see_only_inside_neighbours():
    x = np.zeros((1, 6, 6))
    x[0, 0, 0] = 2.0
    x[0, 5, 5] = 3.0  # periodic neighbour of (0, 0)
    assert 2.0 not in S.peak_values(x, 1, boundary="periodic")[0]
    assert 2.0 in S.peak_values(x, 1, boundary="open")[0]


def test_histograms_linear_log_unbounded():
    rng = np.random.default_rng(0)
    x = rng.normal(0.2, 0.1, (3, 32, 32))
    e = S.linear_edges(0.0, 0.4, 20)
    c, h = S.pixel_histogram(x, e)
    for b in range(3):
        np.testing.assert_array_equal(h[b], np.histogram(x[b], e)[0])
    _, hu = S.pixel_histogram(x, e, unbounded=True)
    assert np.all(hu.sum(1) == 32 * 32)
    assert hu[0, 0] == h[0, 0] + np.sum(x[0] < 0)
    assert hu[0, -1] == h[0, -1] + np.sum(x[0] > 0.4)
    le = S.log_edges(1e-4, 1e4, 49)
    c, hl = S.pixel_histogram(np.exp(x * 10), le, log_centers=True)
    np.testing.assert_allclose(c, np.sqrt(le[1:] * le[:-1]))
    _, dens = S.histogram(x, e, density=True)
    np.testing.assert_allclose((dens * np.diff(e)).sum(1), 1.0)
    # P4 peak histogram: log(p + e) over [1.5, 13]
    cubes = 1 + lognormal_cubes(2, 16, 40.0, seed=1) * 50
    _, hp = S.peak_histogram(cubes, S.linear_edges(1.5, 13, 20), neighbourhood=2, transform=lambda p: np.log(p + np.e))
    assert hp.shape == (2, 20) and hp.sum() > 0


def test_mean_density_and_median_mad():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_allclose(S.mean_density(x), [5.5, 17.5])
    med, mad = S.median_mad(np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]]))
    np.testing.assert_allclose(med, [2.0, 20.0])
    np.testing.assert_allclose(mad, [1.0, 10.0])


def test_fractional_difference_and_correlations():
    rng = np.random.default_rng(1)
    real = rng.normal(10, 1, (200, 5))
    np.testing.assert_allclose(S.fractional_difference(real, real * 1.1), 0.1, rtol=1e-12)
    r = S.correlation(real)
    assert r.shape == (5, 5) and np.allclose(np.diag(r), 1)
    assert S.covariance(real).shape == (5, 5)
    assert S.frobenius_fr(real, real) == 0.0
    corr = real + 3 * rng.normal(0, 1, (200, 1))  # strongly correlated bins
    assert S.frobenius_fr(real, corr) > 1.0


def test_ks_ad_bootstrap_tells_same_from_shifted():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, (300, 3)), rng.normal(0, 1, (300, 3))
    same = S.ks_ad_bootstrap(a, b, n_boot=5, seed=0)
    diff = S.ks_ad_bootstrap(a, b + 0.5, n_boot=5, seed=0)
    assert same["ks_all"].shape == (5, 3)
    assert np.all(same["ks"] > 0.01) and np.all(same["ad"] > 0.01)
    assert np.all(diff["ks"] < 0.05) and np.all(diff["ad"] < 0.05)


def test_fid_like_standardizes_by_the_real_sample():
    rng = np.random.default_rng(3)
    real = rng.normal([0, 100], [1, 50], (5000, 2))
    fake = real + [1.0, 0.0]  # 1 sigma shift in the first feature
    one_sigma = 1.0 / real[:, 0].std()
    assert S.fid_like(real, fake) == pytest.approx(one_sigma, rel=1e-6)
    assert S.fid_like(real, fake, formula="p2_text") == pytest.approx(one_sigma, rel=1e-6)


def test_ms_ssim_pairs_and_s_ssim():
    maps = gaussian_maps(6, 64, 3.0, seed=1)
    s = S.ms_ssim_random_pairs(maps, n_pairs=10, seed=0)
    assert s.shape == (10,) and np.all((s >= 0) & (s <= 1))
    same = np.repeat(maps[:1], 4, axis=0)
    np.testing.assert_allclose(S.ms_ssim_random_pairs(same, n_pairs=5, data_range=float(np.ptp(maps))), 1.0, atol=1e-5)
    assert S.s_ssim(s, s) == 0.0


def test_dice_overlap_baseline_and_scores():
    maps = gaussian_maps(40, 64, 3.0, seed=2)
    p = np.array([10.0, 50.0])
    o = S.dice_top_percent(maps, maps, p)
    np.testing.assert_allclose(o, 1.0)
    r, sd = S.dice_random_baseline(maps, p, n_pairs=100, seed=0)
    np.testing.assert_allclose(r, p / 100, atol=0.05)  # random pairs overlap by n% on average
    norm, sig = S.dice_scores(o, r, sd)
    np.testing.assert_allclose(norm, 1.0)
    assert np.all(sig > 3)


def test_nearest_neighbours_find_the_memorized_map():
    train = gaussian_maps(20, 32, 2.0, seed=3)
    gen = train[[4, 11, 17]] + 1e-3 * train.std() * np.random.default_rng(0).standard_normal((3, 32, 32))
    idx, dist = S.nearest_neighbours(gen, train, k=2)
    np.testing.assert_array_equal(idx[:, 0], [4, 11, 17])
    assert np.all(dist[:, 0] < dist[:, 1])
    idx, _ = S.nearest_neighbours(
        torch.as_tensor(gen), train, metric="power", side_deg=2.0, ell_edges=np.linspace(200, 8000, 20)
    )
    np.testing.assert_array_equal(idx[:, 0], [4, 11, 17])


def test_chunked_batches_give_the_same_results(monkeypatch):
    from gancosmo.stats import _utils

    maps = lognormal_maps(5, 32, 2.0, seed=9)
    cubes = lognormal_cubes(3, 16, 40.0, seed=9)
    e = np.linspace(200, 5000, 12)
    th = np.linspace(maps.min(), maps.max(), 9)
    calls = {
        "power2d": lambda: S.power_spectrum_2d(maps, 2.0, e)[1],
        "bisp2d": lambda: S.bispectrum_2d(maps, 2.0, e)[1],
        "mink": lambda: np.stack(S.minkowski_2d(maps, th)[1:]),
        "power3d": lambda: S.power_spectrum_3d(cubes, 40.0)[1],
        "bisp3d": lambda: np.stack(S.bispectrum_3d(cubes, 40.0, 0.4, 0.6, [0.3, 1.0])),
    }
    whole = {k: f() for k, f in calls.items()}
    monkeypatch.setattr(_utils, "MAX_CHUNK_ELEMENTS", 700)  # one or two items per chunk
    for k, f in calls.items():
        np.testing.assert_allclose(f(), whole[k], rtol=1e-12, atol=0, err_msg=k)


# ----------------------------------------------------------------------------------------
# the fast binning and the two weight paths of minkowski_2d against direct references
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "edges",
    [
        np.linspace(-1.3, 2.7, 41),
        np.linspace(0.01, 0.1, 101),
        np.geomspace(0.1, 3.0, 12),
        1000.0 + np.linspace(0.0, 1e-3, 9),
    ],
    ids=["uniform", "uniform-fine", "log", "offset"],
)
def test_grid_index_is_exactly_bucketize(dtype, edges):
    from gancosmo.stats._utils import grid_index

    te = torch.as_tensor(edges, dtype=dtype)
    rng = np.random.default_rng(0)
    span = edges[-1] - edges[0]
    u = [torch.as_tensor(rng.uniform(edges[0] - span, edges[-1] + span, 20000), dtype=dtype), te]
    u += [torch.nextafter(te, te + 1), torch.nextafter(te, te - 1), torch.tensor([-1e30, 1e30, 0.0, -0.0], dtype=dtype)]
    u = torch.cat(u)
    ref = torch.bucketize(u, te, right=True) - 1
    assert torch.equal(grid_index(u, edges), ref)
    assert torch.equal(grid_index(u, edges, out_int32=True), ref.to(torch.int32))
    spread = grid_index(u, edges, spread=5)
    nb = edges.size - 1
    inside = (ref >= 0) & (ref < nb)
    assert torch.equal(spread[inside], ref[inside])
    assert bool((spread[ref == -1] <= -1).all() & (spread[ref == -1] >= -6).all())
    assert bool((spread[ref == nb] >= nb).all() & (spread[ref == nb] <= nb + 5).all())


def _minkowski_reference(m, e):
    """lenstools' formulas with np.roll (periodic), float64, one threshold bin at a time."""
    m = np.asarray(m, np.float64)
    sh = lambda dy, dx: np.roll(m, (-dy, -dx), axis=(1, 2))  # noqa: E731  u[i + dy, j + dx]
    gx, gy = (sh(0, 1) - sh(0, -1)) / 2, (sh(1, 0) - sh(-1, 0)) / 2
    hxx, hyy = (sh(0, 2) + sh(0, -2) - 2 * m) / 4, (sh(2, 0) + sh(-2, 0) - 2 * m) / 4
    hxy = (sh(1, 1) + sh(-1, -1) - sh(1, -1) - sh(-1, 1)) / 4
    g2 = gx**2 + gy**2
    with np.errstate(divide="ignore", invalid="ignore"):
        i2 = np.where(
            g2 == 0,
            (2 * hxy - hxx - hyy) / (4 * np.pi),
            (2 * gx * gy * hxy - gx**2 * hyy - gy**2 * hxx) / (2 * np.pi * g2),
        )
    i1 = 0.25 * np.sqrt(g2)
    npix = m.shape[1] * m.shape[2]
    mids = 0.5 * (e[1:] + e[:-1])
    v0 = np.stack([(m >= t).sum((1, 2)) for t in mids], 1) / npix
    v1, v2 = (
        np.stack([(w * ((m >= a) & (m < b))).sum((1, 2)) for a, b in zip(e[:-1], e[1:])], 1) / (npix * np.diff(e))
        for w in (i1, i2)
    )
    return v0, v1, v2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["narrow", "wide", "log"])
def test_minkowski_fast_paths_match_a_direct_reference(dtype, kind, monkeypatch):
    """Few pixels in range (weights gathered at those pixels), most in range (weights of all
    pixels), non-uniform edges (binary search), several chunks, and flat patches (zero gradient)."""
    from gancosmo.stats import _utils as U

    monkeypatch.setattr(U, "MAX_CHUNK_ELEMENTS", 2 * 48 * 48 * 64)  # chunks of 2 maps on CPU
    maps = lognormal_maps(5, 48, 3.0, seed=11)
    maps[1, 10:20, 5:25] = maps[1, 10, 5]  # a plateau: the zero-gradient branch
    maps = maps.astype(dtype)
    s = float(maps.std())
    e = {
        "narrow": np.linspace(1.0, 4.0, 31) * s,
        "wide": np.linspace(-3.0, 5.0, 41) * s,
        "log": np.geomspace(0.05, 4.0, 15) * s,
    }[kind]
    _, v0, v1, v2 = S.minkowski_2d(maps, e)
    r0, r1, r2 = _minkowski_reference(maps, e.astype(dtype).astype(np.float64))
    np.testing.assert_array_equal(v0, r0)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    for ours, ref in ((v1, r1), (v2, r2)):
        np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * np.abs(ref).max())
