"""Chapter 03 from the command line, as a reader runs it: papermill CLI with -p overrides."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_3d_gan.ipynb"
PAPERMILL = Path(sys.executable).with_name("papermill")


def _papermill(tmp_path, *params):
    out = tmp_path / "out.ipynb"
    env = {"GANCOSMO_CACHE": str(tmp_path / "cache"), "MPLBACKEND": "Agg", "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "HOME": str(tmp_path)}
    args = [str(PAPERMILL), str(NOTEBOOK), str(out), "--cwd", str(NOTEBOOK.parent), "--no-progress-bar"]
    for name, value in params:
        args += ["-p", name, value]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300), out


def test_smoke_run_with_kappa_override(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    proc, out = _papermill(tmp_path, ("profile", "smoke"), ("kappa", "45"), ("results_dir", str(results)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert "4,393,920 parameters" in text
    assert (results / "scorecard_p3_smoke.json").exists()
    assert (results / "fig7_power_smoke.png").exists()


@pytest.mark.parametrize("name, value, message", [
    ("kappa", "-1", "parameter 'kappa' must be a number with 0 < value; got -1."),
    ("prior", "cauchy", "parameter 'prior' must be one of 'gaussian', 'student-t'; got 'cauchy'."),
    ("nu", "0", "parameter 'nu' must be a number with 0 < value; got 0."),
])
def test_bad_value_stops_in_validation_cell(tmp_path, name, value, message):
    results = tmp_path / "results"
    proc, out = _papermill(tmp_path, ("profile", "smoke"), (name, value), ("results_dir", str(results)))
    assert proc.returncode != 0
    assert "ParameterError" in proc.stderr and message in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*")), "nothing may be cached before validation"
    assert not results.exists(), "nothing may be written before validation"
