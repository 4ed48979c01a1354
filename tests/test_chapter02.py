"""Chapter 02 end to end at `smoke`: a schema-2 scorecard where every row has a verdict and every band holds its
own real-vs-real median, the meta the protocol asks for, the authors'-code options, and parameters refused before
any work."""

import json
import math
from pathlib import Path

import papermill
import pytest
from gancosmo import emulators
from gancosmo.scorecard import read_scorecard

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "02_conditional_massmaps.ipynb"


def _run(tmp_path, **parameters):
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(CHAPTER),
        str(out),
        kernel_name="python3",
        cwd=str(CHAPTER.parent),
        progress_bar=False,
        log_output=False,
        parameters=parameters,
    )
    return out.read_text()


def test_smoke_run_writes_a_protocol_scorecard_with_the_code_options(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOSMO_CACHE", str(tmp_path / "cache"))
    results = tmp_path / "results"
    text = _run(
        tmp_path, profile="smoke", conditioning="code", gp_form="code", fid_formula="frechet", results_dir=str(results)
    )
    assert (
        "conditioning 'code' with lengths [0.80, 8.00]" in text
    )  # the code's lengths: [0.1 sqrt(64), sqrt(64)] per block
    meta, rows = read_scorecard(results / "scorecard_p2_smoke.json")
    for key in ("profile", "git_commit", "seeds", "n_splits", "resolved_max", "scored_max", "sizes", "timings"):
        assert key in meta, key
    assert meta["profile"] == "smoke" and meta["n_splits"] == 39 and meta["sizes"]["parent"] == "map"
    assert (meta["config"]["conditioning"], meta["config"]["gp_form"], meta["config"]["fid_formula"]) == (
        "code",
        "code",
        "frechet",
    )
    assert set(meta["timings"]) >= {"data_seconds", "train_seconds", "evaluation_seconds", "chapter_seconds"}
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys))
    for model in "abcd":
        for stem in (
            "w1_pixel",
            "w1_peak",
            "f_r",
            "s_ssim",
            "fid_sqrt",
            "cl_mean_abs_frac",
            "cl_chi2_dof",
            "cl_ks_reject",
            "cl_ad_reject",
            "bl_mean_abs_frac",
            "bl_chi2_dof",
        ):
            assert f"{stem}_{model}" in keys
        assert f"cl_mean_abs_frac_{model}_nearest_training" in keys
    assert {"regressor_test_mse", "memorisation_nn_ratio", "grid_f_r_test", "grid_w1_pixel_train"} <= set(keys)
    for r in rows:
        assert r.verdict in ("pass", "fail", "untestable"), r.key
        if r.band is not None:
            lo, hi = r.band
            assert lo <= r.reference <= hi, (r.key, r.reference, r.band)  # the real-vs-real median lies in its own band
            assert r.null is not None and r.null_verdict is not None, r.key  # the null goes through every banded row
            assert r.n_real == r.n_fake, r.key  # equal N on both sides
        else:
            assert r.key in ("regressor_test_mse", "memorisation_nn_ratio") or r.key.startswith("target_"), r.key
            assert "verdict: pass when" in r.notes, r.key  # rows without a band state their criterion
    assert math.isfinite(next(r for r in rows if r.key == "regressor_test_mse").ours)
    pngs = {p.name for p in results.glob("*.png")}
    assert {"fig6_power_smoke.png", "fig10_grid_smoke.png", "training_smoke.png"} <= pngs
    # the trained generator is saved as an emulator that samples the chapter's maps in kappa, by label name
    assert {"target_cl_test_cosmologies", "target_beats_nearest_training"} <= set(keys)
    em = emulators.load("p2", path=results / "emulator_p2_smoke", device="cpu")
    assert em.labels == ("omega_m", "sigma8") and em.meta["profile"] == "smoke" and em.meta["suite"] == "p2"
    assert em.meta["training"]["steps"] == meta["train_steps"]
    maps = em.sample(3, seed=1, omega_m=0.3, sigma8=0.8)
    assert maps.shape == (3, meta["map_size"], meta["map_size"])


@pytest.mark.parametrize(
    "parameters, message",
    [
        (dict(profile="smoke", n_eval=99), "parameter 'n_eval' must be at most 3"),
        (dict(profile="smoke", widht=3), "unknown parameter 'widht'"),
        (dict(profile="smoke", epochs=-1.0), "parameter 'epochs' must be"),
    ],
)
def test_bad_parameters_stop_before_any_data(parameters, message, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANCOSMO_CACHE", str(cache))
    with pytest.raises(papermill.PapermillExecutionError) as error:
        _run(tmp_path, **parameters)
    assert "ParameterError" in error.value.ename and message in error.value.evalue
    assert not cache.exists() or not any(cache.rglob("*.h5")), "nothing may be generated before validation"


def test_committed_cpu_scorecard_follows_the_protocol():
    path = ROOT / "results" / "p2" / "scorecard_p2_cpu.json"
    assert path.exists(), "the cpu scorecard of chapter 02 must be committed under results/p2"
    payload = json.loads(path.read_text())
    assert payload["schema"] == 2
    meta, rows = read_scorecard(path)
    assert meta["profile"] == "cpu"
    t = meta["timings"]
    assert t["evaluation_seconds"] <= t["chapter_seconds"] / 3, (
        "the evaluation must take at most a third of the cpu run"
    )
    for r in rows:
        assert r.verdict in ("pass", "fail", "untestable")
        if r.band is not None:
            assert r.band[0] <= r.reference <= r.band[1], r.key
