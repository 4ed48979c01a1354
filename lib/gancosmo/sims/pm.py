"""Particle-mesh N-body integration in the FastPM spirit (Feng et al. 2016), in 2D or 3D.

Units: comoving positions x in Mpc/h, time variable the scale factor a, canonical momentum
p = a^3 E(a) dx/da (H0 = 1), so that

    dx/da = p / (a^3 E),    dp/da = F / (a^2 E),    F = -grad psi,   lap psi = 1.5 Omega_m delta.

Kick and drift factors are "growth corrected": within a step the momentum is assumed to
grow like the linear-theory momentum g_p(a) = a^3 E dD/da and the position like D(a), so the
linear growth of large scales is exact for any number of steps:

    drift:  dx = p(a_c) [D(a1) - D(a0)] / g_p(a_c)
    kick:   dp = F(a_c) [g_p(a1) - g_p(a0)] / (1.5 Omega_m D(a_c)).

The force is computed on a mesh ``force_factor`` (B) times finer than the particle lattice
with a spectral gradient, i k / k^2, divided by the square of the assignment window (one
factor for painting, one for readout). With B = 1 painting and readout are cloud-in-cell
(CIC) and the lattice sits a quarter cell off the mesh nodes.

Finer force meshes (B = 2, 3). A perturbed particle lattice has density not only at its
own wavevectors k but at all their images k + 2 pi n / Delta (Delta the lattice spacing).
A mesh finer than the lattice resolves the first images (close to 2 pi / Delta along an
axis for long waves), and their force, read back at the particles, aliases onto k. With
plain CIC on a twice finer mesh the linear force response is 9% too strong at the
fundamental mode and about 50% too strong at k_Nyquist/4, so those modes grow 9% and 70%
too much by z = 0; interlacing (two half-cell-shifted meshes) makes it worse, because it
resolves those images more faithfully. For B > 1 the density is therefore

* painted and read out with the triangular-shaped cloud (TSC, 3^d cells, continuous first
  derivative, hence a displacement response that is linear wherever a particle sits), and
* low-pass filtered on |k| with a cos^2 taper from the particle Nyquist frequency k_N to
  1.5 k_N (zero beyond): no mode with all |k_i| < k_N / 2 has an image below 1.5 k_N, so
  those modes feel the continuum force. Measured linear response (force over its continuum
  value) for B = 2: within 0.03% below k_N / 16, 0.3% at k_N / 8, 1.3% at k_N / 4; B = 3
  is closer still. The fine mesh still lowers the assignment aliasing and the force
  softening of B = 1: with 64^3 particles the z = 0 power at k_N / 4 to k_N is 3-7% higher
  than with B = 1, closer to halofit. B = 3 gives the same power as B = 2.

The same filter with CIC assignment gives a force response within 0.01% of the continuum up
to k_N / 4, but the z = 0 density, painted with CIC on the particle lattice, then falls 2.7%
short of linear theory at k_N / 4 (exact Zel'dovich displacements painted the same way fall
2.55% short); TSC's slightly stronger force there compensates part of that output window.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..cosmology import Cosmology
from .initial_conditions import linear_density_k, lpt_displacements
from .mesh import cic_paint, cic_readout, cic_window, ngp_counts, tsc_paint, tsc_readout, tsc_window, wavevectors

__all__ = ["PMResult", "ParticleMesh", "run_pm", "default_time_steps", "DEFAULT_N_STEPS", "DEFAULT_Z_INIT"]

DEFAULT_N_STEPS = 20
DEFAULT_Z_INIT = 9.0
LATTICE_OFFSET = 0.25  # in particle-lattice cells; off the nodes of meshes 1, 2 or 3 times finer
FORCE_FACTORS = (1, 2, 3)
# Fine-mesh (B > 1) force filter: cos^2 taper on |k| from FILTER_START to FILTER_END times the
# particle Nyquist frequency.
FILTER_START, FILTER_END = 1.0, 1.5


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_power_of_two(name: str, value) -> int:
    value = _check_int(name, value, 2)
    if value & (value - 1):
        raise ValueError(f"{name} must be a power of two (e.g. 32, 64, 128), got {value}.")
    return value


def _check_box(box_size) -> float:
    try:
        box = float(box_size)
    except (TypeError, ValueError):
        raise ValueError(f"box_size must be a positive number of Mpc/h, got {box_size!r}.") from None
    if not math.isfinite(box) or box <= 0:
        raise ValueError(f"box_size must be a positive number of Mpc/h, got {box_size!r}.")
    return box


def _check_redshifts(redshifts) -> list[float]:
    zs = np.atleast_1d(np.asarray(redshifts, dtype=np.float64))
    if zs.size == 0 or not np.all(np.isfinite(zs)) or np.any(zs < 0):
        raise ValueError(f"redshifts must be a non-empty list of finite numbers >= 0, got {redshifts!r}.")
    return sorted({float(z) for z in zs}, reverse=True)


def default_time_steps(a_init: float, a_final: float, n_steps: int, outputs=()) -> np.ndarray:
    """Steps linear in a from ``a_init`` to ``a_final``, with the output scale factors inserted."""
    grid = np.linspace(a_init, a_final, n_steps + 1)
    extra = [a for a in outputs if np.min(np.abs(grid - a)) > 1e-6]
    return np.unique(np.concatenate([grid, extra]))


@dataclass
class PMResult:
    """Output of :func:`run_pm`.

    Attributes
    ----------
    density : dict[float, np.ndarray]
        1 + delta on the ``density_grid`` mesh (cloud-in-cell, mean 1; default the particle
        lattice), keyed by redshift.
    particle_counts : dict[float, np.ndarray]
        Nearest-grid-point particle counts per voxel of the output grid, keyed by redshift.
    box_size : float
        Mpc/h.
    n_particles : int
        Particles per side.
    config : dict
        Everything needed to reproduce the run.
    """

    density: dict = field(default_factory=dict)
    particle_counts: dict = field(default_factory=dict)
    box_size: float = 0.0
    n_particles: int = 0
    config: dict = field(default_factory=dict)


class ParticleMesh:
    """A periodic particle-mesh simulation of ``n_particles^ndim`` particles.

    Parameters
    ----------
    cosmo : Cosmology
    box_size : float
        Box side in Mpc/h.
    n_particles : int
        Particles per side (a power of two).
    ndim : int
        3 (default) or 2.
    force_factor : int
        Force mesh cells per particle per side: 1 (cloud-in-cell on the particle lattice), 2 or
        3 (triangular-shaped cloud on a 2 or 3 times finer mesh, force low-pass filtered between
        1 and 1.5 times the particle Nyquist frequency; see the module docstring). B = 2 gives
        a few percent more non-linear power at k_Nyquist/4 to k_Nyquist and keeps linear growth
        exact; B = 3 gives the same power at about 3 times the cost of B = 2.
    device : str or torch.device

    Raises
    ------
    ValueError
        For a force_factor other than 1, 2 or 3, and for invalid cosmo, box_size, n_particles
        or ndim.
    """

    def __init__(
        self, cosmo: Cosmology, box_size: float, n_particles: int, ndim: int = 3, force_factor: int = 1, device="cpu"
    ):
        if not isinstance(cosmo, Cosmology):
            raise ValueError(f"cosmo must be a gancosmo.cosmology.Cosmology, got {type(cosmo).__name__}.")
        if ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 or 3, got {ndim!r}.")
        if (
            isinstance(force_factor, bool)
            or not isinstance(force_factor, (int, np.integer))
            or force_factor not in FORCE_FACTORS
        ):
            raise ValueError(f"force_factor must be 1, 2 or 3, got {force_factor!r}.")
        force_factor = int(force_factor)
        self.cosmo = cosmo
        self.box_size = _check_box(box_size)
        self.n = _check_power_of_two("n_particles", n_particles)
        self.ndim = ndim
        self.force_factor = force_factor
        self.n_mesh = self.n * force_factor
        self.device = torch.device(device)
        ks = wavevectors(self.n_mesh, ndim, self.box_size, device=self.device)
        k2 = sum(k**2 for k in ks)
        nyquist = math.pi * self.n_mesh / self.box_size
        # i k_j / k^2 with the self-conjugate Nyquist plane removed from the odd-order derivative.
        # Painting and readout each smooth the force by the assignment window; dividing by it
        # once per pass keeps the linear growth exact up to the particle Nyquist frequency.
        if force_factor == 1:
            compensation = 1.0 / cic_window(ks, self.n_mesh, self.box_size) ** 2
        else:
            # Remove the images of the lattice's own modes (module docstring) before they alias.
            compensation = self._fine_mesh_filter(torch.sqrt(k2)) / tsc_window(ks, self.n_mesh, self.box_size) ** 2
        inv_k2 = (
            torch.where(k2 > 0, 1.0 / torch.where(k2 > 0, k2, torch.ones_like(k2)), torch.zeros_like(k2)) * compensation
        )
        self._force_kernel = [1j * torch.where(k.abs() >= nyquist - 1e-6, torch.zeros_like(k), k) * inv_k2 for k in ks]

    def _fine_mesh_filter(self, kmag: torch.Tensor) -> torch.Tensor:
        """Low-pass filter of the B > 1 force: 1 below the particle Nyquist frequency k_N,
        cos^2 down to 0 at 1.5 k_N, 0 beyond (``kmag`` in h/Mpc)."""
        k_nyquist = math.pi * self.n / self.box_size
        t = ((kmag / k_nyquist - FILTER_START) / (FILTER_END - FILTER_START)).clamp(0.0, 1.0)
        return torch.cos(0.5 * math.pi * t) ** 2

    # -- growth functions -------------------------------------------------------------
    def _growth(self, a: np.ndarray) -> dict[str, np.ndarray]:
        z = 1.0 / np.asarray(a, dtype=np.float64) - 1.0
        d1 = self.cosmo.growth_factor(z)
        f1 = self.cosmo.growth_rate(z)
        e = self.cosmo.efunc(a)
        return dict(d1=d1, f1=f1, e=e, gp=a**2 * e * f1 * d1)

    def _drift_factor(self, a0: float, a1: float, ac: float) -> float:
        g = self._growth(np.array([a0, a1, ac]))
        return float((g["d1"][1] - g["d1"][0]) / g["gp"][2])

    def _kick_factor(self, a0: float, a1: float, ac: float) -> float:
        g = self._growth(np.array([a0, a1, ac]))
        return float((g["gp"][1] - g["gp"][0]) / (1.5 * self.cosmo.omega_m * g["d1"][2]))

    # -- physics ----------------------------------------------------------------------
    def initial_state(self, seed: int, a_init: float) -> tuple[torch.Tensor, torch.Tensor]:
        """2LPT positions (Mpc/h) and momenta at scale factor ``a_init`` for ``seed``."""
        delta_k = linear_density_k(self.cosmo, self.box_size, self.n, self.ndim, seed, device=self.device)
        psi1, psi2 = lpt_displacements(delta_k, self.box_size, self.ndim)
        del delta_k
        g = self._growth(np.array([a_init]))
        d1, f1, e = float(g["d1"][0]), float(g["f1"][0]), float(g["e"][0])
        omega_a = self.cosmo.omega_m / (a_init**3 * e**2)
        d2 = -3.0 / 7.0 * d1**2 * omega_a ** (-1.0 / 143.0)
        f2 = 2.0 * omega_a ** (6.0 / 11.0)
        cell = self.box_size / self.n
        # The lattice sits a quarter cell off the mesh nodes: a particle exactly on a node has a
        # cloud-in-cell response that depends on the sign of its displacement (a kink of the
        # kernel), which would couple modes even at vanishing amplitude.
        axes = [(torch.arange(self.n, device=self.device, dtype=torch.float32) + LATTICE_OFFSET) * cell] * self.ndim
        q = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, self.ndim)
        x = torch.remainder(q + d1 * psi1 + d2 * psi2, self.box_size)
        p = a_init**2 * e * (f1 * d1 * psi1 + f2 * d2 * psi2)
        return x, p

    def paint(self, x: torch.Tensor, n_grid: int) -> torch.Tensor:
        """1 + delta of particles at positions ``x`` (Mpc/h) on an ``n_grid^ndim`` mesh (CIC, mean 1)."""
        mass = n_grid**self.ndim / self.n**self.ndim
        return cic_paint(x * (n_grid / self.box_size), n_grid, mass)

    def force(self, x: torch.Tensor) -> torch.Tensor:
        """Gravitational force F = -grad psi at the particles, ``(N, ndim)``, with lap psi = 1.5 Omega_m delta."""
        if self.force_factor == 1:
            rho = self.paint(x, self.n_mesh)
        else:
            rho = tsc_paint(x * (self.n_mesh / self.box_size), self.n_mesh, (self.n_mesh / self.n) ** self.ndim)
        delta_k = torch.fft.rfftn(rho - 1.0) * (1.5 * self.cosmo.omega_m)
        del rho
        shape = (self.n_mesh,) * self.ndim
        grids = torch.stack([torch.fft.irfftn(kernel * delta_k, s=shape) for kernel in self._force_kernel])
        readout = cic_readout if self.force_factor == 1 else tsc_readout
        return readout(grids, x * (self.n_mesh / self.box_size))

    def evolve(
        self,
        x: torch.Tensor,
        p: torch.Tensor,
        a_steps: np.ndarray,
        outputs=(),
        on_output: Callable[[float, torch.Tensor], None] | None = None,
        progress=None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Kick-drift-kick integration over the scale factors ``a_steps``.

        Parameters
        ----------
        x, p : torch.Tensor
            Positions (Mpc/h) and momenta at ``a_steps[0]``.
        a_steps : array_like
            Increasing scale factors of the steps.
        outputs : iterable of float
            Scale factors at which ``on_output(a, x)`` is called. Outputs that fall between
            two steps are drifted there with the step's momentum (no extra force evaluation).
        progress : tqdm-like, optional
            Updated by one per step.
        """
        outputs = sorted(float(a) for a in outputs)
        pending = list(outputs)

        def emit_until(a_limit: float, x_now: torch.Tensor, p_half: torch.Tensor | None, a_now: float, a_half: float):
            while pending and pending[0] <= a_limit + 1e-9:
                a_out = pending.pop(0)
                if abs(a_out - a_now) < 1e-9 or p_half is None:
                    on_output(a_out, x_now)
                else:
                    on_output(
                        a_out, torch.remainder(x_now + p_half * self._drift_factor(a_now, a_out, a_half), self.box_size)
                    )

        if on_output is not None:
            emit_until(float(a_steps[0]), x, None, float(a_steps[0]), float(a_steps[0]))
        f = self.force(x)
        for a0, a1 in zip(a_steps[:-1], a_steps[1:]):
            a0, a1 = float(a0), float(a1)
            ah = 0.5 * (a0 + a1)
            p = p + f * self._kick_factor(a0, ah, a0)
            if on_output is not None:
                pending_inside = [a for a in pending if a < a1 - 1e-9]
                if pending_inside:
                    emit_until(pending_inside[-1], x, p, a0, ah)
            x = torch.remainder(x + p * self._drift_factor(a0, a1, ah), self.box_size)
            f = self.force(x)
            p = p + f * self._kick_factor(ah, a1, a1)
            if on_output is not None:
                emit_until(a1, x, None, a1, a1)
            if progress is not None:
                progress.update(1)
        return x, p


def run_pm(
    cosmo: Cosmology,
    box_size: float,
    n_particles: int,
    redshifts,
    seed: int,
    n_steps: int | None = None,
    device="cpu",
    ndim: int = 3,
    force_factor: int = 1,
    output_grid: int | None = None,
    z_init: float = DEFAULT_Z_INIT,
    progress: bool = False,
    density_grid: int | None = None,
) -> PMResult:
    """Run a particle-mesh simulation and return density fields at the requested redshifts.

    Parameters
    ----------
    cosmo : Cosmology
    box_size : float
        Box side in Mpc/h (> 0).
    n_particles : int
        Particles per side, a power of two; also the side of the ``density`` grid.
    redshifts : float or sequence of float
        Output redshifts (>= 0); they are inserted into the time steps.
    seed : int
        Seed of the initial white noise; the same seed gives bitwise-identical fields on
        the CPU.
    n_steps : int, optional
        Steps linear in a from ``z_init`` to the lowest output redshift (default 20).
    device : str
        ``"cpu"`` or ``"cuda"``.
    ndim : int
        3 (default) or 2 (P5's 2D particle-mesh universe).
    force_factor : int
        Force mesh cells per particle per side: 1 (default), 2 or 3; see :class:`ParticleMesh`.
    output_grid : int, optional
        Side of the ``particle_counts`` histogram (default ``n_particles``).
    density_grid : int, optional
        Side of the CIC ``density`` grid (default ``n_particles``; e.g. ``n_particles // 2`` for
        cells twice the particle spacing, whose Nyquist frequency the particles resolve).
    z_init : float
        Starting redshift of the 2LPT initial conditions.

    Returns
    -------
    PMResult
    """
    zs = _check_redshifts(redshifts)
    n_steps = DEFAULT_N_STEPS if n_steps is None else _check_int("n_steps", n_steps, 1)
    seed = _check_int("seed", seed, 0)
    output_grid = n_particles if output_grid is None else _check_int("output_grid", output_grid, 2)
    density_grid = n_particles if density_grid is None else _check_int("density_grid", density_grid, 2)
    if not (isinstance(z_init, (int, float)) and z_init > max(zs)):
        raise ValueError(f"z_init must be a number above the highest output redshift {max(zs)}, got {z_init!r}.")
    pm = ParticleMesh(cosmo, box_size, n_particles, ndim=ndim, force_factor=force_factor, device=device)
    a_init = 1.0 / (1.0 + z_init)
    a_out = [1.0 / (1.0 + z) for z in zs]
    a_steps = default_time_steps(a_init, max(a_out), n_steps, a_out)
    result = PMResult(
        box_size=pm.box_size,
        n_particles=pm.n,
        config=dict(
            cosmology=cosmo.as_dict(),
            box_size=pm.box_size,
            n_particles=pm.n,
            redshifts=zs,
            seed=seed,
            n_steps=n_steps,
            ndim=ndim,
            force_factor=force_factor,
            output_grid=output_grid,
            density_grid=density_grid,
            z_init=float(z_init),
        ),
    )
    z_of_a = {a: z for a, z in zip(a_out, zs)}

    def store(a: float, x: torch.Tensor) -> None:
        z = z_of_a[min(z_of_a, key=lambda b: abs(b - a))]
        result.density[z] = pm.paint(x, density_grid).cpu().numpy()
        result.particle_counts[z] = ngp_counts(x * (output_grid / pm.box_size), output_grid).cpu().numpy()

    bar = None
    if progress:
        from ..progress import progress_bar

        bar = progress_bar(len(a_steps) - 1, f"PM {pm.n}^{ndim}", unit="step", leave=False)
    with torch.no_grad():
        x, p = pm.initial_state(seed, a_init)
        pm.evolve(x, p, a_steps, outputs=a_out, on_output=store, progress=bar)
    if bar is not None:
        bar.close()
    return result
