r"""Peaks (local maxima) of maps and cubes: counts per threshold bin and peak values.

A pixel is a peak when it is strictly greater than all its neighbours in the
``(2r+1)^d - 1`` neighbourhood, ``r`` = ``neighbourhood``: 8 (r=1, lenstools ``peakCount``) or
24 (r=2, P2) neighbours on maps, 26 or 124 (P4) on cubes.  ``strict=False`` instead keeps
pixels *equal* to the maximum of their window (the P2/P4 authors' ``x == maxpool(x)`` rule,
which also counts plateaus).

Edges (``boundary``):

* ``"periodic"`` (default, lenstools): windows wrap around the edges;
* ``"open"``: windows never cross the edge; edge pixels compare only with their neighbours
  inside the map (a max-pool with ``-inf`` padding), so they can be peaks;
* ``"mask"``, for non-periodic maps such as tiles: the ``border`` outermost pixels on each
  side (default and minimum ``r``: those whose window would cross the edge) are masked:
  never peaks, though the ``r`` innermost of them are still compared against as neighbours
  of the unmasked pixels, and the ``border - r`` outermost are never read (they may hold
  anything, NaN included).  Counts are numbers of peaks in the unmasked area
  (``(N - 2 border)^2`` pixels on maps), not rescaled to the full map.

With 8 neighbours on float64 maps the centre value is rounded to float32 before the
comparisons, exactly as lenstools' C code (``float pixel_value``) does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from . import _utils as _u
from ._utils import as_batch, check_edges, to_numpy
from .minkowski import check_border, check_boundary, check_thresholds_overlap, crop, masked_input

__all__ = ["peak_mask", "peak_counts_2d", "peak_counts_3d", "peak_values"]

BOUNDARIES = ("periodic", "open", "mask")


def _neighbour_max_flat(src, lo: int, T: int, r: int, strides: tuple):
    """Max over the ``(2r+1)^d - 1`` neighbours (centre excluded) of the flat positions ``lo .. lo + T``.

    ``src`` is a 1D (padded, row-major, ``strides``) batch, a torch tensor or a numpy array;
    every offset is a contiguous slice.  The nonzero offsets are split by their first
    nonzero axis ``k``: shifts along ``k`` (excluding 0) of the box maximum over the later
    axes.  This costs ``d (4r + 1) - 2r - 1`` slices instead of ``(2r+1)^d - 1``.
    """
    maximum = torch.maximum if isinstance(src, torch.Tensor) else np.maximum
    d = len(strides)
    m, m_start = src, 0  # box max over the axes > k, for flat positions m_start ..
    out = None
    for k in reversed(range(d)):
        s = strides[k]
        shifts = [m[lo + o * s - m_start : lo + o * s - m_start + T] for o in range(-r, r + 1) if o]
        if out is None:
            out = maximum(shifts[0], shifts[1])  # a new array, updated in place below
            shifts = shifts[2:]
        for v in shifts:
            maximum(out, v, out=out)
        if k > 0:
            ext = r * sum(strides[:k])  # positions the remaining axes still need around lo .. lo + T
            start, n = lo - ext, T + 2 * ext
            vs = [m[start + o * s - m_start : start + o * s - m_start + n] for o in range(-r, r + 1)]
            box = maximum(vs[0], vs[1])
            for v in vs[2:]:
                maximum(box, v, out=box)
            m, m_start = box, start
    return out


def _peaks_flat(x: torch.Tensor, r: int, strict: bool, boundary: str, lenstools_center: bool):
    """Peaks of a batch as flat data: ``(is_peak (T,), values (T,), stencil, T)``.

    Position ``p`` of the arrays is flat position ``lo + p`` of the stencil's source; map ``b``
    occupies ``p`` in ``[b L, b L + length)`` and positions that are no output pixel are False.
    """
    st = _u.flat_stencil(x, r, boundary, fill=float("-inf"))
    B, L = st.src.shape
    T = (B - 1) * L + st.length
    src = st.src.reshape(-1)
    vals = src[st.lo : st.lo + T]
    center = vals
    if lenstools_center and x.dtype == torch.float64:
        center = vals.to(torch.float32).to(torch.float64)
    mx = _neighbour_max_flat(src, st.lo, T, r, st.strides)
    pk = _u.compare(center, ">" if strict else ">=", mx)
    pk &= _u.valid_positions(B, L, st.sizes, st.strides, st.lo, T, x.device)  # drop padding positions
    return pk, vals, st, T


def peak_mask(
    x: torch.Tensor,
    neighbourhood: int = 1,
    strict: bool = True,
    boundary: str = "periodic",
    lenstools_center: bool = False,
    border: int | None = None,
) -> torch.Tensor:
    """Boolean mask ``(B, *spatial)`` of the peaks of a batch ``x`` of 2D or 3D fields (a tensor).

    ``boundary`` and ``border``: see the module docstring; with ``"mask"`` the ``border``
    (default ``neighbourhood``) outermost pixels on each side are never peaks.
    """
    check_boundary(boundary, BOUNDARIES)
    r = int(neighbourhood)
    w = check_border(border, boundary, r)
    read = crop(x, w - r) if boundary == "mask" else x
    pk, _, st, _ = _peaks_flat(read, r, strict, boundary, lenstools_center)
    B, L = st.src.shape
    full = torch.zeros(B * L, dtype=torch.bool, device=x.device)
    full[st.lo : st.lo + pk.numel()] = pk
    region = full.as_strided((B,) + st.sizes, (L,) + st.strides, st.lo)
    if boundary != "mask":
        return region.clone()
    out = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
    out[(slice(None),) + (slice(w, -w),) * (x.ndim - 1)] = region
    return out


def _check_neighbourhood(neighbourhood, allowed=(1, 2)):
    if neighbourhood not in allowed:
        raise ValueError(
            f"neighbourhood is {neighbourhood!r}; accepted are 1 (8 neighbours in 2D, 26 in 3D) and 2 (24 in 2D, 124 "
            f"in 3D)."
        )


def _prepare(fields, name, ndim, kind, device, r, boundary, border):
    """Validated batch ``(read, counted)``; with ``boundary="mask"`` the border is cropped off and
    only what is read must be finite (``counted`` = the pixels that can be peaks)."""
    check_boundary(boundary, BOUNDARIES)
    w = check_border(border, boundary, r)
    x = as_batch(fields, name, ndim, kind, device=device, square=False, allow_nan=boundary == "mask")
    if boundary == "mask":
        return masked_input(x, name, r, w)
    return x, x


def _peak_data(x, r, strict, boundary, lenstools_center):
    """Values of the peaks and the item each belongs to (1D tensors, in flat order).

    On CPUs the batch goes in chunks of about 2^18 pixels, whose temporaries stay in cache.
    """
    chunk = _u.chunk_size(int(np.prod(x.shape[1:])), 2.0**-6) if x.device.type == "cpu" else x.shape[0]
    vals, item = [], []
    for i in range(0, x.shape[0], chunk):
        pk, v, st, _ = _peaks_flat(x[i : i + chunk], r, strict, boundary, lenstools_center)
        q = _u.flatnonzero(pk).to(x.device)
        vals.append(v[q])
        item.append(q // st.src.shape[1] + i)
    return (vals[0], item[0]) if len(vals) == 1 else (torch.cat(vals), torch.cat(item))


def _peak_counts(x, r, strict, boundary, lenstools_center, e, differential):
    """Histogram of the peak values per item in bins [e_i, e_{i+1}) (slots 0 and nb + 1 of
    each item collect the peaks below and above the bins)."""
    B = x.shape[0]
    nb = e.size - 1
    vals, item = _peak_data(x, r, strict, boundary, lenstools_center)
    cnt = torch.bincount(item * (nb + 2) + (_u.grid_index(vals, e) + 1), minlength=B * (nb + 2))
    counts = to_numpy(cnt).reshape(B, nb + 2)[:, 1 : nb + 1].astype(np.float64)
    if differential:
        counts = counts * (1.0 / np.diff(e))
    return 0.5 * (e[:-1] + e[1:]), counts


def peak_counts_2d(
    maps: Any,
    thresholds: Any,
    neighbourhood: int = 1,
    differential: bool = True,
    strict: bool = True,
    boundary: str = "periodic",
    device: str | torch.device | None = None,
    border: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Peak counts of a batch of maps in threshold bins ``[t_i, t_{i+1})``.

    With the defaults (8 neighbours, ``differential=True``) this is lenstools 1.2
    ``peakCount(thresholds)``: the number of peaks per bin divided by the bin width.

    Parameters
    ----------
    maps : array_like or torch.Tensor
        ``(B, N, N)`` maps, same units as ``thresholds``.
    thresholds : array_like
        Strictly increasing bin edges in map units.
    neighbourhood : {1, 2}
        1: 8 neighbours (lenstools); 2: 24 neighbours (P2).
    differential : bool
        Divide counts by the bin width (lenstools); ``False`` returns plain counts.
    strict : bool
        See the module docstring.
    boundary : {"periodic", "open", "mask"}
        Treatment of the edges, see the module docstring; ``"mask"`` for non-periodic tiles.
    device : str or torch.device, optional
    border : int, optional
        With ``boundary="mask"`` only: pixels masked on each side, at least and by default
        ``neighbourhood``; peaks are counted among the pixels at least ``border`` from every
        edge, and the ``border - neighbourhood`` outermost pixels are never read (may be NaN).

    Returns
    -------
    centers : numpy.ndarray
        ``(nb,)`` bin mid-points.
    counts : numpy.ndarray
        ``(B, nb)`` peak counts per map (per unit threshold if ``differential``), of the
        unmasked area only with ``boundary="mask"``.

    Raises
    ------
    ValueError
        Bad maps or thresholds, thresholds that miss the (unmasked) data, ``neighbourhood``
        not 1 or 2, ``boundary`` not one of the three names, ``border`` not None or an
        integer ``>= neighbourhood`` (or given without ``boundary="mask"``), or nothing left
        after masking.
    """
    _check_neighbourhood(neighbourhood)
    x, counted = _prepare(maps, "maps", 3, "maps (B, H, W)", device, neighbourhood, boundary, border)
    e = check_edges(thresholds, "thresholds")
    check_thresholds_overlap(counted, e)
    return _peak_counts(x, neighbourhood, strict, boundary, neighbourhood == 1 and strict, e, differential)


def peak_counts_3d(
    cubes: Any,
    thresholds: Any,
    neighbourhood: int = 1,
    differential: bool = False,
    strict: bool = True,
    boundary: str = "periodic",
    device: str | torch.device | None = None,
    border: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Peak counts of a batch of cubes (26 or 124 neighbours) in bins ``[t_i, t_{i+1})``.

    Parameters
    ----------
    cubes : array_like or torch.Tensor
        ``(B, D, H, W)`` fields.
    thresholds : array_like
        Strictly increasing bin edges in field units.
    neighbourhood : {1, 2}
        1: 26 neighbours; 2: 124 neighbours (P4).
    differential, strict, boundary, device, border : as :func:`peak_counts_2d` (plain counts by default).

    Returns
    -------
    centers : numpy.ndarray
    counts : numpy.ndarray
        ``(B, nb)``.
    """
    _check_neighbourhood(neighbourhood)
    x, counted = _prepare(cubes, "cubes", 4, "cubes (B, D, H, W)", device, neighbourhood, boundary, border)
    e = check_edges(thresholds, "thresholds")
    check_thresholds_overlap(counted, e)
    return _peak_counts(x, neighbourhood, strict, boundary, False, e, differential)


def peak_values(
    fields: Any,
    neighbourhood: int = 1,
    threshold: float | None = None,
    strict: bool = True,
    boundary: str = "periodic",
    device: str | torch.device | None = None,
    border: int | None = None,
) -> list[np.ndarray]:
    r"""Values of the peaks of each map ``(B, N, N)`` or cube ``(B, N, N, N)``.

    Parameters
    ----------
    fields : array_like or torch.Tensor
        Batch of maps or cubes.
    neighbourhood : {1, 2}
    threshold : float, optional
        Keep only peaks with value ``>= threshold`` (P2 and P4 use 0).
    strict, boundary, device, border : as :func:`peak_counts_2d`.

    Returns
    -------
    list of numpy.ndarray
        One 1D array of peak values per item (lengths differ), in row-major order of the
        peaks, for histograms and W1.
    """
    _check_neighbourhood(neighbourhood)
    ndim = np.ndim(fields) if not isinstance(fields, torch.Tensor) else fields.ndim
    if ndim == 3:
        x, _ = _prepare(fields, "fields", 3, "maps (B, H, W)", device, neighbourhood, boundary, border)
    else:
        x, _ = _prepare(
            fields, "fields", 4, "maps (B, H, W) or cubes (B, D, H, W)", device, neighbourhood, boundary, border
        )
    vals, item = _peak_data(
        x, neighbourhood, strict, boundary, lenstools_center=(x.ndim == 3 and neighbourhood == 1 and strict)
    )
    if threshold is not None:
        keep = vals >= float(threshold)
        vals, item = vals[keep], item[keep]
    vals, item = to_numpy(vals), to_numpy(item)
    return np.split(vals, np.searchsorted(item, np.arange(1, x.shape[0])))
