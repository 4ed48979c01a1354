r"""One protocol for every intensity scaling between physical units and what the networks see.

A transform has ``forward(x)`` (physical -> network units) and ``inverse(y)`` (network ->
physical units); both take numpy arrays or torch tensors and return the same kind.

* :class:`Identity`: P1's "no normalisation" (kappa maps as they are).
* :class:`ConstantScale`: ``y = factor * x`` (the `cpu` profile of P1 multiplies by 10; P2
  divides by the training maps' pixel standard deviation: ``ConstantScale.standardize(maps)``).
* :class:`gancosmo.data.transforms.DensityScaling`: P3's :math:`c = 2x/(x + \kappa) - 1`.
* :class:`P4ForwardMap`: P4's map of particle counts, logarithmic below ``c`` and linear above.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from .transforms import DensityScaling

__all__ = ["IntensityTransform", "Identity", "ConstantScale", "DensityScaling", "P4ForwardMap", "check_transform"]


@runtime_checkable
class IntensityTransform(Protocol):
    """``forward``: physical -> network units; ``inverse``: network -> physical units."""

    def forward(self, x): ...

    def inverse(self, y): ...


class Identity:
    """No scaling: the networks see physical units."""

    def forward(self, x):
        return x

    def inverse(self, y):
        return y

    def __repr__(self) -> str:
        return "Identity()"


class ConstantScale:
    """``forward(x) = factor * x``, ``inverse(y) = y / factor``.

    Parameters
    ----------
    factor : float
        Finite and > 0.
    """

    def __init__(self, factor: float):
        if (
            isinstance(factor, bool)
            or not isinstance(factor, (int, float, np.integer, np.floating))
            or not math.isfinite(float(factor))
            or float(factor) <= 0
        ):
            raise ValueError(f"factor must be a finite number > 0, got {factor!r}.")
        self.factor = float(factor)

    @classmethod
    def standardize(cls, maps) -> ConstantScale:
        """The scale that gives ``maps`` unit pixel standard deviation (P2: ``x / sigma``)."""
        sd = float(np.std(np.asarray(maps, dtype=np.float64)))
        if not (math.isfinite(sd) and sd > 0):
            raise ValueError(f"the maps have pixel standard deviation {sd!r}; accepted are maps with spread.")
        return cls(1.0 / sd)

    def forward(self, x):
        return x * self.factor  # a Python float keeps float32 arrays float32

    def inverse(self, y):
        return y / self.factor

    def __repr__(self) -> str:
        return f"ConstantScale({self.factor:g})"


class P4ForwardMap:
    r"""P4's forward map of particle counts per voxel (the authors' code: ``c = 2e4``, ``shift = 1``).

    .. math::
        y(x) = \frac{3}{\ln(c + s)} \begin{cases} \ln(x + s) & x \le c \\
               \ln(c + s) + (x - c)/(c + s) & x > c \end{cases}

    logarithmic below ``c`` and continued linearly (same value and slope) above, so that the
    rare dense voxels keep a finite gradient; ``y(0) = 0`` for ``s = 1`` and ``y(c) = 3``.
    ``inverse`` undoes it exactly (counts as floats).

    Parameters
    ----------
    c : float
        Count above which the map is linear (P4: 2e4), > 0.
    shift : float
        Added before the logarithm (P4: 1), > 0.
    """

    def __init__(self, c: float = 2e4, shift: float = 1.0):
        for name, value in (("c", c), ("shift", shift)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < math.inf):
                raise ValueError(f"{name} must be a finite number > 0 (P4: c = 2e4, shift = 1), got {value!r}.")
        self.c, self.shift = float(c), float(shift)
        self.log_c = math.log(self.c + self.shift)

    def forward(self, x):
        lib = _lib(x)
        log_part = lib.log(lib.clip(x, 0.0, self.c) + self.shift)
        linear_part = lib.clip(x - self.c, 0.0, None) / (self.c + self.shift)
        return (log_part + linear_part) * (3.0 / self.log_c)

    def inverse(self, y):
        lib = _lib(y)
        u = y * (self.log_c / 3.0)
        below = lib.exp(lib.clip(u, None, self.log_c)) - self.shift
        above = self.c + (self.c + self.shift) * lib.clip(u - self.log_c, 0.0, None)
        return lib.where(u <= self.log_c, below, above)

    def __repr__(self) -> str:
        return f"P4ForwardMap(c={self.c:g}, shift={self.shift:g})"


class _TorchOps:
    """The few numpy functions :class:`P4ForwardMap` needs, for torch tensors."""

    log, exp, where = staticmethod(torch.log), staticmethod(torch.exp), staticmethod(torch.where)

    @staticmethod
    def clip(x, low, high):
        return torch.clamp(x, low, high)


def _lib(x):
    return _TorchOps if isinstance(x, torch.Tensor) else np


def check_transform(transform) -> IntensityTransform:
    """``transform`` itself when it has ``forward`` and ``inverse``; one clear ValueError otherwise."""
    if not isinstance(transform, IntensityTransform):
        raise ValueError(
            f"transform must have forward(x) and inverse(y) methods (Identity, ConstantScale, "
            f"DensityScaling, P4ForwardMap), got {type(transform).__name__}."
        )
    return transform
