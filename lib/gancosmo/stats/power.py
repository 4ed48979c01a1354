r"""Power spectra of batches of maps (angular, in multipoles ell) and cubes (k in h/Mpc).

Conventions
-----------
* ``power_spectrum_2d`` reproduces lenstools 1.2 ``ConvergenceMap.powerSpectrum(l_edges)``
  bin for bin: the real FFT of the map, every cell of the half plane ``(N, N//2+1)`` counted
  once, multipole ``ell = 2 pi |n| / side`` (``|n|`` in Fourier pixels), cell in bin ``b`` when
  ``edges[b] < ell <= edges[b+1]``, bin value ``mean(|F|^2) * (side_rad / N^2)^2`` and 0 in
  empty bins; the returned ``ell`` are the bin mid-points.
* ``power_spectrum_3d`` with ``k_edges=None`` reproduces Pylians ``Pk_library.Pk(delta, box,
  axis, 'None', threads)`` monopole: independent Fourier modes only (half space, with the
  ``kz = 0`` and ``kz = N/2`` planes halved), bin ``i`` holds the modes with ``i <= |n| < i+1``
  (``|n|`` in units of the fundamental ``kF = 2 pi / box``) for ``i = 1 .. int(sqrt(3) N/2)``
  (the DC mode is excluded), ``k`` is the mean ``|k|`` of the modes in a bin and
  ``P = mean(|delta_k|^2) * (box / N^2)^3``.
* With explicit ``k_edges`` (h/Mpc), the same independent modes fall in bin ``b`` when
  ``edges[b] <= |k| < edges[b+1]``; ``k`` is the mean ``|k|`` of its modes, empty bins are NaN.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

from . import _utils as _u
from ._utils import as_batch, check_edges, check_positive, check_same_batch, to_numpy

__all__ = ["power_spectrum_2d", "power_spectrum_3d", "ell_grid_2d", "binned_sum"]


# --------------------------------------------------------------------------------------
# Binning engine
# --------------------------------------------------------------------------------------
def binned_sum(values: torch.Tensor, index: torch.Tensor, nbins: int) -> torch.Tensor:
    """Sum ``values[B, M]`` into ``nbins`` bins given a per-column bin ``index[M]``.

    Columns with ``index == nbins`` (or any value outside ``[0, nbins)`` mapped there by the
    caller) are dropped.

    Parameters
    ----------
    values : torch.Tensor
        ``(B, M)`` values.
    index : torch.Tensor
        ``(M,)`` int64 bin index in ``[0, nbins]``; ``nbins`` is the discard bin.
    nbins : int
        Number of real bins.

    Returns
    -------
    torch.Tensor
        ``(B, nbins)`` sums, same dtype and device as ``values``.
    """
    B = values.shape[0]
    out = torch.zeros((nbins + 1, B), dtype=values.dtype, device=values.device)
    out.index_add_(0, index, values.T.contiguous() if B > 1 else values.reshape(-1, 1))
    return out[:nbins].T.contiguous()


# --------------------------------------------------------------------------------------
# 2D: lenstools-identical angular power spectrum
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _ell_2d_np(n: int, side_deg: float) -> np.ndarray:
    lpix = 360.0 / side_deg
    i = np.arange(n, dtype=np.int64)
    lx = np.minimum(i, n - i).astype(np.float64) * lpix
    ly = np.arange(n // 2 + 1, dtype=np.float64) * lpix
    ell = np.sqrt(lx[:, None] * lx[:, None] + ly[None, :] * ly[None, :])
    ell.setflags(write=False)
    return ell


def ell_grid_2d(n: int, side_deg: float) -> np.ndarray:
    """Multipole ``ell`` of every cell of a real 2D FFT ``(n, n//2+1)`` of a map of side ``side_deg`` degrees."""
    return _ell_2d_np(int(n), float(side_deg))


@functools.lru_cache(maxsize=64)
def _ell_index_2d(n: int, side_deg: float, edges: tuple, device: str) -> tuple[torch.Tensor, np.ndarray]:
    ell = _ell_2d_np(n, side_deg).ravel()
    e = np.asarray(edges)
    nb = e.size - 1
    b = np.searchsorted(e, ell, side="left") - 1  # edges[b] < ell <= edges[b+1]
    b[(b < 0) | (b >= nb)] = nb
    hits = np.bincount(b, minlength=nb + 1)[:nb]
    return torch.from_numpy(b).to(device), hits


def power_spectrum_2d(
    maps: Any,
    side_deg: float,
    ell_edges: Any,
    other: Any = None,
    device: str | torch.device | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Angular power spectrum of a batch of square maps, identical to lenstools 1.2.

    Parameters
    ----------
    maps : array_like or torch.Tensor
        ``(B, N, N)`` maps (e.g. convergence, dimensionless).
    side_deg : float
        Side of each map in degrees.
    ell_edges : array_like
        Strictly increasing multipole bin edges (``nb + 1`` values).
    other : array_like or torch.Tensor, optional
        A second batch of the same shape: the cross spectrum ``Re(F_1 F_2^*)`` is returned.
    device : str or torch.device, optional
        Compute there instead of on the input's device.

    Returns
    -------
    ell : numpy.ndarray
        ``(nb,)`` bin mid-points ``0.5 (edges[:-1] + edges[1:])``.
    cl : numpy.ndarray
        ``(B, nb)`` power spectrum :math:`C_\ell` in steradians (map units squared times sr);
        0 in bins that contain no Fourier cell, as lenstools.

    Notes
    -----
    float64 input is computed in float64; anything else in float32.
    """
    x = as_batch(maps, "maps", 3, "maps (B, H, W)", device=device)
    side = check_positive(side_deg, "side_deg", "degrees")
    e = check_edges(ell_edges, "ell_edges")
    n = x.shape[-1]
    idx, hits = _ell_index_2d(n, side, tuple(e.tolist()), str(x.device))
    nb = e.size - 1
    y = None
    if other is not None:
        y = as_batch(other, "other", 3, "maps (B, H, W)", device=x.device)
        check_same_batch(x, y, "maps", "other")
        y = y.to(x.dtype)
    chunk = _u.chunk_size(n * n, 4)  # bounds the FFT buffers
    parts = []
    for s0 in range(0, x.shape[0], chunk):
        f1 = torch.fft.rfft2(x[s0 : s0 + chunk])
        if y is None:
            p = f1.real.square() + f1.imag.square()
        else:
            f2 = torch.fft.rfft2(y[s0 : s0 + chunk])
            p = f1.real * f2.real + f1.imag * f2.imag
        parts.append(binned_sum(p.reshape(p.shape[0], -1), idx, nb))
    sums = torch.cat(parts)
    sums = to_numpy(sums).astype(np.float64)
    normalization = ((side * math.pi / 180.0) / (n * n)) ** 2
    cl = np.zeros_like(sums)
    ok = hits > 0
    cl[:, ok] = normalization * (sums[:, ok] / hits[ok])
    ell = 0.5 * (e[:-1] + e[1:])
    return ell, cl


# --------------------------------------------------------------------------------------
# 3D: Pylians-identical power spectrum
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _kgrid_3d_np(n: int) -> tuple[np.ndarray, np.ndarray]:
    """|n| (fundamental units) of every rfft cell and the Pylians independent-mode mask."""
    middle = n // 2
    a = np.arange(n)
    k_full = np.where(a > middle, a - n, a)  # Pylians: kxx > middle -> negative
    kz = np.arange(middle + 1)
    kx = k_full[:, None, None]
    ky = k_full[None, :, None]
    kzz = kz[None, None, :]
    kk = np.sqrt((kx * kx + ky * ky + kzz * kzz).astype(np.float64))
    special = (kzz == 0) | ((kzz == middle) & (n % 2 == 0))
    kx_special = (kx == 0) | ((kx == middle) & (n % 2 == 0))
    skip = special & ((kx < 0) | (kx_special & (ky < 0)))
    keep = ~np.broadcast_to(skip, kk.shape)
    kk.setflags(write=False)
    return kk, keep


@functools.lru_cache(maxsize=32)
def _k_index_3d(n: int, box: float, edges: tuple | None, device: str):
    kk, keep = _kgrid_3d_np(n)
    kf = 2.0 * np.pi / box
    flat = kk.ravel()
    keep = keep.ravel()
    if edges is None:
        kmax = int(np.sqrt(3 * (n // 2) ** 2))
        nb = kmax  # bins 1..kmax after dropping the DC bin 0
        b = flat.astype(np.int64) - 1
        kvals = flat
    else:
        e = np.asarray(edges)
        nb = e.size - 1
        kvals = flat * kf
        b = np.searchsorted(e, kvals, side="right") - 1  # edges[b] <= k < edges[b+1]
        b[flat == 0] = -1  # DC mode excluded
    b[~keep] = -1
    b[(b < 0) | (b >= nb)] = nb
    nmodes = np.bincount(b, minlength=nb + 1)[:nb].astype(np.float64)
    ksum = np.bincount(b, weights=flat, minlength=nb + 1)[:nb]
    with np.errstate(invalid="ignore", divide="ignore"):
        kmean = ksum / nmodes * kf
    return torch.from_numpy(b).to(device), nmodes, kmean, nb


def power_spectrum_3d(
    cubes: Any,
    box_size: float,
    k_edges: Any = None,
    other: Any = None,
    device: str | torch.device | None = None,
    return_nmodes: bool = False,
):
    r"""Monopole power spectrum of a batch of cubic fields, Pylians-identical by default.

    The field is used as given (no mean subtraction, no mass-assignment correction): pass
    the overdensity :math:`\delta`; the DC mode is excluded anyway.

    Parameters
    ----------
    cubes : array_like or torch.Tensor
        ``(B, N, N, N)`` fields (e.g. overdensity, dimensionless).
    box_size : float
        Side of the box in Mpc/h.
    k_edges : array_like, optional
        Strictly increasing bin edges in h/Mpc (linear or log spaced). ``None`` (default):
        Pylians' integer bins of width ``kF = 2 pi / box_size``.
    other : array_like or torch.Tensor, optional
        Second batch of the same shape: cross spectrum ``Re(delta_1 delta_2^*)``.
    device : str or torch.device, optional
        Compute there instead of on the input's device.
    return_nmodes : bool
        Also return the number of independent modes per bin.

    Returns
    -------
    k : numpy.ndarray
        ``(nb,)`` mean wavenumber of the modes in each bin, h/Mpc (NaN for empty bins).
    pk : numpy.ndarray
        ``(B, nb)`` power spectrum in (Mpc/h)^3 (NaN for empty bins).
    nmodes : numpy.ndarray
        ``(nb,)`` number of independent modes, only if ``return_nmodes``.
    """
    x = as_batch(cubes, "cubes", 4, "cubes (B, D, H, W)", device=device)
    box = check_positive(box_size, "box_size", "Mpc/h")
    edges = None
    if k_edges is not None:
        edges = tuple(check_edges(k_edges, "k_edges", positive=True).tolist())
    n = x.shape[-1]
    idx, nmodes, kmean, nb = _k_index_3d(n, box, edges, str(x.device))
    y = None
    if other is not None:
        y = as_batch(other, "other", 4, "cubes (B, D, H, W)", device=x.device)
        check_same_batch(x, y, "cubes", "other")
        y = y.to(x.dtype)
    chunk = _u.chunk_size(n**3, 8)  # bounds the FFT buffers (about 1 GB in float32)
    parts = []
    for s0 in range(0, x.shape[0], chunk):
        f1 = torch.fft.rfftn(x[s0 : s0 + chunk], dim=(-3, -2, -1))
        if y is None:
            p = f1.real.square() + f1.imag.square()
        else:
            f2 = torch.fft.rfftn(y[s0 : s0 + chunk], dim=(-3, -2, -1))
            p = f1.real * f2.real + f1.imag * f2.imag
            del f2
        del f1
        parts.append(to_numpy(binned_sum(p.reshape(p.shape[0], -1), idx, nb)).astype(np.float64))
        del p
    sums = np.concatenate(parts)
    with np.errstate(invalid="ignore", divide="ignore"):
        pk = (sums / nmodes) * (box / n**2) ** 3
    pk[:, nmodes == 0] = np.nan
    if return_nmodes:
        return kmean.copy(), pk, nmodes.copy()
    return kmean.copy(), pk
