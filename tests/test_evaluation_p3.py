"""P3's evaluation pieces: tiling, k bins, rejection sampling on a known discriminator, summaries."""
import numpy as np
import pytest
import torch
from gancosmo.evaluation import p3 as E
from gancosmo.models.dcgan3d import dcgan3d
from gancosmo.models.priors import make_sampler


def test_tile_cubes_keeps_every_voxel():
    x = np.arange(2 * 8**3, dtype=np.float32).reshape(2, 8, 8, 8)
    t = E.tile_cubes(x, 4)
    assert t.shape == (16, 4, 4, 4)
    np.testing.assert_array_equal(np.sort(t.ravel()), np.sort(x.ravel()))
    np.testing.assert_array_equal(t[1], x[0, :4, :4, 4:])  # second tile of the first parent
    with pytest.raises(ValueError, match="divides the cube side"):
        E.tile_cubes(x, 3)


def test_k_edges_span_fundamental_to_nyquist():
    e = E.k_edges(32, 32.0)
    assert len(e) == 13
    assert e[0] < 2 * np.pi / 32 < e[1] and e[-1] >= np.pi


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


def test_summaries_are_zero_for_identical_samples():
    rng = np.random.default_rng(0)
    x = np.exp(rng.normal(size=(20, 16, 16, 16))).astype(np.float32)
    edges = E.k_edges(16, 16.0)
    pc = E.power_comparison(x, {"same": x}, 16.0, edges)
    assert np.nanmax(np.abs(pc["frac"]["same"])) < 1e-12
    cov = E.covariance_comparison(pc["real"], pc["fake"]["same"], pc["k"], 3.0)
    assert cov["cov_median"] < 1e-10 and cov["corr_rms"] < 1e-10
    assert E.mean_density_comparison(x, {"same": x})["bias"]["same"] == 0.0
    # a density twice as large has 4x the power of x - mean(x) and a +100% mean-density bias
    pc2 = E.power_comparison(x, {"double": 2 * x}, 16.0, edges)
    np.testing.assert_allclose(pc2["frac"]["double"], 3.0, rtol=1e-5)
    assert E.mean_density_comparison(x, {"double": 2 * x})["bias"]["double"] == pytest.approx(1.0)


def test_selector_and_generation_plumbing():
    G, _ = dcgan3d("smoke", seed=0)
    sampler = make_sampler("student-t", 10)
    a = E.generate(G, 3, sampler, seed=5)
    b = E.generate(G, 3, sampler, seed=5)
    assert a.shape == (3, 32, 32, 32)
    np.testing.assert_array_equal(a, b)
    real = E.scaled(np.exp(np.random.default_rng(0).normal(size=(4, 32, 32, 32))), 45.0)
    sel = E.PdfPowerSelector({None: real}, 32.0, 45.0, sampler, n_samples=2)
    assert sel.distance(real) == pytest.approx(0.0, abs=1e-12)
    v = sel(G, 1)
    assert v > 0 and sel.best_step == 1 and sel.best_state is not None


def test_drs_experiment_runs_on_networks():
    G, D = dcgan3d("smoke", seed=0)
    torch.manual_seed(0)
    res = E.drs_experiment(G, D, make_sampler("gaussian"), 8, 45.0, 32.0, E.k_edges(32, 32.0), seed=1)
    assert 0 <= res["rate"] <= 1 and res["latent_norm"].shape == (8,)


def test_full_size_profiles_train_at_p3s_learning_rates():
    for name in ("gpu", "paper"):
        assert (E.PROFILES[name]["lr_g"], E.PROFILES[name]["lr_d"]) == (1e-4, 5e-5)
    for name in E.PROFILES:
        assert 0 < E.PROFILES[name]["lr_d"] <= E.PROFILES[name]["lr_g"] <= 1e-3
