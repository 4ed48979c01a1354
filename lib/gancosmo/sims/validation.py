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


# Sizes of the chapter's own validation runs, per profile (the suites have theirs in suites.SIZES).
VALIDATION_SIZES = {
    "smoke": dict(pm=dict(box_size=128.0, n_particles=32, seeds=(0,), n_steps=6),
                  lensing=dict(box_size=256.0, n_particles=32, n_maps=8, n_pix=64, field_deg=5.0, n_steps=6, n_sims=1),
                  timing=(32,)),
    "cpu": dict(pm=dict(box_size=256.0, n_particles=64, seeds=(0, 1), n_steps=20),
                lensing=dict(box_size=256.0, n_particles=128, n_maps=48, n_pix=128, field_deg=5.0, n_steps=12, n_sims=1),
                timing=(64, 128)),
    "gpu": dict(pm=dict(box_size=256.0, n_particles=256, seeds=(0, 1, 2, 3), n_steps=30),
                lensing=dict(box_size=256.0, n_particles=256, n_maps=400, n_pix=128, field_deg=5.0, n_steps=20, n_sims=4),
                timing=(128, 256, 512)),
    "paper": dict(pm=dict(box_size=512.0, n_particles=512, seeds=(0, 1, 2, 3), n_steps=30),
                  lensing=dict(box_size=256.0, n_particles=512, n_maps=1000, n_pix=256, field_deg=5.0, n_steps=30, n_sims=8),
                  timing=(256, 512)),
}


def pk_against_theory(cosmo, runs, box_size: float, redshifts) -> dict:
    """Mean and scatter of measured P(k, z) over runs, with pyccl's linear and halofit spectra.

    Returns a dict keyed by redshift with ``k``, ``mean``, ``std``, ``linear``, ``halofit``
    (all in h/Mpc and (Mpc/h)^3) and ``n_runs``.
    """
    out = {}
    for z in redshifts:
        k, pk = measured_pk(np.stack([r.density[z] for r in runs]), box_size)
        out[z] = dict(k=k, mean=pk.mean(0), std=pk.std(0), linear=cosmo.pk_linear(k, z), halofit=cosmo.pk_halofit(k, z), n_runs=len(runs))
    return out


def growth_check(cosmo, runs, box_size: float, z_ref: float, redshifts, k_max: float = 0.06) -> dict:
    """Mode-weighted P(k<k_max, z) / P(k<k_max, z_ref) per run against (D(z)/D(z_ref))^2 from pyccl."""
    measured = {z: [] for z in redshifts}
    for run in runs:
        k, p_ref, n_modes = measured_pk(run.density[z_ref], box_size, return_nmodes=True)
        low = k < k_max
        for z in redshifts:
            _, p = measured_pk(run.density[z], box_size)
            measured[z].append(np.sum((p[0] * n_modes)[low]) / np.sum((p_ref[0] * n_modes)[low]))
    d = cosmo.growth_factor(list(redshifts)) / cosmo.growth_factor(z_ref)[0]
    return dict(redshifts=np.array(list(redshifts)), measured=np.array([measured[z] for z in redshifts]), theory=d**2, k_max=k_max)


def time_pm(cosmo, n_particles: int, box_size: float, n_steps: int = 30, device="cpu", repeats: int = 1, force_factor: int = 1) -> dict:
    """Wall-clock time of a full PM run (2LPT + ``n_steps`` KDK steps + one z = 0 output).

    Returns seconds per simulation (best of ``repeats``), per step, and the device.
    """
    import time

    import torch

    from .pm import run_pm

    best = float("inf")
    for _ in range(repeats):
        if str(device).startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        run_pm(cosmo, box_size, n_particles, [0.0], seed=0, n_steps=n_steps, device=device, force_factor=force_factor)
        if str(device).startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return dict(n_particles=n_particles, box_size=box_size, n_steps=n_steps, device=str(device), force_factor=force_factor, seconds_per_sim=best, seconds_per_step=best / n_steps)
