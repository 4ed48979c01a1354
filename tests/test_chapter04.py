"""Chapter 04 (P4): the chapter end to end at smoke through papermill, its parameters, its data and pipeline steps."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from gancosmo.data.augment import apply_octahedral3d
from gancosmo.evaluation import p4 as E
from gancosmo.models import multiscale3d as ms
from gancosmo.models import patches3d as pt
from gancosmo.params import ParameterError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_scalable_3d.ipynb"
PAPERMILL = Path(sys.executable).with_name("papermill")


def _papermill(tmp_path, *params):
    out = tmp_path / "out.ipynb"
    env = {
        "GANCOSMO_CACHE": str(tmp_path / "cache"),
        "MPLBACKEND": "Agg",
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
    }
    args = [str(PAPERMILL), str(NOTEBOOK), str(out), "--cwd", str(NOTEBOOK.parent), "--no-progress-bar"]
    for name, value in params:
        args += ["-p", name, value]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600), out


def _outputs(path: Path) -> str:
    nb = json.loads(path.read_text())
    text = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            text.append("".join(o.get("text", "")))
            for key in ("text/markdown", "text/plain"):
                text.append("".join(o.get("data", {}).get(key, "")))
    return "\n".join(text)


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
            assert r["n_real"] == r["n_fake"] == meta["sizes"]["n_half"], r["key"]
    for name in ("pipeline", "borders_only", "independent", "m3_stage", "m2_stage", "m1_stage"):
        for stat in ("psd", "mass_hist", "peak_hist"):
            assert f"{name}_{stat}_d2" in keys
    for name in ("pipeline", "borders_only", "independent", "m1_stage", "m2_stage"):
        assert f"{name}_seam_ratio_1" in keys
    for stat in ("psd", "mass_hist", "peak_hist"):
        assert f"p4_target_d2_within_5x_{stat}" in keys and f"p4_target_beats_ablations_{stat}" in keys
    assert "p4_target_no_seam_excess" in keys and "pipeline_memorisation" in keys
    for name in (
        "training",
        "fig5_7_9_stage_slices",
        "fig6_8_10_stage_statistics",
        "fig11_pipeline_slices",
        "fig12_pipeline_statistics",
    ):
        assert (results / f"{name}_smoke.png").exists(), name
    em = E.load_pipeline(results / "emulator_p4_smoke", device="cpu")
    cubes = em.sample(2, seed=0)
    assert cubes.shape == (2, 32, 32, 32) and (cubes >= 0).all()
    np.testing.assert_array_equal(cubes, em.sample(2, seed=0))
    assert em.meta["suite"] == "p4" and em.meta["box_size"] == pytest.approx(62.5)


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
