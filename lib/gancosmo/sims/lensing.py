"""Born-approximation weak-lensing convergence maps from particle-mesh lens planes.

The line of sight to the sources is cut into slabs of comoving thickness ``box_size / 2`` (or
one box, ``slabs_per_box=1``).
For each slab a PM snapshot is taken at the redshift of the slab's centre (drifted there
within the time step), and its particles are projected onto six possible planes (three
axes, two box halves; three with one slab per box) of surface overdensity

    Sigma(x_perp) = integral over the slab of delta dchi      [Mpc/h].

Each map draws, independently for every plane, one of the projections, one of the eight
symmetries of the square and a uniform random shift (periodic box replication), then sums

    kappa(theta) = sum_i  1.5 Omega_m (H0/c)^2 (1 + z_i) chi_i q(chi_i) Sigma_i(chi_i theta),

with the lensing efficiency q(chi) = chi_s^-1 (chi_s - chi) for one source redshift, or its
average over a source distribution n(z). This is the plane-based Born approximation used by
the ray-tracing suites of P1 and P2, without the ray deflections (post-Born terms change
C_ell by well under a per cent at these scales).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..cosmology import SPEED_OF_LIGHT_KM_S, Cosmology
from .mesh import cic_paint, cic_window, wavevectors
from .pm import DEFAULT_N_STEPS, ParticleMesh, _check_box, _check_int, _check_power_of_two, default_time_steps

__all__ = ["convergence_maps", "lens_planes", "lensing_efficiency"]

HUBBLE_OVER_C = 100.0 / SPEED_OF_LIGHT_KM_S  # H0/c in h/Mpc
#: Planes keep transverse modes up to this multiple of the particle Nyquist frequency (anti_alias).
LATTICE_CUT = 1.5


def lensing_efficiency(cosmo: Cosmology, chi: np.ndarray, z_source: float | None, nz) -> np.ndarray:
    """Lensing efficiency q(chi) = < max(0, 1 - chi / chi_s) > over the sources.

    Parameters
    ----------
    chi : array_like
        Comoving distances of the lens planes (Mpc/h).
    z_source, nz :
        One source redshift, or a distribution as accepted by
        :meth:`Cosmology.convergence_cl`.
    """
    chi = np.asarray(chi, dtype=np.float64)
    if z_source is not None and nz is None:
        chi_s = float(cosmo.comoving_distance(z_source)[0])
        return np.clip(1.0 - chi / chi_s, 0.0, None)
    z, n = Cosmology._source_distribution(z_source, nz)
    chi_src = cosmo.comoving_distance(z)
    weight = n / np.trapezoid(n, z)
    ratio = np.clip(1.0 - chi[:, None] / chi_src[None, :], 0.0, None)
    return np.trapezoid(ratio * weight[None, :], z, axis=1)


def _source_reach(cosmo: Cosmology, z_source, nz) -> float:
    """Comoving distance beyond which no source lies (Mpc/h)."""
    if z_source is not None and nz is None:
        return float(cosmo.comoving_distance(z_source)[0])
    z, n = Cosmology._source_distribution(z_source, nz)
    cdf = np.cumsum(n) / np.sum(n)
    z_max = z[min(np.searchsorted(cdf, 0.999), z.size - 1)]
    return float(cosmo.comoving_distance(z_max)[0])


def lens_planes(
    cosmo: Cosmology, box_size: float, chi_max: float, slabs_per_box: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Centres (Mpc/h) and redshifts of slabs of thickness ``box_size / slabs_per_box`` out to ``chi_max``."""
    thickness = box_size / slabs_per_box
    n_planes = max(1, int(math.ceil(chi_max / thickness)))
    chi = (np.arange(n_planes) + 0.5) * thickness
    return chi, cosmo.redshift_at_distance(chi)


class _PlaneProjector:
    """Collects the 3 x slabs_per_box slab projections of each snapshot, Sigma in Mpc/h on an n_lens^2 grid."""

    def __init__(
        self,
        pm: ParticleMesh,
        n_lens: int,
        a_planes: list[float],
        k_cut: list[float] | None = None,
        slabs_per_box: int = 2,
    ):
        self.pm = pm
        self.n_lens = n_lens
        self.slabs_per_box = slabs_per_box
        self.index = {a: i for i, a in enumerate(a_planes)}
        self.sigma = torch.zeros(len(a_planes), 3 * slabs_per_box, n_lens, n_lens, device=pm.device)
        ks = wavevectors(n_lens, 2, pm.box_size, device=pm.device)
        self.window = cic_window(ks, n_lens, pm.box_size) ** 2
        self.ks = ks
        self.k_cut = k_cut

    def __call__(self, a: float, x: torch.Tensor) -> None:
        i = self.index[min(self.index, key=lambda b: abs(b - a))]
        n, box = self.n_lens, self.pm.box_size
        thickness = box / self.slabs_per_box
        # particles expected in one column of one slab
        per_column = x.shape[0] / self.slabs_per_box / n**2
        option = 0
        for axis in range(3):
            # each particle belongs to one slab along the line of sight; its transverse position is
            # painted in 2D (cloud-in-cell), Sigma = thickness * (column density / its mean - 1)
            slab_of = torch.floor(x[:, axis] * (self.slabs_per_box / box)).long().clamp(0, self.slabs_per_box - 1)
            transverse = x[:, [d for d in range(3) if d != axis]] * (n / box)
            for part in range(self.slabs_per_box):
                counts = cic_paint(transverse[slab_of == part], n)
                sigma = (counts / per_column - 1.0) * thickness
                # undo the smoothing of the CIC painting and of the bilinear readout of the maps
                sigma_k = torch.fft.rfft2(sigma) / self.window
                if self.k_cut is not None:
                    # anti-aliasing: no transverse mode finer than the map's pixel Nyquist at this distance
                    keep = (self.ks[0].abs() <= self.k_cut[i]) & (self.ks[1].abs() <= self.k_cut[i])
                    sigma_k = sigma_k * keep
                self.sigma[i, option] = torch.fft.irfft2(sigma_k, s=(n, n))
                option += 1


def _interpolation_matrices(coords: torch.Tensor, n_lens: int) -> torch.Tensor:
    """Periodic linear-interpolation weights ``(M, n_pix, n_lens)`` for grid coordinates ``(M, n_pix)``."""
    coords = torch.remainder(coords, n_lens)
    low = torch.floor(coords)
    frac = (coords - low).to(torch.float32)
    low = low.long() % n_lens
    high = (low + 1) % n_lens
    weights = torch.zeros(*coords.shape, n_lens, dtype=torch.float32, device=coords.device)
    weights.scatter_add_(2, low[..., None], (1 - frac)[..., None])
    weights.scatter_add_(2, high[..., None], frac[..., None])
    return weights


def _sample_planes(
    sigma: torch.Tensor,
    chi: np.ndarray,
    box_size: float,
    n_maps: int,
    n_pix: int,
    field_rad: float,
    weights: np.ndarray,
    generator: torch.Generator,
    chunk: int = 128,
) -> torch.Tensor:
    """Sum weighted, randomly transformed plane projections at the pixel directions of n_maps maps.

    A map pixel (r, c) sees a plane at the transverse position chi * (theta_c, theta_r), so
    bilinear interpolation separates into ``W_r @ Sigma @ W_c^T`` with sparse-in-practice
    interpolation matrices; the transposition symmetry is a transpose of the result.
    """
    device = sigma.device
    n_planes, n_options, n_lens, _ = sigma.shape
    theta = (torch.arange(n_pix, device=device, dtype=torch.float64) + 0.5) / n_pix * field_rad - field_rad / 2
    scale = n_lens / box_size
    kappa = torch.zeros(n_maps, n_pix, n_pix, device=device, dtype=torch.float32)
    for i in range(n_planes):
        option = torch.randint(0, n_options, (n_maps,), generator=generator).to(device)
        symmetry = torch.randint(0, 8, (n_maps,), generator=generator).to(device)
        shift = (torch.rand(n_maps, 2, generator=generator, dtype=torch.float64) * box_size).to(device)
        sign_x = 1 - 2 * ((symmetry >> 1) & 1).to(torch.float64)
        sign_y = 1 - 2 * ((symmetry >> 2) & 1).to(torch.float64)
        for start in range(0, n_maps, chunk):
            sl = slice(start, min(start + chunk, n_maps))
            w_x = _interpolation_matrices((sign_x[sl, None] * theta[None] * chi[i] + shift[sl, :1]) * scale, n_lens)
            w_y = _interpolation_matrices((sign_y[sl, None] * theta[None] * chi[i] + shift[sl, 1:]) * scale, n_lens)
            values = w_y @ sigma[i, option[sl]] @ w_x.transpose(1, 2)
            values = torch.where((symmetry[sl] & 1).bool()[:, None, None], values.transpose(1, 2), values)
            kappa[sl] += float(weights[i]) * values
    return kappa


def convergence_maps(
    cosmo: Cosmology,
    n_maps: int,
    n_pix: int,
    field_deg: float,
    z_source: float | None = None,
    nz=None,
    seed: int = 0,
    device="cpu",
    box_size: float = 256.0,
    n_particles: int = 64,
    n_sims: int = 1,
    n_steps: int | None = None,
    lens_grid: int | None = None,
    anti_alias: bool = True,
    slabs_per_box: int = 2,
    progress: bool = False,
) -> np.ndarray:
    """Born convergence maps from PM lens planes, ``(n_maps, n_pix, n_pix)`` float32.

    Parameters
    ----------
    cosmo : Cosmology
    n_maps : int
        Number of maps (>= 1).
    n_pix : int
        Pixels per side.
    field_deg : float
        Side of the square field in degrees (flat sky).
    z_source : float, optional
        Single source redshift (P1: 1.0).
    nz : (z, n) arrays or callable, optional
        Source redshift distribution (P2: :func:`gancosmo.cosmology.kids450_nz`).
    seed : int
        Seeds the simulations (seed, seed + 1, ...) and the plane randomisation.
    box_size : float
        Side of the simulation box (Mpc/h).
    n_particles : int
        Particles per side of each simulation.
    n_sims : int
        Independent simulations; maps are shared out among them.
    lens_grid : int, optional
        Side of the projected plane grids (default ``2 * n_particles``).
    slabs_per_box : int
        1 or 2: lens slabs are ``box_size / slabs_per_box`` thick (one box: half as many planes
        to paint, 3 projections each instead of 6).
    anti_alias : bool
        Remove from every plane the transverse modes beyond the maps' pixel Nyquist frequency
        at its distance, ``|k_x|, |k_y| > (pi / pixel) / chi``, or beyond 1.5 times the particles'
        Nyquist frequency ``pi n_particles / box_size`` if that is lower (default): sampling the planes
        at the pixel centres then folds no small-scale power onto the maps' multipoles, and the
        near planes add no particle-lattice pattern or discreteness noise.

    Returns
    -------
    np.ndarray
    """
    n_maps = _check_int("n_maps", n_maps, 1)
    n_pix = _check_int("n_pix", n_pix, 2)
    n_sims = _check_int("n_sims", n_sims, 1)
    seed = _check_int("seed", seed, 0)
    box_size = _check_box(box_size)
    n_particles = _check_power_of_two("n_particles", n_particles)
    lens_grid = 2 * n_particles if lens_grid is None else _check_power_of_two("lens_grid", lens_grid)
    if not (isinstance(field_deg, (int, float)) and 0 < field_deg < 20):
        raise ValueError(f"field_deg must be a number of degrees in (0, 20) (flat-sky maps), got {field_deg!r}.")
    Cosmology._source_distribution(z_source, nz)  # validates the source description
    chi_max = _source_reach(cosmo, z_source, nz)
    if slabs_per_box not in (1, 2):
        raise ValueError(f"slabs_per_box must be 1 or 2, got {slabs_per_box!r}.")
    chi, z_planes = lens_planes(cosmo, box_size, chi_max, slabs_per_box)
    q = lensing_efficiency(cosmo, chi, z_source, nz)
    keep = q > 0
    chi, z_planes, q = chi[keep], z_planes[keep], q[keep]
    weights = 1.5 * cosmo.omega_m * HUBBLE_OVER_C**2 * (1 + z_planes) * chi * q
    a_planes = sorted(float(a) for a in 1.0 / (1.0 + z_planes))
    order = np.argsort(1.0 / (1.0 + z_planes))  # planes sorted by increasing a
    field_rad = math.radians(field_deg)
    # the maps' pixel Nyquist multipole pi / pixel, as a transverse wavenumber on each plane (a order), and never
    # beyond 1.5 times the particles' Nyquist frequency: the particle lattice's own pattern (at twice it) and the
    # discreteness noise around it are no resolved structure
    k_particles = LATTICE_CUT * math.pi * n_particles / box_size
    k_cut = [min(math.pi * n_pix / field_rad / float(chi[j]), k_particles) for j in order]
    generator = torch.Generator(device="cpu").manual_seed(seed + 7919)
    per_sim = np.diff(np.linspace(0, n_maps, n_sims + 1).round().astype(int))
    n_steps = DEFAULT_N_STEPS if n_steps is None else _check_int("n_steps", n_steps, 1)
    bar = None
    if progress:
        from ..progress import progress_bar

        bar = progress_bar(n_sims, f"lensing {n_particles}^3 x {n_sims}", unit="sim", leave=False)
    maps = []
    with torch.no_grad():
        for s, count in enumerate(per_sim):
            pm = ParticleMesh(cosmo, box_size, n_particles, device=device)
            a_init = min(0.1, 0.5 * a_planes[0])
            x, p = pm.initial_state(seed + s, a_init)
            projector = _PlaneProjector(pm, lens_grid, a_planes, k_cut if anti_alias else None, slabs_per_box)
            pm.evolve(x, p, default_time_steps(a_init, a_planes[-1], n_steps), outputs=a_planes, on_output=projector)
            # projector.sigma is indexed by increasing a; map it back to the chi order of `weights`
            sigma = projector.sigma[torch.as_tensor(np.argsort(order))]
            if count:
                maps.append(
                    _sample_planes(sigma, chi, box_size, int(count), n_pix, field_rad, weights, generator).cpu()
                )
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return torch.cat(maps).numpy()
