"""P4's benchmark (gancosmo.evaluation.p4_benchmark) against hand computations.

What must hold:
- S* is the authors' 1/d^2 of the normalised log10 statistics: checked on explicit numbers
  with the Gaussian fit and the closed form of d^2 in one and two dimensions;
- identical sets give d^2 = 0 exactly and S* = inf;
- the mass and peak histograms have P4's edges and count a hand-made cube as worked out by hand
  (outer bins open, plateaus are peaks, flat windows are not, faces cut the window);
- the power spectrum puts a plane wave's power in the bin of its wavenumber with the
  authors' normalisation and keeps only the bins that hold Fourier cells;
- the band's splits are disjoint halves, seeded and reproducible;
- patches with a discontinuity at their edges raise the seam statistic above a smooth cube's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from gancosmo.evaluation import p4_benchmark as p4
from gancosmo.stats.compare import s_star as book_s_star


def _gaussian_fit(x):
    """Mean and covariance (n - 1) written out, for the hand computations."""
    x = np.asarray(x, float)
    m = x.sum(axis=0) / len(x)
    c = (x - m).T @ (x - m) / (len(x) - 1)
    return m, c


# ---------------------------------------------------------------------------- the score
def test_s_star_is_the_authors_definition_on_a_two_bin_example():
    real = np.array([[10.0, 1.0], [30.0, 4.0], [20.0, 2.0]])
    fake = np.array([[12.0, 1.0], [18.0, 3.0], [27.0, 2.0]])
    # the largest bin of the mean real statistic: mean = (20, 7/3), so M = 20
    normalised_real = np.array([[0.5, 0.05], [1.5, 0.2], [1.0, 0.1]])
    normalised_fake = np.array([[0.6, 0.05], [0.9, 0.15], [1.35, 0.1]])
    log_real = np.log10(normalised_real + 1e-5)
    log_fake = np.log10(normalised_fake + 1e-5)
    got_real, got_fake = p4.normalised_log_statistic(real, fake)
    np.testing.assert_allclose(got_real, log_real, rtol=1e-14)
    np.testing.assert_allclose(got_fake, log_fake, rtol=1e-14)

    m_r, c_r = _gaussian_fit(log_real)
    m_f, c_f = _gaussian_fit(log_fake)
    # 2 x 2: the eigenvalues l1, l2 of C_r C_f are >= 0 and Tr (C_r C_f)^(1/2) = sqrt(l1) + sqrt(l2)
    # = sqrt(Tr(C_r C_f) + 2 sqrt(det C_r det C_f))
    tr_sqrt = math.sqrt(np.trace(c_r @ c_f) + 2.0 * math.sqrt(np.linalg.det(c_r) * np.linalg.det(c_f)))
    d2 = float(np.sum((m_r - m_f) ** 2) + np.trace(c_r) + np.trace(c_f) - 2.0 * tr_sqrt)
    assert d2 > 0
    assert p4.frechet_d2(real, fake) == pytest.approx(d2, rel=1e-10)
    assert p4.p4_score(real, fake) == pytest.approx(1.0 / d2, rel=1e-10)
    # the authors' numerical route: the trace of scipy's sqrtm of C_r C_f
    authors = np.sum((m_r - m_f) ** 2) + np.trace(c_r + c_f - 2.0 * scipy.linalg.sqrtm(c_r @ c_f).real)
    assert p4.frechet_d2(real, fake) == pytest.approx(authors, rel=1e-10)
    # stats.compare adds M / 1e5 without dividing by M: a common shift of log10 M, same d^2
    assert book_s_star(real, fake) == pytest.approx(1.0 / d2, rel=1e-10)


def test_d2_of_one_bin_is_the_squared_mean_and_std_differences():
    real = np.array([[2.0], [4.0], [6.0], [8.0]])  # mean 5: M = 5
    fake = np.array([[1.0], [1.0], [3.0], [5.0]])
    log_real = np.log10(np.array([0.4, 0.8, 1.2, 1.6]) + 1e-5)
    log_fake = np.log10(np.array([0.2, 0.2, 0.6, 1.0]) + 1e-5)
    # 1-D: d^2 = (m_r - m_f)^2 + (s_r - s_f)^2 with s the standard deviations (n - 1)
    d2 = (log_real.mean() - log_fake.mean()) ** 2 + (log_real.std(ddof=1) - log_fake.std(ddof=1)) ** 2
    assert p4.frechet_d2(real, fake) == pytest.approx(d2, rel=1e-10)
    assert p4.s_star_from_d2(d2) == pytest.approx(1.0 / d2)


def test_identical_sets_give_d2_zero_and_an_infinite_score():
    rng = np.random.default_rng(0)
    stats = rng.lognormal(size=(6, 10))  # fewer samples than bins: singular covariances
    assert p4.frechet_d2(stats, stats.copy()) == 0.0
    assert p4.frechet_d2(stats, stats[::-1]) == 0.0  # the Gaussian fit ignores the order
    table1_sized = rng.lognormal(size=(15, 49))  # 15 cubes, 49 power-spectrum bins, as P4's reference
    assert p4.frechet_d2(table1_sized, table1_sized) == 0.0
    assert p4.p4_score(stats, stats) == math.inf
    assert p4.s_star_from_d2(0.0) == math.inf
    with pytest.raises(ValueError, match="squared distance >= 0"):
        p4.s_star_from_d2(-1.0)


def test_the_score_refuses_what_the_authors_definition_cannot_take():
    good = np.ones((3, 2))
    with pytest.raises(ValueError, match="same bins"):
        p4.frechet_d2(good, np.ones((3, 3)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        p4.frechet_d2(good, np.ones((1, 2)))
    with pytest.raises(ValueError, match=">= 0"):
        p4.frechet_d2(good, -good)
    with pytest.raises(ValueError, match="zero in every bin"):
        p4.frechet_d2(np.zeros((3, 2)), good)


# ---------------------------------------------------------------------------- mass histogram
def test_mass_histogram_edges_and_counts_of_a_hand_made_cube():
    edges = p4.mass_histogram_edges()
    assert len(edges) == 21
    assert edges[0] == pytest.approx(math.log10(2.0), rel=1e-15)
    assert edges[-1] == pytest.approx(math.log10(83628.0), rel=1e-15)  # 250884 / 3
    np.testing.assert_allclose(np.diff(edges), (math.log10(83628.0) - math.log10(2.0)) / 20, rtol=1e-12)

    cube = np.zeros((8, 8, 8))
    flat = cube.reshape(-1)
    # log10(x + 1) and its bin (width 0.2310665 from 0.30103):
    flat[:10] = 1.0  # 0.30103, the lower edge: bin 0 (as the 486 empty voxels, below the range)
    flat[10:13] = 3.0  # 0.60206: bin 1
    flat[13:17] = 9.0  # 1.0: bin 3 (its edge is 0.99423)
    flat[17:22] = 99.0  # 2.0: bin 7
    flat[22:24] = 500.0  # 2.69984: bin 10
    flat[24] = 83627.0  # exactly the upper edge: last bin
    flat[25] = 1e6  # 6.0, above the range: last bin
    got_edges, counts = p4.mass_histogram_p4(cube[None])
    np.testing.assert_array_equal(got_edges, edges)
    expected = np.zeros(20)
    expected[[0, 1, 3, 7, 10, 19]] = [486 + 10, 3, 4, 5, 2, 2]
    np.testing.assert_array_equal(counts, expected[None])
    assert counts.sum() == 8**3


# ---------------------------------------------------------------------------- peaks
def _peak_cube():
    """An 8^3 cube of zeros with seven hand-placed values (the windows are 5^3: +-2 voxels per axis)."""
    c = np.zeros((8, 8, 8))
    c[3, 3, 3] = 100.0  # A: isolated peak
    c[3, 3, 5] = 50.0  # B: two voxels from A, which is higher: no peak
    c[5, 6, 3] = c[5, 6, 4] = 10.0  # C: a plateau of two equal voxels: both are peaks (ties count)
    c[7, 0, 0] = 20.0  # D: on a face; its periodic neighbour E is higher
    c[0, 0, 0] = 30.0  # E
    c[3, 7, 0] = 1.0  # F: a one-particle peak
    c[7, 3, 7] = 1e6  # G: above the histogram's range
    return c


def test_peaks_of_a_hand_made_cube():
    cube = _peak_cube()
    reflect = p4.peak_values_p4(cube)
    # with the authors' edges (scipy's "reflect") the window stops at the faces: D is a peak
    np.testing.assert_array_equal(np.sort(reflect), [1.0, 10.0, 10.0, 20.0, 30.0, 100.0, 1e6])
    wrap = p4.peak_values_p4(cube, boundary="wrap")
    # periodic windows: E (30) is D's neighbour across the face
    np.testing.assert_array_equal(np.sort(wrap), [1.0, 10.0, 10.0, 30.0, 100.0, 1e6])
    mask = p4.peak_mask_p4(cube)
    assert mask[5, 6, 3] and mask[5, 6, 4] and not mask[3, 3, 5]
    assert not p4.peak_mask_p4(np.full((8, 8, 8), 7.0)).any()  # flat windows hold no peak (threshold 0)


def test_peak_histogram_edges_and_counts_of_a_hand_made_cube():
    edges = p4.peak_histogram_edges()
    np.testing.assert_allclose(edges, 1.5 + 0.575 * np.arange(21), rtol=1e-14)
    got_edges, counts = p4.peak_histogram_p4(_peak_cube()[None])
    np.testing.assert_array_equal(got_edges, edges)
    # ln(p + e): 1 -> 1.313 (below 1.5: bin 0), 10 -> 2.543 (bin 1), 20 -> 3.123 (bin 2),
    # 30 -> 3.488 (bin 3), 100 -> 4.632 (bin 5), 1e6 -> 13.8 (above 13: bin 19)
    expected = np.zeros(20)
    expected[[0, 1, 2, 3, 5, 19]] = [1, 2, 1, 1, 1, 1]
    np.testing.assert_array_equal(counts, expected[None])


# ---------------------------------------------------------------------------- power spectrum
def test_power_spectrum_of_plane_waves():
    n = 16
    box = 350.0 * n / 256  # the authors' box for a 16^3 cube
    assert p4.p4_box_length(n) == box
    x = np.arange(n)[:, None, None] * np.ones((1, n, n))
    z = np.arange(n)[None, None, :] * np.ones((n, n, 1))
    along_x = 10.0 * (1.0 + 0.5 * np.cos(2 * np.pi * x / n) + 0.2 * np.cos(2 * np.pi * 2 * x / n))
    along_z = 10.0 * (1.0 + 0.5 * np.cos(2 * np.pi * z / n))
    edges = p4.psd_bin_edges(n)
    k_f = 2 * np.pi / box
    ratio = (math.sqrt(3) * n / 2) ** (1 / 49)  # 49 log bins from k_f to sqrt(3) x Nyquist
    np.testing.assert_allclose(edges, k_f * ratio ** np.arange(50), rtol=1e-12)

    k, psd = p4.power_spectrum_p4(np.stack([along_x, along_z]), drop_empty=False)
    assert psd.shape == (2, 49)
    np.testing.assert_allclose(k, 0.5 * (edges[1:] + edges[:-1]), rtol=1e-15)
    # |k| = k_f: bin 0 (the next |k| is sqrt(2) k_f, in bin 6); |k| = 2 k_f: bin 12 ([1.904, 2.009) k_f).
    # Each holds 5 cells of the real FFT, (+-1, 0, 0), (0, +-1, 0), (0, 0, 1) (times 1 or 2);
    # a wave delta = a cos(k x) along x fills two with |FFT|^2 = (a n^3 / 2)^2, P = |FFT|^2 L^3 / n^6 each,
    # along z only the k_z >= 0 one.
    one_cell = lambda a: (a / 2) ** 2 * box**3  # noqa: E731
    assert psd[0, 0] == pytest.approx(2 * one_cell(0.5) / 5, rel=1e-12)
    assert psd[0, 12] == pytest.approx(2 * one_cell(0.2) / 5, rel=1e-12)
    assert psd[1, 0] == pytest.approx(one_cell(0.5) / 5, rel=1e-12)
    filled = ~np.isnan(psd[0])
    others = np.ones(49, bool)
    others[[0, 12]] = False
    assert np.all(np.abs(psd[0, others & filled]) < 1e-20 * psd[0, 0])
    assert np.isnan(psd[0, 1:6]).all()  # no cell between k_f and sqrt(2) k_f

    k_kept, psd_kept = p4.power_spectrum_p4(np.stack([along_x, along_z]))
    np.testing.assert_array_equal(psd_kept, psd[:, filled])
    np.testing.assert_array_equal(k_kept, k[filled])


def test_power_spectrum_keeps_one_bin_per_distinct_wavenumber_of_a_4_cube():
    # n = 4: |k|^2 / k_f^2 is a sum of three of {0, 1, 4} (k_z from the real FFT: 0, 1, 2),
    # i.e. 1, 2, 3, 4, 5, 6, 8, 9, 12; neighbouring values differ by more than one bin
    # (ratio 12^(1/98) = 1.026), so 9 bins are filled. The largest, sqrt(12) k_f, lies below
    # the ceiled last edge (by 4e-16 for the authors' box: their rounding keeps it in).
    rng = np.random.default_rng(1)
    cube = rng.poisson(64.0, size=(1, 4, 4, 4)).astype(float)
    k, psd = p4.power_spectrum_p4(cube)
    box = 350.0 * 4 / 256
    edges = p4.psd_bin_edges(4)
    assert psd.shape == (1, 9)
    for k2 in (1, 2, 3, 4, 5, 6, 8, 9, 12):
        wavenumber = math.sqrt(k2) * 2 * np.pi / box
        i = np.searchsorted(edges, wavenumber, side="right") - 1
        assert np.any(np.isclose(k, 0.5 * (edges[i] + edges[i + 1]), rtol=1e-14))


def test_scores_do_not_depend_on_the_box_length():
    rng = np.random.default_rng(2)
    real = rng.poisson(rng.lognormal(3.0, 1.0, size=(5, 8, 8, 8))).astype(float)
    fake = rng.poisson(rng.lognormal(3.2, 1.0, size=(5, 8, 8, 8))).astype(float)
    d2 = [p4.frechet_d2(p4.power_spectrum_p4(real, b)[1], p4.power_spectrum_p4(fake, b)[1]) for b in (10.9375, 15.625)]
    assert d2[0] > 0
    # 5 cubes, more bins: singular covariances, whose matrix square root rounds to about 1e-8
    assert d2[1] == pytest.approx(d2[0], rel=1e-6)


# ---------------------------------------------------------------------------- the band's splits
def test_band_splits_are_disjoint_seeded_halves():
    splits = p4.benchmark_splits(10, n_splits=20, seed=3)
    assert splits.n == 5 and splits.n_splits == 20
    for a, b in splits.draws:
        assert len(a) == len(b) == 5
        assert not set(a) & set(b)
        assert sorted(set(a) | set(b)) == list(range(10))
    again = p4.benchmark_splits(10, n_splits=20, seed=3)
    for (a1, b1), (a2, b2) in zip(splits.draws, again.draws):
        np.testing.assert_array_equal(a1, a2)
        np.testing.assert_array_equal(b1, b2)
    other = p4.benchmark_splits(10, n_splits=20, seed=4)
    assert any(not np.array_equal(a1, a2) for (a1, _), (a2, _) in zip(splits.draws, other.draws))
    assert len({tuple(a) for a, _ in splits.draws}) > 10  # the pairs vary

    parents = np.repeat(np.arange(6), 2)  # two cubes cut from each of six boxes
    by_parent = p4.benchmark_splits(12, n_splits=20, seed=0, parents=parents)
    for a, b in by_parent.draws:
        assert len(a) == len(b) == 6
        assert not set(parents[a]) & set(parents[b])
    with pytest.raises(ValueError, match="one parent per real cube"):
        p4.benchmark_splits(12, parents=np.arange(11))


# ---------------------------------------------------------------------------- Table 1
def _features(rng, n, scale=1.0):
    return {
        "psd": scale * rng.lognormal(0.0, 0.3, size=(n, 6)),
        "mass_hist": rng.lognormal(2.0, 0.2, size=(n, 4)),
        "peak_hist": rng.lognormal(1.0, 0.3, size=(n, 5)),
    }


def test_table1_the_authors_way_and_with_equal_sizes():
    rng = np.random.default_rng(5)
    real = _features(rng, 12)
    fake = _features(rng, 12, scale=3.0)  # the power spectrum three times too high
    result = p4.table1_from_statistics(real, fake, null=real, n_splits=20, seed=0)
    assert result.n_real == 12 and result.n_half == 6
    for name in p4.STATISTICS:
        assert result.d2[name] == pytest.approx(p4.frechet_d2(real[name], fake[name]))
        assert result.s_star[name] == pytest.approx(1.0 / result.d2[name])
        assert result.reference_d2[name] == pytest.approx(p4.frechet_d2(real[name][:6], real[name][6:]))
        a = result.splits.a
        assert result.scores.ours[f"{name}_d2"] == pytest.approx(p4.frechet_d2(real[name][a], fake[name][:6]))
        a1, b1 = result.splits.draws[1]
        assert result.scores.splits[0][f"{name}_d2"] == pytest.approx(p4.frechet_d2(real[name][a1], real[name][b1]))
    assert len(result.scores.splits) == 20
    rows = {r.key: r for r in result.rows()}
    assert set(rows) == {"p4_psd_d2", "p4_mass_hist_d2", "p4_peak_hist_d2"}
    assert rows["p4_psd_d2"].band[0] == 0.0  # one-sided: d^2 >= 0
    assert rows["p4_psd_d2"].verdict == "fail"
    assert rows["p4_psd_d2"].paper == 0.36
    assert rows["p4_psd_d2"].n_real == rows["p4_psd_d2"].n_fake == 6
    assert all(spec.sided == "upper" for spec in p4.table1_row_specs())
    assert "S* (paper)" in result.format()

    same = p4.table1_from_statistics(real, real, n_splits=20)
    assert same.d2["psd"] == 0.0 and same.s_star["psd"] == math.inf
    assert "inf" in same.format()
    with pytest.raises(ValueError, match="at least as many generated cubes as real"):
        p4.table1_from_statistics(real, _features(rng, 11), n_splits=20)


def test_table1_of_small_cubes_is_table1_of_their_statistics():
    rng = np.random.default_rng(6)
    real = rng.poisson(rng.lognormal(3.0, 1.2, size=(8, 8, 8, 8))).astype(float)
    fake = rng.poisson(rng.lognormal(3.0, 0.8, size=(8, 8, 8, 8))).astype(float)
    result = p4.table1(real, fake, n_splits=20, seed=1)
    again = p4.table1_from_statistics(p4.p4_statistics(real), p4.p4_statistics(fake), n_splits=20, seed=1)
    assert result.d2 == again.d2
    assert result.scores.ours == again.scores.ours
    stats = p4.p4_statistics(real)
    assert stats["mass_hist"].shape == (8, 20) and stats["peak_hist"].shape == (8, 20)
    assert stats["psd"].shape[0] == 8
    np.testing.assert_array_equal(stats["mass_hist"].sum(axis=1), 8**3)
    with pytest.raises(ValueError, match="particle counts >= 0"):
        p4.p4_statistics(real - 100.0)


# ---------------------------------------------------------------------------- seams
def _smooth_cubes(rng, count, n=16):
    """Positive cubes with a steep isotropic spectrum (exp of a Gaussian field with P ~ k^-3)."""
    k = np.sqrt(sum(f**2 for f in np.meshgrid(*(np.fft.fftfreq(n),) * 3, indexing="ij")))
    k[0, 0, 0] = np.inf
    noise = np.fft.fftn(rng.normal(size=(count, n, n, n)), axes=(1, 2, 3))
    field = np.fft.ifftn(noise * k**-1.5, axes=(1, 2, 3)).real
    field /= field.std(axis=(1, 2, 3), keepdims=True)
    return 64.0 * np.exp(0.5 * field)


def _with_seams(cubes, patch):
    """Each patch gets the same ramp along every axis: a jump at every patch edge."""
    n = cubes.shape[1]
    ramp = (np.arange(n) % patch) / patch
    tile = ramp[:, None, None] + ramp[None, :, None] + ramp[None, None, :]
    return cubes + 20.0 * tile


def test_seam_statistic_of_patches_with_jumps_exceeds_that_of_smooth_cubes():
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(p4.seam_harmonic_indices(16, 8, 4), [2, 4, 6, 8])
    # L_patch = 31.25 x 8 / 16 = 15.625: 2 pi j / L_patch = 0.128 pi j
    np.testing.assert_allclose(
        p4.seam_wavenumbers(16, 8, box_length=31.25, n_harmonics=2), [0.128 * np.pi, 0.256 * np.pi]
    )
    with pytest.raises(ValueError, match="accepted is 1 to 4"):
        p4.seam_harmonic_indices(16, 8, 5)
    with pytest.raises(ValueError, match="divisor of 16"):
        p4.seam_harmonic_indices(16, 6)

    smooth = _smooth_cubes(rng, 12)
    seamed = _with_seams(smooth, 8)
    c_smooth = p4.seam_contrast(smooth, 8, n_harmonics=2)
    c_seamed = p4.seam_contrast(seamed, 8, n_harmonics=2)
    assert c_smooth.shape == (12, 2)
    assert np.all(c_seamed > c_smooth)

    result = p4.seam_benchmark(smooth, seamed, 8, n_harmonics=2, n_splits=20)
    rows = {r.key: r for r in result.rows()}
    assert set(rows) == {"p4_seam_ratio_1", "p4_seam_ratio_2"}
    band = rows["p4_seam_ratio_1"].band
    assert band[0] == 0.0 and band[1] < rows["p4_seam_ratio_1"].ours
    assert rows["p4_seam_ratio_1"].verdict == "fail"
    assert rows["p4_seam_ratio_1"].reference <= band[1]
    assert np.all(result.contrast_fake > result.contrast_real)


# ---------------------------------------------------------------------------------------------- Table 2 (2D)
def test_2d_power_spectrum_of_poisson_images_is_white_noise_of_variance_one_over_the_mean():
    # delta = x / mean - 1 of Poisson counts of mean lam has variance 1/lam in every pixel and no
    # correlation: P(k) = Var(delta) L^2 / n^2 at every k (Parseval over the n^2 modes).
    n, lam, box = 64, 64.0, 125.0
    images = np.random.default_rng(3).poisson(lam, size=(40, n, n)).astype(float)
    k, psd = p4.power_spectrum_p4(images, box)
    assert psd.shape == (40, len(k)) and k[0] == pytest.approx(2 * np.pi / box, rel=0.3)
    expected = box**2 / n**2 / lam
    cells = p4._psd_cell_bins(n, box, p4.PSD_EDGES, dim=2)[1]
    many = cells[cells > 0] > 50  # bins of many modes, where 40 images pin the mean to a few percent
    assert psd.mean() == pytest.approx(expected, rel=0.03)
    np.testing.assert_allclose(psd.mean(0)[many], expected, rtol=0.08)


def test_2d_bin_edges_reach_the_corner_of_the_fourier_square():
    edges = p4.psd_bin_edges(32, 10.0, dim=2)
    nyquist = np.pi * 32 / 10.0
    assert edges[0] <= 2 * np.pi / 10.0 and edges[-1] >= np.sqrt(2) * nyquist > edges[-2]
    with pytest.raises(ValueError, match="accepted are 2 \\(images\\) and 3 \\(cubes\\)"):
        p4.psd_bin_edges(32, 10.0, dim=4)


def test_peaks_of_a_hand_made_image():
    image = np.zeros((12, 12))
    image[3, 3], image[8, 9], image[8, 7] = 5.0, 7.0, 6.0  # (8, 7) lies within 2 pixels of the higher (8, 9)
    mask = p4.peak_mask_p4(image)
    assert sorted(zip(*np.nonzero(mask))) == [(3, 3), (8, 9)]
    _, counts = p4.peak_histogram_p4(image[None])
    assert counts.sum() == 2


def test_table2_rows_give_the_papers_inverse_scores():
    specs = p4.table2_row_specs(32, "table2_32", n_half=100)
    assert [s.key for s in specs] == ["table2_32_psd_d2", "table2_32_mass_hist_d2", "table2_32_peak_hist_d2"]
    assert [s.paper for s in specs] == pytest.approx([1 / 9.24, 1 / 7.44, 1 / 3.25])
    assert all(s.paper is None for s in p4.table2_row_specs(16, "table2_16"))
