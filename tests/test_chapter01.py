"""Chapter 01 (P1) as papermill runs it: the smoke run's schema-2 scorecard, bad parameters, the notebook's size."""

import json
from pathlib import Path

import jupytext
import papermill
import pytest
from gancosmo.evaluation import p1 as E
from gancosmo.scorecard import VERDICTS, find_row, read_scorecard

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "01_cosmogan.ipynb"


def _run(tmp_path, **parameters):
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(CHAPTER),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(CHAPTER.parent),
        progress_bar=False,
        log_output=False,
    )
    return out


def test_smoke_run_writes_a_schema2_scorecard_every_row_judged(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOSMO_CACHE", str(tmp_path / "cache"))
    results = tmp_path / "results"
    out = _run(tmp_path, profile="smoke", results_dir=str(results))
    meta, rows = read_scorecard(results / "scorecard_p1_smoke.json")
    assert json.loads((results / "scorecard_p1_smoke.json").read_text())["schema"] == 2
    for key in ("profile", "git_commit", "seeds", "n_splits", "resolved_max", "scored_max", "sizes", "timings"):
        assert key in meta, key
    assert meta["profile"] == "smoke" and meta["n_splits"] == 39 and meta["scored_max"] > meta["resolved_max"] > 0
    assert set(meta["timings"]) >= {"data_s", "training_s", "evaluation_s", "chapter_s"}
    keys = [r.key for r in rows]
    assert len(set(keys)) == len(keys) and set(E.ROW_SPECS) <= set(keys)
    for r in rows:
        assert r.verdict in VERDICTS, r.key
        if r.band is not None:  # the real-vs-real median lies inside its own band; the null is judged too
            assert r.band[0] <= r.reference <= r.band[1], r.key
            assert r.null_verdict in VERDICTS and r.n_real == r.n_fake == meta["sizes"]["n_per_side"], r.key
        else:
            assert r.verdict == "untestable" or r.notes.startswith("pass:"), r.key
    # the removed bootstrapped rows are gone; P1's form survives once, labelled
    assert "as in the paper" in find_row(rows, "cl_boot_ks_099").quantity
    assert not any(r.key.startswith(("ps_ad", "mf_ks_095")) for r in rows)
    assert sorted(p.name for p in results.glob("*.png")) == sorted(
        f"{name}_smoke.png"
        for name in (
            "training",
            "fig1_gallery",
            "fig2_pixels",
            "fig3_power",
            "fig4_correlations",
            "fig5_minkowski",
            "fig6_minkowski_distributions",
            "fig7_nearest",
            "fig8_interpolation",
        )
    )
    text = out.read_text()
    assert "The lognormal null passes" in text and "Traceback" not in text
    assert "targets met" in text
    # the trained generator is saved beside the scorecard and loads back as an emulator in kappa
    from gancosmo import emulators

    em = emulators.load("p1", path=results / "emulator_p1_smoke", device="cpu")
    assert em.sample(2, seed=0).shape == (2, 64, 64) and em.meta["profile"] == "smoke"
    assert em.meta["training"]["steps"] == meta["training"]["steps"]


def test_committed_generator_is_scored_on_fresh_maps(tmp_path, monkeypatch):
    """emulator='committed' loads the cpu-long generator and scores it (here on the smoke suite's maps)."""
    monkeypatch.setenv("GANCOSMO_CACHE", str(tmp_path / "cache"))
    results = tmp_path / "results"
    out = _run(tmp_path, profile="smoke", emulator="committed", results_dir=str(results))
    meta, rows = read_scorecard(results / "scorecard_p1_smoke.json")
    assert meta["training"]["emulator"] == "committed" and meta["training"]["source"]["profile"] == "cpu-long"
    assert not list(results.glob("emulator_*"))  # nothing re-saved
    text = out.read_text()
    assert "The saved generator of the cpu-long run" in text and "Traceback" not in text


@pytest.mark.parametrize(
    "parameters, message",
    [
        (dict(profile="smoke", batch_size=0), "parameter 'batch_size' must be an integer with 1 <= value"),
        (dict(profile="smoke", loss="wgan-gp"), "parameter 'label_flip' applies to loss 'bce' only"),
        (dict(profile="smoke", emulator="/nowhere/emulator_p1"), "parameter 'emulator' is '/nowhere/emulator_p1' but"),
    ],
)
def test_bad_parameters_stop_before_any_work(parameters, message, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANCOSMO_CACHE", str(cache))
    with pytest.raises(papermill.PapermillExecutionError) as error:
        _run(tmp_path, **parameters)
    assert "ParameterError" in error.value.ename and message in error.value.evalue
    assert not cache.exists() or not any(cache.rglob("*.h5")), "nothing may be generated before validation"


def test_notebook_is_calls_and_prose():
    """At most 150 code lines, no def, parameters validated by the config in the next cell."""
    nb = jupytext.read(ROOT / "notebooks" / "01_cosmogan.py")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    lines = [ln for src in code for ln in src.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert len(lines) <= 150, len(lines)
    assert not any(ln.lstrip().startswith(("def ", "class ", "lambda")) for ln in lines)
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    assert "P1Config.from_parameters(" in nb.cells[index + 1].source
