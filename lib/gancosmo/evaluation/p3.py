r"""P3 (Feder et al. 2020, heavy-tailed 3D GAN): the steps of chapter ``03_3d_gan``.

Each function is one arrow of the chapter and returns a typed result:

* :class:`P3Config`: the chapter's one frozen configuration and profile table (data, network,
  training, evaluation sizes; the suite overrides passed to ``load_suite``).
* :func:`load_data` -> :class:`P3Data`: the suite's sub-volumes at every redshift, each with
  its parent box, split by box into train / dev / test (:func:`..protocol.split_by_parent`).
* :func:`resolution` -> :class:`Resolution`: the k bins (fundamental to Nyquist) and the range
  our PM data resolve (against pyccl's halofit).
* :func:`train_model` -> :class:`TrainedModel`: one GAN with P3's recipe; the epoch is chosen
  by :class:`PdfPowerSelector` on the dev boxes (``Trainer.restore_best``) and the latent
  width calibrated on the dev boxes.
* :func:`evaluate` -> :class:`Evaluation`: every scorecard row of the redshift-0 models by the
  protocol (test A, the 39-split real-vs-real band, the lognormal null), plus the numbers
  behind Figs. 5-11.
* :func:`evaluate_conditional` -> :class:`ConditionalResult` (Figs. 12-13) and
  :func:`drs_experiment` -> :class:`DRSResult` (Appendix A, Figs. 14-15).
* :func:`scorecard` -> :class:`Scorecard`: all rows, the run's ``meta`` and a summary written
  from the rows (:meth:`Scorecard.summary`).

Units: densities are the normalised matter density ``x = rho / rho_mean = 1 + delta``
(dimensionless); box sides in Mpc/h; wavenumbers k in h/Mpc; P(k) in (Mpc/h)^3; bispectra
in (Mpc/h)^6. Power spectra and bispectra are those of ``x - mean(x)`` of each sub-volume
(as P3's code: the mean subtracted, not divided).

Parents: every sub-volume's parent is the PM box it was cut from (sub-volumes of one box
share its large modes). At ``cpu`` the suite has twelve boxes of 128 Mpc/h with 128^3
particles, painted on 2 Mpc/h cells (twice the particle spacing, so that the particles
resolve the cells' Nyquist frequency; a 64 Mpc/h box of the same resolution lacks 25% of the
halofit power at z = 0, because its modes longer than the box are missing), each cut into
eight 32^3 sub-volumes: 6 boxes train, 1 selects, 5 are the test pool.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import ChapterConfig, option, require_training, writable_folder
from ..data.transforms import DensityScaling, scale, unscale
from ..params import ParameterError
from ..progress import progress_bar
from ..scorecard import Row, find_row, git_commit
from ..stats import bispectrum_3d, correlation, covariance, mean_density, pixel_histogram, power_spectrum_3d
from ..train.selection import Selector
from .binned import binned_comparison
from .protocol import RowSpec, band_from_values, real_vs_real_splits, rows_from_scores, score, split_by_parent, subset
from .sampling import LognormalNull, TorchEmulator, generation_speed

__all__ = [
    "PAPER",
    "P3Config",
    "P3Data",
    "Resolution",
    "TrainedModel",
    "Evaluation",
    "ConditionalResult",
    "DRSResult",
    "Scorecard",
    "setup",
    "tile_cubes",
    "load_data",
    "prepare_data",
    "k_edges",
    "power",
    "resolved_k",
    "density_units_text",
    "resolution",
    "PdfPowerSelector",
    "train_model",
    "width_statistic",
    "voxel_pdfs",
    "voxel_pdf_edges",
    "voxel_fractions",
    "mean_density_comparison",
    "covariance_comparison",
    "bispectrum_configurations",
    "bispectra",
    "cross_power",
    "field_features",
    "compare_fields",
    "evaluate",
    "memorisation",
    "evaluate_conditional",
    "finetune_discriminator",
    "discriminator_logits",
    "drs_accept",
    "drs_experiment",
    "scorecard",
    "git_commit",
    "density",
    "scaled",
    "paper_parameter_count",
]

#: P3's headline numbers (Sect. IV, Appendix A, Discussion), as printed.
PAPER = dict(
    pk_k3=0.05,
    pk_k5=0.10,
    cov_range="5-25% up to k = 3 (Student-t); > 50% more accurate than Gaussian",
    mean_density_gaussian=0.12,
    mean_density_student=0.05,
    drs_acceptance=0.03,
    drs_pk="biased high",
    g_parameters=4_393_920,
    samples_per_s=512 / 6.0,
    n_generated=2000,
    n_training=16384,
    sub_size=64,
    kappa=45.0,
    kappa_conditional=4.0,
    nu=10.0,
)
#: P3's generation speed in voxels per second (512 volumes of 64^3 in about 6 s on a GPU).
PAPER_VOXELS_PER_S = 512 * 64**3 / 6.0
#: Memorisation criterion (PROTOCOL.md): median GAN-to-train / median test-to-train NN distance.
MEMORISATION_MIN = 0.95


# ====================================================================== configuration
def _positive_ints(v) -> bool:
    return (
        isinstance(v, tuple)
        and len(v) >= 1
        and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in v)
    )


def _increasing_widths(v) -> bool:
    return (
        isinstance(v, tuple)
        and len(v) >= 2
        and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in v)
        and all(math.isfinite(c) and c > 0 for c in v)
        and all(b > a for a, b in zip(v, v[1:]))
    )


@dataclass(frozen=True)
class P3Config(ChapterConfig):
    """Everything chapter 03 needs, from one profile table (:attr:`PROFILES`).

    Data: ``n_boxes``, ``box_size``, ``n_particles``, ``density_grid``, ``n_steps``, ``sub_size`` and
    ``data_seed`` go to ``load_suite("p3", ...)`` where they differ from the suite's recipe at the
    profile (cells of ``box_size / density_grid`` Mpc/h; each
    box is one parent). ``train_fraction`` and ``dev_fraction`` of the boxes train and select
    the models; the rest are the test pool (test A, test B and the real-vs-real splits).
    """

    seed: int = option(doc="seed of the networks, the training runs and the generated samples", low=0)
    kappa: float = option(
        doc="kappa of the scaling c(x) = 2x/(x + kappa) - 1 of the redshift-0 models (P3: 45)", low=0, low_open=True
    )
    prior: str = option(doc="latent prior of the main model (P3 compares both)", choices=("gaussian", "student-t"))
    nu: float = option(doc="degrees of freedom of the Student-t prior (P3: 10)", low=0, low_open=True)
    compare_priors: bool = option(doc="also train a model with the other prior")
    conditional: bool = option(doc="train and score the redshift-conditional GAN")
    kappa_conditional: float = option(
        doc="scaling parameter of the redshift-conditional GAN (P3: 4)", low=0, low_open=True
    )
    epochs: float = option(
        doc="training epochs of each redshift-0 model over the training boxes (P3: 150)", low=0, low_open=True
    )
    cond_epochs: float = option(doc="training epochs of the redshift-conditional GAN", low=0, low_open=True)
    batch_size: int = option(doc="volumes per batch (P3: 16)", low=2)
    lr_g: float = option(doc="Adam learning rate of the generator (P3: 1e-4)", low=0, low_open=True, high=1)
    lr_d: float = option(doc="Adam learning rate of the discriminator (P3: 5e-5)", low=0, low_open=True, high=1)
    d_accuracy_threshold: float = option(
        doc="update the discriminator only when its batch accuracy is below this (P3: 0.8)",
        low=0,
        low_open=True,
        high=1,
    )
    lr_decay_every: int = option(
        doc="halve both learning rates every this many generator steps (P3: 1000; 0: never)", low=0
    )
    n_generate: int | None = option(
        doc="volumes on each side of every comparison (GAN, null, test A, test B); None: half the test pool",
        low=2,
        nullable=True,
    )
    drs_epsilon: float = option(doc="epsilon of discriminator rejection sampling (P3: 0.01)", low=0)
    drs_gamma: float = option(doc="gamma of discriminator rejection sampling (P3: 0)")
    device: str | None = option(
        doc="'cpu' or 'cuda' (None: cuda when available)", choices=("cpu", "cuda"), nullable=True
    )
    results_dir: str | None = option(
        doc="folder to write scorecard_p3_{profile}.json and the figures into (None: nothing)",
        check=writable_folder,
        describe="a folder this process can write",
        nullable=True,
    )
    # data (suite overrides) and the split by parent box
    n_boxes: int = option(doc="PM boxes of the suite (each box is one parent)", low=1)
    box_size: float = option(doc="side of each PM box in Mpc/h", low=0, low_open=True)
    n_particles: int = option(doc="particles (and force-mesh cells) per side of each box", low=8)
    density_grid: int = option(doc="cells per side of the density grid of each box (P3: 1 Mpc cells)", low=8)
    n_steps: int = option(doc="PM time steps", low=1)
    suite_sub_size: int = option(
        doc="side in cells of the suite's sub-volumes (the book's P3 suite cuts each box into 64^3 sub-volumes)", low=8
    )
    sub_size: int = option(doc="side in cells of the sub-volumes the networks see (the suite's cut further)", low=8)
    data_seed: int = option(doc="seed of the simulations and of the split by box (fixed across network seeds)", low=0)
    train_fraction: float = option(
        doc="fraction of the boxes that train the models", low=0, low_open=True, high=1, high_open=True
    )
    dev_fraction: float = option(
        doc="fraction of the boxes for epoch selection, width calibration and DRS",
        low=0,
        low_open=True,
        high=1,
        high_open=True,
    )
    # networks
    filters: tuple = option(
        doc="hidden channels of the generator, first to last (Table I: 256, 128, 64, 32)",
        check=_positive_ints,
        describe="a tuple of positive integers, e.g. (32, 16, 4)",
    )
    latent_dim: int = option(doc="size of the latent vector (P3: 100)", low=1)
    # selection, calibration, DRS, evaluation
    n_select: int = option(doc="generated volumes per selection evaluation (once per epoch)", low=2)
    calib_scales: tuple = option(
        doc="latent widths tried by the calibration",
        check=_increasing_widths,
        describe="a tuple of at least two increasing positive widths",
    )
    n_calib: int = option(doc="generated volumes per width of the calibration", low=2)
    drs_steps: int = option(doc="extra discriminator steps before rejection sampling (P3: five epochs)", low=0)
    n_drs: int = option(doc="generated volumes for rejection sampling (P3: 2000)", low=2)
    speed_samples: int = option(doc="volumes timed for the generation speed", low=1)
    n_splits: int = option(doc="random real-vs-real splits of the band (at least 20)", low=20)

    PROFILES = {}  # filled below

    @property
    def density_unit(self) -> float:
        """Mean density of the data in P3's units, 10^10 M_sun per (1 Mpc)^3 (about 3.8).

        P3's ``kappa`` acts on that density, ``x = density_unit * rho / rho_bar``
        (:func:`gancosmo.sims.suites.mean_density_p3_units`).
        """
        from ..sims.suites import mean_density_p3_units

        return mean_density_p3_units()

    @property
    def kappa_rho(self) -> float:
        """``kappa`` of the redshift-0 scaling on rho / rho_bar: ``c = 2x/(x + kappa) - 1`` in P3's units."""
        return self.kappa / self.density_unit

    @property
    def kappa_conditional_rho(self) -> float:
        """``kappa_conditional`` on rho / rho_bar (as :attr:`kappa_rho`)."""
        return self.kappa_conditional / self.density_unit

    def check(self) -> None:
        side = 4 * 2 ** len(self.filters)
        if side != self.sub_size:
            raise ParameterError(
                f"parameter 'filters' has {len(self.filters)} entries, which give volumes of {side}^3, but "
                f"sub_size is {self.sub_size}; accepted are log2(sub_size / 4) filters."
            )
        if self.density_grid % self.suite_sub_size or self.suite_sub_size % self.sub_size:
            raise ParameterError(
                f"parameter 'sub_size' ({self.sub_size}) must divide suite_sub_size ({self.suite_sub_size}), "
                f"which must divide density_grid ({self.density_grid}): each box is cut into whole sub-volumes."
            )
        if self.train_fraction + self.dev_fraction >= 1:
            raise ParameterError(
                f"train_fraction + dev_fraction is {self.train_fraction + self.dev_fraction:g}; accepted is "
                "less than 1 (the rest of the boxes are the test pool)."
            )
        n_test = (
            self.n_boxes
            - max(1, round(self.train_fraction * self.n_boxes))
            - max(1, round(self.dev_fraction * self.n_boxes))
        )
        if n_test < 4:
            raise ParameterError(
                f"parameter 'n_boxes' ({self.n_boxes}) leaves {n_test} test boxes after train and dev; accepted "
                "are enough boxes for at least 4 test boxes (test A and test B by box)."
            )
        n_train = max(1, round(self.train_fraction * self.n_boxes)) * (self.density_grid // self.sub_size) ** 3
        require_training(self.epochs, n_train, self.batch_size, samples="training sub-volumes")
        if self.conditional:
            from ..sims.suites import P3_REDSHIFTS

            require_training(
                self.cond_epochs,
                n_train * len(P3_REDSHIFTS),
                self.batch_size,
                samples="training sub-volumes (all redshifts)",
                epochs_name="cond_epochs",
            )
        max_n = (n_test // 2) * (self.density_grid // self.sub_size) ** 3
        if self.n_generate is not None and self.n_generate > max_n:
            raise ParameterError(
                f"parameter 'n_generate' is {self.n_generate}, but the {n_test} test boxes hold two box-disjoint "
                f"sets of at most {max_n} sub-volumes; accepted is n_generate <= {max_n} (or None)."
            )
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError(
                "parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None."
            )

    @property
    def suite_overrides(self) -> dict:
        """What ``load_suite("p3", ...)`` gets: the values that differ from the suite's recipe at the profile."""
        from ..sims.suites import recipe_overrides

        return recipe_overrides(
            "p3",
            self.profile,
            n_boxes=self.n_boxes,
            box_size=self.box_size,
            n_particles=self.n_particles,
            density_grid=self.density_grid,
            n_steps=self.n_steps,
            sub_size=self.suite_sub_size,
            seed=self.data_seed,
        )

    @property
    def fractions(self) -> dict:
        return dict(train=self.train_fraction, dev=self.dev_fraction, test=1 - self.train_fraction - self.dev_fraction)

    @property
    def models(self) -> list[str]:
        """The redshift-0 models to train: the main prior, then the other one if ``compare_priors``."""
        other = "gaussian" if self.prior == "student-t" else "student-t"
        return [self.prior] + ([other] if self.compare_priors else [])


_COMMON = dict(
    seed=0,
    kappa=45.0,
    prior="student-t",
    nu=10.0,
    compare_priors=True,
    conditional=True,
    kappa_conditional=4.0,
    d_accuracy_threshold=0.8,
    lr_decay_every=1000,
    drs_epsilon=0.01,
    drs_gamma=0.0,
    device=None,
    results_dir=None,
    data_seed=0,
    train_fraction=0.5,
    dev_fraction=0.125,
    latent_dim=100,
    n_splits=39,
)
# ``lr_g``/``lr_d`` are P3's (1e-4, 5e-5) for gpu and paper. The short cpu and smoke runs use 8e-4 and 2e-4: at P3's
# rates a generator of a few thousand steps never moves its tanh output from c ~ 0 to the data's c ~ -0.99 (exploratory
# cpu runs).
# cpu: the suite's 12 boxes of 128 Mpc/h on 2 Mpc/h cells (8 sub-volumes of 32^3 each): 6 train boxes (48 volumes),
# 1 dev, 5 test (test A and B of 16 volumes, 2 boxes each).
P3Config.PROFILES.update(
    {
        "smoke": P3Config(
            profile="smoke",
            **_COMMON,
            n_boxes=20,
            box_size=32.0,
            n_particles=32,
            density_grid=32,
            n_steps=6,
            suite_sub_size=32,
            sub_size=32,
            filters=(8, 4, 2),
            epochs=4.0,
            cond_epochs=1.0,
            batch_size=4,
            lr_g=8e-4,
            lr_d=2e-4,
            n_generate=None,
            n_select=4,
            calib_scales=(0.9, 1.1),
            n_calib=4,
            drs_steps=2,
            n_drs=16,
            speed_samples=8,
        ),
        "cpu": P3Config(
            profile="cpu",
            **_COMMON,
            n_boxes=12,
            box_size=128.0,
            n_particles=128,
            density_grid=64,
            n_steps=20,
            suite_sub_size=64,
            sub_size=32,
            filters=(32, 16, 4),
            epochs=400.0,
            cond_epochs=18.0,
            batch_size=16,
            lr_g=8e-4,
            lr_d=2e-4,
            n_generate=None,
            n_select=32,
            calib_scales=(0.8, 0.9, 1.0, 1.1, 1.2),
            n_calib=64,
            drs_steps=40,
            n_drs=512,
            speed_samples=256,
        ),
        "cpu-long": P3Config(
            profile="cpu-long",
            **{**_COMMON, "data_seed": 1},
            n_boxes=48,
            box_size=128.0,
            n_particles=128,
            density_grid=64,
            n_steps=20,
            suite_sub_size=64,
            sub_size=32,
            filters=(64, 32, 16),
            epochs=200.0,
            cond_epochs=40.0,
            batch_size=16,
            lr_g=8e-4,
            lr_d=2e-4,
            n_generate=None,
            n_select=64,
            calib_scales=(0.8, 0.9, 1.0, 1.1, 1.2),
            n_calib=64,
            drs_steps=100,
            n_drs=1024,
            speed_samples=256,
        ),
        "gpu": P3Config(
            profile="gpu",
            **_COMMON,
            n_boxes=32,
            box_size=128.0,
            n_particles=256,
            density_grid=128,
            n_steps=30,
            suite_sub_size=64,
            sub_size=64,
            filters=(256, 128, 64, 32),
            epochs=180.0,
            cond_epochs=48.0,
            batch_size=16,
            lr_g=1e-4,
            lr_d=5e-5,
            n_generate=None,
            n_select=128,
            calib_scales=(0.94, 0.97, 1.0, 1.03, 1.06),
            n_calib=256,
            drs_steps=320,
            n_drs=2000,
            speed_samples=512,
        ),
        "paper": P3Config(
            profile="paper",
            **_COMMON,
            n_boxes=32,
            box_size=512.0,
            n_particles=512,
            density_grid=512,
            n_steps=30,
            suite_sub_size=64,
            sub_size=64,
            filters=(256, 128, 64, 32),
            epochs=150.0,
            cond_epochs=150.0,
            batch_size=16,
            lr_g=1e-4,
            lr_d=5e-5,
            n_generate=2000,
            n_select=256,
            calib_scales=(0.97, 0.98, 0.99, 1.0, 1.01, 1.02, 1.03),
            n_calib=512,
            drs_steps=5120,
            n_drs=2000,
            speed_samples=512,
        ),
    }
)


def setup(cfg: P3Config) -> str:
    """The device of the run (``cfg.device`` or cuda when available); flushes denormals on the CPU.

    Tiny activations of a collapsing GAN otherwise slow the CPU many-fold.
    """
    torch.set_flush_denormal(True)
    return cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")


# ====================================================================== data
def tile_cubes(cubes: np.ndarray, size: int) -> np.ndarray:
    """Cut ``(N, s, s, s)`` cubes into non-overlapping ``size^3`` cubes (``size`` divides ``s``), parent-ordered."""
    cubes = np.asarray(cubes)
    if cubes.ndim != 4 or len(set(cubes.shape[1:])) != 1:
        raise ValueError(f"cubes must have shape (N, s, s, s), got {cubes.shape}.")
    n, s = cubes.shape[0], cubes.shape[1]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 4 or s % size:
        raise ValueError(f"size must be an integer >= 4 that divides the cube side {s}, got {size!r}.")
    m = s // size
    return cubes.reshape(n, m, size, m, size, m, size).transpose(0, 1, 3, 5, 2, 4, 6).reshape(-1, size, size, size)


@dataclass
class P3Data:
    """The chapter's real sub-volumes at every redshift, their parent boxes and the split by box.

    ``density[z]`` is ``(N, s, s, s)`` (the same sub-volumes at every redshift); ``parents[i]``
    the box of sub-volume ``i``; ``split`` maps ``train``, ``dev``, ``test`` to sorted indices.
    """

    density: dict
    parents: np.ndarray
    split: dict
    box_size: float  # side of one sub-volume, Mpc/h
    cell: float  # Mpc/h
    n_boxes: int
    parent_box_size: float
    suite_volumes: np.ndarray = field(default=None, repr=False)  # the suite's z = 0 sub-volumes (whole boxes at cpu)
    suite_parents: np.ndarray = field(default=None, repr=False)
    seconds: float = 0.0

    @property
    def side(self) -> int:
        return next(iter(self.density.values())).shape[-1]

    @property
    def per_parent(self) -> int:
        return int(np.bincount(self.parents).max())

    @property
    def redshifts(self) -> list[float]:
        return list(self.density)

    def part(self, name: str, z: float = 0.0) -> np.ndarray:
        """The sub-volumes of ``train``, ``dev`` or ``test`` at redshift ``z``."""
        return self.density[z][self.split[name]]

    def boxes(self, name: str) -> int:
        return len(np.unique(self.parents[self.split[name]]))

    def max_n(self) -> int:
        """The largest n for which the test pool holds two parent-disjoint sets of n (whole boxes)."""
        counts = np.bincount(self.parents[self.split["test"]])
        counts = np.sort(counts[counts > 0])
        return int((len(counts) // 2) * counts.min())

    def summary(self) -> str:
        parts = ", ".join(f"{k} {len(v)} ({self.boxes(k)} boxes)" for k, v in self.split.items())
        return (
            f"{len(self.parents)} sub-volumes of {self.side}^3 cells ({self.box_size:g} Mpc/h, cells of "
            f"{self.cell:g} Mpc/h) at each of {len(self.density)} redshifts, cut from {self.n_boxes} boxes of "
            f"{self.parent_box_size:g} Mpc/h "
            f"({self.per_parent} per box); split by box: {parts}"
        )


def prepare_data(suite, sub_size: int, fractions: dict, seed: int = 0) -> P3Data:
    """The suite's ``density_z*`` arrays cut to ``sub_size^3`` (float32), keyed by redshift, with parents and split.

    The suite concatenates the sub-volumes box by box, so sub-volume ``i`` of ``n`` from
    ``n_boxes`` boxes belongs to box ``i // (n / n_boxes)``.
    """
    cfg = suite.config
    dens = {}
    for key, arr in suite.arrays.items():
        if key.startswith("density_z"):
            a = np.asarray(arr, np.float32)
            dens[float(key[len("density_z") :])] = tile_cubes(a, sub_size) if a.shape[-1] != sub_size else a
    if 0.0 not in dens:
        raise ValueError("the suite has no density_z0 array; accepted is a P3 suite (load_suite('p3', ...)).")
    n_boxes = int(cfg["n_boxes"])
    n = len(dens[0.0])
    if n % n_boxes:
        raise ValueError(f"{n} sub-volumes cannot come from {n_boxes} boxes in equal numbers.")
    parents = np.arange(n) // (n // n_boxes)
    cell = float(cfg["box_size"]) / int(cfg.get("density_grid", cfg["n_particles"]))
    z0 = np.asarray(suite.arrays["density_z0"], np.float32)
    return P3Data(
        density=dict(sorted(dens.items(), reverse=True)),
        parents=parents,
        split=split_by_parent(parents, fractions, seed=seed),
        box_size=cell * sub_size,
        cell=cell,
        n_boxes=n_boxes,
        parent_box_size=float(cfg["box_size"]),
        suite_volumes=z0,
        suite_parents=np.arange(len(z0)) // (len(z0) // n_boxes),
    )


def load_data(cfg: P3Config, device: str | None = None, progress: bool = True) -> P3Data:
    """Simulate (or read from the cache) the P3 suite with the profile's overrides, split it by box."""
    from ..sims import load_suite

    t0 = time.perf_counter()
    suite = load_suite("p3", profile=cfg.profile, device=device, progress=progress, **cfg.suite_overrides)
    data = prepare_data(suite, cfg.sub_size, cfg.fractions, seed=cfg.data_seed)
    data.seconds = time.perf_counter() - t0
    return data


def density_units_text(cfg: P3Config, data: P3Data) -> str:
    """The mean density in P3's units and where the scaling puts the median voxel of the z = 0 training volumes."""
    x = data.part("train")
    median = float(np.median(x))
    c_median = float(scale(median, cfg.kappa_rho))
    return (
        f"mean density in P3's units: {cfg.density_unit:.3f} x 10^10 M_sun per Mpc^3 (Omega_m rho_crit); "
        f"kappa = {cfg.kappa:g} in those units is {cfg.kappa_rho:.2f} on rho/rho_bar; median voxel of the training "
        f"volumes at z = 0: rho/rho_bar = {median:.3f}, scaled c = {c_median:.3f}"
    )


# ====================================================================== power spectrum, resolution
def k_edges(n: int, box_size: float, n_bins: int | None = None) -> np.ndarray:
    """Log-spaced edges (h/Mpc) from the fundamental ``k_F = 2 pi / L`` to the Nyquist ``k_F n / 2``.

    ``n_bins`` defaults to ``3 log2(n / 2)`` (12 bins for 32^3, 15 for 64^3). The first edge sits
    just below ``k_F`` so the fundamental modes fall in the first bin.
    """
    kf = 2 * math.pi / box_size
    nb = n_bins or max(4, int(round(3 * math.log2(n / 2))))
    e = kf * np.geomspace(1.0, n / 2, nb + 1)
    e[0] *= 0.999
    e[-1] *= 1.0001
    return e


def _delta(x) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x - x.reshape(len(x), -1).mean(1)[:, None, None, None]


def power(density, box_size: float, edges) -> tuple[np.ndarray, np.ndarray]:
    """``(k, P[B, nb])``: P(k) in (Mpc/h)^3 of each cube's ``x - mean(x)``."""
    return power_spectrum_3d(_delta(density), box_size, edges)


def resolved_k(k: np.ndarray, pk_sim: np.ndarray, pk_theory: np.ndarray, tol: float = 0.2) -> float:
    """The largest k (h/Mpc) up to which the mean simulated P(k) stays within ``tol`` of theory in every bin from 2 k_F.

    Bins below twice the first are skipped (a sub-volume's largest modes carry its window and
    sample variance). Returns the first bin checked (about 2 k_F) if none qualifies.
    """
    r = np.asarray(pk_sim) / np.asarray(pk_theory)
    good = np.abs(r - 1) <= tol
    start = int(np.searchsorted(k, 2 * k[0]))
    best = k[start] if start < len(k) else k[-1]
    for i in range(start, len(k)):
        if not good[i]:
            break
        best = k[i]
    return float(best)


@dataclass
class Resolution:
    """The k bins of every P(k) row and the range the data resolve.

    The simulation's resolution is measured where no window enters: on the suite's own
    sub-volumes of the training boxes (at ``cpu`` and ``smoke`` the whole periodic PM boxes),
    whose mean P(k) at z = 0 is compared with pyccl's halofit. ``resolved_max`` is the largest
    bin centre (from twice the fundamental) up to which they agree within 20%. The rows use the
    bins ``k`` of the networks' sub-volumes, from their fundamental to the Nyquist wavenumber
    (``scored_max``, the upper edge of the last bin); ``resolved`` marks the bins with
    ``k <= resolved_max``.
    """

    k: np.ndarray
    edges: np.ndarray
    k_suite: np.ndarray
    pk_suite: np.ndarray
    pk_halofit: np.ndarray
    resolved_max: float
    k_fundamental: float
    k_nyquist: float
    n_volumes: int
    suite_side: float

    @property
    def scored_max(self) -> float:
        return float(self.edges[-1])

    @property
    def resolved(self) -> np.ndarray:
        """Mask of the sub-volume bins with k <= resolved_max."""
        return self.k <= self.resolved_max * (1 + 1e-9)

    @property
    def ratio(self) -> np.ndarray:
        """Mean P(k) of the suite's volumes over halofit, on ``k_suite``."""
        return self.pk_suite / self.pk_halofit

    @property
    def within(self) -> bool:
        """Whether the bin at resolved_max is within 20% of halofit at all (False: no scale is resolved well)."""
        return bool(abs(np.interp(self.resolved_max, self.k_suite, self.ratio) - 1) <= 0.2)

    def describe(self) -> str:
        txt = ", ".join(f"{a:.2g}: {b:.2f}" for a, b in zip(self.k_suite, self.ratio))
        return (
            f"PM / halofit at z = 0 ({self.n_volumes} volumes of {self.suite_side:g} Mpc/h), k: ratio = {txt}; "
            "resolved "
            f"(within 20%): k <= {self.resolved_max:.2f} h/Mpc"
            + ("" if self.within else " (no bin is within 20%)")
            + f"; the rows score {len(self.k)} bins of the {2 * math.pi / self.k_fundamental:g} Mpc/h sub-volumes from "
            f"k_F = {self.k_fundamental:.3f} to the Nyquist k = {self.scored_max:.2f} h/Mpc, "
            f"{int(self.resolved.sum())} of "
            "them resolved"
        )


def resolution(data: P3Data, tol: float = 0.2) -> Resolution:
    """k bins of the sub-volumes and the resolved range (the suite's volumes of the training boxes at z = 0).

    The resolved range compares the window-compensated P(k) (the cloud-in-cell painting divided
    out, as chapter 00 and ``gancosmo.sims.fidelity`` do) with halofit, within ``tol`` (20%).
    """
    from ..cosmology import Cosmology
    from ..sims.suites import P3_COSMOLOGY
    from ..sims.validation import measured_pk

    edges = k_edges(data.side, data.box_size)
    train_boxes = np.unique(data.parents[data.split["train"]])
    vols = data.suite_volumes[np.isin(data.suite_parents, train_boxes)]
    side = data.cell * vols.shape[-1]
    ks, pk = measured_pk(vols, side, k_edges(vols.shape[-1], side))
    pk_halofit = np.asarray(Cosmology(**P3_COSMOLOGY).pk_halofit(ks, 0.0), float)
    k = power(data.part("train")[:2], data.box_size, edges)[0]
    return Resolution(
        k=k,
        edges=edges,
        k_suite=ks,
        pk_suite=pk.mean(0),
        pk_halofit=pk_halofit,
        resolved_max=resolved_k(ks, pk.mean(0), pk_halofit, tol),
        k_fundamental=2 * math.pi / data.box_size,
        k_nyquist=math.pi / data.cell,
        n_volumes=len(vols),
        suite_side=side,
    )


# ====================================================================== model selection and training
def density(scaled_: np.ndarray, kappa: float) -> np.ndarray:
    """Unscale generator output (saturated tanh values are clipped just below 1)."""
    return unscale(np.asarray(scaled_), kappa, clip=True).astype(np.float32)


def scaled(density_: np.ndarray, kappa: float) -> np.ndarray:
    """Scale densities for the generator (float32)."""
    return scale(np.asarray(density_), kappa).astype(np.float32)


class PdfPowerSelector(Selector):
    """P3's choice of epoch by voxel PDF and P(k), against the dev boxes.

    Value = L1 distance between the mean histograms (49 bins on [-1, 1]) of scaled voxels of
    generated and dev volumes + mean over k bins of ``|log(mean P_gen / mean P_dev)|`` of the
    unscaled densities. 0 for identical samples; lower is better. :class:`gancosmo.train.Trainer`
    calls it once per epoch and keeps the best generator (``Trainer.restore_best()``), as P3
    saved a generator each epoch and picked the best.

    Parameters
    ----------
    real : dict
        ``{label: scaled dev volumes (N, s, s, s)}``; the key ``None`` for an unconditional
        model. The value is averaged over the labels.
    box_size : float
        Sub-volume side in Mpc/h.
    kappa : float
        Scaling parameter of the data.
    sampler : callable
        Latent sampler; the same latents (from ``seed``) at every evaluation.
    n_samples : int
        Generated volumes per label and evaluation.
    """

    def __init__(self, real: dict, box_size: float, kappa: float, sampler, n_samples: int, seed: int = 0):
        super().__init__()
        self.box_size, self.kappa, self.sampler, self.n_samples, self.seed = (
            box_size,
            kappa,
            sampler,
            int(n_samples),
            seed,
        )
        n = next(iter(real.values())).shape[-1]
        self.edges = k_edges(n, box_size)
        self.pdf_edges = np.linspace(-1, 1, 50)
        self.reference = {}
        for y, cubes in real.items():
            _, h = pixel_histogram(cubes, self.pdf_edges, density=True)
            self.reference[y] = (h.mean(0), power(unscale(cubes, kappa, clip=True), box_size, self.edges)[1].mean(0))

    def distance_to(self, fake_scaled: np.ndarray, label=None) -> float:
        """The selection value of scaled volumes against the reference of ``label``."""
        if not np.isfinite(fake_scaled).all():
            return float("inf")
        h_real, p_real = self.reference[label]
        _, h = pixel_histogram(fake_scaled, self.pdf_edges, density=True)
        pdf = float(np.sum(np.abs(h.mean(0) - h_real)) * (self.pdf_edges[1] - self.pdf_edges[0]))
        p_fake = power(unscale(fake_scaled, self.kappa, clip=True), self.box_size, self.edges)[1].mean(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.abs(np.log(p_fake / p_real))
        pk = float(np.nanmean(lp)) if np.isfinite(lp).any() else float("inf")
        return pdf + pk

    def distance(self, G) -> float:
        em = TorchEmulator(G, latent_sampler=self.sampler, cond_dim=getattr(G, "cond_dim", 0))
        vals = [
            self.distance_to(em.sample_network(self.n_samples, self.seed, labels=None if y is None else [y]), y)
            for y in self.reference
        ]
        return float(np.mean(vals))


@dataclass
class TrainedModel:
    """A GAN trained with P3's recipe, at the epoch chosen on the dev boxes and the dev-calibrated latent width."""

    name: str
    G: Any = field(repr=False)
    D: Any = field(repr=False)
    prior: str
    nu: float
    kappa: float
    width: float
    steps: int
    epochs: float
    seconds: float
    best_step: int | None
    best_value: float | None
    history: list = field(repr=False)
    selection: list = field(repr=False)
    calibration: dict | None = None
    d_updated: float = float("nan")
    n_train: int = 0
    cond_dim: int = 0

    def sampler(self, width: float | None = None):
        from ..models.priors import make_sampler

        return make_sampler(self.prior, self.nu, self.width if width is None else width)

    def emulator(self, width: float | None = None) -> TorchEmulator:
        """The model as an emulator: ``sample(n, seed, labels)`` in ``rho/rho_bar``."""
        return TorchEmulator(self.G, DensityScaling(self.kappa, clip=True), self.sampler(width), cond_dim=self.cond_dim)

    def describe(self) -> str:
        cal = (
            ""
            if self.calibration is None
            else (
                f"; latent width {self.width:.3f}"
                + ("" if self.calibration["bracketed"] else " (no zero crossing on the grid)")
            )
        )
        return (
            f"{self.name}: {self.steps:,} generator steps ({self.epochs:.1f} epochs of {self.n_train} volumes) in "
            f"{self.seconds:.0f} s; discriminator updated in {100 * self.d_updated:.0f}% of logged steps; epoch "
            f"chosen at step {self.best_step} (dev statistic "
            f"{self.best_value if self.best_value is not None else float('nan'):.3f})" + cal
        )


def width_statistic(
    G,
    sampler_at,
    real_pk_mean: np.ndarray,
    box_size: float,
    edges,
    kappa: float,
    n: int,
    seed: int = 0,
    k_max: float | None = None,
    labels=None,
):
    """``statistic(width)`` for :func:`gancosmo.models.priors.calibrate_width`: mean over k <= ``k_max`` of
    ``log(mean P_gen / mean P_real)`` for samples drawn with ``sampler_at(width)`` (same seed each time)."""

    def stat(width: float) -> float:
        em = TorchEmulator(G, DensityScaling(kappa, clip=True), sampler_at(width), cond_dim=getattr(G, "cond_dim", 0))
        k, p = power(em.sample(n, seed, labels=labels), box_size, edges)
        sel = np.isfinite(real_pk_mean) & (k <= (k_max or np.inf))
        return float(np.mean(np.log(p.mean(0)[sel] / real_pk_mean[sel])))

    return stat


def train_config(cfg: P3Config, epochs: float, n_train: int, seed: int, device: str = "cpu", progress: bool = True):
    """The :class:`gancosmo.train.TrainConfig` of P3's recipe: ``epochs`` over ``n_train`` volumes, logged and
    model-selected once an epoch."""
    from ..train import TrainConfig

    return TrainConfig(
        loss="bce",
        lr_g=cfg.lr_g,
        lr_d=cfg.lr_d,
        betas=(0.5, 0.999),
        batch_size=cfg.batch_size,
        epochs=epochs,
        latent_dim=cfg.latent_dim,
        d_accuracy_threshold=cfg.d_accuracy_threshold,
        lr_decay_every=cfg.lr_decay_every,
        lr_decay_factor=0.5,
        seed=seed,
        device=device,
        progress=progress,
        tensorboard=False,
        log_every=max(1, n_train // cfg.batch_size),
        select_every=max(1, n_train // cfg.batch_size),
    )


def train_model(
    data: P3Data,
    res: Resolution,
    cfg: P3Config,
    prior: str,
    seed: int,
    device: str = "cpu",
    conditional: bool = False,
    progress: bool = True,
) -> TrainedModel:
    """Train one GAN with P3's recipe on the training boxes; select the epoch and calibrate the width on the dev boxes.

    Unconditional (z = 0, ``cfg.kappa``) or, with ``conditional``, on the four training
    redshifts with the redshift as label (``cfg.kappa_conditional``; no width calibration, as P3).
    """
    from ..data.augment import octahedral3d
    from ..models.dcgan3d import dcgan3d
    from ..models.priors import calibrate_width, make_sampler
    from ..sims.suites import P3_REDSHIFTS
    from ..train import Trainer

    kappa = cfg.kappa_conditional_rho if conditional else cfg.kappa_rho  # on rho / rho_bar
    sampler = make_sampler(prior, cfg.nu)
    G, D = dcgan3d(cfg.filters, cfg.latent_dim, cond_dim=1 if conditional else 0, seed=seed)
    if conditional:
        zs = list(P3_REDSHIFTS)
        xs = np.concatenate([scaled(data.part("train", z), kappa) for z in zs])
        train = (xs, np.repeat(np.asarray(zs, np.float32), len(data.split["train"])))
        dev = {z: scaled(data.part("dev", z), kappa) for z in zs}
        epochs, n = cfg.cond_epochs, len(xs)
    else:
        train = scaled(data.part("train"), kappa)
        dev = {None: scaled(data.part("dev"), kappa)}
        epochs, n = cfg.epochs, len(train)
    selector = PdfPowerSelector(dev, data.box_size, kappa, sampler, cfg.n_select, seed=seed + 10)
    config = train_config(cfg, epochs, n, seed, device, progress)
    trainer = Trainer(G, D, train, config, statistic=selector, latent_sampler=sampler, augment=octahedral3d)
    t0 = time.perf_counter()
    result = trainer.fit()
    trainer.close()
    trainer.restore_best()
    G = trainer.G_raw.eval()
    hist = result["history"]
    model = TrainedModel(
        name=prior,
        G=G,
        D=trainer.D_raw,
        prior=prior,
        nu=cfg.nu,
        kappa=kappa,
        width=1.0,
        steps=result["step"],
        epochs=result["epochs"],
        seconds=0.0,
        best_step=trainer.best_step,
        best_value=trainer.best_value,
        history=hist,
        selection=list(selector.history),
        d_updated=float(np.mean([h.get("d/d_updated", 1.0) for h in hist])) if hist else float("nan"),
        n_train=n,
        cond_dim=1 if conditional else 0,
    )
    if not conditional:
        dev_pk = power(data.part("dev"), data.box_size, res.edges)[1].mean(0)
        stat = width_statistic(
            G,
            lambda s: make_sampler(prior, cfg.nu, s),
            dev_pk,
            data.box_size,
            res.edges,
            kappa,
            cfg.n_calib,
            seed=seed + 20,
            k_max=res.resolved_max,
        )
        model.calibration = calibrate_width(stat, cfg.calib_scales)
        model.width = model.calibration["scale"]
    model.seconds = time.perf_counter() - t0
    return model


def save_trained(cfg: P3Config, data: P3Data, res: Resolution, model: TrainedModel, results_dir) -> Path:
    """Write ``model``'s generator as ``emulator_p3_{profile}`` (redshift 0) or ``emulator_p3_z_{profile}``
    (the redshift-conditional model) into ``results_dir`` (:func:`gancosmo.emulators.save_emulator`)."""
    from ..emulators import save_emulator
    from ..sims.suites import P3_COSMOLOGY

    stem = f"emulator_p3{'_z' if model.cond_dim else ''}_{cfg.profile}"
    meta = dict(
        suite="p3",
        profile=cfg.profile,
        from_suite="tiles" if cfg.sub_size < cfg.suite_sub_size else "same",
        box_size=data.box_size,
        side_cells=cfg.sub_size,
        resolved_max=res.resolved_max,
        k_nyquist=res.k_nyquist,
        units="rho / rho_bar" + (" at the redshift z given" if model.cond_dim else " at z = 0"),
        cosmology=dict(P3_COSMOLOGY),
        kappa_p3_units=cfg.kappa_conditional if model.cond_dim else cfg.kappa,
        seed=cfg.seed,
        data_seed=cfg.data_seed,
        git_commit=git_commit(),
        config=cfg.to_dict(),
        training=dict(
            name=model.name,
            steps=model.steps,
            epochs=model.epochs,
            seconds=model.seconds,
            n_train=model.n_train,
            selected_step=model.best_step,
            selected_value=model.best_value,
            d_updated=model.d_updated,
            calibration=model.calibration,
            history=model.history,
        ),
    )
    return save_emulator(
        Path(results_dir) / stem,
        model.G,
        builder="dcgan3d",
        args=dict(filters=list(cfg.filters), latent_dim=cfg.latent_dim, cond_dim=model.cond_dim),
        transform=DensityScaling(model.kappa, clip=True),
        meta=meta,
        labels=("z",) if model.cond_dim else (),
        latent=dict(prior=model.prior, nu=model.nu, width=model.width),
    )


# ====================================================================== per-sample statistics
VOXEL_LEVELS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999)


#: Log bins of rho/rho_bar over [0.1, 100], 4 per decade: the range of the voxel-PDF target row.
PDF_RANGE_EDGES = np.logspace(-1, 2, 13)


def voxel_pdf_edges(train: np.ndarray, levels=VOXEL_LEVELS) -> np.ndarray:
    """Inner bin edges of the voxel PDF rows: quantiles of the pooled training voxels (``rho/rho_bar``).

    The outer bins are open (below the first, above the last edge), so every bin holds
    voxels in expectation and the fractions of no bin vanish on average; the levels resolve
    the high-density tail (the top bin holds the densest 0.01% of voxels).
    """
    x = np.asarray(train, np.float32).ravel()
    if x.size > 4_000_000:
        x = x[:: int(math.ceil(x.size / 4_000_000))]
    return np.quantile(x, levels).astype(np.float64)


def voxel_fractions(cubes: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``(N, len(edges) + 1)``: the fraction of each cube's voxels in each bin (open outer bins)."""
    x = np.asarray(cubes).reshape(len(cubes), -1)
    nb = len(edges) + 1
    idx = np.searchsorted(edges, x, side="right") + nb * np.arange(len(x))[:, None]
    return np.bincount(idx.ravel(), minlength=nb * len(x)).reshape(len(x), nb) / x.shape[1]


def voxel_pdfs(real_scaled: np.ndarray, fakes_scaled: dict, kappa: float) -> dict:
    """Fig. 5: per-sample voxel PDFs, scaled (49 linear bins on [-1, 1]) and unscaled (49 log bins,
    1e-4..1e4 in rho/rho_mean), as in P3's code. Returns mean and standard deviation over samples per bin."""
    out = dict(scaled_edges=np.linspace(-1, 1, 50), density_edges=np.geomspace(1e-4, 1e4, 50), real={}, fake={})

    def one(x):
        c_s, h_s = pixel_histogram(x, out["scaled_edges"], density=True)
        d = unscale(x, kappa, clip=True)
        c_d, h_d = pixel_histogram(
            np.clip(d, 1.0001e-4, 0.9999e4), out["density_edges"], density=True, log_centers=True
        )
        return dict(scaled=(h_s.mean(0), h_s.std(0)), density=(h_d.mean(0), h_d.std(0)), n=len(x)), c_s, c_d

    out["real"], out["scaled_centers"], out["density_centers"] = one(real_scaled)
    for name, x in fakes_scaled.items():
        out["fake"][name] = one(x)[0]
    return out


def mean_density_comparison(real: np.ndarray, fakes: dict) -> dict:
    """Fig. 6: each sub-volume's mean density and each model's bias of the median, ``median_fake / median_real - 1``."""
    r = mean_density(real)
    out = dict(real=r, fake={}, bias={})
    for name, x in fakes.items():
        m = mean_density(x)
        out["fake"][name] = m
        out["bias"][name] = float(np.median(m) / np.median(r) - 1)
    return out


def covariance_comparison(pk_real: np.ndarray, pk_fake: np.ndarray) -> dict:
    """Figs. 9-10: covariance (Eq. 8) and correlation (Eq. 9) matrices of P(k), at equal N on both sides.

    Returns the matrices, ``cov_frac = C_fake / C_real - 1``, ``corr_diff = R_fake - R_real``,
    ``var_mean_abs_frac`` and ``var_max_abs_frac`` (mean and largest over k of
    ``|C_fake,kk / C_real,kk - 1|``: the sample variance)
    and ``corr_max_abs_diff`` (largest ``|R_fake - R_real|`` off the diagonal).
    """
    if len(pk_real) != len(pk_fake):
        raise ValueError(
            f"the covariance comparison needs equal sample sizes (max |dR| grows as N shrinks); got "
            f"{len(pk_real)} and {len(pk_fake)}."
        )
    cr, cf = covariance(pk_real), covariance(pk_fake)
    rr, rf = correlation(pk_real), correlation(pk_fake)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = cf / cr - 1
    off = ~np.eye(len(cr), dtype=bool)
    return dict(
        cov_real=cr,
        cov_fake=cf,
        cov_frac=frac,
        corr_real=rr,
        corr_fake=rf,
        corr_diff=rf - rr,
        var_mean_abs_frac=float(np.mean(np.abs(np.diag(frac)))),
        var_max_abs_frac=float(np.max(np.abs(np.diag(frac)))),
        corr_max_abs_diff=float(np.max(np.abs((rf - rr)[off]))) if off.any() else 0.0,
    )


def bispectrum_configurations(box_size: float) -> list[tuple[float, float]]:
    """Triangle legs (k1, k2) in h/Mpc, in units of the fundamental: (2, 2) k_F (isosceles), (2, 3) k_F and
    (5, 10) k_F. For P3's 64 Mpc/h sub-volumes the last two are its code's (0.2, 0.3) and (0.5, 1.0) h/Mpc."""
    kf = 2 * math.pi / box_size
    return [(2 * kf, 2 * kf), (2 * kf, 3 * kf), (5 * kf, 10 * kf)]


THETAS = np.linspace(0, 2.5, 10)


def bispectra(density_: np.ndarray, box_size: float, thetas=THETAS) -> np.ndarray:
    """``(N, 3 * n_theta)``: B(theta) in (Mpc/h)^6 of each cube for the three configurations, concatenated."""
    d = _delta(density_)
    return np.concatenate(
        [bispectrum_3d(d, box_size, k1, k2, thetas)[0] for k1, k2 in bispectrum_configurations(box_size)], axis=1
    )


def _fourier(density_: np.ndarray) -> np.ndarray:
    """Half-grid FFT ``(N, s, s, s//2 + 1)`` complex64 of each cube's ``x - mean(x)``."""
    return np.fft.rfftn(_delta(density_), axes=(1, 2, 3)).astype(np.complex64)


def cross_power(fa: np.ndarray, fb: np.ndarray, box_size: float, edges: np.ndarray) -> np.ndarray:
    """Cross spectra ``(P, nb)`` in (Mpc/h)^3 of pairs of cubes from their half-grid FFTs ``(P, s, s, s//2+1)``.

    The same modes and bins as :func:`gancosmo.stats.power_spectrum_3d` (Pylians' independent
    modes), so ``cross_power(F(a), F(b))`` equals ``power_spectrum_3d(a, other=b)``; the FFTs are
    computed once per cube and the pairs of every split only index them.
    """
    from ..stats.power import _k_index_3d

    n = fa.shape[1]
    idx, nmodes, _, nb = _k_index_3d(n, float(box_size), tuple(np.asarray(edges, float).tolist()), "cpu")
    b = idx.numpy()
    prod = (fa * np.conj(fb)).real.reshape(len(fa), -1)
    sums = (
        np.stack([np.bincount(b, weights=p, minlength=nb + 1)[:nb] for p in prod]) if len(prod) else np.zeros((0, nb))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return sums / nmodes * box_size**3 / n**6


def field_features(
    density_: np.ndarray,
    kappa: float,
    box_size: float,
    edges: np.ndarray,
    pdf_edges: np.ndarray,
    parents=None,
    with_bispectrum: bool = True,
) -> dict:
    """One feature set (one row per cube) for :func:`compare_fields`, computed once per set of cubes.

    ``pk`` (N, nk), ``pdf`` (voxel fractions in the quantile bins), ``mean`` (N,), ``bk``
    (N, 30), ``fft`` (half-grid FFTs for the cross spectra), ``scaled`` (flattened scaled
    cubes for the nearest-neighbour memorisation check), ``parent`` (N,) (distinct for generated cubes).
    """
    x = np.asarray(density_, np.float32)
    out = dict(
        pk=power(x, box_size, edges)[1],
        pdf=voxel_fractions(x, pdf_edges),
        pdf_range=voxel_fractions(x, PDF_RANGE_EDGES)[:, 1:-1],  # the bins inside [0.1, 100] only
        mean=mean_density(x),
        fft=_fourier(x),
        scaled=scaled(np.maximum(x, 0), kappa).reshape(len(x), -1),  # (a Gaussian test field may dip below 0)
        parent=np.asarray(parents) if parents is not None else -1 - np.arange(len(x)),
    )
    if with_bispectrum:
        out["bk"] = bispectra(x, box_size)
    return out


def _pairs_across_parents(parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of distinct samples, consecutive in an order that interleaves parents (so pairs cross parents)."""
    p = np.asarray(parents)
    rank = np.zeros(len(p), int)
    for q in np.unique(p):
        m = np.flatnonzero(p == q)
        rank[m] = np.arange(len(m))
    order = np.lexsort((p, rank))
    m = len(order) // 2
    return order[0 : 2 * m : 2], order[1 : 2 * m : 2]


def compare_fields(
    real: dict,
    other: dict,
    *,
    k: np.ndarray,
    resolved: np.ndarray,
    box_size: float,
    edges: np.ndarray,
    k_cross: float = 0.5,
) -> dict:
    """Every redshift-0 metric of ``other`` against ``real`` (equal N): the ``compare`` of :func:`..protocol.score`.

    Scalars: ``binned_comparison`` keys of the voxel PDF (``pdf_*``), of P(k) over every bin up
    to the Nyquist wavenumber (``pk_*``) and over the resolved bins (``pk_res_*``), and of the
    bispectrum (``bk_*``); ``mean_density_bias`` (median / median - 1, P3's Fig. 6 form) and
    ``mean_density_std`` (std / std - 1 of the sub-volume means: the sample variance);
    ``pk_var_mean_abs_frac`` and ``pk_corr_max_abs_diff`` (covariance diagonal, correlation
    matrix); ``cross_k3p`` (median over pairs of distinct cubes of other and over k >= ``k_cross``
    of k^3 P_x: P3's Fig. 8, about 0 for independent volumes).
    """
    out = {}
    out.update(binned_comparison(real["pdf"], other["pdf"], "pdf"))
    out.update(binned_comparison(real["pk"], other["pk"], "pk"))
    out.update(binned_comparison(real["pk"][:, resolved], other["pk"][:, resolved], "pk_res"))
    half = k <= 0.5 * k[-1] * (1 + 1e-9) if len(k) else np.zeros(0, bool)  # k[-1]: the last bin, at Nyquist
    half_nyquist = binned_comparison(real["pk"][:, half], other["pk"][:, half], "pk_half")
    out["pk_half_max_abs_frac"] = half_nyquist["pk_half_max_abs_frac"] if half.any() else float("nan")
    if "pdf_range" in real and "pdf_range" in other:
        rng = binned_comparison(real["pdf_range"], other["pdf_range"], "pdf_range")
        out["pdf_range_max_abs_frac"] = rng["pdf_range_max_abs_frac"]
    else:
        out["pdf_range_max_abs_frac"] = float("nan")
    if "bk" in real and "bk" in other:
        out.update(binned_comparison(real["bk"], other["bk"], "bk"))
    mr, mo = np.asarray(real["mean"]), np.asarray(other["mean"])
    out["mean_density_bias"] = float(np.median(mo) / np.median(mr) - 1)
    out["mean_density_abs_frac"] = float(abs(np.mean(mo) / np.mean(mr) - 1))
    out["mean_density_std"] = float(np.std(mo) / np.std(mr) - 1)
    cov = covariance_comparison(real["pk"], other["pk"])
    out["pk_var_mean_abs_frac"] = cov["var_mean_abs_frac"]
    out["pk_var_max_abs_frac"] = cov["var_max_abs_frac"]
    out["pk_corr_max_abs_diff"] = cov["corr_max_abs_diff"]
    i, j = _pairs_across_parents(other["parent"])
    px = cross_power(other["fft"][i], other["fft"][j], box_size, edges)
    sel = k >= k_cross
    out["cross_k3p"] = float(np.median((k**3 * px)[:, sel])) if sel.any() else float("nan")
    return out


def memorisation(train_scaled: np.ndarray, a_scaled: np.ndarray, others: dict) -> dict:
    """Median nearest-neighbour distance to the training set of each of ``others``, over that of test A.

    All inputs are flattened scaled cubes ``(N, s^3)``; ``others`` maps a name to an equal-size
    set. Returns ``{name: ratio}`` (>= 0.95 passes, PROTOCOL.md).
    """
    t = torch.as_tensor(np.asarray(train_scaled, np.float32))
    tn = (t * t).sum(1)

    def nn(x):
        x = torch.as_tensor(np.asarray(x, np.float32))
        d2 = (x * x).sum(1)[:, None] + tn[None, :] - 2 * x @ t.T
        return float(torch.sqrt(d2.clamp_min(0).min(1).values).median())

    base = nn(a_scaled)
    return {name: nn(x) / base for name, x in others.items()}


# ====================================================================== evaluation of the redshift-0 models
def _tag(name: str) -> str:
    return name.replace("-", "_")


@dataclass
class Evaluation:
    """The redshift-0 models scored by the protocol, and the numbers behind Figs. 5-11 (test A, models, the null)."""

    n: int
    splits: Any = field(repr=False)
    scores: dict = field(repr=False)  # model name -> protocol.Scores
    rows: list = field(repr=False)
    memorisation: dict = field(repr=False)  # model name -> dict(ratio, reference, null)
    pdfs: dict = field(repr=False)
    mean_density: dict = field(repr=False)
    power: dict = field(repr=False)
    covariance: dict = field(repr=False)
    bispectra: dict = field(repr=False)
    cross: dict = field(repr=False)
    samples: dict = field(repr=False)  # name -> density cubes (n) of test A, each model and the null
    null_note: str = ""
    stand_in: dict = field(default_factory=dict)  # real training volumes scored as the emulator (see _real_stand_in)
    seconds: float = 0.0

    def table(self, *groups: str):
        """The rows of the named groups of :data:`ROW_GROUPS` (all rows without groups), as a displayable table."""
        from ..scorecard import ScorecardTable

        metrics = [m for g in groups for m in ROW_GROUPS[g]] if groups else None
        rows = [r for r in self.rows if metrics is None or _strip_model(r.key) in metrics]
        return ScorecardTable(rows, caption=f"{', '.join(groups) or 'all rows'}: {self.n} volumes on each side")


#: The redshift-0 rows by figure, for the chapter's per-section tables (keys without the model prefix).
ROW_GROUPS = {
    "pdf": ("pdf_chi2_dof", "pdf_mean_abs_frac", "pdf_ks_reject", "pdf_ad_reject"),
    "mean_density": ("mean_density_bias", "mean_density_std"),
    "power": (
        "pk_chi2_dof",
        "pk_mean_abs_frac",
        "pk_max_abs_frac",
        "pk_ks_reject",
        "pk_ad_reject",
        "pk_res_chi2_dof",
        "pk_res_max_abs_frac",
    ),
    "cross": ("cross_k3p",),
    "covariance": ("pk_var_mean_abs_frac", "pk_corr_max_abs_diff"),
    "bispectrum": ("bk_chi2_dof", "bk_mean_abs_frac", "bk_ks_reject", "bk_ad_reject"),
    "memorisation": ("memorisation",),
}


def _row_specs(tag: str, name: str, res: Resolution) -> list[RowSpec]:
    student = name == "student-t"
    lab = f"({name} prior"
    kres, kmax = res.resolved_max, res.scored_max
    full = f"all {len(res.k)} bins up to the Nyquist k = {kmax:.2f} h/Mpc"
    part = f"{int(res.resolved.sum())} bins with k <= {kres:.2f} h/Mpc (resolved)"
    pdf = "per-cube voxel fractions in 18 bins at quantiles of the training voxels (open outer bins)"
    specs = [
        RowSpec(
            f"{tag}_pdf_chi2_dof",
            f"voxel PDF: chi^2/dof with the real covariance {lab}; Fig. 5)",
            "agrees (Fig. 5)",
            notes=pdf,
            source="pdf_chi2_dof",
        ),
        RowSpec(
            f"{tag}_pdf_mean_abs_frac",
            f"voxel PDF: mean |fractional difference| per bin {lab}; Fig. 5)",
            None,
            notes=pdf,
            source="pdf_mean_abs_frac",
        ),
        RowSpec(
            f"{tag}_pdf_ks_reject",
            f"voxel PDF: fraction of bins where KS rejects at 5% {lab})",
            None,
            notes=pdf,
            source="pdf_ks_reject",
        ),
        RowSpec(
            f"{tag}_pdf_ad_reject",
            f"voxel PDF: fraction of bins where AD rejects at 5% {lab})",
            None,
            notes=pdf,
            source="pdf_ad_reject",
        ),
        RowSpec(
            f"{tag}_mean_density_bias",
            f"mean sub-volume density: median GAN / median N-body - 1 {lab}; Fig. 6)",
            PAPER["mean_density_student"] if student else PAPER["mean_density_gaussian"],
            notes="P3's value is its GAN's bias, not a tolerance",
            source="mean_density_bias",
        ),
        RowSpec(
            f"{tag}_mean_density_std",
            f"spread of sub-volume mean densities: std GAN / std N-body - 1 {lab})",
            "Student-t recovers the sample variance" if student else None,
            source="mean_density_std",
        ),
        RowSpec(
            f"{tag}_pk_chi2_dof",
            f"P(k): chi^2/dof with the real covariance, full range {lab}; Fig. 7)",
            None,
            notes=full,
            source="pk_chi2_dof",
        ),
        RowSpec(
            f"{tag}_pk_mean_abs_frac",
            f"P(k): mean |P_GAN / P_N-body - 1| per bin, full range {lab}; Fig. 7)",
            None,
            notes=full,
            source="pk_mean_abs_frac",
        ),
        RowSpec(
            f"{tag}_pk_max_abs_frac",
            f"P(k): max |P_GAN / P_N-body - 1| per bin, full range {lab}; Fig. 7)",
            PAPER["pk_k3"] if student else None,
            tolerance=PAPER["pk_k3"] if student else None,
            notes=f"{full}; P3: within 5% up to k = 3",
            source="pk_max_abs_frac",
        ),
        RowSpec(
            f"{tag}_pk_ks_reject",
            f"P(k): fraction of bins where KS rejects at 5%, full range {lab})",
            None,
            notes=full,
            source="pk_ks_reject",
        ),
        RowSpec(
            f"{tag}_pk_ad_reject",
            f"P(k): fraction of bins where AD rejects at 5%, full range {lab})",
            None,
            notes=full,
            source="pk_ad_reject",
        ),
        RowSpec(
            f"{tag}_pk_res_chi2_dof",
            f"P(k): chi^2/dof with the real covariance, resolved range {lab})",
            None,
            notes=part,
            source="pk_res_chi2_dof",
        ),
        RowSpec(
            f"{tag}_pk_res_max_abs_frac",
            f"P(k): max |P_GAN / P_N-body - 1| per bin, resolved range {lab})",
            PAPER["pk_k3"] if student else None,
            notes=part,
            source="pk_res_max_abs_frac",
        ),
        RowSpec(
            f"{tag}_pk_var_mean_abs_frac",
            f"P(k) variance: mean |var_GAN / var_N-body - 1| over k {lab}; Fig. 9)",
            "0.05-0.25 up to k = 3" if student else "> 1.5x Student-t's error",
            tolerance=0.25 if student else None,
            notes=f"covariance diagonal, {full}",
            source="pk_var_mean_abs_frac",
        ),
        RowSpec(
            f"{tag}_pk_corr_max_abs_diff",
            f"P(k) correlation matrix: max |R_GAN - R_N-body| off the diagonal {lab}; Fig. 10)",
            None,
            notes=f"equal N on both sides; {full}",
            source="pk_corr_max_abs_diff",
        ),
        RowSpec(
            f"{tag}_bk_chi2_dof",
            f"bispectrum B(theta), 3 triangles x 10 angles: chi^2/dof {lab}; Fig. 11)",
            "similar to P(k)",
            notes="real covariance of the 30 values",
            source="bk_chi2_dof",
        ),
        RowSpec(
            f"{tag}_bk_mean_abs_frac",
            f"bispectrum: mean |B_GAN / B_N-body - 1| over triangles and angles {lab})",
            None,
            source="bk_mean_abs_frac",
        ),
        RowSpec(
            f"{tag}_bk_ks_reject",
            f"bispectrum: fraction of (triangle, angle) bins where KS rejects at 5% {lab})",
            None,
            source="bk_ks_reject",
        ),
        RowSpec(
            f"{tag}_bk_ad_reject",
            f"bispectrum: fraction of (triangle, angle) bins where AD rejects at 5% {lab})",
            None,
            source="bk_ad_reject",
        ),
        RowSpec(
            f"{tag}_target_pk_half_nyquist",
            f"target: mean P(k) within max(5%, band) in every bin up to half the Nyquist k {lab})",
            None,
            notes=f"bins with k <= {kmax / 2:.2f} h/Mpc; max |P_GAN / P_N-body - 1|",
            source="pk_half_max_abs_frac",
            sided="upper",
            target=0.05,
        ),
        RowSpec(
            f"{tag}_target_pk_nyquist",
            f"target: mean P(k) within max(10%, band) in every bin up to the Nyquist k {lab})",
            None,
            notes=full,
            source="pk_max_abs_frac",
            sided="upper",
            target=0.10,
        ),
        RowSpec(
            f"{tag}_target_pk_variance",
            f"target: P(k) variance within max(25%, band) in every bin {lab})",
            None,
            notes=f"max over bins of |var_GAN / var_N-body - 1|, {full}",
            source="pk_var_max_abs_frac",
            sided="upper",
            target=0.25,
        ),
        RowSpec(
            f"{tag}_target_mean_density",
            f"target: mean density within max(5%, band) of the N-body's {lab})",
            None,
            notes="|mean GAN / mean N-body - 1| of the sub-volume mean densities",
            source="mean_density_abs_frac",
            sided="upper",
            target=0.05,
        ),
        RowSpec(
            f"{tag}_target_voxel_pdf",
            f"target: voxel PDF within max(20%, band) for rho/rho_bar in [0.1, 100] {lab})",
            None,
            notes="max |fractional difference| of the mean voxel fractions in 12 log bins, 4 per decade",
            source="pdf_range_max_abs_frac",
            sided="upper",
            target=0.20,
        ),
        RowSpec(
            f"{tag}_cross_k3p",
            f"cross spectra of distinct volumes: median k^3 P_x over k >= 0.5 h/Mpc {lab}; Fig. 8)",
            "> 0 for GAN x GAN (shared structure)",
            notes="pairs of distinct cubes (real: from different boxes)",
            source="cross_k3p",
        ),
    ]
    return [_sided(spec) for spec in specs]


#: Rows whose value is signed (too high and too low both mean a difference): two-sided bands.
#: Every other row is a distance from "identical" (chi^2, |f|, rejection fractions, |dR|): one-sided bands from 0.
TWO_SIDED = ("mean_density_bias", "mean_density_std", "cross_k3p", "cgan_linear_ratio")


def _sided(spec: RowSpec) -> RowSpec:
    src = spec.source or spec.key
    return spec if src in TWO_SIDED else dataclasses.replace(spec, sided="upper", floor=0.0)


def _criterion_row(
    key,
    quantity,
    paper,
    ours,
    passed,
    notes,
    units="",
    reference=None,
    null=None,
    null_passed=None,
    n_real=None,
    n_fake=None,
) -> Row:
    return Row(
        key=key,
        quantity=quantity,
        paper=paper,
        ours=ours,
        reference=reference,
        band=None,
        null=null,
        null_verdict=None if null_passed is None else ("pass" if null_passed else "fail"),
        verdict="pass" if passed else "fail",
        units=units,
        n_real=n_real,
        n_fake=n_fake,
        notes=notes,
    )


def evaluate(data: P3Data, res: Resolution, models: dict, cfg: P3Config, progress: bool = False) -> Evaluation:
    """Score every redshift-0 model by the protocol against test A, with the 39-split band and the lognormal null.

    Every per-cube statistic is computed once for the test pool, each model's ``n`` volumes and
    the null's ``n`` volumes; the splits only index rows. ``models`` maps prior names to
    :class:`TrainedModel`.
    """
    t0 = time.perf_counter()
    n = cfg.n_generate or data.max_n()
    test_idx = data.split["test"]
    splits = real_vs_real_splits(data.parents[test_idx], n, cfg.n_splits, seed=cfg.data_seed + 1)
    train = data.part("train")
    pdf_edges = voxel_pdf_edges(train)
    feats = lambda x, parents=None: field_features(x, cfg.kappa_rho, data.box_size, res.edges, pdf_edges, parents)  # noqa: E731
    pool = data.density[0.0][test_idx]
    real = feats(pool, data.parents[test_idx])
    samples = {"N-body (test A)": pool[splits.a]}
    emu = {}
    for name, m in models.items():
        samples[name] = m.emulator().sample(n, seed=cfg.seed + 2)
        emu[name] = feats(samples[name])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples["lognormal null"] = LognormalNull(train, data.box_size).sample(n, seed=cfg.seed + 30)
    null_note = "; ".join(sorted({str(w.message) for w in caught}))
    null = feats(samples["lognormal null"])
    flat = {name: f.pop("scaled") for name, f in [("real", real), ("null", null)] + list(emu.items())}
    compare = functools.partial(compare_fields, k=res.k, resolved=res.resolved, box_size=data.box_size, edges=res.edges)
    scores, rows, mem = {}, [], {}
    train_flat = scaled(train, cfg.kappa_rho).reshape(len(train), -1)
    a_flat, b_flat = flat["real"][splits.a], flat["real"][splits.b]
    for name, f in emu.items():
        scores[name] = score(compare, real, splits, f, null, progress=progress, desc=f"real-vs-real splits ({name})")
        rows += rows_from_scores(_row_specs(_tag(name), name, res), scores[name])
        r = memorisation(train_flat, a_flat, {"ours": flat[name], "reference": b_flat, "null": flat["null"]})
        mem[name] = r
        rows.append(
            _criterion_row(
                f"{_tag(name)}_memorisation",
                f"memorisation: median GAN-to-train / test-A-to-train nearest-neighbour distance ({name} prior)",
                None,
                r["ours"],
                r["ours"] >= MEMORISATION_MIN,
                f"criterion: >= {MEMORISATION_MIN} passes (the book's protocol); Euclidean distance of scaled cubes to "
                f"the {len(train)} training volumes; reference: test B",
                reference=r["reference"],
                null=r["null"],
                null_passed=r["null"] >= MEMORISATION_MIN,
                n_real=n,
                n_fake=n,
            )
        )
    stand_in = _real_stand_in(data, n, feats, compare, real, splits, res, seed=cfg.data_seed + 2)
    a = subset(real, splits.a)
    others = {name: f for name, f in emu.items()} | {"lognormal null": null}
    ev = Evaluation(
        n=n,
        splits=splits,
        scores=scores,
        rows=rows,
        memorisation=mem,
        pdfs=voxel_pdfs(
            scaled(samples["N-body (test A)"], cfg.kappa_rho),
            {k_: scaled(v, cfg.kappa_rho) for k_, v in samples.items() if k_ != "N-body (test A)"},
            cfg.kappa_rho,
        ),
        mean_density=mean_density_comparison(
            samples["N-body (test A)"], {k_: v for k_, v in samples.items() if k_ != "N-body (test A)"}
        ),
        power=dict(
            k=res.k,
            real=a["pk"],
            fake={k_: f["pk"] for k_, f in others.items()},
            frac={k_: f["pk"].mean(0) / a["pk"].mean(0) - 1 for k_, f in others.items()},
            band=_frac_band(real["pk"], splits),
            k_resolved=res.resolved_max,
        ),
        covariance={k_: covariance_comparison(a["pk"], f["pk"]) for k_, f in emu.items()},
        bispectra=_bispectra_for_figure(a, others, data.box_size),
        cross=_cross_for_figure(a, others, res, data.box_size),
        samples=samples,
        null_note=null_note,
        stand_in=stand_in,
    )
    ev.seconds = time.perf_counter() - t0
    return ev


def _real_stand_in(data: P3Data, n: int, feats, compare, real: dict, splits, res: Resolution, seed: int) -> dict:
    """The yardstick's own check: real volumes of the training boxes scored as if they were the emulator.

    ``ceil(n / boxes)`` volumes from each training box (as few per box as ``n`` allows, since an
    emulator's volumes are independent while sub-volumes of one periodic box are not), ``n`` in
    all, go through every banded redshift-0 row. Each row fails a perfect emulator with about 5%
    probability, so a few fails are expected; many would mean the bands are too narrow.
    """
    rng = np.random.default_rng(seed)
    tr = data.split["train"]
    boxes = np.unique(data.parents[tr])
    per = int(math.ceil(n / len(boxes)))
    if per > data.per_parent:
        return dict(n=0, per_box=per, passed=0, rows=0, failed=[])
    pick = np.concatenate([rng.choice(tr[data.parents[tr] == b], per, replace=False) for b in boxes])[:n]
    f = feats(data.density[0.0][pick])
    f.pop("scaled")
    sc = score(compare, real, splits, f)
    rows = [r for r in rows_from_scores(_row_specs("stand_in", "stand-in", res), sc) if r.band is not None]
    failed = [r.key[len("stand_in_") :] for r in rows if r.verdict == "fail"]
    return dict(n=n, per_box=per, passed=sum(r.verdict == "pass" for r in rows), rows=len(rows), failed=failed)


def _frac_band(pk: np.ndarray, splits) -> np.ndarray:
    """``(2, nb)``: per bin, the real-vs-real band of mean P_B / mean P_A - 1 over the random splits (for Fig. 7)."""
    fr = np.array([pk[b].mean(0) / pk[a].mean(0) - 1 for a, b in splits.draws[1:]])
    return np.array([band_from_values(fr[:, i]) for i in range(fr.shape[1])]).T


def _bispectra_for_figure(a: dict, others: dict, box_size: float) -> dict:
    nt = len(THETAS)
    split = lambda b: [b[:, i * nt : (i + 1) * nt] for i in range(3)]  # noqa: E731
    return dict(
        thetas=THETAS,
        configs=bispectrum_configurations(box_size),
        real=split(a["bk"]),
        fake={k_: split(f["bk"]) for k_, f in others.items()},
    )


def _cross_for_figure(a: dict, others: dict, res: Resolution, box_size: float) -> dict:
    i, j = _pairs_across_parents(a["parent"])
    out = dict(k=res.k, spectra={"N-body x N-body": cross_power(a["fft"][i], a["fft"][j], box_size, res.edges)})
    for name, f in others.items():
        i, j = _pairs_across_parents(f["parent"])
        out["spectra"][f"{name} x {name}"] = cross_power(f["fft"][i], f["fft"][j], box_size, res.edges)
        m = min(len(a["fft"]), len(f["fft"]))
        out["spectra"][f"N-body x {name}"] = cross_power(a["fft"][:m], f["fft"][:m], box_size, res.edges)
    return out


# ====================================================================== the redshift-conditional GAN
def _ztag(z: float) -> str:
    return "z" + f"{z:g}".replace(".", "p")


@dataclass
class ConditionalResult:
    """Figs. 12-13 and the cGAN's rows: P(k) at the training and the interpolated redshifts against test A at each z."""

    model: TrainedModel = field(repr=False)
    redshifts: list
    training_z: list
    k: np.ndarray = field(repr=False)
    real: dict = field(repr=False)  # z -> median P(k) of test A
    fake: dict = field(repr=False)  # z -> median P(k) of the cGAN
    linear: dict = field(repr=False)  # z -> cGAN's z = 3 median grown by linear theory
    frac: dict = field(repr=False)
    real_linear_ratio: float
    rows: list = field(repr=False)
    scores: Any = field(repr=False)
    z_path: np.ndarray = field(repr=False)
    path_volumes: np.ndarray = field(repr=False)
    seconds: float = 0.0

    def as_figure_data(self) -> dict:
        return dict(
            redshifts=self.redshifts, k=self.k, real=self.real, fake=self.fake, linear=self.linear, frac=self.frac
        )


def _growth(z: float) -> float:
    from ..cosmology import Cosmology
    from ..sims.suites import P3_COSMOLOGY

    return float(np.asarray(Cosmology(**P3_COSMOLOGY).growth_factor(z)).ravel()[0])


def _compare_redshifts(real: dict, other: dict, *, interp, resolved, i_hi: int, growth2: float) -> dict:
    out = {}
    worst = 0.0
    for z in interp:
        t = _ztag(z)
        r, o = real[f"pk_{t}"], other[f"pk_{t}"]
        out.update(binned_comparison(r, o, f"cgan_pk_{t}"))
        frac = np.median(o, 0) / np.median(r, 0) - 1
        worst = max(worst, float(np.max(np.abs(frac[resolved]))))
    out["cgan_pk_interp_max_abs_frac"] = worst
    # growth: the mean P(k) must rise from z = 2 to 1 to 0.25 in every resolved bin
    means = [np.mean(other[f"pk_{_ztag(z)}"], 0)[resolved] for z in sorted(interp, reverse=True)]
    rising = np.all([later > earlier for earlier, later in zip(means[:-1], means[1:])], axis=0)
    out["cgan_pk_not_rising"] = float(1 - np.mean(rising)) if len(means) > 1 and rising.size else float("nan")
    p3, p0 = np.median(other["pk_z3"], 0), np.median(other["pk_z0"], 0)
    out["cgan_linear_ratio"] = float(growth2 * p3[i_hi] / p0[i_hi])
    return out


def evaluate_conditional(
    data: P3Data, res: Resolution, model: TrainedModel, cfg: P3Config, n: int, splits, progress: bool = False
) -> ConditionalResult:
    """Score the cGAN at the interpolated redshifts (2, 1, 0.25) against test A at each z, with band and null.

    ``splits`` are the redshift-0 evaluation's (the same sub-volumes exist at every redshift).
    The null at each z is a lognormal matched to the training boxes at that z.
    """
    from ..models.priors import make_sampler
    from ..sims.suites import P3_EVAL_REDSHIFTS, P3_REDSHIFTS

    t0 = time.perf_counter()
    zs = sorted(data.density, reverse=True)
    test_idx = data.split["test"]
    pk = lambda x: power(x, data.box_size, res.edges)[1]  # noqa: E731
    em = model.emulator()
    real, fake, null = {}, {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for z in zs:
            t = _ztag(z)
            real[f"pk_{t}"] = pk(data.density[z][test_idx])
            fake[f"pk_{t}"] = pk(em.sample(n, seed=cfg.seed + 3, labels=[z]))
            null[f"pk_{t}"] = pk(LognormalNull(data.part("train", z), data.box_size).sample(n, seed=cfg.seed + 31))
    i_hi = int(np.flatnonzero(res.resolved)[-1])
    growth2 = (_growth(0.0) / _growth(3.0)) ** 2
    compare = functools.partial(
        _compare_redshifts, interp=P3_EVAL_REDSHIFTS, resolved=res.resolved, i_hi=i_hi, growth2=growth2
    )
    sc = score(compare, real, splits, fake, null, progress=progress, desc="real-vs-real splits (cGAN)")
    nb = f"{len(res.k)} bins up to the Nyquist k = {res.scored_max:.2f} h/Mpc"
    specs = []
    for z in P3_EVAL_REDSHIFTS:
        t = _ztag(z)
        specs += [
            RowSpec(
                f"cgan_pk_{t}_chi2_dof",
                f"cGAN at interpolated z = {z:g}: P(k) chi^2/dof with the real covariance (Fig. 12)",
                "interpolates smoothly",
                notes=nb,
            ),
            RowSpec(
                f"cgan_pk_{t}_mean_abs_frac",
                f"cGAN at interpolated z = {z:g}: mean |P_cGAN / P_N-body - 1| per bin",
                None,
                notes=nb,
            ),
        ]
    specs += [
        RowSpec(
            "cgan_pk_interp_max_abs_frac",
            "cGAN: max |median P_cGAN / median P_N-body - 1| at z = 2, 1, 0.25, resolved range (Fig. 12)",
            "interpolates smoothly",
            notes=f"k <= {res.resolved_max:.2f} h/Mpc; trained at z = 3, 1.5, 0.5, 0 "
            f"with kappa = {cfg.kappa_conditional:g}",
        ),
        RowSpec(
            "cgan_target_pk_interp",
            "target: cGAN P(k) at z = 2, 1, 0.25 within max(10%, band) in every resolved bin",
            None,
            notes=f"the row above, judged against max(0.1, band); k <= {res.resolved_max:.2f} h/Mpc",
            source="cgan_pk_interp_max_abs_frac",
            sided="upper",
            target=0.10,
        ),
        RowSpec(
            "cgan_pk_not_rising",
            "cGAN: fraction of resolved bins where the mean P(k) does not rise from z = 2 to 1 to 0.25",
            "grows with time",
            notes="0 when structure grows at every resolved k, as in the N-body",
        ),
        RowSpec(
            "cgan_linear_ratio",
            f"linear growth of the z = 3 spectrum over the z = 0 spectrum at k = {res.k[i_hi]:.2f} h/Mpc (Fig. 12)",
            "< 1 (linear theory underestimates small-scale growth)",
            notes="ours: the cGAN's own z = 3 and z = 0; band: the same ratio of real sets",
        ),
    ]
    rows = rows_from_scores([_sided(spec) for spec in specs], sc)
    a = subset(real, splits.a)
    med = {z: np.median(a[f"pk_{_ztag(z)}"], 0) for z in zs}
    fmed = {z: np.median(fake[f"pk_{_ztag(z)}"], 0) for z in zs}
    g3 = _growth(3.0)
    z_path = np.linspace(2.8, 0.0, 8)
    one = make_sampler(model.prior, model.nu)(
        1, model.G.latent_dim, "cpu", torch.Generator().manual_seed(cfg.seed + 4)
    ).repeat(len(z_path), 1)
    dev = next(model.G.parameters()).device
    with torch.no_grad():
        vols = (
            model.G(one.to(dev), torch.as_tensor(z_path, dtype=torch.float32)[:, None].to(dev))
            .float()[:, 0]
            .cpu()
            .numpy()
        )
    return ConditionalResult(
        model=model,
        redshifts=zs,
        training_z=list(P3_REDSHIFTS),
        k=res.k,
        real=med,
        fake=fmed,
        linear={z: (_growth(z) / g3) ** 2 * fmed[3.0] for z in zs},
        frac={z: fmed[z] / med[z] - 1 for z in zs},
        real_linear_ratio=float(growth2 * med[3.0][i_hi] / med[0.0][i_hi]),
        rows=rows,
        scores=sc,
        z_path=z_path,
        path_volumes=density(vols, model.kappa),
        seconds=time.perf_counter() - t0,
    )


# ====================================================================== Appendix A: discriminator rejection sampling
def finetune_discriminator(
    D,
    G,
    real_scaled: np.ndarray,
    sampler,
    steps: int,
    batch_size: int = 16,
    lr: float = 5e-5,
    augment=None,
    seed: int = 0,
    progress: bool = True,
) -> list[float]:
    """Train ``D`` alone against the fixed ``G`` (P3: five more epochs), BCE on logits, Adam(0.5, 0.999).

    Returns the loss per step. ``D`` is left in eval mode.
    """

    dev = next(D.parameters()).device
    g = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    real = torch.as_tensor(np.asarray(real_scaled, np.float32))
    losses = []
    G.eval(), D.train()
    for _ in progress_bar(int(steps), "DRS: discriminator", disable=not progress, iterable=range(int(steps))):
        idx = torch.randint(0, len(real), (batch_size,), generator=g)
        xr = real[idx][:, None]
        if augment is not None:
            xr = augment(xr, g)
        with torch.no_grad():
            xf = G(sampler(batch_size, G.latent_dim, "cpu", g).to(dev))
        logits = D(torch.cat([xr.to(dev), xf]))
        target = torch.cat([torch.ones(batch_size), torch.zeros(batch_size)]).to(dev)
        loss = bce(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    D.eval()
    return losses


@torch.no_grad()
def discriminator_logits(D, scaled_: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Logits ``(N,)`` of ``D`` (eval mode) for scaled volumes ``(N, s, s, s)``."""
    dev = next(D.parameters()).device
    was = D.training
    D.eval()
    try:
        out = [
            D(torch.as_tensor(np.asarray(scaled_[s : s + batch_size], np.float32))[:, None].to(dev))
            .float()
            .cpu()
            .numpy()
            for s in range(0, len(scaled_), batch_size)
        ]
    finally:
        D.train(was)
    return np.concatenate(out)


def drs_accept(logits, epsilon: float = 0.01, gamma: float = 0.0, rng=None, logit_max: float | None = None) -> dict:
    r"""Discriminator rejection sampling (Azadi et al. 2019; P3 Eqs. A4-A5).

    With :math:`\tilde D` the logit and :math:`\tilde D_M` its maximum (estimated from the samples,
    a lower bound of the true one), each sample is accepted with probability
    :math:`\sigma(\hat F)`,

    .. math::
       \hat F(x) = \tilde D(x) - \tilde D_M - \log\left(1 - e^{\tilde D(x) - \tilde D_M - \epsilon}\right) - \gamma .

    For :math:`\epsilon \to 0`, :math:`\gamma = 0` this is :math:`e^{\tilde D - \tilde D_M}`, ordinary
    rejection sampling with :math:`p_{data}/p_g = e^{\tilde D}` (Eq. A3); larger :math:`\gamma`
    accepts fewer samples.

    Returns
    -------
    dict
        ``accepted`` (bool mask), ``probability``, ``rate`` (fraction accepted), ``logit_max``.
    """
    d = np.asarray(logits, dtype=np.float64).ravel()
    if d.size == 0 or not np.isfinite(d).all():
        raise ValueError("logits must be a non-empty array of finite discriminator logits.")
    if not (np.isfinite(epsilon) and epsilon >= 0) or not np.isfinite(gamma):
        raise ValueError(f"epsilon must be a finite number >= 0 and gamma finite, got {epsilon!r} and {gamma!r}.")
    rng = np.random.default_rng(rng)
    dm = float(d.max()) if logit_max is None else float(logit_max)
    e = np.minimum(d - dm - epsilon, -1e-12)  # a sample above the estimated maximum has e -> 0
    f = d - dm - np.log1p(-np.exp(e)) - gamma
    p = 1.0 / (1.0 + np.exp(-f))
    acc = rng.random(d.size) < p
    return dict(accepted=acc, probability=p, rate=float(acc.mean()), logit_max=dm)


@dataclass
class DRSResult:
    """Appendix A: logits of generated volumes, their acceptance and the P(k) of all, accepted and dev volumes."""

    losses: list = field(repr=False)
    logits: np.ndarray = field(repr=False)
    accepted: np.ndarray = field(repr=False)
    rate: float
    logit_max: float
    k: np.ndarray = field(repr=False)
    pk_all: np.ndarray = field(repr=False)
    pk_accepted: np.ndarray = field(repr=False)
    pk_dev: np.ndarray = field(repr=False)
    latent_norm: np.ndarray = field(repr=False)
    latent_norm_accepted: np.ndarray = field(repr=False)
    shift: float  # mean over resolved k of mean P_accepted / mean P_all - 1
    shift_se: float  # its standard error (subset of a finite sample)
    n: int
    epsilon: float
    gamma: float
    train_seconds: float = 0.0  # the extra discriminator steps
    seconds: float = 0.0  # sampling, logits, acceptance, spectra

    def as_figure_data(self) -> dict:
        return dict(
            k=self.k,
            pk_all=self.pk_all,
            pk_accepted=self.pk_accepted,
            rate=self.rate,
            latent_norm=self.latent_norm,
            latent_norm_accepted=self.latent_norm_accepted,
        )


def drs_experiment(
    model: TrainedModel, data: P3Data, res: Resolution, cfg: P3Config, progress: bool = True
) -> DRSResult:
    """Appendix A on the main model: ``drs_steps`` more discriminator steps on the training boxes, then ``n_drs``
    generated volumes, their logits, DRS acceptance, P(k) of all / accepted volumes against the dev boxes.

    Only the training and dev boxes are touched (the test boxes stay for the scorecard).
    """
    from ..data.augment import octahedral3d

    t0 = time.perf_counter()
    sampler = model.sampler()
    losses = finetune_discriminator(
        model.D,
        model.G,
        scaled(data.part("train"), model.kappa),
        sampler,
        cfg.drs_steps,
        batch_size=cfg.batch_size,
        lr=cfg.lr_d,
        augment=octahedral3d,
        seed=cfg.seed + 6,
        progress=progress,
    )
    t1 = time.perf_counter()
    em = model.emulator()
    z = em.latents(cfg.n_drs, seed=cfg.seed + 7)
    x = em.sample_network(cfg.n_drs, z=z)
    logits = discriminator_logits(model.D, x)
    acc = drs_accept(logits, cfg.drs_epsilon, cfg.drs_gamma, rng=cfg.seed + 7)
    k, pk = power(density(x, model.kappa), data.box_size, res.edges)
    sel = res.resolved
    r = (pk[:, sel] / pk[:, sel].mean(0)).mean(1)  # per-volume mean P ratio to the mean of all
    m = int(acc["accepted"].sum())
    shift = float(r[acc["accepted"]].mean() - 1) if m else float("nan")
    se = float(r.std(ddof=1) / math.sqrt(m) * math.sqrt(max(0.0, 1 - m / len(r)))) if m else float("nan")
    norm = np.linalg.norm(z.numpy(), axis=1)
    return DRSResult(
        losses=losses,
        logits=logits,
        accepted=acc["accepted"],
        rate=acc["rate"],
        logit_max=acc["logit_max"],
        k=k,
        pk_all=pk,
        pk_accepted=pk[acc["accepted"]],
        pk_dev=power(data.part("dev"), data.box_size, res.edges)[1],
        latent_norm=norm,
        latent_norm_accepted=norm[acc["accepted"]],
        shift=shift,
        shift_se=se,
        n=cfg.n_drs,
        epsilon=cfg.drs_epsilon,
        gamma=cfg.drs_gamma,
        train_seconds=t1 - t0,
        seconds=time.perf_counter() - t1,
    )


# ====================================================================== scorecard
def paper_parameter_count() -> int:
    """Trainable parameters of Table I's generator as built here."""
    from ..models.dcgan3d import Generator3D, count_parameters

    return count_parameters(Generator3D())


def _strip_model(key: str) -> str:
    for t in ("student_t_", "gaussian_"):
        if key.startswith(t):
            return key[len(t) :]
    return key


@dataclass
class Scorecard:
    """All rows of the chapter, its ``meta``, and a summary written from them."""

    rows: list
    meta: dict

    def row(self, key: str) -> Row:
        return find_row(self.rows, key)

    def table(self, prefix: str | None = None):
        from ..scorecard import ScorecardTable

        rows = [r for r in self.rows if prefix is None or r.key.startswith(prefix)]
        return ScorecardTable(rows, caption=f"P3 scorecard, profile {self.meta.get('profile')}")

    def counts(self, rows=None) -> dict:
        rows = self.rows if rows is None else rows
        return {v: sum(r.verdict == v for r in rows) for v in ("pass", "fail", "untestable")}

    def targets(self) -> str:
        """Markdown: the book's targets for a trained P3 emulator (the ``*_target_*`` rows and the cGAN's growth),
        each with this run's value and verdict."""
        chosen = [r for r in self.rows if "_target_" in r.key or r.key == "cgan_pk_not_rising"]
        if not chosen:
            return "No target rows in this run."
        lines = [f"{sum(r.verdict == 'pass' for r in chosen)} of {len(chosen)} targets met:"]
        for r in chosen:
            value = f"{r.ours:.3g}" if isinstance(r.ours, (int, float)) else str(r.ours)
            band = f", band upper end {r.band[1]:.3g}" if r.band is not None else ""
            lines.append(f"- {r.quantity}: {r.verdict} (`{r.key}` = {value}{band})")
        return "\n".join(lines)

    def summary(self) -> str:
        """Markdown: which rows pass and fail, what the null says, the headline numbers, all from the rows."""
        m = self.meta
        c = self.counts()
        lines = [
            f"- **{c['pass']} of {len(self.rows)} rows pass, {c['fail']} fail, {c['untestable']} are untestable** "
            f"(profile `{m['profile']}`, {m['sizes']['n']} volumes on each side, {m['n_splits']} real-vs-real splits "
            f"by box; the real-vs-real median lies inside its own band in "
            f"{sum(1 for r in self.rows if r.band is not None and r.band[0] <= r.reference <= r.band[1])} of "
            f"{sum(1 for r in self.rows if r.band is not None)} banded rows)."
        ]
        si = m.get("stand_in") or {}
        if si.get("rows"):
            lines.append(
                f"- The yardstick's own check: {si['n']} *real* volumes of the training boxes ({si['per_box']} per "
                "box) "
                f"scored in place of a GAN pass {si['passed']} of {si['rows']} banded redshift-0 rows"
                + (f" (failing: {', '.join(f'`{k_}`' for k_ in si['failed'])})" if si["failed"] else "")
                + "; a perfect emulator fails each row with about 5% probability."
            )
        for name in m["models"]:
            t = _tag(name)
            mine = [r for r in self.rows if r.key.startswith(t + "_")]
            cc = self.counts(mine)
            passed = ", ".join(f"`{r.key[len(t) + 1 :]}`" for r in mine if r.verdict == "pass") or "none"
            shared = [r.key[len(t) + 1 :] for r in mine if r.verdict == "pass" and r.null_verdict == "pass"]
            passed += f"; the null passes {len(shared)} of these too" + (
                f" ({', '.join(f'`{k_}`' for k_ in shared)})" if shared else ""
            )
            bias, pk, pkr = (
                self.row(f"{t}_mean_density_bias"),
                self.row(f"{t}_pk_max_abs_frac"),
                self.row(f"{t}_pk_res_max_abs_frac"),
            )
            lines.append(
                f"- {name} prior: {cc['pass']} pass, {cc['fail']} fail, {cc['untestable']} untestable "
                f"(passing: {passed}). "
                f"Median mean density {100 * bias.ours:+.0f}% (P3: {100 * bias.paper:+.0f}%; real vs real band "
                f"[{100 * bias.band[0]:+.0f}%, {100 * bias.band[1]:+.0f}%]); largest P(k) deviation "
                f"{100 * pk.ours:.0f}% over the full range to k = {m['scored_max']:.2f} h/Mpc and "
                f"{100 * pkr.ours:.0f}% over the "
                f"resolved range k <= {m['resolved_max']:.2f} h/Mpc (real vs real up to {100 * pk.band[1]:.0f}% and "
                f"{100 * pkr.band[1]:.0f}%)."
            )
        banded = [r for r in self.rows if r.null_verdict is not None and r.band is not None]
        null_pass = [r.key for r in banded if r.null_verdict == "pass"]
        null_keys = sorted({_strip_model(k_) for k_ in null_pass})
        lines.append(
            f"- The lognormal null passes {len(null_pass)} of {len(banded)} banded rows"
            + (
                f" ({', '.join(f'`{k_}`' for k_ in null_keys)}): there the data cannot test what the row claims "
                "about non-Gaussian structure, and a pass of the GAN means no more than the null's."
                if null_pass
                else ": every banded row can tell a lognormal field from the N-body volumes."
            )
        )
        if "cgan" in m:
            cg = [r for r in self.rows if r.key.startswith("cgan_")]
            cc = self.counts(cg)
            lr = self.row("cgan_linear_ratio")
            lines.append(
                f"- Redshift-conditional GAN: {cc['pass']} of {len(cg)} rows pass; linear growth over the cGAN's own "
                "z = 0 "
                f"spectrum {lr.ours:.2f} (real sets {lr.reference:.2f})."
            )
        if "drs" in m:
            a, s = self.row("drs_acceptance"), self.row("drs_pk_shift")
            lines.append(
                f"- DRS accepted {100 * a.ours:.1f}% (P3: about 3%) and changed the mean resolved P(k) by "
                f"{100 * s.ours:+.1f}% ({s.verdict}: {s.notes.split(';')[0]})."
            )
        lines.append(
            f"- Data: {m['parents']}. Resolved: k <= {m['resolved_max']:.2f} h/Mpc"
            + ("" if m["resolved_within_20pct"] else " (no bin is within 20% of halofit: no scale is resolved well)")
            + f"; scored: every bin up to the Nyquist k = {m['scored_max']:.2f} h/Mpc."
        )
        t = m["timings"]
        lines.append(
            f"- The run took {t['total']:.0f} s: data {t['data']:.0f} s, training {t['training']:.0f} s, evaluation "
            f"{t['evaluation']:.0f} s ({100 * t['evaluation'] / t['total']:.0f}% of the run)."
        )
        return "\n".join(lines)


def scorecard(
    cfg: P3Config,
    data: P3Data,
    res: Resolution,
    models: dict,
    ev: Evaluation,
    cond: ConditionalResult | None = None,
    drs: DRSResult | None = None,
    started: float | None = None,
    device: str = "cpu",
) -> Scorecard:
    """Assemble every row (redshift-0 models, cGAN, DRS, Table I, speed) and the run's ``meta``.

    ``started`` is the ``time.perf_counter()`` of the chapter's start: ``meta['timings']`` then
    holds ``total`` and ``other`` (figures, prose) beside ``data``, ``training`` (the GANs,
    their dev selection and calibration, the extra DRS discriminator steps) and ``evaluation``
    (sampling, statistics, the splits, DRS sampling, the speed test).
    """
    rows = list(ev.rows)
    if cond is not None:
        rows += cond.rows
    main = models[cfg.prior]
    if drs is not None:
        rows.append(
            _criterion_row(
                "drs_acceptance",
                "DRS acceptance rate (Appendix A)",
                PAPER["drs_acceptance"],
                drs.rate,
                0.01 <= drs.rate <= 0.09,
                f"criterion: within a factor 3 of P3's ~3% (1% to 9%) passes; epsilon {drs.epsilon:g}, "
                f"gamma {drs.gamma:g}, {drs.n} generated volumes, {len(drs.losses)} extra discriminator steps on the "
                "training boxes",
                n_fake=drs.n,
            )
        )
        rows.append(
            _criterion_row(
                "drs_pk_shift",
                "DRS: mean P(k) of accepted / all - 1, resolved range (Appendix A)",
                PAPER["drs_pk"],
                drs.shift,
                bool(np.isfinite(drs.shift) and drs.shift > 2 * drs.shift_se),
                f"criterion: > 2 standard errors ({2 * drs.shift_se:.3g}) above 0 reproduces P3's finding; "
                f"k <= {res.resolved_max:.2f} h/Mpc",
                n_fake=int(drs.accepted.sum()),
            )
        )
    count = paper_parameter_count()
    rows.append(
        _criterion_row(
            "g_parameters",
            "generator parameters (Table I)",
            PAPER["g_parameters"],
            count,
            count == PAPER["g_parameters"],
            "criterion: the paper-size network counted here equals "
            "Table I's printed N_params; no bias in the (transposed) convolutions",
        )
    )
    speed = generation_speed(main.emulator(), cfg.speed_samples)
    vox = speed["per_s"] * data.side**3
    rows.append(
        _criterion_row(
            "generation_voxels_per_s",
            "generation speed, voxels per second",
            PAPER_VOXELS_PER_S,
            vox,
            vox >= PAPER_VOXELS_PER_S,
            f"criterion: at least P3's 512 volumes of 64^3 in ~6 s (GPU); ours: "
            f"{speed['n']} volumes of {data.side}^3 in {speed['seconds']:.2f} s on {speed['device']} "
            f"({speed['per_s']:.0f} volumes/s)",
            units="voxels/s",
            n_fake=speed["n"],
        )
    )
    training = (
        sum(m.seconds for m in models.values())
        + (cond.model.seconds if cond is not None else 0.0)
        + (drs.train_seconds if drs is not None else 0.0)
    )
    evaluation = (
        ev.seconds
        + (cond.seconds if cond is not None else 0.0)
        + (drs.seconds if drs is not None else 0.0)
        + speed["seconds"]
    )
    timings = dict(data=data.seconds, training=training, evaluation=evaluation)
    timings["total"] = time.perf_counter() - started if started is not None else sum(timings.values())
    timings["other"] = timings["total"] - data.seconds - training - evaluation
    meta = dict(
        paper="P3",
        profile=cfg.profile,
        git_commit=git_commit(),
        device=device,
        torch=torch.__version__,
        threads=dict(torch=torch.get_num_threads(), omp_wait_policy=os.environ.get("OMP_WAIT_POLICY")),
        seeds=dict(network=cfg.seed, data=cfg.data_seed, splits=cfg.data_seed + 1),
        n_splits=ev.splits.n_splits,
        resolved_max=res.resolved_max,
        scored_max=res.scored_max,
        resolved_within_20pct=res.within,
        resolved_how="largest bin centre up to which the mean P(k) of the suite's volumes of the training boxes at "
        "z = 0 "
        "is within 20% of pyccl's "
        "halofit (bins from 2 k_F)",
        k_units="h/Mpc",
        models=list(models),
        parents=(
            f"PM box ({data.n_boxes} independent periodic boxes of {data.parent_box_size:g} Mpc/h, {data.per_parent} "
            "sub-volumes each); the correlation left: sub-volumes of one box share its modes and their mean densities "
            "add up to the box's, exactly 1, so sets of whole boxes are more alike than as many independent volumes "
            f"(see stand_in); no mode longer than {data.parent_box_size:g} Mpc/h exists in the data"
        ),
        sizes=dict(
            n=ev.n,
            train=len(data.split["train"]),
            dev=len(data.split["dev"]),
            test_pool=len(data.split["test"]),
            boxes={k_: data.boxes(k_) for k_ in data.split},
            side=data.side,
            cell=data.cell,
            box_size=data.box_size,
        ),
        config=cfg.to_dict(),
        data=data.summary(),
        train={
            name: dict(steps=m.steps, epochs=m.epochs, seconds=m.seconds, best_step=m.best_step, width=m.width)
            for name, m in models.items()
        },
        speed=speed,
        null=ev.null_note,
        stand_in=ev.stand_in,
        timings=timings,
    )
    if cond is not None:
        meta["cgan"] = dict(
            steps=cond.model.steps, seconds=cond.model.seconds, best_step=cond.model.best_step, kappa=cond.model.kappa
        )
    if drs is not None:
        meta["drs"] = dict(rate=drs.rate, shift=drs.shift, shift_se=drs.shift_se, steps=len(drs.losses))
    return Scorecard(rows=rows, meta=meta)
