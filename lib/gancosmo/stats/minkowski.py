r"""Minkowski functionals of excursion sets of maps (lenstools 1.2 ``minkowskiFunctionals``).

With periodic finite differences (lenstools' stencils)
:math:`g_x = (u_{x+1} - u_{x-1})/2`, :math:`h_{xx} = (u_{x+2} + u_{x-2} - 2u)/4`,
:math:`h_{xy} = (u_{x+1,y+1} + u_{x-1,y-1} - u_{x-1,y+1} - u_{x+1,y-1})/4`, and thresholds
:math:`\nu_0 < \dots < \nu_n`, bin :math:`i` gives

* :math:`V_0 = \mathrm{frac}(u \ge (\nu_i + \nu_{i+1})/2)`, the area fraction of the excursion set;
* :math:`V_1 = \frac{1}{N^2 \Delta\nu_i} \sum_{\nu_i \le u < \nu_{i+1}} \tfrac14 |\nabla u|`,
  a quarter of the boundary length per unit area;
* :math:`V_2 = \frac{1}{N^2 \Delta\nu_i} \sum_{\nu_i \le u < \nu_{i+1}}
  \frac{2 g_x g_y h_{xy} - g_x^2 h_{yy} - g_y^2 h_{xx}}{2\pi |\nabla u|^2}`, the Euler
  characteristic density (:math:`(2h_{xy} - h_{xx} - h_{yy})/4\pi` where the gradient vanishes).

Pixel units throughout (``norm=False`` in lenstools); multiply by the number of pixels per
steradian to get per-area quantities.

Non-periodic maps (tiles): ``boundary="mask"`` masks the ``border`` (default 2) outermost
pixels on each side, those whose stencils would wrap around, and normalises by the
``(N - 2 border)^2`` unmasked pixels instead of :math:`N^2` (lenstools' convention for
masked maps).

All thresholds are binned at once: every pixel gets its bin on the grid of edges and
mid-points (an arithmetic index, exact by construction), V0 is a cumulative count of that
histogram, and V1, V2 are weighted histograms of the same index.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

from . import _utils as _u
from ._utils import as_batch, check_edges, to_numpy

__all__ = ["minkowski_2d", "check_thresholds_overlap", "check_boundary", "check_border"]


def check_thresholds_overlap(x: torch.Tensor, e: np.ndarray, name: str = "thresholds") -> None:
    """Raise when every threshold bin lies outside the range of the data."""
    lo, hi = (float(v) for v in torch.aminmax(x))
    if e[-1] <= lo or e[0] > hi:
        raise ValueError(
            f"{name} span [{e[0]:.6g}, {e[-1]:.6g}] but the data lie in [{lo:.6g}, {hi:.6g}]; "
            "accepted are thresholds that overlap the range of the data."
        )


BOUNDARIES = ("periodic", "mask")
#: Pixels of the finite-difference stencils (the hessian's second differences) on each side.
STENCIL_RADIUS = 2


def check_boundary(boundary: Any, accepted: tuple = BOUNDARIES) -> str:
    """Return ``boundary`` if it is one of ``accepted``, else raise one ValueError sentence."""
    if not isinstance(boundary, str) or boundary not in accepted:
        names = " or ".join(repr(a) for a in accepted)
        raise ValueError(f"boundary must be {names} (the accepted names), got {boundary!r}.")
    return boundary


def check_border(border: Any, boundary: str, reach: int) -> int:
    """The masked border width in pixels: ``border``, ``reach`` when it is None; 0 unless ``boundary="mask"``.

    Raises one ValueError sentence when ``border`` is not None or an integer ``>= reach``
    (with ``boundary="mask"``), or is given without ``boundary="mask"``.
    """
    if boundary != "mask":
        if border is None or (
            isinstance(border, (int, np.integer)) and not isinstance(border, (bool, np.bool_)) and border == 0
        ):
            return 0
        raise ValueError(
            f"border is {border!r} with boundary={boundary!r}; accepted is None (or 0) unless boundary='mask'."
        )
    if border is None:
        return reach
    if isinstance(border, (bool, np.bool_)) or not isinstance(border, (int, np.integer)) or border < reach:
        raise ValueError(
            f"border is {border!r}; accepted with boundary='mask' are None or integers >= {reach} "
            f"(pixels masked on each side, at least the {reach} whose neighbourhood would cross the edge)."
        )
    return int(border)


def crop(x: torch.Tensor, w: int) -> torch.Tensor:
    """The batch ``x`` without its ``w`` outermost pixels on every side of every spatial axis (a view)."""
    return x if w == 0 else x[(slice(None),) + (slice(w, -w),) * (x.ndim - 1)]


def masked_input(x: torch.Tensor, name: str, reach: int, border: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``boundary="mask"`` inputs ``(read, counted)``: ``x`` less its ``border - reach`` and ``border``
    outermost pixels on each side (the counted pixels and the neighbours they read).

    Raises when nothing is left to count or the read part is not finite.
    """
    if min(x.shape[1:]) <= 2 * border:
        raise ValueError(
            f"{name} have spatial shape {tuple(x.shape[1:])}; accepted with boundary='mask' and border={border} "
            f"are sides of more than {2 * border} pixels."
        )
    read = crop(x, border - reach)
    if not _u.is_finite(read):
        raise ValueError(
            f"{name} contain NaN or infinite values among the pixels read with border={border}; accepted are finite "
            f"values there (only the {border - reach} outermost on each side are never read and may be anything)."
        )
    return read, crop(read, reach)


def minkowski_2d(
    maps: Any,
    thresholds: Any,
    device: str | torch.device | None = None,
    boundary: str = "periodic",
    border: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Minkowski functionals V0, V1, V2 of a batch of maps, identical to lenstools 1.2.

    Parameters
    ----------
    maps : array_like or torch.Tensor
        ``(B, N, N)`` maps (same units as ``thresholds``).
    thresholds : array_like
        Strictly increasing threshold edges ``nu`` (``nb + 1`` values) in map units.
    device : str or torch.device, optional
    boundary : {"periodic", "mask"}
        ``"periodic"`` (default, lenstools): the finite differences wrap around the edges.
        ``"mask"``, for non-periodic maps such as tiles cut from a larger map: nothing
        wraps around; the ``border`` outermost rows and columns on each side are masked,
        i.e. left out of all three functionals, and only the ``(N - 2 border)^2`` interior
        pixels enter the sums.  V0, V1 and V2 are then normalised by that unmasked area
        (still per pixel), so they estimate the same densities as the periodic ones.
    border : int, optional
        With ``boundary="mask"`` only: the masked width in pixels, at least and by default
        ``STENCIL_RADIUS = 2``, the reach of lenstools' second differences (the pixels whose
        stencil would cross the edge).  The unmasked pixels read their neighbours up to 2
        pixels away, so the ``border - 2`` outermost pixels are never read and may hold
        anything, NaN and inf included (the rest must be finite).  A map whose masked
        pixels are NaN in a ring of width ``w`` is what lenstools' masked maps
        (``ConvergenceMap.mask``) compute with ``border = w + 2``.

    Returns
    -------
    centers : numpy.ndarray
        ``(nb,)`` threshold mid-points.
    v0, v1, v2 : numpy.ndarray
        ``(B, nb)`` each: area fraction (dimensionless), boundary length and Euler
        characteristic densities per (unmasked) pixel and per unit threshold (see the
        module docstring; pixel units).

    Raises
    ------
    ValueError
        Bad maps or thresholds, thresholds that miss the unmasked data, ``boundary`` not
        ``"periodic"`` or ``"mask"``, ``border`` not None or an integer ``>= 2`` (or given
        without ``boundary="mask"``), or nothing left after masking.
    """
    check_boundary(boundary)
    w = check_border(border, boundary, STENCIL_RADIUS)
    masked = boundary == "mask"
    x = as_batch(maps, "maps", 3, "maps (B, H, W)", device=device, allow_nan=masked)
    e = check_edges(thresholds, "thresholds")
    if masked:
        x, counted = masked_input(x, "maps", STENCIL_RADIUS, w)
        check_thresholds_overlap(counted, e)
    else:
        check_thresholds_overlap(x, e)
    # CPU: chunks of ~2^18 pixels keep every temporary in cache (large fresh allocations
    # page-fault on every call); other devices: bounded by the usual chunk size.
    per = x.shape[-1] * x.shape[-2]
    chunk = _u.chunk_size(per, 2.0**-6) if x.device.type == "cpu" else _u.chunk_size(per)
    parts = [_minkowski_chunk(x[i : i + chunk], e, boundary) for i in range(0, x.shape[0], chunk)]
    v0, v1, v2 = (np.concatenate([p[j] for p in parts]) for j in range(3))
    return 0.5 * (e[:-1] + e[1:]), v0, v1, v2


def _half_grid(e: np.ndarray) -> np.ndarray:
    """Edges and mid-points interleaved: ``g[2i] = e_i``, ``g[2i + 1] = (e_i + e_{i+1})/2``."""
    g = np.empty(2 * e.size - 1)
    g[0::2] = e
    g[1::2] = 0.5 * (e[:-1] + e[1:])
    return g


#: Extra half-bin slots on each side for the pixels outside the thresholds (see ``grid_index``).
_SPREAD = 256


def _minkowski_chunk(x: torch.Tensor, e: np.ndarray, boundary: str):
    r"""V0, V1, V2 of a chunk, with one binning of every pixel on the half-bin grid.

    ``j`` = bin of ``u`` among the interleaved edges and mid-points (``-1 .. 2 nb``): pixel
    counts per half-bin give V0 (``u >= mid_i`` iff ``j >= 2i + 1``) by a cumulative sum, and
    the threshold bin of a pixel is ``floor(j / 2)`` (``e_i <= u < e_{i+1}`` iff ``j`` is
    ``2i`` or ``2i + 1``), so V1 and V2 are half-bin sums of per-pixel weights added in pairs.

    The chunk is handled as one 1D array (maps and their padding end to end): every stencil
    offset is a contiguous slice, and the positions that are no pixel of the output region
    (padding between rows and maps) are sent to dropped slots.
    """
    B = x.shape[0]
    nb = e.size - 1
    K = _SPREAD
    D = 2 * nb + 2 * K + 2  # slots j + 1 + K of the pixels; D .. 2D - 1: the non-pixels
    st = _u.flat_stencil(x, STENCIL_RADIUS, boundary)
    L, n = st.src.shape[1], st.length
    T = (B - 1) * L + n  # positions lo .. lo + T of the flat chunk
    src = st.src.reshape(-1)
    lo = st.lo

    def sh(o):
        return src[lo + o : lo + o + T]

    npix = int(np.prod(st.sizes))
    j = _u.grid_index(sh(0), _half_grid(e), out_int32=True, spread=K)
    slot = j + _slot_bias(B, L, st.sizes, st.strides, lo, T, K + 1, D, x.device)

    cnt = torch.bincount(slot, minlength=2 * D * B).view(B, 2 * D)[:, :D]
    ge = torch.flip(torch.cumsum(torch.flip(cnt, [1]), 1), [1])  # ge[:, k] = #(slot >= k)
    v0 = ge[:, K + 2 : K + 2 * nb + 1 : 2].to(torch.float64) / npix  # #(j >= 2i + 1)
    n_in = int(cnt[:, K + 1 : K + 1 + 2 * nb].sum())
    if x.device.type == "cpu" and n_in < 0.5 * npix * B:
        # few pixels in the threshold range: differences at those pixels only
        jn = j.numpy()
        inside = (jn >= 0) & (jn < 2 * nb) & _u.valid_positions(B, L, st.sizes, st.strides, lo, T, x.device).numpy()
        q = np.flatnonzero(inside)
        pos, src_np = q + lo, src.numpy()
        i1, i2 = _stencil_weights(*_differences(lambda o: torch.from_numpy(src_np.take(pos + o)), st.offset))
        slot = torch.from_numpy(slot.numpy().take(q))
    else:
        i1, i2 = _stencil_weights(*_differences(sh, st.offset))
    s1 = torch.bincount(slot, weights=i1.to(torch.float64), minlength=2 * D * B).view(B, 2 * D)
    s2 = torch.bincount(slot, weights=i2.to(torch.float64), minlength=2 * D * B).view(B, 2 * D)
    # threshold bin i = half-bins j = 2i, 2i + 1 = slots K + 1 + 2i, K + 2 + 2i
    s1 = s1[:, K + 1 : K + 1 + 2 * nb].reshape(B, nb, 2).sum(2)
    s2 = s2[:, K + 1 : K + 1 + 2 * nb].reshape(B, nb, 2).sum(2)
    width = np.diff(e)
    v1 = to_numpy(s1) / (npix * width)
    v2 = to_numpy(s2) / (npix * width)
    return to_numpy(v0), v1, v2


@functools.lru_cache(maxsize=16)
def _slot_bias(B, L, sizes, strides, lo, T, bias, D, device):
    """int32 ``(T,)``: ``bias + 2 D b`` at the output pixels of item ``b``, ``bias + 2 D b + D`` at
    the other positions (padding) of its stretch."""
    v = _u.valid_positions(B, L, sizes, strides, lo, T, device)
    item = (torch.arange(T, device=device) + lo) // L
    return (item * (2 * D) + (bias + D) - v.to(torch.int64) * D).to(torch.int32)


def _stencil_weights(gx, gy, hxx, hyy, hxy):
    r"""Per-pixel V1, V2 weights from the *unnormalised* differences.

    With ``gx = Gx/2``, ``hxx = Hxx/4`` (lenstools' stencils) the weights are
    :math:`|\nabla u|/4 = \sqrt{G^2}/8` and
    :math:`(2G_xG_yH_{xy} - G_x^2H_{yy} - G_y^2H_{xx})/(8\pi G^2)`, or
    :math:`(2H_{xy} - H_{xx} - H_{yy})/(16\pi)` where the gradient vanishes.
    """
    g2 = gx * gx + gy * gy
    i1 = torch.sqrt(g2).mul_(0.125)
    num = (2 * gx * gy).mul_(hxy).sub_(gx * gx * hyy).sub_(gy * gy * hxx)
    if g2.numel() and float(g2.min()) == 0.0:  # (g2 >= 0: cheaper than (g2 == 0).any())
        zero = g2 == 0
        flat = (2 * hxy - hxx - hyy) * (1.0 / (16.0 * math.pi))
        i2 = torch.where(zero, flat, num / torch.where(zero, torch.ones_like(g2), g2) * (1.0 / (8.0 * math.pi)))
    else:
        i2 = num.div_(g2).mul_(1.0 / (8.0 * math.pi))
    return i1, i2


def _differences(sh, o):
    """Unnormalised lenstools differences from ``sh(offset)`` (last axis = lenstools' x)."""
    c = sh(0)
    gx = sh(o(0, 1)) - sh(o(0, -1))
    gy = sh(o(1, 0)) - sh(o(-1, 0))
    hxx = (sh(o(0, 2)) + sh(o(0, -2))).sub_(c, alpha=2)
    hyy = (sh(o(2, 0)) + sh(o(-2, 0))).sub_(c, alpha=2)
    hxy = (sh(o(1, 1)) + sh(o(-1, -1))).sub_(sh(o(1, -1))).sub_(sh(o(-1, 1)))
    return gx, gy, hxx, hyy, hxy
