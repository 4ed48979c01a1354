r"""The book's evaluation protocol (``PROTOCOL.md``): parent-level splits, the real-vs-real band, verdicts.

Every real sample carries its *parent* (the simulation, box or parent map it was cut from).
:func:`split_by_parent` deals parents into ``train``, ``dev`` and ``test`` sets;
:func:`real_vs_real_splits` draws, from the test pool, a fixed test A and test B of the
emulator's size ``n`` plus ``n_splits`` random parent-level pairs (A', B') of the same size.

A comparison is a function ``compare(real, other) -> {key: float}`` of two *feature* sets of
equal size (a feature set is a dict of arrays with one row per sample: per-map C_ell, pixel
values, ...). :func:`score` evaluates it for the emulator against A, for the null field against
A, and for every (A', B'); the band of a key is the central 95% of its real-vs-real values and
its reference their median. A :class:`RowSpec` turns one key into a scorecard row with its
verdict:

* ``pass`` when the emulator's value lies inside the band, ``fail`` outside;
* ``untestable`` when the band is wider than the paper's own tolerance for that quantity
  (half-width above ``tolerance``): the data are too few to test the paper's claim.

The band is the interval between order statistics of the split values chosen so that a new
exchangeable real-vs-real value falls inside with probability at least 95%: with ``s`` values
the ``r``-th smallest to the ``r``-th largest cover :math:`1 - 2r/(s + 1)`; 39 splits give
:math:`r = 1` (minimum to maximum).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..scorecard import Row

__all__ = [
    "split_by_parent",
    "RealSplits",
    "real_vs_real_splits",
    "band_from_values",
    "subset",
    "RowSpec",
    "Scores",
    "score",
    "verdict",
    "rows_from_scores",
    "binned_row_specs",
    "N_SPLITS",
    "BAND_COVERAGE",
    "SIDES",
]

#: Default number of random real-vs-real splits: 39 makes the band the range of the values
#: at 95% coverage (see :func:`band_from_values`).
N_SPLITS = 39
BAND_COVERAGE = 0.95


# -------------------------------------------------------------------------- splits
def _parents(parents) -> np.ndarray:
    p = np.asarray(parents)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"parents must be a 1D array with one parent id per sample, got shape {p.shape}.")
    return p


def split_by_parent(parents, fractions: Mapping[str, float], seed: int = 0) -> dict[str, np.ndarray]:
    """Deal whole parents into named sets, e.g. ``{"train": 0.6, "dev": 0.1, "test": 0.3}``.

    Parameters
    ----------
    parents : array_like
        ``(n_samples,)`` parent id of every sample.
    fractions : mapping
        Set name -> fraction of the *parents* it gets (normalised to sum 1). Every set gets
        at least one parent; the last set takes the remainder.
    seed : int
        Seed of the random permutation of parents.

    Returns
    -------
    dict
        Set name -> sorted sample indices. No parent appears in two sets.
    """
    p = _parents(parents)
    names = list(fractions)
    f = np.array([float(fractions[k]) for k in names])
    if len(names) < 1 or not np.isfinite(f).all() or (f <= 0).any():
        raise ValueError(f"fractions must map set names to positive numbers, got {dict(fractions)!r}.")
    unique = np.unique(p)
    if len(unique) < len(names):
        raise ValueError(
            f"{len(unique)} parents cannot fill {len(names)} sets ({', '.join(names)}); "
            "accepted are at least as many parents as sets."
        )
    f = f / f.sum()
    counts = np.maximum(1, np.round(f * len(unique)).astype(int))
    while counts.sum() > len(unique):  # rounding up the small sets can overshoot: take from the largest
        counts[np.argmax(counts)] -= 1
    counts[-1] = len(unique) - counts[:-1].sum()
    if counts[-1] < 1:
        raise ValueError(f"{len(unique)} parents leave none for set {names[-1]!r} with fractions {dict(fractions)!r}.")
    perm = np.random.default_rng(seed).permutation(unique)
    out, start = {}, 0
    for name, c in zip(names, counts):
        out[name] = np.sort(np.flatnonzero(np.isin(p, perm[start : start + c])))
        start += c
    return out


@dataclass(frozen=True)
class RealSplits:
    """Test A, test B and the random real-vs-real pairs, as indices into the test pool.

    ``draws[0]`` is ``(a, b)``; every pair is disjoint by parent and both sides hold ``n``.
    """

    n: int
    a: np.ndarray
    b: np.ndarray
    draws: tuple
    parents: np.ndarray = field(repr=False)

    @property
    def n_splits(self) -> int:
        """Random pairs beyond the fixed (A, B)."""
        return len(self.draws) - 1


def _draw_pair(p: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    sides: list[list] = [[], []]
    filled = [0, 0]
    for parent in rng.permutation(np.unique(p)):
        side = 0 if filled[0] < n else 1
        if filled[1] >= n:
            break
        members = np.flatnonzero(p == parent)
        sides[side].append(members)
        filled[side] += len(members)
    if filled[1] < n:
        raise ValueError(
            f"the test pool holds {len(p)} samples in {len(np.unique(p))} parents, too few for two "
            f"parent-disjoint sets of n = {n}; accepted is n at most about half the pool."
        )
    return tuple(np.sort(rng.choice(np.concatenate(s), n, replace=False)) for s in sides)


def real_vs_real_splits(parents, n: int, n_splits: int = N_SPLITS, seed: int = 0) -> RealSplits:
    """Test A and B of ``n`` samples each and ``n_splits`` random parent-level pairs of the same size.

    Parameters
    ----------
    parents : array_like
        ``(n_pool,)`` parent id of every sample of the test pool.
    n : int
        Samples on each side (the emulator's set has the same size).
    n_splits : int
        Random pairs for the band (at least 20).
    """
    p = _parents(parents)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (samples per side), got {n!r}.")
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 20:
        raise ValueError(f"n_splits must be an integer >= 20 (PROTOCOL.md), got {n_splits!r}.")
    rng = np.random.default_rng(seed)
    draws = tuple(_draw_pair(p, int(n), rng) for _ in range(int(n_splits) + 1))
    return RealSplits(n=int(n), a=draws[0][0], b=draws[0][1], draws=draws, parents=p)


def subset(features: Mapping[str, Any], index) -> dict:
    """Rows ``index`` of every array of a feature set (lists are indexed element by element)."""
    out = {}
    for k, v in features.items():
        out[k] = [v[i] for i in index] if isinstance(v, list) else np.asarray(v)[index]
    return out


def _size(features: Mapping[str, Any]) -> int:
    sizes = {len(v) for v in features.values()}
    if len(sizes) != 1:
        raise ValueError(f"the arrays of a feature set must have one row per sample; got lengths {sorted(sizes)}.")
    return sizes.pop()


# -------------------------------------------------------------------------- band and verdicts
SIDES = ("two", "upper")


def band_from_values(
    values, coverage: float = BAND_COVERAGE, sided: str = "two", floor: float = 0.0
) -> tuple[float, float] | None:
    """The interval of ``values`` that a new value falls into with probability >= ``coverage``.

    ``sided="two"``: between the ``r``-th smallest and the ``r``-th largest of ``s`` finite
    values, which cover :math:`1 - 2r/(s+1)`; ``r`` is the largest with coverage >= ``coverage``
    (at least 1). ``sided="upper"`` (distances, chi^2, rejection fractions: smaller is closer)
    gives ``(floor, r-th largest)`` with :math:`1 - r/(s+1)` >= ``coverage``. ``None`` when fewer
    than 2 values are finite. Non-finite values (a comparison that broke down) count as above
    every finite one.
    """
    if sided not in SIDES:
        raise ValueError(f"sided must be one of {', '.join(SIDES)}, got {sided!r}.")
    raw = np.asarray(values, float)
    raw = raw[~np.isnan(raw)]
    finite = np.sort(raw[np.isfinite(raw)])
    if len(finite) < 2:
        return None
    ordered = np.concatenate([finite, np.full(len(raw) - len(finite), np.inf)])  # infinities rank last
    s = len(ordered)
    if sided == "two":
        r = max(1, int(math.floor((1 - coverage) * (s + 1) / 2)))
        return float(ordered[r - 1]), float(ordered[s - r])
    r = max(1, int(math.floor((1 - coverage) * (s + 1))))
    return float(min(floor, ordered[0])), float(ordered[s - r])


def verdict(value, band, tolerance: float | None = None) -> str:
    """``untestable`` if the band's half-width exceeds ``tolerance``; else ``pass`` inside the band, else ``fail``."""
    if band is None:
        return "untestable"
    lo, hi = band
    if tolerance is not None and (not np.isfinite(hi - lo) or (hi - lo) / 2 > tolerance):
        return "untestable"
    if value is None or not np.isfinite(value):
        return "fail"
    return "pass" if lo <= value <= hi else "fail"


@dataclass
class Scores:
    """Values of every comparison key for the emulator, the null and each real-vs-real split."""

    ours: dict
    null: dict
    splits: list  # one dict per random (A', B') pair
    n: int
    n_splits: int
    extras: dict = field(default_factory=dict)  # non-scalar outputs (per-bin arrays) of ours / null / reference

    def band(self, key: str, sided: str = "two", floor: float = 0.0) -> tuple[float, float] | None:
        return band_from_values([s[key] for s in self.splits], sided=sided, floor=floor)

    def reference(self, key: str) -> float:
        v = np.asarray([s[key] for s in self.splits], float)
        v = v[np.isfinite(v)]
        return float(np.median(v)) if len(v) else float("nan")


def _scalars(d: dict) -> tuple[dict, dict]:
    scal, arr = {}, {}
    for k, v in d.items():
        if np.ndim(v) == 0 and v is not None:
            scal[k] = float(v)
        else:
            arr[k] = v
    return scal, arr


def score(
    compare: Callable[[dict, dict], dict],
    real: Mapping[str, Any],
    splits: RealSplits,
    emulator: Mapping[str, Any],
    null: Mapping[str, Any] | None = None,
    progress: bool = False,
    desc: str = "real-vs-real splits",
) -> Scores:
    """Run ``compare`` for the emulator vs A, the null vs A and every random pair (B' vs A').

    Parameters
    ----------
    compare : callable
        ``compare(real_features, other_features) -> dict``; scalar values are scored, arrays
        (per-bin curves) are kept in ``Scores.extras``.
    real : mapping
        Feature set of the whole test pool (rows indexed like ``splits``).
    emulator, null : mapping
        Feature sets of at least ``splits.n`` emulator and null samples (the first ``n`` are used).
    """
    from ..progress import progress_bar

    n = splits.n
    if _size(real) != len(splits.parents):
        raise ValueError(
            f"the real features have {_size(real)} rows but the splits were drawn over {len(splits.parents)} samples."
        )
    for name, fs in (("emulator", emulator), ("null", null)):
        if fs is not None and _size(fs) < n:
            raise ValueError(
                f"the {name} features have {_size(fs)} rows; accepted are at least n = {n} (both sides equal)."
            )
    real_a = subset(real, splits.a)
    ours, ours_arr = _scalars(compare(real_a, subset(emulator, np.arange(n))))
    null_s, null_arr = ({}, {}) if null is None else _scalars(compare(real_a, subset(null, np.arange(n))))
    values, ref_arr = [], {}
    bar = progress_bar(splits.n_splits, desc, disable=not progress, iterable=splits.draws[1:])
    for i, (a, b) in enumerate(bar):
        s, arr = _scalars(compare(subset(real, a), subset(real, b)))
        values.append(s)
        if i == 0:
            ref_arr = arr
    extras = dict(ours=ours_arr, null=null_arr, reference=ref_arr)
    return Scores(ours=ours, null=null_s, splits=values, n=n, n_splits=len(values), extras=extras)


@dataclass(frozen=True)
class RowSpec:
    """How one comparison key becomes a scorecard row.

    Parameters
    ----------
    key : str
        Stable snake_case key of the row (and of the comparison's output, unless ``source`` is given).
    quantity : str
        What is measured, in words (figure or equation of the paper).
    paper : float, str or None
        The paper's value, as printed.
    tolerance : float, optional
        The paper's own tolerance for this quantity (half-width, in the row's units): when the
        band is wider, the row is ``untestable``.
    units, notes : str
        Units; sample sizes and caveats.
    source : str, optional
        Key of the comparison output (default: ``key``).
    sided : str
        ``"two"`` (default: signed quantities, p-values, anything where too high and too low
        both mean a difference) or ``"upper"`` (distances, chi^2/dof, rejection fractions,
        ``|f|``: only large values mean a difference; the band runs from ``floor``).
    floor : float
        Smallest possible value of an ``"upper"`` quantity (0 for distances).
    target : float, optional
        ``"upper"`` rows only: an accuracy the emulator is asked to reach whatever the band
        (e.g. 5% for a mean spectrum). The row passes at or below ``max(target, band's upper end)``,
        so a band narrower than the target does not fail an emulator that meets it; the band
        shown stays the real-vs-real one.
    """

    key: str
    quantity: str
    paper: Any = None
    tolerance: float | None = None
    units: str = ""
    notes: str = ""
    source: str | None = None
    sided: str = "two"
    floor: float = 0.0
    target: float | None = None

    def __post_init__(self):
        if self.sided not in SIDES:
            raise ValueError(f"sided must be one of {', '.join(SIDES)}, got {self.sided!r}.")
        if self.target is not None and self.sided != "upper":
            raise ValueError(f"row {self.key!r}: a target applies to sided 'upper' rows only.")


_BINNED_WORDS = {
    "chi2_dof": "chi^2/dof of the difference of means (real covariance)",
    "mean_abs_frac": "mean |fractional difference| of the means over bins",
    "max_abs_frac": "max |fractional difference| of the means over bins",
    "max_abs_pull": "max |pull| over bins",
    "ks_reject": "fraction of bins where two-sample KS rejects at 5%",
    "ad_reject": "fraction of bins where two-sample Anderson-Darling rejects at 5%",
}


def binned_row_specs(
    prefix: str,
    label: str,
    names=("chi2_dof", "mean_abs_frac", "ks_reject", "ad_reject"),
    notes: str = "",
    paper: dict | None = None,
    tolerance: dict | None = None,
) -> list[RowSpec]:
    """Row specs for the outputs of :func:`gancosmo.evaluation.binned.binned_comparison` with ``prefix``.

    All of them are dimensionless distances from "identical" (0), so their bands are one-sided
    (``sided="upper"``). ``paper`` and ``tolerance`` map a name to the paper's value and tolerance.
    """
    paper, tolerance = paper or {}, tolerance or {}
    unknown = set(names) - set(_BINNED_WORDS)
    if unknown:
        raise ValueError(f"unknown binned statistics {sorted(unknown)}; accepted are {', '.join(_BINNED_WORDS)}.")
    return [
        RowSpec(
            f"{prefix}_{name}",
            f"{label}: {_BINNED_WORDS[name]}",
            paper=paper.get(name),
            tolerance=tolerance.get(name),
            notes=notes,
            sided="upper",
        )
        for name in names
    ]


def rows_from_scores(specs, scores: Scores, n_real: int | None = None, n_fake: int | None = None) -> list[Row]:
    """Scorecard rows with band, reference, null and verdicts for every spec."""
    rows = []
    for spec in specs:
        src = spec.source or spec.key
        if src not in scores.ours:
            raise KeyError(
                f"row {spec.key!r} reads comparison key {src!r}, which the comparison did not return; "
                f"it returned {', '.join(sorted(scores.ours))}."
            )
        band = scores.band(src, spec.sided, spec.floor)
        ours = scores.ours[src]
        null = scores.null.get(src)
        notes = spec.notes
        judged = band
        if spec.target is not None and band is not None:
            judged = (band[0], max(band[1], spec.target))
            notes = (notes + "; " if notes else "") + f"passes at or below max({spec.target:g}, band's upper end)"
        v = verdict(ours, judged, spec.tolerance)
        if v == "untestable" and band is not None:
            notes = (notes + "; " if notes else "") + (
                f"untestable: the real-vs-real band (half-width {(band[1] - band[0]) / 2:.3g}) is wider than the "
                f"paper's "
                f"tolerance {spec.tolerance:.3g}"
            )
        rows.append(
            Row(
                key=spec.key,
                quantity=spec.quantity,
                paper=spec.paper,
                ours=ours,
                reference=scores.reference(src),
                band=band,
                null=null,
                null_verdict=None if null is None else verdict(null, judged, spec.tolerance),
                verdict=v,
                units=spec.units,
                n_real=n_real if n_real is not None else scores.n,
                n_fake=n_fake if n_fake is not None else scores.n,
                notes=notes,
            )
        )
    return rows
