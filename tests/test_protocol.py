"""The evaluation protocol (gancosmo.evaluation.protocol, .binned) on synthetic fields.

What must hold (PROTOCOL.md, issue 11):
- two independent draws of one Gaussian field pass each row in about 95% of trials;
- a 5% amplitude shift of C_ell fails the C_ell rows at a chapter's sample sizes;
- a Gaussian field fails the PDF and Minkowski rows against lognormal data;
- parent-level splits never put one parent on two sides;
- the Anderson-Darling statistic agrees with scipy's.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from gancosmo.evaluation.binned import AD_CRITICAL_5PCT, ad_two_sample, binned_comparison
from gancosmo.evaluation.protocol import (
    RowSpec,
    band_from_values,
    binned_row_specs,
    real_vs_real_splits,
    rows_from_scores,
    score,
    split_by_parent,
    verdict,
)
from gancosmo.stats import minkowski_2d, pixel_histogram, power_spectrum_2d
from gancosmo.stats.fields import gaussian_maps, lognormal_maps, power_law_cl

SIDE_DEG = 1.0
CL = power_law_cl(1e-9, -1.0, 1000.0)


def _features(maps, edges, pdf_edges, mf_edges=None):
    _, cl = power_spectrum_2d(maps, SIDE_DEG, edges)
    _, pdf = pixel_histogram(maps, pdf_edges, unbounded=True, density=True)
    out = dict(cl=cl, pdf=pdf)
    if mf_edges is not None:
        _, v0, v1, v2 = minkowski_2d(maps, mf_edges)
        out["mf"] = np.concatenate([v0, v1, v2], axis=1)
    return out


def _compare(real, other):
    out = {}
    for name in real:
        out.update(binned_comparison(real[name], other[name], name))
    return out


def _rows(names=("cl", "pdf", "mf")):
    return [spec for s in names for spec in binned_row_specs(s, s)]


ROWS = _rows()


def _setup(n_pix=32):
    ell_f = 360.0 / SIDE_DEG
    edges = ell_f * np.array([1, 2, 3, 4, 6, 8, 11, 16], dtype=float)
    sigma = float(np.std(gaussian_maps(64, n_pix, SIDE_DEG, CL, seed=99)))
    pdf_edges = np.linspace(-3 * sigma, 3 * sigma, 9)
    mf_edges = np.linspace(-2 * sigma, 2.5 * sigma, 6)
    return edges, pdf_edges, mf_edges


def test_split_by_parent_never_shares_a_parent():
    rng = np.random.default_rng(0)
    for trial in range(50):
        parents = rng.integers(0, rng.integers(4, 40), size=rng.integers(20, 300))
        if len(np.unique(parents)) < 3:
            continue
        sets = split_by_parent(parents, {"train": 0.6, "dev": 0.1, "test": 0.3}, seed=trial)
        seen = [set(parents[idx]) for idx in sets.values()]
        assert all(not (a & b) for i, a in enumerate(seen) for b in seen[i + 1 :])
        assert sum(len(v) for v in sets.values()) == len(parents)
        assert all(len(v) > 0 for v in sets.values())


def test_real_vs_real_splits_are_parent_disjoint_and_equal_sized():
    parents = np.repeat(np.arange(30), 4)  # 30 parent maps of 4 tiles
    splits = real_vs_real_splits(parents, n=40, n_splits=20, seed=3)
    assert splits.n_splits == 20 and np.array_equal(splits.draws[0][0], splits.a)
    for a, b in splits.draws:
        assert len(a) == len(b) == 40
        assert not set(parents[a]) & set(parents[b])
    with pytest.raises(ValueError, match="too few"):
        real_vs_real_splits(parents, n=70)
    with pytest.raises(ValueError, match="n_splits"):
        real_vs_real_splits(parents, n=10, n_splits=5)


def test_band_order_statistics_and_verdicts():
    v = np.arange(39.0)
    assert band_from_values(v) == (0.0, 38.0)  # r = 1: coverage 1 - 2/40 = 0.95
    assert band_from_values(np.arange(79.0)) == (1.0, 77.0)  # r = 2: 1 - 4/80
    assert band_from_values([1.0]) is None
    assert verdict(5.0, (0.0, 10.0)) == "pass" and verdict(11.0, (0.0, 10.0)) == "fail"
    assert verdict(5.0, (0.0, 10.0), tolerance=1.0) == "untestable"
    assert verdict(float("nan"), (0.0, 1.0)) == "fail"


def test_anderson_darling_matches_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(40, 4)), rng.normal(0.4, 1.2, size=(55, 4))
    ours = ad_two_sample(a, b)
    for j in range(4):
        ref = scipy.stats.anderson_ksamp(
            [a[:, j], b[:, j]], variant="continuous", method=scipy.stats.PermutationMethod(n_resamples=9)
        )
        assert ours[j] == pytest.approx(ref.statistic, rel=1e-10)
    assert AD_CRITICAL_5PCT == pytest.approx(1.961, abs=1e-3)


def test_binned_comparison_analytic():
    rng = np.random.default_rng(2)
    real = rng.normal(10.0, 1.0, size=(400, 5))
    shifted = real + 1.0  # a 10% shift of every mean, same covariance
    out = binned_comparison(real, shifted, "x")
    assert np.allclose(out["x_frac"], 1.0 / real.mean(0))
    # pull = 1 / sqrt(var (2 / n)) = sqrt(200) for unit variance
    assert out["x_max_abs_pull"] == pytest.approx(np.sqrt(200.0) / real.std(0, ddof=1).min(), rel=1e-6)
    assert out["x_ks_reject"] == 1.0 and out["x_ad_reject"] == 1.0
    same = binned_comparison(real, real, "x")
    assert same["x_chi2_dof"] == 0.0 and same["x_mean_abs_frac"] == 0.0
    with pytest.raises(ValueError, match="bins"):
        binned_comparison(real, real[:, :3], "x")


def test_two_draws_of_one_gaussian_field_pass_in_about_95_percent():
    """Each row passes in about 95% of 200 trials: binomial sd 1.5%, so [0.90, 0.99] is a 3-sigma window.

    The KS/AD rows count rejecting bins (0, 1/7, 2/7, ...): their values often sit on a band edge,
    which counts as inside, so they pass more often; they must not pass less than 90%.
    """
    edges, pdf_edges, _ = _setup()
    n, n_pool, trials = 24, 80, 200
    rows_spec = _rows(("cl", "pdf"))
    passes = {r.key: 0 for r in rows_spec}
    all_pass = 0
    for t in range(trials):
        pool = gaussian_maps(n_pool, 32, SIDE_DEG, CL, seed=10_000 + t)
        fake = gaussian_maps(n, 32, SIDE_DEG, CL, seed=20_000 + t)
        splits = real_vs_real_splits(np.arange(n_pool), n, seed=t)
        scores = score(_compare, _features(pool, edges, pdf_edges), splits, _features(fake, edges, pdf_edges))
        rows = rows_from_scores(rows_spec, scores)
        for r in rows:
            passes[r.key] += r.verdict == "pass"
            assert r.band[0] <= r.reference <= r.band[1]
        all_pass += all(r.verdict == "pass" for r in rows)
    rates = {k: v / trials for k, v in passes.items()}
    assert all(r >= 0.90 for r in rates.values()), rates
    assert all(r <= 0.99 for k, r in rates.items() if not k.endswith("_reject")), rates
    assert all_pass / trials > 0.6, all_pass / trials  # 8 correlated rows: jointly not far below 0.95^8 = 0.66


def test_five_percent_amplitude_shift_fails_the_cl_rows():
    """P1's cpu sizes: 512 maps of 64^2 on each side; sampling error per bin is about 1%."""
    side, n_pix, n = 0.2165, 64, 512  # a 64^2 tile of P1's 0.866 deg, 256 px maps
    ell_f = 360.0 / side
    edges = ell_f * np.arange(1, n_pix // 2 + 1, dtype=float)
    pool = gaussian_maps(2 * n + 64, n_pix, side, CL, seed=1)
    shifted = np.sqrt(1.05) * gaussian_maps(n, n_pix, side, CL, seed=2)
    unshifted = gaussian_maps(n, n_pix, side, CL, seed=3)

    def feats(m):
        return dict(cl=power_spectrum_2d(m, side, edges)[1])

    def compare(a, b):
        return binned_comparison(a["cl"], b["cl"], "cl")

    splits = real_vs_real_splits(np.arange(len(pool)), n, seed=0)
    specs = binned_row_specs("cl", "C_ell", ("chi2_dof", "mean_abs_frac"))
    bad = {r.key: r for r in rows_from_scores(specs, score(compare, feats(pool), splits, feats(shifted)))}
    good = {r.key: r for r in rows_from_scores(specs, score(compare, feats(pool), splits, feats(unshifted)))}
    assert bad["cl_chi2_dof"].verdict == "fail" and bad["cl_mean_abs_frac"].verdict == "fail"
    assert good["cl_chi2_dof"].verdict == "pass" and good["cl_mean_abs_frac"].verdict == "pass"
    assert bad["cl_mean_abs_frac"].ours == pytest.approx(0.05, abs=0.015)


def test_gaussian_field_fails_pdf_and_minkowski_against_lognormal_data():
    n_pix, n, shift = 32, 48, 0.01
    pool = lognormal_maps(4 * n, n_pix, SIDE_DEG, CL, shift=shift, seed=5)
    gauss = gaussian_maps(n, n_pix, SIDE_DEG, CL, seed=6)
    sigma = float(pool.std())
    edges = 360.0 / SIDE_DEG * np.array([1, 2, 4, 8, 16], dtype=float)
    pdf_edges = np.linspace(-2 * sigma, 4 * sigma, 13)
    mf_edges = np.linspace(-1.5 * sigma, 3 * sigma, 10)
    splits = real_vs_real_splits(np.arange(len(pool)), n, seed=1)
    scores = score(
        _compare, _features(pool, edges, pdf_edges, mf_edges), splits, _features(gauss, edges, pdf_edges, mf_edges)
    )
    rows = {r.key: r for r in rows_from_scores(ROWS, scores)}
    assert rows["pdf_chi2_dof"].verdict == "fail"
    assert rows["mf_chi2_dof"].verdict == "fail"
    assert rows["cl_chi2_dof"].verdict == "pass"  # same spectrum: the power spectrum cannot tell them apart


def test_rows_from_scores_names_missing_keys_and_marks_untestable():
    parents = np.arange(60)
    rng = np.random.default_rng(0)
    real = dict(x=rng.normal(size=(60, 3)))
    fake = dict(x=rng.normal(size=(20, 3)))
    scores = score(lambda a, b: binned_comparison(a["x"], b["x"], "x"), real, real_vs_real_splits(parents, 20), fake)
    with pytest.raises(KeyError, match="x_chi2_dof"):
        rows_from_scores([RowSpec("y", "y", source="nope")], scores)
    row = rows_from_scores([RowSpec("x_frac_row", "x", tolerance=1e-6, source="x_mean_abs_frac")], scores)[0]
    assert row.verdict == "untestable" and "untestable" in row.notes


def test_ks_matches_scipy_near_the_rejection_level():
    from gancosmo.evaluation.binned import ks_two_sample

    rng = np.random.default_rng(4)
    for n, m in ((24, 24), (40, 55), (512, 512)):
        a, b = rng.normal(size=(n, 300)), rng.normal(0.3, 1.0, size=(m, 300))
        a[: n // 4, 0] = b[: m // 3, 0] = 0.0  # ties
        ours = ks_two_sample(a, b)
        ref = scipy.stats.ks_2samp(a, b, axis=0, method="asymp").pvalue
        near = (ref > 0.01) & (ref < 0.2)
        assert near.sum() > 10
        assert np.max(np.abs(ours - ref)[near]) < 0.01
        assert np.array_equal(ours < 0.05, ref < 0.05) or np.mean((ours < 0.05) != (ref < 0.05)) < 0.02


def test_upper_sided_band_for_distances():
    v = np.arange(1.0, 40.0)  # 39 values
    assert band_from_values(v, sided="upper") == (0.0, 38.0)  # r = 2: 1 - 2/40 = 0.95
    assert band_from_values(list(v[:-1]) + [np.inf], sided="upper") == (0.0, 38.0)
    assert band_from_values(list(v[:-2]) + [np.inf, np.inf], sided="upper")[1] == np.inf
    with pytest.raises(ValueError, match="sided"):
        RowSpec("k", "q", sided="lower")


def test_target_widens_a_narrow_upper_band_only():
    from gancosmo.evaluation.protocol import Scores

    splits = [{"f": v} for v in np.linspace(0.0, 0.02, 39)]  # real-vs-real: at most 2%
    spec = RowSpec("f", "fraction", sided="upper", target=0.05)
    judge = lambda ours: rows_from_scores([spec], Scores({"f": ours}, {"f": 0.2}, splits, 10, 39))[0]  # noqa: E731
    inside_target, beyond = judge(0.04), judge(0.06)
    assert inside_target.verdict == "pass" and beyond.verdict == "fail" and beyond.null_verdict == "fail"
    assert inside_target.band[1] < 0.05  # the band shown is still the real-vs-real one
    wide = [{"f": v} for v in np.linspace(0.0, 0.2, 39)]  # a band wider than the target decides alone
    assert rows_from_scores([spec], Scores({"f": 0.15}, {"f": 0.5}, wide, 10, 39))[0].verdict == "pass"
    with pytest.raises(ValueError, match="sided 'upper' rows only"):
        RowSpec("g", "signed", target=0.05)
