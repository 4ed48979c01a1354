"""Chapter 03 from the command line, as a reader runs it: papermill CLI with -p overrides, a schema-2 scorecard."""

import json
import re
from pathlib import Path

import pytest
from chapter_runs import notebook_text, run_chapter

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_3d_gan.ipynb"


def _papermill(tmp_path, *params):
    return run_chapter(NOTEBOOK, tmp_path, *params)


_outputs = notebook_text


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("p3smoke")
    results = tmp / "results"
    results.mkdir()
    proc, out = _papermill(tmp, ("profile", "smoke"), ("kappa", "45"), ("results_dir", str(results)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return results, out


def test_smoke_run_writes_a_schema2_scorecard(smoke_run):
    results, out = smoke_run
    payload = json.loads((results / "scorecard_p3_smoke.json").read_text())
    assert payload["schema"] == 2
    meta, rows = payload["meta"], payload["rows"]
    for key in (
        "profile",
        "git_commit",
        "seeds",
        "n_splits",
        "resolved_max",
        "scored_max",
        "sizes",
        "timings",
        "parents",
    ):
        assert key in meta, key
    assert meta["profile"] == "smoke" and meta["n_splits"] >= 20
    assert meta["scored_max"] >= 3.14  # P(k) rows go up to the Nyquist k of 1 Mpc/h cells
    assert 0 < meta["resolved_max"] < meta["scored_max"]
    assert set(meta["timings"]) >= {"data", "training", "evaluation", "total"}
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", r["key"])
        assert r["verdict"] in ("pass", "fail", "untestable"), r
        if r["band"] is not None:
            lo, hi = r["band"]
            assert lo <= r["reference"] <= hi, f"{r['key']}: real-vs-real median outside its own band"
            assert r["null_verdict"] in ("pass", "fail", "untestable"), r["key"]
            assert r["n_real"] == r["n_fake"] == meta["sizes"]["n"], r["key"]
            if r["key"].endswith(("_chi2_dof", "_abs_frac", "_reject", "_max_abs_diff")):
                assert lo == 0.0, f"{r['key']}: a distance has a one-sided band from 0"
    assert meta["stand_in"]["rows"] > 0 and 0 <= meta["stand_in"]["passed"] <= meta["stand_in"]["rows"]
    for key in (
        "student_t_pk_chi2_dof",
        "student_t_pk_res_chi2_dof",
        "student_t_pdf_ks_reject",
        "student_t_pdf_ad_reject",
        "student_t_bk_chi2_dof",
        "student_t_mean_density_bias",
        "student_t_pk_corr_max_abs_diff",
        "gaussian_pk_chi2_dof",
        "cgan_pk_z2_chi2_dof",
        "cgan_linear_ratio",
        "drs_acceptance",
        "g_parameters",
        "generation_voxels_per_s",
        "student_t_memorisation",
    ):
        assert key in keys, key
    g = next(r for r in rows if r["key"] == "g_parameters")
    assert g["ours"] == 4_393_920 and g["verdict"] == "pass"
    for name in ("fig7_power", "fig5_voxel_pdf", "fig11_bispectra", "fig12_redshift", "resolution"):
        assert (results / f"{name}_smoke.png").exists(), name
    # both trained generators are saved as emulators in rho / rho_bar, the conditional one taking z
    from gancosmo import emulators

    main = emulators.load("p3", path=results / "emulator_p3_smoke", device="cpu")
    cond = emulators.load("p3_z", path=results / "emulator_p3_z_smoke", device="cpu")
    assert main.sample(2, seed=0).shape == (2, 32, 32, 32) and (main.sample(2, seed=0) >= 0).all()
    assert cond.labels == ("z",) and cond.sample(2, seed=0, z=0.5).shape == (2, 32, 32, 32)
    assert main.meta["box_size"] == 32.0 and main.meta["from_suite"] == "same"


def test_summary_reads_its_numbers_from_the_scorecard(smoke_run):
    results, out = smoke_run
    rows = json.loads((results / "scorecard_p3_smoke.json").read_text())["rows"]
    text = _outputs(out)
    assert "4,393,920 parameters" in text
    n_pass = sum(r["verdict"] == "pass" for r in rows)
    n_fail = sum(r["verdict"] == "fail" for r in rows)
    assert f"{n_pass} of {len(rows)} rows pass, {n_fail} fail" in text
    null_pass = sum(r["null_verdict"] == "pass" for r in rows if r["band"] is not None)
    assert f"The lognormal null passes {null_pass} of" in text


@pytest.mark.parametrize(
    "name, value, message",
    [
        (
            "kappa",
            "-1",
            "parameter 'kappa' must be a number with 0 < value (or None: the smoke profile's value 45.0); got -1.",
        ),
        (
            "prior",
            "cauchy",
            "parameter 'prior' must be one of 'gaussian', 'student-t' (or None: the smoke profile's value "
            "'student-t'); got 'cauchy'.",
        ),
        ("nu", "0", "parameter 'nu' must be a number with 0 < value (or None: the smoke profile's value 10.0); got 0."),
        (
            "n_generate",
            "100",
            "parameter 'n_generate' is 100, but the 8 test boxes hold two box-disjoint sets of at most 4 "
            "sub-volumes; accepted is n_generate <= 4 (or None).",
        ),
    ],
)
def test_bad_value_stops_in_validation_cell(tmp_path, name, value, message):
    results = tmp_path / "results"
    proc, out = _papermill(tmp_path, ("profile", "smoke"), (name, value), ("results_dir", str(results)))
    assert proc.returncode != 0
    assert "ParameterError" in proc.stderr and message in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*")), (
        "nothing may be cached before validation"
    )
    assert not results.exists(), "nothing may be written before validation"
