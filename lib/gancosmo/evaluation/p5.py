r"""P5 (Ullmo, Decelle & Aghanim 2021, a GAN of the cosmic web and an autoencoder on its generator).

The steps of chapter ``05_gan_autoencoder``, each one function with a typed result:

* :class:`P5Config`: the chapter's one frozen configuration and profile table.
* :func:`load_data` -> ``{set: P5Set}``: P5's two image sets, log-like transformed (Eqs. 1, 2),
  split by parent into train, dev and test: ``"2d"``, square crops of native 2D particle-mesh
  runs (parent: the run), and ``"slices"``, slab histograms of 3D boxes (parent: the slab).
* :func:`train_gan` -> :class:`GanModel`: P5's DCGAN (Appendix A) trained by
  :class:`gancosmo.train.Trainer` with BCE (Eq. 4), Adam 2e-4 (beta1 0.5), batches of 50, label
  noise and the 8 symmetries of the square; generators are evaluated regularly on the dev images
  (:class:`DevSelector`) and the best one is kept, with the discriminator of the same step.
* :func:`train_autoencoder` -> :class:`AutoencoderModel`: an encoder with the discriminator's
  layout under the frozen generator, trained on Eq. 7 (the truncated discriminator's features of
  ``G(E(x))`` against those of ``x``) and stopped at the dev loss's minimum.
* :func:`sanity_check` -> :class:`SanityCheck`: Sect. 4.3's encoder trained on GAN images with
  an l2 latent loss, tested on GAN images and on real ones.
* :func:`evaluate` -> :class:`SetEvaluation`: the GAN's and the autoencoder's statistics (pixel
  PDF, mean density, P(k), peak counts) against the test images with the real-vs-real band and a
  lognormal null (``PROTOCOL.md``), Dice (Eqs. 9-11) against random pairs, memorisation.
* :func:`scorecard` -> :class:`Scorecard`: every row, the target rows and the run's ``meta``.
* :func:`save_models`, :func:`emulator_from_record`, :func:`load_models`: the trained GAN and
  encoder of each set as ``gancosmo.emulators.load("p5_2d")`` / ``("p5_slices")``.

Units: networks see P5's transformed images in about [-1, 1]; every statistic is computed on
particles per pixel (ppp), :math:`\rho = T^{-1}(v')` (:class:`P5LogLike`); lengths in Mpc/h,
wavenumbers in h/Mpc.
"""

from __future__ import annotations

import copy
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
from ..emulators import TrainedEmulator
from ..models import p5 as nets
from ..params import ParameterError
from ..progress import progress_bar
from ..scorecard import Row, find_row, git_commit
from ..train.selection import Selector
from .p3 import Scorecard as P3Scorecard
from .protocol import RowSpec, binned_row_specs, real_vs_real_splits, rows_from_scores, score, split_by_parent
from .sampling import TorchEmulator

__all__ = [
    "P5Config",
    "P5LogLike",
    "P5Set",
    "GanModel",
    "AutoencoderModel",
    "SanityCheck",
    "SetModels",
    "SetEvaluation",
    "Scorecard",
    "DevSelector",
    "P5Emulator",
    "SETS",
    "TRANSFORMS",
    "setup",
    "load_data",
    "crop_fields",
    "square_symmetries",
    "build_gan",
    "train_gan",
    "feature_loss",
    "train_autoencoder",
    "sanity_check",
    "train_set",
    "train_sets",
    "smooth_fields",
    "image_statistics",
    "compare_statistics",
    "dice_curves",
    "evaluate",
    "target_rows",
    "scorecard",
    "save_models",
    "load_models",
    "emulator_from_record",
]

#: The two image sets: P5's "2D images" and "3D images" (slices of 3D boxes).
SETS = ("2d", "slices")
#: The prefix of each set's scorecard rows (and its emulator's name).
KEY = {"2d": "p5_2d", "slices": "p5_slices"}
SET_WORDS = {"2d": "2D set (native 2D particle-mesh runs)", "slices": "3D set (slabs of 3D boxes)"}
#: P5's sizes (Appendix A, Sects. 2.2, 4.2, 4.3).
PAPER = dict(
    width=nets.PAPER_WIDTH,
    side=nets.PAPER_SIDE,
    latent_dim=nets.PAPER_LATENT_DIM,
    batch_size=50,
    lr=2e-4,
    beta1=0.5,
    epochs_2d=60.0,
    epochs_slices=70.0,
    ae_epochs=50.0,
    images=72000,
)
#: Where P5's normalized Dice coefficient peaks (Figs. 10, 13), percent of pixels.
PAPER_DICE_PEAK = {"2d": 20, "slices": 10}
#: The step (%) of the top fractions at which the Dice family is measured (5%, 10%, ..., 95%).
PERCENT_STEP = 5
#: P5: the overlap is significant up to the top 60% of pixels.
SIGNIFICANT_UP_TO = 60
#: The book's significance threshold (Eq. 11): 3 standard deviations of the random-pair overlap.
SIGNIFICANCE = 3.0
#: The issue's pixel-PDF target: within 10% (or the band) between these densities (ppp).
PDF_RANGE, PDF_TOLERANCE = (1e-3, 1e2), 0.10
#: Memorisation criterion (PROTOCOL.md).
MEMORISATION_MIN = 0.95
#: Dice percentages (P5: 5% steps) and the sanity check's extra top 1%.
PERCENTS = np.arange(PERCENT_STEP, 100, PERCENT_STEP)
SANITY_PERCENTS = np.concatenate([[1], PERCENTS])
#: Pixel-PDF bins: 5 per decade, centred on 10^(k/5) ppp (the 2D floor 0.01 ppp is a bin centre).
PDF_EDGES = 10.0 ** np.arange(-4.1, 3.51, 0.2)
#: P5's figures for each set.
FIGURES = {
    "2d": dict(images=2, statistics=3, pairs=6, ae_statistics=7, dice=10),
    "slices": dict(images=4, statistics=5, pairs=11, ae_statistics=12, dice=13),
}
#: What P5 reports in each figure we re-make (its own words, shortened), printed under ours.
PAPER_CAPTIONS = {
    ("2d", "images"): "P5 Fig. 2: 50 simulation and 50 GAN images, 'virtually indistinguishable by eye'.",
    ("slices", "images"): "P5 Fig. 4: the diversity of filaments and of dense regions is well recovered by the GAN.",
    ("2d", "statistics"): "P5 Fig. 3: near-perfect PDF overlap (densest values slightly under-represented); mean "
    "density shifted low; median P(k) slightly low; peak counts in very good agreement.",
    ("slices", "statistics"): "P5 Fig. 5: near-perfect PDF overlap above 1e-3 ppp (a deficit below, from c); mean "
    "density very well recovered; median P(k) near-perfect (slightly low at high k); peaks in near-perfect agreement.",
    ("2d", "pairs"): "P5 Fig. 6: the inferred images look like their inputs; large dense structures are recovered "
    "better than small diffuse ones.",
    ("slices", "pairs"): "P5 Fig. 11: the densest structures are recovered better than the more diffuse ones.",
    ("2d", "ae_statistics"): "P5 Fig. 7: high densities over-represented in the inferred images, mean density skewed "
    "high, median P(k) shifted up, peaks as the PDF.",
    ("slices", "ae_statistics"): "P5 Fig. 12: low densities under- and high densities slightly over-represented, mean "
    "density well recovered, median P(k) slightly high.",
    "fig8": "P5 Fig. 8 (2D set): pairs thresholded at their top 20, 40, 60 and 80%; dense structures are strikingly "
    "well recovered, thick features more than fine ones.",
    "fig9": "P5 Fig. 9 (2D set): overlaps (yellow) and misses (green) of the thresholded structures.",
    ("2d", "dice"): "P5 Fig. 10: the overlap is well above random up to the top 60% of pixels; the normalized "
    "coefficient peaks at the top 20%.",
    ("slices", "dice"): "P5 Fig. 13: significant up to the top 60% in a majority of images; the normalized "
    "coefficient peaks at the top 10%.",
}


# ====================================================================== the transforms of Eqs. 1 and 2
class P5LogLike:
    r"""P5's log-like transform of particles per pixel, Eq. 1 (``c = 0``) and Eq. 2.

    .. math::
        v' = \frac{2 \log(v + c) - (b + a)}{b - a}, \qquad v = \exp\left(\frac{(b - a) v' + b + a}{2}\right) - c

    Values below ``exp(a) - c`` (where ``v' = -1``) are raised to it first: 0.01 ppp for the 2D
    set (Eq. 1, a = log 0.01, b = log 600; the book's suite clips there), 0 for the 3D set
    (Eq. 2, a = log c, b = log 2632, c = 1e-3). With ``c > 0`` the transform saturates below
    ``c``: its slope in :math:`\log v` is :math:`2 v / ((v + c)(b - a))`, so all densities under
    ``c`` share the narrow band :math:`[-1, -1 + 2 \log 2 / (b - a)]`, which is why P5 expects no
    network to recover the pixel PDF below ``c``.

    Parameters
    ----------
    a, b : float
        Natural logarithms bracketing the densities (``a < b``).
    c : float
        Offset added before the logarithm (>= 0).
    """

    def __init__(self, a: float, b: float, c: float = 0.0):
        for name, v in (("a", a), ("b", b), ("c", c)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number, got {v!r}.")
        if not b > a or c < 0 or math.exp(a) - c < 0:
            raise ValueError(f"accepted are a < b, c >= 0 and exp(a) >= c; got a={a}, b={b}, c={c}.")
        self.a, self.b, self.c = float(a), float(b), float(c)

    @property
    def floor(self) -> float:
        """The smallest density (ppp): ``v' = -1``."""
        return math.exp(self.a) - self.c

    @property
    def ceiling(self) -> float:
        """The density (ppp) at ``v' = 1``."""
        return math.exp(self.b) - self.c

    def forward(self, v):
        """Particles per pixel -> transformed values (numpy or torch, same kind back)."""
        if isinstance(v, torch.Tensor):
            return (2.0 * torch.log(v.clamp_min(self.floor) + self.c) - (self.b + self.a)) / (self.b - self.a)
        v = np.maximum(np.asarray(v, dtype=np.float64 if np.ndim(v) == 0 else None), self.floor)
        return (2.0 * np.log(v + self.c) - (self.b + self.a)) / (self.b - self.a)

    def inverse(self, y):
        """Transformed values -> particles per pixel."""
        lib = torch if isinstance(y, torch.Tensor) else np
        return lib.exp(((self.b - self.a) * y + (self.b + self.a)) / 2.0) - self.c

    def slope(self, v) -> np.ndarray:
        r""":math:`dv'/d\log_{10} v`, the transform's resolution of densities near ``v``."""
        v = np.asarray(v, float)
        return 2.0 * np.log(10.0) * v / ((v + self.c) * (self.b - self.a))

    def record(self) -> dict:
        return {"kind": "p5_log_like", "a": self.a, "b": self.b, "c": self.c}

    def __repr__(self) -> str:
        return f"P5LogLike(a=log {math.exp(self.a):g}, b=log {math.exp(self.b):g}, c={self.c:g})"


#: Eq. 1 (2D set) and Eq. 2 (3D set), the constants of P5 and of the book's suites.
TRANSFORMS = {
    "2d": P5LogLike(math.log(0.01), math.log(600.0)),
    "slices": P5LogLike(math.log(1e-3), math.log(2632.0), 1e-3),
}


def _transform_from_record(record: dict) -> P5LogLike:
    from ..emulators import EmulatorError

    if record.get("kind") != "p5_log_like":
        raise EmulatorError(f"a P5 emulator needs a 'p5_log_like' transform, its record has {record.get('kind')!r}.")
    return P5LogLike(record["a"], record["b"], record["c"])


# ====================================================================== configuration
def _sets_of(value: str) -> tuple[str, ...]:
    return SETS if value == "both" else (value,)


@dataclass(frozen=True)
class P5Config(ChapterConfig):
    """Everything chapter 05 needs, from one profile table (:attr:`PROFILES`).

    Data: the 2D set is ``n_runs`` runs of the book's ``p5_2d`` suite (fields of
    ``n_particles`` pixels per side of 100 Mpc/h, pooled to ``pixels_2d``), each cut into 3 x 3
    crops of ``side`` pixels; the 3D set is ``n_boxes`` boxes of the ``p5`` suite, each giving
    ``3 slabs_per_axis`` slab images (crops of ``side``). A fraction ``dev_fraction`` of the
    parents is the development set (model selection, early stopping), ``test_fraction`` the
    test pool (held-out images), the rest trains.
    """

    seed: int = option(doc="seed of the networks, the training runs and the generated samples", low=0)
    image_sets: str = option(
        doc="which of P5's image sets to run: 'both', '2d' (native 2D runs) or 'slices' (slabs of 3D boxes)",
        choices=("both", "2d", "slices"),
    )
    device: str | None = option(
        doc="'cpu' or 'cuda' (None: cuda when available)", choices=("cpu", "cuda"), nullable=True
    )
    results_dir: str | None = option(
        doc="folder to write scorecard_p5_{profile}.json, the figures and the emulators into (None: nothing)",
        check=writable_folder,
        describe="a folder this process can write",
        nullable=True,
    )
    emulator: str = option(
        doc="'train' the networks in this run, score the 'committed' ones of the cpu-long run "
        "(gancosmo.emulators.load('p5_2d') and ('p5_slices')), or those saved in a folder",
        check=lambda v: isinstance(v, str) and bool(v.strip()),
        describe="'train', 'committed' or a folder holding saved emulator_p5_<set>_<profile> files",
    )
    # data
    n_runs: int = option(doc="2D particle-mesh runs of the 2D set (each a parent of 9 crops)", low=4)
    pixels_2d: int = option(doc="pixels per side of the 2D fields before cropping (P5: 256 of 100 Mpc/h)", low=32)
    smooth_2d: float = option(
        doc="rms width, in pixels of pixels_2d (after pooling), of the Gaussian that smooths the 2D fields' "
        "cloud-in-cell densities, a stand-in for P5's Delaunay estimator (0: none)",
        low=0,
    )
    n_boxes: int = option(doc="3D boxes of the 3D set (each gives 3 slabs_per_axis slab images)", low=1)
    data_seed: int = option(doc="seed of the simulations and of the split (fixed across network seeds)", low=0)
    dev_fraction: float = option(
        doc="fraction of the parents held out for model selection and early stopping",
        low=0,
        low_open=True,
        high=0.5,
    )
    test_fraction: float = option(
        doc="fraction of the parents held out as the test pool", low=0, low_open=True, high=0.8
    )
    side: int = option(doc="image side in pixels, 4 times a power of two (P5: 128)", low=32)
    # networks
    width: int = option(doc="filters of the discriminator's first layer (P5: 32; the others scale with it)", low=1)
    latent_dim: int = option(doc="latent size of the generator and the encoder's output (P5: 100)", low=1)
    # GAN training
    epochs_2d: float = option(
        doc="GAN epochs on the 2D set, each over the 8 symmetric copies of the training images (P5: 60)",
        low=0,
        low_open=True,
    )
    epochs_slices: float = option(doc="GAN epochs on the 3D set, as epochs_2d (P5: 70)", low=0, low_open=True)
    batch_size: int = option(doc="images per batch (P5: 50)", low=2)
    lr: float = option(doc="Adam learning rate of every network (P5: 2e-4)", low=0, low_open=True, high=1)
    beta1: float = option(doc="Adam's beta1 (P5: 0.5)", low=0, high=1, high_open=True)
    label_flip: float = option(
        doc="label noise: probability that a discriminator step sees the real images labelled fake and the "
        "generated ones real (P5 names the noise without its form)",
        low=0,
        high=0.5,
    )
    select_every: int = option(doc="generator steps between two evaluations of the GAN on the dev images", low=1)
    select_from: float = option(
        doc="fraction of the GAN training after which generators are evaluated and the best kept", low=0, high=1
    )
    n_select: int = option(doc="generated images per evaluation on the dev set", low=4)
    workers: int = option(
        doc="processes that train the two image sets' networks side by side on the CPU, its threads shared among "
        "them (1: one set after the other; on cuda always one after the other)",
        low=1,
    )
    # autoencoder
    ae_epochs_2d: float = option(
        doc="encoder epochs on the 2D set (P5: 50), stopped at the dev loss's minimum", low=0, low_open=True
    )
    ae_epochs_slices: float = option(doc="encoder epochs on the 3D set (P5: 50)", low=0, low_open=True)
    sanity_steps: int = option(doc="steps of Sect. 4.3's encoder trained on GAN images (l2 latent loss)", low=1)
    # evaluation
    n_splits: int = option(doc="random real-vs-real splits of the band (at least 20)", low=20)
    n_pairs: int = option(doc="random pairs of test images (different parents) of the Dice baseline", low=10)

    PROFILES = {}  # filled below

    # ------------------------------------------------------------------ derived sizes
    @property
    def sets(self) -> tuple[str, ...]:
        return _sets_of(self.image_sets)

    def suite_sizes(self, name: str) -> dict:
        """The suite's recipe at this profile (``p5_2d`` or ``p5``)."""
        from ..sims.suites import SIZES

        return SIZES["p5_2d" if name == "2d" else "p5"][self.profile]

    def suite_overrides(self, name: str) -> dict:
        """What ``load_suite`` gets for set ``name``: the values that differ from the suite's recipe."""
        from ..sims.suites import recipe_overrides

        if name == "2d":
            return recipe_overrides("p5_2d", self.profile, n_runs=self.n_runs, seed=self.data_seed)
        return recipe_overrides("p5", self.profile, n_boxes=self.n_boxes, seed=self.data_seed)

    def layout(self, name: str) -> dict:
        """Images per parent, parents, pixel size (Mpc/h) and image side of set ``name``."""
        s = self.suite_sizes(name)
        if name == "2d":
            per = len(_starts(self.pixels_2d, self.side)) ** 2
            return dict(per_parent=per, parents=self.n_runs, pixel=s["box_size"] / self.pixels_2d)
        image = s["histogram"] // 3  # the suite cuts crops of s["crop"] from each slab image, we crops of side
        per = len(_starts(image, s["crop"])) ** 2 * len(_starts(s["crop"], self.side)) ** 2
        return dict(per_parent=per, parents=self.n_boxes * 3 * s["slabs_per_axis"], pixel=s["box_size"] / image)

    def parents_of(self, name: str) -> dict:
        """Parents of set ``name`` in train, dev and test (as :func:`split_by_parent` deals them)."""
        n = self.layout(name)["parents"]
        split = split_by_parent(np.arange(n), self.fractions, seed=self.data_seed)
        return {k: len(v) for k, v in split.items()}

    @property
    def fractions(self) -> dict:
        return {
            "train": 1.0 - self.dev_fraction - self.test_fraction,
            "dev": self.dev_fraction,
            "test": self.test_fraction,
        }

    def n_eval(self, name: str) -> int:
        """Images on each side of every comparison: half the test parents' images."""
        return self.layout(name)["per_parent"] * (self.parents_of(name)["test"] // 2)

    def n_train(self, name: str) -> int:
        return self.layout(name)["per_parent"] * self.parents_of(name)["train"]

    def gan_steps(self, name: str) -> int:
        """Generator steps of ``epochs_<set>`` epochs over the 8 symmetric copies of the training images."""
        epochs = self.epochs_2d if name == "2d" else self.epochs_slices
        return int(epochs * (8 * self.n_train(name) // self.batch_size))

    def ae_steps(self, name: str) -> int:
        epochs = self.ae_epochs_2d if name == "2d" else self.ae_epochs_slices
        return int(epochs * (8 * self.n_train(name) // self.batch_size))

    @property
    def emulator_folder(self) -> str | None:
        """The folder of saved emulators when ``emulator`` names one; None for 'train' and 'committed'."""
        return None if self.emulator in ("train", "committed") else self.emulator

    def emulator_stem(self, name: str) -> Path | None:
        """The file stem of the saved emulator of set ``name`` (None: the committed cpu-long one)."""
        folder = self.emulator_folder
        if folder is None:
            return None
        found = sorted(Path(folder).expanduser().glob(f"emulator_p5_{name}_*.json"))
        if len(found) != 1:
            raise ParameterError(
                f"parameter 'emulator' is {self.emulator!r}, which holds {len(found)} saved "
                f"emulator_p5_{name}_<profile> files; accepted is a folder holding exactly one per image set run, "
                "or 'train' or 'committed'."
            )
        return found[0].with_suffix("")

    def network_args(self, name: str) -> dict:
        return dict(width=self.width, side=self.side, latent_dim=self.latent_dim, image_set=name)

    # ------------------------------------------------------------------ checks
    def check(self) -> None:
        if not nets.is_valid_side(self.side):
            raise ParameterError(
                f"parameter 'side' is {self.side}; accepted is 4 times a power of two (32, 64, 128, 256: "
                "the networks' stride-2 layers end on 4 x 4 maps)."
            )
        if self.dev_fraction + self.test_fraction >= 0.9:
            raise ParameterError(
                f"parameters 'dev_fraction' ({self.dev_fraction:g}) and 'test_fraction' ({self.test_fraction:g}) "
                "leave less than 10% of the parents to train on; accepted is a sum below 0.9."
            )
        s2 = self.suite_sizes("2d")
        if s2["n_particles"] % self.pixels_2d or self.pixels_2d < self.side:
            raise ParameterError(
                f"parameter 'pixels_2d' is {self.pixels_2d}; accepted is a divisor of the 2D runs' "
                f"{s2['n_particles']} particles per side that is at least side ({self.side})."
            )
        s3 = self.suite_sizes("slices")
        if s3["crop"] < self.side:
            raise ParameterError(
                f"parameter 'side' is {self.side}, larger than the {s3['crop']}-pixel slab images of profile "
                f"{self.profile!r}; accepted is at most {s3['crop']}."
            )
        for name in self.sets:
            parents = self.parents_of(name)
            if parents["test"] < 4:
                what = "n_runs" if name == "2d" else "n_boxes"
                raise ParameterError(
                    f"parameters {what!r} and 'test_fraction' leave {parents['test']} test parents in the "
                    f"{SET_WORDS[name]}; accepted are at least 4 (two halves of 2)."
                )
            n_train = self.n_train(name)
            if self.batch_size > n_train:
                raise ParameterError(
                    f"parameter 'batch_size' ({self.batch_size}) exceeds the {n_train} training images of the "
                    f"{SET_WORDS[name]}, so not one full batch exists; accepted is at most {n_train}."
                )
            for what, steps in (("epochs", self.gan_steps(name)), ("ae_epochs", self.ae_steps(name))):
                if steps < 1:
                    param = f"{what}_{name}"
                    per = 8 * self.n_train(name) // self.batch_size
                    raise ParameterError(
                        f"parameter {param!r} ({getattr(self, param)!r}) gives 0 steps over the {SET_WORDS[name]}'s "
                        f"{per} batches per epoch; accepted are at least {math.ceil(1000 / per) / 1000:g} epochs."
                    )
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError(
                "parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None."
            )

    def check_inputs(self) -> None:
        if self.emulator == "train":
            return
        from ..emulators import EmulatorError, read_record

        for name in self.sets:
            try:
                record = read_record(f"p5_{name}", path=self.emulator_stem(name))
                args = record["network"]["args"]
            except (EmulatorError, KeyError) as exc:
                raise ParameterError(
                    f"parameter 'emulator' is {self.emulator!r} but {exc} Accepted here is emulator 'train'."
                ) from None
            wanted = self.network_args(name)
            if any(args.get(k) != v for k, v in wanted.items()):
                raise ParameterError(
                    f"parameter 'emulator' is {self.emulator!r} but its {name} networks were built with "
                    f"{', '.join(f'{k} {args.get(k)}' for k in wanted)} rather than profile {self.profile!r}'s "
                    f"{', '.join(f'{k} {v}' for k, v in wanted.items())}; accepted here is emulator 'train', or the "
                    "saved run's sizes."
                )
            smoothed = record.get("meta", {}).get("config", {}).get("smooth_2d", 0.0)
            if name == "2d" and smoothed != self.smooth_2d:
                raise ParameterError(
                    f"parameter 'emulator' is {self.emulator!r} but its 2D networks were trained on densities "
                    f"smoothed by {smoothed:g} pixel rms, not this run's smooth_2d {self.smooth_2d:g}; accepted here "
                    f"is smooth_2d {smoothed:g}, or emulator 'train'."
                )

    # ------------------------------------------------------------------ words
    def reduced(self) -> str:
        """One sentence: what this profile reduces with respect to P5."""
        widths = "P5's widths" if self.width == PAPER["width"] else f"width {self.width} (P5: 32)"
        latent = "" if self.latent_dim == PAPER["latent_dim"] else f", latent {self.latent_dim} (P5: 100)"
        side = "" if self.side == PAPER["side"] else f", images of {self.side}^2 pixels (P5: 128^2)"
        s2, s3 = self.suite_sizes("2d"), self.suite_sizes("slices")
        l2, l3 = self.layout("2d"), self.layout("slices")
        ppp2 = (s2["n_particles"] / self.pixels_2d) ** 2
        ppp3 = s3["n_particles"] ** 3 / s3["slabs_per_axis"] / s3["histogram"] ** 2
        parts = [
            f"networks of {widths}{latent}{side}",
            f"2D set: {self.n_runs} runs of {s2['n_particles']}^2 particles (P5: 1000 of 512^2) on "
            f"{self.pixels_2d}^2-pixel fields of {s2['box_size']:g} Mpc/h, {ppp2:g} particle{'s' * (ppp2 != 1)} per "
            "pixel on average "
            f"(P5: 4), {l2['per_parent'] * self.n_runs} crops of {self.side * l2['pixel']:.3g} Mpc/h",
            f"3D set: {self.n_boxes} box{'es' * (self.n_boxes != 1)} of {s3['n_particles']}^3 particles (P5: one of "
            "512^3), "
            f"{3 * s3['slabs_per_axis']} slabs of {s3['box_size'] / s3['slabs_per_axis']:.3g} Mpc/h each (P5: 999 of "
            f"0.3), {ppp3:.2g} particles per histogram pixel, {l3['per_parent'] * l3['parents']} images of "
            f"{self.side * l3['pixel']:.3g} Mpc/h (P5: 9000 of 50 Mpc/h)",
            f"GAN {self.epochs_2d:g} / {self.epochs_slices:g} epochs (P5: 60 / 70), encoder "
            f"{self.ae_epochs_2d:g} / {self.ae_epochs_slices:g} epochs (P5: 50), batch {self.batch_size} (P5: 50)",
        ]
        return "; ".join(parts) + "."


def _starts(n: int, side: int) -> list[int]:
    """First pixels of the crops of ``side`` along an axis of ``n`` pixels: 0, the middle one and the last."""
    return sorted({0, (n - side) // 2, n - side})


# The reduced scales of cpu and cpu-long (one recipe, other data and lengths): P5's crops of 50 Mpc/h at half its
# resolution, 64^2 pixels of 0.78 Mpc/h (the 2D runs' 256^2 particles pooled onto 128^2 pixels: 4 per pixel, as
# P5's maps; the 3D suite's 128^2 slab images of 100 Mpc/h cut into 9 crops), networks of a quarter of P5's width.
# At 64^2 the networks have four stride-2 layers (4 x 4 maps at the dense layers, as P5's). Pilots (one core each,
# 0.16-0.17 s per GAN step on the cpu-long data): with five layers (2 x 2 maps) every generator collapsed onto one
# image; with four, on the raw cloud-in-cell 2D densities, 6000 steps collapsed too (pixel std across samples 0.17
# of the real 0.39, one tiled pattern; instance noise of 0.1 made it 0.04), as had a 10 000-step cpu run. Smoothing
# the 2D fields by 1 pixel rms (smooth_2d, P5's Delaunay maps have no shot-noise voids) gave distinct images with
# filaments after 6000 steps (0.19 of the real 0.20, dev distance 0.31); the 3D set, smoothed by P5's own recipe,
# gave 0.23 of 0.21 unchanged.
_REDUCED = dict(side=64, width=8, latent_dim=100, pixels_2d=128)

_COMMON = dict(
    seed=0,
    image_sets="both",
    device=None,
    results_dir=None,
    emulator="train",
    dev_fraction=0.1,
    test_fraction=0.3,
    batch_size=50,
    lr=2e-4,
    beta1=0.5,
    label_flip=0.05,
    select_from=0.5,
    n_splits=39,
    n_pairs=400,
    workers=1,
    smooth_2d=1.0,
)
P5Config.PROFILES.update(
    {
        # smoke: 32^2 crops of the smoke suites' 64^2 fields, networks of width 2, a few steps: plumbing only.
        "smoke": P5Config(
            profile="smoke",
            **{**_COMMON, "n_splits": 20, "n_pairs": 40, "batch_size": 8},
            n_runs=14,
            pixels_2d=64,
            n_boxes=3,
            data_seed=0,
            side=32,
            width=2,
            latent_dim=16,
            epochs_2d=0.2,
            epochs_slices=0.4,
            select_every=2,
            n_select=8,
            ae_epochs_2d=0.15,
            ae_epochs_slices=0.4,
            sanity_steps=3,
        ),
        # cpu scores the committed cpu-long networks on its own, fresh data (the same recipe, other seeds);
        # `-p emulator train` trains here instead: about 1000 generator steps and 200-250 encoder steps per set.
        "cpu": P5Config(
            profile="cpu",
            **{**_COMMON, "workers": 2, "emulator": "committed"},
            n_runs=64,
            n_boxes=3,
            data_seed=0,
            **_REDUCED,
            epochs_2d=18.5,
            epochs_slices=8.0,
            select_every=50,
            n_select=128,
            ae_epochs_2d=4.0,
            ae_epochs_slices=2.0,
            sanity_steps=200,
        ),
        # cpu-long: the suites' cpu-long data (512 2D runs, 8 boxes instead of 4), about 16 500 generator and 2 650
        # encoder steps per set, the two sets side by side. At 25 / 33 epochs (11 000 steps) the run took 23.5 min
        # (GANs 16.6 min at 0.09 s per step on one core each, encoders 6 min, data 3 min): the 2D GAN's pixel PDF,
        # mean densities and peaks lay just outside the band, the 3D set's peaks far outside. At 1.5 times the
        # epochs it stays within the hour at the 0.16-0.17 s per step measured on slower hosts.
        "cpu-long": P5Config(
            profile="cpu-long",
            **{**_COMMON, "workers": 2},
            n_runs=512,
            n_boxes=8,
            data_seed=1,
            **_REDUCED,
            epochs_2d=37.5,
            epochs_slices=50.0,
            select_every=500,
            n_select=256,
            ae_epochs_2d=6.0,
            ae_epochs_slices=8.0,
            sanity_steps=1000,
        ),
        # gpu: P5's networks on the suites' gpu data (9000 2D crops, 6912 slab crops of 50 Mpc/h); 15 GAN and 5
        # encoder epochs per set, about 23000 and 7600 steps in all.
        "gpu": P5Config(
            profile="gpu",
            **_COMMON,
            n_runs=1000,
            pixels_2d=256,
            n_boxes=4,
            data_seed=0,
            side=128,
            width=32,
            latent_dim=100,
            epochs_2d=15.0,
            epochs_slices=15.0,
            select_every=1000,
            n_select=256,
            ae_epochs_2d=5.0,
            ae_epochs_slices=5.0,
            sanity_steps=2000,
        ),
        # paper: P5's sizes; the 2D runs' 512^2 particles pooled onto 256^2 pixels (4 per pixel, P5's maps).
        "paper": P5Config(
            profile="paper",
            **_COMMON,
            n_runs=1000,
            pixels_2d=256,
            n_boxes=1,
            data_seed=0,
            side=128,
            width=32,
            latent_dim=100,
            epochs_2d=60.0,
            epochs_slices=70.0,
            select_every=5000,
            n_select=1000,
            ae_epochs_2d=50.0,
            ae_epochs_slices=50.0,
            sanity_steps=20000,
        ),
    }
)


def setup(cfg: P5Config) -> str:
    """The device of the run (``cfg.device`` or cuda when available); flushes denormals on the CPU."""
    torch.set_flush_denormal(True)
    return cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")


# ====================================================================== data
@dataclass
class P5Set:
    """One of P5's image sets: transformed images ``(N, side, side)`` (float32), their parents and split."""

    name: str
    images: np.ndarray = field(repr=False)
    parents: np.ndarray = field(repr=False)
    split: dict = field(repr=False)
    pixel_size: float  # Mpc/h
    per_parent: int
    transform: P5LogLike
    parent_words: str
    origin: str
    seconds: float = 0.0

    @property
    def side(self) -> int:
        return self.images.shape[-1]

    @property
    def field_size(self) -> float:
        """Side of one image, Mpc/h."""
        return self.side * self.pixel_size

    def part(self, name: str) -> np.ndarray:
        """Transformed images of ``train``, ``dev`` or ``test``."""
        return self.images[self.split[name]]

    def density(self, name: str) -> np.ndarray:
        """Particles per pixel of ``train``, ``dev`` or ``test``."""
        return np.asarray(self.transform.inverse(self.part(name).astype(np.float64)), np.float32)

    @property
    def n_eval(self) -> int:
        return self.per_parent * (len(np.unique(self.parents[self.split["test"]])) // 2)

    def summary(self) -> str:
        parts = ", ".join(f"{k} {len(v)}" for k, v in self.split.items())
        rho = self.density("train")
        return (
            f"{SET_WORDS[self.name]}: {len(self.images)} images of {self.side}^2 pixels of {self.pixel_size:.3g} Mpc/h "
            f"({self.field_size:.3g} Mpc/h per side) from {self.origin}; {rho.mean():.3g} particles per pixel on "
            f"average in the training images (median {np.median(rho):.3g}); {self.per_parent} per parent "
            f"({self.parent_words}); split by parent: {parts}"
        )


def crop_fields(fields: np.ndarray, side: int) -> np.ndarray:
    """3 x 3 square crops of ``side`` pixels (first, middle and last position along each axis) of each field.

    ``(N, n, n)`` -> ``(N, m, side, side)`` with ``m = 9`` (``1`` when ``n == side``), field by field,
    row-major over the crops' positions.
    """
    n = fields.shape[-1]
    if side > n:
        raise ValueError(f"side {side} is larger than the fields' {n} pixels; accepted is side <= {n}.")
    starts = _starts(n, side)
    crops = [fields[:, i : i + side, j : j + side] for i in starts for j in starts]
    return np.stack(crops, axis=1)


def _pool(density: np.ndarray, factor: int) -> np.ndarray:
    """Particles per pixel on ``factor`` times coarser pixels (sums of ``factor^2`` pixels of mean-1 densities)."""
    if factor == 1:
        return density
    n, s = density.shape[0], density.shape[-1] // factor
    return density.reshape(n, s, factor, s, factor).sum(axis=(2, 4))


def smooth_fields(density: np.ndarray, sigma: float) -> np.ndarray:
    """Periodic fields ``(N, n, n)`` convolved with a Gaussian of ``sigma`` pixels rms (0: unchanged).

    A stand-in for P5's Delaunay estimator: cloud-in-cell densities of a few particles per pixel
    leave the voids as shot noise (pixels of 0 or 1 particle, -1 or -0.16 after Eq. 1); every
    pilot of 6000 steps or more on them collapsed onto one image, most likely because the
    discriminator separates that texture at once (its accuracy stayed at 0.96-1.0). The
    tessellation interpolates between particles instead. The
    periodic boundaries keep every field's particle count.
    """
    if not sigma:
        return density
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(density, sigma=(0, sigma, sigma), mode="wrap")


def square_symmetries(image) -> torch.Tensor:
    """The 8 images of ``image`` ``(H, W)`` under the square's symmetries (rotations by 90 degrees, then mirrored)."""
    from ..data.augment import apply_dihedral2d

    x = torch.as_tensor(np.asarray(image))[None, None].expand(8, 1, *np.shape(image))
    return apply_dihedral2d(x, torch.arange(8))[:, 0]


def _load_2d(cfg: P5Config, device, progress) -> P5Set:
    from ..sims import load_suite

    t0 = time.perf_counter()
    suite = load_suite("p5_2d", profile=cfg.profile, device=device, progress=progress, **cfg.suite_overrides("2d"))
    n_particles = suite.arrays["density"].shape[-1]
    factor = n_particles // cfg.pixels_2d
    density = smooth_fields(_pool(np.asarray(suite.arrays["density"], np.float64), factor), cfg.smooth_2d)
    transform = TRANSFORMS["2d"]
    images = np.asarray(transform.forward(density), np.float32)
    crops = crop_fields(images, cfg.side)
    per = crops.shape[1]
    parents = np.repeat(np.arange(len(images)), per)
    split = split_by_parent(parents, cfg.fractions, seed=cfg.data_seed)
    box = suite.config.get("box_size", 100.0)
    return P5Set(
        "2d",
        crops.reshape(-1, cfg.side, cfg.side),
        parents,
        split,
        box / cfg.pixels_2d,
        per,
        transform,
        "the 2D run it was cut from; crops of one run overlap",
        f"{len(images)} 2D particle-mesh runs of {n_particles}^2 particles in ({box:g} Mpc/h)^2 (CIC density"
        + (f", pooled {factor}x{factor}" if factor > 1 else "")
        + (f", smoothed by a periodic Gaussian of {cfg.smooth_2d:g} pixel rms" if cfg.smooth_2d else "")
        + "; P5 used a Delaunay estimator), clipped at 0.01 ppp and transformed by Eq. 1",
        time.perf_counter() - t0,
    )


def _load_slices(cfg: P5Config, device, progress) -> P5Set:
    from ..sims import load_suite

    t0 = time.perf_counter()
    sizes = {**cfg.suite_sizes("slices"), **cfg.suite_overrides("slices")}
    suite = load_suite("p5", profile=cfg.profile, device=device, progress=progress, **cfg.suite_overrides("slices"))
    crops = crop_fields(np.asarray(suite.arrays["images"], np.float32), cfg.side)
    n_slabs, mine = 3 * sizes["slabs_per_axis"], crops.shape[1]
    per_slab = len(_starts(sizes["histogram"] // 3, sizes["crop"])) ** 2
    # the suite's order: box by box, crop position by crop position, slab by slab; then our crops of each
    k = np.arange(crops.shape[0] * mine) // mine
    parents = (k // (per_slab * n_slabs)) * n_slabs + k % n_slabs
    images = crops.reshape(-1, cfg.side, cfg.side)
    split = split_by_parent(parents, cfg.fractions, seed=cfg.data_seed)
    pixel = sizes["box_size"] / (sizes["histogram"] // 3)
    return P5Set(
        "slices",
        images,
        parents,
        split,
        pixel,
        per_slab * mine,
        TRANSFORMS["slices"],
        "the slab it was cut from; slabs along different axes of one box cross, as in P5's single box",
        f"{sizes['n_boxes']} z = 0 boxes of {sizes['n_particles']}^3 particles in ({sizes['box_size']:g} Mpc/h)^3, "
        f"{n_slabs} slabs each binned on {sizes['histogram']}^2 pixels, transformed by Eq. 2 and smoothed "
        "(Gaussian of 3 pixels, stride 3)",
        time.perf_counter() - t0,
    )


def load_data(cfg: P5Config, device: str | None = None, progress: bool = True) -> dict[str, P5Set]:
    """Simulate (or read from the cache) P5's image sets of ``cfg.sets``, transformed and split by parent."""
    loaders = {"2d": _load_2d, "slices": _load_slices}
    return {name: loaders[name](cfg, device, progress) for name in cfg.sets}


def _tensor(images: np.ndarray, device="cpu") -> torch.Tensor:
    return torch.as_tensor(np.asarray(images, np.float32), device=device)


def _autocast(device: str):
    from ..train.hardware import resolve_settings

    settings = resolve_settings(torch.device(device))
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(settings.precision)
    return torch.autocast(torch.device(device).type, dtype=dtype or torch.float32, enabled=dtype is not None)


# ====================================================================== statistics (particles per pixel)
def pk_edges(side: int, pixel_size: float) -> np.ndarray:
    """Wavenumber bin edges (h/Mpc): about 15 log-spaced bins from the fundamental mode to Nyquist, none empty."""
    kf = 2 * np.pi / (side * pixel_size)
    n = np.unique(np.round(np.geomspace(1, side / 2, 17)))
    return kf * np.concatenate([[0.5], n + 0.5])


def image_power(rho, pixel_size: float, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""P5's Eq. 8, :math:`P(k) = \langle |A_{kl}|^2 \rangle` over rings, of each image of ``rho`` (ppp).

    Returns ``(k, P)``: bin mid-points in h/Mpc and ``(B, nb)`` power in ppp^2 (Mpc/h)^2 (the
    discrete Fourier transform normalised by :math:`L^2/N^4`, the DC mode excluded).
    """
    from ..stats import power_spectrum_2d

    side = np.shape(rho)[-1]
    # with the side "in degrees" L 180/pi, lenstools' ell = 2 pi |n| / L_rad is k in h/Mpc
    return power_spectrum_2d(rho, side * pixel_size * 180.0 / np.pi, edges)


def peak_edges(rho_train: np.ndarray) -> np.ndarray:
    """Peak-height bin edges (ppp): 16 log bins over the 1st to 99.9th percentile of the training images' peaks."""
    from ..stats import peak_values

    vals = np.concatenate(peak_values(rho_train[:256], 1, boundary="mask"))
    vals = vals[vals > 0]
    lo, hi = np.percentile(vals, [1, 99.9])
    return np.geomspace(lo, hi, 17)


def image_statistics(rho, pixel_size: float, k_edges: np.ndarray, peaks: np.ndarray) -> dict:
    """P5's four estimators of each image of ``rho`` ``(B, n, n)`` (ppp): one row per image.

    ``pdf``: fraction of the pixels in each :data:`PDF_EDGES` bin (values outside go to the edge
    bins); ``mean``: mean density; ``pk``: Eq. 8's power spectrum; ``peaks``: number of local
    maxima (pixels above their 8 neighbours, the border pixels masked: crops are not periodic)
    in each ``peaks`` bin.
    """
    from ..stats import mean_density, peak_counts_2d, pixel_histogram

    rho = np.asarray(rho, np.float32)
    _, pdf = pixel_histogram(rho, PDF_EDGES, unbounded=True)
    pdf = pdf / rho[0].size
    _, pk = image_power(rho, pixel_size, k_edges)
    inner = rho[:, 1:-1, 1:-1]
    if inner.max() < peaks[0] or inner.min() >= peaks[-1]:  # no pixel in the bins (an untrained network): none
        counts = np.zeros((len(rho), len(peaks) - 1))
    else:
        _, counts = peak_counts_2d(rho, peaks, differential=False, boundary="mask")
    return dict(pdf=pdf, mean=mean_density(rho)[:, None], pk=pk, peaks=counts)


def _pdf_in_range() -> np.ndarray:
    centres = np.sqrt(PDF_EDGES[1:] * PDF_EDGES[:-1])
    return (centres >= PDF_RANGE[0] * 0.999) & (centres <= PDF_RANGE[1] * 1.001)


def compare_statistics(real: dict, other: dict) -> dict:
    """Every comparison of P5's estimators: ``other`` (GAN, inferred images, null, real B) against ``real`` (A).

    Keys: the calibrated binned comparisons (:func:`gancosmo.evaluation.binned.binned_comparison`)
    of ``pdf``, ``pk`` and ``peaks``; ``pdf_range_max_abs_frac``, the largest fractional
    difference of the mean pixel PDF over the bins in :data:`PDF_RANGE` that the real images
    populate; ``pk_median_max_abs_frac``, that of the median P(k) (P5's Figs. 3, 5); ``mean_ks``,
    the two-sample KS distance between the mean-density distributions, and
    ``mean_median_frac``, the fractional difference of their medians.
    """
    from scipy.stats import ks_2samp

    from .binned import binned_comparison

    out = {}
    for name in ("pdf", "pk", "peaks"):
        out.update(binned_comparison(real[name], other[name], name))
    r, o = real["pdf"].mean(0), other["pdf"].mean(0)
    keep = _pdf_in_range() & (r > 0)
    out["pdf_range_max_abs_frac"] = float(np.max(np.abs(o[keep] / r[keep] - 1))) if keep.any() else float("nan")
    mr, mo = np.median(real["pk"], 0), np.median(other["pk"], 0)
    out["pk_median_max_abs_frac"] = float(np.max(np.abs(mo / mr - 1)))
    a, b = real["mean"][:, 0], other["mean"][:, 0]
    out["mean_ks"] = float(ks_2samp(a, b).statistic)
    out["mean_median_frac"] = float(np.median(b) / np.median(a) - 1)
    return out


def _statistic_specs(prefix: str, who: str, paper: dict) -> list[RowSpec]:
    specs = []
    for name, label in (("pdf", "pixel PDF"), ("pk", "P(k) (Eq. 8)"), ("peaks", "peak counts")):
        specs += [
            RowSpec(**{**spec.__dict__, "source": f"{name}_{stat}"})
            for stat, spec in zip(
                ("chi2_dof", "mean_abs_frac", "ks_reject"),
                binned_row_specs(f"{prefix}_{name}", f"{who}: {label}", ("chi2_dof", "mean_abs_frac", "ks_reject")),
            )
        ]
    specs += [
        RowSpec(
            f"{prefix}_pdf_range_max_abs_frac",
            f"{who}: largest |fractional difference| of the mean pixel PDF from {PDF_RANGE[0]:g} to "
            f"{PDF_RANGE[1]:g} ppp",
            paper=paper.get("pdf"),
            sided="upper",
            target=PDF_TOLERANCE,
            source="pdf_range_max_abs_frac",
        ),
        RowSpec(
            f"{prefix}_pk_median_max_abs_frac",
            f"{who}: largest |fractional difference| of the median P(k)",
            paper=paper.get("pk"),
            sided="upper",
            source="pk_median_max_abs_frac",
        ),
        RowSpec(
            f"{prefix}_mean_density_ks",
            f"{who}: KS distance between the distributions of the images' mean density",
            paper=paper.get("mean"),
            sided="upper",
            source="mean_ks",
        ),
        RowSpec(
            f"{prefix}_mean_density_median_frac",
            f"{who}: fractional difference of the median mean density",
            paper=paper.get("mean_shift"),
            source="mean_median_frac",
        ),
    ]
    return specs


#: P5's words for each estimator (Sects. 4.2, 4.3), set beside our rows.
PAPER_WORDS = {
    ("2d", "gan"): dict(
        pdf="near-perfect overlap, densest values slightly under-represented",
        pk="satisfying overlap, slight downward shift",
        mean="satisfactory agreement, shift to lower mean density",
        mean_shift="negative (shift to lower mean density)",
        peaks="very good agreement",
    ),
    ("slices", "gan"): dict(
        pdf="near-perfect overlap above 1e-3 ppp (deficit below, from c)",
        pk="near-perfect overlap, slight deficit at high k",
        mean="very well recovered",
        peaks="near-perfect agreement (lower tail missed)",
    ),
    ("2d", "ae"): dict(
        pdf="satisfactory overlap, high densities over-represented",
        pk="significant upward shift",
        mean="skewed to higher mean density",
        mean_shift="positive",
        peaks="high peaks over-represented",
    ),
    ("slices", "ae"): dict(
        pdf="overlap, low densities under- and high densities over-represented",
        pk="slight upward shift",
        mean="well recovered",
        peaks="slight excess of high peaks",
    ),
}


# ====================================================================== model selection on the dev set
class DevSelector(Selector):
    """P5's choice among the saved generators, by their statistics on the development images.

    Value = L1 distance between the mean pixel PDFs (50 bins on [-1, 1] of transformed values) of
    ``n_samples`` generated and the dev images + mean over k of ``|ln(median P_gen / median
    P_dev)|`` of the densities (ppp). 0 for identical sets; lower is better. When the value is the
    best so far, the discriminator of the same step (``self.discriminator``, set after the
    trainer is built) is copied too, so that the autoencoder's loss (Eq. 7) uses the
    discriminator trained with the chosen generator.

    Parameters
    ----------
    dev : numpy.ndarray
        ``(N, n, n)`` transformed dev images.
    transform : P5LogLike
    pixel_size : float
        Mpc/h.
    n_samples : int
        Generated images per evaluation (the same latents every time).
    """

    def __init__(self, dev: np.ndarray, transform: P5LogLike, pixel_size: float, n_samples: int, seed: int = 0):
        super().__init__()
        self.transform, self.pixel_size, self.n_samples, self.seed = transform, pixel_size, int(n_samples), seed
        self.edges_t = np.linspace(-1, 1, 51)
        self.k_edges = pk_edges(dev.shape[-1], pixel_size)
        self.reference = self._summaries(dev)
        self.discriminator: nn.Module | None = None
        self.best_value: float | None = None
        self.best_discriminator: dict | None = None

    def _summaries(self, images: np.ndarray):
        from ..stats import pixel_histogram

        _, h = pixel_histogram(np.clip(images, -1, 1), self.edges_t, density=True)
        rho = self.transform.inverse(images.astype(np.float64))
        return h.mean(0), np.median(image_power(rho, self.pixel_size, self.k_edges)[1], 0)

    def distance_to(self, images: np.ndarray) -> float:
        """The selection value of transformed images against the dev images."""
        if not np.isfinite(images).all():
            return float("inf")
        h, p = self._summaries(images)
        pdf = float(np.sum(np.abs(h - self.reference[0])) * (self.edges_t[1] - self.edges_t[0]))
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.abs(np.log(p / self.reference[1]))
        return pdf + (float(np.mean(lp)) if np.isfinite(lp).all() else float("inf"))

    def distance(self, G) -> float:
        return self.distance_to(TorchEmulator(G, batch_size=64).sample_network(self.n_samples, self.seed))

    def __call__(self, G, step: int) -> float:
        value = super().__call__(G, step)
        if self.discriminator is not None and (self.best_value is None or value < self.best_value):
            self.best_value = value
            self.best_discriminator = {k: v.detach().cpu().clone() for k, v in self.discriminator.state_dict().items()}
        return value


# ====================================================================== the GAN
@dataclass
class GanModel:
    """A trained P5 GAN: the generator chosen on the dev images and the discriminator of the same step."""

    G: Any = field(repr=False)
    D: Any = field(repr=False)
    args: dict
    steps: int
    epochs: float
    n_train: int
    seconds: float
    best_step: int | None
    best_value: float | None
    history: list = field(repr=False)
    selection: list = field(repr=False)

    def describe(self) -> str:
        chosen = (
            "no dev evaluation happened: the final generator is kept"
            if self.best_step is None
            else f"kept step {self.best_step:,} of {len(self.selection)} dev evaluations (value {self.best_value:.3g})"
        )
        return (
            f"{self.steps:,} generator steps ({self.epochs:.3g} epochs of the 8 symmetric copies of {self.n_train:,} "
            f"training images) in {self.seconds:.0f} s; {nets.count_parameters(self.G):,} generator and "
            f"{nets.count_parameters(self.D):,} discriminator parameters; {chosen}"
        )


def build_gan(cfg: P5Config, seed: int) -> tuple[nn.Module, nn.Module]:
    """P5's generator and discriminator at ``cfg``'s sizes, DCGAN-initialised from ``seed``."""
    return nets.dcgan(width=cfg.width, side=cfg.side, latent_dim=cfg.latent_dim, seed=seed)


def _seeds(cfg: P5Config, name: str) -> dict:
    base = cfg.seed * 100 + 10 * SETS.index(name)
    return dict(gan=base, encoder=base + 1, sanity=base + 2, samples=base + 3)


def train_config(cfg: P5Config, name: str, n_train: int, seed: int, device: str, progress: bool):
    """The :class:`gancosmo.train.TrainConfig` of P5's GAN recipe for set ``name``."""
    from ..train import TrainConfig

    steps = cfg.gan_steps(name)
    batches_per_epoch = n_train // cfg.batch_size  # the trainer's epoch: one pass over the un-mirrored images
    return TrainConfig(
        loss="bce",
        label_flip=cfg.label_flip,
        optimizer="adam",
        lr_g=cfg.lr,
        lr_d=cfg.lr,
        betas=(cfg.beta1, 0.999),
        batch_size=cfg.batch_size,
        max_steps=steps,
        latent_dim=cfg.latent_dim,
        seed=seed,
        device=device,
        progress=progress,
        tensorboard=False,
        log_every=max(1, steps // 100),
        select_every=cfg.select_every,
        select_from_epoch=cfg.select_from * steps / max(1, batches_per_epoch),
    )


def train_gan(cfg: P5Config, data: P5Set, device: str = "cpu", progress: bool = True) -> GanModel:
    """Train P5's GAN on the training images of ``data``; keep the generator chosen on its dev images.

    Every real batch is turned by a random one of the square's 8 symmetries (P5 adds them to
    the data set); :class:`DevSelector` evaluates the generator every ``select_every`` steps
    in the last ``1 - select_from`` of the run, and the best one, with its discriminator, is
    kept (P5: weights saved regularly, the best chosen by their statistics).
    """
    from ..data.augment import dihedral2d
    from ..train import Trainer

    seeds = _seeds(cfg, data.name)
    G, D = build_gan(cfg, seeds["gan"])
    train = data.part("train")
    config = train_config(cfg, data.name, len(train), seeds["gan"], device, progress)
    selector = DevSelector(data.part("dev"), data.transform, data.pixel_size, cfg.n_select, seed=seeds["samples"])
    trainer = Trainer(G, D, _tensor(train), config, statistic=selector, augment=dihedral2d)
    selector.discriminator = trainer.D_raw
    t0 = time.perf_counter()
    result = trainer.fit()
    seconds = time.perf_counter() - t0
    trainer.close()
    G, D = trainer.G_raw, trainer.D_raw
    if trainer.restore_best() and selector.best_discriminator is not None:
        D.load_state_dict(selector.best_discriminator)
    return GanModel(
        G.eval(),
        D.eval(),
        cfg.network_args(data.name),
        result["step"],
        result["step"] * cfg.batch_size / (8 * len(train)),
        len(train),
        seconds,
        trainer.best_step,
        trainer.best_value,
        result["history"],
        list(selector.history),
    )


# ====================================================================== the autoencoder (Eq. 7)
def feature_loss(D: nn.Module, G: nn.Module, E: nn.Module, x: torch.Tensor) -> torch.Tensor:
    r"""P5's Eq. 7, :math:`\langle \|TD(x) - TD(G(E(x)))\|^2 \rangle` over the batch ``x`` ``(B, 1, n, n)``.

    TD is the discriminator without its last layer (:meth:`gancosmo.models.p5.Discriminator.features`);
    the squared norm is summed over its features, the batch averaged.
    """
    with torch.no_grad():
        target = D.features(x)
    return (D.features(G(E(x))) - target).float().pow(2).sum(1).mean()


@dataclass
class AutoencoderModel:
    """The encoder trained under the frozen generator, at the step of its lowest dev loss (Eq. 7)."""

    E: Any = field(repr=False)
    steps: int
    epochs: float
    best_step: int
    best_loss: float
    seconds: float
    history: list = field(repr=False)  # dict(step, train, dev) per dev evaluation

    def describe(self) -> str:
        return (
            f"{self.steps:,} encoder steps ({self.epochs:.3g} epochs) in {self.seconds:.0f} s; "
            f"{nets.count_parameters(self.E):,} parameters; lowest dev loss {self.best_loss:.4g} at step "
            f"{self.best_step:,} of {len(self.history)} dev evaluations, the encoder kept"
        )


def _dev_loss(D, G, E, dev: torch.Tensor, batch: int, device: str) -> float:
    E.eval()
    total = 0.0
    with torch.no_grad(), _autocast(device):
        for s in range(0, len(dev), batch):
            x = dev[s : s + batch].to(device)
            total += float(feature_loss(D, G, E, x)) * len(x)
    E.train()
    return total / len(dev)


def train_autoencoder(
    cfg: P5Config, data: P5Set, gan: GanModel, device: str = "cpu", progress: bool = True
) -> AutoencoderModel:
    """Train the encoder of P5's autoencoder on Eq. 7 with the GAN's generator and discriminator frozen.

    Adam with P5's rate and beta1; batches of training images under random square symmetries;
    the dev loss is measured once per epoch (and at the end) and the encoder of its minimum is
    kept (P5: "training is stopped when the loss measured on a separate validation set reaches
    a minimum"). The generator and discriminator are copies: ``gan`` is left untouched.
    """
    from ..data.augment import dihedral2d
    from ..train.data import EpochSampler

    seed = _seeds(cfg, data.name)["encoder"]
    G, D = nets.freeze(copy.deepcopy(gan.G).to(device)), nets.freeze(copy.deepcopy(gan.D).to(device))
    E = nets.encoder(width=cfg.width, side=cfg.side, latent_dim=cfg.latent_dim, seed=seed).to(device)
    opt = torch.optim.Adam(E.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    train = _tensor(data.part("train"))[:, None]
    dev = _tensor(data.part("dev"))[:, None]
    steps = cfg.ae_steps(data.name)
    per_epoch = max(1, 8 * len(train) // cfg.batch_size)
    sampler = EpochSampler(len(train), cfg.batch_size, seed=seed)
    rng = torch.Generator().manual_seed(seed)
    history, best = [], (math.inf, 0, copy.deepcopy(E.state_dict()))
    running, count = 0.0, 0
    t0 = time.perf_counter()
    bar = progress_bar(steps, f"encoder ({data.name})", disable=not progress)
    E.train()
    for step in range(1, steps + 1):
        x = dihedral2d(train[torch.from_numpy(sampler.next_batch())], rng).to(device)
        with _autocast(device):
            loss = feature_loss(D, G, E, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running, count = running + loss.item(), count + 1
        bar.update(1)
        if step % per_epoch == 0 or step == steps:
            value = _dev_loss(D, G, E, dev, cfg.batch_size, device)
            history.append(dict(step=step, train=running / count, dev=value))
            running, count = 0.0, 0
            bar.set_postfix(dev=f"{value:.4g}")
            if value < best[0]:
                best = (value, step, copy.deepcopy(E.state_dict()))
    bar.close()
    E.load_state_dict(best[2])
    return AutoencoderModel(E.eval(), steps, steps / per_epoch, best[1], best[0], time.perf_counter() - t0, history)


@torch.no_grad()
def _decode(G: nn.Module, z: torch.Tensor, device: str, batch: int = 64) -> np.ndarray:
    G.eval()
    out = [G(z[s : s + batch].to(device)).float()[:, 0].cpu() for s in range(0, len(z), batch)]
    return torch.cat(out).numpy()


@torch.no_grad()
def _encode(E: nn.Module, images: np.ndarray, device: str, batch: int = 64) -> torch.Tensor:
    E.eval()
    x = _tensor(images)[:, None]
    return torch.cat([E(x[s : s + batch].to(device)).float().cpu() for s in range(0, len(x), batch)])


def reconstruct(G: nn.Module, E: nn.Module, images: np.ndarray, device: str) -> np.ndarray:
    """The inferred images ``G(E(x))`` of transformed images ``x`` (transformed units)."""
    return _decode(G, _encode(E, images, device), device)


# ====================================================================== the sanity check (Sect. 4.3)
@dataclass
class SanityCheck:
    """Sect. 4.3: an encoder trained on GAN images with the l2 latent loss, tested on GAN and real images."""

    E: Any = field(repr=False)
    steps: int
    seconds: float
    history: list = field(repr=False)  # dict(step, loss)
    percents: np.ndarray = field(repr=False)
    dice_gan: np.ndarray = field(default=None, repr=False)  # (n, n_percents) on new GAN images
    dice_real: np.ndarray = field(default=None, repr=False)  # (n, n_percents) on the real test images

    def describe(self) -> str:
        last = self.history[-1]["loss"] if self.history else float("nan")
        return (
            f"{self.steps:,} steps on fresh GAN images in {self.seconds:.0f} s (last l2 latent loss {last:.3g} per "
            f"latent entry)"
        )


def sanity_check(cfg: P5Config, data: P5Set, gan: GanModel, device: str = "cpu", progress: bool = True) -> SanityCheck:
    """Train Sect. 4.3's encoder: ``z ~ N(0, 1)``, ``x = G(z)``, loss ``||E(x) - z||^2``; the generator frozen."""
    seed = _seeds(cfg, data.name)["sanity"]
    G = nets.freeze(copy.deepcopy(gan.G).to(device))
    E = nets.encoder(width=cfg.width, side=cfg.side, latent_dim=cfg.latent_dim, seed=seed).to(device)
    opt = torch.optim.Adam(E.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    g = torch.Generator().manual_seed(seed)
    history = []
    t0 = time.perf_counter()
    bar = progress_bar(cfg.sanity_steps, f"sanity encoder ({data.name})", disable=not progress)
    E.train()
    for step in range(1, cfg.sanity_steps + 1):
        z = torch.randn(cfg.batch_size, cfg.latent_dim, generator=g).to(device)
        with torch.no_grad():
            x = G(z)
        with _autocast(device):
            loss = (E(x).float() - z).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        bar.update(1)
        if step % max(1, cfg.sanity_steps // 50) == 0 or step == cfg.sanity_steps:
            history.append(dict(step=step, loss=loss.item()))
    bar.close()
    return SanityCheck(E.eval(), cfg.sanity_steps, time.perf_counter() - t0, history, SANITY_PERCENTS)


def _score_sanity(check: SanityCheck, gan: GanModel, real: np.ndarray, seed: int, device: str) -> None:
    from ..stats import dice_top_percent

    z = torch.randn(len(real), gan.G.latent_dim, generator=torch.Generator().manual_seed(seed))
    fake = _decode(gan.G, z, device)
    check.dice_gan = dice_top_percent(fake, reconstruct(gan.G, check.E, fake, device), check.percents)
    check.dice_real = dice_top_percent(real, reconstruct(gan.G, check.E, real, device), check.percents)


@dataclass
class SetModels:
    """Everything trained (or loaded) for one image set, with the wall-clock seconds of each part."""

    gan: GanModel
    autoencoder: AutoencoderModel
    sanity: SanityCheck
    source: dict | None = None  # the saved run's meta when loaded, None when trained here


def train_set(cfg: P5Config, data: P5Set, device: str = "cpu", progress: bool = True) -> SetModels:
    """The GAN, then the autoencoder on its frozen generator, then Sect. 4.3's sanity encoder, for one set."""
    gan = train_gan(cfg, data, device, progress)
    ae = train_autoencoder(cfg, data, gan, device, progress)
    return SetModels(gan, ae, sanity_check(cfg, data, gan, device, progress))


def _threads_per_set(cfg: P5Config, device: str) -> int:
    """CPU threads each set trains with under :func:`train_sets` (this process's, shared among the workers)."""
    workers = min(cfg.workers, len(cfg.sets)) if device == "cpu" else 1
    return max(1, torch.get_num_threads() // workers)


def _train_set_job(cfg: P5Config, data: P5Set, device: str, threads: int) -> SetModels:
    """One worker process's set, trained as :func:`train_set` does with ``threads`` CPU threads."""
    torch.set_num_threads(threads)
    setup(cfg)
    return train_set(cfg, data, device, progress=False)


def train_sets(
    cfg: P5Config, data: dict[str, P5Set], device: str = "cpu", progress: bool = True
) -> tuple[dict[str, SetModels], float]:
    """:func:`train_set` for every set of ``cfg.sets``; returns ``({set: SetModels}, wall-clock seconds)``.

    With ``cfg.workers > 1`` on the CPU the sets train side by side in that many spawned
    processes (P5 trains one GAN per set, so nothing is shared or lost), each with its share of
    this process's CPU threads; on cuda they train one after the other. The networks depend on
    the seeds and on that thread count, not on which worker finishes first. The workers show no
    step bars (only one per finished set); a failure in either stops the other at once and is
    raised naming its set.
    """
    t0 = time.perf_counter()
    workers = min(cfg.workers, len(cfg.sets))
    if workers == 1 or device != "cpu":
        return {name: train_set(cfg, data[name], device, progress) for name in cfg.sets}, time.perf_counter() - t0
    from ..train.side_by_side import JobFailed, run_side_by_side

    threads = _threads_per_set(cfg, device)
    bar = progress_bar(len(cfg.sets), f"P5 image sets, {workers} trained side by side", disable=not progress)
    try:
        models = run_side_by_side(
            _train_set_job, {n: (cfg, data[n], device, threads) for n in cfg.sets}, workers, lambda _: bar.update(1)
        )
    except JobFailed as exc:
        raise RuntimeError(f"training the {SET_WORDS[exc.name]} in its worker process failed: {exc}") from exc
    finally:
        bar.close()
    return models, time.perf_counter() - t0


# ====================================================================== Dice (Eqs. 9-11)
def random_pairs(parents: np.ndarray, n_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` random pairs of indices whose parents differ (P5's "random set of simulation pairs")."""
    rng = np.random.default_rng(seed)
    p = np.asarray(parents)
    if len(np.unique(p)) < 2:
        raise ValueError("random pairs need images of at least 2 parents.")
    i, j = [], []
    while len(i) < n_pairs:
        a, b = rng.integers(0, len(p), (2, 4 * n_pairs))
        ok = p[a] != p[b]
        i.extend(a[ok].tolist()), j.extend(b[ok].tolist())
    return np.asarray(i[:n_pairs]), np.asarray(j[:n_pairs])


def dice_curves(real: np.ndarray, inferred: np.ndarray, parents: np.ndarray, n_pairs: int, seed: int) -> dict:
    """Dice of each (real, inferred) pair and of random real pairs at :data:`PERCENTS`; Eqs. 10 and 11.

    Returns ``overlap`` ``(N, P)``, ``random`` ``(n_pairs, P)``, their means ``o`` and ``r``, the
    random pairs' standard deviation ``r_std`` and ``normalized`` :math:`(\\bar O - r)/(1 - r)`
    and ``significance`` :math:`(\\bar O - r)/\\sigma_r` per percentage.
    """
    from ..stats import dice_scores, dice_top_percent

    overlap = dice_top_percent(real, inferred, PERCENTS)
    i, j = random_pairs(parents, n_pairs, seed)
    rand = dice_top_percent(real[i], real[j], PERCENTS)
    norm, signif = dice_scores(overlap, rand.mean(0), rand.std(0))
    return dict(
        percents=PERCENTS,
        overlap=overlap,
        random=rand,
        o=overlap.mean(0),
        r=rand.mean(0),
        r_std=rand.std(0),
        normalized=norm,
        significance=signif,
        normalized_std=overlap.std(0) / (1 - rand.mean(0)),
        significance_std=overlap.std(0) / rand.std(0),
    )


# ====================================================================== evaluation
@dataclass
class SetEvaluation:
    """Every comparison of one set, and the images and numbers behind its figures."""

    name: str
    n: int
    rows: list = field(repr=False)
    scores: dict = field(repr=False)  # "gan", "ae" -> protocol.Scores
    statistics: dict = field(repr=False)  # "real" (test A), "gan", "ae" (inferred A), "inputs" (= real), "null"
    k: np.ndarray = field(repr=False)
    peak_edges: np.ndarray = field(repr=False)
    real: np.ndarray = field(repr=False)  # transformed test A
    gan: np.ndarray = field(repr=False)  # transformed GAN samples
    test: np.ndarray = field(repr=False)  # transformed test pool
    inferred: np.ndarray = field(repr=False)  # transformed G(E(test pool))
    dice: dict = field(repr=False)
    memorisation: float = float("nan")
    null_note: str = ""
    seconds: float = 0.0

    def table(self, *kinds: str):
        """The rows of this set whose key continues with one of ``kinds`` (``"gan"``, ``"ae"``, ``"dice"``, ...)."""
        from ..scorecard import ScorecardTable

        keep = [r for r in self.rows if any(r.key.startswith(f"{KEY[self.name]}_{k}_") for k in kinds)]
        return ScorecardTable(keep, caption=f"{SET_WORDS[self.name]}: {', '.join(kinds)} rows")


def null_shift(density: np.ndarray) -> float:
    r"""The lognormal null's shift (particles per pixel): the rms over images of their mean minus the minimum.

    The spectrum the null copies is that of the per-image mean-subtracted densities, so its
    correlation function is :math:`\xi(r) = \langle (v - \mu_i)(v' - \mu_i) \rangle`, averaged
    over images :math:`i`. With every density at or above the pooled minimum :math:`m`,
    :math:`\xi(r) \ge -\langle(\mu_i - m)^2\rangle_i`, and a shifted lognormal with shift
    :math:`\lambda` exists only where :math:`\xi > -\lambda^2`; this shift is the smallest that
    bound guarantees. It equals the pooled mean minus the minimum when every image has the same
    mean and exceeds it when image means scatter (a smoothed set of small fields: with
    :math:`\mu - m` the 2D cpu-long set admits no lognormal).

    Parameters
    ----------
    density : numpy.ndarray
        ``(N, side, side)`` images in particles per pixel.
    """
    rho = np.asarray(density, np.float64)
    means = rho.reshape(len(rho), -1).mean(axis=1)
    return float(np.sqrt(np.mean((means - rho.min()) ** 2)))


def _lognormal_null(data: P5Set, n: int, seed: int) -> tuple[np.ndarray, float]:
    """The null: ``n`` lognormal images with the training images' P(k) and variance, and its :func:`null_shift`.

    Pixels below the transform's floor (the shift can exceed the mean minus the minimum) are
    set to it. Densities in particles per pixel.
    """
    from ..stats.fields import lognormal_maps_like

    rho = data.density("train")
    shift = null_shift(rho)
    out = lognormal_maps_like(rho, data.field_size, n, seed=seed, shift=shift)
    return np.maximum(out, data.transform.floor), shift


def _null_note(data: P5Set, shift: float, n: int) -> str:
    """How the null was made, in words."""
    return (
        f"null: lognormal images with the training images' power spectrum and one-point variance (shift "
        f"{shift:.3g} particles per pixel: the rms of their means minus their minimum), {n} images of "
        f"{data.side}^2 pixels"
    )


def evaluate(
    cfg: P5Config, data: P5Set, models: SetModels, device: str = "cpu", progress: bool = False
) -> SetEvaluation:
    """Score the GAN and the autoencoder of one set against its test images (``PROTOCOL.md``).

    GAN rows: ``n`` generated images against test A (``n`` images of half the test parents), the
    band from random parent-level (A', B') splits of the test pool, the lognormal null scored the
    same way. Autoencoder rows: the inferred images of test A against test A (their inputs).
    Dice: every test image against its inferred image, with random pairs of test images of
    different parents as the baseline; memorisation of the GAN against the training images.
    Sect. 4.3's encoder is scored too: ``models.sanity.dice_gan`` and ``dice_real`` are filled in
    (Dice on new GAN images and on the test images). The rows include the Dice and sanity rows
    (:func:`dice_rows`) and the issue's targets (:func:`target_rows`).
    """
    from .p3 import memorisation

    t0 = time.perf_counter()
    seeds = _seeds(cfg, data.name)
    T = data.transform
    test, parents = data.part("test"), data.parents[data.split["test"]]
    n = data.n_eval
    splits = real_vs_real_splits(parents, n, cfg.n_splits, seed=cfg.data_seed + 1)
    rho = lambda x: np.asarray(T.inverse(np.asarray(x, np.float64)), np.float32)  # noqa: E731
    k_edges = pk_edges(data.side, data.pixel_size)
    peaks = peak_edges(data.density("train"))
    stats = lambda x: image_statistics(rho(x), data.pixel_size, k_edges, peaks)  # noqa: E731
    gan_em = TorchEmulator(models.gan.G.to(device), batch_size=64)
    fake = gan_em.sample_network(n, seed=seeds["samples"] + 1000)
    inferred = reconstruct(models.gan.G, models.autoencoder.E, test, device)
    null_rho, shift_of_null = _lognormal_null(data, n, seed=seeds["samples"] + 2000)
    feats_real = stats(test)
    feats_null = image_statistics(null_rho, data.pixel_size, k_edges, peaks)
    feats_gan = stats(fake)
    feats_ae = stats(inferred[splits.a])
    scores = {
        "gan": score(
            compare_statistics, feats_real, splits, feats_gan, feats_null, progress, f"{data.name} GAN splits"
        ),
        "ae": score(compare_statistics, feats_real, splits, feats_ae, feats_null, progress, f"{data.name} AE splits"),
    }
    notes = f"{n} vs {n} images, {cfg.n_splits} real-vs-real splits by parent ({data.parent_words.split(';')[0]})"
    rows = []
    for who, label in (("gan", "GAN vs simulation"), ("ae", "inferred vs input")):
        specs = _statistic_specs(
            f"{KEY[data.name]}_{who}", f"{SET_WORDS[data.name]}, {label}", PAPER_WORDS[(data.name, who)]
        )
        specs = [RowSpec(**{**s.__dict__, "notes": (s.notes + "; " if s.notes else "") + notes}) for s in specs]
        rows += rows_from_scores(specs, scores[who])
    dice = dice_curves(test, inferred, parents, cfg.n_pairs, seed=cfg.data_seed + 3)
    _score_sanity(models.sanity, models.gan, test, seeds["samples"] + 3000, device)
    train_flat = data.part("train").reshape(len(data.split["train"]), -1)
    half = n // 2 if n >= 4 else n
    memo = memorisation(train_flat, test[splits.a][:half].reshape(half, -1), {"gan": fake[:half].reshape(half, -1)})[
        "gan"
    ]
    ev = SetEvaluation(
        data.name,
        n,
        rows,
        scores,
        dict(real=subset_rows(feats_real, splits.a), gan=feats_gan, ae=feats_ae, null=feats_null),
        image_power(rho(test[:1]), data.pixel_size, k_edges)[0],
        peaks,
        test[splits.a],
        fake,
        test,
        inferred,
        dice,
        memo,
        _null_note(data, shift_of_null, n),
    )
    ev.rows = ev.rows + dice_rows(ev, models.sanity)
    ev.rows = ev.rows + target_rows(ev)
    ev.seconds = time.perf_counter() - t0
    return ev


def subset_rows(features: dict, index) -> dict:
    return {k: np.asarray(v)[index] for k, v in features.items()}


# ====================================================================== target rows and scorecard
def _judged(key, quantity, ours, passed, notes, paper=None, reference=None, n=None, band=None) -> Row:
    return Row(
        key=key,
        quantity=quantity,
        paper=paper,
        ours=ours,
        reference=reference,
        band=band,
        verdict=None if passed is None else ("pass" if passed else "fail"),
        n_real=n,
        n_fake=n,
        notes=notes,
    )


def dice_rows(ev: SetEvaluation, sanity: SanityCheck) -> list[Row]:
    """Dice rows of one set: the peak of Eq. 10, the reach of Eq. 11, the overlap at 20%, the sanity check."""
    d, s, n_test = ev.dice, ev.name, len(ev.test)
    p = d["percents"]
    peak = int(p[int(np.nanargmax(d["normalized"]))])
    reach = _significant_up_to(d)
    i20 = int(np.flatnonzero(p == 20)[0])
    words = f"{n_test} held-out images vs their inferred images, {len(d['random'])} random pairs of different parents"
    rows = [
        _judged(
            f"{KEY[s]}_dice_normalized_peak_percent",
            f"{SET_WORDS[s]}: top fraction (%) where the normalized Dice coefficient (Eq. 10) peaks",
            peak,
            abs(peak - PAPER_DICE_PEAK[s]) <= PERCENT_STEP,
            f"criterion: P5's {PAPER_DICE_PEAK[s]}% within one {PERCENT_STEP}% step; {words}; normalized Dice there "
            f"{d['normalized'][p == peak][0]:.3g}",
            paper=PAPER_DICE_PEAK[s],
            n=n_test,
        ),
        _judged(
            f"{KEY[s]}_dice_significant_up_to_percent",
            f"{SET_WORDS[s]}: largest top fraction (%) up to which the significance (Eq. 11) stays >= "
            f"{SIGNIFICANCE:g} at every 5% step",
            reach,
            reach >= SIGNIFICANT_UP_TO,
            f"criterion: P5's {SIGNIFICANT_UP_TO}% or more; {words}",
            paper=SIGNIFICANT_UP_TO,
            n=n_test,
        ),
        _judged(
            f"{KEY[s]}_dice_top20",
            f"{SET_WORDS[s]}: mean Dice coefficient (Eq. 9, 2 N_ab / (N_a + N_b)) of the top 20% pixels",
            float(d["o"][i20]),
            bool(d["significance"][i20] >= SIGNIFICANCE),
            f"criterion: above the random pairs' {d['r'][i20]:.3g} +- {d['r_std'][i20]:.3g} by {SIGNIFICANCE:g} of "
            f"their standard deviations (Eq. 11); {words}",
            reference=float(d["r"][i20]),
            n=n_test,
        ),
    ]
    on_gan = float(sanity.dice_gan[:, 0].mean())
    for who, curve, paper, verdict in (
        ("gan", sanity.dice_gan, "> 0.7", lambda v: v > 0.7),
        ("real", sanity.dice_real, "did not translate well to real images", lambda v: v < on_gan),
    ):
        v = float(curve[:, 0].mean())
        rows.append(
            _judged(
                f"{KEY[s]}_sanity_{who}_dice_top1",
                f"{SET_WORDS[s]}: Sect. 4.3's encoder (trained on GAN images), mean Dice of the top 1% pixels on "
                + ("new GAN images" if who == "gan" else "real test images"),
                v,
                verdict(v),
                f"{len(curve)} images; criterion (GAN images): above 0.7, P5's"
                if who == "gan"
                else f"{len(curve)} images; criterion (P5's finding): below its {on_gan:.3g} on new GAN images",
                paper=paper,
                n=len(curve),
            )
        )
    return rows


def _significant_up_to(d: dict) -> int:
    """The largest top fraction n (%) with significance >= 3 at every 5% step up to n (0 if not even at 5%)."""
    ok = d["significance"] >= SIGNIFICANCE
    reach = 0
    for p, good in zip(d["percents"], ok):
        if not good:
            break
        reach = int(p)
    return reach


def target_rows(ev: SetEvaluation) -> list[Row]:
    """The issue's targets for one set, each with its value, criterion and verdict."""
    s, rows, n = ev.name, ev.rows, ev.n
    out = []
    for key, source, words in (
        (
            "pdf_within_10pc",
            "gan_pdf_range_max_abs_frac",
            "the GAN's pixel PDF within 10% (or the band) from 1e-3 to 1e2 ppp",
        ),
        (
            "mean_density_in_band",
            "gan_mean_density_ks",
            "the GAN's mean-density distribution inside the band (KS distance)",
        ),
        ("peaks_in_band", "gan_peaks_chi2_dof", "the GAN's peak counts inside the band (chi^2/dof)"),
        ("pk_median_in_band", "gan_pk_median_max_abs_frac", "the GAN's median P(k) inside the band"),
    ):
        r = find_row(rows, f"{KEY[s]}_{source}")
        out.append(
            _judged(
                f"p5_target_{s}_{key}",
                f"target ({SET_WORDS[s]}): {words}",
                r.ours,
                r.verdict == "pass",
                f"the verdict of `{r.key}`" + (f" (band {r.band[0]:.3g} to {r.band[1]:.3g})" if r.band else ""),
                paper=r.paper,
                reference=r.reference,
                band=r.band,
                n=n,
            )
        )
    r = find_row(rows, f"{KEY[s]}_gan_peaks_chi2_dof")
    out.append(
        _judged(
            f"p5_target_{s}_peaks_beat_null",
            f"target ({SET_WORDS[s]}): the GAN's peak counts closer to the simulations than the lognormal null's "
            "(chi^2/dof)",
            r.ours,
            r.null is not None and r.ours < r.null,
            f"criterion: below the null's {r.null:.3g}",
            reference=r.null,
            n=n,
        )
    )
    d = ev.dice
    upto = d["percents"] <= SIGNIFICANT_UP_TO
    worst = float(np.min(d["significance"][upto]))
    out.append(
        _judged(
            f"p5_target_{s}_dice_significant_to_60pc",
            f"target ({SET_WORDS[s]}): normalized Dice of held-out images above {SIGNIFICANCE:g} sigma of the "
            f"random baseline (Eq. 11) at every top fraction up to {SIGNIFICANT_UP_TO}%",
            worst,
            worst >= SIGNIFICANCE,
            f"criterion: the smallest significance over 5% to {SIGNIFICANT_UP_TO}% at least {SIGNIFICANCE:g}; "
            f"normalized Dice peaks at the top {int(d['percents'][int(np.nanargmax(d['normalized']))])}% "
            f"(P5: {PAPER_DICE_PEAK[s]}%)",
            paper=f"significant up to the top {SIGNIFICANT_UP_TO}%",
            n=len(ev.test),
        )
    )
    out.append(
        _judged(
            f"{KEY[s]}_gan_memorisation",
            f"{SET_WORDS[s]}: memorisation, median distance to the nearest training image, generated / test",
            ev.memorisation,
            bool(ev.memorisation >= MEMORISATION_MIN),
            f"criterion: at least {MEMORISATION_MIN} (PROTOCOL.md); distances in transformed units",
            n=max(2, ev.n // 2),
        )
    )
    return out


@dataclass
class Scorecard(P3Scorecard):
    """All rows of the chapter, its ``meta``, and summaries written from them (rows, counts as chapter 03's)."""

    def table(self, prefix: str | None = None):
        from ..scorecard import ScorecardTable

        rows = [r for r in self.rows if prefix is None or r.key.startswith(prefix)]
        return ScorecardTable(rows, caption=f"P5 scorecard, profile {self.meta.get('profile')}")

    def targets(self) -> str:
        """Markdown: the book's targets for P5 (the ``p5_target_*`` rows), each with its value and verdict."""
        chosen = [r for r in self.rows if r.key.startswith("p5_target_")]
        lines = [f"{sum(r.verdict == 'pass' for r in chosen)} of {len(chosen)} targets met:"]
        for r in chosen:
            lines.append(f"- {r.quantity}: **{r.verdict}** (`{r.key}` = {r.ours:.3g}; {r.notes})")
        return "\n".join(lines)

    def summary(self) -> str:
        """Markdown: pass and fail counts, the null, the Dice results beside P5's, timings; all from rows and meta."""
        m, c = self.meta, self.counts()
        judged = [r for r in self.rows if r.verdict is not None]
        banded = [r for r in self.rows if r.band is not None and isinstance(r.reference, float)]
        lines = [
            f"- **{c['pass']} of {len(judged)} judged rows pass, {c['fail']} fail, {c['untestable']} are untestable** "
            f"(profile `{m['profile']}`; {len(self.rows) - len(judged)} more rows are reported without a verdict; "
            f"the real-vs-real median lies inside its own band in "
            f"{sum(1 for r in banded if r.band[0] <= r.reference <= r.band[1])} of {len(banded)} banded rows)."
        ]
        for s in m["sets"]:
            size = m["sizes"][s]
            mine = [r for r in judged if r.key.startswith(f"{KEY[s]}_gan_")]
            cc = self.counts(mine)
            null = [r for r in mine if r.band is not None and r.null_verdict == "pass"]
            pdf = self.row(f"{KEY[s]}_gan_pdf_range_max_abs_frac")
            peak, reach = (
                self.row(f"{KEY[s]}_dice_normalized_peak_percent"),
                self.row(f"{KEY[s]}_dice_significant_up_to_percent"),
            )
            gan_dice = self.row(f"{KEY[s]}_sanity_gan_dice_top1")
            real_dice = self.row(f"{KEY[s]}_sanity_real_dice_top1")
            lines.append(
                f"- {SET_WORDS[s]} ({size['n_eval']} images on each side, {size['n_train']} training images): the GAN "
                f"passes {cc['pass']} of {len(mine)} judged rows and fails {cc['fail']}; the lognormal null passes "
                f"{len(null)} of those banded rows too. Its pixel PDF differs from the simulations' by up to "
                f"{100 * pdf.ours:.0f}% between {PDF_RANGE[0]:g} and {PDF_RANGE[1]:g} ppp (real vs real up to "
                f"{100 * pdf.band[1]:.0f}%). The normalized Dice coefficient of the inferred images peaks at the top "
                f"{peak.ours:.0f}% of pixels (P5: {peak.paper}%) and the overlap is "
                + (
                    f"significant (3 sigma) up to the top {reach.ours:.0f}%"
                    if reach.ours > 0
                    else "not significant (3 sigma) even for the top 5%"
                )
                + f" (P5: up to {reach.paper}%). Sect. 4.3's encoder trained on GAN images reaches a "
                f"top-1% Dice of {gan_dice.ours:.2f} on GAN images (P5: above 0.7) and {real_dice.ours:.2f} on real "
                "ones."
            )
        t, source = m["timings"], m.get("emulator", "trained in this run")
        together = f", the sets side by side in {t['workers']} processes" if t.get("workers", 1) > 1 else ""
        lines.append(
            f"- The run took {t['total']:.0f} s: data {t['data']:.0f} s, training {t.get('training', 0):.0f} s "
            f"(GANs {t['gan']:.0f} s, autoencoders and sanity encoders {t['autoencoder']:.0f} s, each set's own "
            f"time summed{together}), evaluation {t['evaluation']:.0f} s."
        )
        if isinstance(source, dict):
            lines.append(
                f"- It trained nothing: the networks are those of the {source['profile']} run (network seed "
                f"{source['seed']}, data seed {source['data_seed']}, commit {str(source['git_commit'])[:10]}), scored "
                "here on images they never saw."
            )
        return "\n".join(lines)


def scorecard(
    cfg: P5Config,
    data: dict[str, P5Set],
    models: dict[str, SetModels],
    evaluations: dict[str, SetEvaluation],
    started: float | None = None,
    device: str = "cpu",
    training_seconds: float | None = None,
) -> Scorecard:
    """Every row (statistics of the GAN and the autoencoder, Dice, sanity check, targets) and the run's ``meta``.

    ``training_seconds`` is the wall-clock time of :func:`train_sets` (None: the sum of the sets'
    own times, right when they trained one after the other). ``timings["gan"]`` and
    ``["autoencoder"]`` sum each set's own seconds, which overlap when the sets trained side by side.
    """
    rows = [r for ev in evaluations.values() for r in ev.rows]
    trained = {s: m.source is None for s, m in models.items()}
    timings = dict(
        data=sum(d.seconds for d in data.values()),
        gan=sum(m.gan.seconds for s, m in models.items() if trained[s]),
        autoencoder=sum(m.autoencoder.seconds + m.sanity.seconds for s, m in models.items() if trained[s]),
        evaluation=sum(ev.seconds for ev in evaluations.values()),
    )
    side_by_side = sum(trained.values()) > 1 and cfg.workers > 1 and device == "cpu"
    timings["training"] = training_seconds if training_seconds is not None else timings["gan"] + timings["autoencoder"]
    timings["workers"] = min(cfg.workers, sum(trained.values())) if side_by_side else 1
    timings["total"] = time.perf_counter() - started if started is not None else sum(timings.values())
    timings["other"] = timings["total"] - sum(timings[k] for k in ("data", "training", "evaluation"))
    timings["per_set"] = {
        s: dict(
            data=data[s].seconds,
            gan=models[s].gan.seconds if trained[s] else 0.0,
            autoencoder=models[s].autoencoder.seconds if trained[s] else 0.0,
            sanity=models[s].sanity.seconds if trained[s] else 0.0,
            evaluation=evaluations[s].seconds,
        )
        for s in evaluations
    }
    sources = [m.source for m in models.values() if m.source is not None]
    meta = dict(
        paper="P5",
        profile=cfg.profile,
        git_commit=git_commit(),
        device=device,
        torch=torch.__version__,
        threads=dict(
            torch=torch.get_num_threads(),
            omp=os.environ.get("OMP_NUM_THREADS"),
            per_worker=max(1, torch.get_num_threads() // timings["workers"]),
        ),
        seeds=dict(network=cfg.seed, data=cfg.data_seed, splits=cfg.data_seed + 1, dice_pairs=cfg.data_seed + 3),
        n_splits=cfg.n_splits,
        resolved_max=None,
        scored_max={s: math.pi / d.pixel_size for s, d in data.items()},
        k_units="h/Mpc",
        units="particles per pixel (ppp)",
        sets=list(evaluations),
        parents={s: d.parent_words for s, d in data.items()},
        sizes={
            s: dict(
                n_eval=evaluations[s].n,
                n_test=len(d.split["test"]),
                n_dev=len(d.split["dev"]),
                n_train=len(d.split["train"]),
                side=d.side,
                pixel_size=d.pixel_size,
                field_size=d.field_size,
                per_parent=d.per_parent,
            )
            for s, d in data.items()
        },
        reduced=cfg.reduced(),
        config=cfg.to_dict(),
        data={s: d.summary() for s, d in data.items()},
        train={
            s: dict(
                steps=m.gan.steps,
                best_step=m.gan.best_step,
                encoder_steps=m.autoencoder.steps,
                encoder_best_step=m.autoencoder.best_step,
                sanity_steps=m.sanity.steps,
                seconds=m.gan.seconds + m.autoencoder.seconds + m.sanity.seconds,
            )
            for s, m in models.items()
        },
        label_noise=(
            f"with probability {cfg.label_flip:g} a discriminator step sees its real batch labelled fake and its "
            "generated batch labelled real (the trainer's label_flip)"
        ),
        emulator=(
            "trained in this run"
            if not sources
            else {k: sources[0].get(k) for k in ("profile", "seed", "data_seed", "git_commit", "training_seconds")}
        ),
        null={s: ev.null_note for s, ev in evaluations.items()},
        timings=timings,
    )
    return Scorecard(rows=rows, meta=meta)


# ====================================================================== saving and loading the emulators
def save_models(cfg: P5Config, data: P5Set, models: SetModels, results_dir) -> Path:
    """Write set ``data.name``'s networks as ``emulator_p5_{set}_{profile}.safetensors`` and its record ``.json``.

    The record has the layout of :mod:`gancosmo.emulators` (``format``, ``sha256``, ``network``,
    ``transform``, ``latent``, ``labels``, ``batch_size``, ``meta``) with the builder
    ``"p5_gan_autoencoder"``; the weights hold the generator, discriminator, encoder and
    Sect. 4.3's sanity encoder, prefixed by ``generator.``, ``discriminator.``, ``encoder.``,
    ``sanity_encoder.``. ``gancosmo.emulators.load("p5_2d")`` (or ``"p5_slices"``) rebuilds
    them (:func:`emulator_from_record`). Returns the weights path.
    """
    from safetensors.torch import save_file

    from ..emulators import FORMAT_VERSION, _sha256
    from ..io import atomic_replace, atomic_write_json
    from ..sims.suites import P5_COSMOLOGY

    stem = Path(results_dir) / f"emulator_p5_{data.name}_{cfg.profile}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights, record_path = stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")
    parts = dict(
        generator=models.gan.G,
        discriminator=models.gan.D,
        encoder=models.autoencoder.E,
        sanity_encoder=models.sanity.E,
    )
    state = {f"{p}.{k}": v.detach().to("cpu").contiguous() for p, m in parts.items() for k, v in m.state_dict().items()}
    atomic_replace(weights, lambda tmp: save_file(state, str(tmp), metadata={"emulator": stem.name}))
    g, ae, sc = models.gan, models.autoencoder, models.sanity
    meta = dict(
        suite="p5_2d" if data.name == "2d" else "p5",
        profile=cfg.profile,
        from_suite="tiles" if data.per_parent > 1 else "same",
        image_set=data.name,
        field_size=data.field_size,
        pixel_size=data.pixel_size,
        side_pixels=data.side,
        resolved_max=None,
        units="particles per pixel (ppp); transformed units by P5's Eq. 1 (2D set) or Eq. 2 (3D set)",
        cosmology=dict(P5_COSMOLOGY),
        seed=cfg.seed,
        data_seed=cfg.data_seed,
        git_commit=git_commit(),
        config=cfg.to_dict(),
        training_seconds=g.seconds + ae.seconds + sc.seconds,
        threads=_threads_per_set(cfg, next(g.G.parameters()).device.type),
        training=dict(
            gan=dict(
                steps=g.steps,
                epochs=g.epochs,
                n_train=g.n_train,
                seconds=g.seconds,
                best_step=g.best_step,
                best_value=g.best_value,
                history=g.history,
                selection=[list(map(float, s)) for s in g.selection],
            ),
            autoencoder=dict(
                steps=ae.steps,
                epochs=ae.epochs,
                best_step=ae.best_step,
                best_loss=ae.best_loss,
                seconds=ae.seconds,
                history=ae.history,
            ),
            sanity=dict(steps=sc.steps, seconds=sc.seconds, history=sc.history),
        ),
    )
    record = dict(
        format=FORMAT_VERSION,
        sha256=_sha256(weights),
        network=dict(builder="p5_gan_autoencoder", args=dict(models.gan.args)),
        transform=data.transform.record(),
        latent={"prior": "gaussian", "width": 1.0},
        labels=[],
        batch_size=64,
        meta={k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in meta.items()},
    )
    atomic_write_json(record, record_path)
    return weights


def _networks(record: dict, state: dict) -> dict[str, nn.Module]:
    """The four networks of a saved P5 record, their weights taken from ``state`` by prefix."""
    a = record["network"]["args"]
    sizes = dict(width=a["width"], side=a["side"], latent_dim=a["latent_dim"])
    G, D = nets.dcgan(**sizes)
    out = dict(generator=G, discriminator=D, encoder=nets.encoder(**sizes), sanity_encoder=nets.encoder(**sizes))
    for prefix, net in out.items():
        p = prefix + "."
        net.load_state_dict({k[len(p) :]: v for k, v in state.items() if k.startswith(p)}, strict=True)
        net.eval()
    return out


@dataclass
class P5Emulator(TrainedEmulator):
    """P5's GAN and autoencoder of one set: ``sample(n, seed)``, ``encode``, ``reconstruct``, all in ppp.

    ``generator`` is the GAN's generator (the autoencoder's decoder), ``encoder`` the encoder
    trained on Eq. 7; images go in and come out in particles per pixel, ``(n, side, side)``.
    """

    encoder: Any = None
    transform: Any = None

    def to(self, device) -> P5Emulator:
        self.generator.to(device)
        self.encoder.to(device)
        return self

    def encode(self, images) -> np.ndarray:
        """The latent vectors ``E(x)`` ``(n, latent_dim)`` of images in ppp ``(n, side, side)``."""
        x = np.asarray(self.transform.forward(np.asarray(images, np.float64)), np.float32)
        if x.ndim != 3 or x.shape[1:] != (self.generator.side,) * 2:
            raise ValueError(
                f"images have shape {np.shape(images)}; accepted are (n, {self.generator.side}, {self.generator.side}) "
                "particles per pixel."
            )
        return _encode(self.encoder, x, str(self.device)).numpy()

    def decode(self, z) -> np.ndarray:
        """Images in ppp ``G(z)`` of latent vectors ``z`` ``(n, latent_dim)``."""
        y = _decode(self.generator, torch.as_tensor(np.asarray(z, np.float32)), str(self.device))
        return np.asarray(self.transform.inverse(y.astype(np.float64)), np.float32)

    def reconstruct(self, images) -> np.ndarray:
        """The inferred images ``G(E(x))`` (ppp) of images in ppp."""
        return self.decode(self.encode(images))


def emulator_from_record(name: str, record: dict, state: dict, device: str) -> P5Emulator:
    """The GAN and autoencoder of a verified P5 record as a :class:`P5Emulator` (called by ``emulators.load``)."""
    parts = _networks(record, state)
    G, E = parts["generator"].to(device), parts["encoder"].to(device)
    transform = _transform_from_record(record["transform"])
    em = TorchEmulator(G, transform, batch_size=int(record.get("batch_size", 64)))
    return P5Emulator(name, G, (), dict(record["meta"]), em, encoder=E, transform=transform)


def load_models(name: str, stem=None, device: str | None = None) -> SetModels:
    """The saved networks of set ``name`` at ``stem`` (default: the committed cpu-long ones) with their records."""
    from ..emulators import load_verified

    record, state = load_verified(f"p5_{name}", path=stem)
    parts = _networks(record, state)
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    meta = dict(record["meta"])
    t = meta["training"]
    g, a, s = t["gan"], t["autoencoder"], t["sanity"]
    gan = GanModel(
        parts["generator"].to(dev),
        parts["discriminator"].to(dev),
        dict(record["network"]["args"]),
        g["steps"],
        g["epochs"],
        g["n_train"],
        g["seconds"],
        g["best_step"],
        g["best_value"],
        g.get("history", []),
        [tuple(x) for x in g.get("selection", [])],
    )
    ae = AutoencoderModel(
        parts["encoder"].to(dev), a["steps"], a["epochs"], a["best_step"], a["best_loss"], a["seconds"], a["history"]
    )
    sanity = SanityCheck(parts["sanity_encoder"].to(dev), s["steps"], s["seconds"], s["history"], SANITY_PERCENTS)
    return SetModels(gan, ae, sanity, source=meta)
