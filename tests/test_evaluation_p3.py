"""P3's chapter core: config, tiling and parents, k bins, per-cube statistics, the protocol's rows, DRS, selection."""

import math

import numpy as np
import pytest
import torch
from gancosmo.evaluation import p3 as E
from gancosmo.evaluation.protocol import real_vs_real_splits, score
from gancosmo.models.dcgan3d import dcgan3d
from gancosmo.models.priors import make_sampler
from gancosmo.params import ParameterError
from gancosmo.sims.suites import SIZES
from gancosmo.stats import power_spectrum_3d
from gancosmo.stats.fields import gaussian_cubes, lognormal_cubes
from gancosmo.train.selection import Selector


# ---------------------------------------------------------------- config
def test_profiles_are_valid_and_split_by_box():
    for name, cfg in E.P3Config.PROFILES.items():
        assert cfg.profile == name
        assert 4 * 2 ** len(cfg.filters) == cfg.sub_size
        assert cfg.suite_overrides.get("n_boxes", SIZES["p3"][name]["n_boxes"]) == cfg.n_boxes
    for name in ("gpu", "paper"):
        cfg = E.P3Config.PROFILES[name]
        assert (cfg.lr_g, cfg.lr_d) == (1e-4, 5e-5)
    cpu = E.P3Config.PROFILES["cpu"]
    assert cpu.density_grid // cpu.sub_size == 2  # eight 32^3 sub-volumes of 2 Mpc/h cells per 128 Mpc/h box
    assert cpu.suite_overrides == {}  # the cpu suite's own recipe and boxes
    assert int(cpu.epochs * cpu.n_boxes * cpu.train_fraction * 8 / cpu.batch_size) == 1200  # the cpu training length
    # cpu-long: the cpu recipe on other simulations (the suite's own cpu-long seed), wider networks
    long = E.P3Config.PROFILES["cpu-long"]
    assert long.suite_overrides == {} and long.data_seed == SIZES["p3"]["cpu-long"]["seed"] != cpu.data_seed
    assert (long.box_size, long.density_grid, long.sub_size) == (cpu.box_size, cpu.density_grid, cpu.sub_size)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(filters=(8, 4)), "parameter 'filters' has 2 entries, which give volumes of 16^3, but sub_size is 32"),
        (dict(n_boxes=6), "parameter 'n_boxes' (6) leaves 2 test boxes after train and dev"),
        (dict(train_fraction=0.6, dev_fraction=0.5), "train_fraction + dev_fraction is 1.1"),
        (
            dict(calib_scales=(1.1, 0.9)),
            "parameter 'calib_scales' must be a tuple of at least two increasing positive widths",
        ),
        (dict(n_splits=10), "parameter 'n_splits' must be an integer with 20 <= value"),
        (dict(sub_sise=16), "unknown parameter 'sub_sise'"),
        (dict(device="tpu"), "parameter 'device' must be one of 'cpu', 'cuda'"),
    ],
)
def test_config_refuses_with_one_sentence(overrides, message):
    with pytest.raises(ParameterError) as error:
        E.P3Config.from_parameters(profile="smoke", **overrides)
    text = str(error.value)
    assert message in text and text.count(". ") == 0 and text.endswith(".")


def test_config_overrides_and_none():
    cfg = E.P3Config.from_parameters(profile="cpu", kappa=20, epochs=None, compare_priors="false", prior="gaussian")
    assert cfg.kappa == 20.0 and isinstance(cfg.kappa, float) and cfg.epochs == E.P3Config.PROFILES["cpu"].epochs
    assert cfg.models == ["gaussian"]
    assert cfg.to_dict()["filters"] == [32, 16, 4]


# ---------------------------------------------------------------- data
def test_tile_cubes_keeps_every_voxel():
    x = np.arange(2 * 8**3, dtype=np.float32).reshape(2, 8, 8, 8)
    t = E.tile_cubes(x, 4)
    assert t.shape == (16, 4, 4, 4)
    np.testing.assert_array_equal(np.sort(t.ravel()), np.sort(x.ravel()))
    np.testing.assert_array_equal(t[1], x[0, :4, :4, 4:])  # second tile of the first parent
    with pytest.raises(ValueError, match="divides the cube side"):
        E.tile_cubes(x, 3)


class _Suite:
    def __init__(self, n_boxes, side=8, per_box=2):
        rng = np.random.default_rng(0)
        self.config = dict(n_boxes=n_boxes, box_size=float(side * per_box), n_particles=side * per_box)
        n = n_boxes * per_box**3
        self.arrays = {
            f"density_z{z:g}": np.exp(
                rng.normal(size=(n // per_box**3, side * per_box, side * per_box, side * per_box))
            ).astype(np.float32)
            for z in (0.0, 1.0)
        }


def test_prepare_data_parents_and_split_never_share_a_box():
    data = E.prepare_data(_Suite(16), 8, dict(train=0.5, dev=0.125, test=0.375), seed=3)
    assert data.side == 8 and data.per_parent == 8 and len(data.parents) == 128
    # tiles of one suite cube stay together and belong to its box
    np.testing.assert_array_equal(data.parents[:8], 0)
    suite = _Suite(16)
    np.testing.assert_array_equal(
        np.sort(data.density[0.0][:8].ravel()), np.sort(suite.arrays["density_z0"][0].ravel())
    )
    sets = [set(data.parents[data.split[k]]) for k in ("train", "dev", "test")]
    assert sets[0].isdisjoint(sets[1]) and sets[0].isdisjoint(sets[2]) and sets[1].isdisjoint(sets[2])
    assert [data.boxes(k) for k in ("train", "dev", "test")] == [8, 2, 6]
    assert data.max_n() == 24
    s = real_vs_real_splits(data.parents[data.split["test"]], data.max_n(), seed=0)
    p = data.parents[data.split["test"]]
    assert all(set(p[a]).isdisjoint(p[b]) for a, b in s.draws)


def test_k_edges_span_fundamental_to_nyquist():
    e = E.k_edges(32, 32.0)
    assert len(e) == 13
    assert e[0] < 2 * np.pi / 32 < e[1] and e[-1] >= np.pi


def test_resolved_k_stops_at_the_first_bad_bin():
    k = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    theory = np.ones(6)
    assert E.resolved_k(k, np.array([0.5, 0.9, 0.95, 0.8, 0.7, 1.0]), theory) == 0.4
    assert (
        E.resolved_k(k, np.array([1.0, 0.5, 1.0, 1.0, 1.0, 1.0]), theory) == 0.2
    )  # none from 2 k_F on: the first checked


# ---------------------------------------------------------------- per-cube statistics
def test_voxel_fractions_at_training_quantiles():
    rng = np.random.default_rng(1)
    train = rng.lognormal(size=(8, 16, 16, 16))
    edges = E.voxel_pdf_edges(train)
    f = E.voxel_fractions(rng.lognormal(size=(40, 16, 16, 16)), edges)
    assert f.shape == (40, len(E.VOXEL_LEVELS) + 1)
    np.testing.assert_allclose(f.sum(1), 1.0)
    expected = np.diff(np.concatenate([[0.0], E.VOXEL_LEVELS, [1.0]]))
    np.testing.assert_allclose(f.mean(0), expected, atol=0.004)  # same distribution: the levels' probabilities


def test_cross_power_matches_the_estimator():
    rng = np.random.default_rng(2)
    a, b = rng.lognormal(size=(3, 16, 16, 16)), rng.lognormal(size=(3, 16, 16, 16))
    edges = E.k_edges(16, 16.0)
    fa, fb = E._fourier(a), E._fourier(b)
    _, ref = power_spectrum_3d(E._delta(a), 16.0, edges, other=E._delta(b))
    np.testing.assert_allclose(E.cross_power(fa, fb, 16.0, edges), ref, rtol=1e-4, atol=1e-6 * np.abs(ref).max())
    np.testing.assert_allclose(E.cross_power(fa, fa, 16.0, edges), E.power(a, 16.0, edges)[1], rtol=1e-4)


def test_pairs_never_share_a_parent():
    parents = np.repeat(np.arange(6), 4)
    i, j = E._pairs_across_parents(parents)
    assert len(i) == 12 and np.all(parents[i] != parents[j])
    assert len(set(i) | set(j)) == 24


def _feats(x, parents=None, with_bispectrum=False, pdf_edges=None):
    edges = E.k_edges(x.shape[-1], float(x.shape[-1]))
    pdf_edges = np.quantile(x, E.VOXEL_LEVELS) if pdf_edges is None else pdf_edges
    return E.field_features(x, 45.0, float(x.shape[-1]), edges, pdf_edges, parents, with_bispectrum)


def _compare(a, b, n=16):
    edges = E.k_edges(n, float(n))
    k = E.power(np.ones((1, n, n, n)) + 1e-3 * np.random.default_rng(0).normal(size=(1, n, n, n)), float(n), edges)[0]
    return E.compare_fields(a, b, k=k, resolved=k < 1.0, box_size=float(n), edges=edges)


def test_identical_sets_score_zero_and_a_doubled_density_is_caught():
    x = np.exp(np.random.default_rng(0).normal(size=(12, 32, 32, 32))).astype(np.float32)
    f = _feats(x, with_bispectrum=True, pdf_edges=E.voxel_pdf_edges(x))
    same = _compare(f, f, n=32)
    for key in (
        "pk_chi2_dof",
        "pk_mean_abs_frac",
        "pdf_chi2_dof",
        "bk_chi2_dof",
        "mean_density_bias",
        "pk_var_mean_abs_frac",
        "pk_corr_max_abs_diff",
        "pk_ks_reject",
        "pdf_ad_reject",
    ):
        assert abs(same[key]) < 1e-9, key
    double = _compare(f, _feats(2 * x, with_bispectrum=True, pdf_edges=E.voxel_pdf_edges(x)), n=32)
    np.testing.assert_allclose(double["pk_frac"], 3.0, rtol=1e-5)  # 4x the power of x - mean(x)
    assert double["mean_density_bias"] == pytest.approx(1.0)
    assert double["bk_mean_abs_frac"] == pytest.approx(7.0, rel=1e-4)  # 8x the bispectrum
    assert double["pk_ks_reject"] == 1.0


def test_covariance_comparison_needs_equal_n():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="equal sample sizes"):
        E.covariance_comparison(rng.normal(size=(10, 4)), rng.normal(size=(12, 4)))


def test_memorisation_ratio():
    rng = np.random.default_rng(0)
    train, a, b = rng.normal(size=(50, 64)), rng.normal(size=(20, 64)), rng.normal(size=(20, 64))
    r = E.memorisation(train, a, {"copy": train[:20] + 1e-3, "fresh": b})
    assert r["copy"] < 0.01 and 0.9 < r["fresh"] < 1.1


def _lognormal_pool(amplitude, n_parents, per_parent, seed):
    pk = lambda k: amplitude * 40.0 * (k / 0.5) ** -1.5  # noqa: E731
    x = lognormal_cubes(n_parents * per_parent, 16, 16.0, pk=pk, seed=seed) + 1.0
    return x.astype(np.float32), np.repeat(np.arange(n_parents), per_parent)


def test_protocol_rows_pass_for_the_same_field_and_fail_for_more_power():
    """Independent draws of one lognormal field pass the P(k) and PDF rows; 25% more power fails the P(k) chi^2 row."""
    pool, parents = _lognormal_pool(1.0, 24, 4, seed=0)
    bins = E.voxel_pdf_edges(pool)
    real = _feats(pool, parents, pdf_edges=bins)
    splits = real_vs_real_splits(parents, 48, seed=1)
    same = _feats(_lognormal_pool(1.0, 12, 4, seed=7)[0], pdf_edges=bins)
    more = _feats(_lognormal_pool(1.25, 12, 4, seed=7)[0], pdf_edges=bins)
    s = score(_compare, real, splits, same, more)
    for key in ("pk_chi2_dof", "pk_mean_abs_frac", "pdf_chi2_dof"):
        lo, hi = s.band(key)
        assert lo <= s.reference(key) <= hi
        assert lo <= s.ours[key] <= hi, key
    lo, hi = s.band("pk_chi2_dof")
    assert s.null["pk_chi2_dof"] > hi
    # a Gaussian field with the same spectrum fails the voxel-PDF rows against lognormal data
    pk = lambda k: 40.0 * (k / 0.5) ** -1.5  # noqa: E731
    gauss = _feats((gaussian_cubes(48, 16, 16.0, pk=pk, seed=9) + 1.0).astype(np.float32), pdf_edges=bins)
    g = score(_compare, real, splits, gauss)
    for key in ("pdf_chi2_dof", "pdf_ks_reject"):
        assert g.ours[key] > g.band(key)[1], key


# ---------------------------------------------------------------- selection, generation, DRS
def test_selector_is_the_loop_s_selector():
    G, _ = dcgan3d((8, 4, 2), seed=0)
    sampler = make_sampler("student-t", 10)
    real = E.scaled(np.exp(np.random.default_rng(0).normal(size=(4, 32, 32, 32))), 45.0)
    sel = E.PdfPowerSelector({None: real}, 32.0, 45.0, sampler, n_samples=2)
    assert isinstance(sel, Selector)
    assert sel.distance_to(real) == pytest.approx(0.0, abs=1e-12)
    v = sel(G, 1)
    assert v > 0 and sel.history == [(1, v)]
    assert sel(G, 2) == v  # same latents, same generator: same value


def test_drs_acceptance_on_a_known_discriminator():
    # generator N(0, 1), data N(0, s^2): the optimal logit log p_data/p_g = -log s - x^2 (1/s^2 - 1)/2
    # peaks at x = 0 with M = 1/s, so plain rejection sampling accepts a fraction s, and the accepted
    # samples follow N(0, s^2).
    s, n = 0.5, 200_000
    x = np.random.default_rng(1).standard_normal(n)
    logits = -np.log(s) - 0.5 * x**2 * (1 / s**2 - 1)
    res = E.drs_accept(logits, epsilon=1e-9, gamma=0.0, rng=2, logit_max=-np.log(s))
    se = np.sqrt(s * (1 - s) / n)
    assert abs(res["rate"] - s) < 5 * se
    assert x[res["accepted"]].std() == pytest.approx(s, rel=0.02)
    # the sample maximum is a lower bound of the true one: acceptance can only grow
    assert E.drs_accept(logits, 1e-9, 0.0, rng=2)["rate"] >= res["rate"] - 5 * se
    # larger gamma accepts fewer
    assert E.drs_accept(logits, 0.01, 2.0, rng=2)["rate"] < E.drs_accept(logits, 0.01, 0.0, rng=2)["rate"]


def test_drs_experiment_on_networks_touches_no_test_box():
    cfg = E.P3Config.from_parameters(profile="smoke")
    data = E.prepare_data(_Suite(16, side=16, per_box=2), 32, cfg.fractions)
    G, D = dcgan3d((8, 4, 2), seed=0)
    model = E.TrainedModel(
        name="gaussian",
        G=G,
        D=D,
        prior="gaussian",
        nu=10.0,
        kappa=45.0,
        width=1.0,
        steps=0,
        epochs=0.0,
        seconds=0.0,
        best_step=None,
        best_value=None,
        history=[],
        selection=[],
    )
    edges = E.k_edges(32, 32.0)
    k = E.power(data.part("train")[:2], 32.0, edges)[0]
    fake_res = E.Resolution(
        k=k,
        edges=edges,
        k_suite=k,
        pk_suite=np.ones_like(k),
        pk_halofit=np.ones_like(k),
        resolved_max=float(k[3]),
        k_fundamental=2 * math.pi / 32,
        k_nyquist=math.pi,
        n_volumes=2,
        suite_side=32.0,
    )
    torch.manual_seed(0)
    out = E.drs_experiment(model, data, fake_res, cfg, progress=False)
    assert 0 <= out.rate <= 1 and out.latent_norm.shape == (cfg.n_drs,) and len(out.losses) == cfg.drs_steps
    assert out.pk_dev.shape[0] == len(data.split["dev"])
