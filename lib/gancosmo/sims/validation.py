"""Measurements that validate the simulator against pyccl (used by tests and chapter 00).

Power spectra of simulated fields are measured with :mod:`gancosmo.stats` after dividing the
field's Fourier modes by the cloud-in-cell window of the painting that made it.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..stats import power_spectrum_2d, power_spectrum_3d
from .mesh import cic_window, wavevectors

__all__ = ["compensated_overdensity", "measured_pk", "linear_k_edges", "measured_cl"]


def compensated_overdensity(density: np.ndarray, box_size: float, ndim: int = 3) -> np.ndarray:
    """delta = density / mean - 1 with the CIC window divided out.

    ``density`` is one ``ndim``-dimensional field or a batch of them (batch first).
    """
    field = torch.as_tensor(np.asarray(density), dtype=torch.float64)
    single = field.ndim == ndim
    batch = field[None] if single else field
    n = batch.shape[-1]
    mean = batch.mean(dim=tuple(range(1, ndim + 1)), keepdim=True)
    delta_k = torch.fft.rfftn(batch / mean - 1.0, dim=tuple(range(1, ndim + 1)))
    window = cic_window(wavevectors(n, ndim, box_size, dtype=torch.float64), n, box_size)
    delta = torch.fft.irfftn(delta_k / window, s=(n,) * ndim, dim=tuple(range(1, ndim + 1)))
    return (delta[0] if single else delta).numpy()


def linear_k_edges(n: int, box_size: float) -> np.ndarray:
    """Bins one fundamental mode wide, centred on multiples of k_f = 2 pi / L, up to the Nyquist frequency."""
    k_f = 2 * math.pi / box_size
    return (np.arange(n // 2) + 0.5) * k_f


def measured_pk(density: np.ndarray, box_size: float, k_edges=None, return_nmodes: bool = False):
    """P(k) in (Mpc/h)^3 of CIC density fields ``(B, n, n, n)`` or ``(n, n, n)``: ``(k, pk[B, nb])``.

    With ``return_nmodes`` also the number of Fourier modes in each bin.
    """
    delta = compensated_overdensity(density, box_size)
    batch = delta if delta.ndim == 4 else delta[None]
    edges = linear_k_edges(batch.shape[-1], box_size) if k_edges is None else k_edges
    return power_spectrum_3d(batch.astype(np.float64), box_size, k_edges=edges, return_nmodes=return_nmodes)


def measured_cl(maps: np.ndarray, side_deg: float, ell_edges) -> tuple[np.ndarray, np.ndarray]:
    """Convergence C_ell of maps ``(B, n, n)`` over a square field of ``side_deg`` degrees."""
    return power_spectrum_2d(np.asarray(maps, dtype=np.float64), side_deg, ell_edges)
