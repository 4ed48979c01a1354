"""Chapter 04 (P4): the chapter end to end at smoke through papermill, its parameters, its data and pipeline steps."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from chapter_runs import notebook_text, run_chapter
from gancosmo import emulators
from gancosmo.data.augment import apply_octahedral3d
from gancosmo.evaluation import p4 as E
from gancosmo.models import multiscale3d as ms
from gancosmo.models import patches3d as pt
from gancosmo.params import ParameterError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_scalable_3d.ipynb"


def _papermill(tmp_path, *params):
    return run_chapter(NOTEBOOK, tmp_path, *params, threads=1)


_outputs = notebook_text


# ---------------------------------------------------------------------------------------------- the chapter
@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("p4smoke")
    results = tmp / "results"
    results.mkdir()
    proc, out = _papermill(tmp, ("profile", "smoke"), ("results_dir", str(results)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return results, out


def test_smoke_run_writes_a_schema2_scorecard_figures_and_the_pipeline(smoke_run):
    results, out = smoke_run
    payload = json.loads((results / "scorecard_p4_smoke.json").read_text())
    assert payload["schema"] == 2
    meta, rows = payload["meta"], payload["rows"]
    for key in ("profile", "git_commit", "seeds", "n_splits", "scored_max", "sizes", "timings", "parents", "reduced"):
        assert key in meta, key
    assert meta["profile"] == "smoke" and meta["n_splits"] >= 20 and meta["code_hash"]
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", r["key"])
        assert r["verdict"] in ("pass", "fail", "untestable"), r
        if r["band"] is not None:
            lo, hi = r["band"]
            assert lo == 0.0 and lo <= r["reference"] <= hi, r["key"]  # d^2 and seam ratios: one-sided bands
            per_side = 24 * meta["sizes"]["n_half"] if r["key"].startswith("table2_") else meta["sizes"]["n_half"]
            assert r["n_real"] == r["n_fake"] == per_side, r["key"]  # Table 2: 24 slices of each cube
    for name in ("pipeline", "borders_only", "independent", "m3_stage", "m2_stage", "m1_stage"):
        for stat in ("psd", "mass_hist", "peak_hist"):
            assert f"{name}_{stat}_d2" in keys
    for name in ("pipeline", "borders_only", "independent", "m1_stage", "m2_stage"):
        assert f"{name}_seam_ratio_1" in keys
    for stat in ("psd", "mass_hist", "peak_hist"):
        assert f"p4_target_d2_within_5x_{stat}" in keys and f"p4_target_beats_ablations_{stat}" in keys
    assert "p4_target_no_seam_excess" in keys and "pipeline_memorisation" in keys
    for stat in ("psd", "mass_hist", "peak_hist"):
        row = next(r for r in rows if r["key"] == f"table2_32_{stat}_d2")
        assert row["paper"] == pytest.approx(1 / {"psd": 9.24, "mass_hist": 7.44, "peak_hist": 3.25}[stat])
        assert row["n_real"] == row["n_fake"] == 48  # 4 test cubes x 24 slices, half on each side
    for name in (
        "training",
        "fig5_7_9_stage_slices",
        "fig6_8_10_stage_statistics",
        "fig11_pipeline_slices",
        "fig12_pipeline_statistics",
        "table2_2d_images",
        "table2_2d_statistics",
    ):
        assert (results / f"{name}_smoke.png").exists(), name
    em = emulators.load("p4", device="cpu", path=results / "emulator_p4_smoke")
    cubes = em.sample(2, seed=0)
    assert cubes.shape == (2, 32, 32, 32) and (cubes >= 0).all()
    np.testing.assert_array_equal(cubes, em.sample(2, seed=0))
    np.testing.assert_array_equal(cubes, E.load_pipeline(results / "emulator_p4_smoke", device="cpu").sample(2, 0))
    assert em.meta["suite"] == "p4" and em.meta["box_size"] == pytest.approx(62.5) and em.labels == ()
    assert em.meta["training_seconds"] > 0


def test_saved_run_holds_every_network_with_its_training_record(smoke_run):
    results, _ = smoke_run
    cfg = E.P4Config.from_parameters(profile="smoke")
    models, meta = E.load_stage_models(results / "emulator_p4_smoke", device="cpu", stages=cfg.stages)
    assert list(models) == [*E.STAGES, "t2_32"] == list(cfg.stages) and meta["profile"] == "smoke"
    for stage, m in models.items():
        assert m.args == E.stage_args(cfg, stage) and m.steps == meta["training"][stage]["steps"] >= 1
        assert m.history and not m.G.training
    # the pipeline emulators.load rebuilds is made of exactly the saved M3, M2 and M1
    em = emulators.load("p4", device="cpu", path=results / "emulator_p4_smoke")
    for part, stage in ((em.generator.first, "m3"), (em.generator.stages[0], "m2"), (em.generator.stages[1], "m1")):
        for (k, a), (k2, b) in zip(part.state_dict().items(), models[stage].G.state_dict().items()):
            assert k == k2 and torch.equal(a, b)


def test_a_saved_run_of_other_widths_is_refused_before_any_work(smoke_run):
    results, _ = smoke_run
    stem = str(results / "emulator_p4_smoke")
    with pytest.raises(ParameterError, match="its networks were built for other scales or widths than profile 'cpu'"):
        E.P4Config.from_parameters(profile="cpu", emulator=stem)
    with pytest.raises(ParameterError, match="emulator_p4_nowhere.safetensors is missing"):
        E.P4Config.from_parameters(profile="smoke", emulator=str(results / "emulator_p4_nowhere"))
    assert E.P4Config.from_parameters(profile="smoke", emulator=stem).emulator_path == stem


def test_chapter_scores_a_saved_run_without_training(smoke_run, tmp_path):
    saved, _ = smoke_run
    results = tmp_path / "scored"
    stem = str(saved / "emulator_p4_smoke")
    proc, out = _papermill(tmp_path, ("profile", "smoke"), ("emulator", stem), ("results_dir", str(results)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((results / "scorecard_p4_smoke.json").read_text())["meta"]
    assert meta["timings"]["training"] == 0 and meta["emulator"]["profile"] == "smoke"
    assert not (results / "emulator_p4_smoke.json").exists()  # it saves no networks it did not train
    assert "It trained nothing: the networks are those of the smoke run" in _outputs(out)


def test_networks_trained_side_by_side_equal_those_trained_one_after_another(monkeypatch):
    cfg = E.P4Config.from_parameters(profile="smoke", ablations=False)
    counts = np.random.default_rng(0).poisson(8.0, size=(8, 32, 32, 32)).astype(np.float32)
    split = dict(train=np.arange(4), test=np.arange(4, 8))
    data = E.P4Data(counts, np.arange(8), split, cfg.voxel_size, "simulated")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the workers get one thread each: the sequential run must use one too
    try:
        one, _ = E.train_stages(cfg, data, "cpu", progress=False)
        two, seconds = E.train_stages(E.P4Config.from_parameters(profile="smoke", ablations=False, workers=2), data)
    finally:
        torch.set_num_threads(threads)
    assert list(two) == list(one) == ["m3", "m2", "m1", "t2_32"] and seconds > 0
    for stage in one:
        assert one[stage].history == two[stage].history
        for a, b in zip(one[stage].G.state_dict().values(), two[stage].G.state_dict().values()):
            assert torch.equal(a, b), stage


def test_summary_reads_its_numbers_from_the_scorecard(smoke_run):
    results, out = smoke_run
    rows = json.loads((results / "scorecard_p4_smoke.json").read_text())["rows"]
    text = _outputs(out)
    n_pass = sum(r["verdict"] == "pass" for r in rows)
    n_fail = sum(r["verdict"] == "fail" for r in rows)
    assert f"{n_pass} of {len(rows)} rows pass, {n_fail} fail" in text
    targets = [r for r in rows if r["key"].startswith("p4_target_")]
    assert f"{sum(r['verdict'] == 'pass' for r in targets)} of {len(targets)} targets met" in text


def test_bad_value_stops_in_validation_cell(tmp_path):
    results = tmp_path / "results"
    proc, _ = _papermill(tmp_path, ("profile", "smoke"), ("source", "web"), ("results_dir", str(results)))
    assert proc.returncode != 0
    message = "parameter 'source' must be one of 'simulated', 'published'"
    assert "ParameterError" in proc.stderr and message in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*"))
    assert not results.exists()


# ---------------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(sead=1), "unknown parameter 'sead'"),
        (dict(lr=-1.0), "parameter 'lr' must be a number with 0 < value <= 1"),
        (dict(n_augment=0), "parameter 'n_augment' must be an integer with 1 <= value"),
        (dict(patch_m1=12), "parameter 'patch_m1' is 12; accepted is a multiple of 8."),
        (dict(voxels=64), "parameter 'voxels' is 64, but low_side 8 x factor_m2 2 x factor_m1 2 = 32"),
        (dict(factor_m1=4, low_side=8, voxels=64), "accepted is 4 x voxels = 256 (P4's 64 particles per voxel"),
        (dict(patch_m2=16), "parameter 'patch_m2' is 16; accepted is a divisor of the stage's side 16 of at most 8"),
        (dict(n_cubes=6), "give 3 test and 3 training cubes; accepted are at least 4 test cubes"),
        (
            dict(batch_size=64),
            "parameter 'batch_size' (64) exceeds the 32 training cubes M3 sees, so not one full batch exists; "
            "accepted is at most 32.",
        ),
    ],
)
def test_bad_parameters_are_refused_with_one_sentence(overrides, message):
    profile = "cpu" if "factor_m1" in overrides or "batch_size" in overrides else "smoke"
    with pytest.raises(ParameterError) as error:
        E.P4Config.from_parameters(profile=profile, **overrides)
    assert message in str(error.value) and str(error.value).endswith(".")


def test_every_profile_is_consistent():
    for name, cfg in E.P4Config.PROFILES.items():
        assert cfg.sides[-1] == cfg.voxels, name
        assert name == "smoke" or cfg.n_particles == 4 * cfg.voxels, name  # 64 particles per voxel
    paper = E.P4Config.PROFILES["paper"]
    assert (paper.voxels, paper.low_side, paper.factor_m2, paper.factor_m1, paper.patch_m1) == (256, 32, 2, 4, 32)
    assert (paper.lr, paper.batch_size, paper.critic_steps, paper.gp_weight) == (3e-5, 8, 5, 10.0)
    assert "P4's scales" in paper.reduced() and "P4's widths" in paper.reduced()


# ---------------------------------------------------------------------------------------------- data and pipeline
def test_augmentation_keeps_the_first_copy_and_only_rolls_and_turns():
    cubes = torch.arange(2 * 4**3, dtype=torch.float32).reshape(2, 4, 4, 4)
    out = E.augment_cubes(cubes, 3, seed=0)
    assert out.shape == (6, 4, 4, 4)
    torch.testing.assert_close(out[0], cubes[0])
    torch.testing.assert_close(out[3], cubes[1])
    for i in (1, 2):  # each copy is a roll then one of the 48 symmetries of the original
        found = False
        for a in range(4):
            for b in range(4):
                for c in range(4):
                    rolled = torch.roll(cubes[0], (a, b, c), dims=(0, 1, 2))[None, None].expand(48, 1, 4, 4, 4)
                    turned = apply_octahedral3d(rolled, torch.arange(48))[:, 0]
                    found |= bool((turned == out[i]).all(dim=(1, 2, 3)).any())
        assert found, i
    torch.testing.assert_close(E.augment_cubes(cubes, 3, seed=0), out)


def test_pyramid_is_mean_pooling_of_the_transformed_cubes():
    y = torch.rand(2, 16, 16, 16, generator=torch.Generator().manual_seed(0))
    low, mid, full = E.pyramid(y, factor_m2=2, factor_m1=4)
    assert low.shape == (2, 2, 2, 2) and mid.shape == (2, 4, 4, 4)
    torch.testing.assert_close(mid[0, 1, 2, 3], y[0, 4:8, 8:12, 12:16].mean())
    torch.testing.assert_close(low[1, 0, 1, 1], y[1, :8, 8:, 8:].mean())
    torch.testing.assert_close(full, y)


class _Echo(torch.nn.Module):
    """A patch generator whose patch is constant, the first entry of its latent."""

    def __init__(self, patch, latent_dim, borders=True, low_res=True):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(()))
        self.patch, self.latent_dim, self.borders, self.low_res = patch, latent_dim, borders, low_res
        self.cond_channels = pt.conditioning_channels(borders, low_res)

    def forward(self, z, y):
        return (z[:, :1] * self.weight)[:, :, None, None, None].expand(-1, 1, self.patch, self.patch, self.patch)


def test_pipeline_takes_one_latent_per_patch_in_raster_order():
    G3, _ = ms.m3_gan(width=2, side=8, latent_dim=4, seed=0)
    net = E.P4Pipeline(G3, [(_Echo(8, 3), 2)])
    n_patches = (16 // 8) ** 3
    assert net.latent_dim == 4 + n_patches * 3 and net.sides == [8, 16]
    z = torch.randn(2, net.latent_dim, generator=torch.Generator().manual_seed(1))
    low, high = net.scales(z)
    patch_latents = z[:, 4:].reshape(2, n_patches, 3)
    for t, (i, j, k) in enumerate(pt.grid_positions(2)):
        expected = patch_latents[:, t, 0].clamp_min(0)
        torch.testing.assert_close(high[:, i * 8, j * 8, k * 8], expected)
    torch.testing.assert_close(low, G3(z[:, :4])[:, 0].clamp_min(0))
    assert net(z).shape == (2, 1, 16, 16, 16)


def test_single_scale_pipeline_has_no_lower_scale():
    net = E.P4Pipeline(None, [(_Echo(8, 2, low_res=False), 1)], side=16)
    assert net.sides == [16] and net.latent_dim == 8 * 2
    assert net.scales(torch.ones(3, net.latent_dim))[0].shape == (3, 16, 16, 16)
    with pytest.raises(ValueError, match="one patch stage without low-res input"):
        E.P4Pipeline(None, [(_Echo(8, 2), 2)], side=16)


def test_image_slices_take_every_fourth_slice_of_each_axis_cut_into_tiles():
    cube = np.arange(8**3, dtype=np.float32).reshape(1, 8, 8, 8)
    images, parents = E.image_slices(np.concatenate([cube, cube + 1000]), side=4, spacing=4)
    # per cube: 2 slices x 3 axes = 6 planes of 8^2, each cut into 4 tiles of 4^2
    assert images.shape == (48, 4, 4) and list(parents) == [0] * 24 + [1] * 24
    c = cube[0]
    np.testing.assert_array_equal(images[0], c[0, :4, :4])  # axis 0, slice 0, first tile
    np.testing.assert_array_equal(images[3], c[0, 4:, 4:])  # its last tile
    np.testing.assert_array_equal(images[4], c[4, :4, :4])  # axis 0, slice 4
    np.testing.assert_array_equal(images[8], c[:4, 0, :4])  # axis 1, slice 0
    np.testing.assert_array_equal(images[21], c[:4, 4:, 4])  # axis 2, slice 4, second tile
    np.testing.assert_array_equal(images[24], c[0, :4, :4] + 1000)
    tensor, _ = E.image_slices(torch.from_numpy(cube), side=4, spacing=4)
    np.testing.assert_array_equal(tensor.numpy(), images[:24])
    with pytest.raises(ValueError, match="side 3 does not divide the cubes' side 8"):
        E.image_slices(cube, side=3)
