r"""Bispectrum of cubes for a set of triangles (Pylians ``Bk`` conventions).

For legs :math:`k_1, k_2` (h/Mpc) and opening angles :math:`\theta_j`, the third side is
:math:`k_3 = \sqrt{(k_2 \sin\theta)^2 + (k_2\cos\theta + k_1)^2}`. Each leg selects the
Fourier shell :math:`k_i - k_F \le |\mathbf{k}| < k_i + k_F` (:math:`k_F = 2\pi/L`, all cells of
the real FFT), transformed back to real space:
:math:`\delta_i(\mathbf{x})` and the shell indicator :math:`I_i(\mathbf{x})`. Then

.. math::
   B = \frac{\sum_x \delta_1\delta_2\delta_3}{\sum_x I_1 I_2 I_3}\,\frac{L^6}{N^9},\qquad
   P_i = \frac{\sum_x \delta_i^2}{\sum_x I_i^2}\,\frac{L^3}{N^6},\qquad
   Q = \frac{B}{P_1P_2 + P_1P_3 + P_2P_3}.

(The transform normalizations cancel in these ratios.)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from . import _utils as _u
from ._utils import as_batch, check_positive, to_numpy

__all__ = ["bispectrum_3d"]


@functools.lru_cache(maxsize=16)
def _shells(n: int, box: float, legs: tuple, device: str, dtype_name: str):
    """Shell masks, indicator sums, and flattened (index, weight, leg) lists over the rfft half space."""
    middle = n // 2
    a = np.arange(n)
    kf_int = np.where(a > middle, a - n, a)
    kz = np.arange(middle + 1)
    kk = np.sqrt((kf_int[:, None, None] ** 2 + kf_int[None, :, None] ** 2 + kz[None, None, :] ** 2).astype(np.float64))
    # Hermitian weight of each rfft cell in a sum over the full grid
    w = np.full(middle + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[middle] = 1.0
    wfull = np.broadcast_to(w[None, None, :], kk.shape).ravel()
    kF = 2.0 * np.pi / box
    dtype = getattr(torch, dtype_name)
    masks, idx, seg, wt = [], [], [], []
    for j, k in enumerate(legs):
        kmin, kmax = (k - kF) / kF, (k + kF) / kF
        m = (kk >= kmin) & (kk < kmax)
        masks.append(torch.from_numpy(m).to(device))
        ii = np.flatnonzero(m.ravel())
        idx.append(ii)
        seg.append(np.full(ii.size, j))
        wt.append(wfull[ii])
    # geometry-only sums of the shell indicators I_i(x) (real space, as Pylians)
    ind = [torch.fft.irfftn(m.to(dtype), s=(n, n, n)) for m in masks]
    pairs = np.array([float((i * i).sum()) for i in ind])
    tri = np.array([float((ind[0] * ind[1] * ind[2 + j]).sum()) for j in range(len(legs) - 2)])
    del ind
    t = lambda v, dt: torch.from_numpy(np.concatenate(v).astype(dt)).to(device)  # noqa: E731
    return masks, pairs, tri, t(idx, np.int64), t(seg, np.int64), t(wt, np.float64).to(dtype)


def _shell_sums(vals: torch.Tensor, idx, seg, wt, nlegs: int) -> np.ndarray:
    """Weighted sums of ``vals[B, M]`` over each shell -> ``(B, nlegs)``."""
    g = vals[:, idx] * wt
    out = torch.zeros((nlegs, vals.shape[0]), dtype=vals.dtype, device=vals.device)
    out.index_add_(0, seg, g.T.contiguous())
    return to_numpy(out.T).astype(np.float64)


def bispectrum_3d(
    cubes: Any,
    box_size: float,
    k1: float,
    k2: float,
    thetas: Any,
    device: str | torch.device | None = None,
    chunk: int | None = None,
    return_pk: bool = False,
):
    r"""Bispectrum ``B`` and reduced bispectrum ``Q`` of a batch of cubes, as Pylians ``Bk``.

    Parameters
    ----------
    cubes : array_like or torch.Tensor
        ``(B, N, N, N)`` overdensity fields (used as given; P3 subtracts the mean first).
    box_size : float
        Box side in Mpc/h.
    k1, k2 : float
        Triangle legs in h/Mpc.
    thetas : array_like
        Angles between :math:`\mathbf{k}_1` and :math:`\mathbf{k}_2` in radians.
    device : str or torch.device, optional
    chunk : int, optional
        Cubes processed at once (memory bound); default from the cube size.
    return_pk : bool
        Also return ``k_all`` (``(2 + n_theta,)``: k1, k2, k3...) and the shell powers
        ``pk[B, 2 + n_theta]`` in (Mpc/h)^3.

    Returns
    -------
    b : numpy.ndarray
        ``(B, n_theta)`` bispectrum in (Mpc/h)^6.
    q : numpy.ndarray
        ``(B, n_theta)`` reduced bispectrum (dimensionless).
    """
    x = as_batch(cubes, "cubes", 4, "cubes (B, D, H, W)", device=device)
    box = check_positive(box_size, "box_size", "Mpc/h")
    k1 = check_positive(k1, "k1", "h/Mpc")
    k2 = check_positive(k2, "k2", "h/Mpc")
    th = np.atleast_1d(np.asarray(thetas, dtype=np.float64))
    if th.ndim != 1 or th.size == 0 or not np.all(np.isfinite(th)):
        raise ValueError(
            "thetas must be a non-empty 1D sequence of finite angles in radians; accepted e.g. numpy.linspace(0, "
            "np.pi, 10)."
        )
    n = x.shape[-1]
    kF = 2.0 * np.pi / box
    kN = kF * (n // 2)
    k3 = np.sqrt((k2 * np.sin(th)) ** 2 + (k2 * np.cos(th) + k1) ** 2)
    legs = (k1, k2) + tuple(k3.tolist())
    if max(k1, k2) > np.sqrt(3) * kN:
        raise ValueError(
            f"k1={k1:g} or k2={k2:g} h/Mpc lies beyond the grid's largest wavenumber {np.sqrt(3) * kN:.4g} h/Mpc; "
            f"accepted are legs inside the grid."
        )
    masks, pairs, tri, idx, seg, wt = _shells(n, box, legs, str(x.device), str(x.dtype).replace("torch.", ""))
    nt = th.size
    if np.any(pairs == 0) or np.any(tri == 0):
        raise ValueError(
            "a triangle leg selects no Fourier mode on this grid; accepted are k1, k2 and thetas whose shells contain "
            "modes (k >= k_F)."
        )
    if chunk is None:
        chunk = _u.chunk_size(n**3)
    bsum = np.zeros((x.shape[0], nt))
    psum = np.zeros((x.shape[0], 2 + nt))
    for s in range(0, x.shape[0], chunk):
        xb = x[s : s + chunk]
        f = torch.fft.rfftn(xb, dim=(-3, -2, -1))
        d12 = torch.fft.irfftn(f * masks[0], s=(n, n, n)) * torch.fft.irfftn(f * masks[1], s=(n, n, n))
        g = torch.fft.rfftn(d12, dim=(-3, -2, -1))
        del d12
        f = f.reshape(f.shape[0], -1)
        g = g.reshape(g.shape[0], -1)
        # Parseval: sum_x d_i^2 = N^-3 sum_k |f|^2 M_i ; sum_x d1 d2 d3 = N^-3 sum_k Re(f conj(G)) M_3
        psum[s : s + chunk] = _shell_sums(f.real.square() + f.imag.square(), idx, seg, wt, 2 + nt) / n**3
        cross = f.real * g.real + f.imag * g.imag
        bsum[s : s + chunk] = _shell_sums(cross, idx, seg, wt, 2 + nt)[:, 2:] / n**3
    # irfftn carries 1/N^3 per field; Pylians' unnormalized transforms carry none. Both
    # cancel in the ratios with the indicator sums computed the same way.
    pk = psum / pairs[None, :] * (box / n**2) ** 3
    b = bsum / tri[None, :] * (box**2 / n**3) ** 3
    p1, p2, p3 = pk[:, :1], pk[:, 1:2], pk[:, 2:]
    q = b / (p1 * p2 + p1 * p3 + p2 * p3)
    if return_pk:
        return b, q, np.asarray(legs), pk
    return b, q
