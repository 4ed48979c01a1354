"""P1 evaluation pipeline (gancosmo.evaluation.p1), scorecard JSON, and chapter 01's parameter checks."""
from pathlib import Path

import numpy as np
import papermill
import pytest
import torch

from gancosmo.evaluation import p1 as E
from gancosmo.models.cosmogan import cosmogan
from gancosmo.scorecard import Row, format_table, read_scorecard, write_scorecard

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "01_cosmogan.ipynb"


def _spectra(n=200, bins=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(-9.0, 0.1, (n, bins))


def test_chi2_zero_for_identical_and_grows_with_shift():
    a = _spectra()
    assert E.chi2_histogram_distance(a, a) == 0.0
    values = [E.chi2_histogram_distance(a + s, a) for s in (0.0, 0.05, 0.1, 0.2, 1.0)]
    assert values[0] == 0.0
    assert all(v2 > v1 for v1, v2 in zip(values, values[1:]))
    assert values[-1] == pytest.approx(2.0)  # no overlap at all


def test_chi2_small_for_independent_samples_of_one_distribution():
    assert E.chi2_histogram_distance(_spectra(seed=1), _spectra(seed=2)) < E.chi2_histogram_distance(_spectra(seed=1) + 0.1, _spectra(seed=2))


def test_chi2_rejects_mismatched_bins():
    with pytest.raises(ValueError, match="same bins"):
        E.chi2_histogram_distance(np.zeros((4, 3)), np.zeros((4, 2)))


def test_selector_keeps_best_state():
    G, _ = cosmogan("smoke", seed=0)
    dev = np.random.default_rng(0).normal(0, 0.01, (16, 64, 64)).astype(np.float32)
    sel = E.ChiSquaredSelector(dev, 0.2, n_samples=8)
    v = sel(G, 3)
    assert np.isfinite(v) and sel.best_step == 3 and set(sel.best_state) == set(G.state_dict())


def test_scorecard_round_trip(tmp_path):
    rows = [Row("KS p", paper="> 0.999", ours=np.float64(0.42), reference=0.5, notes="n = 10"),
            Row("speed", paper=68.3, ours=120, units="maps/s"), Row("nan value", ours=float("nan"))]
    path = write_scorecard(tmp_path / "sub" / "scorecard_p1_smoke.json", rows, meta=dict(profile="smoke"))
    meta, back = read_scorecard(path)
    assert meta == dict(profile="smoke")
    assert back[:2] == rows[:2] and isinstance(back[0].ours, float)
    assert back[2].ours == "nan"
    assert not list(path.parent.glob("*.tmp"))
    assert "| KS p | > 0.999 | 0.42 | 0.5 |" in format_table(back)


def test_collect_scorecards_orders_and_names_bad_files(tmp_path):
    from gancosmo.scorecard import collect_scorecards

    write_scorecard(tmp_path / "p2" / "scorecard_p2_gpu.json", [Row("a", ours=1.0)], meta=dict(paper="P2", profile="gpu"))
    write_scorecard(tmp_path / "p1" / "scorecard_p1_gpu.json", [Row("b", ours=2.0)], meta=dict(paper="P1", profile="gpu"))
    write_scorecard(tmp_path / "p1" / "scorecard_p1_cpu.json", [Row("c", ours=3.0)], meta=dict(paper="P1", profile="cpu"))
    found = collect_scorecards(tmp_path)
    assert [(m["paper"], m["profile"]) for _, m, _ in found] == [("P1", "cpu"), ("P1", "gpu"), ("P2", "gpu")]
    assert found[0][2][0].ours == 3.0
    (tmp_path / "p1" / "scorecard_p1_paper.json").write_text("{not json")
    with pytest.raises(ValueError, match="scorecard_p1_paper.json is not a readable scorecard"):
        collect_scorecards(tmp_path)


def test_save_chapter_results_writes_scorecard_and_figures(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gancosmo.scorecard import save_chapter_results

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_chapter_results(tmp_path / "new", "p9", "cpu", [Row("x", ours=1.0)], dict(paper="P9", profile="cpu"), {"fig1": fig})
    plt.close(fig)
    assert path == tmp_path / "new" / "scorecard_p9_cpu.json" and read_scorecard(path)[1][0].ours == 1.0
    png = tmp_path / "new" / "fig1_cpu.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in png.parent.iterdir()) == ["fig1_cpu.png", "scorecard_p9_cpu.json"]


def test_committed_scorecards_are_readable():
    from gancosmo.scorecard import collect_scorecards

    for path, meta, rows in collect_scorecards():
        assert rows and meta.get("paper") and meta.get("profile"), path


def test_split_disjoint_and_complete():
    for n in (3, 8, 256, 1001):
        parts = E.split_parents(n, seed=5)
        allidx = np.concatenate(list(parts.values()))
        assert len(allidx) == n and len(np.unique(allidx)) == n
        assert all(len(v) >= 1 for v in parts.values())
    with pytest.raises(ValueError):
        E.split_parents(2)


def test_tiles_follow_parents():
    maps = np.arange(3 * 8 * 8, dtype=np.float32).reshape(3, 8, 8)
    tiles = E.tile_maps(maps, 4)
    assert tiles.shape == (12, 4, 4)
    np.testing.assert_array_equal(tiles[0], maps[0, :4, :4])
    np.testing.assert_array_equal(tiles[5], maps[1, :4, 4:])
    data = E.prepare_data(np.random.default_rng(0).normal(size=(8, 8, 8)), np.zeros((2, 8, 8)), 4)
    sets = [set(map(bytes, getattr(data, k).reshape(len(getattr(data, k)), -1).view(np.uint8))) for k in ("training", "validation", "development")]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert data.side_deg == pytest.approx(E.FIELD_DEG / 2)


def test_slerp_endpoints_and_norms():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(2, 64, generator=g)
    path = E.slerp(z0, z1, np.linspace(0, 1, 9))
    torch.testing.assert_close(path[0], z0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(path[-1], z1, atol=1e-5, rtol=1e-5)
    # equal-norm endpoints stay on the sphere all along the path
    u0, u1 = z0 / z0.norm() * 8, z1 / z1.norm() * 8
    norms = E.slerp(u0, u1, np.linspace(0, 1, 9)).norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, 8.0), atol=1e-4, rtol=1e-4)
    # parallel vectors: linear
    torch.testing.assert_close(E.slerp(z0, 2 * z0, [0.5])[0], 1.5 * z0, atol=1e-5, rtol=1e-5)


def test_interpolate_and_generate_shapes():
    G, _ = cosmogan("smoke", seed=0)
    assert E.interpolate(G, n_rows=2, n_steps=3).shape == (2, 3, 64, 64)
    a, b = E.generate(G, 5, batch_size=2, seed=1), E.generate(G, 5, batch_size=2, seed=1)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 64, 64) and G.training


def test_pixel_ks_real_vs_real_not_rejected():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 0.01, (200, 16, 16)), rng.normal(0, 0.01, (200, 16, 16))
    assert E.pixel_comparison(a, b)["ks_p"] > 0.05
    assert E.pixel_comparison(a, b + 0.01)["ks_p"] < 1e-6


@pytest.mark.parametrize(
    "parameters, message",
    [
        (dict(profile="smoke", batch_size=0), "parameter 'batch_size' must be an integer with 1 <= value"),
        (dict(profile="smoke", loss="hinge"), "parameter 'loss' must be one of 'bce', 'wgan-gp'"),
        (dict(profile="smoke", label_flip=1.0), "parameter 'label_flip' must be a number with 0 <= value < 1"),
        (dict(profile="smoke", label_flip=-0.1), "parameter 'label_flip' must be a number"),
        (dict(profile="smoke", epochs=-1), "parameter 'epochs' must be a number with 0 <= value"),
        (dict(profile="smoke", loss="wgan-gp"), "parameter 'label_flip' applies to loss 'bce' only"),
        (dict(profile="smoke", intensity_scale=0.0), "parameter 'intensity_scale' must be a number with 0 < value"),
    ],
)
def test_chapter_bad_parameters_stop_in_validation_cell(parameters, message, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANCOSMO_CACHE", str(cache))
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(str(CHAPTER), str(tmp_path / "out.ipynb"), parameters=parameters, kernel_name="python3",
                                   cwd=str(CHAPTER.parent), progress_bar=False, log_output=False)
    assert "ParameterError" in error.value.ename and message in error.value.evalue
    assert not cache.exists() or not any(cache.rglob("*.h5")), "nothing may be generated before validation"


def test_birthday_paradox_recovers_a_small_support():
    rng = np.random.default_rng(0)
    atoms = rng.normal(size=(40, 16, 16)).astype(np.float32)
    draws = atoms[rng.integers(0, 40, 400)] + rng.normal(0, 1e-3, (400, 16, 16)).astype(np.float32)
    real = rng.normal(size=(200, 16, 16)).astype(np.float32)
    b = E.birthday_paradox(draws, real, pool=1, device="cpu")
    # 400 draws from 40 equally likely maps: about 400*399/80 = 1995 coinciding pairs
    assert b["support_estimate"] == pytest.approx(40, rel=0.15)
    assert b["support_lower_bound_95"] is None


def test_birthday_paradox_bound_for_distinct_maps():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(100, 16, 16)), rng.normal(size=(300, 16, 16))
    b = E.birthday_paradox(fake, real, pool=2, device="cpu")
    assert b["n_duplicate_pairs"] == 0 and b["support_estimate"] is None
    assert b["batch"] == 100 and b["pairs_examined"] == 3 * 100 * 99 // 2
    assert b["support_lower_bound_95"] == pytest.approx(3 * 100 * 99 / 6)
    assert b["closest_generated"] > 0


def test_pairwise_min_distances_matches_brute_force():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 8, 8))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum((2, 3)))
    np.fill_diagonal(d, np.inf)
    assert np.allclose(E.pairwise_min_distances(x, pool=1, chunk=7, device="cpu"), d.min(1))
    with pytest.raises(ValueError, match="at least 2 maps"):
        E.pairwise_min_distances(x[:1], pool=1)


def test_validation_halves_alternate_parents():
    maps = np.stack([np.full((8, 8), i, np.float32) for i in range(30)])
    data = E.prepare_data(maps, maps[:3], map_size=4, seed=0)
    a, b = data.validation_halves()
    parents = data.parents["validation"]
    assert len(a) + len(b) == len(data.validation)
    # tiles keep their parent: each block of 4 tiles carries one parent's value, alternating
    assert np.array_equal(a[::4, 0, 0], parents[0::2]) and np.array_equal(b[::4, 0, 0], parents[1::2])


def test_full_size_profiles_feed_the_maps_unnormalised_as_p1():
    """P1 used the maps as they are; only the short profiles may scale them (by a constant that keeps the tail inside tanh)."""
    assert E.PROFILES["gpu"]["intensity_scale"] == E.PROFILES["paper"]["intensity_scale"] == 1.0
    for name in ("smoke", "cpu"):
        assert 1.0 <= E.PROFILES[name]["intensity_scale"] <= 20.0
