r"""P1 (CosmoGAN, Mustafa et al. 2019): the steps of chapter ``01_cosmogan``, on the book's evaluation core.

One typed configuration, :class:`P1Config`, holds every size of the chapter (data, network,
training, evaluation) in one profile table. Each function is one arrow of the chapter and
returns a typed result:

* :func:`load_data` -> :class:`P1Data`: the P1 suite, its parent maps (or simulations) split
  into train / dev / test by parent (:func:`gancosmo.evaluation.protocol.split_by_parent`),
  tiled to the network's side, and the largest multipole the simulation resolves against
  pyccl's halofit Limber :math:`C_\ell` (:func:`resolved_ell`);
* :func:`train` -> :class:`P1Training`: P1's recipe with model selection by P1's chi-squared
  statistic (:class:`ChiSquaredSelector`, a :class:`gancosmo.train.selection.Selector`); the
  Trainer keeps the best generator (``restore_best``); the result holds a
  :class:`gancosmo.evaluation.sampling.TorchEmulator` in convergence units;
* :func:`evaluate` -> :class:`P1Evaluation`: per-map features (C_ell, per-map pixel
  histograms, Minkowski functionals with the border masked, random pixels) computed once for
  the test pool, the GAN set and the lognormal null set, scored over 39 parent-level
  real-vs-real splits (:func:`gancosmo.evaluation.protocol.score`), plus the rows without a
  real-vs-real analogue (memorisation, birthday paradox, speed, parameter counts), each with
  its criterion;
* :func:`run_meta` and :func:`summary_markdown`: the scorecard's ``meta`` and the chapter's
  summary, both from the run's numbers.

Units: maps are dimensionless convergence; multipoles ``ell`` follow from the map side in
degrees (the suite's ``field_deg`` for its maps, less for tiles); C_ell in steradians.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..config import ChapterConfig, option, require_training, writable_folder
from ..data.intensity import ConstantScale, Identity
from ..params import ParameterError
from ..scorecard import Row, find_row, git_commit
from ..sims.fidelity import RESOLUTION_TOLERANCE, resolved_max
from ..stats import correlation, minkowski_2d, nearest_neighbours, power_spectrum_2d
from ..train.selection import Selector
from .binned import binned_comparison, ks_two_sample
from .protocol import RowSpec, band_from_values, real_vs_real_splits, rows_from_scores, score, split_by_parent, subset
from .sampling import LognormalNull, TorchEmulator, generation_speed

__all__ = [
    "FIELD_DEG",
    "PAPER_PIX",
    "PAPER",
    "SPLIT_FRACTIONS",
    "P1Config",
    "tile_maps",
    "simulation_ids",
    "P1Data",
    "prepare_data",
    "load_data",
    "resolved_ell",
    "ell_edges",
    "log_power",
    "chi2_histogram_distance",
    "ChiSquaredSelector",
    "intensity_transform",
    "build_networks",
    "paper_parameter_counts",
    "P1Training",
    "train",
    "pixel_fractions",
    "pdf_edges",
    "minkowski_thresholds",
    "features",
    "compare",
    "bootstrapped_ks_fraction",
    "ROW_SPECS",
    "difference_curves",
    "P1Evaluation",
    "mirror_periodic",
    "null_maps",
    "evaluate",
    "nearest_training",
    "memorisation",
    "slerp",
    "interpolate",
    "pairwise_min_distances",
    "birthday_paradox",
    "criterion_rows",
    "git_commit",
    "run_meta",
    "timing_markdown",
    "summary_markdown",
]

#: Side of P1's 256-pixel maps in degrees (256 px crops of 1024 px maps over 12 deg^2). The book's
#: suite below ``paper`` has coarser pixels over a larger field (``suite_geometry``).
FIELD_DEG = math.sqrt(12.0) / 4
PAPER_PIX = 256


def suite_geometry(profile: str) -> tuple[int, float]:
    """``(n_pix, field_deg)`` of the P1 suite's maps at ``profile`` (pixels per side, degrees)."""
    from ..sims.suites import SIZES

    sizes = SIZES["p1"][profile]
    return int(sizes["n_pix"]), float(sizes["field_deg"])


#: P1's headline numbers (Sect. 3), as printed.
PAPER = dict(
    pixel_ks_p="> 0.999",
    n_modes=248,
    ps_ks_099=236,
    ps_ad_099=205,
    ps_ks_095=10,
    ps_ad_095=26,
    corr_gan_val=0.10,
    corr_val_aux=0.07,
    n_mf=57,
    mf_ks_095=40,
    mf_ad_095=32,
    maps_per_s=1024 / 15.0,
    distinct_maps=1e9,
    g_params_rows=12_824_449,
    g_params_printed="12.3M",
    d_params="4.4M",
)

#: Fractions of the *parents* in each set (P1: 62.5% training, 25% validation, 12.5% development).
SPLIT_FRACTIONS = {"train": 0.625, "dev": 0.125, "test": 0.25}

#: Training parent maps the lognormal null measures its spectrum and moments on (all of them at cpu).
NULL_TRAIN_MAX = 1024


# -------------------------------------------------------------------------- configuration
def _power_of_two_tile(v) -> bool:
    return (
        isinstance(v, int) and not isinstance(v, bool) and 16 <= v <= PAPER_PIX and PAPER_PIX % v == 0 and v % 16 == 0
    )


@dataclass(frozen=True)
class P1Config(ChapterConfig):
    r"""Every size and setting of chapter 01, one profile table (:attr:`PROFILES`).

    ``map_size`` below 256 cuts each 256-pixel suite map into non-overlapping tiles of that
    side after the split (the pixel scale, hence the physics per pixel, is kept; the field
    shrinks). ``intensity_scale`` multiplies the maps the networks see (generated maps are
    divided by it): 1 is P1's "no normalisation" (``gpu``, ``paper``). The short ``cpu`` run
    uses 10: with the raw maps (pixel std 0.012, a hundredth of the tanh range) 1,920 steps
    left the generated C_ell 1-2 dex below the data's on large scales; scaled by 10 (pixel
    std 0.12, 1e-5 of pixels beyond +-1) the same run came within 0.17 dex at every multipole
    (measured once each, before this refactoring). The ``gpu`` run is sized by arithmetic from
    an exploratory H100 run (3,200 steps of 64 maps in 94 s with model selection): 88 epochs
    of 20,480 training maps, about 14 min of training.
    """

    seed: int = option(doc="seed of the split, the network weights, the training run and the evaluation draws", low=0)
    # data
    n_maps: int = option(doc="256^2 suite maps simulated (the parents of the tiles)", low=8)
    n_sims: int = option(doc="PM simulations the suite maps are drawn from", low=1)
    parent: str = option(
        doc="what one parent of the split is: a 256^2 suite map or a whole simulation", choices=("map", "simulation")
    )
    map_size: int = option(
        doc="side of the maps the networks see; below 256 the suite maps are cut into tiles",
        check=_power_of_two_tile,
        describe="one of 16, 32, 64, 128, 256",
    )
    intensity_scale: float = option(
        doc="the networks see the maps times this; generated maps are divided by it (P1: 1)", low=0, low_open=True
    )
    # network
    emulator: str = option(
        doc="'train' a generator in this run, evaluate the 'committed' one the cpu-long run trained "
        "(gancosmo.emulators.load('p1')), or evaluate the emulator saved at a path (its file name without "
        "'.safetensors')",
        check=lambda v: isinstance(v, str) and bool(v.strip()),
        describe="'train', 'committed' or the path of a saved emulator (without '.safetensors')",
    )
    base_filters: int = option(doc="width of the networks: channels 8, 4, 2, 1 times it (P1: 64)", low=1)
    # training
    epochs: float = option(
        doc="training epochs (P1: 47, the generator chosen over the last select_epochs)", low=0, low_open=True
    )
    batch_size: int = option(doc="maps per batch (P1: 64)", low=1)
    label_flip: float = option(
        doc="probability that a discriminator batch has its labels swapped (P1: 0.01)", low=0, high=1, high_open=True
    )
    loss: str = option(doc="'bce' (P1's non-saturating cross-entropy) or 'wgan-gp'", choices=("bce", "wgan-gp"))
    lr: float = option(doc="Adam learning rate of both networks (P1: 2e-4)", low=0, low_open=True, high=1)
    beta1: float = option(doc="Adam beta1 (P1: 0.5)", low=0, high=1, high_open=True)
    select_epochs: float = option(doc="model selection runs over the last this many epochs (P1: 2)", low=0)
    select_every: int = option(doc="model selection every this many generator steps (P1: 1)", low=1)
    n_select: int = option(doc="generated maps per model-selection evaluation (P1: 6400)", low=2)
    # evaluation
    n_generate: int = option(doc="maps on each side of every comparison: the GAN set, test A and test B", low=2)
    n_splits: int = option(doc="random parent-level real-vs-real splits of the band (>= 20)", low=20)
    n_thresholds: int = option(doc="Minkowski thresholds between mean - 2 sigma and mean + 4 sigma (P1: 19)", low=2)
    speed_maps: int = option(doc="maps generated to time the generator (P1: 1024)", low=1)
    n_nn: int = option(doc="GAN maps shown with their nearest training maps (Fig. 7)", low=1)
    device: str | None = option(
        doc="'cpu' or 'cuda' (None: cuda when available)", choices=("cpu", "cuda"), nullable=True
    )
    results_dir: str | None = option(
        doc="folder to write scorecard_p1_{profile}.json and the figures into, or None", nullable=True
    )

    PROFILES = {}  # filled below the class

    # ------------------------------------------------------------------ derived sizes
    @property
    def tiles_per_map(self) -> int:
        return (suite_geometry(self.profile)[0] // self.map_size) ** 2

    @property
    def parents(self) -> int:
        return self.n_maps if self.parent == "map" else self.n_sims

    @property
    def test_parents(self) -> int:
        """Parents the split deals to the test pool (as :func:`split_by_parent` counts them)."""
        return len(np.unique(split_by_parent(np.arange(self.parents), SPLIT_FRACTIONS, seed=0)["test"]))

    @property
    def samples_per_parent(self) -> int:
        """Tiles of one parent (the smallest, when the simulations hold unequal numbers of maps)."""
        per_sim = int(np.diff(np.linspace(0, self.n_maps, self.n_sims + 1).round()).min())
        return self.tiles_per_map * (1 if self.parent == "map" else per_sim)

    @property
    def transform(self):
        return intensity_transform(self.intensity_scale)

    def check(self) -> None:
        suite_pix = suite_geometry(self.profile)[0]
        if self.map_size > suite_pix:
            raise ParameterError(
                f"parameter 'map_size' ({self.map_size}) must not exceed the {self.profile} suite's maps "
                f"({suite_pix} pixels); accepted are powers of two from 16 to {suite_pix}."
            )
        if self.n_sims > self.n_maps:
            raise ParameterError(
                f"parameter 'n_sims' ({self.n_sims}) must not exceed 'n_maps' ({self.n_maps}): "
                "every simulation gives at least one map."
            )
        if self.parents < 3:
            raise ParameterError(
                f"parameter 'parent' is {self.parent!r} but the suite has {self.parents} such parents; "
                "accepted are at least 3 (train, dev, test) — use parent 'map' or more simulations."
            )
        n_train = (
            len(split_by_parent(np.arange(self.parents), SPLIT_FRACTIONS, seed=0)["train"]) * self.samples_per_parent
        )
        require_training(self.epochs, n_train, self.batch_size, samples="training maps")
        need = 2 * math.ceil(self.n_generate / self.samples_per_parent)
        if need > self.test_parents:
            most = self.test_parents // 2 * self.samples_per_parent
            raise ParameterError(
                f"parameter 'n_generate' ({self.n_generate}) needs {need} test parents for two "
                f"parent-disjoint sets, but the test pool gets {self.test_parents}; accepted here is "
                f"n_generate <= {most} (or more n_maps)."
            )
        if self.loss != "bce" and self.label_flip:
            raise ParameterError(
                f"parameter 'label_flip' applies to loss 'bce' only; with loss {self.loss!r} it must be 0, "
                f"got {self.label_flip!r}."
            )
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError(
                "parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None."
            )
        if self.results_dir is not None and not writable_folder(self.results_dir):
            raise ParameterError(
                f"parameter 'results_dir' must be a folder this process can write into; {self.results_dir!r} is not."
            )

    @property
    def emulator_path(self) -> str | None:
        """The saved emulator's file stem when ``emulator`` names one, None for 'train' and 'committed'."""
        return None if self.emulator in ("train", "committed") else self.emulator

    def check_inputs(self) -> None:
        if self.emulator == "train":
            return
        from ..emulators import EmulatorError, read_record

        try:
            meta = read_record("p1", path=self.emulator_path)["meta"]
        except EmulatorError as exc:
            raise ParameterError(
                f"parameter 'emulator' is {self.emulator!r} but {exc} Accepted here is emulator 'train'."
            ) from None
        if suite_geometry(self.profile) != suite_geometry(meta["profile"]):
            raise ParameterError(
                f"parameter 'emulator' is {self.emulator!r} but that generator was trained on the "
                f"{meta['profile']} recipe ({meta['map_size']}^2 px over {meta['field_deg']} deg) and profile "
                f"{self.profile!r} makes other maps; accepted here is emulator 'train'."
            )
        if self.map_size != meta["map_size"]:
            raise ParameterError(
                f"parameter 'map_size' ({self.map_size}) differs from the committed generator's maps "
                f"({meta['map_size']}^2 px); with emulator 'committed' accepted is map_size {meta['map_size']}."
            )

    @property
    def resolved_device(self) -> str:
        return self.device or ("cuda" if torch.cuda.is_available() else "cpu")

    def suite_options(self) -> dict:
        """Size overrides passed to ``load_suite("p1", profile, ...)``."""
        return dict(n_maps=self.n_maps, n_sims=self.n_sims)


_COMMON = dict(
    seed=0,
    parent="map",
    label_flip=0.01,
    loss="bce",
    lr=2e-4,
    beta1=0.5,
    select_epochs=2.0,
    n_splits=39,
    n_thresholds=19,
    n_nn=4,
    device=None,
    results_dir=None,
)
P1Config.PROFILES.update(
    {
        "smoke": P1Config(
            profile="smoke",
            emulator="train",
            n_maps=64,
            n_sims=1,
            map_size=64,
            intensity_scale=10.0,
            base_filters=8,
            epochs=1.0,
            batch_size=16,
            select_every=1,
            n_select=16,
            n_generate=8,
            speed_maps=64,
            **{**_COMMON, "select_epochs": 0.5},
        ),
        "cpu": P1Config(
            profile="cpu",
            emulator="committed",
            n_maps=2048,
            n_sims=4,
            map_size=64,
            intensity_scale=10.0,
            base_filters=8,
            epochs=48.0,
            batch_size=64,
            select_every=5,
            n_select=256,
            n_generate=256,
            speed_maps=1024,
            **_COMMON,
        ),
        "cpu-long": P1Config(
            profile="cpu-long",
            emulator="train",
            n_maps=8192,
            n_sims=16,
            map_size=64,
            intensity_scale=10.0,
            base_filters=32,
            epochs=80.0,
            batch_size=64,
            select_every=10,
            n_select=512,
            n_generate=1024,
            speed_maps=1024,
            **_COMMON,
        ),
        "gpu": P1Config(
            profile="gpu",
            emulator="train",
            n_maps=32768,
            n_sims=16,
            map_size=128,
            intensity_scale=1.0,
            base_filters=64,
            epochs=88.0,
            batch_size=64,
            select_every=10,
            n_select=1024,
            n_generate=4096,
            speed_maps=6400,
            **_COMMON,
        ),
        "paper": P1Config(
            profile="paper",
            emulator="train",
            n_maps=200000,
            n_sims=1000,
            map_size=256,
            intensity_scale=1.0,
            base_filters=64,
            epochs=47.0,
            batch_size=64,
            select_every=1,
            n_select=6400,
            n_generate=6400,
            speed_maps=6400,
            **{**_COMMON, "parent": "simulation"},
        ),
    }
)


def intensity_transform(scale: float):
    """:class:`ConstantScale` by ``scale``, or :class:`Identity` for P1's 1 (no copy of the full-size sets)."""
    return Identity() if float(scale) == 1.0 else ConstantScale(float(scale))


# -------------------------------------------------------------------------- data
def tile_maps(maps: np.ndarray, size: int) -> np.ndarray:
    """Cut ``(N, n, n)`` maps into non-overlapping ``(N * (n // size)**2, size, size)`` tiles.

    Tiles of one map stay together (map 0's tiles first), so parent ids repeat ``(n // size)**2`` times.
    """
    maps = np.asarray(maps)
    n = maps.shape[-1]
    if size > n or n % size:
        raise ValueError(f"tile size {size} must divide the map side {n}.")
    k = n // size
    t = maps.reshape(maps.shape[0], k, size, k, size).transpose(0, 1, 3, 2, 4)
    return np.ascontiguousarray(t.reshape(-1, size, size))


def simulation_ids(n_maps: int, n_sims: int) -> np.ndarray:
    """The simulation each suite map comes from (the P1 suite stores them simulation by simulation)."""
    per_sim = np.diff(np.linspace(0, n_maps, n_sims + 1).round().astype(int))
    return np.repeat(np.arange(n_sims), per_sim)


@dataclass
class P1Data:
    """Tiles of the train, dev and test sets (convergence), with the parent id of every tile.

    ``test_parents`` indexes the test pool for :func:`real_vs_real_splits`; dev serves model
    selection only. ``resolved`` is :func:`resolved_ell` of the training parent maps.
    """

    train: np.ndarray
    dev: np.ndarray
    test: np.ndarray
    train_parents: np.ndarray
    dev_parents: np.ndarray
    test_parents: np.ndarray
    side_deg: float
    parent: str
    n_suite_maps: int
    n_sims: int
    pixel_range: tuple
    train_maps: np.ndarray  # the (untiled) training parent maps, at most NULL_TRAIN_MAX of them
    parent_side_deg: float
    resolved: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def map_size(self) -> int:
        return self.train.shape[-1]

    def describe(self) -> str:
        """Markdown: sizes, parents, pixel range (all from the data)."""
        n_parent = {k: len(np.unique(getattr(self, f"{k}_parents"))) for k in ("train", "dev", "test")}
        lo, hi, sd, inside = self.pixel_range
        res = self.resolved
        return (
            f"{self.n_suite_maps} suite maps of 256$^2$ pixels from {self.n_sims} simulation(s), split by "
            f"**{self.parent}**: train {len(self.train)} tiles ({n_parent['train']} parents), dev {len(self.dev)} "
            f"({n_parent['dev']}), test pool {len(self.test)} ({n_parent['test']}); tiles of {self.map_size}$^2$ "
            f"pixels, {self.side_deg:.4f} deg on a side. Pixels in [{lo:.4f}, {hi:.4f}], standard deviation "
            f"{sd:.4f}; {100 * inside:.4f}% inside [-1, 1]. Simulated over halofit Limber $C_\\ell$: "
            f"{res['ratio_at_tile_fundamental']:.2f} at the tiles' fundamental "
            f"$\\ell$ = {res['tile_fundamental']:.0f}; "
            f"resolved (within {100 * res['tolerance']:.0f}% of it) up to $\\ell$ = {res['resolved_max']:.0f}; "
            "the tiles' Nyquist "
            f"multipole is {res['tile_nyquist']:.0f}."
        )


def prepare_data(
    maps: np.ndarray, sims: np.ndarray, map_size: int, parent: str = "map", seed: int = 0, side_deg: float = FIELD_DEG
) -> P1Data:
    """Split the suite's maps by parent (map or simulation), then tile every set to ``map_size``.

    Parameters
    ----------
    maps : numpy.ndarray
        ``(N, n, n)`` suite maps (convergence).
    sims : numpy.ndarray
        ``(N,)`` simulation id of every map (:func:`simulation_ids`).
    parent : {"map", "simulation"}
        The unit that never straddles two sets (or two sides of a comparison).
    """
    maps = np.asarray(maps)
    if parent not in ("map", "simulation"):
        raise ValueError(f"parent must be 'map' or 'simulation', got {parent!r}.")
    ids = np.arange(len(maps)) if parent == "map" else np.asarray(sims)
    if ids.shape != (len(maps),):
        raise ValueError(f"sims has shape {np.shape(sims)}; accepted is one simulation id per map ({len(maps)},).")
    sets = split_by_parent(ids, SPLIT_FRACTIONS, seed=seed)
    per = (maps.shape[-1] // map_size) ** 2
    out = dict(train_maps=np.array(maps[sets["train"][:NULL_TRAIN_MAX]]), parent_side_deg=float(side_deg))
    for name, idx in sets.items():
        out[name] = tile_maps(maps[idx], map_size)
        out[f"{name}_parents"] = np.repeat(ids[idx], per)
    inside = float(np.mean(np.abs(maps) <= 1))
    return P1Data(
        side_deg=side_deg * map_size / maps.shape[-1],
        parent=parent,
        n_suite_maps=len(maps),
        n_sims=len(np.unique(sims)),
        pixel_range=(float(maps.min()), float(maps.max()), float(maps.std()), inside),
        **out,
    )


def resolved_ell(
    maps: np.ndarray,
    side_deg: float,
    cosmology: dict,
    z_source: float = 1.0,
    tolerance: float = RESOLUTION_TOLERANCE,
    tile_size: int | None = None,
    device=None,
) -> dict:
    r"""The largest multipole the simulated maps resolve: their mean C_ell within ``tolerance`` (20%) of theory.

    The theory is pyccl's Limber :math:`C_\ell` with halofit :math:`P(k)` for sources at
    ``z_source``, evaluated at the centre of each bin one fundamental mode
    :math:`\ell_f = 360/\theta` wide. ``resolved_max`` is the centre of the last bin, from
    :math:`2\ell_f` on, before the first one off by more than ``tolerance``
    (:func:`gancosmo.sims.fidelity.resolved_max`).

    Returns
    -------
    dict
        ``ell``, ``ratio`` (per bin), ``resolved_max``, ``tolerance``, and with ``tile_size``
        the tiles' fundamental and Nyquist multipoles and the ratio at the tiles' fundamental.
    """
    from ..cosmology import Cosmology

    n = maps.shape[-1]
    edges = ell_edges(n, side_deg)
    ell, cl = power_spectrum_2d(np.asarray(maps, np.float64), side_deg, edges, device=device)
    theory = Cosmology(**cosmology).convergence_cl(ell, z_source=z_source)
    ratio = cl.mean(0) / theory
    found = resolved_max(ell, ratio, 2 * 360.0 / side_deg, tolerance)
    out = dict(ell=ell, ratio=ratio, tolerance=tolerance, resolved_max=float(edges[0]) if np.isnan(found) else found)
    if tile_size is not None:
        tile_side = side_deg * tile_size / n
        fund, nyq = 360.0 / tile_side, 360.0 / tile_side * tile_size / 2
        out.update(
            tile_fundamental=fund, tile_nyquist=nyq, ratio_at_tile_fundamental=float(np.interp(fund, ell, ratio))
        )
    return out


def load_data(cfg: P1Config, progress: bool = False) -> P1Data:
    """Load (or simulate) the P1 suite at ``cfg``'s sizes and split it (:func:`prepare_data`)."""
    from ..sims import load_suite
    from ..sims.suites import P1_COSMOLOGY

    t0 = time.perf_counter()
    suite = load_suite("p1", profile=cfg.profile, device=cfg.resolved_device, progress=progress, **cfg.suite_options())
    maps = suite["maps"]
    field_deg = suite.config["field_deg"]
    data = prepare_data(
        maps, simulation_ids(len(maps), cfg.n_sims), cfg.map_size, cfg.parent, seed=cfg.seed, side_deg=field_deg
    )
    data.resolved = resolved_ell(
        data.train_maps[:1024], field_deg, P1_COSMOLOGY, tile_size=cfg.map_size, device=cfg.resolved_device
    )
    data.resolved["chapter_resolved_max"] = data.resolved["resolved_max"]
    suite_resolved = suite.config.get("resolved_max")
    if suite_resolved is not None and cfg.map_size == suite_geometry(cfg.profile)[0]:
        # chapter 00's measurement on all of the suite's maps, in its coarser bins: one rule for the book
        data.resolved["resolved_max"] = float(suite_resolved)
        data.resolved["source"] = "suite"
    else:
        data.resolved["source"] = "chapter"
    data.seconds = time.perf_counter() - t0
    return data


# -------------------------------------------------------------------------- power spectrum, model selection
def ell_edges(map_size: int, side_deg: float) -> np.ndarray:
    """One bin per fundamental ring, from the fundamental to the Nyquist multipole.

    ``map_size // 2`` edges spaced by ``ell_f = 360 / side_deg`` from ``ell_f`` (so
    ``map_size // 2 - 1`` bins; P1's lenstools binning gave 248 modes, not specified further).
    """
    ell_f = 360.0 / side_deg
    return ell_f * np.arange(1, map_size // 2 + 1, dtype=float)


def log_power(maps, side_deg: float, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ell, log10 C_ell)`` of a batch of maps (C_ell in sr)."""
    ell, cl = power_spectrum_2d(maps, side_deg, edges)
    return ell, np.log10(np.maximum(cl, 1e-30))


def chi2_histogram_distance(stat_fake: np.ndarray, stat_ref: np.ndarray, n_hist: int = 20) -> float:
    r"""P1's model-selection statistic: chi-squared distance between histograms, per bin.

    For every column (Fourier mode) the values of both samples are histogrammed on the
    same ``n_hist`` edges (the reference's range widened by half its width on each side;
    values outside go to the edge bins), normalised to unit sum, and
    :math:`\chi^2 = \sum_h (p_h - q_h)^2 / (p_h + q_h)` is averaged over the columns.
    It is 0 for identical samples and grows (to at most 2) as they separate.
    """
    a, b = np.atleast_2d(np.asarray(stat_fake, float)), np.atleast_2d(np.asarray(stat_ref, float))
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"the samples have {a.shape[1]} and {b.shape[1]} bins; accepted are samples with the same bins."
        )
    total = 0.0
    for j in range(a.shape[1]):
        lo, hi = b[:, j].min(), b[:, j].max()
        width = max(hi - lo, 1e-12 * max(abs(lo), 1.0))
        e = np.linspace(lo - 0.5 * width, hi + 0.5 * width, n_hist + 1)
        p = np.bincount(np.clip(np.searchsorted(e, a[:, j], side="right") - 1, 0, n_hist - 1), minlength=n_hist) / len(
            a
        )
        q = np.bincount(np.clip(np.searchsorted(e, b[:, j], side="right") - 1, 0, n_hist - 1), minlength=n_hist) / len(
            b
        )
        s = p + q
        ok = s > 0
        total += float(np.sum((p[ok] - q[ok]) ** 2 / s[ok]))
    return total / a.shape[1]


class ChiSquaredSelector(Selector):
    """P1's model selection: chi-squared of log C_ell histograms of generated against development maps.

    Parameters
    ----------
    development : numpy.ndarray
        ``(N, H, W)`` development maps in convergence units.
    side_deg : float
        Side of the maps in degrees.
    n_samples : int
        Generated maps per evaluation (P1: 6400).
    seed : int
        Latent seed (the same latents at every evaluation, so values are comparable).
    transform : IntensityTransform, optional
        Network -> convergence units of the generator (default :class:`Identity`).
    """

    def __init__(
        self,
        development: np.ndarray,
        side_deg: float,
        n_samples: int,
        seed: int = 0,
        transform=None,
        batch_size: int = 256,
    ):
        super().__init__()
        self.side_deg, self.n_samples, self.seed, self.batch_size = side_deg, int(n_samples), int(seed), int(batch_size)
        self.transform = transform if transform is not None else Identity()
        self.edges = ell_edges(development.shape[-1], side_deg)
        self.reference = log_power(development, side_deg, self.edges)[1]

    def distance(self, G) -> float:
        fake = TorchEmulator(G, self.transform, batch_size=self.batch_size).sample(self.n_samples, seed=self.seed)
        if not np.isfinite(fake).all():
            return float("inf")
        return chi2_histogram_distance(log_power(fake, self.side_deg, self.edges)[1], self.reference)


# -------------------------------------------------------------------------- networks and training
def build_networks(cfg: P1Config, seed: int | None = None):
    """P1's generator and discriminator at ``cfg``'s width and map side, DCGAN-initialised."""
    from ..models.cosmogan import cosmogan

    return cosmogan(base_filters=cfg.base_filters, map_size=cfg.map_size, seed=cfg.seed if seed is None else seed)


def paper_parameter_counts() -> dict:
    """Parameter counts of the paper-size networks (Tables 1 and 2)."""
    from ..models.cosmogan import cosmogan, count_parameters, paper_sizes

    G, D = cosmogan(**paper_sizes(), seed=0)
    return dict(generator=count_parameters(G), discriminator=count_parameters(D))


@dataclass
class P1Training:
    """A trained (and model-selected) generator, as a network and as an emulator in convergence units."""

    generator: torch.nn.Module
    emulator: TorchEmulator
    history: list
    selection: list
    best_step: int | None
    best_value: float | None
    steps: int
    epochs: float
    n_train: int
    n_dev: int
    generator_parameters: int
    discriminator_parameters: int
    seconds: float
    device_settings: dict | None = None
    source: dict | None = None  # the committed run (profile, seed, git_commit) when loaded, None when trained here

    def describe(self) -> str:
        text = (
            f"The saved generator of the {self.source['profile']} run (seed {self.source['seed']}, commit "
            f"{str(self.source['git_commit'])[:7]}), loaded with its training record: "
            if self.source
            else ""
        )
        text += (
            f"{self.steps:,} generator steps ({self.epochs:.2f} epochs of {self.n_train} maps) "
            f"in {self.seconds:.0f} s; "
            f"networks of {self.generator_parameters:,} (generator) and {self.discriminator_parameters:,} "
            f"(discriminator) parameters. "
        )
        if self.best_step is None:
            return text + "No model-selection evaluation happened (too few steps): the final generator is used."
        return text + (
            f"Selected the generator of step {self.best_step:,} (chi-squared {self.best_value:.4f} against "
            f"{self.n_dev} development maps; {len(self.selection)} evaluations)."
        )


def train_config(cfg: P1Config, progress: bool = True):
    """The :class:`gancosmo.train.TrainConfig` of P1's recipe at ``cfg``'s sizes and rates."""
    from ..train import TrainConfig

    return TrainConfig.p1(
        loss=cfg.loss,
        label_flip=cfg.label_flip,
        lr_g=cfg.lr,
        lr_d=cfg.lr,
        betas=(cfg.beta1, 0.999),
        batch_size=cfg.batch_size,
        epochs=cfg.epochs,
        select_from_epoch=max(0.0, cfg.epochs - cfg.select_epochs),
        select_every=cfg.select_every,
        seed=cfg.seed,
        device=cfg.resolved_device,
        progress=progress,
        tensorboard=False,
        log_every=5,
    )


def train(cfg: P1Config, data: P1Data, progress: bool = True) -> P1Training:
    """Train P1's networks with P1's recipe; keep the generator chosen by :class:`ChiSquaredSelector` on dev."""
    from ..models.cosmogan import count_parameters
    from ..train import Trainer

    G, D = build_networks(cfg)
    transform = cfg.transform
    config = train_config(cfg, progress)
    selector = ChiSquaredSelector(
        data.dev, data.side_deg, n_samples=min(cfg.n_select, 4 * len(data.dev)), seed=cfg.seed + 1, transform=transform
    )
    trainer = Trainer(G, D, transform.forward(data.train), config, statistic=selector)
    t0 = time.perf_counter()
    result = trainer.fit()
    seconds = time.perf_counter() - t0
    trainer.restore_best()
    G = trainer.G_raw.eval()
    return P1Training(
        generator=G,
        emulator=TorchEmulator(G, transform, batch_size=256),
        history=result["history"],
        selection=list(selector.history),
        best_step=trainer.best_step,
        best_value=trainer.best_value,
        steps=result["step"],
        epochs=float(result["epochs"]),
        n_train=len(data.train),
        n_dev=len(data.dev),
        generator_parameters=count_parameters(G),
        discriminator_parameters=count_parameters(D),
        seconds=seconds,
    )


def emulator_meta(cfg: P1Config, data: P1Data, training: P1Training) -> dict:
    """The ``meta`` of the emulator record (:func:`gancosmo.emulators.save_emulator`) of a trained P1 generator."""
    from ..sims.suites import P1_COSMOLOGY

    return dict(
        suite="p1",
        profile=cfg.profile,
        from_suite="same" if cfg.map_size == suite_geometry(cfg.profile)[0] else "tiles",
        field_deg=data.side_deg,
        map_size=data.map_size,
        resolved_max=data.resolved.get("resolved_max"),
        scored_max=data.resolved.get("tile_nyquist"),
        units="convergence kappa (sources at z_s = 1)",
        cosmology=dict(P1_COSMOLOGY),
        seed=cfg.seed,
        git_commit=git_commit(),
        config=cfg.to_dict(),
        training=dict(
            steps=training.steps,
            epochs=training.epochs,
            seconds=training.seconds,
            n_train=training.n_train,
            n_dev=training.n_dev,
            selected_step=training.best_step,
            selected_chi2=training.best_value,
            generator_parameters=training.generator_parameters,
            discriminator_parameters=training.discriminator_parameters,
            device_settings=training.device_settings,
            history=training.history,
            selection=[list(map(float, s)) for s in training.selection],
        ),
    )


def save_trained(cfg: P1Config, data: P1Data, training: P1Training, results_dir) -> Path:
    """Write the trained generator as ``emulator_p1_{profile}`` (safetensors + JSON) into ``results_dir``."""
    from ..emulators import save_emulator

    return save_emulator(
        Path(results_dir) / f"emulator_p1_{cfg.profile}",
        training.generator,
        builder="cosmogan",
        args=dict(base_filters=cfg.base_filters, map_size=cfg.map_size),
        transform=cfg.transform,
        meta=emulator_meta(cfg, data, training),
        batch_size=256,
    )


def committed_training(device: str | None = None, path: str | None = None) -> P1Training:
    """The committed ``cpu-long`` generator (:func:`gancosmo.emulators.load`), or the one saved at ``path``,
    with its training record."""
    from ..emulators import load

    trained = load("p1", device=device, path=path)
    t = trained.meta["training"]
    return P1Training(
        generator=trained.generator,
        emulator=trained.emulator,
        history=t["history"],
        selection=[tuple(s) for s in t["selection"]],
        best_step=t["selected_step"],
        best_value=t["selected_chi2"],
        steps=t["steps"],
        epochs=t["epochs"],
        n_train=t["n_train"],
        n_dev=t["n_dev"],
        generator_parameters=t["generator_parameters"],
        discriminator_parameters=t["discriminator_parameters"],
        seconds=t["seconds"],
        device_settings=t.get("device_settings"),
        source=dict(
            profile=trained.meta["profile"],
            seed=trained.meta["seed"],
            git_commit=trained.meta["git_commit"],
        ),
    )


# -------------------------------------------------------------------------- features and comparison
#: Quantile levels of the training pixels that bound the per-map pixel-histogram bins (plus two open tails).
PDF_LEVELS = (0.001, 0.01, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99, 0.999)
#: Random pixels drawn per map for the KS test of one pixel per map (P1's Fig. 2 test).
PIXEL_DRAWS = 20
#: Bootstrap rounds of the "as in the paper" KS row.
N_BOOT = 20


def pdf_edges(training: np.ndarray, levels=PDF_LEVELS) -> np.ndarray:
    """Inner edges of the per-map pixel histogram: quantiles of the training pixels."""
    return np.quantile(np.asarray(training, np.float64), levels)


def pixel_fractions(maps: np.ndarray, edges: np.ndarray, chunk: int = 256) -> np.ndarray:
    """``(N, len(edges) + 1)`` fraction of each map's pixels in each bin (two open tails included)."""
    x = np.asarray(maps).reshape(len(maps), -1)
    nb = len(edges) + 1
    out = np.zeros((len(x), nb))
    for s in range(0, len(x), chunk):
        idx = np.searchsorted(np.asarray(edges), x[s : s + chunk], side="right")
        slot = idx + nb * np.arange(len(idx))[:, None]
        out[s : s + chunk] = np.bincount(slot.ravel(), minlength=nb * len(idx)).reshape(len(idx), nb)
    return out / max(x.shape[1], 1)


def minkowski_thresholds(training: np.ndarray, n_thresholds: int = 19) -> np.ndarray:
    """``n_thresholds + 1`` edges from mean - 2 sigma to mean + 4 sigma of the training pixels (19 thresholds as P1)."""
    m, s = float(np.mean(training)), float(np.std(training))
    return np.linspace(m - 2 * s, m + 4 * s, n_thresholds + 1)


def features(
    maps: np.ndarray,
    side_deg: float,
    edges: np.ndarray,
    pdf_bins: np.ndarray,
    thresholds: np.ndarray,
    seed: int = 0,
    device=None,
) -> dict:
    """The per-map statistics every row reads, computed once per set.

    ``cl`` ``(N, nb)`` C_ell; ``pdf`` ``(N, 12)`` pixel fractions per bin; ``v0``, ``v1``, ``v2``
    ``(N, n_thresholds)`` Minkowski functionals on the interior (the 2-pixel border, whose
    finite-difference stencils would cross the edge of a non-periodic map, is masked);
    ``pixels`` ``(N, 20)`` random pixels of each map. ``device``: where C_ell and the
    Minkowski functionals are computed (default: the CPU).
    """
    maps = np.asarray(maps, np.float32)
    _, cl = power_spectrum_2d(maps, side_deg, edges, device=device)
    _, v0, v1, v2 = minkowski_2d(maps, thresholds, device=device, boundary="mask")
    rng = np.random.default_rng(seed)
    flat = maps.reshape(len(maps), -1)
    pixels = np.take_along_axis(flat, rng.integers(0, flat.shape[1], (len(maps), PIXEL_DRAWS)), axis=1)
    return dict(cl=cl, pdf=pixel_fractions(maps, pdf_bins), v0=v0, v1=v1, v2=v2, pixels=pixels.astype(np.float64))


def bootstrapped_ks_fraction(
    real: np.ndarray, other: np.ndarray, level: float = 0.99, n_boot: int = N_BOOT, seed: int = 0
) -> float:
    """P1's form: fraction of bins whose median bootstrapped two-sample KS p-value exceeds ``level``.

    Both sets are resampled with replacement ``n_boot`` times; per bin the median p-value is
    compared with ``level``. Not calibrated: under the null the median p rarely exceeds 0.95.
    """
    rng = np.random.default_rng(seed)
    p = []
    for _ in range(n_boot):
        a = real[rng.integers(0, len(real), len(real))]
        b = other[rng.integers(0, len(other), len(other))]
        p.append(ks_two_sample(a, b))
    return float(np.mean(np.median(np.stack(p), axis=0) > level))


def _correlation_rows(real: np.ndarray, other: np.ndarray) -> dict:
    with np.errstate(invalid="ignore", divide="ignore"):
        ra, rb = correlation(real), correlation(other)
    d = (ra - rb)[~np.eye(len(ra), dtype=bool)]
    d = d[np.isfinite(d)]
    big = float(np.max(np.abs(d))) if len(d) else float("nan")
    rms = float(np.sqrt(np.mean(d**2))) if len(d) else float("nan")
    return dict(corr_max_abs_diff=big, corr_rms_diff=rms)


def compare(real: dict, other: dict, resolved_bins: np.ndarray | None = None) -> dict:
    """All scored statistics of ``other`` against ``real`` (feature sets of equal size; see :func:`features`).

    Scalars (scored): the :func:`binned_comparison` keys of ``cl``, ``pdf``, ``mf_v0``, ``mf_v1``,
    ``mf_v2``, and ``cl_resolved`` (the bins of ``resolved_bins``; NaN when none); ``corr_max_abs_diff``
    and ``corr_rms_diff`` of the C_ell correlation matrices; ``pixel_ks_p`` (median over 20 draws of
    the KS p-value of one random pixel per map); ``cl_boot_ks_099`` (P1's bootstrapped form).
    Arrays: the per-bin ``_frac`` and ``_pull`` curves and per-bin KS p-values ``{prefix}_ks_p``.
    """
    out = {}
    for prefix, key in (("cl", "cl"), ("pdf", "pdf"), ("mf_v0", "v0"), ("mf_v1", "v1"), ("mf_v2", "v2")):
        out.update(binned_comparison(real[key], other[key], prefix))
        out[f"{prefix}_ks_p"] = ks_two_sample(real[key], other[key])
    sel = np.zeros(0, int) if resolved_bins is None else np.asarray(resolved_bins, int)
    if len(sel):
        res = binned_comparison(real["cl"][:, sel], other["cl"][:, sel], "cl_resolved")
        out.update({k: v for k, v in res.items() if np.ndim(v) == 0})
    else:
        out.update({f"cl_resolved_{k}": float("nan") for k in ("mean_abs_frac", "max_abs_frac", "chi2_dof")})
    with np.errstate(invalid="ignore", divide="ignore"):
        std_ratio = np.std(other["cl"], axis=0, ddof=1) / np.std(real["cl"], axis=0, ddof=1)
    out["cl_std_ratio"] = std_ratio
    out["cl_std_ratio_max_dev"] = float(np.nanmax(np.abs(std_ratio - 1))) if np.isfinite(std_ratio).any() else np.nan
    out.update(_correlation_rows(real["cl"], other["cl"]))
    out["pixel_ks_p"] = float(np.median(ks_two_sample(real["pixels"], other["pixels"])))
    out["cl_boot_ks_099"] = bootstrapped_ks_fraction(real["cl"], other["cl"])
    return out


def _specs(n_modes: int, n_mf: int, resolved_max: float) -> list[RowSpec]:
    binned = "gancosmo.evaluation.binned.binned_comparison"
    specs = [
        RowSpec(
            "cl_mean_abs_frac",
            "C_ell: mean |fractional difference| of the mean over modes (Fig. 3)",
            notes=f"{n_modes} modes, fundamental to Nyquist; {binned}",
        ),
        RowSpec("cl_chi2_dof", "C_ell: chi^2/dof with the real covariance (Fig. 3)", notes=f"{n_modes} modes"),
        RowSpec(
            "cl_max_abs_pull",
            "C_ell: largest |pull| over modes (Fig. 3; a checkerboard shows as one large pull)",
            notes="difference of means / standard error",
            sided="upper",
            target=3.0,
        ),
        RowSpec(
            "cl_std_ratio_max_dev",
            "C_ell: largest |map-to-map std ratio - 1| over modes (GAN / real)",
            notes="the scatter of C_ell between maps, per mode",
            sided="upper",
            target=0.1,
        ),
        RowSpec(
            "cl_ks_reject",
            "C_ell: fraction of modes where a two-sample KS test rejects at 5% (Fig. 3)",
            paper=f"{PAPER['ps_ks_099']}/{PAPER['n_modes']} with bootstrapped p > 0.99",
            notes="about 0.05 for real vs real",
        ),
        RowSpec(
            "cl_ad_reject",
            "C_ell: fraction of modes where a two-sample Anderson-Darling test rejects at 5% (Fig. 3)",
            paper=f"{PAPER['ps_ad_099']}/{PAPER['n_modes']} with bootstrapped p > 0.99",
            notes="Scholz-Stephens A2kN",
        ),
        RowSpec(
            "cl_resolved_mean_abs_frac",
            "C_ell over the modes the simulation resolves: mean |fractional difference|",
            notes=f"modes with ell <= resolved_max = {resolved_max:.0f} (simulated C_ell within 20% of halofit); "
            "untestable when the tiles have none",
        ),
        RowSpec(
            "cl_resolved_max_abs_frac",
            "C_ell over the modes the simulation resolves: largest |fractional difference| of the mean",
            notes=f"modes with ell <= {resolved_max:.0f}",
            sided="upper",
            target=0.05,
        ),
        RowSpec(
            "cl_resolved_chi2_dof",
            "C_ell over the modes the simulation resolves: chi^2/dof",
            notes=f"modes with ell <= {resolved_max:.0f}",
        ),
        RowSpec(
            "cl_boot_ks_099",
            "C_ell: fraction of modes with bootstrapped KS p > 0.99 (as in the paper, Fig. 3)",
            paper=PAPER["ps_ks_099"] / PAPER["n_modes"],
            notes="as in the paper, not a test: resampling both sets with replacement keeps p-values of equal "
            "distributions well below 0.99, so real vs real scores about 0 too",
        ),
        RowSpec(
            "corr_max_abs_diff",
            "C_ell correlation matrix: max |R_real - R_other| off the diagonal (Fig. 4)",
            paper=PAPER["corr_gan_val"],
            notes=f"equal N on both sides; P1's validation vs auxiliary: {PAPER['corr_val_aux']}",
        ),
        RowSpec(
            "corr_rms_diff",
            "C_ell correlation matrix: rms of R_real - R_other off the diagonal (Fig. 4)",
            notes="equal N on both sides",
        ),
        RowSpec(
            "pdf_mean_abs_frac",
            "Pixel PDF: mean |fractional difference| of per-map pixel fractions in 12 bins (Fig. 2)",
            notes="bins between training-pixel quantiles 0.1% ... 99.9%, two open tails",
        ),
        RowSpec(
            "pdf_chi2_dof",
            "Pixel PDF: chi^2/dof of per-map pixel fractions (Fig. 2)",
            notes="fractions sum to 1: the covariance is inverted by pseudo-inverse",
        ),
        RowSpec("pdf_ks_reject", "Pixel PDF: fraction of bins where KS rejects at 5% (Fig. 2)"),
        RowSpec("pdf_ad_reject", "Pixel PDF: fraction of bins where AD rejects at 5% (Fig. 2)"),
        RowSpec(
            "pixel_ks_p",
            "Pixel intensities: KS p-value of one random pixel per map (as in the paper, Fig. 2)",
            paper=PAPER["pixel_ks_p"],
            notes="median over 20 draws; as in the paper, not a test: a p-value of equal "
            "distributions is uniform, so > 0.999 happens once in a thousand",
        ),
    ]
    names = {"v0": "V0 (area)", "v1": "V1 (boundary length)", "v2": "V2 (Euler characteristic)"}
    for v, name in names.items():
        note = f"{n_mf} thresholds, 2-pixel border masked (non-periodic maps)"
        specs += [
            RowSpec(
                f"mf_{v}_mean_abs_frac",
                f"Minkowski {name}: mean |fractional difference| over thresholds (Fig. 5)",
                notes=note + ("; dominated by the thresholds where V2 crosses 0" if v == "v2" else ""),
            ),
            RowSpec(f"mf_{v}_chi2_dof", f"Minkowski {name}: chi^2/dof with the real covariance (Fig. 5)", notes=note),
            RowSpec(
                f"mf_{v}_ks_reject",
                f"Minkowski {name}: fraction of thresholds where KS rejects at 5% (Figs. 5-6)",
                paper=f"KS p > 0.95 at {PAPER['mf_ks_095']}/{PAPER['n_mf']} (bootstrapped, all three)",
            ),
            RowSpec(
                f"mf_{v}_ad_reject",
                f"Minkowski {name}: fraction of thresholds where AD rejects at 5% (Figs. 5-6)",
                paper=f"AD p > 0.95 at {PAPER['mf_ad_095']}/{PAPER['n_mf']} (bootstrapped, all three)",
            ),
        ]
    return specs


#: The banded rows' keys, in scorecard order.
ROW_SPECS = tuple(s.key for s in _specs(1, 1, 0.0))


def _difference(a: np.ndarray, b: np.ndarray, kind: str) -> np.ndarray:
    """Per-bin difference of ``b`` from ``a``: ``frac`` (ratio of means - 1) or ``std`` (in ``a``'s scatter)."""
    ma, mb = a.mean(0), b.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return mb / ma - 1 if kind == "frac" else (mb - ma) / a.std(0)


def difference_curves(real: dict, gan: dict, null: dict, splits, key: str, kind: str = "frac") -> dict:
    """Per-bin differences from test A of the GAN and null sets, and the 95% real-vs-real band of each bin.

    Returns ``gan``, ``null`` ``(nb,)`` and ``band`` ``(2, nb)`` (lower and upper edges over the
    random splits, :func:`gancosmo.evaluation.protocol.band_from_values`), ``kind``.
    """
    a = real[key][splits.a]
    values = np.stack([_difference(real[key][i], real[key][j], kind) for i, j in splits.draws[1:]])
    band = np.array([band_from_values(values[:, k]) or (np.nan, np.nan) for k in range(values.shape[1])]).T
    n = len(a)
    return dict(gan=_difference(a, gan[key][:n], kind), null=_difference(a, null[key][:n], kind), band=band, kind=kind)


@dataclass
class P1Evaluation:
    """Everything the chapter's figures and scorecard read, from one evaluation."""

    rows: list
    scores: object
    n: int
    ell: np.ndarray
    nu: np.ndarray
    pdf_bins: np.ndarray
    pdf_levels: tuple
    resolved_max: float
    resolved_bins: np.ndarray
    test_a: np.ndarray
    test_b: np.ndarray
    gan: np.ndarray
    null: np.ndarray
    feats: dict  # "a", "b", "gan", "null" -> feature sets
    curves: dict  # feature key -> difference_curves (per-bin GAN / null differences and the real-vs-real band)
    correlations: dict
    pixel_hist: dict
    nn: dict
    memo: dict
    birthday: dict
    speed: dict
    seconds: float

    def row(self, key: str) -> Row:
        return find_row(self.rows, key)

    def table(self, *keys: str):
        """The rows with these keys, as a table that displays as HTML in Jupyter."""
        from ..scorecard import ScorecardTable

        return ScorecardTable([self.row(k) for k in keys])

    def verdicts(self) -> dict:
        """Counts of row verdicts and null verdicts."""
        out = {}
        for what in ("verdict", "null_verdict"):
            v = [getattr(r, what) for r in self.rows if getattr(r, what) is not None]
            out[what] = {k: v.count(k) for k in ("pass", "fail", "untestable")}
        return out


def nearest_training(generated: np.ndarray, training: np.ndarray, side_deg: float) -> dict:
    """Fig. 7: nearest training map of each generated map in pixel L2 and in log C_ell L2."""
    edges = ell_edges(training.shape[-1], side_deg)
    ip, dp = nearest_neighbours(generated, training, k=1, metric="pixel")
    iw, dw = nearest_neighbours(generated, training, k=1, metric="power", side_deg=side_deg, ell_edges=edges)
    return dict(
        pixel_index=ip[:, 0], pixel_distance=dp[:, 0], power_index=iw[:, 0], power_distance=dw[:, 0], edges=edges
    )


def memorisation(generated: np.ndarray, held_out: np.ndarray, training: np.ndarray, device=None) -> dict:
    """Median nearest-training pixel-L2 distance of generated over held-out real maps (>= 0.95 passes)."""
    t = lambda x: torch.as_tensor(np.asarray(x, np.float32), device=device)  # noqa: E731
    _, dg = nearest_neighbours(t(generated), t(training), k=1, metric="pixel")
    _, dh = nearest_neighbours(t(held_out), t(training), k=1, metric="pixel")
    med_g, med_h = float(np.median(dg)), float(np.median(dh))
    return dict(
        median_generated=med_g,
        median_held_out=med_h,
        ratio=med_g / med_h,
        n_generated=len(generated),
        n_held_out=len(held_out),
        n_training=len(training),
    )


def mirror_periodic(maps: np.ndarray) -> np.ndarray:
    """``(N, 2n, 2n)`` maps made periodic by reflection: ``[[m, m[:, ::-1]], [m[::-1], m[::-1, ::-1]]]``.

    Their FFT spectrum carries no power from the edge discontinuities of a non-periodic map
    (only from the kinks at the mirror lines, far weaker); pixel values are those of ``maps``.
    """
    m = np.asarray(maps)
    top = np.concatenate([m, m[:, :, ::-1]], axis=2)
    return np.concatenate([top, top[:, ::-1]], axis=1)


def null_maps(data: P1Data, n: int, seed: int = 0, chunk: int = 1024) -> np.ndarray:
    """``n`` null maps cut like the data: lognormal parent maps matched to the training parent maps, tiled.

    The lognormal field (:class:`LognormalNull`, periodic) is matched to the training parent
    maps made periodic by reflection (:func:`mirror_periodic`): fitted to the maps' own FFT
    spectrum it would take the power of their edge discontinuities, which dominates the high
    multipoles of our smooth simulated maps, for small-scale structure. One quarter of each
    draw (a parent's side) is cut into tiles, so null tiles are non-periodic and share their
    parent's large-scale modes, as the real tiles do.
    """
    side = data.train_maps.shape[-1]
    per = (side // data.map_size) ** 2
    null = LognormalNull(mirror_periodic(data.train_maps), 2 * data.parent_side_deg)
    n_par = math.ceil(n / per)
    parents = [
        null.sample(min(chunk, n_par - s), seed=seed + 7919 * s)[:, :side, :side] for s in range(0, n_par, chunk)
    ]
    return tile_maps(np.concatenate(parents), data.map_size)[:n]


def evaluate(cfg: P1Config, data: P1Data, emulator, progress: bool = False) -> P1Evaluation:
    """Score the emulator and the lognormal null against test A over the real-vs-real band.

    The GAN set, test A and test B all hold ``cfg.n_generate`` maps; test A and B and every
    random pair come from disjoint parents of the test pool. Features are computed once for
    the test pool, the GAN set and the null set; each of the ``cfg.n_splits`` splits indexes rows.
    """
    t0 = time.perf_counter()
    n, seed = cfg.n_generate, cfg.seed
    splits = real_vs_real_splits(data.test_parents, n, n_splits=cfg.n_splits, seed=seed)
    gan = emulator.sample(n, seed=seed + 2)
    null = null_maps(data, n, seed=seed + 4)
    edges = ell_edges(data.map_size, data.side_deg)
    ell = 0.5 * (edges[1:] + edges[:-1])
    resolved_bins = np.flatnonzero(ell <= data.resolved["resolved_max"])
    bins, thresholds = pdf_edges(data.train), minkowski_thresholds(data.train, cfg.n_thresholds)
    dev = cfg.resolved_device
    feats_of = lambda maps, s: features(maps, data.side_deg, edges, bins, thresholds, seed=s, device=dev)  # noqa: E731
    real = feats_of(data.test, seed)
    fg, fn = feats_of(gan, seed + 1), feats_of(null, seed + 3)
    cmp = lambda r, o: compare(r, o, resolved_bins)  # noqa: E731
    scores = score(cmp, real, splits, fg, fn, progress=progress)
    specs = _specs(len(ell), cfg.n_thresholds, data.resolved["resolved_max"])
    rows = rows_from_scores(specs, scores)

    fa, fb = subset(real, splits.a), subset(real, splits.b)
    test_a, test_b = data.test[splits.a], data.test[splits.b]
    curves = {
        k: difference_curves(real, fg, fn, splits, k, "frac" if k in ("cl", "pdf") else "std")
        for k in ("cl", "pdf", "v0", "v1", "v2")
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = dict(
            a=correlation(fa["cl"]), b=correlation(fb["cl"]), gan=correlation(fg["cl"]), null=correlation(fn["cl"])
        )
    lo, hi = np.quantile(test_a, 1e-4), np.quantile(test_a, 1 - 1e-4)
    hist_edges = np.linspace(lo, hi, 51)
    pixel_hist = dict(
        centers=0.5 * (hist_edges[1:] + hist_edges[:-1]),
        **{
            k: np.histogram(np.clip(m, lo, hi), hist_edges, density=True)[0]
            for k, m in (("a", test_a), ("gan", gan), ("null", null))
        },
    )
    nn = nearest_training(gan[: max(cfg.n_nn, 1)], data.train, data.side_deg)
    memo = memorisation(gan, test_a, data.train, device=dev)
    birthday = birthday_paradox(gan, test_a, pool=4)
    speed = generation_speed(emulator, cfg.speed_maps)
    rows += criterion_rows(
        memo,
        birthday,
        speed,
        paper_parameter_counts(),
        data.map_size,
        n,
        null_memo=memorisation(null, test_a, data.train, device=dev),
        null_birthday=birthday_paradox(null, test_a, pool=4),
    )
    return P1Evaluation(
        rows=rows,
        scores=scores,
        n=n,
        ell=ell,
        nu=0.5 * (thresholds[1:] + thresholds[:-1]),
        pdf_bins=bins,
        pdf_levels=PDF_LEVELS,
        resolved_max=data.resolved["resolved_max"],
        resolved_bins=resolved_bins,
        test_a=test_a,
        test_b=test_b,
        gan=gan,
        null=null,
        feats=dict(a=fa, b=fb, gan=subset(fg, np.arange(n)), null=subset(fn, np.arange(n))),
        curves=curves,
        correlations=corr,
        pixel_hist=pixel_hist,
        nn=nn,
        memo=memo,
        birthday=birthday,
        speed=speed,
        seconds=time.perf_counter() - t0,
    )


# -------------------------------------------------------------------------- rows with an explicit criterion
def _round_to_printed(count: int, printed: str) -> bool:
    unit = {"M": 1e6, "K": 1e3}.get(printed[-1], 1)
    digits = printed.rstrip("MK")
    last = unit * 10 ** -(len(digits.split(".")[1]) if "." in digits else 0)
    return abs(count - float(digits) * unit) <= last / 2


def _memo_verdict(memo: dict | None) -> str | None:
    return None if memo is None else ("pass" if memo["ratio"] >= 0.95 else "fail")


def _birthday_verdict(b: dict | None) -> str | None:
    return None if b is None else ("pass" if b["n_duplicate_pairs"] == 0 else "fail")


def criterion_rows(
    memo: dict,
    birthday: dict,
    speed: dict,
    params: dict,
    map_size: int,
    n: int,
    null_memo: dict | None = None,
    null_birthday: dict | None = None,
) -> list[Row]:
    """Rows without a real-vs-real analogue, each with its criterion in ``notes`` (the null's where it applies)."""
    b = birthday
    support = b["support_estimate"] if b["n_duplicate_pairs"] else f">= {b['support_lower_bound_95']:.3g}"
    nb = null_birthday
    null_support = (
        None if nb is None else (nb["support_estimate"] if nb["n_duplicate_pairs"] else nb["support_lower_bound_95"])
    )
    g_rows = PAPER["g_params_rows"]
    return [
        Row(
            "memorisation_ratio",
            "Median nearest-training pixel L2 distance, GAN over held-out test maps (Fig. 7)",
            ours=memo["ratio"],
            verdict=_memo_verdict(memo),
            n_real=memo["n_held_out"],
            n_fake=memo["n_generated"],
            null=None if null_memo is None else null_memo["ratio"],
            null_verdict=_memo_verdict(null_memo),
            notes=f"pass: ratio >= 0.95 (the book's protocol); {memo['n_generated']} GAN and "
            f"{memo['n_held_out']} test A maps "
            f"against {memo['n_training']} training maps",
        ),
        Row(
            "birthday_distinct_maps",
            "Distinct maps the generator can make (birthday paradox, Sect. 3)",
            paper=">= 1e9",
            ours=support,
            verdict=_birthday_verdict(b),
            units="maps",
            n_real=b["batch"],
            n_fake=b["n_generated"],
            null=null_support,
            null_verdict=_birthday_verdict(nb),
            notes=f"pass: no pair of GAN maps closer than half the closest pair of {b['batch']} real maps "
            f"({b['pool']}x{b['pool']}-pooled pixel L2); {b['n_duplicate_pairs']} such pairs in "
            f"{b['pairs_examined']:,}; a batch of m maps can only certify about m^2/6",
        ),
        Row(
            "generation_speed",
            "Generation speed (Sect. 3.1)",
            paper=PAPER["maps_per_s"],
            ours=speed["per_s"],
            verdict="pass" if speed["per_s"] >= PAPER["maps_per_s"] else "fail",
            units="maps/s",
            n_fake=speed["n"],
            notes=f"pass: at least P1's 68 maps/s; ours {speed['n']} maps of {map_size}^2 px on {speed['device']}; "
            "P1: 1024 maps of 256^2 in ~15 s on a Titan X Pascal",
        ),
        Row(
            "generator_parameters",
            "Generator parameters at the paper's size (Table 1)",
            paper=PAPER["g_params_printed"],
            ours=params["generator"],
            verdict="pass" if params["generator"] == g_rows else "fail",
            notes=f"pass: equal to the sum of Table 1's rows ({g_rows:,}); "
            "the printed 12.3M total is an arithmetic slip",
        ),
        Row(
            "discriminator_parameters",
            "Discriminator parameters at the paper's size (Table 2)",
            paper=PAPER["d_params"],
            ours=params["discriminator"],
            verdict="pass" if _round_to_printed(params["discriminator"], PAPER["d_params"]) else "fail",
            notes="pass: rounds to Table 2's printed 4.4M",
        ),
    ]


# -------------------------------------------------------------------------- latent interpolation
def slerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    r"""Spherical linear interpolation (White 2016) between two latent vectors, ``(len(t), dim)``.

    :math:`\mathrm{slerp}(z_0, z_1; t) = \frac{\sin((1-t)\Omega)}{\sin\Omega} z_0
    + \frac{\sin(t\Omega)}{\sin\Omega} z_1`
    with :math:`\cos\Omega = \hat z_0\cdot\hat z_1`; linear when the vectors are parallel.
    """
    z0, z1 = torch.as_tensor(z0, dtype=torch.float64), torch.as_tensor(z1, dtype=torch.float64)
    t = torch.as_tensor(np.asarray(t, dtype=float)).reshape(-1, 1)
    cos = torch.clamp(torch.dot(z0, z1) / (z0.norm() * z1.norm()), -1.0, 1.0)
    omega = torch.arccos(cos)
    if float(torch.sin(omega)) < 1e-6:
        return ((1 - t) * z0 + t * z1).float()
    return ((torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)).float()


def interpolate(emulator: TorchEmulator, n_rows: int = 3, n_steps: int = 8, seed: int = 0) -> np.ndarray:
    """Fig. 8: ``(n_rows, n_steps, H, W)`` maps (convergence) along slerp paths between random latent pairs."""
    g = torch.Generator().manual_seed(int(seed))
    rows = []
    for _ in range(n_rows):
        z0, z1 = torch.randn(2, emulator.G.latent_dim, generator=g)
        z = slerp(z0, z1, np.linspace(0, 1, n_steps))
        rows.append(emulator.transform.inverse(emulator.sample_network(n_steps, z=z)))
    return np.stack(rows)


# -------------------------------------------------------------------------- birthday paradox
def _pooled(maps, pool: int, device) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(maps, dtype=np.float32), device=device)[:, None]
    if pool > 1:
        x = torch.nn.functional.avg_pool2d(x, pool)
    return x.flatten(1).double()


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(len(a), len(b))`` squared L2 distances between the rows of ``a`` and ``b``."""
    return ((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T).clamp_min(0)


def pairwise_min_distances(maps, pool: int = 4, chunk: int = 1024, device=None) -> np.ndarray:
    """For each map, the L2 distance to its nearest *other* map of the same set, ``(N,)``.

    Distances are taken between ``pool x pool``-averaged maps (average pooling only brings
    maps closer, so a pair that is not close after pooling is not close before), in chunks
    of ``chunk`` rows on ``device`` (default: CUDA when available).
    """
    if pool < 1 or int(pool) != pool:
        raise ValueError(f"pool must be a positive integer, got {pool!r}.")
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = _pooled(maps, int(pool), dev)
    if len(x) < 2:
        raise ValueError(f"need at least 2 maps to measure distances between them, got {len(x)}.")
    out = torch.empty(len(x), dtype=torch.float64, device=dev)
    for s in range(0, len(x), chunk):
        d2 = _squared_distances(x[s : s + chunk], x)
        rows = torch.arange(s, min(s + chunk, len(x)), device=dev)
        d2[rows - s, rows] = float("inf")
        out[s : s + chunk] = d2.min(1).values.sqrt()
    return out.cpu().numpy()


def birthday_paradox(generated, real, pool: int = 4, fraction: float = 0.5, device=None) -> dict:
    """How many distinct maps can the generator make? A birthday-paradox estimate (P1 Sect. 3).

    If a generator could only produce ``N`` equally likely maps, a batch of ``m`` draws would
    hold on average ``m (m - 1) / (2 N)`` coinciding pairs. The generated maps are cut into
    batches of ``m = min(len(real), len(generated))``; within each batch we count
    *near-duplicate* pairs: pairs closer (in pooled pixel L2) than ``fraction`` times the
    closest pair among the ``m`` real maps, a scale that distinct maps of the real
    distribution do not reach. With ``n`` such pairs over ``P`` examined pairs the support
    is estimated as ``P / n``; with none, the 95% Poisson upper limit of 3 expected pairs
    gives the lower bound ``P / 3``. A batch of ``m`` maps can only certify a support of
    order ``m^2``, which is why P1's bound needed many maps.

    Returns
    -------
    dict
        ``n_generated``, ``n_real``, ``batch``, ``threshold``, ``closest_generated``,
        ``pairs_examined``, ``n_duplicate_pairs``, ``support_estimate`` (None when no pair
        was found), ``support_lower_bound_95`` (None when pairs were found), ``pool``.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}.")
    m = min(len(real), len(generated))
    if m < 2:
        raise ValueError(f"need at least 2 real and 2 generated maps, got {len(real)} and {len(generated)}.")
    threshold = fraction * float(pairwise_min_distances(real[:m], pool, device=device).min())
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    n_pairs, closest, examined = 0, float("inf"), 0
    for a in range(0, len(generated) - m + 1, m):
        x = _pooled(generated[a : a + m], int(pool), dev)
        d = _squared_distances(x, x).sqrt()
        d = d[torch.triu(torch.ones(m, m, dtype=torch.bool, device=dev), diagonal=1)]
        closest = min(closest, float(d.min()))
        n_pairs += int((d < threshold).sum())
        examined += m * (m - 1) // 2
    return dict(
        n_generated=len(generated),
        n_real=len(real),
        batch=m,
        threshold=threshold,
        closest_generated=closest,
        pairs_examined=examined,
        n_duplicate_pairs=n_pairs,
        support_estimate=examined / n_pairs if n_pairs else None,
        support_lower_bound_95=examined / 3.0 if not n_pairs else None,
        pool=int(pool),
    )


# -------------------------------------------------------------------------- meta and summary
def run_meta(cfg: P1Config, data: P1Data, training: P1Training, ev: P1Evaluation, chapter_seconds: float) -> dict:
    """The scorecard's ``meta``: profile, commit, seeds, splits, resolved and scored range, sizes, timings."""
    res = data.resolved
    return dict(
        paper="P1",
        profile=cfg.profile,
        git_commit=git_commit(),
        device=cfg.resolved_device,
        torch=torch.__version__,
        seeds=dict(
            split=cfg.seed,
            networks=cfg.seed,
            training=cfg.seed,
            selection_latents=cfg.seed + 1,
            gan_latents=cfg.seed + 2,
            null=cfg.seed + 4,
            real_vs_real_splits=cfg.seed,
        ),
        n_splits=ev.scores.n_splits,
        parent=cfg.parent,
        resolved_max=res["resolved_max"],
        scored_max=res["tile_nyquist"],
        resolved_how=(
            "the suite's resolved_max, measured by chapter 00 on all its maps (gancosmo.sims.fidelity."
            "map_resolution: mean C_ell within 20% of pyccl's halofit Limber C_ell in every bin from twice the "
            f"fundamental); in this chapter's bins one fundamental wide, the training maps' mean stays within "
            f"{res['tolerance']} up to ell {res['chapter_resolved_max']:.0f}"
            if res.get("source") == "suite"
            else "largest ell up to which the mean C_ell of the training parent maps is within "
            f"{res['tolerance']} of pyccl's halofit Limber C_ell (z_s = 1)"
        )
        + f"; ratio at the tiles' fundamental ell {res['tile_fundamental']:.0f}: "
        f"{res['ratio_at_tile_fundamental']:.3f}",
        config=cfg.to_dict(),
        sizes=dict(
            suite_maps=data.n_suite_maps,
            simulations=data.n_sims,
            train=len(data.train),
            dev=len(data.dev),
            test_pool=len(data.test),
            n_per_side=ev.n,
            map_size=data.map_size,
            side_deg=data.side_deg,
            modes=len(ev.ell),
            thresholds=len(ev.nu),
            generator_parameters=training.generator_parameters,
        ),
        training=dict(
            steps=training.steps,
            epochs=training.epochs,
            selected_step=training.best_step,
            selected_chi2=training.best_value,
            selection_evaluations=len(training.selection),
            seconds=training.seconds,
            device_settings=training.device_settings,
            emulator="committed" if training.source else "trained in this run",
            source=training.source,
        ),
        birthday=ev.birthday,
        memorisation=ev.memo,
        timings=dict(
            data_s=data.seconds,
            training_s=training.seconds,
            evaluation_s=ev.seconds,
            chapter_s=chapter_seconds,
            evaluation_fraction=ev.seconds / chapter_seconds if chapter_seconds > 0 else None,
        ),
    )


def timing_markdown(meta: dict) -> str:
    """One sentence on where the run's time went (from :func:`run_meta`)."""
    t = meta["timings"]
    training = meta.get("training") or {}
    source = training.get("source")
    if source:  # a saved generator: its training ran elsewhere, this run only scored it
        return (
            f"Data {t['data_s']:.0f} s, evaluation {t['evaluation_s']:.0f} s: this run took {t['chapter_s']:.0f} s "
            f"to this point. It trained nothing; the generator's own training took {t['training_s'] / 60:.0f} min "
            f"in the {source['profile']} run."
        )
    return (
        f"Data {t['data_s']:.0f} s, training {t['training_s']:.0f} s, evaluation {t['evaluation_s']:.0f} s "
        f"({100 * t['evaluation_fraction']:.0f}% of the {t['chapter_s']:.0f} s the chapter took to this point)."
    )


def _keys(rows, pred) -> list[str]:
    return [r.key for r in rows if pred(r)]


#: The book's targets for a trained P1 emulator, as scorecard keys with what each asks, in words.
TARGET_ROWS = (
    ("cl_resolved_max_abs_frac", "mean C_ell within max(5%, band) at every resolved multipole"),
    ("cl_max_abs_pull", "no C_ell bin beyond max(3 sigma, band): no checkerboard"),
    ("cl_std_ratio_max_dev", "map-to-map C_ell scatter within max(10%, band) of the data's in every bin"),
    ("pdf_chi2_dof", "pixel PDF chi^2 inside the band"),
    ("mf_v0_chi2_dof", "Minkowski V0 chi^2 inside the band"),
    ("mf_v1_chi2_dof", "Minkowski V1 chi^2 inside the band"),
    ("mf_v2_chi2_dof", "Minkowski V2 chi^2 inside the band"),
)


def targets_markdown(rows) -> str:
    """A Markdown list: each target of :data:`TARGET_ROWS` with the run's value and verdict, and whether
    the GAN beats the lognormal null on a Minkowski functional (passes a row the null fails)."""
    lines = []
    for key, words in TARGET_ROWS:
        r = find_row(rows, key)
        value = f"{r.ours:.3g}" if isinstance(r.ours, (int, float)) else str(r.ours)
        band = f", band upper end {r.band[1]:.3g}" if r.band is not None else ", no band"
        lines.append(f"- {words}: {r.verdict} (`{key}` = {value}{band})")
    beats = [r.key for r in rows if r.key.startswith("mf_") and r.verdict == "pass" and r.null_verdict == "fail"]
    lines.append(
        "- beats the lognormal null on the Minkowski functionals (a row the GAN passes and the null fails): "
        + (", ".join(f"`{k}`" for k in beats) if beats else "no")
    )
    met = sum(find_row(rows, k).verdict == "pass" for k, _ in TARGET_ROWS) + bool(beats)
    lines.insert(0, f"{met} of {len(TARGET_ROWS) + 1} targets met:")
    return "\n".join(lines)


def summary_markdown(ev: P1Evaluation) -> str:
    """The chapter's summary of verdicts, from the run's rows (no number typed by hand)."""
    rows = ev.rows
    banded = [r for r in rows if r.band is not None]
    passed, failed = _keys(rows, lambda r: r.verdict == "pass"), _keys(rows, lambda r: r.verdict == "fail")
    untestable = _keys(rows, lambda r: r.verdict == "untestable")
    null_pass = _keys(banded, lambda r: r.null_verdict == "pass")
    both = [k for k in null_pass if k in passed]
    fmt = lambda keys: ", ".join(f"`{k}`" for k in keys) or "none"  # noqa: E731
    lines = [
        f"- Of {len(rows)} rows, {len(passed)} pass, {len(failed)} fail and {len(untestable)} "
        f"{'is' if len(untestable) == 1 else 'are'} untestable "
        f"(GAN, test A and test B: {ev.n} maps each; bands from {ev.scores.n_splits} parent-level "
        "real-vs-real splits).",
        f"- Failing: {fmt(failed)}.",
        f"- Passing: {fmt(passed)}.",
    ]
    if untestable:
        lines.append(f"- Untestable: {fmt(untestable)} (see the rows' notes).")
    gan_only = [k for k in passed if k not in null_pass and k in {r.key for r in banded}]
    lines.append(
        f"- The lognormal null passes {len(null_pass)} of {len(banded)} banded rows: {fmt(null_pass)}. For these "
        "rows the data cannot tell a field with the right power spectrum and one-point moments from the "
        "simulation, so they cannot test what they claim about non-Gaussian structure"
        + (f"; the GAN's passes among them ({fmt(both)}) show no more than that." if both else ".")
    )
    lines.append(
        f"- Rows the GAN passes and the null fails, where the data do see structure beyond the null: {fmt(gan_only)}."
    )
    return "\n".join(lines)
