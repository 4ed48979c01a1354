"""P2's evaluation: the grid split, the config, the per-map statistics against their oracles, the comparison
(analytic cases, a calibrated pass and a fail through the protocol), the regressor, and the rows' criteria."""

import dataclasses
import re

import numpy as np
import pytest
import torch
from gancosmo.evaluation import p2 as E
from gancosmo.evaluation.protocol import real_vs_real_splits, score
from gancosmo.models.regressor import Regressor, mse, predict, split_regressor_data, train_regressor
from gancosmo.params import ParameterError
from gancosmo.sims.suites import SIZES, kids450_grid
from gancosmo.stats import fid_like, minkowski_2d, normalized_wasserstein1, peak_values
from gancosmo.stats.fields import gaussian_maps, lognormal_maps


# -------------------------------------------------------------------------- grid
def test_grid_split_is_46_train_8_interpolation_3_extrapolation():
    s = E.grid_split()
    assert (len(s["train"]), len(s["test_interpolation"]), len(s["test_extrapolation"])) == (46, 8, 3)
    assert sorted(np.concatenate(list(s.values()))) == list(range(57))
    grid = kids450_grid()
    ext = {(grid[i]["omega_m"], grid[i]["sigma8"]) for i in s["test_extrapolation"]}
    assert ext == {(0.127, 0.836), (0.196, 1.225), (0.487, 0.643)}
    named = E.named_cosmologies()
    assert named["A"] in s["test_interpolation"] and {named[k] for k in "BCD"} == set(s["test_extrapolation"])


def test_training_hull_and_nearest_training():
    grid = kids450_grid()
    interp = E.grid_split()["test_interpolation"]
    assert E.inside_training_hull([grid[i]["omega_m"] for i in interp], [grid[i]["sigma8"] for i in interp]).all()
    assert not E.inside_training_hull([0.487, 0.10], [1.331, 0.5]).any()
    train = E.grid_split()["train"]
    i = int(train[7])
    assert E.nearest_training(grid[i]["omega_m"], grid[i]["sigma8"], train) == i
    with pytest.raises(ValueError, match="no training cosmology"):
        E.nearest_training(0.3, 0.8, [])


def test_map_parents_follow_convergence_maps_sharing():
    # convergence_maps gives simulation s the maps round(s n / n_sims) .. round((s+1) n / n_sims)
    p = E.map_parents(10, 3)
    assert p.tolist() == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    assert (E.map_parents(5, 1) == 0).all()


# -------------------------------------------------------------------------- config
def test_profiles_are_complete_and_check_themselves():
    for name, cfg in E.P2Config.PROFILES.items():
        assert cfg.profile == name
        lay = cfg.layout()
        assert lay["test_parents"] >= 2 and cfg.n_per_side <= lay["n_max"]
    cpu = E.P2Config.PROFILES["cpu"]
    assert cpu.n_per_side == 16 and cpu.parent_kind == "map"
    # cpu scores the committed cpu-long generator, whose maps are the cpu suite's recipe
    long = E.P2Config.PROFILES["cpu-long"]
    assert cpu.emulator == "committed" and long.emulator == "train" and long.map_size == cpu.map_size
    gpu = E.P2Config.PROFILES["gpu"]
    assert gpu.parent_kind == "simulation" and gpu.layout()["test_parents"] == 3


def test_profiles_use_the_suite_recipe_and_its_map_size():
    """cpu, gpu and paper read the suite's own data (no overrides, so its cache and measured resolution); smoke
    overrides only what keeps it fast; the networks are built for the suite's map size."""
    for name in ("cpu", "cpu-long", "gpu", "paper"):
        cfg = E.P2Config.PROFILES[name]
        assert cfg.suite_options() == {}, name
        recipe = SIZES["p2"][name]
        assert (cfg.maps_per_cosmology, cfg.n_particles, cfg.n_steps, cfg.box_size, cfg.n_sims) == (
            recipe["maps_per_cosmology"],
            recipe["n_particles"],
            recipe["n_steps"],
            recipe["box_size"],
            recipe["n_sims"],
        )
    assert {name: cfg.map_size for name, cfg in E.P2Config.PROFILES.items()} == dict(
        smoke=32, cpu=32, gpu=64, paper=128, **{"cpu-long": 32}
    )
    assert E.P2Config.PROFILES["smoke"].suite_options() == dict(maps_per_cosmology=16, n_steps=2, box_size=512.0)
    assert E.P2Config.from_parameters(profile="cpu", n_particles=64).suite_options() == dict(n_particles=64)


@pytest.mark.parametrize(
    "map_size, nyquist, n_cl, n_corr", [(32, 1152.0, 13, 10), (64, 2304.0, 24, 10), (128, 4608.0, 24, 10)]
)
def test_multipole_bins_follow_the_map_size(map_size, nyquist, n_cl, n_corr):
    """Bins from 200 to the Nyquist multipole pi n / field, each at least one fundamental (72) wide and none empty;
    the bispectrum's and Fig. 8's ranges end at 3000 or below Nyquist; at 128 px P2's ranges."""
    assert E.ell_fundamental(5.0) == 72.0
    assert E.ell_nyquist(map_size, 5.0) == pytest.approx(np.pi * map_size / np.radians(5.0)) == nyquist
    cl, bl, corr = E.ell_edges(map_size), E.bispectrum_edges(map_size), E.correlation_edges(map_size)
    assert (cl[0], cl[-1], len(cl) - 1) == (200.0, nyquist, n_cl)
    assert (corr[0], corr[-1], len(corr) - 1) == (300.0, min(3000.0, nyquist), n_corr)
    assert (bl[0], bl[-1]) == (200.0, min(3000.0, nyquist))
    for edges in (cl, bl, corr):
        assert np.diff(edges).min() >= 72.0
    maps = gaussian_maps(2, map_size, 5.0, seed=1)
    f = E.features(maps, 1.0)
    assert f["cl"].shape == (2, n_cl) and (f["cl"] > 0).all()  # no empty bin
    assert f["ccl"].shape == (2, n_corr) and (f["ccl"] > 0).all()
    assert f["bl"].shape[1] == int(E._bispectrum_keep(map_size).sum()) >= len(bl) - 2
    assert f["pixq"].shape == (2, min(1024, map_size**2))
    res = E.resolution_edges(map_size)
    assert 0.5 * (res[-1] + res[-2]) == nyquist and np.allclose(np.diff(res), 72.0)
    if map_size == 32:  # every pixel of a 32^2 map is its own quantile
        assert np.array_equal(f["pixq"], np.sort(maps.astype(np.float32).reshape(2, -1), axis=1))
    with pytest.raises(ValueError, match="accepted are square maps"):
        E.features(maps[:, :, :-1], 1.0)


def test_layout_n_max_is_what_the_splits_allow():
    gpu = E.P2Config.PROFILES["gpu"]
    lay = gpu.layout()
    parents = E.map_parents(gpu.maps_per_cosmology, gpu.n_sims)
    test_parents = np.unique(parents)[-lay["test_parents"] :]
    pool = parents[np.isin(parents, test_parents)]
    s = real_vs_real_splits(pool, lay["n_max"], 20, seed=3)
    for a, b in s.draws:
        assert not set(pool[a]) & set(pool[b])
    with pytest.raises(ValueError, match="too few for two parent-disjoint sets"):
        real_vs_real_splits(pool, lay["n_max"] * 2, 20, seed=3)


def test_config_epochs_override_trains_by_epochs_and_bad_values_stop():
    cfg = E.P2Config.from_parameters(profile="cpu")
    assert cfg.max_steps == 110 and cfg.train_config(progress=False).max_steps == 110
    by_epochs = E.P2Config.from_parameters(profile="cpu", epochs=2)
    assert (
        by_epochs.max_steps is None
        and by_epochs.epochs == 2.0
        and by_epochs.train_config(progress=False).max_steps is None
    )
    both = E.P2Config.from_parameters(profile="cpu", epochs=2, max_steps=7)
    assert both.max_steps == 7
    assert E.P2Config.from_parameters(profile="cpu", explorer_grid=[2, 2, 1]).explorer_grid == (2, 2, 1)
    for kwargs, message in [
        (dict(sead=1), "unknown parameter 'sead'"),
        (dict(profile="huge"), "parameter 'profile' must be one of"),
        (dict(n_eval=17), "parameter 'n_eval' must be at most 16"),
        (dict(n_particles=48), "parameter 'n_particles' must be a power of two"),
        (dict(conditioning="text"), "parameter 'conditioning' must be one of 'paper', 'code'"),
        (dict(train_fraction=0.6, dev_fraction=0.4), "'train_fraction' + 'dev_fraction' must be below 1"),
        (dict(explore_omega_m=0.05), "parameter 'explore_omega_m' must be above"),
        (dict(n_splits=10), "parameter 'n_splits' must be"),
        (dict(explorer_grid=(2, 2)), "parameter 'explorer_grid' must be three positive integers"),
        (dict(results_dir="/proc/not-here"), "parameter 'results_dir' must be a folder this process can write"),
    ]:
        with pytest.raises(ParameterError) as error:
            E.P2Config.from_parameters(**({"profile": "cpu"} | kwargs))
        assert message in str(error.value), str(error.value)
        assert str(error.value).count(". ") == 0 or str(error.value).endswith(".")  # one sentence


def test_config_checks_the_emulator_before_any_work(tmp_path):
    """A missing emulator, one for other maps and one with another conditioning stop in the parameters cell."""
    from gancosmo.data.intensity import ConstantScale
    from gancosmo.emulators import save_emulator
    from gancosmo.models.conditional import conditional_gan

    def saved(map_size, conditioning, name):
        G, _ = conditional_gan(2, conditioning=conditioning, map_size=map_size)
        stem = tmp_path / name
        meta = dict(suite="p2", profile="smoke", from_suite="same", field_deg=5.0, map_size=map_size, resolved_max=None)
        save_emulator(
            stem,
            G,
            builder="conditional_gan",
            args=dict(width=2, latent_dim=128, conditioning=conditioning, map_size=map_size),
            transform=ConstantScale(1.0),
            labels=("omega_m", "sigma8"),
            meta=meta,
        )
        return str(stem)

    good = saved(32, "paper", "good")
    assert E.P2Config.from_parameters(profile="cpu", emulator=good).emulator_path == good
    for kwargs, message in [
        (dict(emulator=str(tmp_path / "absent")), "absent.safetensors is missing"),
        (dict(emulator=saved(64, "paper", "big")), "makes 64^2 px maps over 5.0 deg and profile 'cpu' scores 32^2"),
        (dict(emulator=good, conditioning="code"), "was trained with 'paper'"),
    ]:
        with pytest.raises(ParameterError, match=re.escape(message)):
            E.P2Config.from_parameters(**({"profile": "cpu"} | kwargs))


# -------------------------------------------------------------------------- per-map statistics vs oracles
def test_ssim_matrix_is_scikit_images_structural_similarity():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(4)
    maps = 0.02 * (rng.lognormal(size=(5, 64, 48)) - 1.5)
    maps[1] = 0.7 * maps[0] + 0.3 * maps[1]  # one similar pair
    R = 0.5  # fixed data range, wider than any of the maps
    M = E.ssim_matrix(maps, R)
    assert np.isnan(np.diag(M)).all() and np.allclose(M, M.T, equal_nan=True)
    for i, j in [(0, 1), (0, 2), (3, 4), (2, 4)]:
        assert M[i, j] == pytest.approx(structural_similarity(maps[i], maps[j], data_range=R), abs=1e-10)
    assert M[0, 1] > M[0, 2]
    with pytest.raises(ValueError, match="data_range must be a finite number > 0"):
        E.ssim_matrix(maps, 0.0)


def test_pixel_quantiles_give_the_full_pixel_w1():
    real = lognormal_maps(8, 128, 5.0, seed=1)
    other = 1.2 * lognormal_maps(8, 128, 5.0, seed=2)
    fr = dict(
        pixq=E.pixel_quantiles(real), pix_m1=real.reshape(8, -1).mean(1), pix_m2=(real.reshape(8, -1) ** 2).mean(1)
    )
    fo = dict(pixq=E.pixel_quantiles(other))
    import scipy.stats

    mu, sd = fr["pix_m1"].mean(), np.sqrt(fr["pix_m2"].mean() - fr["pix_m1"].mean() ** 2)
    w1 = scipy.stats.wasserstein_distance((fr["pixq"].ravel() - mu) / sd, (fo["pixq"].ravel() - mu) / sd)
    exact = normalized_wasserstein1(real, other)
    assert exact > 0.05
    assert w1 == pytest.approx(exact, rel=0.02, abs=2e-3)


def test_interior_peaks_never_wrap_around():
    m = np.zeros((1, 32, 32))
    m[0, 10, 10] = 1.0  # an interior peak
    m[0, 0, 5] = 2.0  # on the border: its window is incomplete, dropped
    m[0, 31, 20] = 0.5  # would neighbour (0, 20) periodically
    m[0, 1, 20] = 0.6  # 1 px from the border: dropped
    peaks = E.interior_peaks(m, radius=2, threshold=0.0)[0]
    assert sorted(peaks.tolist()) == [1.0]
    # on a periodic map, padded by wrapping, the interior peaks are the periodic peaks
    g = gaussian_maps(2, 32, 2.0, seed=3)
    ours = E.interior_peaks(np.pad(g, ((0, 0), (2, 2), (2, 2)), mode="wrap"), radius=2, threshold=-np.inf)
    ref = peak_values(g, neighbourhood=2, boundary="periodic")
    for a, b in zip(ours, ref):
        assert np.allclose(np.sort(a), np.sort(b))


def test_minkowski_interior_equals_lenstools_stencils_on_periodic_maps():
    g = gaussian_maps(3, 48, 4.0, seed=7)
    e = np.linspace(g.mean() - 2 * g.std(), g.mean() + 3 * g.std(), 12)
    ref = minkowski_2d(g, e)
    ours = E.minkowski_interior(np.pad(g, ((0, 0), (2, 2), (2, 2)), mode="wrap"), e)
    for a, b in zip(ref, ours):
        assert np.allclose(a, b, rtol=1e-10, atol=1e-14)


# -------------------------------------------------------------------------- the comparison
def _feats(maps, R=0.5, reg=None):
    f = E.features(maps, R)
    if reg is not None:
        f["reg"] = reg
    return f


@pytest.mark.parametrize("map_size", [32, 128])
def test_compare_analytic_cases(map_size):
    real = gaussian_maps(12, map_size, 5.0, seed=0)
    f_real, f_scaled = _feats(real), _feats(1.5 * real)
    r = E.compare(f_real, f_scaled)
    assert r["cl_mean_abs_frac"] == pytest.approx(1.5**2 - 1, rel=1e-6)  # C_ell scales by 1.5^2 in every bin
    assert r["bl_mean_abs_frac"] == pytest.approx(1.5**3 - 1, rel=1e-6)  # B_ell by 1.5^3
    assert abs(r["f_r"]) < 1e-9  # correlation matrices are scale free
    # standardized N(0,1) vs N(0,1.5^2): W1 = 0.5 E|X| = 0.5 sqrt(2/pi)
    assert r["w1_pixel"] == pytest.approx(0.5 * np.sqrt(2 / np.pi), abs=0.01)
    assert np.isnan(r["fid_sqrt"])  # no regressor features
    same = E.compare(f_real, _feats(gaussian_maps(12, map_size, 5.0, seed=1)))
    assert same["w1_pixel"] < 0.05 and same["cl_mean_abs_frac"] < 0.1 and abs(same["s_ssim"]) < 1.5
    self_ = E.compare(f_real, f_real)
    assert self_["s_ssim"] == 0 and self_["w1_pixel"] == 0 and self_["cl_chi2_dof"] == 0


def test_band_passes_new_draws_and_fails_a_thirty_percent_cl_shift():
    """Through the protocol at the cpu profile's sizes (32^2 px maps, pool 32, n = 16, 39 splits): independent draws
    of the same field sit inside the bands (each with probability about 39/40: at least 10 of 12 here); the same
    field with 30% more power (14% in amplitude) fails mean |f_Cl| every time. (16 maps of 25 deg^2 at 32^2 px do
    not detect a 10% power shift reliably: the band of mean |f_Cl| reaches about 0.14.)"""
    n_pix = E.P2Config.PROFILES["cpu"].map_size
    assert n_pix == 32
    pool = lognormal_maps(32, n_pix, 5.0, seed=11)
    splits = real_vs_real_splits(np.arange(32), 16, 39, seed=0)
    f_pool = _feats(pool)
    inside, keys = 0, ("cl_mean_abs_frac", "cl_chi2_dof", "w1_pixel")
    for seed in (12, 13, 14, 15):
        draw = lognormal_maps(16, n_pix, 5.0, seed=seed)
        s = score(
            E.compare, f_pool, splits, _feats(draw), _feats(np.sqrt(1.3) * draw)
        )  # "null" slot: the shifted field
        for key in keys:
            lo, hi = s.band(key)
            assert lo <= s.reference(key) <= hi
            inside += lo <= s.ours[key] <= hi
        assert s.null["cl_mean_abs_frac"] > s.band("cl_mean_abs_frac")[1]
    assert inside >= 10, inside


@pytest.mark.parametrize("formula", ["p2_text", "frechet"])
def test_both_fid_formulas_through_compare(formula):
    """Both FID options reach the comparison (the regressor's outputs of each set); the formulas give 1 for a
    1-sigma shift or a doubled width, about 0 for the same law."""
    rng = np.random.default_rng(5)
    maps = rng.normal(size=(12, 128, 128))
    fr, fo = _feats(maps[:6], 5.0, rng.normal(size=(6, 2))), _feats(maps[6:], 5.0, rng.normal(size=(6, 2)) + 0.5)
    assert E.compare(fr, fo, fid_formula=formula)["fid_sqrt"] == pytest.approx(
        fid_like(fr["reg"], fo["reg"], formula=formula)
    )
    real = rng.normal(size=(20000, 2))
    assert fid_like(real, real[::-1] + np.array([1.0, 0.0]), formula=formula) == pytest.approx(1.0, abs=0.03)
    assert fid_like(real, real * np.array([2.0, 1.0]), formula=formula) == pytest.approx(1.0, abs=0.01)
    assert fid_like(real, rng.normal(size=(20000, 2)), formula=formula) < 0.06


def _theory_cl(omega_m, sigma8, factor=lambda ell: 1.0):
    """pyccl's Limber C_ell (KiDS-like n(z)) as a function of ell, times ``factor(ell)``."""
    from gancosmo.cosmology import Cosmology, kids450_nz

    grid = np.geomspace(10.0, 3000.0, 120)
    log_cl = np.log(Cosmology(omega_m, sigma8).convergence_cl(grid, nz=kids450_nz))
    return lambda ell: np.exp(np.interp(np.log(np.maximum(ell, 10.0)), np.log(grid), log_cl)) * factor(ell)


def test_resolution_check_finds_where_the_maps_leave_pyccl():
    """Gaussian maps drawn with pyccl's C_ell are resolved up to the Nyquist multipole (1152 at 32 px); with the power
    halved above ell = 700 the resolved range ends at the last bin below it (648 = 9 fundamentals); with it doubled
    everywhere nothing is resolved."""
    om, s8 = 0.291, 0.783
    exact = E.resolution_check(gaussian_maps(400, 32, 5.0, cl=_theory_cl(om, s8), seed=2), om, s8)
    assert exact["resolved_max"] == exact["scored_max"] == 1152.0 and exact["ell_min"] == 144.0
    assert exact["max_deviation"] < 0.1 and exact["tolerance"] == 0.2
    assert np.allclose(exact["ell"], 72.0 * np.arange(1, 17))
    cut = _theory_cl(om, s8, lambda ell: np.where(ell > 700, 0.5, 1.0))
    assert E.resolution_check(gaussian_maps(400, 32, 5.0, cl=cut, seed=3), om, s8)["resolved_max"] == 648.0
    doubled = E.resolution_check(gaussian_maps(50, 32, 5.0, cl=_theory_cl(om, s8, lambda ell: 2.0), seed=4), om, s8)
    assert doubled["resolved_max"] is None and doubled["max_deviation"] is None


# -------------------------------------------------------------------------- rows and criteria
def test_median_rows_take_abs_split_by_split():
    from gancosmo.evaluation.protocol import Scores

    css = []
    for k, sign in enumerate((1, -1, 1)):
        sc = Scores(
            ours={"f_r": sign * 0.1 * (k + 1)},
            null={"f_r": 0.5},
            splits=[{"f_r": sign * 0.01 * j} for j in range(20)],
            n=4,
            n_splits=20,
        )
        css.append(E.CosmologyScores(index=k, kind="test", scores=sc, baseline={"f_r": -0.3}, nearest=0, n=4, pool=8))
    m = E._median_scores(css, "f_r")
    assert m.ours["f_r"] == pytest.approx(0.2) and m.null["f_r"] == 0.5
    assert [s["f_r"] for s in m.splits] == pytest.approx([0.01 * j for j in range(20)])
    assert E._median_scores(css, "f_r", baseline=True).ours["f_r"] == pytest.approx(0.3)


def test_regressor_and_memorisation_criteria():
    assert E.regressor_verdict(0.0009, 0.01) == "pass"
    assert E.regressor_verdict(0.0011, 0.01) == "fail"
    assert E.regressor_verdict(float("nan"), 0.01) == "fail"
    assert E.memorisation_verdict(0.95) == "pass" and E.memorisation_verdict(0.94) == "fail"


def test_rows_of_a_named_model_carry_the_paper_numbers():
    specs = E._specs_per_model("B", 1, 16, "map", map_size=32, field_deg=5.0)
    keys = [s.key for s in specs]
    assert len(keys) == len(set(keys)) == 13
    quantity = {s.key: s.quantity for s in specs}
    assert "C_ell, 13 bins 200-1152" in quantity["cl_mean_abs_frac_b"]
    assert "folded bispectrum, 13 bins 200-1152" in quantity["bl_chi2_dof_b"]
    assert "correlation matrices 300-1152" in quantity["f_r_b"]
    paper_size = {s.key: s.quantity for s in E._specs_per_model("B", 1, 16, "map", map_size=128)}
    assert "C_ell, 24 bins 200-4608" in paper_size["cl_mean_abs_frac_b"]
    assert "folded bispectrum, 14 bins 200-3000" in paper_size["bl_chi2_dof_b"]
    assert "correlation matrices 300-3000" in paper_size["f_r_b"]
    assert {"w1_pixel_b", "cl_chi2_dof_b", "cl_ks_reject_b", "cl_ad_reject_b", "bl_mean_abs_frac_b", "s_ssim_b"} <= set(
        keys
    )
    fid = next(s for s in specs if s.key == "fid_sqrt_b")
    assert fid.paper == 1.44 and fid.source == "fid_sqrt"
    assert next(s for s in specs if s.key == "cl_mean_abs_frac_b").tolerance == 0.05


# -------------------------------------------------------------------------- regressor
def _toy_regression(n=48, seed=0):
    rng = np.random.default_rng(seed)
    params = np.column_stack([rng.uniform(0.1, 0.5, n), rng.uniform(0.5, 1.3, n)]).astype(np.float32)
    yy, xx = np.mgrid[0:128, 0:128] / 128.0
    # Omega_m sets the amplitude of one wave, sigma_8 of another, plus noise: learnable from 38 maps
    maps = (
        4 * params[:, 0, None, None] * np.sin(2 * np.pi * xx)
        + 2 * params[:, 1, None, None] * np.cos(2 * np.pi * yy)
        + 0.05 * rng.normal(size=(n, 128, 128))
    ).astype(np.float32)
    return maps, params


def test_regressor_learns_parameters_on_tiny_data():
    maps, params = _toy_regression()
    tr, te = split_regressor_data(len(maps), 0.8, seed=0)
    assert len(tr) == 38 and len(te) == 10 and not set(tr) & set(te)
    torch.manual_seed(0)
    model = Regressor(1)
    fit = train_regressor(model, maps[tr], params[tr], epochs=20, lr=1e-3, batch_size=16, progress=False)
    baseline = mse(np.tile(params[tr].mean(0), (len(te), 1)), params[te])
    err = mse(predict(model, maps[te]), params[te])
    assert fit.losses[-1] < fit.losses[0] and fit.best_epoch == len(fit.losses) and fit.dev_mse == []
    assert err < 0.1 * baseline, (err, baseline)


def test_regressor_keeps_the_epoch_with_the_lowest_dev_mse():
    maps, params = _toy_regression(40, seed=1)
    torch.manual_seed(1)
    model = Regressor(1)
    fit = train_regressor(
        model, maps[:30], params[:30], epochs=6, lr=3e-3, batch_size=10, progress=False, dev=(maps[30:], params[30:])
    )
    assert len(fit.dev_mse) == 6 and fit.best_epoch == int(np.argmin(fit.dev_mse)) + 1
    assert mse(predict(model, maps[30:]), params[30:]) == pytest.approx(min(fit.dev_mse), rel=1e-5)
    with pytest.raises(ValueError, match="dev must be"):
        train_regressor(Regressor(1), maps[:4], params[:4], epochs=1, progress=False, dev=(maps[:2], params[:3]))


def test_regressor_takes_explicit_sizes_and_bad_input():
    with pytest.raises(TypeError):
        Regressor()  # no hidden default size
    with pytest.raises(ValueError, match="need at least 2 maps"):
        split_regressor_data(1)


def test_config_is_frozen():
    cfg = E.P2Config.PROFILES["smoke"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.width = 3


def test_log_derivatives_of_a_power_law_are_analytic():
    """ln C = c + 1.6 ln Omega_m + 2.7 ln sigma_8 + 0.3 ln Omega_m ln sigma_8 over the grid: the fit's derivatives
    are the analytic ones, d/dOmega_m = (1.6 + 0.3 ln sigma_8) / Omega_m and the same for sigma_8."""
    om, s8 = E._grid_params()
    amp = -20.0 + 1.6 * np.log(om) + 2.7 * np.log(s8) + 0.3 * np.log(om) * np.log(s8)
    d_om, d_s8 = E.log_derivatives(om, s8, amp, at=(0.3, 0.8))
    np.testing.assert_allclose(
        [d_om, d_s8], [(1.6 + 0.3 * np.log(0.8)) / 0.3, (2.7 + 0.3 * np.log(0.3)) / 0.8], rtol=1e-10
    )
    with pytest.raises(ValueError, match="at least 6 cosmologies"):
        E.log_derivatives(om[:5], s8[:5], amp[:5], at=(0.3, 0.8))


def test_derivative_target_rows_pass_the_data_slope_and_fail_a_flat_emulator():
    """Synthetic amplitudes on the 57 cosmologies: an emulator with the data's slopes passes both derivative rows;
    one that ignores sigma_8 fails that row (ratio 0) and one with twice the Omega_m slope fails the other."""
    from types import SimpleNamespace

    om, s8 = E._grid_params()
    rng = np.random.default_rng(2)
    truth = 1.5 * np.log(om) + 2.5 * np.log(s8)

    def per_with(gan):
        per = {}
        for c in range(len(om)):
            splits = [(truth[c] + rng.normal(0, 0.01), truth[c] + rng.normal(0, 0.01)) for _ in range(39)]
            parts = dict(amp_a=truth[c], amp_gan=gan[c], amp_null=truth[c], amp_splits=splits)
            per[c] = SimpleNamespace(target_parts=parts, n=16)
        return per

    data = SimpleNamespace(omega_m=om, sigma8=s8)
    good = {r.key: r for r in E._derivative_rows(per_with(truth + 0.02), data)}
    assert set(good) == {"target_dlncl_domega_m_ratio", "target_dlncl_dsigma8_ratio"}
    assert all(r.verdict == "pass" and abs(r.ours - 1) < 1e-9 for r in good.values())
    assert all(r.band[0] < 1 < r.band[1] and r.band[1] - r.band[0] < 0.2 for r in good.values())
    flat = {r.key: r for r in E._derivative_rows(per_with(1.5 * np.log(om)), data)}
    assert flat["target_dlncl_dsigma8_ratio"].verdict == "fail" and abs(flat["target_dlncl_dsigma8_ratio"].ours) < 1e-9
    steep = {r.key: r for r in E._derivative_rows(per_with(3.0 * np.log(om) + 2.5 * np.log(s8)), data)}
    assert steep["target_dlncl_domega_m_ratio"].verdict == "fail"
    np.testing.assert_allclose(steep["target_dlncl_domega_m_ratio"].ours, 2.0, rtol=1e-9)
    assert steep["target_dlncl_dsigma8_ratio"].verdict == "pass"
