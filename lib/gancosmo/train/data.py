"""A resumable, shardable epoch sampler and batch fetching for in-memory data sets.

:class:`EpochSampler` draws a fresh permutation each epoch from ``(seed, epoch)`` alone,
so its whole state is two integers (``epoch``, ``position``): a run restored from a
checkpoint continues with exactly the batches it would have seen. Under DDP each rank takes
every ``world_size``-th element of the same permutation (like
:class:`torch.utils.data.DistributedSampler`).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["EpochSampler", "fetch"]


class EpochSampler:
    """Batches of indices, epoch after epoch, with a state that can be saved and restored.

    Parameters
    ----------
    n : int
        Number of samples in the data set.
    batch_size : int
        Per-process batch size (>= 1).
    seed : int
        Seed of the permutations.
    shuffle : bool
        Permute each epoch (otherwise the natural order).
    rank, world_size : int
        This process's shard.
    """

    def __init__(
        self, n: int, batch_size: int, seed: int = 0, shuffle: bool = True, rank: int = 0, world_size: int = 1
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        per_rank = n // world_size
        if per_rank < batch_size:
            raise ValueError(
                f"the data set has {n} samples, fewer than one batch of {batch_size} per process "
                f"({world_size} process(es)); lower batch_size or add data."
            )
        self.n, self.batch_size, self.seed, self.shuffle = n, batch_size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.batches_per_epoch = per_rank // batch_size  # incomplete batches are dropped
        self.epoch, self.position = 0, 0
        self._perm, self._perm_epoch = None, None

    def _indices(self) -> np.ndarray:
        if self._perm_epoch != self.epoch:
            if self.shuffle:
                g = torch.Generator().manual_seed(int(self.seed) * 1_000_003 + self.epoch)
                perm = torch.randperm(self.n, generator=g).numpy()
            else:
                perm = np.arange(self.n)
            self._perm = perm[: (self.n // self.world_size) * self.world_size][self.rank :: self.world_size]
            self._perm_epoch = self.epoch
        return self._perm

    def next_batch(self) -> np.ndarray:
        """Indices of the next batch (moving to the next epoch when this one is used up)."""
        if self.position >= self.batches_per_epoch:
            self.epoch, self.position = self.epoch + 1, 0
        idx = self._indices()[self.position * self.batch_size : (self.position + 1) * self.batch_size]
        self.position += 1
        return idx

    @property
    def epochs_done(self) -> float:
        """Epochs consumed so far, fractional."""
        return self.epoch + self.position / self.batches_per_epoch

    def state_dict(self) -> dict:
        return dict(epoch=self.epoch, position=self.position, seed=self.seed, n=self.n)

    def load_state_dict(self, state: dict) -> None:
        if state["n"] != self.n:
            raise ValueError(
                f"the checkpoint's data set had {state['n']} samples, this one has {self.n}; resume with the same data."
            )
        self.epoch, self.position, self.seed = int(state["epoch"]), int(state["position"]), state["seed"]


def fetch(data, idx: np.ndarray) -> torch.Tensor:
    """Gather a batch: tensors and arrays are indexed directly, datasets item by item."""
    if isinstance(data, torch.Tensor):
        return data[torch.from_numpy(np.ascontiguousarray(idx)).to(data.device)]
    if isinstance(data, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(data[idx]))
    items = [data[int(i)] for i in idx]
    return torch.stack([torch.as_tensor(x) for x in items])
