"""Measurements that validate the simulator against pyccl (used by tests and chapter 00).

Power spectra of simulated fields are measured with :mod:`gancosmo.stats` after dividing the
field's Fourier modes by the cloud-in-cell window of the painting that made it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..config import ChapterConfig, option, writable_folder
from ..params import ParameterError
from ..stats import power_spectrum_2d, power_spectrum_3d
from .mesh import cic_window, wavevectors

__all__ = [
    "compensated_overdensity",
    "measured_pk",
    "linear_k_edges",
    "measured_cl",
    "SimulationsConfig",
    "pk_against_theory",
    "growth_check",
    "time_pm",
]


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


@dataclass(frozen=True)
class SimulationsConfig(ChapterConfig):
    """Chapter ``00_simulations``: sizes of its own validation runs (the suites have theirs in ``suites.SIZES``).

    ``pm_*``: the runs whose P(k) is compared with halofit; ``lensing_*``: the convergence maps
    compared with Limber's C_ell; ``timing_particles``: the PM sizes timed.
    """

    seed: int = option(doc="first seed of the validation runs", low=0)
    n_steps: int = option(doc="PM time steps of the validation runs", low=1, high=1000)
    pm_box_size: float = option(doc="box side of the P(k) validation runs, Mpc/h", low=1, low_open=True)
    pm_particles: int = option(doc="particles per side of the P(k) validation runs", low=8, high=2048)
    pm_runs: int = option(doc="independent P(k) validation runs (seeds seed, seed + 1, ...)", low=1, high=64)
    lensing_box_size: float = option(doc="box side of the lensing runs, Mpc/h", low=1, low_open=True)
    lensing_particles: int = option(doc="particles per side of the lensing runs", low=8, high=2048)
    lensing_maps: int = option(doc="convergence maps per set", low=2)
    lensing_pix: int = option(doc="map side in pixels", low=16, high=4096)
    lensing_field_deg: float = option(doc="map side in degrees", low=0, low_open=True, high=30)
    lensing_steps: int = option(doc="PM time steps of the lensing runs", low=1, high=1000)
    lensing_sims: int = option(doc="simulations the maps are cut from", low=1)
    timing_particles: tuple = option(
        doc="particles per side of the timed PM runs",
        check=lambda t: all(isinstance(v, int) and 8 <= v <= 2048 for v in t),
        describe="a list of integers between 8 and 2048",
    )
    device: str | None = option(
        doc="'cpu' or 'cuda' (None: cuda when available)", choices=("cpu", "cuda"), nullable=True, default=None
    )
    data_source: str = option(
        doc="'simulated' (the book's suites) or 'published' (the papers' data, needs network)",
        choices=("simulated", "published"),
        default="simulated",
    )
    run_timing: bool = option(doc="measure the simulator's speed in this run", default=True)
    results_dir: str | None = option(
        doc="folder to write the validation metrics (JSON) and figures (PNG) into",
        check=writable_folder,
        describe="a writable folder",
        nullable=True,
        default=None,
    )

    def check(self) -> None:
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError(
                "parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None."
            )

    @property
    def lensing(self) -> dict:
        """Keyword arguments of :func:`gancosmo.sims.lensing.convergence_maps`."""
        return dict(
            box_size=self.lensing_box_size,
            n_particles=self.lensing_particles,
            n_maps=self.lensing_maps,
            n_pix=self.lensing_pix,
            field_deg=self.lensing_field_deg,
            n_steps=self.lensing_steps,
            n_sims=self.lensing_sims,
        )


def _simulations(profile, pm, lensing, timing):
    return SimulationsConfig(
        profile=profile,
        seed=0,
        n_steps=pm[2],
        pm_box_size=pm[0],
        pm_particles=pm[1],
        pm_runs=pm[3],
        lensing_box_size=256.0,
        lensing_particles=lensing[0],
        lensing_maps=lensing[1],
        lensing_pix=lensing[2],
        lensing_field_deg=5.0,
        lensing_steps=lensing[3],
        lensing_sims=lensing[4],
        timing_particles=timing,
    )


#: (box, particles, steps, runs) of the P(k) runs; (particles, maps, pixels, steps, sims) of the lensing
#: runs; the timed PM sizes.
SimulationsConfig.PROFILES = {
    "smoke": _simulations("smoke", (128.0, 32, 6, 1), (32, 8, 64, 6, 1), (32,)),
    "cpu": _simulations("cpu", (256.0, 64, 20, 2), (128, 48, 128, 12, 1), (64, 128)),
    "gpu": _simulations("gpu", (256.0, 256, 30, 4), (256, 400, 128, 20, 4), (128, 256, 512)),
    "paper": _simulations("paper", (512.0, 512, 30, 4), (512, 1000, 256, 30, 8), (256, 512)),
}


def pk_against_theory(cosmo, runs, box_size: float, redshifts) -> dict:
    """Mean and scatter of measured P(k, z) over runs, with pyccl's linear and halofit spectra.

    Returns a dict keyed by redshift with ``k``, ``mean``, ``std``, ``linear``, ``halofit``
    (all in h/Mpc and (Mpc/h)^3) and ``n_runs``.
    """
    out = {}
    for z in redshifts:
        k, pk = measured_pk(np.stack([r.density[z] for r in runs]), box_size)
        out[z] = dict(
            k=k,
            mean=pk.mean(0),
            std=pk.std(0),
            linear=cosmo.pk_linear(k, z),
            halofit=cosmo.pk_halofit(k, z),
            n_runs=len(runs),
        )
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
    return dict(
        redshifts=np.array(list(redshifts)),
        measured=np.array([measured[z] for z in redshifts]),
        theory=d**2,
        k_max=k_max,
    )


def time_pm(
    cosmo, n_particles: int, box_size: float, n_steps: int = 30, device="cpu", repeats: int = 1, force_factor: int = 1
) -> dict:
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
    return dict(
        n_particles=n_particles,
        box_size=box_size,
        n_steps=n_steps,
        device=str(device),
        force_factor=force_factor,
        seconds_per_sim=best,
        seconds_per_step=best / n_steps,
    )
