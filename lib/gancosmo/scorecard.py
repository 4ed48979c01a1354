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

Provenance: :data:`CHAPTER_CODE` lists, per chapter, the repository files whose content
determines its results; :func:`code_hash` hashes them and :func:`config_hash` hashes a
chapter's configuration. :func:`save_chapter_results` records both in ``meta`` beside the
commit, :func:`stale_results` lists the committed results whose chapter code has changed
since, and :func:`provenance_text` says in one sentence (plus a warning when stale) which run
a page's committed numbers come from.

Example
-------
>>> rows = [Row("pixel_ks_p", "KS p-value, pixel intensities", paper="> 0.999", ours=0.41, reference=0.37,
...             band=(0.02, 0.97), verdict="pass")]
>>> write_scorecard("scorecard_p1_cpu.json", rows, meta={"profile": "cpu"})   # doctest: +SKIP
>>> meta, back = read_scorecard("scorecard_p1_cpu.json")                      # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
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
    "combine_seeds",
    "combine_seed_files",
    "format_html",
    "ScorecardTable",
    "CHAPTER_CODE",
    "code_hash",
    "config_hash",
    "chapter_provenance",
    "git_commit",
    "committed_result_path",
    "stale_results",
    "provenance_sentence",
    "provenance_text",
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
    per_seed : dict or None
        A row combined over training seeds (:func:`combine_seeds`): ``{seed: {"ours", "reference",
        "band", "null", "verdict", "null_verdict"}}``; ``ours`` etc. are then the medians.
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
    per_seed: Any = None

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


def _median(values):
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if len(nums) != len(values):
        return values[0]  # text, None or NaN in some seed: the first seed's value stands
    nums = sorted(nums)
    mid = len(nums) // 2
    return nums[mid] if len(nums) % 2 else 0.5 * (nums[mid - 1] + nums[mid])


def _combined_verdict(verdicts):
    if any(v is None for v in verdicts):
        return None
    if all(v == "pass" for v in verdicts):
        return "pass"
    return "fail" if "fail" in verdicts else "untestable"


def combine_seeds(runs: Mapping[int, tuple[dict, list[Row]]]) -> tuple[dict, list[Row]]:
    """One scorecard from runs of one chapter that differ only in their seed.

    Each row's ``ours``, ``reference``, band ends and ``null`` are the medians over the seeds
    (with two seeds, their means), ``per_seed`` keeps every seed's own values, and the verdict
    is ``pass`` only when every seed passes (``fail`` when any fails, else ``untestable``):
    a claim holds when it does not depend on the seed. ``meta`` is the first seed's, with
    ``seeds_combined`` and, per seed, its commit, training and timings (``per_seed``).

    Raises
    ------
    ValueError
        When the runs hold different row keys or profiles, or fewer than two seeds are given.
    """
    if len(runs) < 2:
        raise ValueError(f"combine_seeds needs runs of at least two seeds, got {len(runs)}.")
    seeds = sorted(runs)
    metas = {s: runs[s][0] for s in seeds}
    keys = {s: [r.key for r in runs[s][1]] for s in seeds}
    first = seeds[0]
    for s in seeds[1:]:
        if keys[s] != keys[first]:
            raise ValueError(
                f"the runs of seeds {first} and {s} hold different rows; accepted are runs of one chapter."
            )
        if metas[s].get("profile") != metas[first].get("profile"):
            raise ValueError(f"the runs of seeds {first} and {s} have different profiles; accepted is one profile.")
    combined = []
    for i, base in enumerate(runs[first][1]):
        rows = {s: runs[s][1][i] for s in seeds}
        per = {
            str(s): dict(
                ours=r.ours,
                reference=r.reference,
                band=r.band,
                null=r.null,
                verdict=r.verdict,
                null_verdict=r.null_verdict,
            )
            for s, r in rows.items()
        }
        bands = [r.band for r in rows.values()]
        band = (
            None if any(b is None for b in bands) else [_median([b[0] for b in bands]), _median([b[1] for b in bands])]
        )
        combined.append(
            dataclasses.replace(
                base,
                ours=_median([r.ours for r in rows.values()]),
                reference=_median([r.reference for r in rows.values()]),
                band=band,
                null=_median([r.null for r in rows.values()]),
                verdict=_combined_verdict([r.verdict for r in rows.values()]),
                null_verdict=_combined_verdict([r.null_verdict for r in rows.values()]),
                per_seed=per,
            )
        )
    meta = dict(metas[first])
    meta["seeds_combined"] = seeds
    meta["per_seed"] = {
        str(s): {k: metas[s].get(k) for k in ("git_commit", "seeds", "training", "timings", "code_hash")} for s in seeds
    }
    return meta, combined


def _training_seed(meta: Mapping) -> int:
    """The run's seed: ``config["seed"]``, else ``seeds["training"]`` (a dict of seeds), else the only entry of a
    list ``seeds``; -1 where none is recorded."""
    config, seeds = meta.get("config") or {}, meta.get("seeds")
    if "seed" in config:
        return int(config["seed"])
    if isinstance(seeds, Mapping) and "training" in seeds:
        return int(seeds["training"])
    if isinstance(seeds, (list, tuple)) and len(seeds) == 1:
        return int(seeds[0])
    return -1


def combine_seed_files(paths: Iterable[str | Path], out: str | Path) -> Path:
    """Read the scorecards at ``paths`` (one chapter and profile, one seed each: ``meta["config"]["seed"]``),
    combine them with :func:`combine_seeds` and write the result to ``out`` (which may be one of them)."""
    runs = {}
    for path in paths:
        meta, rows = read_scorecard(path)
        seed = _training_seed(meta)
        if seed in runs:
            raise ValueError(f"{path} repeats seed {seed}; accepted are runs of different seeds.")
        runs[seed] = (meta, rows)
    meta, rows = combine_seeds(runs)
    return write_scorecard(out, rows, meta)


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
    ours = _fmt(r.ours)
    if r.per_seed:
        ours += " (seeds " + ", ".join(f"{s}: {_fmt(v.get('ours'))}" for s, v in r.per_seed.items()) + ")"
    return [
        r.quantity,
        _fmt(r.paper),
        ours,
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
    results_dir: str | Path,
    paper: str,
    profile: str,
    rows: Iterable[Row],
    meta: dict,
    figures: dict,
    dpi: int = 90,
    config=None,
) -> Path:
    """Write a chapter's ``scorecard_{paper}_{profile}.json`` and its figures ``{name}_{profile}.png``.

    Parameters
    ----------
    results_dir : path
        Folder (created when missing), e.g. ``results/p1``.
    paper : str
        Short key of the paper (``"p1"``), a key of :data:`CHAPTER_CODE`.
    meta : dict
        The run's metadata (profile, ``git_commit``, seeds, ...). It is written with
        ``code_hash`` (:func:`code_hash` of ``paper``; None where the chapter's code files are
        not all present), ``config_hash`` when ``config`` is given, and ``git_commit``
        (:func:`git_commit`) when ``meta`` has none; the caller's dict is not changed.
    figures : dict
        ``name -> matplotlib Figure``.
    config : dataclass instance or mapping, optional
        The chapter's configuration (e.g. ``P1Config``), hashed by :func:`config_hash`.

    Returns
    -------
    Path
        The scorecard file. The figures are written through a temporary file and renamed,
        like the scorecard, so an interrupted run leaves no half-written image.
    """
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"git_commit": git_commit(), **meta, **chapter_provenance(paper, config)}
    path = write_scorecard(out / f"scorecard_{paper}_{profile}.json", list(rows), meta)
    for name, figure in figures.items():
        target = out / f"{name}_{profile}.png"
        tmp = target.with_name(target.name + ".tmp")
        figure.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
        tmp.replace(target)
    print(f"wrote {path.name} and {len(figures)} figures to {out}")
    return path


# -------------------------------------------------------------------------- provenance
_NOTEBOOK = {
    "simulations": "notebooks/00_simulations.py",
    "p1": "notebooks/01_cosmogan.py",
    "p2": "notebooks/02_conditional_massmaps.py",
    "p3": "notebooks/03_3d_gan.py",
    "p4": "notebooks/04_scalable_3d.py",
    "p5": "notebooks/05_gan_autoencoder.py",
}

# The simulated data every chapter trains and scores on: cosmology (P_lin, growth, distances,
# n(z)), initial conditions, particle mesh, lensing and the named suites built from them.
_DATA_CODE = (
    "lib/gancosmo/cosmology.py",
    "lib/gancosmo/sims/initial_conditions.py",
    "lib/gancosmo/sims/lensing.py",
    "lib/gancosmo/sims/mesh.py",
    "lib/gancosmo/sims/pm.py",
    "lib/gancosmo/sims/suites.py",
)

# Every statistic of the package (chapters call them through ``gancosmo.stats`` and the
# protocol; ``stats/chapter.py`` drives the statistics chapter only and is left out).
_STATS_CODE = (
    "lib/gancosmo/stats/_utils.py",
    "lib/gancosmo/stats/bispectrum.py",
    "lib/gancosmo/stats/bispectrum3d.py",
    "lib/gancosmo/stats/compare.py",
    "lib/gancosmo/stats/fields.py",
    "lib/gancosmo/stats/histograms.py",
    "lib/gancosmo/stats/minkowski.py",
    "lib/gancosmo/stats/peaks.py",
    "lib/gancosmo/stats/power.py",
    "lib/gancosmo/stats/similarity.py",
)

# The shared protocol: splits, real-vs-real bands, binned comparisons, the lognormal null.
_PROTOCOL_CODE = (
    "lib/gancosmo/evaluation/binned.py",
    "lib/gancosmo/evaluation/protocol.py",
    "lib/gancosmo/evaluation/sampling.py",
)

# One GAN training loop: steps, losses, batch order, optimisers and schedules, model selection,
# the device settings (precision), and how a trained generator is saved and loaded back.
# (Checkpoints, logging and multi-process plumbing do not change what a run computes, nor does
# emulator_registry.py, which only names the committed files of each emulator.)
_TRAINING_CODE = (
    "lib/gancosmo/emulators.py",
    "lib/gancosmo/train/data.py",
    "lib/gancosmo/train/hardware.py",
    "lib/gancosmo/train/loop.py",
    "lib/gancosmo/train/losses.py",
    "lib/gancosmo/train/schedules.py",
    "lib/gancosmo/train/selection.py",
)

CHAPTER_CODE: dict[str, tuple[str, ...]] = {
    # Chapter 00, the simulator: validation against pyccl, the suites' resolution and nulls
    # (sims/fidelity.py, which scores with the protocol and the statistics), speed tables.
    "simulations": tuple(
        sorted(
            {
                _NOTEBOOK["simulations"],
                *_DATA_CODE,
                "lib/gancosmo/sims/kids450_grid.csv",
                "lib/gancosmo/sims/validation.py",
                "lib/gancosmo/sims/fidelity.py",
                *_STATS_CODE,
                *_PROTOCOL_CODE,
                "lib/gancosmo/viz/common.py",
                "lib/gancosmo/viz/simulations.py",
            }
        )
    ),
    # P1 (CosmoGAN): maps of one cosmology, the constant intensity scale, P1's networks and
    # recipe with chi-squared model selection, the resolved ell (sims/fidelity.py).
    "p1": tuple(
        sorted(
            {
                _NOTEBOOK["p1"],
                "lib/gancosmo/evaluation/p1.py",
                "lib/gancosmo/models/cosmogan.py",
                "lib/gancosmo/viz/common.py",
                "lib/gancosmo/viz/cosmogan.py",
                "lib/gancosmo/data/intensity.py",
                "lib/gancosmo/sims/fidelity.py",
                *_DATA_CODE,
                *_TRAINING_CODE,
                *_PROTOCOL_CODE,
                *_STATS_CODE,
            }
        )
    ),
    # P2 (conditional mass maps): the KiDS-450 grid of 57 cosmologies (the CSV shipped with the
    # package), dihedral augmentations, the conditional GAN and the cosmology regressor. The P2
    # explorer (viz/widgets.py) is shown on the page but writes no result, so it is left out.
    "p2": tuple(
        sorted(
            {
                _NOTEBOOK["p2"],
                "lib/gancosmo/evaluation/p2.py",
                "lib/gancosmo/models/conditional.py",
                "lib/gancosmo/models/regressor.py",
                "lib/gancosmo/viz/common.py",
                "lib/gancosmo/viz/p2.py",
                "lib/gancosmo/data/augment.py",
                "lib/gancosmo/data/intensity.py",
                "lib/gancosmo/sims/fidelity.py",
                "lib/gancosmo/sims/kids450_grid.csv",
                *_DATA_CODE,
                *_TRAINING_CODE,
                *_PROTOCOL_CODE,
                *_STATS_CODE,
            }
        )
    ),
    # P3 (3D GAN): density cubes, the kappa scaling, octahedral augmentations, the 3D DCGAN and
    # its latent priors; the resolved k comes from sims/validation.py's measured P(k).
    "p3": tuple(
        sorted(
            {
                _NOTEBOOK["p3"],
                "lib/gancosmo/evaluation/p3.py",
                "lib/gancosmo/models/dcgan3d.py",
                "lib/gancosmo/models/priors.py",
                "lib/gancosmo/viz/common.py",
                "lib/gancosmo/viz/p3.py",
                "lib/gancosmo/data/augment.py",
                "lib/gancosmo/data/transforms.py",
                "lib/gancosmo/sims/validation.py",
                *_DATA_CODE,
                *_TRAINING_CODE,
                *_PROTOCOL_CODE,
                *_STATS_CODE,
            }
        )
    ),
    # P4 (scalable multi-scale 3D GAN): particle counts, P4's forward map, rolls and cube
    # symmetries, the three WGANs and the raster-scan patch sampler, P4's benchmark; the
    # published cubes' loader for source="published".
    "p4": tuple(
        sorted(
            {
                _NOTEBOOK["p4"],
                "lib/gancosmo/evaluation/p4.py",
                "lib/gancosmo/evaluation/p4_benchmark.py",
                "lib/gancosmo/evaluation/p3.py",
                "lib/gancosmo/models/multiscale3d.py",
                "lib/gancosmo/models/patches3d.py",
                "lib/gancosmo/viz/common.py",
                "lib/gancosmo/viz/p4.py",
                "lib/gancosmo/data/augment.py",
                "lib/gancosmo/data/intensity.py",
                "lib/gancosmo/sims/published.py",
                *_DATA_CODE,
                *_TRAINING_CODE,
                *_PROTOCOL_CODE,
                *_STATS_CODE,
            }
        )
    ),
    # P5 (GAN autoencoder): the 2D runs and the slab images of 3D boxes with P5's log-like
    # transforms (in evaluation/p5.py), the square's symmetries, the DCGAN and its encoder, the
    # memorisation check shared with chapter 03.
    "p5": tuple(
        sorted(
            {
                _NOTEBOOK["p5"],
                "lib/gancosmo/evaluation/p5.py",
                "lib/gancosmo/evaluation/p3.py",
                "lib/gancosmo/models/p5.py",
                "lib/gancosmo/train/side_by_side.py",
                "lib/gancosmo/viz/common.py",
                "lib/gancosmo/viz/p5.py",
                "lib/gancosmo/data/augment.py",
                *_DATA_CODE,
                *_TRAINING_CODE,
                *_PROTOCOL_CODE,
                *_STATS_CODE,
            }
        )
    ),
}
"""Per chapter (paper key, or ``"simulations"`` for chapter 00), the repository files, relative
to the repository root, whose content determines the chapter's results. Listed one by one so
that a new module joins a chapter's code only when someone adds it here."""

# Which committed files hold a chapter's results, inside ``results/<chapter>/``.
_RESULT_PATTERNS = {
    "simulations": ("validation_*.json", "suites_*.json"),
    "p1": ("scorecard_p1_*.json",),
    "p2": ("scorecard_p2_*.json",),
    "p3": ("scorecard_p3_*.json",),
    "p4": ("scorecard_p4_*.json",),
    "p5": ("scorecard_p5_*.json",),
}


def git_commit(root: str | Path | None = None) -> str:
    """``git rev-parse HEAD`` of the checkout (default: the one holding this module), or ``"unknown"``."""
    import subprocess

    root = Path(root) if root is not None else _repository_root()
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def _repository_root() -> Path:
    """The folder holding ``lib/gancosmo`` (the checkout this module is imported from)."""
    return Path(__file__).resolve().parents[2]


def _check_paper(paper: str) -> None:
    if paper not in CHAPTER_CODE:
        raise ValueError(f"paper must be one of {', '.join(sorted(CHAPTER_CODE))}, got {paper!r}.")


def code_hash(paper: str, root: str | Path | None = None) -> str:
    """The sha256 (hex) of the files of :data:`CHAPTER_CODE` ``[paper]``.

    Each file contributes its path relative to the repository and its bytes with CRLF line
    ends turned into LF, in sorted order of the paths, so the hash is the same on every
    checkout of the same code and changes when any of those files does.

    Parameters
    ----------
    paper : str
        ``"p1"``, ``"p2"``, ``"p3"`` or ``"simulations"``.
    root : path, optional
        Repository root to read the files from (default: the checkout holding this module).

    Raises
    ------
    FileNotFoundError
        When one of the chapter's files is missing under ``root``.
    """
    _check_paper(paper)
    root = Path(root) if root is not None else _repository_root()
    digest = hashlib.sha256()
    for relative in sorted(CHAPTER_CODE[paper]):
        path = root / relative
        if not path.is_file():
            raise FileNotFoundError(f"{relative}, part of the code of chapter {paper!r}, is missing under {root}.")
        content = path.read_bytes().replace(b"\r\n", b"\n")
        digest.update(f"{relative}\n{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()


def config_hash(config) -> str:
    """The sha256 (hex) of a chapter configuration as canonical JSON (sorted keys, ``default=str``).

    Parameters
    ----------
    config : dataclass instance or mapping
        A chapter configuration (e.g. ``P1Config``; read with :func:`dataclasses.asdict`) or a
        dict of its fields.
    """
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        fields = dataclasses.asdict(config)
    elif isinstance(config, Mapping):
        fields = dict(config)
    else:
        raise TypeError(f"config must be a dataclass instance or a mapping, got {type(config).__name__}.")
    text = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def chapter_provenance(paper: str, config=None, root: str | Path | None = None) -> dict:
    """``{"code_hash": ..., "config_hash": ...}`` to record in a chapter's results.

    ``code_hash`` is :func:`code_hash` of ``paper``, or None where the chapter's code files are
    not all present (the package used outside a checkout); ``config_hash`` is there only when
    ``config`` is given. Chapter 00 adds these (and :func:`git_commit`) to its
    ``validation_{profile}.json`` and ``suites_{profile}.json``.
    """
    try:
        provenance = dict(code_hash=code_hash(paper, root))
    except FileNotFoundError:
        provenance = dict(code_hash=None)
    if config is not None:
        provenance["config_hash"] = config_hash(config)
    return provenance


def committed_result_path(paper: str, profile: str, root: str | Path | None = None) -> Path:
    """Where a chapter's committed result of ``profile`` lives: ``<root>/<paper>/scorecard_<paper>_<profile>.json``.

    Chapter 00 (``"simulations"``) keeps ``<root>/simulations/validation_<profile>.json``.
    ``root`` defaults to the committed ``results/``.
    """
    from .paths import committed_results

    _check_paper(paper)
    root = Path(root) if root is not None else committed_results()
    name = f"validation_{profile}.json" if paper == "simulations" else f"scorecard_{paper}_{profile}.json"
    return root / paper / name


def _result_meta(path: Path) -> dict:
    """A result file's metadata: a scorecard's ``meta``, else the file's top-level fields."""
    payload = json.loads(Path(path).read_text())
    if not isinstance(payload, dict):
        return {}
    meta = payload.get("meta", payload)
    return meta if isinstance(meta, dict) else {}


def _short_commit(meta: dict) -> str | None:
    """The first 10 characters of the recorded ``git_commit``, or None where none is recorded."""
    commit = meta.get("git_commit")
    if not commit or commit == "unknown":
        return None
    return str(commit)[:10]


def _stale_reason(paper: str, meta: dict, current: str | None) -> str | None:
    """Why a result with ``meta`` is stale against the chapter's current code hash, or None."""
    commit = _short_commit(meta)
    run = f"commit {commit}" if commit else "commit not recorded"
    recorded = meta.get("code_hash")
    if not recorded:
        return f"produced by older chapter code ({run}), recorded before code hashes were kept"
    if current is None:
        return f"produced by chapter code ({run}) that cannot be checked: the chapter's files are missing"
    if recorded != current:
        return f"produced by older chapter code ({run}): the chapter's code has changed since"
    return None


def stale_results(root: str | Path | None = None, code_root: str | Path | None = None) -> list[tuple[Path, str]]:
    """Committed results whose chapter code has changed since they were produced.

    A result is every ``<root>/<paper>/scorecard_<paper>_*.json`` of the papers of
    :data:`CHAPTER_CODE`, and chapter 00's ``<root>/simulations/validation_*.json`` and
    ``suites_*.json``. It is stale when its metadata lacks ``code_hash`` or its ``code_hash``
    differs from :func:`code_hash` of its chapter now.

    Parameters
    ----------
    root : path, optional
        The results folder (default: the committed ``results/``).
    code_root : path, optional
        Repository root whose code is current (default: the checkout holding this module).

    Returns
    -------
    list of (Path, str)
        ``(path, reason)`` sorted by path; ``reason`` is one sentence, e.g. "produced by older
        chapter code (commit 4fa78fa882): the chapter's code has changed since".
    """
    from .paths import committed_results

    root = Path(root) if root is not None else committed_results()
    stale = []
    for paper, patterns in _RESULT_PATTERNS.items():
        paths = sorted({p for pattern in patterns for p in (root / paper).glob(pattern) if p.is_file()})
        if not paths:
            continue
        current = chapter_provenance(paper, root=code_root)["code_hash"]
        for path in paths:
            try:
                meta = _result_meta(path)
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                stale.append((path, f"not readable as JSON ({error}), so its provenance is unknown"))
                continue
            reason = _stale_reason(paper, meta, current)
            if reason is not None:
                stale.append((path, reason))
    return sorted(stale)


def _seeds_text(seeds) -> str:
    if seeds is None:
        return "seeds not recorded"
    if isinstance(seeds, Mapping):
        return "seeds " + ", ".join(f"{str(k).replace('_', ' ')} {v}" for k, v in seeds.items())
    if isinstance(seeds, (list, tuple)):
        return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(str(s) for s in seeds)
    return f"seed {seeds}"


def _steps_text(meta: dict) -> str | None:
    """The run's training steps from its metadata, in words, or None where none are recorded.

    Read from ``steps`` (a number or ``{label: number}``), ``train_steps``, ``training.steps``
    or ``train.<model>.steps``, the first present.
    """
    steps = meta.get("steps", meta.get("train_steps"))
    if steps is None and isinstance(meta.get("training"), Mapping):
        steps = meta["training"].get("steps")
    if steps is None and isinstance(meta.get("train"), Mapping):
        per_model = {k: v["steps"] for k, v in meta["train"].items() if isinstance(v, Mapping) and "steps" in v}
        steps = per_model or None
    if steps is None:
        return None
    if isinstance(steps, Mapping):
        return "training steps " + ", ".join(f"{v} ({k})" for k, v in steps.items())
    return f"{steps} training steps"


_STALE_WARNING = (
    "Warning: this chapter's code has changed since that run, so these numbers may differ from what a re-run gives."
)


def provenance_sentence(
    meta: dict, stale: bool = False, profile: str | None = None, subject: str = "This page's committed"
) -> str:
    """One sentence on the run a result's ``meta`` comes from, plus a warning sentence when ``stale``.

    "This page's committed cpu results come from commit 4fa78fa882, profile cpu, seeds split 0,
    networks 0, 1920 training steps." ``subject`` replaces "This page's committed" (e.g.
    "These committed" under a table, "This run's" for the run a page just made). The words are
    the reader's: no file names.
    """
    profile = profile or meta.get("profile") or "unnamed"
    commit = _short_commit(meta)
    origin = f"commit {commit}" if commit else "an unrecorded commit"
    parts = [origin, f"profile {meta.get('profile', profile)}", _seeds_text(meta.get("seeds", meta.get("seed")))]
    steps = _steps_text(meta)
    if steps:
        parts.append(steps)
    text = f"{subject} {profile} results come from " + ", ".join(parts) + "."
    return f"{text} {_STALE_WARNING}" if stale else text


def provenance_text(
    paper: str, profile: str, root: str | Path | None = None, code_root: str | Path | None = None
) -> str:
    """One sentence for a chapter's page on the run its committed ``profile`` results come from.

    "This page's committed {profile} results come from commit X, profile P, seeds S" (and the
    training steps when recorded), followed by a warning sentence when the chapter's code has
    changed since that run (see :func:`stale_results`).

    Parameters
    ----------
    paper : str
        ``"p1"``, ``"p2"``, ``"p3"`` or ``"simulations"``.
    profile : str
        The profile of the committed results (e.g. ``"cpu"``).
    root, code_root : path, optional
        As in :func:`stale_results`.
    """
    path = committed_result_path(paper, profile, root)
    if not path.is_file():
        return f"No {profile} results of this chapter are stored with the book yet."
    try:
        meta = _result_meta(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return f"The stored {profile} results of this chapter cannot be read, so where they come from is unknown."
    current = chapter_provenance(paper, root=code_root)["code_hash"]
    return provenance_sentence(meta, stale=_stale_reason(paper, meta, current) is not None, profile=profile)
