"""Scorecard rows: a paper's headline number beside ours and a real-vs-real reference.

A row says what was measured (``quantity``), the paper's value (a number or the paper's own
words), our value, the same measurement made between two disjoint sets of real maps
(``reference``: how well a perfect emulator could do with our sample sizes), the units and
notes. Rows are written as JSON (atomically: temp file + rename) and read back as
:class:`Row` objects.

Example
-------
>>> rows = [Row("KS p-value, pixel intensities", paper="> 0.999", ours=0.41, reference=0.37)]
>>> write_scorecard("scorecard_p1_cpu.json", rows, meta={"profile": "cpu"})   # doctest: +SKIP
>>> meta, back = read_scorecard("scorecard_p1_cpu.json")                      # doctest: +SKIP
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from .io import atomic_write_text

__all__ = ["Row", "write_scorecard", "read_scorecard", "format_table", "collect_scorecards", "save_chapter_results",
           "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


@dataclass
class Row:
    """One headline number.

    Parameters
    ----------
    quantity : str
        What is measured, in words.
    paper : float, str or None
        The paper's value (a string keeps the paper's own form, e.g. ``"> 0.999"``).
    ours : float, str or None
        Our value.
    reference : float, str or None
        The same measurement between two disjoint sets of real maps.
    units : str
        Units (``""`` for dimensionless numbers).
    notes : str
        Sample sizes, caveats.
    """

    quantity: str
    paper: Any = None
    ours: Any = None
    reference: Any = None
    units: str = ""
    notes: str = ""

    def __post_init__(self):
        if not isinstance(self.quantity, str) or not self.quantity:
            raise ValueError(f"quantity must be a non-empty string, got {self.quantity!r}.")
        for name in ("paper", "ours", "reference"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, (int, float, str)):
                # numpy scalars become plain Python numbers
                try:
                    setattr(self, name, float(v))
                except (TypeError, ValueError):
                    raise ValueError(f"{name} must be a number, a string or None, got {type(v).__name__}.") from None


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def write_scorecard(path: str | Path, rows: Iterable[Row], meta: dict | None = None) -> Path:
    """Write ``rows`` (and run metadata ``meta``) to ``path`` as JSON, atomically."""
    payload = dict(schema=SCHEMA_VERSION, meta=meta or {},
                   rows=[{k: _jsonable(v) for k, v in asdict(r).items()} for r in rows])
    return atomic_write_text(json.dumps(payload, indent=1, default=float), path)


def read_scorecard(path: str | Path) -> tuple[dict, list[Row]]:
    """Read a scorecard written by :func:`write_scorecard`: ``(meta, rows)``."""
    payload = json.loads(Path(path).read_text())
    if payload.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"{path} has scorecard schema {payload.get('schema')!r}; this version reads {SCHEMA_VERSION}.")
    return payload.get("meta", {}), [Row(**r) for r in payload["rows"]]


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e6):
        return f"{int(v)}"
    return f"{v:.3g}"


def format_table(rows: Iterable[Row]) -> str:
    """A Markdown table of the rows (for ``IPython.display.Markdown``)."""
    lines = ["| Quantity | Paper | Ours | Real vs real | Units | Notes |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.quantity} | {_fmt(r.paper)} | {_fmt(r.ours)} | {_fmt(r.reference)} | {r.units} | {r.notes} |")
    return "\n".join(lines)


def collect_scorecards(root: str | Path | None = None) -> list[tuple[Path, dict, list[Row]]]:
    """Every ``scorecard_*.json`` under ``root`` (default: the committed ``results/``), read.

    Returns ``(path, meta, rows)`` sorted by paper, then profile (smoke, cpu, gpu, paper),
    then file name. A file that cannot be read raises a :class:`ValueError` naming it.
    """
    from .paths import committed_results

    root = Path(root) if root is not None else committed_results()
    order = {"smoke": 0, "cpu": 1, "gpu": 2, "paper": 3}
    found = []
    for path in sorted(root.rglob("scorecard_*.json")):
        try:
            meta, rows = read_scorecard(path)
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not a readable scorecard ({error}); rewrite it with write_scorecard.") from error
        found.append((path, meta, rows))
    found.sort(key=lambda t: (str(t[1].get("paper", "")), order.get(t[1].get("profile"), 9), t[0].name))
    return found


def save_chapter_results(results_dir: str | Path, paper: str, profile: str, rows: Iterable[Row], meta: dict,
                         figures: dict, dpi: int = 90) -> Path:
    """Write a chapter's ``scorecard_{paper}_{profile}.json`` and its figures ``{name}_{profile}.png``.

    Parameters
    ----------
    results_dir : path
        Folder (created when missing), e.g. ``results/p1``.
    paper : str
        Short key of the paper (``"p1"``).
    figures : dict
        ``name -> matplotlib Figure``.

    Returns
    -------
    Path
        The scorecard file. The figures are written through a temporary file and renamed,
        like the scorecard, so an interrupted run leaves no half-written image.
    """
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = write_scorecard(out / f"scorecard_{paper}_{profile}.json", list(rows), meta)
    for name, figure in figures.items():
        target = out / f"{name}_{profile}.png"
        tmp = target.with_name(target.name + ".tmp")
        figure.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
        tmp.replace(target)
    print(f"wrote {path.name} and {len(figures)} figures to {out}")
    return path
