"""Analytic checks of gancosmo.stats: Gaussian Minkowski functionals, known spectra, W1, FD."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gancosmo.stats import (
    bispectrum_3d,
    frechet_distance,
    frechet_distance_samples,
    minkowski_2d,
    normalized_wasserstein1,
    power_spectrum_2d,
    power_spectrum_3d,
    reference_s_star,
    s_star,
    wasserstein1,
)
from gancosmo.stats.fields import gaussian_cubes, gaussian_maps, power_law_cl, power_law_pk
from gancosmo.stats.power import ell_grid_2d
from scipy.ndimage import gaussian_filter
from scipy.special import erfc


@pytest.fixture(scope="module")
def smooth_gaussian_maps():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 256, 256))
    return np.stack([gaussian_filter(x, 4.0, mode="wrap") for x in w])


def test_minkowski_of_gaussian_field_matches_analytic(smooth_gaussian_maps):
    r"""V0 = erfc(nu/sqrt2)/2; V1 = sigma1/(8 sqrt2 sigma0) e^{-nu^2/2} per unit threshold;
    V2 = tau/(2pi)^{3/2} nu e^{-nu^2/2} (Euler characteristic per pixel), tau = sigma1^2/(2 sigma0^2),
    nu in units of sigma0 and sigma1^2 = <|grad u|^2> with lenstools' central differences."""
    m = smooth_gaussian_maps
    s0 = m.std()
    gx = (np.roll(m, -1, 2) - np.roll(m, 1, 2)) / 2
    gy = (np.roll(m, -1, 1) - np.roll(m, 1, 1)) / 2
    s1sq = (gx**2 + gy**2).mean()
    nu, v0, v1, v2 = minkowski_2d(m, np.linspace(-3 * s0, 3 * s0, 31))
    t = nu / s0
    a0 = 0.5 * erfc(t / np.sqrt(2))
    a1 = np.sqrt(s1sq) / (8 * np.sqrt(2) * s0) * np.exp(-(t**2) / 2)
    tau = s1sq / (2 * s0**2)
    a2 = tau / (2 * np.pi) ** 1.5 * t * np.exp(-(t**2) / 2)
    for ours, ref, tol, name in ((v0, a0, 0.02, "V0"), (v1, a1, 0.05, "V1"), (v2, a2, 0.10, "V2")):
        err = np.max(np.abs(ours.mean(0) - ref)) / np.max(np.abs(ref))
        assert err < tol, f"{name}: deviation {err:.3f} of the peak from the Gaussian prediction"


def test_power_spectrum_2d_recovers_input_spectrum():
    n, side, nmaps = 64, 4.0, 24
    cl = power_law_cl(amplitude=1e-9, slope=-1.3)
    maps = gaussian_maps(nmaps, n, side, cl, seed=5)
    edges = np.linspace(100.0, 360.0 / side * n / 2, 15)
    _, est = power_spectrum_2d(maps, side, edges)
    # exact expectation: the mean of C_ell over the Fourier cells of each bin
    ell = ell_grid_2d(n, side).ravel()
    b = np.searchsorted(edges, ell, side="left") - 1
    ok = (b >= 0) & (b < edges.size - 1)
    hits = np.bincount(b[ok], minlength=edges.size - 1)
    expect = np.bincount(b[ok], weights=cl(ell[ok]), minlength=edges.size - 1) / hits
    mean = est.mean(0)
    sigma = expect * np.sqrt(2.0 / (hits * nmaps / 2))  # conservative: half the cells independent
    assert np.all(np.abs(mean - expect) < 5 * sigma), np.abs(mean - expect) / sigma


def test_power_spectrum_3d_recovers_input_spectrum():
    n, box, ncubes = 32, 200.0, 6
    pk = power_law_pk(amplitude=2e3, slope=-1.5, k0=0.1)
    cubes = gaussian_cubes(ncubes, n, box, pk, seed=2)
    k, est, nmodes = power_spectrum_3d(cubes, box, return_nmodes=True)
    # expectation: mean of P over the modes in each Pylians bin (computed from the mode grid)
    kf = 2 * np.pi / box
    f = np.fft.fftfreq(n) * n
    kk = np.sqrt(f[:, None, None] ** 2 + f[None, :, None] ** 2 + np.arange(n // 2 + 1)[None, None, :] ** 2)
    _, expect_full = power_spectrum_3d(np.zeros((1, n, n, n)), box)  # zeros: just to get shape
    b = kk.astype(int).ravel() - 1
    ok = (b >= 0) & (b < k.size)
    expect = np.bincount(b[ok], weights=pk(kk.ravel()[ok] * kf), minlength=k.size) / np.bincount(
        b[ok], minlength=k.size
    )
    sigma = expect * np.sqrt(1.0 / (nmodes * ncubes))
    rel = np.abs(est.mean(0) - expect) / sigma
    assert expect_full.shape == (1, k.size)
    assert np.all(rel < 6), rel.max()
    # explicit log edges: 16 bins as in P3
    edges = np.geomspace(2 * kf, kf * n / 2, 17)
    kl, pl = power_spectrum_3d(cubes, box, k_edges=edges)
    assert kl.shape == (16,) and pl.shape == (ncubes, 16)
    good = ~np.isnan(kl)
    assert np.all((kl[good] >= edges[:-1][good]) & (kl[good] < edges[1:][good]))
    np.testing.assert_allclose(pl[:, good].mean(0), pk(kl[good]), rtol=0.35)


def test_power_spectrum_3d_log_edges_of_p4_drop_nothing_silently():
    cubes = gaussian_cubes(1, 32, 350.0 * 32 / 256, seed=1)
    edges = np.geomspace(0.05, 10.0, 51)
    k, p, nm = power_spectrum_3d(cubes, 350.0 * 32 / 256, k_edges=edges, return_nmodes=True)
    assert np.all(np.isnan(p[:, nm == 0])) and np.all(np.isfinite(p[:, nm > 0]))


def test_wasserstein1_of_shifted_gaussians_equals_the_shift():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(20000)
    assert wasserstein1(x, x + 0.7) == pytest.approx(0.7, abs=1e-12)
    y = rng.standard_normal(20000) + 0.7
    assert wasserstein1(x, y) == pytest.approx(0.7, abs=0.03)
    # P2's normalization: a 1 sigma shift gives 1, doubling the spread about 0.8
    z = 3.0 + 0.5 * x
    assert normalized_wasserstein1(z, z + 0.5) == pytest.approx(0.5 / z.std(), rel=1e-9)  # = 1 sigma
    assert normalized_wasserstein1(z, 3.0 + 1.0 * rng.standard_normal(20000)) == pytest.approx(
        np.sqrt(2 / np.pi), abs=0.03
    )


def test_frechet_distance_of_gaussians():
    # 1D: (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([0.0], [[4.0]], [1.0], [[1.0]]) == pytest.approx(1.0 + 1.0)
    c = np.array([[2.0, 0.3], [0.3, 1.0]])
    assert frechet_distance([1, 2], c, [1, 2], c) == pytest.approx(0.0, abs=1e-10)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance_samples(a, a + [1.0, 0, 0]) == pytest.approx(1.0, rel=1e-6)


def test_s_star_rewards_agreement():
    rng = np.random.default_rng(3)
    real = np.exp(rng.normal(0, 0.1, (30, 8))) * np.linspace(1, 10, 8)
    good = np.exp(rng.normal(0, 0.1, (30, 8))) * np.linspace(1, 10, 8)
    bad = good * 1.3
    assert s_star(real, good) > 3 * s_star(real, bad)
    assert reference_s_star(real) > s_star(real, bad)
    # P4's epsilon rule: adding a constant offset inside log10 cancels out of the score
    eps_scaled = s_star(real * 7.0, good * 7.0)
    assert eps_scaled == pytest.approx(s_star(real, good), rel=1e-9)


def test_bispectrum_3d_of_a_gaussian_field_is_consistent_with_zero():
    cubes = gaussian_cubes(4, 32, 100.0, seed=4)
    b, q = bispectrum_3d(cubes, 100.0, 0.3, 0.5, np.linspace(0.2, 2.5, 5))
    assert np.abs(q.mean()) < 3 * q.std() / np.sqrt(q.size) + 0.05


def test_statistics_run_on_torch_input_and_return_numpy():
    maps = torch.as_tensor(gaussian_maps(2, 32, 2.0, seed=0))
    ell, cl = power_spectrum_2d(maps, 2.0, np.linspace(200, 5000, 10))
    assert isinstance(cl, np.ndarray) and cl.shape == (2, 9)
    ell2, cl2 = power_spectrum_2d(maps.numpy(), 2.0, np.linspace(200, 5000, 10))
    np.testing.assert_array_equal(cl, cl2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_statistics_on_cuda_match_cpu():
    maps = gaussian_maps(3, 64, 3.0, seed=0)
    edges = np.linspace(200, 6000, 30)
    _, a = power_spectrum_2d(maps, 3.0, edges)
    _, b = power_spectrum_2d(torch.as_tensor(maps, device="cuda"), 3.0, edges)
    np.testing.assert_allclose(b, a, rtol=1e-10)
    cubes = gaussian_cubes(2, 32, 100.0, seed=0)
    _, p = power_spectrum_3d(cubes, 100.0)
    _, pc = power_spectrum_3d(torch.as_tensor(cubes, device="cuda"), 100.0)
    np.testing.assert_allclose(pc, p, rtol=1e-10)
