"""One GAN training loop for the five papers: :class:`TrainConfig` and :class:`Trainer`.

A generator step is the unit of time: before each one the discriminator (critic) takes
``critic_steps`` steps, each on a fresh real batch. The loop owns checkpoints (atomic, last K
plus the best under a model-selection statistic), exact resume, TensorBoard logging, the
JSON config record, a tqdm bar, divergence detection (a NaN or Inf loss stops the run, naming
the step), and DDP under ``torchrun``.

On CUDA it uses bf16 autocast, channels-last tensors, fused optimizers and, when asked,
``torch.compile``; on a CPU with native bf16 (AVX512-BF16, AMX) bf16 autocast and channels-last,
elsewhere plain fp32 (:mod:`gancosmo.train.hardware` chooses, ``config.json`` records it as
``device_settings``). The code path is the same.

Example
-------
>>> from gancosmo.models.cosmogan import cosmogan
>>> G, D = cosmogan(base_filters=8, map_size=64, seed=0)
>>> cfg = TrainConfig.p1(batch_size=4, max_steps=2, progress=False, tensorboard=False)
>>> result = Trainer(G, D, maps, cfg).fit()          # doctest: +SKIP
"""

from __future__ import annotations

import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import distributed as dist_utils
from .checkpoint import CheckpointManager, load
from .data import EpochSampler, fetch
from .hardware import channels_last_input, resolve_settings, to_channels_last
from .logging import RunLogger
from .losses import LOSSES, make_loss
from .schedules import OPTIMIZERS, make_optimizer, make_scheduler
from .selection import Selector

__all__ = ["TrainConfig", "Trainer", "TrainingDiverged", "normal_latent"]

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or Inf; the message names the generator step and the last good checkpoint."""


def normal_latent(n: int, dim: int, device, generator: torch.Generator) -> torch.Tensor:
    """The papers' default prior: ``z ~ N(0, 1)`` of shape ``(n, dim)``."""
    return torch.randn(n, dim, device=device, generator=generator)


@dataclass
class TrainConfig:
    """Everything that defines a training run (recorded as ``config.json`` in ``out_dir``).

    Parameters
    ----------
    loss : {"bce", "wgan-gp"}
        Non-saturating cross-entropy (P1, P3, P5) or Wasserstein with gradient penalty (P2, P4).
    label_flip : float
        ``bce`` only: probability in [0, 1) that a discriminator batch has its labels swapped (P1: 0.01).
    gp_weight, gp_form, overlap_weight : float, str, float
        ``wgan-gp`` only: penalty weight (10), ``"paper"`` or ``"code"`` form, P4's
        ``relu(D_real * D_fake)`` weight (0 = off).
    critic_steps : int
        Discriminator steps per generator step (P2, P4: 5).
    d_accuracy_threshold : float or None
        ``bce`` only: the discriminator is updated only when its batch accuracy is below this
        (P3: 0.8); None = always.
    optimizer : {"adam", "rmsprop"}
    lr_g, lr_d : float
        Learning rates.
    betas : tuple of float
        Adam's betas (P1: (0.5, 0.999)).
    rmsprop_alpha : float
    lr_decay_every : int
        Multiply both learning rates by ``lr_decay_factor`` every this many generator steps (0: never).
    lr_decay_factor : float
    batch_size : int
        Per-process batch size (>= 1).
    epochs : float
        Passes over the data (>= 0); ignored when ``max_steps`` is set.
    max_steps : int or None
        Generator steps to train.
    latent_dim : int
    seed : int
    device : str or None
        ``"cpu"``, ``"cuda"``; None = CUDA when available.
    precision : {"auto", "fp32", "bf16", "fp16"}
        ``auto``: bf16 autocast on CUDA and on CPUs with native bf16, fp32 on other CPUs.
        Weights and optimizer states are fp32 in every case.
    channels_last, fused : bool or None
        channels_last None: on where ``auto`` precision picks bf16 (channels-last-3d for 3D
        networks); fused None: on for CUDA only.
    compile : bool or str
        Wrap the networks in ``torch.compile`` (True: the default ``"inductor"`` backend; a
        string names another backend, e.g. ``"aot_eager"`` to check the wrapping cheaply).
    out_dir : str or None
        Run folder: ``config.json``, ``checkpoints/``, ``tensorboard/``. None = keep nothing.
    ckpt_every : int
        Checkpoint every this many generator steps (0: only at the end).
    keep_last : int
        Step checkpoints kept.
    log_every : int
        Scalars to TensorBoard (and the NaN check on CUDA) every this many steps.
    sample_every : int
        Sample images to TensorBoard every this many steps (0: never).
    select_every : int
        Evaluate the model-selection statistic every this many steps (0: never) once
        ``select_from_epoch`` epochs are done (P1: every step of the last 2 of 47 epochs).
    select_from_epoch : float
    progress : bool
        tqdm progress bar.
    tensorboard : bool
    add_channel : bool
        Data come without a channel axis (``(N, H, W)`` maps, ``(N, D, H, W)`` cubes): add one.
    sync_batchnorm : bool
        Under DDP, synchronise BatchNorm statistics across processes.
    """

    loss: str = "bce"
    label_flip: float = 0.0
    gp_weight: float = 10.0
    gp_form: str = "paper"
    overlap_weight: float = 0.0
    critic_steps: int = 1
    d_accuracy_threshold: float | None = None
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)
    rmsprop_alpha: float = 0.99
    lr_decay_every: int = 0
    lr_decay_factor: float = 0.5
    batch_size: int = 64
    epochs: float = 1
    max_steps: int | None = None
    latent_dim: int = 64
    seed: int = 0
    device: str | None = None
    precision: str = "auto"
    channels_last: bool | None = None
    fused: bool | None = None
    compile: bool | str = False
    out_dir: str | None = None
    ckpt_every: int = 0
    keep_last: int = 3
    log_every: int = 50
    sample_every: int = 0
    select_every: int = 0
    select_from_epoch: float = 0.0
    progress: bool = True
    tensorboard: bool = True
    add_channel: bool = True
    sync_batchnorm: bool = False

    @classmethod
    def p1(cls, **overrides) -> TrainConfig:
        """P1's recipe: BCE with 1% label flips, Adam 2e-4 (beta1 0.5), batch 64, latent 64,
        45 + 2 epochs with the generator chosen over the last two by the statistic."""
        base = dict(
            loss="bce",
            label_flip=0.01,
            optimizer="adam",
            lr_g=2e-4,
            lr_d=2e-4,
            betas=(0.5, 0.999),
            batch_size=64,
            latent_dim=64,
            epochs=47,
            select_from_epoch=45,
            select_every=1,
        )
        base.update(overrides)
        return cls(**base)

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise one clear :class:`ValueError` for the first bad field."""

        def integer(name, low, allow_none=False):
            v = getattr(self, name)
            if v is None and allow_none:
                return
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}{' or None' if allow_none else ''}, got {v!r}.")

        def number(name, low, low_open=False, high=None):
            v = getattr(self, name)
            ok = not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
            ok = ok and (v > low if low_open else v >= low) and (high is None or v <= high)
            if not ok:
                rng = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high is not None else "")
                raise ValueError(f"{name} must be a finite number {rng}, got {v!r}.")

        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; accepted: {', '.join(LOSSES)}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; accepted: {', '.join(OPTIMIZERS)}.")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}.")
        if (
            isinstance(self.label_flip, bool)
            or not isinstance(self.label_flip, (int, float))
            or not 0 <= self.label_flip < 1
        ):
            raise ValueError(f"label_flip must be a number in [0, 1), got {self.label_flip!r}.")
        if self.label_flip and self.loss != "bce":
            raise ValueError(f"label_flip applies to the 'bce' loss only, not {self.loss!r}.")
        if self.d_accuracy_threshold is not None:
            number("d_accuracy_threshold", 0, low_open=True, high=1)
            if self.loss != "bce":
                raise ValueError(f"d_accuracy_threshold applies to the 'bce' loss only, not {self.loss!r}.")
        if self.gp_form not in ("paper", "code"):
            raise ValueError(f"gp_form must be 'paper' or 'code', got {self.gp_form!r}.")
        number("gp_weight", 0)
        number("overlap_weight", 0)
        integer("critic_steps", 1)
        number("lr_g", 0, low_open=True)
        number("lr_d", 0, low_open=True)
        if len(tuple(self.betas)) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}.")
        self.betas = tuple(float(b) for b in self.betas)
        number("rmsprop_alpha", 0)
        integer("lr_decay_every", 0)
        number("lr_decay_factor", 0, low_open=True, high=1)
        integer("batch_size", 1)
        number("epochs", 0)
        integer("max_steps", 0, allow_none=True)
        integer("latent_dim", 1)
        integer("seed", 0)
        for name in ("ckpt_every", "log_every", "sample_every", "select_every"):
            integer(name, 0)
        integer("keep_last", 1)
        number("select_from_epoch", 0)
        if self.log_every == 0:
            raise ValueError("log_every must be an integer >= 1, got 0.")
        if not isinstance(self.compile, (bool, str)) or isinstance(self.compile, str) and not self.compile:
            raise ValueError(
                f"compile must be true/false or the name of a torch.compile backend, got {self.compile!r}."
            )
        if self.device is not None and str(self.device).split(":")[0] not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu', 'cuda' or None, got {self.device!r}.")

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _unwrap(module: nn.Module) -> nn.Module:
    module = getattr(module, "_orig_mod", module)
    return getattr(module, "module", module)


class Trainer:
    """Train a generator against a discriminator.

    Parameters
    ----------
    generator, discriminator : nn.Module
        ``G(z)`` takes ``(B, latent_dim)`` latents; ``D(x)`` returns ``(B,)`` logits / scores.
        Conditional networks (``data`` given as ``(samples, labels)``) are called as
        ``G(z, y)`` and ``D(x, y)``.
    data : torch.Tensor, numpy.ndarray, Dataset, or a pair ``(samples, labels)``
        Training samples, batch first. Arrays and tensors are indexed directly (and moved
        to the GPU once when training there); datasets are read item by item. A pair of
        arrays makes the run conditional: ``labels`` ``(N,)`` or ``(N, c)`` (P2: Omega_m,
        sigma_8; P3: redshift) go with each sample; the fake batch of a discriminator step
        uses the labels of its real batch, the generator step those of the last real batch.
    config : TrainConfig
    statistic : callable, optional
        Model selection: ``statistic(generator, step) -> float``, lower is better (P1:
        chi-squared of the power spectrum against a development set). Called on the main
        process with the unwrapped generator; RNG states and BatchNorm buffers are restored
        afterwards, so evaluating it does not change the training trajectory.
    latent_sampler : callable, optional
        ``latent_sampler(n, latent_dim, device, generator) -> z`` (default: standard normal).
    callbacks : sequence of callables, optional
        ``callback(trainer, step)`` after every generator step (tests use it to interrupt).
    augment : callable, optional
        ``augment(x, generator) -> x`` applied to every real batch (channel axis included),
        drawing its random choices from the trainer's CPU generator so that a resumed run
        repeats them (see :mod:`gancosmo.data.augment`: P2's flips and 90-degree rotations,
        P3's 48 cube symmetries).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        data,
        config: TrainConfig,
        statistic: Callable | None = None,
        latent_sampler: Callable | None = None,
        callbacks: Sequence[Callable] = (),
        augment: Callable | None = None,
    ):
        if not isinstance(config, TrainConfig):
            raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}.")
        config.validate()
        self.config = cfg = config
        self.dist = dist_utils.setup(cfg.device)
        dev = self.device = self.dist.device
        cuda = dev.type == "cuda"
        self.settings = resolve_settings(dev, cfg.precision, cfg.channels_last, cfg.fused)
        self.amp_dtype = self.settings.amp_dtype
        self.channels_last = self.settings.channels_last
        fused = self.settings.fused
        self.statistic, self.callbacks = statistic, list(callbacks)
        self.latent_sampler = latent_sampler or normal_latent
        self.augment = augment

        rank = self.dist.rank
        torch.manual_seed(cfg.seed + 1000 * rank)
        np.random.seed(cfg.seed + 1000 * rank)
        random.seed(cfg.seed + 1000 * rank)
        self.rng = torch.Generator().manual_seed(cfg.seed * 7919 + rank)
        self.z_rng = torch.Generator(device=dev).manual_seed(cfg.seed * 104729 + rank + 1)

        # data
        self.labels = None
        if isinstance(data, tuple):
            if len(data) != 2:
                raise ValueError(f"conditional data must be a pair (samples, labels), got a tuple of {len(data)}.")
            data, labels = data
            labels = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels).float()
            labels = labels[:, None] if labels.dim() == 1 else labels
            if labels.dim() != 2 or len(labels) != len(data):
                raise ValueError(
                    f"labels must have shape (N,) or (N, c) with N = {len(data)} samples, got {tuple(labels.shape)}."
                )
            self.labels = labels.to(dev)
        if isinstance(data, (torch.Tensor, np.ndarray)):
            data = torch.as_tensor(data)
            if cuda:
                data = data.to(dev)
        self.data = data
        self.sampler = EpochSampler(
            len(data), cfg.batch_size, seed=cfg.seed, rank=rank, world_size=self.dist.world_size
        )

        # networks
        G, D = generator.to(dev), discriminator.to(dev)
        if self.channels_last:
            G, D = to_channels_last(G), to_channels_last(D)
        if self.dist.distributed and cfg.sync_batchnorm:
            G, D = nn.SyncBatchNorm.convert_sync_batchnorm(G), nn.SyncBatchNorm.convert_sync_batchnorm(D)
        self.G_raw, self.D_raw = G, D
        if self.dist.distributed:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [dev.index] if cuda else None
            G, D = DDP(G, device_ids=ids), DDP(D, device_ids=ids)
        self.D_for_g = self.D_raw
        if cfg.compile:
            backend = "inductor" if cfg.compile is True else cfg.compile
            G, D = torch.compile(G, backend=backend), torch.compile(D, backend=backend)
            self.D_for_g = torch.compile(self.D_raw, backend=backend)
        self.G, self.D = G, D

        # optimisation
        self.loss = make_loss(
            cfg.loss,
            **(
                dict(label_flip=cfg.label_flip)
                if cfg.loss == "bce"
                else dict(gp_weight=cfg.gp_weight, gp_form=cfg.gp_form, overlap_weight=cfg.overlap_weight)
            ),
        )
        opt = dict(betas=cfg.betas, alpha=cfg.rmsprop_alpha, fused=fused)
        self.opt_g = make_optimizer(cfg.optimizer, self.G_raw.parameters(), cfg.lr_g, **opt)
        self.opt_d = make_optimizer(cfg.optimizer, self.D_raw.parameters(), cfg.lr_d, **opt)
        self.sched_g = make_scheduler(self.opt_g, cfg.lr_decay_every, cfg.lr_decay_factor)
        self.sched_d = make_scheduler(self.opt_d, cfg.lr_decay_every, cfg.lr_decay_factor)
        fp16 = self.amp_dtype == torch.float16
        self.scaler_g = torch.amp.GradScaler(dev.type, enabled=fp16)
        self.scaler_d = torch.amp.GradScaler(dev.type, enabled=fp16)

        # bookkeeping
        self.step = 0
        self.best_value: float | None = None
        self.best_step: int | None = None
        self.best_generator: dict | None = None  # CPU copy of the generator's weights at the best selection step
        self.history: list[dict] = []  # one row of logged scalars per logging step, checkpointed with the run
        self.selection: list[tuple[int, float]] = []  # (step, statistic) of every selection step, checkpointed
        self._bad = torch.full((), -1, dtype=torch.long, device=dev)  # first generator step with a bad loss
        self._bad_what = torch.zeros((), dtype=torch.long, device=dev)  # 1: discriminator, 2: generator
        out = Path(cfg.out_dir) if cfg.out_dir is not None else None
        self.checkpoints = CheckpointManager(out / "checkpoints", cfg.keep_last) if out is not None else None
        self.logger = RunLogger(out, enabled=self.dist.is_main, tensorboard=cfg.tensorboard)
        self._fixed_z = None
        self._last_saved: Path | None = None

    # ------------------------------------------------------------------ sizes
    @property
    def total_steps(self) -> int:
        """Generator steps of the whole run."""
        if self.config.max_steps is not None:
            return self.config.max_steps
        return int(self.config.epochs * self.sampler.batches_per_epoch) // self.config.critic_steps

    # ------------------------------------------------------------------ one step
    def _autocast(self):
        return torch.autocast(
            self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None
        )

    @property
    def conditional(self) -> bool:
        """True when the data carry labels (networks called as ``G(z, y)``, ``D(x, y)``)."""
        return self.labels is not None

    def _real_batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = self.sampler.next_batch()
        x = fetch(self.data, idx).to(self.device, non_blocking=True).float()
        if self.config.add_channel:
            x = x.unsqueeze(1)
        if self.augment is not None:
            x = self.augment(x, self.rng)
        if self.channels_last:
            x = channels_last_input(x)
        y = (
            None
            if self.labels is None
            else self.labels[torch.from_numpy(np.ascontiguousarray(idx)).to(self.labels.device)]
        )
        return x, y

    @staticmethod
    def _bind(net, y):
        """``net`` itself (unconditional) or ``x -> net(x, y)``: what the losses call."""
        return net if y is None else (lambda x: net(x, y))

    def _generate(self, net, n: int, y):
        z = self._latent(n)
        return net(z) if y is None else net(z, y)

    def _latent(self, n: int) -> torch.Tensor:
        return self.latent_sampler(n, self.config.latent_dim, self.device, self.z_rng)

    def _flag(self, loss: torch.Tensor, what: int) -> None:
        bad = ~torch.isfinite(loss.detach()) & (self._bad < 0)
        self._bad = torch.where(bad, torch.full_like(self._bad, self.step + 1), self._bad)
        self._bad_what = torch.where(bad, torch.full_like(self._bad_what, what), self._bad_what)

    def train_step(self) -> dict:
        """One generator step (after ``critic_steps`` discriminator steps); returns detached stats."""
        cfg, B = self.config, self.config.batch_size
        self.G.train(), self.D.train()
        for _ in range(cfg.critic_steps):
            real, y = self._real_batch()
            with torch.no_grad(), self._autocast():
                fake = self._generate(self.G, B, y)
            with self._autocast():
                loss_d, stats = self.loss.discriminator(self._bind(self.D, y), real, fake, self.rng)
            self._flag(loss_d, 1)
            update = True
            if cfg.d_accuracy_threshold is not None:
                acc = dist_utils.mean_across(stats["d_accuracy"].float())
                update = bool(acc < cfg.d_accuracy_threshold)
            self.opt_d.zero_grad(set_to_none=True)
            if update:
                self.scaler_d.scale(loss_d).backward()
                self.scaler_d.step(self.opt_d)
                self.scaler_d.update()
            stats["d_updated"] = torch.tensor(float(update))

        for p in self.D_raw.parameters():
            p.requires_grad_(False)
        try:
            with self._autocast():
                fake = self._generate(self.G, B, y)
                loss_g = self.loss.generator(self._bind(self.D_for_g, y), fake)
            self._flag(loss_g, 2)
            self.opt_g.zero_grad(set_to_none=True)
            self.scaler_g.scale(loss_g).backward()
            self.scaler_g.step(self.opt_g)
            self.scaler_g.update()
        finally:
            for p in self.D_raw.parameters():
                p.requires_grad_(True)
        with warnings.catch_warnings():  # a skipped update (P3's rule, an fp16 overflow) is intended
            warnings.simplefilter("ignore", UserWarning)
            self.sched_g.step()
            self.sched_d.step()
        self.step += 1
        stats.update(loss_d=loss_d.detach(), loss_g=loss_g.detach())
        return stats

    # ------------------------------------------------------------------ state
    def _rng_state(self) -> dict:
        return dict(
            torch=torch.get_rng_state(),
            numpy=np.random.get_state(),
            python=random.getstate(),
            cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            trainer=self.rng.get_state(),
            latent=self.z_rng.get_state(),
        )

    def _set_rng_state(self, s: dict) -> None:
        torch.set_rng_state(s["torch"])
        np.random.set_state(s["numpy"])
        random.setstate(s["python"])
        if s["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(s["cuda"])
        self.rng.set_state(s["trainer"])
        self.z_rng.set_state(s["latent"])

    def state_dict(self) -> dict:
        """Everything needed to continue exactly (collective under DDP: call on every rank)."""
        return dict(
            version=2,
            step=self.step,
            world_size=self.dist.world_size,
            generator=self.G_raw.state_dict(),
            discriminator=self.D_raw.state_dict(),
            opt_g=self.opt_g.state_dict(),
            opt_d=self.opt_d.state_dict(),
            sched_g=self.sched_g.state_dict(),
            sched_d=self.sched_d.state_dict(),
            scaler_g=self.scaler_g.state_dict(),
            scaler_d=self.scaler_d.state_dict(),
            sampler=self.sampler.state_dict(),
            rng=dist_utils.all_gather_objects(self._rng_state()),
            best_value=self.best_value,
            best_step=self.best_step,
            best_generator=self.best_generator,
            history=[dict(row) for row in self.history],
            selection=list(self.selection),
            config=self.config.to_dict(),
        )

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` (same networks, same number of processes)."""
        if state["world_size"] != self.dist.world_size:
            raise ValueError(
                f"the checkpoint was written by {state['world_size']} process(es); resume it with "
                f"the same number, not {self.dist.world_size}."
            )
        self.G_raw.load_state_dict(state["generator"])
        self.D_raw.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])
        self.scaler_g.load_state_dict(state["scaler_g"])
        self.scaler_d.load_state_dict(state["scaler_d"])
        self.sampler.load_state_dict(state["sampler"])
        self._set_rng_state(state["rng"][self.dist.rank])
        self.step, self.best_value = int(state["step"]), state["best_value"]
        self.best_step, self.best_generator = state.get("best_step"), state.get("best_generator")
        self.history = [dict(row) for row in state.get("history", [])]
        self.selection = [(int(step), float(value)) for step, value in state.get("selection", [])]
        if isinstance(self.statistic, Selector):  # its record of values continues where the run stopped
            self.statistic.history = list(self.selection)

    def restore_best(self) -> bool:
        """Load the generator weights of the best model-selection step into the generator.

        Returns True when a selection step happened (weights loaded), False otherwise (the
        final generator is kept).
        """
        if self.best_generator is None:
            return False
        self.G_raw.load_state_dict(self.best_generator)
        return True

    def _check_finite(self) -> None:
        bad = int(self._bad.item())
        if bad < 0:
            return
        what = {1: "discriminator", 2: "generator"}[int(self._bad_what.item())]
        last = self._last_saved or (self.checkpoints.latest() if self.checkpoints else None)
        keep = f"the last good checkpoint is {last}" if last else "no checkpoint was written"
        raise TrainingDiverged(f"training stopped: the {what} loss became NaN or Inf at generator step {bad}; {keep}.")

    def save_checkpoint(self) -> Path | None:
        """Write a step checkpoint (after checking the losses are finite)."""
        self._check_finite()
        state = self.state_dict()
        if self.checkpoints is None or not self.dist.is_main:
            return None
        self._last_saved = self.checkpoints.save(state, self.step)
        return self._last_saved

    def resume(self, checkpoint: str | Path | bool = True) -> bool:
        """Continue from a checkpoint: its weights, optimizer, RNG and data-order states, and its history.

        Parameters
        ----------
        checkpoint : path or True
            A checkpoint file (verified against its record; :class:`~.checkpoint.CheckpointError`
            when it does not verify), or True: the newest step checkpoint in ``out_dir`` that
            verifies, skipping each newer one that does not with a
            :class:`~.checkpoint.CheckpointSkippedWarning` naming it.

        Returns
        -------
        bool
            True when a checkpoint was loaded, False when ``out_dir`` holds none.

        Raises
        ------
        CheckpointError
            The file given does not verify, or none of the checkpoints in ``out_dir`` does.
        """
        if checkpoint is True:
            if self.checkpoints is None:
                raise ValueError("resume=True needs config.out_dir (where the checkpoints are).")
            found = self.checkpoints.load_latest(map_location=self.device)
            if found is None:
                return False
            path, state = found
        else:
            path = Path(checkpoint)
            state = load(path, map_location=self.device)
        self.load_state_dict(state)
        self._last_saved = path
        self._restart_logs_after(self.step)
        return True

    def _restart_logs_after(self, step: int) -> None:
        """Hide from TensorBoard what an interrupted run logged after ``step``: the resumed run logs those again.

        A ``SessionLog.START`` event at ``step + 1`` makes TensorBoard drop earlier events of
        steps ``>= step + 1`` (the mechanism behind ``SummaryWriter(purge_step=...)``).
        """
        writer = getattr(self.logger, "_writer", None)
        if writer is None:
            return
        from tensorboard.compat.proto.event_pb2 import Event, SessionLog

        start = Event(step=step + 1, wall_time=time.time(), session_log=SessionLog(status=SessionLog.START))
        writer.file_writer.add_event(start)

    # ------------------------------------------------------------------ evaluation hooks
    def _isolated(self, fn):
        """Run ``fn()`` without touching RNG states or the generator's BatchNorm buffers."""
        buffers = {k: v.clone() for k, v in self.G_raw.named_buffers()}
        np_state, py_state = np.random.get_state(), random.getstate()
        devices = [self.device] if self.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices):
                return fn()
        finally:
            np.random.set_state(np_state), random.setstate(py_state)
            with torch.no_grad():
                for k, v in self.G_raw.named_buffers():
                    v.copy_(buffers[k])
            self.G_raw.train()

    def _select(self) -> None:
        value = None
        if self.dist.is_main:
            value = float(self._isolated(lambda: self.statistic(self.G_raw, self.step)))
        value = dist_utils.all_gather_objects(value)[0]
        self.logger.scalars({"select/statistic": value}, self.step)
        self.selection.append((self.step, value))
        if self.best_value is None or value < self.best_value:
            self.best_value, self.best_step = value, self.step
            self.best_generator = {k: v.detach().cpu().clone() for k, v in self.G_raw.state_dict().items()}
            self._check_finite()
            state = self.state_dict()
            if self.checkpoints is not None and self.dist.is_main:
                self.checkpoints.save_best(state, self.step, value)

    def _samples(self) -> None:
        if not self.dist.is_main:
            return
        if self._fixed_z is None:
            g = torch.Generator().manual_seed(12345)
            self._fixed_z = self.latent_sampler(16, self.config.latent_dim, "cpu", g).to(self.device)
            if self.conditional:  # 16 labels spread over the data set
                pick = torch.linspace(0, len(self.labels) - 1, 16).round().long().to(self.labels.device)
                self._fixed_y = self.labels[pick]

        def draw():
            self.G_raw.eval()
            with torch.no_grad(), self._autocast():
                out = self.G_raw(self._fixed_z) if not self.conditional else self.G_raw(self._fixed_z, self._fixed_y)
                return out.float()

        self.logger.images("samples", self._isolated(draw), self.step)

    # ------------------------------------------------------------------ the loop
    def fit(self, resume: str | Path | bool = False, stop_at: int | None = None) -> dict:
        """Train to ``total_steps`` generator steps.

        Parameters
        ----------
        resume : bool or path
            Continue from the latest checkpoint in ``out_dir`` (True) or from a file.
        stop_at : int, optional
            Stop (with a checkpoint) once this many generator steps are done, as an
            interrupted run would.

        Returns
        -------
        dict
            ``step``, ``epochs``, ``best_value``, ``best_step``, ``history`` (the logged
            scalars, one dict per logging step with its ``step``) and ``selection``
            (``(step, value)`` of each model-selection step). A resumed run returns the rows
            of the steps before the interruption too, as an uninterrupted run would.

        Raises
        ------
        CheckpointError
            ``resume`` names a file that does not verify, or no checkpoint of ``out_dir`` does.
        """
        from ..progress import progress_bar

        cfg = self.config
        if resume:
            self.resume(resume)
        self.logger.write_config(
            dict(
                cfg.to_dict(),
                device_settings=self.settings.to_dict(),
                world_size=self.dist.world_size,
                generator=type(self.G_raw).__name__,
                discriminator=type(self.D_raw).__name__,
            )
        )
        total = self.total_steps if stop_at is None else min(self.total_steps, stop_at)
        bar = progress_bar(
            self.total_steps, "train", disable=not (cfg.progress and self.dist.is_main), initial=self.step
        )
        check_every = 1 if self.device.type == "cpu" else cfg.log_every
        try:
            while self.step < total:
                stats = self.train_step()
                bar.update(1)
                s = self.step
                if s % check_every == 0:
                    self._check_finite()
                # the run's last step is logged, a stop (stop_at) is not: a resumed run's rows are a straight run's
                if s % cfg.log_every == 0 or s == self.total_steps:
                    self._log(stats)
                    bar.set_postfix(
                        loss_d=f"{self.history[-1]['loss/d']:.3g}", loss_g=f"{self.history[-1]['loss/g']:.3g}"
                    )
                if cfg.sample_every and s % cfg.sample_every == 0:
                    self._samples()
                if (
                    self.statistic is not None
                    and cfg.select_every
                    and s % cfg.select_every == 0
                    and self.sampler.epochs_done >= cfg.select_from_epoch
                ):
                    self._select()
                if cfg.ckpt_every and s % cfg.ckpt_every == 0 and s < total:
                    self.save_checkpoint()
                for cb in self.callbacks:
                    cb(self, s)
            self._check_finite()
            if self.checkpoints is not None:
                self.save_checkpoint()
        finally:
            bar.close()
            self.logger.flush()
        return dict(
            step=self.step,
            epochs=self.sampler.epochs_done,
            best_value=self.best_value,
            best_step=self.best_step,
            history=self.history,
            selection=list(self.selection),
            device_settings=self.settings.to_dict(),
        )

    def _log(self, stats: dict) -> None:
        row = {"loss/d": stats["loss_d"], "loss/g": stats["loss_g"]}
        row.update({f"d/{k}": v for k, v in stats.items() if k not in ("loss_d", "loss_g")})
        row = {
            k: float(dist_utils.mean_across(torch.as_tensor(v, dtype=torch.float32, device=self.device)))
            for k, v in row.items()
        }
        row.update(
            {
                "lr/g": self.opt_g.param_groups[0]["lr"],
                "lr/d": self.opt_d.param_groups[0]["lr"],
                "epoch": self.sampler.epochs_done,
            }
        )
        self.logger.scalars(row, self.step)
        self.history.append(dict(row, step=self.step))

    def close(self) -> None:
        """Close the TensorBoard writer."""
        self.logger.close()
