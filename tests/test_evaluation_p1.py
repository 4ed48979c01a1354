"""P1 chapter steps (gancosmo.evaluation.p1): config, parent splits, selection, features, calibrated rows, criteria."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from gancosmo.evaluation import p1 as E
from gancosmo.evaluation.protocol import real_vs_real_splits, rows_from_scores, score
from gancosmo.evaluation.sampling import TorchEmulator
from gancosmo.models.cosmogan import cosmogan
from gancosmo.params import ParameterError
from gancosmo.scorecard import Row, find_row, format_table, read_scorecard, write_scorecard
from gancosmo.sims.suites import SIZES
from gancosmo.stats.fields import gaussian_maps, lognormal_maps


# -------------------------------------------------------------------------- configuration
def test_profiles_are_complete_and_p1_scales_only_the_short_runs():
    assert tuple(E.P1Config.PROFILES) == ("smoke", "cpu", "cpu-long", "gpu", "paper")
    for name, cfg in E.P1Config.PROFILES.items():
        assert cfg.profile == name and cfg.n_splits >= 20
        assert 2 * math.ceil(cfg.n_generate / cfg.samples_per_parent) <= cfg.test_parents
    # P1 used the maps as they are; only the short profiles scale them by a constant
    assert E.P1Config.PROFILES["gpu"].intensity_scale == E.P1Config.PROFILES["paper"].intensity_scale == 1.0
    assert isinstance(E.P1Config.PROFILES["gpu"].transform, E.Identity)
    assert E.P1Config.PROFILES["cpu"].transform.factor == 10.0
    # the cpu run trains on the cpu suite's own maps (64^2 px, one tile each) and draws them from its 4 simulations
    cpu = E.P1Config.PROFILES["cpu"]
    assert (cpu.epochs, cpu.batch_size, cpu.map_size, cpu.tiles_per_map) == (48.0, 64, 64, 1)
    assert cpu.suite_options() == dict(n_maps=SIZES["p1"]["cpu"]["n_maps"], n_sims=SIZES["p1"]["cpu"]["n_sims"])
    # cpu-long trains the committed generator on the same recipe (other simulations); cpu scores it
    long = E.P1Config.PROFILES["cpu-long"]
    assert E.suite_geometry("cpu-long") == E.suite_geometry("cpu") and long.map_size == cpu.map_size
    assert long.suite_options() == dict(
        n_maps=SIZES["p1"]["cpu-long"]["n_maps"], n_sims=SIZES["p1"]["cpu-long"]["n_sims"]
    )
    assert SIZES["p1"]["cpu-long"]["seed"] != SIZES["p1"]["cpu"]["seed"]
    assert (long.emulator, cpu.emulator) == ("train", "committed") and long.intensity_scale == cpu.intensity_scale


def test_overrides_apply_and_none_keeps_the_profile():
    cfg = E.P1Config.from_parameters(
        profile="smoke", epochs=2, seed=None, label_flip=0.0, loss="wgan-gp", base_filters=4
    )
    assert (cfg.epochs, cfg.seed, cfg.loss, cfg.base_filters) == (2.0, 0, "wgan-gp", 4) and isinstance(
        cfg.epochs, float
    )
    assert cfg.to_dict()["profile"] == "smoke"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 3.0


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(batch_size=0), "parameter 'batch_size' must be an integer with 1 <= value"),
        (dict(loss="hinge"), "parameter 'loss' must be one of 'bce', 'wgan-gp'"),
        (dict(label_flip=1.0), "parameter 'label_flip' must be a number with 0 <= value < 1"),
        (dict(epochs=-1), "parameter 'epochs' must be a number with 0 < value"),
        (dict(loss="wgan-gp"), "parameter 'label_flip' applies to loss 'bce' only"),
        (dict(intensity_scale=0.0), "parameter 'intensity_scale' must be a number with 0 < value"),
        (dict(map_size=48), "parameter 'map_size' must be one of 16, 32, 64, 128, 256"),
        (dict(n_generate=17), "parameter 'n_generate' (17) needs 34 test parents"),
        (dict(parent="simulation"), "parameter 'parent' is 'simulation' but the suite has 1 such parents"),
        (dict(n_splits=10), "parameter 'n_splits' must be an integer with 20 <= value"),
        (dict(results_dir="/proc/no/such/dir"), "parameter 'results_dir' must be a folder this process can write into"),
        (dict(epoch=3), "unknown parameter 'epoch'"),
        (dict(seed=1.5), "parameter 'seed' must be an integer"),
    ],
)
def test_config_refuses_bad_parameters_with_one_sentence(overrides, message):
    with pytest.raises(ParameterError) as error:
        E.P1Config.from_parameters(profile="smoke", **overrides)
    text = str(error.value)
    assert message in text and text.count(". ") == 0 and text.endswith(".")


# -------------------------------------------------------------------------- data and parents
def test_tiles_follow_their_parent_map():
    maps = np.arange(3 * 8 * 8, dtype=np.float32).reshape(3, 8, 8)
    tiles = E.tile_maps(maps, 4)
    assert tiles.shape == (12, 4, 4)
    np.testing.assert_array_equal(tiles[0], maps[0, :4, :4])
    np.testing.assert_array_equal(tiles[5], maps[1, :4, 4:])


@pytest.mark.parametrize("parent", ["map", "simulation"])
def test_split_by_parent_never_shares_a_parent(parent):
    n_maps, n_sims = 40, 8
    sims = E.simulation_ids(n_maps, n_sims)
    # each map carries its own index (map parent) in every pixel, so tiles can be traced back
    maps = np.broadcast_to(np.arange(n_maps, dtype=np.float32)[:, None, None], (n_maps, 16, 16)).copy()
    data = E.prepare_data(maps, sims, 8, parent=parent, seed=3)
    origin = {k: getattr(data, k)[:, 0, 0].astype(int) for k in ("train", "dev", "test")}
    for k in origin:  # tiles keep their parent id
        expect = origin[k] if parent == "map" else sims[origin[k]]
        np.testing.assert_array_equal(getattr(data, f"{k}_parents"), expect)
    owners = [set(getattr(data, f"{k}_parents")) for k in ("train", "dev", "test")]
    assert not (owners[0] & owners[1]) and not (owners[0] & owners[2]) and not (owners[1] & owners[2])
    assert sum(len(getattr(data, k)) for k in origin) == 4 * n_maps
    assert data.side_deg == pytest.approx(E.FIELD_DEG / 2)
    # the real-vs-real sides never share a parent either
    splits = real_vs_real_splits(data.test_parents, 4, n_splits=20, seed=0)
    for a, b in splits.draws:
        assert not set(data.test_parents[a]) & set(data.test_parents[b])


def test_simulation_ids_follow_the_suite_order():
    # the suite gives simulation s the maps linspace(0, n, n_sims + 1).round() [s : s + 1] (2.5 rounds to 2)
    np.testing.assert_array_equal(E.simulation_ids(5, 2), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(E.simulation_ids(256, 2), np.repeat([0, 1], 128))


def test_resolved_ell_stops_at_the_first_bin_below_half_the_theory(monkeypatch):
    """Maps with C_ell = theory up to ell ~ 3000 and 1/10 of it above are resolved to the last bin below."""
    from gancosmo import cosmology
    from gancosmo.sims.suites import P1_COSMOLOGY

    side, n = 1.0, 64
    edges = E.ell_edges(n, side)
    ell = 0.5 * (edges[1:] + edges[:-1])

    def cl(x):
        x = np.asarray(x, float)
        return np.where(x < 3000, 1e-9, 1e-10) * (x / 1000) ** -1.0

    monkeypatch.setattr(
        cosmology.Cosmology,
        "convergence_cl",
        lambda self, x, z_source=None, nz=None: np.where(
            np.asarray(x) > 0, 1e-9 * (np.asarray(x, float) / 1000) ** -1.0, 0.0
        ),
    )
    maps = gaussian_maps(256, n, side, cl=cl, seed=0)
    res = E.resolved_ell(maps, side, P1_COSMOLOGY, tile_size=32)
    assert res["resolved_max"] == pytest.approx(ell[ell < 3000][-1])
    assert res["tile_fundamental"] == pytest.approx(720.0) and res["tile_nyquist"] == pytest.approx(720.0 * 16)
    assert res["ratio_at_tile_fundamental"] == pytest.approx(1.0, abs=0.2)


# -------------------------------------------------------------------------- model selection
def _spectra(n=200, bins=12, seed=0):
    return np.random.default_rng(seed).normal(-9.0, 0.1, (n, bins))


def test_chi2_zero_for_identical_and_grows_with_shift():
    a = _spectra()
    values = [E.chi2_histogram_distance(a + s, a) for s in (0.0, 0.05, 0.1, 0.2, 1.0)]
    assert values[0] == 0.0
    assert all(v2 > v1 for v1, v2 in zip(values, values[1:]))
    assert values[-1] == pytest.approx(2.0)  # no overlap at all
    with pytest.raises(ValueError, match="same bins"):
        E.chi2_histogram_distance(np.zeros((4, 3)), np.zeros((4, 2)))


def test_selector_is_a_distance_in_physical_units():
    from gancosmo.train.selection import Selector

    G, _ = cosmogan(base_filters=4, map_size=32, seed=0)
    dev = np.random.default_rng(0).normal(0, 0.01, (16, 32, 32)).astype(np.float32)
    plain = E.ChiSquaredSelector(dev, 0.2, n_samples=8)
    scaled = E.ChiSquaredSelector(dev * 10, 0.2, n_samples=8, transform=E.ConstantScale(0.1))
    assert isinstance(plain, Selector) and not hasattr(plain, "best_state")
    v = plain(G, 3)
    assert np.isfinite(v) and plain.history == [(3, v)]
    # maps ten times larger and a generator read through a transform that multiplies by 10: the same distance
    assert scaled.distance(G) == pytest.approx(v)


def test_trainer_keeps_and_restores_the_selected_generator():
    cfg = dataclasses.replace(
        E.P1Config.PROFILES["smoke"],
        map_size=32,
        base_filters=4,
        epochs=2.0,
        select_epochs=2.0,
        batch_size=8,
        n_select=8,
    )
    maps = lognormal_maps(8, 64, E.FIELD_DEG / 4, seed=1).astype(np.float32)
    data = E.prepare_data(maps, np.zeros(8, int), 32, seed=0)
    tr = E.train(cfg, data, progress=False)
    values = dict(tr.selection)
    assert tr.steps == len(values) and tr.best_step == min(values, key=values.get)
    assert tr.best_value == pytest.approx(values[tr.best_step])
    # the emulator is the restored generator, in convergence units
    again = E.ChiSquaredSelector(
        data.dev,
        data.side_deg,
        n_samples=min(cfg.n_select, 4 * len(data.dev)),
        seed=cfg.seed + 1,
        transform=cfg.transform,
    )
    assert again.distance(tr.generator) == pytest.approx(tr.best_value)
    assert tr.emulator.sample(3, seed=0).shape == (3, 32, 32)


# -------------------------------------------------------------------------- features and rows
def test_pixel_fractions_count_every_pixel_once():
    maps = np.array([[[0.0, 1.0], [2.0, 3.0]], [[3.0, 3.0], [3.0, -1.0]]])
    f = E.pixel_fractions(maps, np.array([0.5, 2.5]), chunk=1)
    np.testing.assert_allclose(f, [[0.25, 0.5, 0.25], [0.25, 0.0, 0.75]])


def test_bootstrapped_ks_is_about_zero_for_equal_distributions():
    """P1's "p > 0.99" form: even two samples of one distribution score about 0 (why it is not a test)."""
    rng = np.random.default_rng(0)
    assert E.bootstrapped_ks_fraction(rng.normal(size=(512, 31)), rng.normal(size=(512, 31))) <= 0.05


def _pool(n_pool, n_pix=32, side=0.2, seed=0, field="gaussian", amplitude=1.0):
    make = gaussian_maps if field == "gaussian" else lognormal_maps
    kwargs = {} if field == "gaussian" else dict(shift=0.2)
    return (np.sqrt(amplitude) * make(n_pool, n_pix, side, seed=seed, **kwargs)).astype(np.float32)


def _score(real_maps, other_maps, parents, n, side=0.2, seed=0):
    edges = E.ell_edges(real_maps.shape[-1], side)
    bins, thresholds = E.pdf_edges(real_maps), E.minkowski_thresholds(real_maps, 9)
    feats = [
        E.features(m, side, edges, bins, thresholds, seed=s) for s, m in ((seed, real_maps), (seed + 1, other_maps))
    ]
    splits = real_vs_real_splits(parents, n, n_splits=39, seed=seed)
    return rows_from_scores(E._specs(len(edges) - 1, 9, 0.0), score(E.compare, feats[0], splits, feats[1], feats[1]))


def test_a_five_percent_power_excess_fails_and_an_independent_draw_passes():
    """At the chapter's N (512 per side, 16 maps per parent) a 5% C_ell excess is caught; a second draw passes."""
    n_pool, n = 1024, 512
    parents = np.repeat(np.arange(n_pool // 16), 16)
    real = _pool(n_pool, seed=0)
    same = _score(real, _pool(n, seed=1), parents, n)
    shifted = _score(real, _pool(n, seed=1, amplitude=1.05), parents, n)
    for key in ("cl_mean_abs_frac", "cl_chi2_dof"):
        assert find_row(same, key).verdict == "pass", format_table([find_row(same, key)])
        assert find_row(shifted, key).verdict == "fail", format_table([find_row(shifted, key)])
    for row in same:  # the real-vs-real median lies inside its own band
        if row.band is not None:
            assert row.band[0] <= row.reference <= row.band[1], row.key


def test_a_doubled_map_to_map_scatter_fails_the_scatter_row_only_when_it_is_there():
    n_pool, n = 1024, 512
    parents = np.repeat(np.arange(n_pool // 16), 16)
    real = _pool(n_pool, seed=0)
    other = _pool(n, seed=1)
    same = find_row(_score(real, other, parents, n), "cl_std_ratio_max_dev")
    # each map's amplitude drawn from 1 +- 0.5: the mean C_ell stays, its scatter between maps grows
    scale = np.sqrt(1 + 0.5 * np.random.default_rng(2).choice([-1.0, 1.0], n))[:, None, None].astype(np.float32)
    wide = find_row(_score(real, other * scale, parents, n), "cl_std_ratio_max_dev")
    assert same.verdict == "pass" and same.ours < 0.3, format_table([same])
    assert wide.verdict == "fail" and wide.ours > 0.5, format_table([wide])


def test_a_gaussian_field_fails_pdf_and_minkowski_rows_against_lognormal_data():
    n_pool, n = 512, 256
    parents = np.repeat(np.arange(n_pool // 8), 8)
    real = _pool(n_pool, seed=0, field="lognormal")
    gauss = _pool(n, seed=5)
    gauss *= real.std() / gauss.std()
    rows = _score(real, gauss, parents, n)
    for key in ("pdf_chi2_dof", "pdf_ks_reject", "mf_v0_chi2_dof", "mf_v2_chi2_dof"):
        assert find_row(rows, key).verdict == "fail", key


def test_correlation_rows_use_equal_n_and_see_a_broken_correlation():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(400, 1))
    corr = np.hstack([base + 0.5 * rng.normal(size=(400, 1)) for _ in range(6)])
    indep = rng.normal(size=(400, 6))
    same = E._correlation_rows(corr[:200], corr[200:])
    broken = E._correlation_rows(corr[:200], indep[:200])
    assert same["corr_max_abs_diff"] < 0.3 < broken["corr_max_abs_diff"]
    assert broken["corr_rms_diff"] > 0.5


def test_memorisation_ratio_flags_copies():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 16, 16)).astype(np.float32)
    held = rng.normal(size=(50, 16, 16)).astype(np.float32)
    copies = train[:50] + 1e-3 * rng.normal(size=(50, 16, 16)).astype(np.float32)
    assert E.memorisation(copies, held, train)["ratio"] < 0.1
    assert E.memorisation(rng.normal(size=(50, 16, 16)), held, train)["ratio"] == pytest.approx(1.0, abs=0.05)


def test_criterion_rows_state_their_criterion_and_decide():
    memo = dict(ratio=0.9, n_held_out=10, n_generated=10, n_training=20)
    b = dict(
        support_estimate=None,
        n_duplicate_pairs=0,
        support_lower_bound_95=15.0,
        batch=10,
        n_generated=10,
        pool=4,
        pairs_examined=45,
    )
    speed = dict(per_s=1000.0, n=64, device="cpu")
    rows = E.criterion_rows(memo, b, speed, dict(generator=12_824_449, discriminator=4_436_225), 64, 10)
    verdicts = {r.key: r.verdict for r in rows}
    assert verdicts == dict(
        memorisation_ratio="fail",
        birthday_distinct_maps="pass",
        generation_speed="pass",
        generator_parameters="pass",
        discriminator_parameters="pass",
    )
    assert all(r.notes.startswith("pass:") for r in rows)


def test_paper_parameter_counts():
    assert E.paper_parameter_counts() == dict(generator=12_824_449, discriminator=4_436_225)


# -------------------------------------------------------------------------- interpolation, birthday paradox
def test_slerp_endpoints_and_norms():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(2, 64, generator=g)
    path = E.slerp(z0, z1, np.linspace(0, 1, 9))
    torch.testing.assert_close(path[0], z0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(path[-1], z1, atol=1e-5, rtol=1e-5)
    u0, u1 = z0 / z0.norm() * 8, z1 / z1.norm() * 8  # equal-norm endpoints stay on the sphere
    norms = E.slerp(u0, u1, np.linspace(0, 1, 9)).norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, 8.0), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(E.slerp(z0, 2 * z0, [0.5])[0], 1.5 * z0, atol=1e-5, rtol=1e-5)


def test_interpolate_in_physical_units():
    G, _ = cosmogan(base_filters=4, map_size=32, seed=0)
    emu = TorchEmulator(G, E.ConstantScale(10.0))
    paths = E.interpolate(emu, n_rows=2, n_steps=3, seed=1)
    assert paths.shape == (2, 3, 32, 32) and G.training
    assert np.abs(paths).max() <= 0.1 + 1e-6  # tanh output divided by the scale


def test_birthday_paradox_recovers_a_small_support():
    rng = np.random.default_rng(0)
    atoms = rng.normal(size=(40, 16, 16)).astype(np.float32)
    draws = atoms[rng.integers(0, 40, 400)] + rng.normal(0, 1e-3, (400, 16, 16)).astype(np.float32)
    real = rng.normal(size=(200, 16, 16)).astype(np.float32)
    b = E.birthday_paradox(draws, real, pool=1, device="cpu")
    assert b["support_estimate"] == pytest.approx(40, rel=0.15)  # about 400*399/80 coinciding pairs
    assert b["support_lower_bound_95"] is None


def test_birthday_paradox_bound_for_distinct_maps():
    rng = np.random.default_rng(1)
    b = E.birthday_paradox(rng.normal(size=(300, 16, 16)), rng.normal(size=(100, 16, 16)), pool=2, device="cpu")
    assert b["n_duplicate_pairs"] == 0 and b["support_estimate"] is None
    assert b["batch"] == 100 and b["pairs_examined"] == 3 * 100 * 99 // 2
    assert b["support_lower_bound_95"] == pytest.approx(3 * 100 * 99 / 6)


def test_pairwise_min_distances_matches_brute_force():
    x = np.random.default_rng(2).normal(size=(30, 8, 8))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum((2, 3)))
    np.fill_diagonal(d, np.inf)
    assert np.allclose(E.pairwise_min_distances(x, pool=1, chunk=7, device="cpu"), d.min(1))
    with pytest.raises(ValueError, match="at least 2 maps"):
        E.pairwise_min_distances(x[:1], pool=1)


# -------------------------------------------------------------------------- scorecard files
def test_scorecard_round_trip(tmp_path):
    rows = [
        Row("ks_p", "KS p", paper="> 0.999", ours=np.float64(0.42), reference=0.5, band=(0.1, 0.9), verdict="pass"),
        Row("speed", "speed", paper=68.3, ours=120, units="maps/s", verdict="pass"),
        Row("nan_value", "nan value", ours=float("nan"), verdict="untestable"),
    ]
    path = write_scorecard(tmp_path / "sub" / "scorecard_p1_smoke.json", rows, meta=dict(profile="smoke"))
    meta, back = read_scorecard(path)
    assert meta == dict(profile="smoke") and back[:2] == rows[:2] and isinstance(back[0].ours, float)
    assert math.isnan(back[2].ours) and not list(path.parent.glob("*.tmp"))
    assert find_row(back, "speed").ours == 120


def test_git_commit_is_a_hash_or_unknown(tmp_path):
    c = E.git_commit()
    assert c == "unknown" or (len(c) == 40 and int(c, 16) >= 0)
    assert E.git_commit(tmp_path) == "unknown"


def test_null_maps_are_cut_like_the_data_and_keep_the_spectrum():
    """Mirrored to periodic parents, the null's tiles have the real tiles' C_ell (no edge power taken for structure)."""
    m = np.arange(2 * 4 * 4, dtype=float).reshape(2, 4, 4)
    mir = E.mirror_periodic(m)
    assert mir.shape == (2, 8, 8)
    np.testing.assert_array_equal(mir[:, :4, :4], m)
    np.testing.assert_array_equal(mir[:, 4:, 4:], m[:, ::-1, ::-1])
    # smooth non-periodic parents (a Gaussian field cut from a 4x larger one): tiles of the null vs tiles of the data
    big = gaussian_maps(40, 128, 1.0, cl=lambda ell: 1e-9 * (ell / 100.0) ** -3.0, seed=0)
    parents = big[:, :64, :64].astype(np.float32)
    data = E.prepare_data(parents, np.zeros(40, int), 16, seed=0)
    null = E.null_maps(data, 200, seed=1)
    assert null.shape == (200, 16, 16)
    edges = E.ell_edges(16, data.side_deg)
    real_cl = E.power_spectrum_2d(data.train, data.side_deg, edges)[1].mean(0)
    null_cl = E.power_spectrum_2d(null, data.side_deg, edges)[1].mean(0)
    assert np.all(np.abs(null_cl / real_cl - 1) < 0.25), null_cl / real_cl
