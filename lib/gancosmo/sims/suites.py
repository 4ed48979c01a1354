"""The named data suites of the five papers, simulated at a size that fits the profile.

Every suite is a function ``pN_...(profile="cpu", device=None, progress=True, **overrides)``
returning a :class:`Suite`: numpy arrays plus metadata, cached in HDF5 + JSON under a hash of
the full configuration (profile sizes, overrides, cosmology and code version of the recipe).
``load_suite(name, ..., source="published")`` swaps in the paper's own data where it is
public (see :mod:`gancosmo.sims.published`).

Profiles (sizes below are the defaults; every one can be overridden by keyword):

========  ==========================================================================
smoke     seconds on a CPU: plumbing only
cpu       a few minutes on 2 cores: small but honest data
gpu       minutes on one H100: the data behind the book's committed results
paper     the paper's own sizes (most need a large GPU and hours)
========  ==========================================================================
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ..cosmology import Cosmology, kids450_nz
from .cache import cached_arrays
from .lensing import convergence_maps
from .pm import run_pm

__all__ = [
    "PROFILES",
    "SUITES",
    "Suite",
    "resolve_profile",
    "load_suite",
    "kids450_grid",
    "book_requests",
    "p1_maps",
    "p2_maps",
    "p3_subvolumes",
    "p4_counts",
    "mean_density_p3_units",
    "recipe_overrides",
    "kids450_probe_cosmologies",
    "RESOLVED_MAX",
    "SIZES",
    "p5_slices",
    "p5_2d",
    "log_like",
    "slab_images",
]

PROFILES = ("smoke", "cpu", "cpu-long", "gpu", "paper")
RECIPE_VERSION = 4  # bump when a suite's recipe changes, so old cache entries are not reused

P1_COSMOLOGY = dict(omega_m=0.26, sigma8=0.798, h=0.72, n_s=0.96)
P3_COSMOLOGY = dict(omega_m=0.29, sigma8=0.82, h=0.69, n_s=0.97)  # WMAP9 + BOSS DR9-like
P4_COSMOLOGY = dict(omega_m=0.276, sigma8=0.8, h=0.7, n_s=0.96)
P5_COSMOLOGY = dict(omega_m=0.31, sigma8=0.81, h=0.68, n_s=0.965)  # Planck 2018-like

#: P4's voxel: 500 Mpc/h boxes on 256^3 voxels.
P4_VOXEL = 500.0 / 256
#: P4's particles per voxel on average (1024^3 particles in 256^3 voxels).
P4_PARTICLES_PER_VOXEL = 64

# The reduced-scale recipes that `cpu` and `cpu-long` share (resolution, pixel or cell, field or
# box, steps): the two profiles differ only in how many samples they draw and in their seeds, so
# a `cpu` run can score the `cpu-long` emulator on fresh data. Each is chosen so that the scales
# its chapter scores (up to the maps' or cubes' Nyquist frequency) lie inside the range the
# particle mesh resolves (within 20% of pyccl's halofit, `fidelity.resolved_max`).
_P1_REDUCED = dict(n_pix=64, field_deg=12.0, n_particles=128, box_size=128.0, n_steps=40)
_P2_REDUCED = dict(n_pix=32, n_particles=128, box_size=128.0, n_steps=20, slabs_per_box=1)
_P3_REDUCED = dict(n_particles=128, box_size=128.0, density_grid=64, sub_size=64, n_steps=20)
_P4_REDUCED = dict(n_particles=128, voxels=32, box_size=32 * P4_VOXEL, n_steps=20)

# Per-suite, per-profile sizes. `seed` is the first simulation seed of the profile (cpu-long
# draws other simulations than cpu).
SIZES = {
    "p1": {  # convergence maps at z_s = 1 (P1: 256^2 px of 0.2 arcmin, 12 deg^2 maps)
        "smoke": dict(n_maps=64, n_pix=64, field_deg=12.0, n_particles=32, box_size=128.0, n_sims=1, n_steps=6),
        "cpu": dict(n_maps=2048, n_sims=4, seed=0, **_P1_REDUCED),
        "cpu-long": dict(n_maps=8192, n_sims=16, seed=1, **_P1_REDUCED),
        "gpu": dict(n_maps=32768, n_pix=128, field_deg=8.0, n_particles=256, box_size=128.0, n_sims=16, n_steps=40),
        "paper": dict(
            n_maps=200000,
            n_pix=256,
            field_deg=math.sqrt(12.0) / 4,
            n_particles=512,
            box_size=128.0,
            n_sims=1000,
            n_steps=30,
        ),
    },
    "p2": {  # maps of 5 x 5 deg, KiDS-450-like n(z), 57 cosmologies (P2: 128^2 px)
        "smoke": dict(maps_per_cosmology=2, n_pix=32, n_particles=32, box_size=128.0, n_sims=1, n_steps=6),
        "cpu": dict(maps_per_cosmology=64, n_sims=1, seed=0, **_P2_REDUCED),
        "cpu-long": dict(maps_per_cosmology=512, n_sims=1, seed=1, **_P2_REDUCED),
        "gpu": dict(maps_per_cosmology=1000, n_pix=64, n_particles=128, box_size=128.0, n_sims=8, n_steps=30),
        "paper": dict(maps_per_cosmology=12000, n_pix=128, n_particles=256, box_size=256.0, n_sims=50, n_steps=30),
    },
    "p3": {  # sub_size^3 sub-volumes of 1 + delta, cells of box_size / density_grid Mpc/h
        "smoke": dict(n_boxes=1, n_particles=64, box_size=64.0, density_grid=32, sub_size=32, n_steps=6),
        "cpu": dict(n_boxes=12, seed=0, **_P3_REDUCED),
        "cpu-long": dict(n_boxes=48, seed=1, **_P3_REDUCED),
        "gpu": dict(n_boxes=32, n_particles=256, box_size=128.0, density_grid=128, sub_size=64, n_steps=30),
        "paper": dict(n_boxes=32, n_particles=512, box_size=512.0, density_grid=512, sub_size=64, n_steps=30),
    },
    "p4": {  # particle counts per voxel of P4's size (500/256 Mpc/h), 64 particles per voxel on average
        "smoke": dict(n_cubes=2, n_particles=64, voxels=16, box_size=16 * P4_VOXEL, n_steps=6),
        "cpu": dict(n_cubes=16, seed=0, **_P4_REDUCED),
        "cpu-long": dict(n_cubes=96, seed=1, **_P4_REDUCED),
        "gpu": dict(n_cubes=30, n_particles=512, voxels=128, box_size=128 * P4_VOXEL, n_steps=30),
        "paper": dict(n_cubes=30, n_particles=1024, voxels=256, box_size=500.0, n_steps=30),
    },
    "p5": {  # slab histograms of a z = 0 box, log-like transform, smoothing with stride 3, crops
        "smoke": dict(n_boxes=1, n_particles=32, box_size=100.0, slabs_per_axis=2, histogram=96, crop=32, n_steps=6),
        "cpu": dict(n_boxes=1, n_particles=128, box_size=100.0, slabs_per_axis=16, histogram=384, crop=128, n_steps=12),
        "cpu-long": dict(
            n_boxes=4, n_particles=128, box_size=100.0, slabs_per_axis=16, histogram=384, crop=128, n_steps=12, seed=1
        ),
        "gpu": dict(n_boxes=4, n_particles=256, box_size=100.0, slabs_per_axis=64, histogram=768, crop=128, n_steps=20),
        "paper": dict(
            n_boxes=1, n_particles=512, box_size=100.0, slabs_per_axis=333, histogram=768, crop=128, n_steps=30
        ),
    },
    "p5_2d": {  # native 2D particle-mesh runs, (100 Mpc/h)^2
        "smoke": dict(n_runs=2, n_particles=64, box_size=100.0, n_steps=6),
        "cpu": dict(n_runs=64, n_particles=256, box_size=100.0, n_steps=12),
        "cpu-long": dict(n_runs=512, n_particles=256, box_size=100.0, n_steps=12, seed=1),
        "gpu": dict(n_runs=1000, n_particles=256, box_size=100.0, n_steps=20),
        "paper": dict(n_runs=1000, n_particles=512, box_size=100.0, n_steps=30),
    },
}

#: Measured ``resolved_max`` per suite and profile (ell for maps, k in h/Mpc for cubes): the
#: largest scale up to which the mean spectrum lies within 20% of pyccl's halofit (Limber for
#: maps) from twice the fundamental mode on, the pixels' or cells' Nyquist frequency when every
#: bin is (:mod:`gancosmo.sims.fidelity`; chapter 00 measures it again and writes
#: ``results/simulations/suites_{profile}.json``). ``cpu-long`` shares the ``cpu`` recipe, hence
#: its value. ``None``: not resolved or not measured --
#:
#: * p2: not within 20% at every probed cosmology: at the grid's low-Omega_m / high-sigma_8
#:   corners one 128 Mpc/h box per cosmology holds too few large modes, and its realization moves
#:   the whole spectrum (two seeds of one cosmology: 1.0 and 0.45 of halofit at all k);
#: * gpu and paper: sizes beyond the 2-core machines this book is built on (a gpu run of
#:   chapter 00 measures them); p5 and p5_2d: chapter 05 defines the scales it scores.
#:
#: p4 at cpu resolves only k <= 0.22 h/Mpc: its 62.5 Mpc/h cubes miss the power of longer modes
#: (0.8 of halofit from k = 0.3 on); chapter 04 sets the cube size it needs.
RESOLVED_MAX: dict = {
    "p1": {"smoke": None, "cpu": 960.0, "cpu-long": 960.0, "gpu": None, "paper": None},
    "p2": dict.fromkeys(PROFILES),
    "p3": {"smoke": None, "cpu": 1.5708, "cpu-long": 1.5708, "gpu": None, "paper": None},
    "p4": {"smoke": None, "cpu": 0.2243, "cpu-long": 0.2243, "gpu": None, "paper": None},
    "p5": dict.fromkeys(PROFILES),
    "p5_2d": dict.fromkeys(PROFILES),
}

P3_REDSHIFTS = (3.0, 1.5, 0.5, 0.0)
P3_EVAL_REDSHIFTS = (2.0, 1.0, 0.25)


def mean_density_p3_units(cosmology: dict = P3_COSMOLOGY) -> float:
    """Mean matter density in P3's units: 10^10 M_sun per (1 Mpc)^3 cell (about 3.8 for P3's cosmology).

    P3's boxes are in Mpc and its cells 1 Mpc wide; its scaling ``c = 2x / (x + kappa) - 1``
    acts on the mass per such cell in 10^10 M_sun. The book's densities are ``rho / rho_bar``,
    so ``x = mean_density_p3_units() * rho / rho_bar`` (per Mpc, not Mpc/h: the Mpc/h cell
    would hold h^3 = 0.33 times as much and shift the scaling's balance by that factor).
    """
    return Cosmology(**cosmology).mean_matter_density() / 1e10


@dataclass
class Suite:
    """A generated (or loaded) data set: named arrays plus the metadata that made them."""

    name: str
    arrays: dict
    meta: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    @property
    def config(self) -> dict:
        return self.meta.get("config", {})


def resolve_profile(profile: str) -> str:
    """``auto`` becomes ``gpu`` when CUDA is available, else ``cpu``; others are checked."""
    if profile == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of auto, {', '.join(PROFILES)}; got {profile!r}.")
    return profile


def _device(device) -> str:
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was requested but CUDA is not available; use 'cpu'.")
    return str(device)


#: Options that change how many samples a suite draws, not how each is made.
COUNT_OPTIONS = frozenset({"n_maps", "n_sims", "maps_per_cosmology", "n_boxes", "n_cubes", "n_runs", "seed"})


def _config(suite: str, profile: str, overrides: dict) -> dict:
    profile = resolve_profile(profile)
    sizes = dict(SIZES[suite][profile])
    unknown = set(overrides) - set(sizes) - {"seed"}
    if unknown:
        raise ValueError(
            f"unknown option(s) {sorted(unknown)} for suite {suite}; "
            f"accepted: {', '.join(sorted(set(sizes) | {'seed'}))}."
        )
    sizes.update(overrides)
    sizes.setdefault("seed", 0)
    sizes["recipe"] = RECIPE_VERSION
    sizes["suite"] = suite
    return sizes


def _suite(name: str, arrays: dict, meta: dict, profile: str, overrides: dict) -> Suite:
    """The :class:`Suite`, its config completed with the recipe's measured ``resolved_max``.

    The measured resolution belongs to the profile's recipe (an override of the recipe voids it:
    None); it is added after the cache lookup, so re-measuring it does not regenerate the data.
    """
    config = dict(meta.get("config", {}))
    recipe_changed = set(overrides) - COUNT_OPTIONS
    config["resolved_max"] = None if recipe_changed else RESOLVED_MAX[name][resolve_profile(profile)]
    return Suite(name, arrays, {**meta, "config": config})


def recipe_overrides(suite: str, profile: str, **values) -> dict:
    """The entries of ``values`` that differ from the suite's sizes at ``profile`` (what a chapter must pass).

    A chapter whose sizes equal the recipe passes nothing but its counts and seed, and so reads
    the data ``make data`` generated and keeps the recipe's measured ``resolved_max``.
    """
    sizes = SIZES[suite][resolve_profile(profile)]
    default = {**sizes, "seed": sizes.get("seed", 0)}
    return {k: v for k, v in values.items() if k not in default or default[k] != v}


def _bar(total: int, desc: str, progress: bool):
    from ..progress import progress_bar

    return progress_bar(total, desc, disable=not progress)


# -- P1 --------------------------------------------------------------------------------
def p1_maps(profile: str = "cpu", device=None, progress: bool = True, **overrides) -> Suite:
    """P1 (CosmoGAN): convergence maps at z_s = 1, sigma_8 0.798, Omega_m 0.26.

    P1's maps are 256^2 pixels of 0.2 arcmin (0.866 deg, crops of its 12 deg^2 maps), whose
    multipoles (up to ell ~ 52,000) no particle mesh on two cores resolves. Below ``paper`` the
    suite keeps P1's cosmology and source plane and coarsens the pixels over a larger field
    (``cpu``: 64^2 pixels of 11 arcmin over 12 deg), so that every multipole up to the maps'
    Nyquist frequency is resolved: a reduced-scale reproduction.

    Arrays: ``maps`` ``(n_maps, n_pix, n_pix)`` float32 convergence.
    """
    cfg = _config("p1", profile, overrides)
    cfg.update(cosmology=P1_COSMOLOGY, z_source=1.0, pixel_arcmin=60 * cfg["field_deg"] / cfg["n_pix"])
    dev = _device(device)

    def build():
        cosmo = Cosmology(**P1_COSMOLOGY)
        per_sim = np.diff(np.linspace(0, cfg["n_maps"], cfg["n_sims"] + 1).round().astype(int))
        maps = []
        with _bar(cfg["n_sims"], "P1 maps (sims)", progress) as bar:
            for s, count in enumerate(per_sim):
                maps.append(
                    convergence_maps(
                        cosmo,
                        int(count),
                        cfg["n_pix"],
                        cfg["field_deg"],
                        z_source=1.0,
                        seed=cfg["seed"] * 100003 + s,
                        device=dev,
                        box_size=cfg["box_size"],
                        n_particles=cfg["n_particles"],
                        n_steps=cfg["n_steps"],
                        slabs_per_box=cfg.get("slabs_per_box", 2),
                    )
                )
                bar.update(1)
        return dict(maps=np.concatenate(maps).astype(np.float32))

    arrays, meta = cached_arrays("p1", cfg, build)
    return _suite("p1", arrays, meta, profile, overrides)


# -- P2 --------------------------------------------------------------------------------
def kids450_grid() -> list[dict]:
    """The 57 (Omega_m, sigma_8) cosmologies of P2 with their train/test split."""
    from .published import p2_grid

    return [dict(omega_m=r.omega_m, sigma8=r.sigma8, split=r.split, extrapolation=r.extrapolation) for r in p2_grid()]


def p2_maps(profile: str = "cpu", device=None, progress: bool = True, cosmologies=None, **overrides) -> Suite:
    """P2: maps of 5 x 5 deg for the KiDS-450 grid of 57 cosmologies (KiDS-450-like n(z)).

    P2's maps have 128^2 pixels; below ``gpu`` they have 32^2 (9.4 arcmin pixels), whose
    multipoles up to the Nyquist frequency (ell ~ 1,100) the 64^3-particle runs resolve.

    Parameters
    ----------
    cosmologies : list of int, optional
        Indices into :func:`kids450_grid` to generate (default: all 57).

    Arrays: ``maps`` ``(n, 128, 128)``, ``params`` ``(n, 2)`` (Omega_m, sigma_8) per map,
    ``cosmology_index`` ``(n,)``, ``is_train`` ``(n,)`` bool.
    """
    grid = kids450_grid()
    indices = list(range(len(grid))) if cosmologies is None else list(cosmologies)
    if not indices or any(
        isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0 or i >= len(grid) for i in indices
    ):
        raise ValueError(
            f"cosmologies must be indices in [0, {len(grid) - 1}] of the KiDS-450 grid, got {cosmologies!r}."
        )
    cfg = _config("p2", profile, overrides)
    indices = [int(i) for i in indices]
    cfg.update(cosmologies=indices, field_deg=5.0, nz="kids450_smail_z0_0.5", pixel_arcmin=60 * 5.0 / cfg["n_pix"])
    dev = _device(device)

    def build():
        maps, params, index = [], [], []
        with _bar(len(indices), "P2 maps (cosmologies)", progress) as bar:
            for i in indices:
                row = grid[i]
                cosmo = Cosmology(row["omega_m"], row["sigma8"])
                m = convergence_maps(
                    cosmo,
                    cfg["maps_per_cosmology"],
                    cfg["n_pix"],
                    5.0,
                    nz=kids450_nz,
                    seed=cfg["seed"] * 100003 + 1000 * i,
                    device=dev,
                    box_size=cfg["box_size"],
                    n_particles=cfg["n_particles"],
                    n_sims=cfg["n_sims"],
                    n_steps=cfg["n_steps"],
                    slabs_per_box=cfg.get("slabs_per_box", 2),
                )
                maps.append(m)
                params.append(np.tile([row["omega_m"], row["sigma8"]], (len(m), 1)))
                index.append(np.full(len(m), i))
                bar.update(1)
        index = np.concatenate(index)
        is_train = np.array([grid[i]["split"] == "train" for i in index])
        return dict(
            maps=np.concatenate(maps).astype(np.float32),
            params=np.concatenate(params),
            cosmology_index=index,
            is_train=is_train,
        )

    arrays, meta = cached_arrays("p2", cfg, build)
    return _suite("p2", arrays, meta, profile, overrides)


# -- P3 --------------------------------------------------------------------------------
def _subvolumes(field_: np.ndarray, size: int) -> np.ndarray:
    n = field_.shape[0]
    m = n // size
    return (
        field_[: m * size, : m * size, : m * size]
        .reshape(m, size, m, size, m, size)
        .transpose(0, 2, 4, 1, 3, 5)
        .reshape(-1, size, size, size)
    )


def p3_subvolumes(profile: str = "cpu", device=None, progress: bool = True, **overrides) -> Suite:
    """P3: non-overlapping ``sub_size^3`` sub-volumes of 1 + delta from PM boxes.

    The density is painted (cloud-in-cell) on cells of ``box_size / density_grid`` Mpc/h, twice
    the particle spacing below ``paper``: the particles then resolve the cells' Nyquist
    frequency. P3's cells are 1 Mpc (its boxes are in Mpc); ``cpu`` uses 2 Mpc/h cells.
    ``config["mean_density_p3_units"]`` is the mean density in P3's units, 10^10 M_sun per
    (1 Mpc)^3, the quantity P3's scaling with ``kappa`` acts on (:func:`mean_density_p3_units`).

    Arrays: ``density_z{z}`` ``(n, s, s, s)`` float32 for z in 3.0, 1.5, 0.5, 0.0 (training)
    and 2.0, 1.0, 0.25 (evaluation), the same sub-volumes at every redshift.
    """
    cfg = _config("p3", profile, overrides)
    cfg.update(
        cosmology=P3_COSMOLOGY,
        redshifts=list(P3_REDSHIFTS + P3_EVAL_REDSHIFTS),
        cell_size=cfg["box_size"] / cfg["density_grid"],
        mean_density_p3_units=mean_density_p3_units(),
    )
    if cfg["density_grid"] % cfg["sub_size"]:
        raise ValueError(
            f"sub_size ({cfg['sub_size']}) must divide density_grid ({cfg['density_grid']}): "
            "the sub-volumes tile each box."
        )
    dev = _device(device)

    def build():
        cosmo = Cosmology(**P3_COSMOLOGY)
        out = {z: [] for z in cfg["redshifts"]}
        with _bar(cfg["n_boxes"], "P3 boxes", progress) as bar:
            for b in range(cfg["n_boxes"]):
                run = run_pm(
                    cosmo,
                    cfg["box_size"],
                    cfg["n_particles"],
                    cfg["redshifts"],
                    seed=cfg["seed"] * 100003 + b,
                    n_steps=cfg["n_steps"],
                    device=dev,
                    density_grid=cfg["density_grid"],
                )
                for z in cfg["redshifts"]:
                    out[z].append(_subvolumes(run.density[z], cfg["sub_size"]))
                bar.update(1)
        return {f"density_z{z:g}": np.concatenate(v).astype(np.float32) for z, v in out.items()}

    arrays, meta = cached_arrays("p3", cfg, build)
    return _suite("p3", arrays, meta, profile, overrides)


# -- P4 --------------------------------------------------------------------------------
def p4_counts(profile: str = "cpu", device=None, progress: bool = True, **overrides) -> Suite:
    """P4: particle counts per voxel of independent z = 0 boxes, Omega_m 0.276.

    Voxels of P4's size (500/256 Mpc/h) holding 64 particles on average, as P4's 1024^3
    particles in 256^3 voxels: below ``paper`` the cubes have fewer voxels, not fewer particles
    per voxel. :class:`gancosmo.data.intensity.P4ForwardMap` is P4's transform of the counts.

    Arrays: ``counts`` ``(n_cubes, v, v, v)`` int32 (v = ``voxels``).
    """
    cfg = _config("p4", profile, overrides)
    cfg.update(
        cosmology=P4_COSMOLOGY,
        voxel_size=cfg["box_size"] / cfg["voxels"],
        particles_per_voxel=(cfg["n_particles"] / cfg["voxels"]) ** 3,
    )
    dev = _device(device)

    def build():
        cosmo = Cosmology(**P4_COSMOLOGY)
        cubes = []
        with _bar(cfg["n_cubes"], "P4 cubes", progress) as bar:
            for c in range(cfg["n_cubes"]):
                run = run_pm(
                    cosmo,
                    cfg["box_size"],
                    cfg["n_particles"],
                    [0.0],
                    seed=cfg["seed"] * 100003 + c,
                    n_steps=cfg["n_steps"],
                    device=dev,
                    output_grid=cfg["voxels"],
                )
                cubes.append(run.particle_counts[0.0])
                bar.update(1)
        return dict(counts=np.stack(cubes).astype(np.int32))

    arrays, meta = cached_arrays("p4", cfg, build)
    return _suite("p4", arrays, meta, profile, overrides)


# -- P5 --------------------------------------------------------------------------------
def log_like(v: np.ndarray, a: float, b: float, c: float = 0.0) -> np.ndarray:
    """P5's log-like transform v' = (2 log(v + c) - (b + a)) / (b - a), into about [-1, 1]."""
    return (2.0 * np.log(v + c) - (b + a)) / (b - a)


def _gaussian_stride3(image: torch.Tensor, sigma_px: float = 3.0) -> torch.Tensor:
    """Periodic Gaussian smoothing (sigma in pixels) sampled every third pixel."""
    radius = int(math.ceil(4 * sigma_px))
    x = torch.arange(-radius, radius + 1, dtype=image.dtype, device=image.device)
    kernel = torch.exp(-0.5 * (x / sigma_px) ** 2)
    kernel = kernel / kernel.sum()
    img = image[None, None]
    img = torch.nn.functional.pad(img, (radius, radius, radius, radius), mode="circular")
    img = torch.nn.functional.conv2d(img, kernel.reshape(1, 1, 1, -1))
    img = torch.nn.functional.conv2d(img, kernel.reshape(1, 1, -1, 1))
    return img[0, 0, ::3, ::3]


def slab_images(positions: torch.Tensor, box_size: float, slabs_per_axis: int, histogram: int) -> np.ndarray:
    """P5's slab images: per slab, a particle histogram, transform (Eq. 2), smoothing with stride 3.

    Parameters
    ----------
    positions : torch.Tensor
        ``(N, 3)`` particle positions in Mpc/h.
    slabs_per_axis : int
        Slabs cut along each of the three axes.
    histogram : int
        Pixels per side of the slab histogram (a multiple of 3); images are ``histogram / 3``.

    Returns
    -------
    np.ndarray
        ``(3 * slabs_per_axis, histogram // 3, histogram // 3)`` transformed images.
    """
    images = []
    cells = torch.floor(positions / box_size * histogram).long() % histogram
    slab = torch.floor(positions / box_size * slabs_per_axis).long() % slabs_per_axis
    for axis in range(3):
        u, v = [d for d in range(3) if d != axis]
        for s in range(slabs_per_axis):
            sel = slab[:, axis] == s
            counts = torch.bincount(cells[sel, u] * histogram + cells[sel, v], minlength=histogram * histogram)
            counts = counts.reshape(histogram, histogram).to(torch.float64)
            transformed = torch.from_numpy(log_like(counts.cpu().numpy(), a=math.log(1e-3), b=math.log(2632.0), c=1e-3))
            images.append(_gaussian_stride3(transformed).numpy())
    return np.stack(images).astype(np.float32)


def p5_slices(profile: str = "cpu", device=None, progress: bool = True, **overrides) -> Suite:
    """P5 (3D set): transformed, smoothed slab histograms of z = 0 boxes, cut into square crops.

    Arrays: ``images`` ``(n, crop, crop)`` float32 in about [-1, 1] (Eq. 2 of P5 with
    c = 0.001, a_2 = log c, b_2 = log 2632, applied before the smoothing).
    """
    cfg = _config("p5", profile, overrides)
    cfg.update(cosmology=P5_COSMOLOGY)
    if cfg["histogram"] % 3 or cfg["histogram"] // 3 < cfg["crop"]:
        raise ValueError(
            f"histogram must be a multiple of 3 with histogram/3 >= crop, got {cfg['histogram']} and {cfg['crop']}."
        )
    dev = _device(device)

    def build():
        from .pm import ParticleMesh, default_time_steps

        cosmo = Cosmology(**P5_COSMOLOGY)
        crops = []
        with _bar(cfg["n_boxes"], "P5 boxes", progress) as bar:
            for b in range(cfg["n_boxes"]):
                pm = ParticleMesh(cosmo, cfg["box_size"], cfg["n_particles"], device=dev)
                a0 = 0.1
                x, p = pm.initial_state(cfg["seed"] * 100003 + b, a0)
                with torch.no_grad():
                    x, _ = pm.evolve(x, p, default_time_steps(a0, 1.0, cfg["n_steps"]))
                images = slab_images(x.cpu(), cfg["box_size"], cfg["slabs_per_axis"], cfg["histogram"])
                side, c = images.shape[-1], cfg["crop"]
                starts = sorted({0, (side - c) // 2, side - c})
                for i in starts:
                    for j in starts:
                        crops.append(images[:, i : i + c, j : j + c])
                bar.update(1)
        return dict(images=np.concatenate(crops))

    arrays, meta = cached_arrays("p5", cfg, build)
    return _suite("p5", arrays, meta, profile, overrides)


def p5_2d(profile: str = "cpu", device=None, progress: bool = True, **overrides) -> Suite:
    """P5 (2D set): density of native 2D particle-mesh runs at z = 0, and its transform.

    Arrays: ``density`` ``(n_runs, n, n)`` float32 1 + delta (CIC on the particle grid; P5
    used a Delaunay estimator), ``images`` the transform of P5's Eq. 1 (a = log 0.01,
    b = log 600) of the density, clipped below at 0.01.
    """
    cfg = _config("p5_2d", profile, overrides)
    cfg.update(cosmology=P5_COSMOLOGY)
    dev = _device(device)

    def build():
        cosmo = Cosmology(**P5_COSMOLOGY)
        fields = []
        with _bar(cfg["n_runs"], "P5 2D runs", progress) as bar:
            for r in range(cfg["n_runs"]):
                run = run_pm(
                    cosmo,
                    cfg["box_size"],
                    cfg["n_particles"],
                    [0.0],
                    seed=cfg["seed"] * 100003 + r,
                    n_steps=cfg["n_steps"],
                    device=dev,
                    ndim=2,
                )
                fields.append(run.density[0.0])
                bar.update(1)
        density = np.stack(fields).astype(np.float32)
        images = log_like(np.clip(density, 0.01, None), a=math.log(0.01), b=math.log(600.0)).astype(np.float32)
        return dict(density=density, images=images)

    arrays, meta = cached_arrays("p5_2d", cfg, build)
    return _suite("p5_2d", arrays, meta, profile, overrides)


SUITES = {"p1": p1_maps, "p2": p2_maps, "p3": p3_subvolumes, "p4": p4_counts, "p5": p5_slices, "p5_2d": p5_2d}


def load_suite(
    name: str, profile: str = "cpu", source: str = "simulated", device=None, progress: bool = True, **options
) -> Suite:
    """Load a named suite, simulated (default) or the paper's published data.

    Parameters
    ----------
    name : str
        One of ``p1, p2, p3, p4, p5, p5_2d``.
    source : str
        ``"simulated"`` (the book's own PM data, cached) or ``"published"`` (the paper's
        data through checksummed downloads, where public: p1, p2, p4).
    options :
        Size overrides for simulated suites, or the published loader's keyword arguments.
    """
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; accepted: {', '.join(SUITES)}.")
    if source == "published":
        from .published import load_published

        data = load_published(name, **options)
        arrays = data if isinstance(data, dict) else {"data": np.asarray(data)}
        return Suite(
            name, arrays, dict(config=dict(source="published", name=name, **{k: str(v) for k, v in options.items()}))
        )
    if source != "simulated":
        raise ValueError(f"source must be 'simulated' or 'published', got {source!r}.")
    return SUITES[name](profile=profile, device=device, progress=progress, **options)


def book_requests(profile: str) -> list[tuple[str, dict]]:
    """The suites (and options) the chapter ``00_simulations`` shows at a profile.

    ``make data`` generates exactly these, so the chapter then reads them from the cache.
    P2 is limited to five cosmologies (the grid centre and its corners,
    :func:`kids450_probe_cosmologies`); the full grid of 57 is generated by the P2 chapter.
    """
    resolve_profile(profile)
    return [
        ("p1", {}),
        ("p2", {"cosmologies": kids450_probe_cosmologies()}),
        ("p3", {}),
        ("p4", {}),
        ("p5", {}),
        ("p5_2d", {}),
    ]


def kids450_probe_cosmologies() -> list[int]:
    """Grid indices of the KiDS-450 grid's centre and corners: :func:`kids450_centre_and_edges` and lowest sigma_8.

    Chapter 00 measures the P2 suite's resolution and its distance from the lognormal null here.
    """
    grid = kids450_grid()
    s8 = np.array([g["sigma8"] for g in grid])
    return sorted(set(kids450_centre_and_edges()) | {int(np.argmin(s8))})


def kids450_centre_and_edges() -> list[int]:
    """Indices of four grid cosmologies: nearest the centre, and lowest/highest Omega_m, highest sigma_8."""
    grid = kids450_grid()
    om = np.array([g["omega_m"] for g in grid])
    s8 = np.array([g["sigma8"] for g in grid])
    centre = int(np.argmin(((om - np.median(om)) / om.std()) ** 2 + ((s8 - np.median(s8)) / s8.std()) ** 2))
    return [centre, int(np.argmin(om)), int(np.argmax(om)), int(np.argmax(s8))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Generate (or verify in the cache) the book's simulated data suites.")
    parser.add_argument("--profile", default="cpu", help="auto, smoke, cpu, gpu or paper")
    parser.add_argument(
        "--suites", default="book", help="'book' (what chapter 00 shows), 'all', or a comma list of suite names"
    )
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    if args.suites == "book":
        requests = book_requests(args.profile)
    elif args.suites == "all":
        requests = [(name, {}) for name in SUITES]
    else:
        requests = [(name.strip(), {}) for name in args.suites.split(",")]
    for name, options in requests:
        suite = load_suite(name, profile=args.profile, device=args.device, **options)
        shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in suite.arrays.items())
        print(f"{name}: {shapes} ({suite.meta.get('seconds', 0):.1f} s to build)")


if __name__ == "__main__":
    main()
