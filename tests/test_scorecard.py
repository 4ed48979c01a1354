"""Scorecard schema 2 (gancosmo.scorecard) and the book's Scorecard page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gancosmo.scorecard import (
    Row,
    ScorecardTable,
    collect_scorecards,
    find_row,
    format_html,
    read_scorecard,
    write_scorecard,
)

ROOT = Path(__file__).resolve().parents[1]


def _rows():
    return [
        Row(
            "cl_chi2_dof",
            "C_ell chi2/dof",
            paper=None,
            ours=np.float64(1.3),
            reference=1.0,
            band=(0.5, 1.8),
            null=4.0,
            null_verdict="fail",
            verdict="pass",
            n_real=64,
            n_fake=64,
            notes="39 splits",
        ),
        Row(
            "speed",
            "Generation speed",
            paper=68.3,
            ours=120,
            units="maps/s",
            verdict="pass",
            notes="criterion: >= paper",
        ),
        Row("nan_value", "A NaN", ours=float("nan"), band=None, verdict="fail"),
    ]


def test_round_trip_keeps_every_field(tmp_path):
    path = write_scorecard(
        tmp_path / "sub" / "scorecard_p1_smoke.json", _rows(), meta=dict(profile="smoke", n_splits=39)
    )
    meta, back = read_scorecard(path)
    assert meta == dict(profile="smoke", n_splits=39)
    first = find_row(back, "cl_chi2_dof")
    assert first.band == [0.5, 1.8] and first.null_verdict == "fail" and first.n_real == 64 and first.ours == 1.3
    assert np.isnan(find_row(back, "nan_value").ours)
    assert json.loads(path.read_text())["schema"] == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(key="Bad Key", quantity="x"), "snake_case"),
        (dict(key="k", quantity=""), "quantity"),
        (dict(key="k", quantity="x", verdict="ok"), "verdict must be one of pass, fail, untestable"),
        (dict(key="k", quantity="x", band=(2, 1)), "lo <= hi"),
        (dict(key="k", quantity="x", band="wide"), "band must be a pair"),
        (dict(key="k", quantity="x", ours=[1, 2]), "ours must be a number"),
    ],
)
def test_bad_rows_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Row(**kwargs)


def test_duplicate_keys_and_old_schema_are_refused(tmp_path):
    with pytest.raises(ValueError, match="share the key"):
        write_scorecard(tmp_path / "s.json", [Row("a", "x"), Row("a", "y")])
    old = tmp_path / "old" / "scorecard_p1_cpu.json"
    old.parent.mkdir()
    old.write_text(json.dumps(dict(schema=1, meta={}, rows=[])))
    with pytest.raises(ValueError, match="schema 1"):
        read_scorecard(old)
    with pytest.raises(ValueError, match="not a readable scorecard"):
        collect_scorecards(tmp_path / "old")
    with pytest.raises(KeyError, match="no row with key 'zz'"):
        find_row(_rows(), "zz")


def test_html_table_has_one_row_per_key_and_verdict_classes():
    html = format_html(_rows(), caption="P1")
    assert html.count('<tr id="row-') == 3 and "<caption>P1</caption>" in html
    assert 'class="verdict-pass"' in html and 'class="verdict-fail"' in html
    assert "[0.5, 1.8]" in html
    assert ScorecardTable(_rows())._repr_html_() == format_html(_rows())


def test_committed_scorecards_are_schema_2_with_verdicts_and_consistent_bands():
    found = collect_scorecards()
    for path, meta, rows in found:
        assert meta.get("profile") and meta.get("n_splits", 0) >= 20, path
        for key in ("git_commit", "seeds", "resolved_max", "scored_max"):
            assert key in meta, (path, key)
        for r in rows:
            assert r.verdict in ("pass", "fail", "untestable"), (path, r.key)
            if r.band is not None and isinstance(r.reference, float) and np.isfinite(r.reference):
                assert r.band[0] <= r.reference <= r.band[1], (path, r.key)


@pytest.fixture(scope="module")
def scorecard_page(tmp_path_factory):
    """book/scorecard.md converted by jupytext and executed as the book does; return the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb_path = tmp_path_factory.mktemp("scorecard_page") / "scorecard.ipynb"
    jupytext = Path(sys.executable).with_name("jupytext")
    subprocess.run(
        [str(jupytext), "--quiet", "--to", "ipynb", "-o", str(nb_path), str(ROOT / "book" / "scorecard.md")], check=True
    )
    nb = nbformat.read(nb_path, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=300).execute()
    return nb


def _outputs(nb, mime: str) -> str:
    """The ``mime`` data of every output of ``nb``'s code cells, joined in order."""
    return "".join(o.get("data", {}).get(mime, "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_scorecard_page_renders_tables(scorecard_page):
    """Execute book/scorecard.md as the book does: every committed scorecard becomes an HTML table."""
    html, text = _outputs(scorecard_page, "text/html"), _outputs(scorecard_page, "text/markdown")
    found = collect_scorecards()
    assert html.count('<table class="scorecard">') == len(found)
    assert "shared/" not in text and "shared/" not in html
    for _, _, rows in found:
        for r in rows:
            assert f'id="row-{r.key}"' in html


def test_scorecard_page_states_each_run_and_marks_older_code(scorecard_page):
    """Every table of the page says its commit, profile and seeds; those from changed chapter code carry the warning."""
    from gancosmo.scorecard import provenance_sentence, stale_results

    text = _outputs(scorecard_page, "text/markdown")
    found = collect_scorecards()
    stale = dict(stale_results())
    n_stale = sum(path in stale for path, _, _ in found)
    if found:
        share = "All" if n_stale == len(found) else f"{n_stale} of the"
        expected = (
            f"{share} {len(found)} scorecards below come from older chapter code."
            if n_stale
            else f"All {len(found)} scorecards below come from the chapters' current code."
        )
        assert expected in text
    assert text.count("from older chapter code\n") == n_stale
    assert text.count("Warning: this chapter's code has changed since that run") == n_stale
    for path, meta, _ in found:
        sentence = provenance_sentence(meta, stale=path in stale, profile=meta["profile"], subject="These committed")
        assert sentence in text, path
        assert f"commit {meta['git_commit'][:10]}" in sentence and f"profile {meta['profile']}" in sentence


def test_scorecard_page_names_the_training_run_of_every_card_that_scores_committed_networks(scorecard_page):
    """A card whose run loaded committed networks (P1: ``training.source``, P4: ``emulator``) names their run."""
    text = _outputs(scorecard_page, "text/markdown")
    checked = 0
    for _, meta, _ in collect_scorecards():
        source = (meta.get("training") or {}).get("source") or meta.get("emulator")
        if not isinstance(source, dict):
            continue
        checked += 1
        expected = (
            f"it scores the generator trained by the {source['profile']} run (seed {source['seed']}, "
            f"commit {str(source['git_commit'])[:10]})"
        )
        assert expected in text, meta.get("paper")
    assert checked >= 2  # at least P1's and P4's cpu cards score committed networks
