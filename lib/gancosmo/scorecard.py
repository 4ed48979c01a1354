"""Scorecard rows (schema 2): a paper's headline number beside ours, a real-vs-real band and a null field.

A row (:class:`Row`) has a stable snake_case ``key`` that tests and the book use to find it,
the ``quantity`` in words, the paper's value (a number or the paper's own words), ``ours``
(the emulator against real test set A), the ``reference`` (median of the same metric over
random parent-level real-vs-real splits at the emulator's sample size), the ``band`` (the
95% interval of those splits), the ``null`` field's value and verdict, the row's ``verdict``
(``pass``, ``fail`` or ``untestable``, see :mod:`gancosmo.evaluation.protocol`), units,
sample sizes and notes. A scorecard file holds ``schema``, ``meta`` (profile, git commit,
seeds, ``n_splits``, ``resolved_max``, ``scored_max``, sizes, timings) and ``rows``; it is
written atomically (temp file + rename) and read back as :class:`Row` objects.

Example
-------
>>> rows = [Row("pixel_ks_p", "KS p-value, pixel intensities", paper="> 0.999", ours=0.41, reference=0.37,
...             band=(0.02, 0.97), verdict="pass")]
>>> write_scorecard("scorecard_p1_cpu.json", rows, meta={"profile": "cpu"})   # doctest: +SKIP
>>> meta, back = read_scorecard("scorecard_p1_cpu.json")                      # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .io import atomic_write_text

__all__ = [
    "Row",
    "write_scorecard",
    "read_scorecard",
    "format_table",
    "collect_scorecards",
    "save_chapter_results",
    "SCHEMA_VERSION",
    "VERDICTS",
    "find_row",
    "format_html",
    "ScorecardTable",
]

SCHEMA_VERSION = 2
VERDICTS = ("pass", "fail", "untestable")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def _number_or_text(name: str, v):
    if v is None or isinstance(v, (int, float, str)) and not isinstance(v, bool):
        return v
    try:  # numpy scalars become plain Python numbers
        return float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, a string or None, got {type(v).__name__}.") from None


@dataclass
class Row:
    """One headline number.

    Parameters
    ----------
    key : str
        Stable snake_case identifier (``"cl_chi2_dof"``), unique within a scorecard.
    quantity : str
        What is measured, in words.
    paper : float, str or None
        The paper's value (a string keeps the paper's own form, e.g. ``"> 0.999"``).
    ours : float, str or None
        Our emulator's value (against real test set A).
    reference : float, str or None
        Median of the same measurement over the real-vs-real splits.
    band : (float, float) or None
        95% interval of the real-vs-real values; None where no band applies.
    null : float or None
        The lognormal null field's value.
    null_verdict, verdict : str or None
        ``pass``, ``fail`` or ``untestable``.
    units : str
        Units (``""`` for dimensionless numbers).
    n_real, n_fake : int or None
        Real and emulated samples on each side of the comparison.
    notes : str
        How it was measured, caveats.
    """

    key: str
    quantity: str
    paper: Any = None
    ours: Any = None
    reference: Any = None
    band: Any = None
    null: Any = None
    null_verdict: str | None = None
    verdict: str | None = None
    units: str = ""
    n_real: int | None = None
    n_fake: int | None = None
    notes: str = ""

    def __post_init__(self):
        if not isinstance(self.key, str) or not _KEY.match(self.key):
            raise ValueError(f"key must be a snake_case identifier (lower-case letters, digits, _), got {self.key!r}.")
        if not isinstance(self.quantity, str) or not self.quantity:
            raise ValueError(f"quantity must be a non-empty string, got {self.quantity!r}.")
        for name in ("paper", "ours", "reference", "null"):
            setattr(self, name, _number_or_text(name, getattr(self, name)))
        if self.band is not None:
            try:
                lo, hi = (float(b) for b in self.band)
            except (TypeError, ValueError):
                raise ValueError(f"band must be a pair (lo, hi) of numbers or None, got {self.band!r}.") from None
            if not lo <= hi:
                raise ValueError(f"band must have lo <= hi, got {self.band!r}.")
            self.band = [lo, hi]
        for name in ("verdict", "null_verdict"):
            v = getattr(self, name)
            if v is not None and v not in VERDICTS:
                raise ValueError(f"{name} must be one of {', '.join(VERDICTS)} or None, got {v!r}.")
        for name in ("n_real", "n_fake"):
            v = getattr(self, name)
            if v is not None:
                setattr(self, name, int(v))


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def _check_keys(rows: list[Row]) -> None:
    seen = set()
    for r in rows:
        if r.key in seen:
            raise ValueError(f"two rows share the key {r.key!r}; accepted are unique keys within a scorecard.")
        seen.add(r.key)


def write_scorecard(path: str | Path, rows: Iterable[Row], meta: dict | None = None) -> Path:
    """Write ``rows`` (and run metadata ``meta``) to ``path`` as JSON, atomically."""
    rows = list(rows)
    _check_keys(rows)
    payload = dict(
        schema=SCHEMA_VERSION, meta=meta or {}, rows=[{k: _jsonable(v) for k, v in asdict(r).items()} for r in rows]
    )
    return atomic_write_text(json.dumps(payload, indent=1, default=_default), path)


def _default(v):
    if hasattr(v, "tolist"):
        return v.tolist()
    return float(v)


def _number(v):
    """Non-finite numbers were written as strings ("nan", "inf"): read them back as floats."""
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    return v


def read_scorecard(path: str | Path) -> tuple[dict, list[Row]]:
    """Read a scorecard written by :func:`write_scorecard`: ``(meta, rows)``."""
    payload = json.loads(Path(path).read_text())
    if payload.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"{path} has scorecard schema {payload.get('schema')!r}; this version reads {SCHEMA_VERSION}.")
    rows = []
    for r in payload["rows"]:
        r = dict(r)
        for k in ("ours", "reference", "null"):
            r[k] = _number(r.get(k))
        rows.append(Row(**r))
    return payload.get("meta", {}), rows


def find_row(rows: Iterable[Row], key: str) -> Row:
    """The row with ``key``; a KeyError naming the keys present otherwise."""
    rows = list(rows)
    for r in rows:
        if r.key == key:
            return r
    raise KeyError(f"no row with key {key!r}; the scorecard has {', '.join(r.key for r in rows)}.")


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e6):
        return f"{int(v)}"
    return f"{v:.3g}"


def _fmt_band(band) -> str:
    return "-" if band is None else f"[{_fmt(band[0])}, {_fmt(band[1])}]"


_COLUMNS = (
    "Quantity",
    "Paper",
    "Ours",
    "Real vs real (median)",
    "Band (95%)",
    "Verdict",
    "Null",
    "Null verdict",
    "Units",
    "N real / GAN",
    "Notes",
)


def _cells(r: Row) -> list[str]:
    n = "-" if r.n_real is None else f"{r.n_real} / {'-' if r.n_fake is None else r.n_fake}"
    return [
        r.quantity,
        _fmt(r.paper),
        _fmt(r.ours),
        _fmt(r.reference),
        _fmt_band(r.band),
        r.verdict or "-",
        _fmt(r.null),
        r.null_verdict or "-",
        r.units,
        n,
        r.notes,
    ]


def format_table(rows: Iterable[Row]) -> str:
    """A Markdown table of the rows (verdicts, bands and the null field included)."""
    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in _cells(r)) + " |")
    return "\n".join(lines)


def format_html(rows: Iterable[Row], caption: str | None = None) -> str:
    """An HTML table of the rows; each verdict cell carries the class ``verdict-pass|fail|untestable``."""
    from html import escape

    out = ['<table class="scorecard">']
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in _COLUMNS) + "</tr></thead><tbody>")
    for r in rows:
        cells = _cells(r)
        tds = []
        for name, text in zip(_COLUMNS, cells):
            cls = ""
            if name in ("Verdict", "Null verdict") and text != "-":
                cls = f' class="verdict-{text}"'
            tds.append(f"<td{cls}>{escape(text)}</td>")
        out.append(f'<tr id="row-{escape(r.key)}">' + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class ScorecardTable:
    """Rows that display as an HTML table in Jupyter and the HTML book, and as Markdown elsewhere."""

    def __init__(self, rows: Iterable[Row], caption: str | None = None):
        self.rows, self.caption = list(rows), caption

    def _repr_html_(self) -> str:
        return format_html(self.rows, self.caption)

    def _repr_markdown_(self) -> str:
        return format_table(self.rows)

    def __repr__(self) -> str:
        return format_table(self.rows)


def collect_scorecards(root: str | Path | None = None) -> list[tuple[Path, dict, list[Row]]]:
    """Every ``scorecard_*.json`` under ``root`` (default: the committed ``results/``), read.

    Returns ``(path, meta, rows)`` sorted by paper, then profile (smoke, cpu, cpu-long, gpu, paper),
    then file name. A file that cannot be read raises a :class:`ValueError` naming it.
    """
    from .paths import committed_results

    root = Path(root) if root is not None else committed_results()
    order = {"smoke": 0, "cpu": 1, "cpu-long": 2, "gpu": 3, "paper": 4}
    found = []
    for path in sorted(root.rglob("scorecard_*.json")):
        try:
            meta, rows = read_scorecard(path)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"{path} is not a readable scorecard ({error}); rewrite it with write_scorecard."
            ) from error
        found.append((path, meta, rows))
    found.sort(key=lambda t: (str(t[1].get("paper", "")), order.get(t[1].get("profile"), 9), t[0].name))
    return found


def save_chapter_results(
    results_dir: str | Path, paper: str, profile: str, rows: Iterable[Row], meta: dict, figures: dict, dpi: int = 90
) -> Path:
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
