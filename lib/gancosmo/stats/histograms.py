r"""Pixel/voxel and peak histograms with the papers' binnings, mean densities, median/MAD bands.

Binnings: ``linear_edges`` (P2: 200 bins on (0, 0.4); P3 scaled: 49 bins on [-1, 1]),
``log_edges`` (P3 unscaled: 49 log bins from 1e-4 to 1e4; P4 mass histogram: 20 bins of
``log10(x + 1)``), and the "unbounded" option of P2 which adds values below the first edge
to the first bin and values above the last edge to the last bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._utils import as_batch, bin_index, check_edges, to_numpy
from .peaks import peak_values

__all__ = [
    "linear_edges",
    "log_edges",
    "histogram",
    "pixel_histogram",
    "peak_histogram",
    "mean_density",
    "median_mad",
]


def linear_edges(lo: float, hi: float, n_bins: int) -> np.ndarray:
    """``n_bins + 1`` linearly spaced edges from ``lo`` to ``hi``."""
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo) or int(n_bins) < 1:
        raise ValueError(
            f"linear_edges got lo={lo}, hi={hi}, n_bins={n_bins}; accepted are finite lo < hi and n_bins >= 1."
        )
    return np.linspace(float(lo), float(hi), int(n_bins) + 1)


def log_edges(lo: float, hi: float, n_bins: int) -> np.ndarray:
    """``n_bins + 1`` logarithmically spaced edges from ``lo`` to ``hi`` (both > 0)."""
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo > 0) or int(n_bins) < 1:
        raise ValueError(f"log_edges got lo={lo}, hi={hi}, n_bins={n_bins}; accepted are 0 < lo < hi and n_bins >= 1.")
    return np.geomspace(float(lo), float(hi), int(n_bins) + 1)


def _centers(e: np.ndarray, log: bool) -> np.ndarray:
    return np.sqrt(e[:-1] * e[1:]) if log else 0.5 * (e[:-1] + e[1:])


def _hist(
    values: torch.Tensor, rows: torch.Tensor, n_rows: int, e: np.ndarray, unbounded: bool, density: bool
) -> np.ndarray:
    """Counts of flat ``values`` belonging to row ``rows`` in bins ``[e_i, e_{i+1})`` (last closed)."""
    nb = e.size - 1
    if not values.is_floating_point():
        values = values.to(torch.float64)
    idx = bin_index(values, e)
    idx = torch.where(values == float(e[-1]), torch.full_like(idx, nb - 1), idx)  # numpy's closed last bin
    if unbounded:
        idx = idx.clamp(0, nb - 1)
    else:
        idx = torch.where((idx < 0) | (idx >= nb), torch.full_like(idx, nb), idx)
    cnt = torch.bincount(rows * (nb + 1) + idx, minlength=n_rows * (nb + 1)).reshape(n_rows, nb + 1)[:, :nb]
    out = to_numpy(cnt).astype(np.float64)
    if density:
        tot = out.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = out / (tot * np.diff(e)[None, :])
    return out


def histogram(values: Any, edges: Any, unbounded: bool = False, density: bool = False, log_centers: bool = False):
    r"""Histogram of every item of a batch.

    Parameters
    ----------
    values : array_like, torch.Tensor or list of 1D arrays
        ``(B, ...)`` batch (each item flattened) or a list of 1D arrays of any lengths.
    edges : array_like
        Strictly increasing edges (same units as ``values``); bins are ``[e_i, e_{i+1})``,
        the last one closed as in :func:`numpy.histogram`.
    unbounded : bool
        Add values outside the edges to the first/last bin (P2's "unbounded" histogram).
    density : bool
        Normalize each row to unit integral.
    log_centers : bool
        Return geometric rather than arithmetic bin centres (for log-spaced edges).

    Returns
    -------
    centers : numpy.ndarray ``(nb,)``
    counts : numpy.ndarray ``(B, nb)``
    """
    e = check_edges(edges, "edges")
    if isinstance(values, (list, tuple)):
        if len(values) == 0:
            raise ValueError("values is an empty list; accepted is at least one array.")
        parts = [
            v.reshape(-1)
            if isinstance(v, torch.Tensor)
            else torch.as_tensor(np.asarray(v, dtype=np.float64).reshape(-1))
            for v in values
        ]
        dev = parts[0].device
        flat = torch.cat([p.to(device=dev, dtype=torch.float64) for p in parts])
        rows = torch.repeat_interleave(
            torch.arange(len(parts), device=dev), torch.as_tensor([p.numel() for p in parts], device=dev)
        )
        n_rows = len(parts)
    else:
        t = torch.as_tensor(values) if not isinstance(values, torch.Tensor) else values
        if t.ndim < 1 or t.shape[0] == 0:
            raise ValueError(f"values has shape {tuple(t.shape)}; accepted is a non-empty batch (B, ...).")
        n_rows = t.shape[0]
        flat = t.reshape(n_rows, -1)
        rows = torch.arange(n_rows, device=t.device).unsqueeze(1).expand_as(flat).reshape(-1)
        flat = flat.reshape(-1)
    if flat.is_floating_point() and not bool(torch.isfinite(flat).all()):
        raise ValueError("values contain NaN or infinite entries; accepted are finite values only.")
    return _centers(e, log_centers), _hist(flat, rows, n_rows, e, unbounded, density)


def pixel_histogram(
    fields: Any, edges: Any, unbounded: bool = False, density: bool = False, transform=None, log_centers: bool = False
):
    r"""Histogram of the pixel (voxel) values of each map ``(B, H, W)`` or cube ``(B, D, H, W)``.

    ``transform`` (e.g. ``lambda x: torch.log10(x + 1)`` for P4's mass histogram) is applied
    to the values first. See :func:`histogram` for the other arguments.
    """
    nd = fields.ndim if isinstance(fields, torch.Tensor) else np.ndim(fields)
    x = as_batch(fields, "fields", 3 if nd == 3 else 4, "maps (B, H, W) or cubes (B, D, H, W)", square=False)
    if transform is not None:
        x = transform(x)
    return histogram(x, edges, unbounded, density, log_centers)


def peak_histogram(
    fields: Any,
    edges: Any,
    neighbourhood: int = 2,
    threshold: float | None = 0.0,
    unbounded: bool = False,
    density: bool = False,
    transform=None,
    strict: bool = True,
    log_centers: bool = False,
):
    r"""Histogram of the peak values of each map or cube.

    Defaults follow P2 (24 neighbours, peaks above 0); P4 uses ``neighbourhood=2`` on cubes
    and ``transform=lambda p: np.log(p + np.e)`` with 20 bins on [1.5, 13].
    """
    vals = peak_values(fields, neighbourhood=neighbourhood, threshold=threshold, strict=strict)
    if transform is not None:
        vals = [np.asarray(transform(v)) for v in vals]
    return histogram(vals, edges, unbounded, density, log_centers)


def mean_density(fields: Any) -> np.ndarray:
    r"""Mean value of each item ``(B,)`` (the "mean density distribution" of P3/P5)."""
    nd = fields.ndim if isinstance(fields, torch.Tensor) else np.ndim(fields)
    x = as_batch(fields, "fields", 3 if nd == 3 else 4, "maps (B, H, W) or cubes (B, D, H, W)", square=False)
    return to_numpy(x.reshape(x.shape[0], -1).to(torch.float64).mean(dim=1))


def median_mad(stat: Any, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Median and median absolute deviation :math:`\mathrm{median}(|x - \mathrm{median}(x)|)` along ``axis``.

    The band drawn by P5 is ``median +- MAD`` (unscaled MAD).
    """
    a = np.asarray(stat, dtype=np.float64)
    if a.size == 0:
        raise ValueError("stat is empty; accepted is a non-empty array of statistics (B, nb).")
    med = np.nanmedian(a, axis=axis)
    mad = np.nanmedian(np.abs(a - np.expand_dims(med, axis)), axis=axis)
    return med, mad
