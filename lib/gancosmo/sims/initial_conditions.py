"""Gaussian initial conditions and second-order Lagrangian perturbation theory (2LPT).

The linear density field is drawn as white noise in configuration space (so a seed gives
the same field on every device and for every force-mesh resolution) and coloured by the
linear power spectrum at z = 0. Displacements follow Scoccimarro (1998):

    x(q, a) = q + D1(a) Psi1(q) + D2(a) Psi2(q),  Psi1 = -grad phi1,  Psi2 = +grad phi2,
    lap phi1 = delta_L(q),  lap phi2 = sum_{i<j} (phi1_ii phi1_jj - phi1_ij^2),
    D2 ~ -3/7 D1^2.

In 2D the same equations hold with one pair (i, j); the 2D "universe" uses the spectrum
P_2D(k) = k P_3D(k) / pi, which gives a 2D field the same variance per ln k as the 3D one.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..cosmology import Cosmology
from .mesh import wavevectors

__all__ = ["linear_power", "white_noise", "linear_density_k", "lpt_displacements"]


def linear_power(cosmo: Cosmology, k: np.ndarray, ndim: int) -> np.ndarray:
    """Linear power spectrum at z = 0 used for the initial field, in (Mpc/h)^ndim.

    For ``ndim == 3`` this is pyccl's P_lin(k); for ``ndim == 2`` it is k P_lin(k) / pi.
    """
    pk = cosmo.pk_linear(k, 0.0)
    return pk if ndim == 3 else k * pk / math.pi


def white_noise(n: int, ndim: int, seed: int) -> torch.Tensor:
    """Unit-variance Gaussian white noise on an ``n^ndim`` grid, drawn on the CPU from ``seed``."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn((n,) * ndim, generator=generator, dtype=torch.float32)


def linear_density_k(cosmo: Cosmology, box_size: float, n: int, ndim: int, seed: int, device="cpu") -> torch.Tensor:
    """Fourier modes (``rfftn`` convention) of the z = 0 linear density contrast.

    Parameters
    ----------
    cosmo : Cosmology
    box_size : float
        Box side in Mpc/h.
    n : int
        Grid points per side (the particle lattice).
    ndim : int
        2 or 3.
    seed : int
        Random seed of the white noise.

    Returns
    -------
    torch.Tensor
        Complex tensor of shape ``(n,) * (ndim - 1) + (n // 2 + 1,)`` whose inverse
        ``irfftn`` is delta_L(q) with power spectrum :func:`linear_power`.
    """
    noise_k = torch.fft.rfftn(white_noise(n, ndim, seed).to(device))
    ks = wavevectors(n, ndim, box_size, device=device, dtype=torch.float64)
    kmag = torch.sqrt(sum(k**2 for k in ks))
    # P(k) from pyccl on a fine log table, interpolated in log-log (relative error < 1e-6):
    # evaluating pyccl on every mode of a 512^3 grid would take minutes.
    k_min, k_max = 2 * math.pi / box_size, math.sqrt(ndim) * math.pi * n / box_size
    table_k = np.geomspace(k_min * 0.99, k_max * 1.01, 4096)
    table_lnp = torch.from_numpy(np.log(linear_power(cosmo, table_k, ndim))).to(device)
    position = (
        (torch.log(kmag.clamp(min=table_k[0])) - math.log(table_k[0]))
        / math.log(table_k[-1] / table_k[0])
        * (table_k.size - 1)
    )
    low = position.floor().clamp(0, table_k.size - 2)
    frac = position - low
    low = low.long()
    lnp = table_lnp[low] * (1 - frac) + table_lnp[low + 1] * frac
    cell_volume = (box_size / n) ** ndim
    amplitude = torch.where(kmag > 0, torch.exp(0.5 * lnp) / math.sqrt(cell_volume), torch.zeros_like(kmag))
    return noise_k * amplitude.to(torch.float32)


def lpt_displacements(delta_k: torch.Tensor, box_size: float, ndim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """First- and second-order Lagrangian displacements on the lattice, in Mpc/h.

    Parameters
    ----------
    delta_k : torch.Tensor
        Output of :func:`linear_density_k`.
    box_size : float
        Box side in Mpc/h.
    ndim : int
        2 or 3.

    Returns
    -------
    psi1, psi2 : torch.Tensor
        ``(n^ndim, ndim)`` displacements per unit growth (multiply by D1 and D2).
    """
    n = delta_k.shape[0]
    shape = (n,) * ndim
    ks = wavevectors(n, ndim, box_size, device=delta_k.device)
    k2 = sum(k**2 for k in ks)
    inv_k2 = torch.where(k2 > 0, 1.0 / torch.where(k2 > 0, k2, torch.ones_like(k2)), torch.zeros_like(k2))
    # phi1_k = -delta_k / k^2; derivatives use k components with the Nyquist mode zeroed (odd derivative).
    ks_odd = [torch.where(k.abs() >= math.pi * n / box_size - 1e-6, torch.zeros_like(k), k) for k in ks]
    phi1_k = -delta_k * inv_k2
    psi1 = torch.stack([torch.fft.irfftn(-1j * ks_odd[i] * phi1_k, s=shape).reshape(-1) for i in range(ndim)], dim=1)

    def hessian(i: int, j: int) -> torch.Tensor:
        ki = ks_odd[i] if i != j else ks[i]
        kj = ks_odd[j] if i != j else ks[j]
        return torch.fft.irfftn(-ki * kj * phi1_k, s=shape)

    diag = [hessian(i, i) for i in range(ndim)]
    source = torch.zeros(shape, dtype=torch.float32, device=delta_k.device)
    for i in range(ndim):
        for j in range(i + 1, ndim):
            source += diag[i] * diag[j] - hessian(i, j) ** 2
    phi2_k = -torch.fft.rfftn(source) * inv_k2
    psi2 = torch.stack([torch.fft.irfftn(1j * ks_odd[i] * phi2_k, s=shape).reshape(-1) for i in range(ndim)], dim=1)
    return psi1, psi2
