r"""One protocol for every intensity scaling between physical units and what the networks see.

A transform has ``forward(x)`` (physical -> network units) and ``inverse(y)`` (network ->
physical units); both take numpy arrays or torch tensors and return the same kind.

* :class:`Identity`: P1's "no normalisation" (kappa maps as they are).
* :class:`ConstantScale`: ``y = factor * x`` (the `cpu` profile of P1 multiplies by 10; P2
  divides by the training maps' pixel standard deviation: ``ConstantScale.standardize(maps)``).
* :class:`gancosmo.data.transforms.DensityScaling`: P3's :math:`c = 2x/(x + \kappa) - 1`.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np

from .transforms import DensityScaling

__all__ = ["IntensityTransform", "Identity", "ConstantScale", "DensityScaling", "check_transform"]


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


def check_transform(transform) -> IntensityTransform:
    """``transform`` itself when it has ``forward`` and ``inverse``; one clear ValueError otherwise."""
    if not isinstance(transform, IntensityTransform):
        raise ValueError(
            f"transform must have forward(x) and inverse(y) methods (Identity, ConstantScale, "
            f"DensityScaling), got {type(transform).__name__}."
        )
    return transform
