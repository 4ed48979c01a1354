r"""Peaks (local maxima) of maps and cubes: counts per threshold bin and peak values.

A pixel is a peak when it is strictly greater than all its neighbours in the periodic
``(2r+1)^d - 1`` neighbourhood, ``r`` = ``neighbourhood``: 8 (r=1, lenstools ``peakCount``) or
24 (r=2, P2) neighbours on maps, 26 or 124 (P4) on cubes.  ``strict=False`` instead keeps
pixels *equal* to the maximum of their window (the P2/P4 authors' ``x == maxpool(x)`` rule,
which also counts plateaus).  ``boundary="periodic"`` wraps around the edges (lenstools);
``"open"`` never lets a window cross the edge (edge pixels compare only with neighbours
inside the map, as a max-pool with ``-inf`` padding).

With 8 neighbours on float64 maps the centre value is rounded to float32 before the
comparisons, exactly as lenstools' C code (``float pixel_value``) does.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._utils import as_batch, bin_index, check_edges, to_numpy
from .minkowski import check_thresholds_overlap

__all__ = ["peak_mask", "peak_counts_2d", "peak_counts_3d", "peak_values"]


def _neighbour_max(xp: torch.Tensor, r: int, spatial: tuple) -> torch.Tensor:
    """Max over the ``(2r+1)^d - 1`` neighbours (centre excluded) of the padded batch ``xp``.

    The nonzero offsets are split by their first nonzero axis ``k``: shifts along ``k``
    (excluding 0) of the box maximum over the later axes, centred on the earlier ones.
    This costs ``d (4r + 1) - 2r - 1`` slices instead of ``(2r+1)^d - 1``.
    """
    d = len(spatial)

    def sl(t, axis, o, crop_before):
        # slice the spatial ``axis`` at offset o; axes < axis (still padded) cropped at the centre
        idx = [slice(None)]
        for a in range(t.ndim - 1):
            if a == axis:
                idx.append(slice(r + o, r + o + spatial[a]))
            elif a < axis and crop_before:
                idx.append(slice(r, r + spatial[a]))
            else:
                idx.append(slice(None))
        return t[tuple(idx)]

    m = xp  # box max over axes > k so far; padded on axes <= k, cropped on axes > k
    out = None
    for k in reversed(range(d)):
        for o in range(-r, r + 1):
            if o == 0:
                continue
            v = sl(m, k, o, True)
            out = v if out is None else torch.maximum(out, v)
        if k > 0:
            box = None
            for o in range(-r, r + 1):
                v = sl(m, k, o, False)
                box = v if box is None else torch.maximum(box, v)
            m = box
    return out


def peak_mask(x: torch.Tensor, neighbourhood: int = 1, strict: bool = True, boundary: str = "periodic", lenstools_center: bool = False) -> torch.Tensor:
    """Boolean mask of the peaks of a batch ``(B, *spatial)`` of 2D or 3D fields."""
    if boundary not in ("periodic", "open"):
        raise ValueError(f"boundary must be 'periodic' or 'open', got {boundary!r}.")
    r = int(neighbourhood)
    d = x.ndim - 1
    if boundary == "periodic":
        xp = torch.nn.functional.pad(x.unsqueeze(1), (r,) * (2 * d), mode="circular").squeeze(1)
    else:
        xp = torch.nn.functional.pad(x, (r,) * (2 * d), mode="constant", value=float("-inf"))
    center = x
    if lenstools_center and x.dtype == torch.float64:
        center = x.to(torch.float32).to(torch.float64)
    mx = _neighbour_max(xp, r, tuple(x.shape[1:]))
    return center > mx if strict else center >= mx


def _check_neighbourhood(neighbourhood, allowed=(1, 2)):
    if neighbourhood not in allowed:
        raise ValueError(
            f"neighbourhood is {neighbourhood!r}; accepted are 1 (8 neighbours in 2D, 26 in 3D) and 2 (24 in 2D, 124 in 3D)."
        )


def _counts(x, e, mask, differential):
    """Histogram of the values at the peaks, per item, in bins [e_i, e_{i+1})."""
    B = x.shape[0]
    nb = e.size - 1
    m = mask.reshape(B, -1)
    b, pos = torch.nonzero(m, as_tuple=True)
    vals = x.reshape(B, -1)[b, pos]
    idx = bin_index(vals, e)
    ok = (idx >= 0) & (idx < nb)
    cnt = torch.bincount((b * nb + idx)[ok], minlength=B * nb).reshape(B, nb)
    counts = to_numpy(cnt).astype(np.float64)
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
    strict, boundary : see module docstring.
    device : str or torch.device, optional

    Returns
    -------
    centers : numpy.ndarray
        ``(nb,)`` bin mid-points.
    counts : numpy.ndarray
        ``(B, nb)`` peak counts (per unit threshold if ``differential``).
    """
    _check_neighbourhood(neighbourhood)
    x = as_batch(maps, "maps", 3, "maps (B, H, W)", device=device, square=False)
    e = check_edges(thresholds, "thresholds")
    check_thresholds_overlap(x, e)
    mask = peak_mask(x, neighbourhood, strict, boundary, lenstools_center=(neighbourhood == 1 and strict))
    return _counts(x, e, mask, differential)


def peak_counts_3d(
    cubes: Any,
    thresholds: Any,
    neighbourhood: int = 1,
    differential: bool = False,
    strict: bool = True,
    boundary: str = "periodic",
    device: str | torch.device | None = None,
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
    differential, strict, boundary, device : as :func:`peak_counts_2d` (plain counts by default).

    Returns
    -------
    centers : numpy.ndarray
    counts : numpy.ndarray
        ``(B, nb)``.
    """
    _check_neighbourhood(neighbourhood)
    x = as_batch(cubes, "cubes", 4, "cubes (B, D, H, W)", device=device, square=False)
    e = check_edges(thresholds, "thresholds")
    check_thresholds_overlap(x, e)
    mask = peak_mask(x, neighbourhood, strict, boundary)
    return _counts(x, e, mask, differential)


def peak_values(
    fields: Any,
    neighbourhood: int = 1,
    threshold: float | None = None,
    strict: bool = True,
    boundary: str = "periodic",
    device: str | torch.device | None = None,
) -> list[np.ndarray]:
    r"""Values of the peaks of each map ``(B, N, N)`` or cube ``(B, N, N, N)``.

    Parameters
    ----------
    fields : array_like or torch.Tensor
        Batch of maps or cubes.
    neighbourhood : {1, 2}
    threshold : float, optional
        Keep only peaks with value ``>= threshold`` (P2 and P4 use 0).
    strict, boundary, device : as :func:`peak_counts_2d`.

    Returns
    -------
    list of numpy.ndarray
        One 1D array of peak values per item (lengths differ), for histograms and W1.
    """
    _check_neighbourhood(neighbourhood)
    ndim = np.ndim(fields) if not isinstance(fields, torch.Tensor) else fields.ndim
    if ndim == 3:
        x = as_batch(fields, "fields", 3, "maps (B, H, W)", device=device, square=False)
    else:
        x = as_batch(fields, "fields", 4, "maps (B, H, W) or cubes (B, D, H, W)", device=device, square=False)
    mask = peak_mask(x, neighbourhood, strict, boundary, lenstools_center=(x.ndim == 3 and neighbourhood == 1 and strict))
    if threshold is not None:
        mask &= x >= float(threshold)
    return [to_numpy(x[b][mask[b]]) for b in range(x.shape[0])]
