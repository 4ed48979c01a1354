"""Model selection: a statistic of the generator evaluated during training, lower is better.

:class:`Selector` is the one base class of the chapters' selection statistics (P1's chi-squared
of the power spectrum, P3's voxel PDF + P(k) distance): a subclass implements
:meth:`Selector.distance`; calling the selector records ``(step, value)`` in ``history``.
The best state belongs to :class:`gancosmo.train.Trainer` (``best_step``, ``best_value``,
``best_generator``, checkpointed with the run and restored by ``Trainer.restore_best()``), so a
resumed run keeps its best generator and no selector holds a second copy.
"""

from __future__ import annotations

import abc

__all__ = ["Selector"]


class Selector(abc.ABC):
    """Base class: ``selector(G, step) -> float`` with the history of values."""

    def __init__(self):
        self.history: list[tuple[int, float]] = []

    @abc.abstractmethod
    def distance(self, G) -> float:
        """The statistic of generator ``G`` (lower is better)."""

    def __call__(self, G, step: int) -> float:
        value = float(self.distance(G))
        self.history.append((int(step), value))
        return value
