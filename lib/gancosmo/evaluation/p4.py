r"""P4 (Perraudin et al. 2019, scalable multi-scale 3D GAN): the steps of chapter ``04_scalable_3d``.

Each function is one arrow of the chapter and returns a typed result:

* :class:`P4Config`: the chapter's one frozen configuration and profile table.
* :func:`load_data` -> :class:`P4Data`: particle-count cubes of P4's voxel size (the book's
  ``p4`` suite, or the published cubes cut into sub-cubes), each cube its own parent, split
  into training cubes and a test pool.
* :func:`training_cubes`: P4's forward map, then the authors' augmentation (circular rolls,
  flips, transposes) of whole cubes, then the mean-pooled pyramid of the lower scales.
* :func:`train_stages` -> dict of :class:`StageModel`: M3, M2, M1 and the two ablations, each
  trained on its own by :class:`gancosmo.train.Trainer` (WGAN-GP, RMSprop, P4's
  ``relu(D_real D_fake)`` term).
* :class:`P4Pipeline`: a chain of trained generators as one network ``G(z)`` (M3, then the
  patch-by-patch up-scalers of Appendix D), what the saved emulator holds.
* :func:`evaluate` -> :class:`Evaluation`: Table 1 (``d^2`` and ``S^*`` of the power spectrum,
  mass and peak histograms) for the full pipeline, both ablations and each stage alone
  (conditioned on real down-sampled cubes), the patch-seam statistic, all against the test
  pool with the real-vs-real band and a lognormal null.
* :func:`scorecard` -> :class:`Scorecard`: every row, the target rows and the run's ``meta``.

Scales: the final cubes have ``voxels`` voxels per side of P4's size, 500/256 Mpc/h;
``low_side`` is M3's side, ``factor_m2`` and ``factor_m1`` the resolution ratios of the two
up-scaling stages (P4: 32, 2 and 4 for 256^3 cubes). Everything the networks see is in P4's
transformed units :math:`y = f(x)` (:class:`gancosmo.data.intensity.P4ForwardMap`); the lower
scales are mean pools of :math:`y`, and statistics are computed on counts
:math:`f^{-1}(y)` at every scale (the authors' order).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..config import ChapterConfig, option, writable_folder
from ..data.augment import apply_octahedral3d
from ..data.intensity import P4ForwardMap
from ..models import multiscale3d as ms
from ..models import patches3d as pt
from ..models.wgan2d import wgan2d
from ..params import ParameterError
from ..progress import progress_bar
from ..scorecard import Row, find_row, git_commit
from .p3 import Scorecard as P3Scorecard
from .p4_benchmark import (
    PAPER_TABLE1,
    STATISTIC_WORDS,
    STATISTICS,
    p4_statistics,
    power_spectrum_p4,
    seam_benchmark,
    table1_from_statistics,
    table2_row_specs,
)
from .protocol import rows_from_scores, split_by_parent
from .sampling import LognormalNull, TorchEmulator

__all__ = [
    "P4Config",
    "P4Data",
    "P4Pipeline",
    "StageModel",
    "Evaluation",
    "Scorecard",
    "STAGES",
    "setup",
    "load_data",
    "augment_cubes",
    "pyramid",
    "training_cubes",
    "stage_pairs",
    "build_stage",
    "train_stage",
    "train_stages",
    "pipelines",
    "evaluate",
    "stage_slice_rows",
    "pipeline_slice_rows",
    "stage_statistic_rows",
    "pipeline_statistic_rows",
    "target_rows",
    "scorecard",
    "save_pipeline",
    "load_pipeline",
    "load_stage_models",
    "emulator_from_record",
    "image_slices",
    "table2_image_rows",
    "table2_statistic_rows",
]

#: The networks the chapter trains: P4's three stages and the two ablations of the last one (and
#: Table 2's 2D baselines, ``t2_{side}``, see :attr:`P4Config.stages`).
STAGES = ("m3", "m2", "m1", "borders_only", "independent")
#: Side of Table 2's smallest images (pixels), latent size of its 2D WGANs, and the spacing (voxels)
#: of the slices cut from each cube along each axis.
TABLE2_MIN_SIDE = 32
LATENT_2D = 64
SLICE_SPACING = 4
STAGE_WORDS = {
    "m3": "M3 (latent -> lowest scale)",
    "m2": "M2 (first up-scaling, patches with borders and low-res)",
    "m1": "M1 (last up-scaling, patches with borders and low-res)",
    "borders_only": "ablation: M1 network with borders, no low-res conditioning (Appendix C, single scale)",
    "independent": "ablation: M1 network with low-res conditioning, no borders (independent patches)",
}
#: P4's sizes (Sect. 4, Tables 3-5, Table 1): final side, M3's side, factors, patch, batch, learning rate.
PAPER = dict(side=256, low_side=32, factor_m2=2, factor_m1=4, patch=32, batch_size=8, lr=3e-5, n_cubes=30)
#: The issue's target: the full pipeline's d^2 within this factor of the real-vs-real median.
D2_FACTOR = 5.0
#: Memorisation criterion (PROTOCOL.md): median GAN-to-train / median test-to-train NN distance.
MEMORISATION_MIN = 0.95
#: Particles per voxel of P4's data (1024^3 particles in 256^3 voxels).
PARTICLES_PER_VOXEL = 64


# ====================================================================== configuration
@dataclass(frozen=True)
class P4Config(ChapterConfig):
    """Everything chapter 04 needs, from one profile table (:attr:`PROFILES`).

    Data: ``n_cubes``, ``voxels``, ``n_particles``, ``n_steps`` and ``data_seed`` go to
    ``load_suite("p4", ...)`` where they differ from the suite's recipe (boxes of
    ``voxels * 500/256`` Mpc/h; ``n_particles = 4 voxels``: 64 particles per voxel, P4's). A
    fraction ``test_fraction`` of the cubes is the test pool (Table 1's real sides); the rest
    train all networks.
    """

    seed: int = option(doc="seed of the networks, the training runs and the generated samples", low=0)
    source: str = option(
        doc="'simulated' (the book's p4 suite) or 'published' (P4's zenodo cubes cut into sub-cubes)",
        choices=("simulated", "published"),
    )
    device: str | None = option(
        doc="'cpu' or 'cuda' (None: cuda when available)", choices=("cpu", "cuda"), nullable=True
    )
    results_dir: str | None = option(
        doc="folder to write scorecard_p4_{profile}.json, the figures and the emulator into (None: nothing)",
        check=writable_folder,
        describe="a folder this process can write",
        nullable=True,
    )
    # data
    n_cubes: int = option(doc="cubes of the data set (each its own parent)", low=4)
    voxels: int = option(doc="voxels per side of the final cubes (P4: 256)", low=32)
    n_particles: int = option(doc="particles per side of each PM box (4 per voxel: 64 particles per voxel)", low=8)
    n_steps: int = option(doc="PM time steps", low=1)
    data_seed: int = option(doc="seed of the simulations and of the split (fixed across network seeds)", low=0)
    test_fraction: float = option(
        doc="fraction of the cubes held out as the test pool", low=0, low_open=True, high=1, high_open=True
    )
    n_augment: int = option(
        doc="augmented copies of each training cube (random circular roll, flips and transposes; 1: none)", low=1
    )
    # geometry
    low_side: int = option(doc="side of M3's cubes, a multiple of 8 (P4: 32)", low=8)
    factor_m2: int = option(doc="resolution ratio of M2, even (P4: 2)", low=2)
    factor_m1: int = option(doc="resolution ratio of M1, even (P4: 4)", low=2)
    patch_m2: int = option(doc="patch side of M2, a multiple of 8 (P4: 32)", low=8)
    patch_m1: int = option(doc="patch side of M1 and the ablations, a multiple of 8 (P4: 32)", low=8)
    # networks
    width_m3: int = option(doc="Table 3's d of M3 (P4: 64)", low=1)
    width_m2: int = option(doc="Table 4's d of M2 (P4: 32)", low=1)
    width_m1: int = option(doc="Table 5's d of M1 and the ablations (P4: 64)", low=1)
    latent_m3: int = option(doc="latent size of M3 (P4: 256)", low=1)
    ablations: bool = option(doc="train and score the two ablations (borders only; independent patches)")
    emulator: str = option(
        doc="'train' the networks in this run, evaluate the 'committed' ones the cpu-long run trained "
        "(gancosmo.emulators.load('p4') and its ablations), or those saved at a path (its file name without "
        "'.safetensors')",
        check=lambda v: isinstance(v, str) and bool(v.strip()),
        describe="'train', 'committed' or the path of a saved pipeline (without '.safetensors')",
    )
    # training
    steps_m3: int = option(doc="generator steps of M3", low=1)
    steps_m2: int = option(doc="generator steps of M2", low=1)
    steps_m1: int = option(doc="generator steps of M1 and of each ablation", low=1)
    batch_size: int = option(doc="samples (cubes or patches) per batch (P4: 8)", low=2)
    critic_steps: int = option(doc="critic steps per generator step (P4: 5)", low=1)
    workers: int = option(
        doc="processes that train the networks side by side, the CPU threads shared among them (1: one after another)",
        low=1,
    )
    lr: float = option(doc="RMSprop learning rate of both networks (P4: 3e-5)", low=0, low_open=True, high=1)
    gp_weight: float = option(doc="gradient-penalty weight (P4: 10)", low=0)
    overlap_weight: float = option(doc="weight of P4's relu(D_real * D_fake) term (P4: 1)", low=0)
    # Table 2, the 2D baselines
    table2_max: int = option(
        doc="largest image side of Table 2's 2D baselines, pixels: sides 32, 64, ... up to it and to voxels (P4: "
        "256; 0: none)",
        low=0,
    )
    width_2d: int = option(doc="width w of the 2D baseline WGANs (channels w to 8w)", low=1)
    steps_2d: int = option(doc="generator steps of each 2D baseline", low=1)
    # evaluation
    n_splits: int = option(doc="random real-vs-real half/half splits of the band (at least 20)", low=20)

    PROFILES = {}  # filled below

    @property
    def sides(self) -> tuple[int, int, int]:
        """Sides of the three scales, lowest first (P4: 32, 64, 256)."""
        mid = self.low_side * self.factor_m2
        return self.low_side, mid, mid * self.factor_m1

    @property
    def voxel_size(self) -> float:
        """Mpc/h (P4's: 500/256)."""
        from ..sims.suites import P4_VOXEL

        return P4_VOXEL

    @property
    def box_size(self) -> float:
        """Side of one final cube in Mpc/h."""
        return self.voxels * self.voxel_size

    @property
    def n_test(self) -> int:
        return max(1, round(self.test_fraction * self.n_cubes))

    @property
    def n_train(self) -> int:
        return self.n_cubes - self.n_test

    @property
    def table2_sides(self) -> tuple[int, ...]:
        """Sides (pixels) of Table 2's 2D baselines: 32, 64, ... up to ``table2_max`` and ``voxels``."""
        sides, side = [], TABLE2_MIN_SIDE
        while side <= min(self.table2_max, self.voxels):
            sides.append(side)
            side *= 2
        return tuple(sides)

    @property
    def stages(self) -> tuple[str, ...]:
        """The networks this run trains (or loads): P4's three, the ablations, Table 2's ``t2_{side}``."""
        return (STAGES if self.ablations else STAGES[:3]) + tuple(f"t2_{side}" for side in self.table2_sides)

    @property
    def emulator_path(self) -> str | None:
        """The saved pipeline's file stem when ``emulator`` names one, None for 'train' and 'committed'."""
        return None if self.emulator in ("train", "committed") else self.emulator

    def check_inputs(self) -> None:
        if self.emulator == "train":
            return
        from ..emulators import EmulatorError, read_record

        try:
            args = read_record("p4", path=self.emulator_path)["network"]["args"]
        except (EmulatorError, KeyError) as exc:
            raise ParameterError(
                f"parameter 'emulator' is {self.emulator!r} but {exc} Accepted here is emulator 'train'."
            ) from None
        saved = args.get("stages", {})
        missing = [s for s in self.stages if s not in saved]
        if missing:
            raise ParameterError(
                f"parameter 'emulator' is {self.emulator!r} but that file holds no {', '.join(missing)} network; "
                "accepted here are ablations false or emulator 'train'."
            )
        differ = [s for s in self.stages if saved[s] != stage_args(self, s)]
        factors = (args.get("factor_m2"), args.get("factor_m1"), args.get("voxels"))
        if differ or factors != (self.factor_m2, self.factor_m1, self.voxels):
            raise ParameterError(
                f"parameter 'emulator' is {self.emulator!r} but its networks were built for other scales or widths "
                f"than profile {self.profile!r} with these parameters ({', '.join(differ) or 'factors or voxels'}); "
                "accepted here is emulator 'train', or the saved run's geometry."
            )

    def check(self) -> None:
        for name in ("low_side", "patch_m2", "patch_m1"):
            if getattr(self, name) % 8:
                raise ParameterError(f"parameter {name!r} is {getattr(self, name)}; accepted is a multiple of 8.")
        low, mid, full = self.sides
        if full != self.voxels:
            raise ParameterError(
                f"parameter 'voxels' is {self.voxels}, but low_side {low} x factor_m2 {self.factor_m2} x factor_m1 "
                f"{self.factor_m1} = {full}; accepted is voxels = low_side factor_m2 factor_m1."
            )
        for patch, factor, side, stage in (
            (self.patch_m2, self.factor_m2, mid, "m2"),
            (self.patch_m1, self.factor_m1, full, "m1"),
        ):
            if factor % 2 or patch % factor:
                raise ParameterError(
                    f"parameter 'factor_{stage}' is {factor}; accepted is an even factor dividing patch_{stage} "
                    f"({patch})."
                )
            if side % patch or side // patch < 2:
                raise ParameterError(
                    f"parameter 'patch_{stage}' is {patch}; accepted is a divisor of the stage's side {side} of at "
                    f"most {side // 2} (at least 2 x 2 x 2 patches)."
                )
        if self.source == "simulated" and self.profile != "smoke" and self.n_particles != 4 * self.voxels:
            raise ParameterError(
                f"parameter 'n_particles' is {self.n_particles}; accepted is 4 x voxels = {4 * self.voxels} "
                "(P4's 64 particles per voxel; only the smoke profile, plumbing only, has fewer)."
            )
        if self.table2_max and not TABLE2_MIN_SIDE <= self.table2_max:
            raise ParameterError(
                f"parameter 'table2_max' is {self.table2_max}; accepted are 0 (no 2D baselines) or at least "
                f"{TABLE2_MIN_SIDE} (Table 2's smallest images)."
            )
        if self.n_test < 4 or self.n_train < 1:
            raise ParameterError(
                f"parameters 'n_cubes' ({self.n_cubes}) and 'test_fraction' ({self.test_fraction:g}) give "
                f"{self.n_test} test and {self.n_train} training cubes; accepted are at least 4 test cubes (two "
                "halves of 2) and 1 training cube."
            )
        if self.batch_size > self.n_train * self.n_augment:
            raise ParameterError(
                f"parameter 'batch_size' ({self.batch_size}) exceeds the {self.n_train * self.n_augment} training "
                f"cubes M3 sees, so not one full batch exists; accepted is at most {self.n_train * self.n_augment}."
            )
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError(
                "parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None."
            )

    @property
    def suite_overrides(self) -> dict:
        """What ``load_suite("p4", ...)`` gets: the values that differ from the suite's recipe at the profile."""
        from ..sims.suites import recipe_overrides

        return recipe_overrides(
            "p4",
            self.profile,
            n_cubes=self.n_cubes,
            voxels=self.voxels,
            n_particles=self.n_particles,
            box_size=self.box_size,
            n_steps=self.n_steps,
            seed=self.data_seed,
        )

    def reduced(self) -> str:
        """One sentence: what this profile reduces with respect to P4."""
        low, mid, full = self.sides
        if (full, low, self.factor_m1, self.patch_m1) == (PAPER["side"], PAPER["low_side"], 4, 32):
            scale = "P4's scales (32^3 -> 64^3 -> 256^3, patches of 32^3)"
        else:
            scale = (
                f"scales {low}^3 -> {mid}^3 -> {full}^3 (P4: 32^3 -> 64^3 -> 256^3), factors {self.factor_m2} and "
                f"{self.factor_m1} (P4: 2, 4), patches of {self.patch_m2}^3 and {self.patch_m1}^3 (P4: 32^3)"
            )
        widths = (self.width_m3, self.width_m2, self.width_m1)
        width = (
            "P4's widths"
            if widths == tuple(ms.PAPER_WIDTHS.values()) and self.latent_m3 == ms.PAPER_M3_LATENT_DIM
            else (
                f"widths d = {widths[0]}, {widths[1]}, {widths[2]} (P4: 64, 32, 64), "
                f"M3 latent {self.latent_m3} (P4: 256)"
            )
        )
        return (
            f"{scale}; {width}; {self.n_cubes} cubes of {full}^3 voxels of P4's size (P4: 30 of 256^3); "
            f"{self.steps_m3:,} / {self.steps_m2:,} / {self.steps_m1:,} generator steps of M3 / M2 / M1; RMSprop "
            f"{self.lr:g} (P4: 3e-5), batch {self.batch_size} (P4: 8), {self.critic_steps} critic steps (P4: 5); "
            + (
                f"Table 2's 2D baselines at {', '.join(f'{v}^2' for v in self.table2_sides)} pixels (P4: 32^2 to "
                f"256^2), width {self.width_2d}, {self.steps_2d:,} steps."
                if self.table2_sides
                else "no 2D baselines."
            )
        )


# The reduced scales of cpu and cpu-long (one recipe, other cubes and steps): final cubes of 32^3 voxels,
# 8^3 -> 16^3 -> 32^3 with factors 2 and 2, patches of 8^3, narrow networks.
_REDUCED = dict(
    voxels=32,
    n_particles=128,
    n_steps=20,
    n_augment=4,
    low_side=8,
    factor_m2=2,
    factor_m1=2,
    patch_m2=8,
    patch_m1=8,
    width_m3=16,
    width_m2=8,
    width_m1=8,
    latent_m3=64,
    table2_max=32,
    width_2d=16,
)

_COMMON = dict(
    seed=0,
    source="simulated",
    device=None,
    results_dir=None,
    test_fraction=0.5,
    critic_steps=5,
    gp_weight=10.0,
    overlap_weight=1.0,
    ablations=True,
    emulator="train",
    workers=1,
    n_splits=39,
)
# Below gpu: final cubes of 32^3 voxels (the suite's recipe), three stages 8^3 -> 16^3 -> 32^3 with factors 2 and 2
# and patches of 8^3 (a quarter of P4's patch side; M1's factor 4 would leave M2's 8^3 cubes a single patch). The
# learning rate is raised from P4's 3e-5: a few hundred generator steps at 3e-5 leave the networks where they started.
# smoke: 64^3 particles on 32^3 voxels (8 per voxel), plumbing only.
P4Config.PROFILES.update(
    {
        "smoke": P4Config(
            profile="smoke",
            **{**_COMMON, "n_splits": 20},
            n_cubes=8,
            voxels=32,
            n_particles=64,
            n_steps=4,
            data_seed=0,
            n_augment=1,
            low_side=8,
            factor_m2=2,
            factor_m1=2,
            patch_m2=8,
            patch_m1=8,
            width_m3=2,
            width_m2=2,
            width_m1=2,
            latent_m3=8,
            table2_max=32,
            width_2d=2,
            steps_m3=2,
            steps_m2=1,
            steps_m1=1,
            steps_2d=1,
            batch_size=4,
            lr=1e-3,
        ),
        # cpu scores the committed cpu-long networks on the cpu suite's cubes (same recipe, other seeds);
        # `-p emulator train` trains the quick networks below instead.
        "cpu": P4Config(
            profile="cpu",
            **{**_COMMON, "emulator": "committed"},
            n_cubes=16,
            **_REDUCED,
            data_seed=0,
            steps_m3=120,
            steps_m2=60,
            steps_m1=60,
            steps_2d=120,
            batch_size=8,
            lr=3e-4,
        ),
        "cpu-long": P4Config(
            profile="cpu-long",
            **{**_COMMON, "workers": 2},
            n_cubes=96,
            **_REDUCED,
            data_seed=1,
            steps_m3=1200,
            steps_m2=600,
            steps_m1=600,
            steps_2d=1200,
            batch_size=8,
            lr=1e-4,
        ),
        # gpu: the suite's 30 cubes of 128^3; M1 at P4's own sizes (patches of 32^3, factor 4, d = 64) on 32^3 -> 128^3,
        # M3 and M2 at half P4's side (16^3 -> 32^3).
        "gpu": P4Config(
            profile="gpu",
            **_COMMON,
            n_cubes=30,
            voxels=128,
            n_particles=512,
            n_steps=30,
            data_seed=0,
            n_augment=8,
            low_side=16,
            factor_m2=2,
            factor_m1=4,
            patch_m2=16,
            patch_m1=32,
            width_m3=64,
            width_m2=32,
            width_m1=64,
            latent_m3=256,
            table2_max=128,
            width_2d=64,
            steps_m3=4000,
            steps_m2=2000,
            steps_m1=1500,
            steps_2d=4000,
            batch_size=8,
            lr=3e-5,
        ),
        "paper": P4Config(
            profile="paper",
            **_COMMON,
            n_cubes=30,
            voxels=256,
            n_particles=1024,
            n_steps=30,
            data_seed=0,
            n_augment=8,
            low_side=32,
            factor_m2=2,
            factor_m1=4,
            patch_m2=32,
            patch_m1=32,
            width_m3=64,
            width_m2=32,
            width_m1=64,
            latent_m3=256,
            table2_max=256,
            width_2d=64,
            steps_m3=100_000,
            steps_m2=100_000,
            steps_m1=100_000,
            steps_2d=100_000,
            batch_size=8,
            lr=3e-5,
        ),
    }
)


def setup(cfg: P4Config) -> str:
    """The device of the run (``cfg.device`` or cuda when available); flushes denormals on the CPU."""
    torch.set_flush_denormal(True)
    return cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")


# ====================================================================== data
@dataclass
class P4Data:
    """Particle-count cubes ``(N, n, n, n)`` (float32), their parents and the split into ``train`` and ``test``."""

    counts: np.ndarray = field(repr=False)
    parents: np.ndarray
    split: dict
    voxel_size: float  # Mpc/h
    source: str
    seconds: float = 0.0

    @property
    def side(self) -> int:
        return self.counts.shape[-1]

    @property
    def box_size(self) -> float:
        """Side of one cube, Mpc/h."""
        return self.side * self.voxel_size

    def part(self, name: str) -> np.ndarray:
        return self.counts[self.split[name]]

    def summary(self) -> str:
        parts = ", ".join(f"{k} {len(v)}" for k, v in self.split.items())
        origin = (
            "the book's PM suite, independent boxes"
            if self.source == "simulated"
            else "P4's published 256^3 cubes cut into sub-cubes (sub-cubes of one cube share a parent)"
        )
        return (
            f"{len(self.counts)} cubes of {self.side}^3 voxels of {self.voxel_size:.4g} Mpc/h ({self.box_size:.4g} "
            f"Mpc/h per side), {self.counts.mean():.1f} particles per voxel on average, from {origin}; split by "
            f"parent: {parts}"
        )


def tile_cubes(cubes: np.ndarray, size: int) -> np.ndarray:
    """Cut ``(N, s, s, s)`` cubes into non-overlapping ``size^3`` sub-cubes, cube by cube."""
    n, s = cubes.shape[0], cubes.shape[1]
    m = s // size
    return cubes.reshape(n, m, size, m, size, m, size).transpose(0, 1, 3, 5, 2, 4, 6).reshape(-1, size, size, size)


def _published(cfg: P4Config) -> tuple[np.ndarray, np.ndarray]:
    """P4's cubes (zenodo) cut into sub-cubes of ``cfg.voxels``: the first ``n_cubes`` and their parent cube."""
    from ..sims.published import load_p4_cubes

    per_cube = (256 // cfg.voxels) ** 3
    n_parents = min(30, math.ceil(cfg.n_cubes / per_cube))
    cubes = tile_cubes(load_p4_cubes(n_parents), cfg.voxels)[: cfg.n_cubes]
    return cubes.astype(np.float32), np.arange(len(cubes)) // per_cube


def load_data(cfg: P4Config, device: str | None = None, progress: bool = True) -> P4Data:
    """Simulate (or read from the cache) the P4 suite, or read the published cubes; split by parent."""
    t0 = time.perf_counter()
    if cfg.source == "simulated":
        from ..sims import load_suite

        suite = load_suite("p4", profile=cfg.profile, device=device, progress=progress, **cfg.suite_overrides)
        counts = np.asarray(suite.arrays["counts"], np.float32)
        parents = np.arange(len(counts))
    else:
        if 256 % cfg.voxels:
            raise ParameterError(
                f"parameter 'voxels' is {cfg.voxels}; with source 'published' accepted is a divisor of 256."
            )
        counts, parents = _published(cfg)
    fractions = {"train": 1.0 - cfg.test_fraction, "test": cfg.test_fraction}
    split = split_by_parent(parents, fractions, seed=cfg.data_seed)
    return P4Data(counts, parents, split, cfg.voxel_size, cfg.source, time.perf_counter() - t0)


def augment_cubes(cubes: torch.Tensor, copies: int, seed: int) -> torch.Tensor:
    """The authors' augmentation of whole cubes: ``copies`` versions of each, the first the cube itself.

    Every other copy is rolled circularly by a random shift along each axis (the boxes are
    periodic) and then turned by a random one of the 48 symmetries of the cube (axis
    transposes and flips, :func:`gancosmo.data.augment.apply_octahedral3d`).

    Parameters
    ----------
    cubes : tensor ``(N, n, n, n)``
    copies : int
        Versions per cube (>= 1).
    seed : int

    Returns
    -------
    tensor ``(N copies, n, n, n)``, cube by cube.
    """
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ValueError(f"copies must be an integer >= 1, got {copies!r}.")
    g = torch.Generator().manual_seed(int(seed))
    n = cubes.shape[-1]
    out = []
    for cube in cubes:
        out.append(cube)
        for _ in range(copies - 1):
            shifts = tuple(int(s) for s in torch.randint(0, n, (3,), generator=g))
            rolled = torch.roll(cube, shifts, dims=(0, 1, 2))
            element = torch.randint(0, 48, (1,), generator=g)
            out.append(apply_octahedral3d(rolled[None, None], element)[0, 0])
    return torch.stack(out)


def pyramid(cubes: torch.Tensor, factor_m2: int, factor_m1: int) -> list[torch.Tensor]:
    """Transformed cubes at the three scales, lowest first: mean pools by ``factor_m1`` and ``factor_m1 factor_m2``."""
    mid = pt.downsample(cubes, factor_m1)
    return [pt.downsample(mid, factor_m2), mid, torch.as_tensor(cubes, dtype=torch.float32)]


def training_cubes(cfg: P4Config, data: P4Data) -> list[torch.Tensor]:
    """The training cubes in P4's transformed units, augmented, at the three scales (:func:`pyramid`)."""
    y = torch.from_numpy(np.asarray(P4ForwardMap().forward(data.part("train")), np.float32))
    return pyramid(augment_cubes(y, cfg.n_augment, cfg.data_seed + 7), cfg.factor_m2, cfg.factor_m1)


def image_slices(cubes, side: int, spacing: int = SLICE_SPACING) -> tuple[np.ndarray, np.ndarray]:
    """Table 2's images: one-voxel slices of every cube, cut into ``side^2`` tiles, and each image's cube.

    Every ``spacing``-th slice along each of the three axes is taken (nearby slices are nearly
    copies of each other), then cut into non-overlapping ``side x side`` tiles.

    Parameters
    ----------
    cubes : array ``(N, n, n, n)`` or tensor
        Counts or transformed values.
    side : int
        Image side in pixels, dividing ``n``.
    spacing : int
        Voxels between the slices taken along one axis.

    Returns
    -------
    images : ``(M, side, side)`` (numpy, or torch for a tensor input), cube by cube
    parents : int array ``(M,)``, the index of each image's cube
    """
    x = cubes if isinstance(cubes, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(cubes))
    n = x.shape[-1]
    if n % side:
        raise ValueError(f"side {side} does not divide the cubes' side {n}; accepted is a divisor of it.")
    picks = torch.arange(0, n, spacing)
    planes = torch.cat([x[:, picks], x[:, :, picks].transpose(1, 2), x[:, :, :, picks].permute(0, 3, 1, 2)], dim=1)
    m = n // side
    tiles = planes.reshape(len(x), -1, m, side, m, side).transpose(3, 4).reshape(len(x), -1, side, side)
    parents = np.repeat(np.arange(len(x)), tiles.shape[1])
    images = tiles.reshape(-1, side, side)
    return (images if isinstance(cubes, torch.Tensor) else images.numpy()), parents


def stage_pairs(cfg: P4Config, stage: str, scales: list[torch.Tensor]):
    """What the Trainer gets for ``stage``: cubes (M3), images (Table 2) or (patches, flat conditioning) pairs."""
    low, mid, full = scales
    if stage == "m3":
        return low
    if stage.startswith("t2_"):
        return image_slices(full, int(stage[3:]))[0].contiguous()
    if stage == "m2":
        return pt.training_pairs(mid, cfg.patch_m2, cfg.factor_m2, low_res_cubes=low, flat=True)
    if stage == "m1":
        return pt.training_pairs(full, cfg.patch_m1, cfg.factor_m1, low_res_cubes=mid, flat=True)
    if stage == "borders_only":
        return pt.training_pairs(full, cfg.patch_m1, borders=True, low_res=False, flat=True)
    if stage == "independent":
        return pt.training_pairs(full, cfg.patch_m1, cfg.factor_m1, borders=False, low_res_cubes=mid, flat=True)
    raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}.")


def stage_args(cfg: P4Config, stage: str) -> dict:
    """Builder arguments of ``stage`` (:func:`build_stage`), JSON-ready."""
    if stage == "m3":
        return dict(width=cfg.width_m3, side=cfg.low_side, latent_dim=cfg.latent_m3)
    if stage == "m2":
        return dict(width=cfg.width_m2, patch=cfg.patch_m2, borders=True, low_res=True)
    if stage.startswith("t2_") and int(stage[3:]) in cfg.table2_sides:
        return dict(width=cfg.width_2d, side=int(stage[3:]), latent_dim=LATENT_2D)
    switches = dict(m1=(True, True), borders_only=(True, False), independent=(False, True))
    if stage not in switches:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}.")
    borders, low_res = switches[stage]
    return dict(width=cfg.width_m1, patch=cfg.patch_m1, borders=borders, low_res=low_res)


_BUILDERS = {"m3": ms.m3_gan, "m2": ms.m2_gan, "m1": ms.m1_gan}


def build_stage(stage: str, args: dict, seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """``(G, D)`` of ``stage`` with ``args`` (:func:`stage_args`); the ablations use M1's networks."""
    if stage.startswith("t2_"):
        return wgan2d(**args, seed=seed)
    return _BUILDERS["m3" if stage == "m3" else "m2" if stage == "m2" else "m1"](**args, seed=seed)


# ====================================================================== training
@dataclass
class StageModel:
    """One trained network of the chapter."""

    stage: str
    G: Any = field(repr=False)
    args: dict
    steps: int
    n_train: int
    seconds: float
    history: list = field(repr=False)

    def describe(self) -> str:
        last = self.history[-1] if self.history else {}
        w = last.get("d/wasserstein", float("nan"))
        what = "cubes" if self.stage == "m3" else "images" if self.stage.startswith("t2_") else "patches"
        words = STAGE_WORDS.get(self.stage) or f"Table 2's 2D baseline, {self.stage[3:]}^2 images"
        return (
            f"{words}: {self.steps:,} generator steps on {self.n_train:,} training {what} in "
            f"{self.seconds:.0f} s; {ms.count_parameters(self.G):,} generator parameters; last logged critic "
            f"Wasserstein estimate {w:.3g}"
        )


def train_config(cfg: P4Config, steps: int, latent_dim: int, seed: int, device: str, progress: bool):
    """The :class:`gancosmo.train.TrainConfig` of P4's recipe (WGAN-GP, RMSprop, the overlap term)."""
    from ..train import TrainConfig

    return TrainConfig(
        loss="wgan-gp",
        gp_weight=cfg.gp_weight,
        overlap_weight=cfg.overlap_weight,
        critic_steps=cfg.critic_steps,
        optimizer="rmsprop",
        lr_g=cfg.lr,
        lr_d=cfg.lr,
        batch_size=cfg.batch_size,
        max_steps=steps,
        latent_dim=latent_dim,
        seed=seed,
        device=device,
        progress=progress,
        tensorboard=False,
        log_every=max(1, steps // 50),
    )


def train_stage(
    cfg: P4Config, stage: str, scales: list[torch.Tensor], seed: int, device: str = "cpu", progress: bool = True
) -> StageModel:
    """Train the network of ``stage`` on its own (P4 trains the three GANs independently)."""
    from ..train import Trainer

    args = stage_args(cfg, stage)
    G, D = build_stage(stage, args, seed=seed)
    data = stage_pairs(cfg, stage, scales)
    steps = {"m3": cfg.steps_m3, "m2": cfg.steps_m2}.get(
        stage, cfg.steps_2d if stage.startswith("t2_") else cfg.steps_m1
    )
    n_train = len(data) if stage == "m3" or stage.startswith("t2_") else len(data[0])
    t0 = time.perf_counter()
    trainer = Trainer(G, D, data, train_config(cfg, steps, G.latent_dim, seed, device, progress))
    result = trainer.fit()
    trainer.close()
    G = trainer.G_raw.eval()
    return StageModel(stage, G, args, result["step"], n_train, time.perf_counter() - t0, result["history"])


# The patch stages at full resolution cost the most per step; a pool of workers takes them first.
_LONGEST_FIRST = ("m1", "independent", "borders_only", "m2", "m3")


def _train_stage_job(cfg: P4Config, stage: str, scales, seed: int, device: str, threads: int):
    """One worker process's network: trained as :func:`train_stage` does, returned without its module."""
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    model = train_stage(cfg, stage, scales, seed=seed, device=device, progress=False)
    state = {k: v.detach().cpu() for k, v in model.G.state_dict().items()}
    model.G = None
    return model, state


def train_stages(
    cfg: P4Config, data: P4Data, device: str = "cpu", progress: bool = True
) -> tuple[dict[str, StageModel], float]:
    """Every network of :attr:`P4Config.stages`, each from its own seed; returns them and the wall-clock seconds.

    With ``cfg.workers > 1`` the networks train side by side in that many processes (P4 trains
    its three GANs independently, so nothing is lost), each with its share of this process's
    CPU threads; the results depend on the seeds and on that thread count, not on the order in
    which the workers finish. The seconds cover the data preparation and all the training.
    """
    t0 = time.perf_counter()
    scales = training_cubes(cfg, data)
    seeds = {stage: cfg.seed * 10 + i for i, stage in enumerate(cfg.stages)}
    models = {}
    if cfg.workers == 1:
        for stage in cfg.stages:
            models[stage] = train_stage(cfg, stage, scales, seed=seeds[stage], device=device, progress=progress)
        return models, time.perf_counter() - t0
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    order = [s for s in _LONGEST_FIRST if s in cfg.stages] + [s for s in cfg.stages if s.startswith("t2_")]
    workers = min(cfg.workers, len(order))
    threads = max(1, torch.get_num_threads() // workers)
    bar = progress_bar(len(order), f"P4 networks, {workers} trained side by side", disable=not progress)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        jobs = {pool.submit(_train_stage_job, cfg, s, scales, seeds[s], device, threads): s for s in order}
        for job in as_completed(jobs):
            model, state = job.result()
            G, _ = build_stage(model.stage, model.args)
            G.load_state_dict(state, strict=True)
            model.G = G.to(device).eval()
            models[model.stage] = model
            bar.update(1)
    bar.close()
    return {s: models[s] for s in cfg.stages}, time.perf_counter() - t0


# ====================================================================== the pipeline as one network
class _GivenLatents(nn.Module):
    """A patch generator fed the latents given to it, one patch after another in raster order.

    :func:`gancosmo.models.patches3d.generate_cube` draws each patch's latent from a seed; the
    pipeline takes its latents from its input instead, so that ``G(z)`` is a function of ``z``
    alone. This adapter replaces the drawn latent of the ``t``-th call by ``latents[:, t]``.
    """

    def __init__(self, generator: nn.Module, latents: torch.Tensor):
        super().__init__()
        self.generator, self.latents, self.calls = generator, latents, 0
        for name in ("cond_channels", "patch", "latent_dim", "borders", "low_res"):
            setattr(self, name, getattr(generator, name))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.generator(self.latents[:, self.calls].to(device=z.device, dtype=z.dtype), y)
        self.calls += 1
        return out


class P4Pipeline(nn.Module):
    """P4's chain of generators as one network ``G(z) -> (B, 1, n, n, n)`` in transformed units.

    ``first`` (M3) makes the lowest scale from the first ``first.latent_dim`` entries of ``z``;
    each up-scaler then generates its scale patch by patch in raster order (Appendix D,
    :func:`gancosmo.models.patches3d.generate_cube`), conditioned on the scale below, each patch
    taking the next ``latent_dim`` entries of ``z``. Without ``first`` (the single-scale
    ablation) the only stage has no low-resolution input and makes cubes of ``side``.

    Parameters
    ----------
    first : nn.Module or None
        M3's generator.
    upscalers : sequence of (generator, factor)
        Patch generators with ``patch``, ``latent_dim``, ``borders`` and ``low_res`` attributes.
    side : int, optional
        Final side without ``first``.

    Attributes
    ----------
    sides : list of int
        Side of every scale, lowest first.
    latent_dim : int
        Entries of ``z``: M3's latent plus one latent per patch of every stage.
    """

    def __init__(self, first: nn.Module | None, upscalers, side: int | None = None):
        super().__init__()
        self.first = first
        self.stages = nn.ModuleList(g for g, _ in upscalers)
        self.factors = [int(f) for _, f in upscalers]
        if first is None:
            if len(self.stages) != 1 or self.stages[0].low_res or side is None:
                raise ValueError("without M3 the pipeline is one patch stage without low-res input, given its side.")
            self.sides = [int(side)]
        else:
            self.sides = [first.side]
            for f in self.factors:
                self.sides.append(self.sides[-1] * f)
        self.patches = [(s // g.patch) ** 3 for s, g in zip(self.sides[-len(self.stages) :], self.stages)]
        self.latent_dim = (first.latent_dim if first is not None else 0) + sum(
            n * g.latent_dim for n, g in zip(self.patches, self.stages)
        )

    def _split(self, z: torch.Tensor) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        start, z0 = 0, None
        if self.first is not None:
            start = self.first.latent_dim
            z0 = z[:, :start]
        parts = []
        for n, g in zip(self.patches, self.stages):
            parts.append(z[:, start : start + n * g.latent_dim].reshape(len(z), n, g.latent_dim))
            start += n * g.latent_dim
        return z0, parts

    @torch.no_grad()
    def scales(self, z: torch.Tensor) -> list[torch.Tensor]:
        """Every scale ``(B, n_s, n_s, n_s)`` (float32, transformed units), lowest first."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}.")
        z0, parts = self._split(z)
        out = [] if self.first is None else [self.first(z0)[:, 0].float().clamp_min(0)]
        for stage, (g, latents) in enumerate(zip(self.stages, parts)):
            low = out[-1] if out else None
            factor = self.factors[stage] if low is not None else 2
            side, n = (None, None) if low is not None else (self.sides[0], len(z))
            fed = _GivenLatents(g, latents)
            cube = pt.generate_cube(fed, low, g.patch, g.latent_dim, 0, factor, g.borders, side=side, n_cubes=n)
            out.append(cube.clamp_min(0))
        return out

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.scales(z)[-1][:, None]


def _stage_generators(models: dict[str, StageModel]) -> dict[str, nn.Module]:
    return {k: m.G for k, m in models.items()}


def pipelines(cfg: P4Config, generators: dict[str, nn.Module]) -> dict[str, P4Pipeline]:
    """The full pipeline and, where trained, the two ablations, as :class:`P4Pipeline` networks."""
    g = generators
    out = {"pipeline": P4Pipeline(g["m3"], [(g["m2"], cfg.factor_m2), (g["m1"], cfg.factor_m1)])}
    if "borders_only" in g:
        out["borders_only"] = P4Pipeline(None, [(g["borders_only"], 1)], side=cfg.voxels)
    if "independent" in g:
        out["independent"] = P4Pipeline(g["m3"], [(g["m2"], cfg.factor_m2), (g["independent"], cfg.factor_m1)])
    return out


# ====================================================================== saving and loading the emulator
def save_pipeline(
    cfg: P4Config, data: P4Data, models: dict[str, StageModel], results_dir, training_seconds: float | None = None
) -> Path:
    """Write every trained network as ``emulator_p4_{profile}.safetensors`` and its record ``.json``.

    The record has the layout of :mod:`gancosmo.emulators` (``sha256``, ``network``,
    ``transform``, ``latent``, ``labels``, ``meta``) with the builder ``"p4_pipeline"``:
    ``emulators.load("p4")`` (:func:`emulator_from_record`) rebuilds the full pipeline M3 -> M2
    -> M1 from it, and :func:`load_stage_models` every network, the ablations included (their
    weights are prefixed by the stage's name), with its training history; ``training_seconds`` is
    the wall-clock time of all of it (:func:`train_stages`). Returns the weights path.
    """
    from safetensors.torch import save_file

    from ..emulators import FORMAT_VERSION, _sha256, transform_record
    from ..io import atomic_replace, atomic_write_json
    from ..sims.suites import P4_COSMOLOGY

    stem = Path(results_dir) / f"emulator_p4_{cfg.profile}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights, record_path = stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")
    state = {
        f"{k}.{name}": v.detach().to("cpu").contiguous()
        for k, m in models.items()
        for name, v in m.G.state_dict().items()
    }
    atomic_replace(weights, lambda tmp: save_file(state, str(tmp), metadata={"emulator": stem.name}))
    meta = dict(
        suite="p4",
        profile=cfg.profile,
        from_suite="same",
        box_size=data.box_size,
        voxel_size=data.voxel_size,
        side_voxels=cfg.voxels,
        resolved_max=_resolved_max(cfg),
        units="particle counts per voxel (64 on average)",
        cosmology=dict(P4_COSMOLOGY),
        source=cfg.source,
        seed=cfg.seed,
        data_seed=cfg.data_seed,
        git_commit=git_commit(),
        config=cfg.to_dict(),
        training_seconds=training_seconds,
        training={
            k: dict(steps=m.steps, seconds=m.seconds, n_train=m.n_train, history=m.history) for k, m in models.items()
        },
    )
    record = dict(
        format=FORMAT_VERSION,
        sha256=_sha256(weights),
        network=dict(
            builder="p4_pipeline",
            args=dict(
                stages={k: m.args for k, m in models.items()},
                factor_m2=cfg.factor_m2,
                factor_m1=cfg.factor_m1,
                voxels=cfg.voxels,
            ),
        ),
        transform=transform_record(P4ForwardMap()),
        latent={"prior": "gaussian", "width": 1.0},
        labels=[],
        batch_size=16,
        meta={k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in meta.items()},
    )
    atomic_write_json(record, record_path)
    return weights


def _saved_generators(record: dict, state: dict, stages) -> dict[str, nn.Module]:
    """The generators ``stages`` of a saved P4 record, their weights taken from ``state`` by prefix."""
    from ..emulators import EmulatorError

    args = record["network"]["args"]["stages"]
    out = {}
    for stage in stages:
        if stage not in args:
            raise EmulatorError(f"emulator 'p4': the saved file holds no {stage} network.")
        G, _ = build_stage(stage, args[stage])
        prefix = stage + "."
        G.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}, strict=True)
        out[stage] = G.eval()
    return out


def emulator_from_record(name: str, record: dict, state: dict, device: str):
    """The full pipeline (M3 -> M2 -> M1) of a verified P4 record as a :class:`gancosmo.emulators.TrainedEmulator`.

    Called by :func:`gancosmo.emulators.load`; its ``sample(n, seed)`` returns ``(n, v, v, v)``
    particle counts per voxel.
    """
    from ..emulators import TrainedEmulator, transform_from_record

    g = _saved_generators(record, state, ("m3", "m2", "m1"))
    args = record["network"]["args"]
    net = P4Pipeline(g["m3"], [(g["m2"], args["factor_m2"]), (g["m1"], args["factor_m1"])]).to(device).eval()
    emulator = TorchEmulator(net, transform_from_record(record["transform"]), batch_size=int(record["batch_size"]))
    return TrainedEmulator(name, net, (), dict(record["meta"]), emulator)


def load_pipeline(stem=None, device: str | None = None):
    """The saved full pipeline at ``stem`` (default: the committed cpu-long one), as ``emulators.load("p4")``."""
    from ..emulators import load

    return load("p4", device=device, path=stem)


def load_stage_models(stem=None, device: str | None = None, stages=STAGES) -> tuple[dict[str, StageModel], dict]:
    """Every network ``stages`` of the saved run at ``stem`` (default: the committed cpu-long one) and its ``meta``.

    The weights are checksum-verified first (:func:`gancosmo.emulators.load_verified`); each
    :class:`StageModel` carries its training record (steps, seconds, history) from that run.
    """
    from ..emulators import load_verified

    record, state = load_verified("p4", path=stem)
    generators = _saved_generators(record, state, stages)
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    meta, args = dict(record["meta"]), record["network"]["args"]["stages"]
    models = {}
    for stage, G in generators.items():
        t = meta["training"][stage]
        models[stage] = StageModel(
            stage, G.to(dev), args[stage], t["steps"], t["n_train"], t["seconds"], t.get("history", [])
        )
    return models, meta


def _resolved_max(cfg: P4Config) -> float | None:
    """The suite's measured resolved k (h/Mpc) where its recipe is used, else None (not measured)."""
    from ..sims.suites import RESOLVED_MAX

    if cfg.source != "simulated" or cfg.suite_overrides.keys() - {"n_cubes", "seed"}:
        return None
    return RESOLVED_MAX["p4"].get(cfg.profile)


# ====================================================================== evaluation
def _draw(net: P4Pipeline, n: int, seed: int, device: str, batch: int = 16) -> list[np.ndarray]:
    """``n`` samples of every scale of ``net`` (transformed units), latents drawn from ``seed`` as TorchEmulator's."""
    em = TorchEmulator(net.to(device), batch_size=batch)
    z = em.latents(n, seed)
    out = [net.scales(z[s : s + batch].to(device)) for s in range(0, n, batch)]
    return [torch.cat([o[i] for o in out]).cpu().numpy() for i in range(len(out[0]))]


def _conditioned(g: nn.Module, low: np.ndarray, factor: int, seed: int, device: str) -> np.ndarray:
    """One patch stage alone, conditioned on the real lower scale ``low`` (transformed units)."""
    cube = pt.generate_cube(g.to(device), torch.from_numpy(low), g.patch, g.latent_dim, seed, factor, g.borders)
    return cube.clamp_min(0).cpu().numpy()  # as P4Pipeline.scales


@dataclass
class Evaluation:
    """Every comparison of the chapter: Table 1 and seam results, the samples behind the figures."""

    tables: dict  # name -> p4_benchmark.Table1
    seams: dict  # name -> p4_benchmark.SeamBenchmark
    real: dict = field(repr=False)  # scale index -> real test counts
    samples: dict = field(repr=False)  # name -> list of count cubes per scale (or the one scale)
    statistics: dict = field(repr=False)  # name -> (scale index, feature set)
    real_statistics: dict = field(default_factory=dict, repr=False)  # scale index -> feature set of the test cubes
    null_statistics: dict | None = field(default=None, repr=False)
    k: dict = field(default_factory=dict)  # scale index -> wavenumbers of the power spectra, h/Mpc
    null: np.ndarray | None = field(default=None, repr=False)  # the lognormal null's cubes (counts)
    memorisation: dict = field(default_factory=dict)
    images: dict = field(default_factory=dict, repr=False)  # Table 2: side -> {"real", "gan", "null"} images (counts)
    image_statistics: dict = field(default_factory=dict, repr=False)  # side -> (k, {"real", "gan", "null"} features)
    null_note: str = ""
    n_real: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> list[Row]:
        rows = []
        for name, t in self.tables.items():
            if name.startswith("table2_"):
                rows += rows_from_scores(table2_row_specs(int(name[7:]), name, t.n_half), t.scores)
            else:
                rows += t.rows(name)
        for name, s in self.seams.items():
            rows += s.rows(name)
        return rows

    def table(self, *names: str, seams: bool | None = None):
        """The rows of the sets ``names``: all, only the seam rows (``seams=True``) or only Table 1's (False)."""
        from ..scorecard import ScorecardTable

        keep = [r for r in self.rows if any(r.key.startswith(n + "_") for n in names)]
        if seams is not None:
            keep = [r for r in keep if ("_seam_" in r.key) == seams]
        return ScorecardTable(keep, caption=", ".join(names))


def evaluate(
    cfg: P4Config, data: P4Data, models: dict[str, StageModel], device: str = "cpu", progress: bool = False
) -> Evaluation:
    """Sample every pipeline and every stage alone, and score them against the test pool (Table 1, seams).

    Real sides: the test cubes (counts) and their mean pools at the lower scales. Generated
    sides: as many cubes as test cubes. Each stage alone is conditioned on the real test
    cubes pooled to the scale below it (P4's Figs. 6, 8, 10); the pipelines start from M3.
    """
    t0 = time.perf_counter()
    fmap = P4ForwardMap()
    real_counts = data.part("test")
    n = len(real_counts)
    real_t = pyramid(torch.from_numpy(np.asarray(fmap.forward(real_counts), np.float32)), cfg.factor_m2, cfg.factor_m1)
    real = {i: np.asarray(fmap.inverse(real_t[i].numpy()), np.float32) for i in range(3)}
    real[2] = real_counts
    gens = _stage_generators(models)
    nets = pipelines(cfg, gens)
    samples, todo = {}, list(nets) + ["m2_alone", "m1_alone"]
    bar = progress_bar(len(todo), "P4 sampling", disable=not progress)
    for k, name in enumerate(nets):
        scales = _draw(nets[name], n, cfg.seed + 100 + k, device)
        samples[name] = [np.asarray(fmap.inverse(s), np.float32) for s in scales]
        bar.update(1)
    samples["m2_alone"] = [
        fmap.inverse(_conditioned(gens["m2"], real_t[0].numpy(), cfg.factor_m2, cfg.seed + 200, device))
    ]
    bar.update(1)
    samples["m1_alone"] = [
        fmap.inverse(_conditioned(gens["m1"], real_t[1].numpy(), cfg.factor_m1, cfg.seed + 201, device))
    ]
    bar.update(1)
    bar.close()

    box = data.box_size  # Mpc/h, one physical box at every scale: k in h/Mpc (the scores do not depend on it)
    null = LognormalNull(data.part("train"), data.box_size).sample(n, seed=cfg.seed + 300)
    feats_real = {i: p4_statistics(real[i], box) for i in range(3)}
    feats_null = p4_statistics(null, box)
    sets = {name: (2, samples[name][-1]) for name in nets}
    sets["m3_stage"] = (0, samples["pipeline"][0])
    sets["m2_stage"] = (1, samples["m2_alone"][0])
    sets["m1_stage"] = (2, samples["m1_alone"][0])
    tables, statistics = {}, {}
    split_seed = cfg.data_seed + 1
    for name, (scale, cubes) in sets.items():
        feats = p4_statistics(cubes, box)
        statistics[name] = (scale, feats)
        tables[name] = table1_from_statistics(
            feats_real[scale], feats, feats_null if scale == 2 else None, n_splits=cfg.n_splits, seed=split_seed
        )
    seam_sets = {name: (2, samples[name][-1], cfg.patch_m1, null) for name in nets}
    seam_sets["m2_stage"] = (1, samples["m2_alone"][0], cfg.patch_m2, None)
    seam_sets["m1_stage"] = (2, samples["m1_alone"][0], cfg.patch_m1, null)
    seams = {
        name: seam_benchmark(real[scale], cubes, patch, z, n_splits=cfg.n_splits, seed=split_seed, box_length=box)
        for name, (scale, cubes, patch, z) in seam_sets.items()
    }
    from .p3 import memorisation

    train_t = fmap.forward(data.part("train")).reshape(cfg.n_train, -1)
    half = n // 2
    memo = memorisation(
        train_t,
        fmap.forward(real_counts[:half]).reshape(half, -1),
        {name: fmap.forward(samples[name][-1][:half]).reshape(half, -1) for name in nets},
    )
    images, image_statistics = {}, {}
    for stage in (s for s in models if s.startswith("t2_")):
        side = int(stage[3:])
        real_images, parents = image_slices(real_counts, side)
        em = TorchEmulator(gens[stage].to(device), batch_size=256)
        y = torch.from_numpy(em.sample_network(len(real_images), seed=cfg.seed + 400 + side)).clamp_min(0)
        images[side] = dict(
            real=real_images, gan=np.asarray(fmap.inverse(y.numpy()), np.float32), null=image_slices(null, side)[0]
        )
        box2d = side * data.voxel_size
        feats = {k: p4_statistics(v, box2d) for k, v in images[side].items()}
        image_statistics[side] = (power_spectrum_p4(real_images[:1], box2d)[0], feats)
        tables[f"table2_{side}"] = table1_from_statistics(
            feats["real"], feats["gan"], feats["null"], parents=parents, n_splits=cfg.n_splits, seed=split_seed
        )
    return Evaluation(
        tables=tables,
        seams=seams,
        real=real,
        samples=samples,
        statistics=statistics,
        real_statistics=feats_real,
        null_statistics=feats_null,
        k={i: power_spectrum_p4(real[i][:1], box)[0] for i in range(3)},
        null=null,
        memorisation=memo,
        images=images,
        image_statistics=image_statistics,
        null_note=(
            f"null: lognormal cubes with the training cubes' power spectrum and one-point variance, {n} cubes of "
            f"{cfg.voxels}^3 voxels"
        ),
        n_real=n,
        seconds=time.perf_counter() - t0,
    )


# ====================================================================== what the figures show
LABELS = {"pipeline": "full pipeline", "borders_only": "borders only", "independent": "independent patches"}


def stage_slice_rows(ev: Evaluation, n: int = 2) -> list:
    """Rows of :func:`gancosmo.viz.p4.plot_slices` for each stage alone (P4's Figs. 5, 7, 9)."""
    real, s = ev.real, ev.samples
    n = min(n, ev.n_real)
    m3 = [(f"N-body {i + 1}", real[0][i]) for i in range(n)] + [(f"M3 {i + 1}", s["pipeline"][0][i]) for i in range(n)]
    rows = [("M3", m3)]
    for stage, low, high, key in (("M2", 0, 1, "m2_alone"), ("M1", 1, 2, "m1_alone")):
        panels = [("N-body pooled (input)", real[low][0])]
        for i in range(n):
            panels += [(f"N-body {i + 1}", real[high][i]), (f"{stage} from input {i + 1}", s[key][0][i])]
        rows.append((stage, panels))
    return rows


def pipeline_slice_rows(ev: Evaluation, n: int = 3) -> list:
    """Rows of :func:`gancosmo.viz.p4.plot_slices` for the final cubes (P4's Fig. 11), with the ablations."""
    n = min(n, ev.n_real)
    rows = [("N-body", [(f"N-body {i + 1}", ev.real[2][i]) for i in range(n)])]
    for name, label in LABELS.items():
        if name in ev.samples:
            rows.append((label, [(f"{label} {i + 1}", ev.samples[name][-1][i]) for i in range(n)]))
    return rows


def stage_statistic_rows(ev: Evaluation) -> list:
    """Rows of :func:`gancosmo.viz.p4.plot_statistics` for each stage alone (P4's Figs. 6, 8, 10)."""
    out = []
    for name, label in (("m3_stage", "M3 alone"), ("m2_stage", "M2 on real input"), ("m1_stage", "M1 on real input")):
        scale, feats = ev.statistics[name]
        out.append((f"{label}, {ev.real[scale].shape[-1]}^3", ev.k[scale], ev.real_statistics[scale], {label: feats}))
    return out


def table2_image_rows(ev: Evaluation, n: int = 4) -> list:
    """Rows of :func:`gancosmo.viz.p4.plot_slices` for Table 2: N-body slices and 2D WGAN images, per side."""
    rows = []
    for side, sets in ev.images.items():
        for key, label in (("real", "N-body slices"), ("gan", "2D WGAN")):
            rows.append((f"{label}, {side}^2", [(f"{label} {i + 1}", sets[key][i]) for i in range(n)]))
    return rows


def table2_statistic_rows(ev: Evaluation) -> list:
    """Rows of :func:`gancosmo.viz.p4.plot_statistics` for Table 2 (2D baselines, their null)."""
    return [
        (f"{side}^2 images", k, f["real"], {"2D WGAN": f["gan"], "lognormal null": f["null"]})
        for side, (k, f) in ev.image_statistics.items()
    ]


def pipeline_statistic_rows(ev: Evaluation) -> list:
    """Rows of :func:`gancosmo.viz.p4.plot_statistics` for the final cubes (P4's Fig. 12), ablations and null."""
    others = {label: ev.statistics[name][1] for name, label in LABELS.items() if name in ev.statistics}
    others["lognormal null"] = ev.null_statistics
    return [(f"final cubes, {ev.real[2].shape[-1]}^3", ev.k[2], ev.real_statistics[2], others)]


# ====================================================================== target rows and scorecard
def _criterion_row(key, quantity, ours, passed, notes, paper=None, reference=None, n=None) -> Row:
    return Row(
        key=key,
        quantity=quantity,
        paper=paper,
        ours=ours,
        reference=reference,
        verdict="pass" if passed else "fail",
        n_real=n,
        n_fake=n,
        notes=notes,
    )


def target_rows(ev: Evaluation) -> list[Row]:
    """The issue's targets: the pipeline's S* above both ablations', d^2 within 5x real-vs-real, no seam excess."""
    rows = []
    t = ev.tables["pipeline"]
    h = t.n_half
    for s in STATISTICS:
        ours = t.scores.ours[f"{s}_d2"]
        reference = find_row(t.rows("pipeline"), f"pipeline_{s}_d2").reference
        ratio = ours / reference if reference else math.inf
        rows.append(
            _criterion_row(
                f"p4_target_d2_within_5x_{s}",
                f"target: d^2 of the full pipeline's {STATISTIC_WORDS[s]} over the real-vs-real median",
                ratio,
                bool(ratio <= D2_FACTOR),
                f"criterion: at most {D2_FACTOR:g}; d^2 {ours:.4g} vs real-vs-real median {reference:.4g} ({h} vs "
                f"{h} cubes)",
                paper=PAPER_TABLE1[s]["d2"] * PAPER_TABLE1[s]["reference_s_star"],
                reference=1.0,
                n=h,
            )
        )
        ablations = {a: ev.tables[a].scores.ours[f"{s}_d2"] for a in ("borders_only", "independent") if a in ev.tables}
        if ablations:
            rows.append(
                _criterion_row(
                    f"p4_target_beats_ablations_{s}",
                    f"target: the full pipeline's S* = 1/d^2 of the {STATISTIC_WORDS[s]} above both ablations'",
                    1.0 / ours if ours else math.inf,
                    all(ours < v for v in ablations.values()),
                    "criterion: d^2 of the pipeline below each ablation's; d^2: pipeline "
                    f"{ours:.4g}, " + ", ".join(f"{a} {v:.4g}" for a, v in ablations.items()) + f" ({h} vs {h} cubes)",
                    paper="multi-scale better than single scale (Appendix C)",
                    n=h,
                )
            )
    seam = ev.seams["pipeline"].rows("pipeline")
    worst = max(seam, key=lambda r: r.ours / r.band[1] if r.band and r.band[1] > 0 else math.inf)
    rows.append(
        _criterion_row(
            "p4_target_no_seam_excess",
            "target: no excess power at the patch grid's wavevectors beyond the real-vs-real band (full pipeline)",
            worst.ours,
            all(r.verdict == "pass" for r in seam),
            f"criterion: every seam row of the pipeline inside its band; the largest against its band: {worst.key} = "
            f"{worst.ours:.3g}, band upper end {worst.band[1]:.3g}"
            if worst.band
            else "no band",
            reference=worst.reference,
            n=ev.seams["pipeline"].n_half,
        )
    )
    for name, ratio in ev.memorisation.items():
        rows.append(
            _criterion_row(
                f"{name}_memorisation",
                f"memorisation ({name}): median distance to the nearest training cube, generated / test",
                ratio,
                bool(ratio >= MEMORISATION_MIN),
                f"criterion: at least {MEMORISATION_MIN} (PROTOCOL.md); distances in P4's transformed units",
                n=ev.n_real // 2,
            )
        )
    return rows


@dataclass
class Scorecard(P3Scorecard):
    """All rows of the chapter, its ``meta``, and summaries written from them (rows, counts as chapter 03's)."""

    def table(self, prefix: str | None = None):
        from ..scorecard import ScorecardTable

        rows = [r for r in self.rows if prefix is None or r.key.startswith(prefix)]
        return ScorecardTable(rows, caption=f"P4 scorecard, profile {self.meta.get('profile')}")

    def targets(self) -> str:
        """Markdown: the book's targets for P4 (the ``p4_target_*`` rows), each with its value and verdict."""
        chosen = [r for r in self.rows if r.key.startswith("p4_target_")]
        lines = [f"{sum(r.verdict == 'pass' for r in chosen)} of {len(chosen)} targets met:"]
        for r in chosen:
            lines.append(f"- {r.quantity}: **{r.verdict}** (`{r.key}` = {r.ours:.3g}; {r.notes})")
        return "\n".join(lines)

    def summary(self) -> str:
        """Markdown: pass and fail counts, the null, Table 1's headline, timings; all from the rows and meta."""
        m, c = self.meta, self.counts()
        banded = [r for r in self.rows if r.band is not None]
        lines = [
            f"- **{c['pass']} of {len(self.rows)} rows pass, {c['fail']} fail, {c['untestable']} are untestable** "
            f"(profile `{m['profile']}`, {m['sizes']['n_half']} cubes on each side of every comparison, "
            f"{m['n_splits']} real-vs-real half/half splits; the real-vs-real median lies inside its own band in "
            f"{sum(1 for r in banded if r.band[0] <= r.reference <= r.band[1])} of {len(banded)} banded rows)."
        ]
        table2 = [k for k in m["names"] if k.startswith("table2_")]
        for name in ("pipeline", "borders_only", "independent", "m3_stage", "m2_stage", "m1_stage", *table2):
            mine = [r for r in self.rows if r.key.startswith(name + "_") and r.key.endswith("_d2")]
            if not mine:
                continue
            parts = ", ".join(
                f"{STATISTIC_WORDS[s]} {r.ours:.3g} (band up to {r.band[1]:.3g}, {r.verdict})"
                for s, r in zip(STATISTICS, mine)
            )
            lines.append(f"- {m['names'][name]}: d^2 {parts}.")
        null = [r for r in banded if r.null_verdict == "pass"]
        lines.append(
            f"- The lognormal null passes {len(null)} of {sum(r.null_verdict is not None for r in banded)} banded rows"
            + (f" ({', '.join(f'`{r.key}`' for r in null)})" if null else "")
            + ": where it passes, the row cannot tell non-Gaussian structure from a lognormal field at our sizes."
        )
        t, source = m["timings"], m.get("emulator", "trained in this run")
        lines.append(
            f"- The run took {t['total']:.0f} s: data {t['data']:.0f} s, training {t['training']:.0f} s, "
            f"evaluation {t['evaluation']:.0f} s."
        )
        if isinstance(source, dict):
            took = source.get("training_seconds")
            lines.append(
                f"- It trained nothing: the networks are those of the {source['profile']} run (network seed "
                f"{source['seed']}, its own cubes of data seed {source['data_seed']}, commit "
                f"{str(source['git_commit'])[:10]})"
                + (f", whose training took {took / 60:.0f} min" if took else "")
                + ", scored here on cubes they never saw."
            )
        return "\n".join(lines)


NAMES = {
    "pipeline": "full pipeline (M3 -> M2 -> M1)",
    "borders_only": "ablation, borders only (single scale)",
    "independent": "ablation, independent patches (M3 -> M2 -> M1 without borders)",
    "m3_stage": "M3 alone (lowest scale)",
    "m2_stage": "M2 alone, on real down-sampled cubes",
    "m1_stage": "M1 alone, on real down-sampled cubes",
}


def scorecard(
    cfg: P4Config,
    data: P4Data,
    models: dict[str, StageModel],
    ev: Evaluation,
    training_seconds: float = 0.0,
    started: float | None = None,
    device: str = "cpu",
    source: dict | None = None,
) -> Scorecard:
    """Every row (Table 1 of each set, seams, targets, memorisation) and the run's ``meta``.

    ``training_seconds`` is the wall-clock time of this run's training (:func:`train_stages`;
    0 when it loaded saved networks), ``source`` the saved run's ``meta`` when it did
    (:func:`load_stage_models`).
    """
    rows = ev.rows + target_rows(ev)
    timings = dict(data=data.seconds, training=training_seconds, evaluation=ev.seconds)
    timings["total"] = time.perf_counter() - started if started is not None else sum(timings.values())
    timings["other"] = timings["total"] - sum(timings[k] for k in ("data", "training", "evaluation"))
    meta = dict(
        paper="P4",
        profile=cfg.profile,
        git_commit=git_commit(),
        device=device,
        torch=torch.__version__,
        threads=dict(torch=torch.get_num_threads(), omp_wait_policy=os.environ.get("OMP_WAIT_POLICY")),
        seeds=dict(network=cfg.seed, data=cfg.data_seed, splits=cfg.data_seed + 1),
        n_splits=cfg.n_splits,
        resolved_max=_resolved_max(cfg),
        scored_max=math.pi / data.voxel_size * math.sqrt(3),
        k_units="h/Mpc",
        parents=(
            "each simulated cube is an independent periodic PM box (its own parent)"
            if data.source == "simulated"
            else "the published 256^3 cube each sub-cube was cut from"
        ),
        sizes=dict(
            n_half=ev.tables["pipeline"].n_half,
            n_test=ev.n_real,
            n_train=len(data.split["train"]),
            sides=list(cfg.sides),
            voxel_size=data.voxel_size,
            box_size=data.box_size,
            patches=dict(m2=cfg.patch_m2, m1=cfg.patch_m1),
        ),
        reduced=cfg.reduced(),
        names={
            **NAMES,
            **{f"table2_{side}": f"2D baseline (Table 2), {side}^2 images" for side in ev.images},
        },
        config=cfg.to_dict(),
        data=data.summary(),
        train={k: dict(steps=m.steps, seconds=m.seconds, n_train=m.n_train) for k, m in models.items()},
        emulator=(
            "trained in this run"
            if source is None
            else dict(
                profile=source["profile"],
                seed=source["seed"],
                data_seed=source["data_seed"],
                git_commit=source["git_commit"],
                training_seconds=source.get("training_seconds"),
            )
        ),
        null=ev.null_note,
        table1_authors_way={
            name: dict(d2=t.d2, s_star=t.s_star, reference_s_star=t.reference_s_star) for name, t in ev.tables.items()
        },
        timings=timings,
    )
    return Scorecard(rows=rows, meta=meta)
