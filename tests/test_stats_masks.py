"""Non-periodic inputs: ``boundary="mask"`` (and ``border``) of the Minkowski functionals and peaks.

With ``boundary="mask"`` the ``border`` outermost pixels on each side (default: the reach of
the stencil, 2 for the Minkowski functionals, ``neighbourhood`` for peaks) are left out of
the sums and counts, nothing wraps around, and the ``border - reach`` outermost pixels are
never read.  The defaults stay periodic (lenstools; see test_stats_oracles.py).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from gancosmo import stats as S
from gancosmo.stats.fields import lognormal_cubes
from scipy.ndimage import gaussian_filter

ROOT = Path(__file__).resolve().parents[1]
ORACLE_PY = ROOT / ".venv-oracle" / "bin" / "python"


def _smooth_maps(n_maps, n, sigma, seed):
    """Stationary, periodic Gaussian fields (white noise smoothed with wrap-around)."""
    w = np.random.default_rng(seed).standard_normal((n_maps, n, n))
    return np.stack([gaussian_filter(x, sigma, mode="wrap") for x in w])


def _with_garbage(x, width, rng):
    """``x`` with its ``width`` outermost pixels (every side) replaced by huge, infinite and NaN values."""
    g = x.copy()
    ring = np.ones(x.shape[1:], bool)
    ring[(slice(width, -width),) * (x.ndim - 1)] = False
    junk = rng.choice(np.array([1e30, -1e30, np.inf, -np.inf, np.nan, 7.0]), size=(x.shape[0], int(ring.sum())))
    g[:, ring] = junk
    return g


def _embed(x, width, rng):
    """``x`` inside a frame of ``width`` garbage pixels on every side."""
    big = np.zeros((x.shape[0],) + tuple(n + 2 * width for n in x.shape[1:]))
    big[(slice(None),) + (slice(width, -width),) * (x.ndim - 1)] = x
    return _with_garbage(big, width, rng)


# ----------------------------------------------------------------------------------------
# (1) masked pixels beyond the reach of the stencil are never read
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minkowski_masked_border_is_never_read(dtype):
    rng = np.random.default_rng(1)
    maps = _smooth_maps(5, 40, 2.0, seed=2).astype(dtype)
    th = np.linspace(-2.5, 2.5, 21) * maps.std()
    # border 5: the 3 outermost pixels are unread, the next 2 are read by the stencils only
    ref = S.minkowski_2d(maps, th, boundary="mask", border=5)
    got = S.minkowski_2d(_with_garbage(maps, 3, rng), th, boundary="mask", border=5)
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)
    # a tile, and the same tile inside a garbage frame of 4 pixels masked with border 2 + 4
    tile = maps[:, 3:-3, 3:-3]
    ref = S.minkowski_2d(tile, th, boundary="mask")
    got = S.minkowski_2d(_embed(tile, 4, rng).astype(dtype), th, boundary="mask", border=6)
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)
    # ... while the periodic functionals of the tile do see its (wrapped) edges
    per = S.minkowski_2d(tile, th)
    assert not np.array_equal(per[1], ref[1]) and not np.array_equal(per[2], ref[2])
    # the 2 pixels next to the unread ones are read: garbage there is refused (NaN) or counts
    with pytest.raises(ValueError, match="border"):
        S.minkowski_2d(_with_garbage(maps, 3, rng), th, boundary="mask", border=4)


@pytest.mark.parametrize("r", [1, 2])
def test_peaks_masked_border_is_never_read(r):
    rng = np.random.default_rng(3)
    maps = _smooth_maps(4, 36, 1.5, seed=4)
    th = np.linspace(-3, 3, 13) * maps.std()
    w = 3
    kw = dict(neighbourhood=r, differential=False, boundary="mask", border=w + r)
    ref = S.peak_counts_2d(maps, th, **kw)[1]
    np.testing.assert_array_equal(S.peak_counts_2d(_with_garbage(maps, w, rng), th, **kw)[1], ref)
    vals = S.peak_values(maps, r, boundary="mask", border=w + r)
    vals_g = S.peak_values(_with_garbage(maps, w, rng), r, boundary="mask", border=w + r)
    for a, b in zip(vals, vals_g):
        np.testing.assert_array_equal(a, b)
    tile = maps[:, 2:-2, 2:-2]
    np.testing.assert_array_equal(
        S.peak_counts_2d(_embed(tile, w, rng), th, **kw)[1],
        S.peak_counts_2d(tile, th, neighbourhood=r, differential=False, boundary="mask")[1],
    )
    cubes = lognormal_cubes(2, 14, 40.0, seed=5)
    th3 = np.linspace(-1.0, float(cubes.max()) + 1, 9)
    ref3 = S.peak_counts_3d(cubes, th3, neighbourhood=r, boundary="mask", border=2 + r)[1]
    np.testing.assert_array_equal(
        S.peak_counts_3d(_with_garbage(cubes, 2, rng), th3, neighbourhood=r, boundary="mask", border=2 + r)[1], ref3
    )


def test_peak_mask_interior_agrees_with_periodic_and_border_is_false():
    x = torch.as_tensor(_smooth_maps(3, 24, 1.0, seed=6))
    for r in (1, 2):
        per = S.peak_mask(x, r)
        for border in (r, r + 3):
            m = S.peak_mask(x, r, boundary="mask", border=border)
            assert m.shape == x.shape
            inner = (slice(None), slice(border, -border), slice(border, -border))
            # inside the mask no window crosses the edge: the periodic rule gives the same peaks
            assert torch.equal(m[inner], per[inner])
            assert int(m.sum()) == int(m[inner].sum())


@pytest.mark.parametrize("r", [1, 2])
def test_open_and_mask_peaks_match_brute_force(r):
    """Explicit neighbour comparisons: "open" pads with -inf; "mask" keeps the pixels at
    least ``border`` from the edges, whose windows lie inside the map."""
    import itertools

    x = np.random.default_rng(10).standard_normal((2, 12, 11, 10))  # 3D, unequal sides
    for d, f in ((2, x[:, 0]), (3, x)):
        pad = np.pad(f, [(0, 0)] + [(r, r)] * d, constant_values=-np.inf)
        mx = np.full(f.shape, -np.inf)
        for off in itertools.product(range(-r, r + 1), repeat=d):
            if any(off):
                sl = (slice(None),) + tuple(slice(r + o, r + o + n) for o, n in zip(off, f.shape[1:]))
                mx = np.maximum(mx, pad[sl])
        opened = f > mx
        got = S.peak_mask(torch.as_tensor(f), r, boundary="open").numpy()
        np.testing.assert_array_equal(got, opened)
        for border in (r, r + 1):
            inner = (slice(None),) + (slice(border, -border),) * d
            want = np.zeros_like(opened)
            want[inner] = opened[inner]
            np.testing.assert_array_equal(
                S.peak_mask(torch.as_tensor(f), r, boundary="mask", border=border).numpy(), want
            )
            vals = S.peak_values(f, r, boundary="mask", border=border)
            for b in range(f.shape[0]):
                np.testing.assert_array_equal(vals[b], f[b][want[b]])


# ----------------------------------------------------------------------------------------
# (2) on stationary periodic fields the masked densities estimate the periodic ones
# ----------------------------------------------------------------------------------------
def _assert_same_mean(masked, periodic, what, z=5.0):
    """Paired per-map differences: their mean lies within ``z`` standard errors of 0 in every bin.

    A periodic map is stationary on the torus, so its border pixels are distributed as its
    interior ones: the expected difference is exactly 0 and only sampling noise remains.
    """
    d = masked - periodic
    se = d.std(0, ddof=1) / np.sqrt(d.shape[0])
    scale = np.abs(periodic.mean(0)).max()
    worst = np.max(np.abs(d.mean(0)) / np.maximum(se, 1e-12 * scale))
    assert np.all(np.abs(d.mean(0)) <= z * se + 1e-12 * scale), f"{what}: {worst:.1f} standard errors"


def test_masked_minkowski_estimates_the_periodic_densities():
    maps = _smooth_maps(96, 64, 2.5, seed=7)
    s0 = maps.std()
    th = np.linspace(-3, 3, 25) * s0
    per = S.minkowski_2d(maps, th)
    for border in (2, 6):
        msk = S.minkowski_2d(maps, th, boundary="mask", border=border)
        for j in (1, 2, 3):
            _assert_same_mean(msk[j], per[j], f"V{j - 1} border {border}")
    # normalised by the unmasked area: by the full area V0 would be (1 - 4/64)^2 = 0.88 of it
    v0 = S.minkowski_2d(maps, th, boundary="mask")[1]
    np.testing.assert_allclose(v0[:, 0], 1.0, atol=0.02)
    np.testing.assert_allclose(v0.mean(0), per[1].mean(0), atol=0.01)


def test_masked_peak_density_estimates_the_periodic_one():
    """Interior peaks are periodic peaks (their windows cross no edge); on stationary fields
    each periodic peak lies in the unmasked interior with probability p = (n - 2r)^2 / n^2,
    so per bin the masked count, summed over maps, is Binomial(periodic count, p): within
    5 of its standard deviations (and by construction never above the periodic count)."""
    maps = _smooth_maps(96, 64, 1.5, seed=8)
    th = np.linspace(-3, 4, 15) * maps.std()
    n = maps.shape[-1]
    for r in (1, 2):
        per = S.peak_counts_2d(maps, th, neighbourhood=r, differential=False)[1]
        msk = S.peak_counts_2d(maps, th, neighbourhood=r, differential=False, boundary="mask")[1]
        assert np.all(msk <= per)
        p = (n - 2 * r) ** 2 / n**2
        c_full, c_int = per.sum(0), msk.sum(0)
        assert c_full.sum() > 2000  # enough peaks for the test to mean something
        z = (c_int - p * c_full) / np.sqrt(np.maximum(c_full * p * (1 - p), 1e-300))
        assert np.all(np.abs(z[c_full > 0]) < 5), f"r={r}: z = {np.round(z, 1)}"
        # the densities agree: per unmasked pixel vs per pixel, all bins together
        np.testing.assert_allclose(c_int.sum() / (n - 2 * r) ** 2, c_full.sum() / n**2, rtol=0.03)


# ----------------------------------------------------------------------------------------
# (3) a peak at the edge
# ----------------------------------------------------------------------------------------
def _bump(n, i, j, sigma=2.0):
    """A periodic Gaussian bump of height 1 at pixel (i, j): its only strict peak on the torus."""
    d = np.arange(n)
    di = np.minimum(np.abs(d - i), n - np.abs(d - i))
    dj = np.minimum(np.abs(d - j), n - np.abs(d - j))
    return np.exp(-(di[:, None] ** 2 + dj[None, :] ** 2) / (2 * sigma**2))[None]


TH = np.linspace(0.0, 3.0, 7)  # bins of width 0.5: 1.0 falls in bin 2, 2.0 in bin 4


def _n_peaks(x, **kw):
    return S.peak_counts_2d(x, TH, differential=False, **kw)[1][0]


def test_edge_peak_is_counted_only_across_a_real_wrap_and_never_in_the_masked_border():
    n = 16
    x = _bump(n, 0, 7)  # its neighbours across the wrap (row 15) are lower: a real periodic peak
    np.testing.assert_array_equal(_n_peaks(x), [0, 0, 1, 0, 0, 0])
    assert S.peak_values(x, 1)[0].tolist() == [1.0]
    # the masked border never holds a peak ...
    for r in (1, 2):
        np.testing.assert_array_equal(_n_peaks(x, neighbourhood=r, boundary="mask"), 0)
        assert S.peak_values(x, r, boundary="mask")[0].size == 0
    # ... "open" counts it, and also row 15, whose higher neighbour lies across the wrap
    np.testing.assert_array_equal(_n_peaks(x, boundary="open"), [0, 1, 1, 0, 0, 0])
    # a higher pixel across the wrap: (0, 7) is no periodic peak, (15, 7) is
    y = x.copy()
    y[0, n - 1, 7] = 2.0
    np.testing.assert_array_equal(_n_peaks(y), [0, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(_n_peaks(y, boundary="open"), [0, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(_n_peaks(y, boundary="mask"), 0)


@pytest.mark.parametrize("r", [1, 2])
def test_mask_edge_is_exactly_the_neighbourhood(r):
    n = 16
    for row, counted in ((r - 1, False), (r, True)):
        for x in (_bump(n, row, 7), _bump(n, 7, row), _bump(n, n - 1 - row, 7), _bump(n, 7, n - 1 - row)):
            assert _n_peaks(x, neighbourhood=r).sum() == 1  # periodic: always its one peak
            assert _n_peaks(x, neighbourhood=r, boundary="mask").sum() == int(counted), (row, r)
            # one more masked pixel and the peak at distance r is gone too
            assert _n_peaks(x, neighbourhood=r, boundary="mask", border=r + 1).sum() == 0


# ----------------------------------------------------------------------------------------
# bad values of boundary / border
# ----------------------------------------------------------------------------------------
MAPS = np.random.default_rng(0).standard_normal((2, 16, 16))
EDGES = np.linspace(-2, 2, 9)


@pytest.mark.parametrize(
    "call,words",
    [
        (lambda: S.minkowski_2d(MAPS, EDGES, boundary="open"), "boundary"),
        (lambda: S.minkowski_2d(MAPS, EDGES, boundary=None), "boundary"),
        (lambda: S.minkowski_2d(MAPS, EDGES, boundary="mask", border=1), "border"),
        (lambda: S.minkowski_2d(MAPS, EDGES, boundary="mask", border=2.5), "border"),
        (lambda: S.minkowski_2d(MAPS, EDGES, boundary="mask", border=True), "border"),
        (lambda: S.minkowski_2d(MAPS, EDGES, border=3), "border"),
        (lambda: S.minkowski_2d(MAPS, EDGES, boundary="mask", border=8), "maps"),
        (lambda: S.peak_counts_2d(MAPS, EDGES, boundary="wrap"), "boundary"),
        (lambda: S.peak_counts_2d(MAPS, EDGES, neighbourhood=2, boundary="mask", border=1), "border"),
        (lambda: S.peak_counts_2d(MAPS, EDGES, boundary="mask", border=-1), "border"),
        (lambda: S.peak_counts_2d(MAPS, EDGES, boundary="open", border=2), "border"),
        (lambda: S.peak_counts_3d(MAPS[:, None, :4, :4].repeat(4, 1), EDGES, boundary="mask", border=2), "cubes"),
        (lambda: S.peak_values(MAPS, 1, boundary="periodic", border="2"), "border"),
    ],
)
def test_bad_boundary_or_border_raises_one_sentence(call, words):
    with pytest.raises(ValueError) as exc:
        call()
    msg = str(exc.value)
    assert msg.startswith(words), msg  # names the argument (maps/cubes: too small for the border)
    assert words in ("boundary", "border") or "border" in msg, msg
    assert "accepted" in msg and msg.endswith(".") and ". " not in msg and "\n" not in msg, msg


def test_nan_is_refused_where_it_would_be_read():
    x = MAPS.copy()
    x[:, 0, 5] = np.nan
    with pytest.raises(ValueError, match="maps contain NaN"):
        S.minkowski_2d(x, EDGES, boundary="mask")  # border 2: row 0 is read by row 2's stencil
    S.minkowski_2d(x, EDGES, boundary="mask", border=3)  # row 0 unread
    with pytest.raises(ValueError, match="maps contains NaN"):
        S.minkowski_2d(x, EDGES)  # periodic: everything is read


# ----------------------------------------------------------------------------------------
# lenstools' masked maps (live, when the oracle venv exists)
# ----------------------------------------------------------------------------------------
_LT_MASKED = r"""
import sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, astropy.units as u
from lenstools import ConvergenceMap
z = np.load(sys.argv[1]); out = {}
for b, m in enumerate(z["maps"]):
    w = int(z["w"]); prof = np.ones(m.shape, np.int8)
    prof[:w] = 0; prof[-w:] = 0; prof[:, :w] = 0; prof[:, -w:] = 0
    cm = ConvergenceMap(m.copy(), 2.0 * u.deg).mask(prof)
    _, v0, v1, v2 = cm.minkowskiFunctionals(z["th"], norm=False)
    out[f"{b}/v"] = np.stack([v0, v1, v2]); out[f"{b}/pk"] = cm.peakCount(z["th"], norm=False)[1]
np.savez(sys.argv[2], **out)
"""


@pytest.mark.skipif(not ORACLE_PY.exists(), reason="no .venv-oracle here (run `make oracle` to build it)")
def test_mask_matches_lenstools_masked_maps():
    """lenstools sets masked pixels to NaN and drops every pixel whose gradient or hessian
    then is NaN (its ``maskBoundaries``), normalising by the pixels left: a NaN ring of width
    ``w`` is our ``border = w + 2``, for the Minkowski functionals and for its peak counts."""
    rng = np.random.default_rng(9)
    maps = np.cumsum(np.cumsum(rng.standard_normal((2, 40, 40)), 1), 2) * 1e-2  # red, non-periodic
    th = np.linspace(maps.min() * 0.8, maps.max() * 0.8, 15)
    w = 3
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, maps=maps, th=th, w=w)
        subprocess.run([str(ORACLE_PY), "-c", _LT_MASKED, src, dst], check=True, capture_output=True)
        ref = dict(np.load(dst))
    nan_ring = maps.copy()
    nan_ring[:, :w] = nan_ring[:, -w:] = np.nan
    nan_ring[:, :, :w] = nan_ring[:, :, -w:] = np.nan
    _, v0, v1, v2 = S.minkowski_2d(nan_ring, th, boundary="mask", border=w + 2)
    _, pk = S.peak_counts_2d(nan_ring, th, boundary="mask", border=w + 2)
    for b in range(len(maps)):
        for j, v in enumerate((v0, v1, v2)):
            np.testing.assert_allclose(v[b], ref[f"{b}/v"][j], rtol=1e-10, atol=1e-12 * np.abs(ref[f"{b}/v"][j]).max())
        np.testing.assert_allclose(pk[b], ref[f"{b}/pk"], rtol=1e-12)
