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
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from . import _utils as _u
from ._utils import as_batch, bin_index, check_edges, to_numpy

__all__ = ["minkowski_2d", "check_thresholds_overlap"]


def check_thresholds_overlap(x: torch.Tensor, e: np.ndarray, name: str = "thresholds") -> None:
    """Raise when every threshold bin lies outside the range of the data."""
    lo, hi = float(x.min()), float(x.max())
    if e[-1] <= lo or e[0] > hi:
        raise ValueError(
            f"{name} span [{e[0]:.6g}, {e[-1]:.6g}] but the data lie in [{lo:.6g}, {hi:.6g}]; "
            "accepted are thresholds that overlap the range of the data."
        )


def minkowski_2d(
    maps: Any,
    thresholds: Any,
    device: str | torch.device | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Minkowski functionals V0, V1, V2 of a batch of maps, identical to lenstools 1.2.

    Parameters
    ----------
    maps : array_like or torch.Tensor
        ``(B, N, N)`` maps (same units as ``thresholds``).
    thresholds : array_like
        Strictly increasing threshold edges ``nu`` (``nb + 1`` values) in map units.
    device : str or torch.device, optional

    Returns
    -------
    centers : numpy.ndarray
        ``(nb,)`` threshold mid-points.
    v0, v1, v2 : numpy.ndarray
        ``(B, nb)`` each: area fraction (dimensionless), boundary length and Euler
        characteristic densities per pixel and per unit threshold (see module docstring).
    """
    x = as_batch(maps, "maps", 3, "maps (B, H, W)", device=device)
    e = check_edges(thresholds, "thresholds")
    check_thresholds_overlap(x, e)
    chunk = _u.chunk_size(x.shape[-1] * x.shape[-2])  # bounds the temporaries
    parts = [_minkowski_chunk(x[i : i + chunk], e) for i in range(0, x.shape[0], chunk)]
    v0, v1, v2 = (np.concatenate([p[j] for p in parts]) for j in range(3))
    return 0.5 * (e[:-1] + e[1:]), v0, v1, v2


def _minkowski_chunk(x: torch.Tensor, e: np.ndarray):
    B = x.shape[0]
    npix = x.shape[-1] * x.shape[-2]
    # lenstools: coordinate(x, y) = y * N + x, so its "x" runs along the last axis.
    xp = torch.nn.functional.pad(x.unsqueeze(1), (2, 2, 2, 2), mode="circular").squeeze(1)
    H, W = x.shape[-2:]

    def at(dy: int, dx: int) -> torch.Tensor:  # u[i + dy, j + dx], periodic
        return xp[:, 2 + dy : 2 + dy + H, 2 + dx : 2 + dx + W]

    nb = e.size - 1
    flat = x.reshape(B, -1)
    idx = bin_index(flat, e)  # e[idx] <= u < e[idx+1]
    inside = (idx >= 0) & (idx < nb)
    # V0: fraction of pixels >= the mid-point of each bin (counts of u below each mid-point)
    mids = 0.5 * (e[:-1] + e[1:])
    jm = bin_index(flat, mids) + 1  # number of mid-points <= u, in [0, nb]
    off = torch.arange(B, device=x.device).unsqueeze(1)
    cnt = torch.bincount((jm + off * (nb + 1)).reshape(-1), minlength=B * (nb + 1)).reshape(B, nb + 1)
    ge = torch.flip(torch.cumsum(torch.flip(cnt, [1]), 1), [1])[:, 1:]  # #(jm > i) = #(u >= mid_i)
    v0 = ge.to(torch.float64) / npix
    # V1, V2 only need the pixels inside the threshold range
    gx = (at(0, 1) - at(0, -1)) / 2.0
    gy = (at(1, 0) - at(-1, 0)) / 2.0
    hxx = (at(0, 2) + at(0, -2) - 2 * x) / 4.0
    hyy = (at(2, 0) + at(-2, 0) - 2 * x) / 4.0
    hxy = (at(1, 1) + at(-1, -1) - at(1, -1) - at(-1, 1)) / 4.0
    sel = inside.reshape(B, -1)
    gx, gy, hxx, hyy, hxy = (t.reshape(B, -1)[sel] for t in (gx, gy, hxx, hyy, hxy))
    g2 = gx * gx + gy * gy
    i1 = 0.25 * torch.sqrt(g2)
    zero = g2 == 0
    num = 2 * gx * gy * hxy - gx * gx * hyy - gy * gy * hxx
    i2 = torch.where(zero, (2 * hxy - hxx - hyy) / (4.0 * math.pi), num / torch.where(zero, torch.ones_like(g2), g2) / (2.0 * math.pi))
    slot = (idx + off * nb)[sel]
    s1 = torch.bincount(slot, weights=i1.to(torch.float64), minlength=B * nb).reshape(B, nb)
    s2 = torch.bincount(slot, weights=i2.to(torch.float64), minlength=B * nb).reshape(B, nb)
    width = np.diff(e)
    v1 = to_numpy(s1) / (npix * width)
    v2 = to_numpy(s2) / (npix * width)
    return to_numpy(v0), v1, v2
