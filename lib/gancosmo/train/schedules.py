"""Optimizers and learning-rate schedules used by the papers.

* Adam (P1, P3, P5: lr 2e-4, beta1 0.5), RMSprop (P2: 1e-5, P4: 3e-5).
* Step decay: the learning rate is multiplied by ``factor`` every ``every`` generator steps
  (``every = 0`` keeps it constant). Both networks' schedulers step once per generator step.

On CUDA the fused (or, where no fused kernel exists, the foreach) implementation is used.
"""

from __future__ import annotations

import inspect

import torch

__all__ = ["make_optimizer", "make_scheduler", "OPTIMIZERS"]

OPTIMIZERS = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}


def make_optimizer(
    name: str, params, lr: float, *, betas=(0.5, 0.999), alpha: float = 0.99, fused: bool = False
) -> torch.optim.Optimizer:
    """Build ``"adam"`` or ``"rmsprop"``.

    Parameters
    ----------
    name : {"adam", "rmsprop"}
    params : iterable of parameters
    lr : float
        Learning rate, > 0.
    betas : tuple of float
        Adam's (beta1, beta2).
    alpha : float
        RMSprop's smoothing constant.
    fused : bool
        Ask for the fused CUDA kernel (falls back to ``foreach`` where there is none).
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; accepted: {', '.join(OPTIMIZERS)}.")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"learning rate must be a positive number, got {lr!r}.")
    cls = OPTIMIZERS[name]
    kwargs = dict(lr=float(lr))
    if name == "adam":
        kwargs["betas"] = tuple(float(b) for b in betas)
    else:
        kwargs["alpha"] = float(alpha)
    if fused:
        if "fused" in inspect.signature(cls).parameters:
            kwargs["fused"] = True
        else:
            kwargs["foreach"] = True
    return cls(params, **kwargs)


def make_scheduler(optimizer: torch.optim.Optimizer, every: int = 0, factor: float = 0.5):
    """Step decay by ``factor`` every ``every`` generator steps (``every = 0``: constant)."""
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise ValueError(f"lr_decay_every must be a non-negative integer, got {every!r}.")
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor <= 1:
        raise ValueError(f"lr_decay_factor must be a number in (0, 1], got {factor!r}.")
    if every == 0:
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=1.0)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=every, gamma=float(factor))
