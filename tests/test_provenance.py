"""Provenance of committed results (gancosmo.scorecard): code and config hashes, stale results, page sentences."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from gancosmo import scorecard as sc
from gancosmo.evaluation.p1 import P1Config
from gancosmo.scorecard import (
    CHAPTER_CODE,
    Row,
    code_hash,
    config_hash,
    provenance_text,
    read_scorecard,
    save_chapter_results,
    stale_results,
    write_scorecard,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ("simulations", "p1", "p2", "p3", "p4", "p5")
NOTEBOOKS = {
    "simulations": "notebooks/00_simulations.py",
    "p1": "notebooks/01_cosmogan.py",
    "p2": "notebooks/02_conditional_massmaps.py",
    "p3": "notebooks/03_3d_gan.py",
    "p4": "notebooks/04_scalable_3d.py",
    "p5": "notebooks/05_gan_autoencoder.py",
}
WARNING = "Warning: this chapter's code has changed since that run"


def _copy_chapter_code(paper: str, target: Path) -> Path:
    """A repository subset under ``target`` holding exactly the files of ``CHAPTER_CODE[paper]``."""
    for relative in CHAPTER_CODE[paper]:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, destination)
    return target


def _rows():
    return [Row("pixel_ks_p", "KS p-value, pixels", ours=0.4, reference=0.5, band=(0.1, 0.9), verdict="pass")]


def _meta(paper: str, **extra) -> dict:
    return dict(paper=paper.upper(), profile="cpu", git_commit="0123456789abcdef" * 2 + "01234567", seeds=[3], **extra)


@pytest.mark.parametrize("paper", CHAPTERS)
def test_chapter_code_lists_existing_files_with_the_chapter_notebook(paper):
    files = CHAPTER_CODE[paper]
    assert NOTEBOOKS[paper] in files
    assert len(files) == len(set(files)) and list(files) == sorted(files)
    for relative in files:
        assert "*" not in relative and (ROOT / relative).is_file(), relative
    for shared in ("lib/gancosmo/sims/pm.py", "lib/gancosmo/sims/lensing.py", "lib/gancosmo/stats/power.py"):
        assert shared in files
    if paper != "simulations":
        for module in (f"evaluation/{paper}.py", "train/loop.py", "train/losses.py", "evaluation/protocol.py"):
            assert f"lib/gancosmo/{module}" in files
    other_notebooks = set(NOTEBOOKS.values()) - {NOTEBOOKS[paper]}
    assert not other_notebooks & set(files)


def test_code_hash_is_sha256_of_paths_and_contents():
    digest = hashlib.sha256()
    for relative in sorted(CHAPTER_CODE["p1"]):
        content = (ROOT / relative).read_bytes().replace(b"\r\n", b"\n")
        digest.update(f"{relative}\n{len(content)}\n".encode())
        digest.update(content)
    assert code_hash("p1") == digest.hexdigest()
    assert len({code_hash(p) for p in CHAPTERS}) == len(CHAPTERS)


def test_code_hash_changes_with_a_listed_file_only(tmp_path):
    copy = _copy_chapter_code("p3", tmp_path / "repo")
    before = code_hash("p3", root=copy)
    assert before == code_hash("p3")  # relative paths and contents only: same on any checkout

    (copy / "lib/gancosmo/stats/chapter.py").parent.mkdir(parents=True, exist_ok=True)
    (copy / "lib/gancosmo/stats/chapter.py").write_text("# not part of chapter 03's code\n")
    (copy / "notebooks/01_cosmogan.py").write_text("# another chapter\n")
    assert code_hash("p3", root=copy) == before

    model = copy / "lib/gancosmo/models/dcgan3d.py"
    original = model.read_bytes()
    model.write_bytes(original.replace(b"\n", b"\r\n"))  # CRLF line ends are the same code
    assert code_hash("p3", root=copy) == before

    model.write_bytes(original + b"\n# one more line\n")
    changed = code_hash("p3", root=copy)
    assert changed != before
    model.write_bytes(original)
    assert code_hash("p3", root=copy) == before

    notebook = copy / "notebooks/03_3d_gan.py"
    notebook.write_bytes(notebook.read_bytes().replace(b"kappa", b"kapa", 1))
    assert code_hash("p3", root=copy) not in (before, changed)


def test_code_hash_refuses_an_unknown_paper_and_names_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="paper must be one of p1, p2, p3, p4, p5, simulations, got 'p9'"):
        code_hash("p9")
    copy = _copy_chapter_code("p2", tmp_path / "repo")
    (copy / "lib/gancosmo/models/regressor.py").unlink()
    with pytest.raises(FileNotFoundError, match="lib/gancosmo/models/regressor.py, part of the code of chapter 'p2'"):
        code_hash("p2", root=copy)
    assert sc.chapter_provenance("p2", root=copy) == dict(code_hash=None)


def test_config_hash_is_canonical_json_of_the_config():
    cpu = P1Config.PROFILES["cpu"]
    expected = hashlib.sha256(
        json.dumps(dataclasses.asdict(cpu), sort_keys=True, default=str, separators=(",", ":")).encode()
    ).hexdigest()
    assert config_hash(cpu) == expected
    assert config_hash(cpu) == config_hash(dataclasses.asdict(cpu))
    assert config_hash(cpu) == config_hash(dataclasses.replace(cpu))
    assert config_hash(dataclasses.replace(cpu, epochs=cpu.epochs + 1)) != config_hash(cpu)
    assert config_hash(P1Config.PROFILES["smoke"]) != config_hash(cpu)
    with pytest.raises(TypeError, match="config must be a dataclass instance or a mapping, got int"):
        config_hash(3)


def test_save_chapter_results_records_code_and_config_hash(tmp_path):
    cfg = P1Config.PROFILES["smoke"]
    meta = _meta("p1")
    path = save_chapter_results(tmp_path / "p1", "p1", "cpu", _rows(), meta, figures={}, config=cfg)
    written, rows = read_scorecard(path)
    assert written["code_hash"] == code_hash("p1") and written["config_hash"] == config_hash(cfg)
    assert written["git_commit"] == meta["git_commit"] and rows[0].key == "pixel_ks_p"
    assert "code_hash" not in meta  # the caller's dict is left as it was

    no_commit = {k: v for k, v in meta.items() if k != "git_commit"}
    again = save_chapter_results(tmp_path / "p1b", "p1", "cpu", _rows(), no_commit, figures={})
    written, _ = read_scorecard(again)
    assert written["code_hash"] == code_hash("p1") and "config_hash" not in written
    assert written["git_commit"] == sc.git_commit() and re.fullmatch(r"[0-9a-f]{40}", written["git_commit"])


def test_stale_results_flags_missing_and_wrong_code_hash_only(tmp_path):
    results = tmp_path / "results"
    current = write_scorecard(results / "p1" / "scorecard_p1_cpu.json", _rows(), _meta("p1", code_hash=code_hash("p1")))
    wrong = write_scorecard(results / "p2" / "scorecard_p2_cpu.json", _rows(), _meta("p2", code_hash="0" * 64))
    missing = write_scorecard(results / "p3" / "scorecard_p3_cpu.json", _rows(), _meta("p3"))
    other = write_scorecard(results / "p3" / "scorecard_p3_gpu.json", _rows(), _meta("p3", code_hash=code_hash("p1")))
    (results / "simulations").mkdir()
    validation = results / "simulations" / "validation_gpu.json"
    validation.write_text(json.dumps(dict(profile="gpu", seed=0, code_hash=code_hash("simulations"))))
    old_validation = results / "simulations" / "suites_cpu.json"
    old_validation.write_text(json.dumps(dict(profile="cpu", suites=[])))
    (results / "simulations" / "pm_speed_gpu.json").write_text(json.dumps(dict(device="cuda")))  # not a chapter result

    stale = dict(stale_results(results))
    assert set(stale) == {wrong, missing, other, old_validation}
    assert stale[wrong] == "produced by older chapter code (commit 0123456789): the chapter's code has changed since"
    assert stale[missing] == (
        "produced by older chapter code (commit 0123456789), recorded before code hashes were kept"
    )
    assert stale[old_validation].startswith("produced by older chapter code (commit not recorded)")
    assert current not in stale and validation not in stale


def test_stale_results_against_changed_code(tmp_path):
    results = tmp_path / "results"
    card = write_scorecard(results / "p2" / "scorecard_p2_cpu.json", _rows(), _meta("p2", code_hash=code_hash("p2")))
    copy = _copy_chapter_code("p2", tmp_path / "repo")
    assert stale_results(results, code_root=copy) == []
    loss = copy / "lib/gancosmo/train/losses.py"
    loss.write_text(loss.read_text() + "\n# changed\n")
    assert [path for path, _ in stale_results(results, code_root=copy)] == [card]


def test_provenance_text_names_the_run_and_warns_when_stale(tmp_path):
    results = tmp_path / "results"
    meta = _meta("p1", code_hash=code_hash("p1"), training=dict(steps=1920))
    write_scorecard(results / "p1" / "scorecard_p1_cpu.json", _rows(), meta)
    text = provenance_text("p1", "cpu", root=results)
    assert text == (
        "This page's committed cpu results come from commit 0123456789, profile cpu, seed 3, 1920 training steps."
    )

    write_scorecard(results / "p1" / "scorecard_p1_cpu.json", _rows(), {**meta, "code_hash": "f" * 64})
    stale = provenance_text("p1", "cpu", root=results)
    assert stale.startswith(text + " ") and WARNING in stale and "re-run" in stale
    run = sc.provenance_sentence(meta, subject="This run's")
    assert run == "This run's cpu results come from commit 0123456789, profile cpu, seed 3, 1920 training steps."

    seeds = dict(split=0, networks=1)
    write_scorecard(results / "p3" / "scorecard_p3_gpu.json", _rows(), dict(profile="gpu", seeds=seeds))
    text = provenance_text("p3", "gpu", root=results)
    assert text == (
        "This page's committed gpu results come from an unrecorded commit, profile gpu, seeds split 0, networks 1. "
        "Warning: this chapter's code has changed since that run, so these numbers may differ from what a re-run gives."
    )
    absent = provenance_text("p2", "paper", root=results)
    assert absent == "No paper results of this chapter are stored with the book yet."
    assert "/" not in text and "json" not in text and "scorecard" not in text  # reader's words, no file names


def test_list_stale_committed_results():
    """Print every committed result whose chapter code has changed since it was made (``pytest -s`` shows them)."""
    stale = stale_results()
    print(f"\n{len(stale)} committed results come from older chapter code:")
    for path, reason in stale:
        print(f"  {path.relative_to(ROOT)}: {reason}")
        assert path.is_file(), path
        assert reason.startswith("produced by") and "chapter code" in reason
    committed = sorted(ROOT.glob("results/*/scorecard_*.json"))
    without_hash = [p for p in committed if "code_hash" not in json.loads(p.read_text())["meta"]]
    assert set(without_hash) <= {path for path, _ in stale}
