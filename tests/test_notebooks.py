"""Chapters: jupytext pairs in sync, a validated parameters cell, smoke execution, book build."""

import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import papermill
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.py"))


def _cells(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_pair_in_sync_and_output_free(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{source.name} has no paired {ipynb.name}; run `make notebooks`"
    from_py = jupytext.read(source)
    committed = nbformat.read(ipynb, as_version=4)
    assert _cells(from_py) == _cells(committed), f"{ipynb.name} is out of sync with {source.name}; run `make notebooks`"
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{ipynb.name} has outputs committed"


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_one_parameters_cell_with_profile(source):
    nb = jupytext.read(source)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert 'profile: str = "auto"' in tagged[0].source
    index = nb.cells.index(tagged[0])
    after = nb.cells[index + 1].source
    assert ".from_parameters(" in after or "validate(" in after, "the cell after the parameters must validate them"
    markdown = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("## Overview", "## Prerequisites", "## Summary", "## What to read next"):
        assert heading in markdown


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_papermill_sees_every_parameter(source):
    """`papermill --help-notebook` lists each parameter (a comment it cannot parse hides one)."""
    import ast

    nb = jupytext.read(source)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    body = ast.parse(cell.source).body
    names = {t.id for node in body if isinstance(node, ast.Assign) for t in node.targets}
    names |= {node.target.id for node in body if isinstance(node, ast.AnnAssign)}
    inferred = papermill.inspect_notebook(str(source.with_suffix(".ipynb")))
    assert names == set(inferred), f"papermill cannot read: {sorted(names - set(inferred))}"
    untyped = sorted(name for name, p in inferred.items() if p["inferred_type_name"] == "None")
    assert not untyped, f"papermill --help-notebook shows no type for {untyped}; annotate them (`seed: int = None`)"


def _run(notebook: Path, tmp_path: Path, **parameters):
    return papermill.execute_notebook(
        str(notebook),
        str(tmp_path / f"{notebook.stem}-out.ipynb"),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(notebook.parent),
        progress_bar=False,
        log_output=False,
    )


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_with_smoke_profile(source, tmp_path):
    _run(source.with_suffix(".ipynb"), tmp_path, profile="smoke")


@pytest.mark.parametrize(
    "parameters, message",
    [
        (dict(profile="huge"), "parameter 'profile' must be one of 'auto', 'smoke', 'cpu', 'cpu-long', 'gpu', 'paper'"),
        (dict(seed=-1), "parameter 'seed' must be an integer with 0 <= value"),
        (dict(sead=1), "unknown parameter 'sead'"),
        (dict(profile="smoke", n_steps=2.5), "parameter 'n_steps' must be an integer"),
        (dict(profile="smoke", data_source="web"), "parameter 'data_source' must be one of 'simulated', 'published'"),
    ],
)
def test_bad_parameters_stop_in_validation_cell(parameters, message, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANCOSMO_CACHE", str(cache))
    with pytest.raises(papermill.PapermillExecutionError) as error:
        _run(ROOT / "notebooks" / "00_simulations.ipynb", tmp_path, **parameters)
    assert "ParameterError" in error.value.ename and message in error.value.evalue
    assert not cache.exists() or not any(cache.rglob("*.h5")), "nothing may be generated before validation"


def test_book_builds(tmp_path):
    """The jupyter-book configuration and table of contents build (execution off for speed)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [
            str(jb),
            "build",
            str(ROOT),
            "--config",
            str(tmp_path / "_config.yml"),
            "--path-output",
            str(tmp_path / "out"),
            "-W",
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = tmp_path / "out" / "_build" / "html"
    for page in (
        "book/intro.html",
        "notebooks/00_simulations.html",
        "notebooks/00_statistics.html",
        "notebooks/01_cosmogan.html",
        "notebooks/02_conditional_massmaps.html",
        "notebooks/03_3d_gan.html",
        "notebooks/04_scalable_3d.html",
        "notebooks/05_gan_autoencoder.html",
        "book/scorecard.html",
        "book/references.html",
    ):
        assert (html / page).exists(), page
