"""Process-group setup for DDP under ``torchrun`` (one process = no process group).

``torchrun --nproc_per_node N script.py`` sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``;
:func:`setup` reads them, initialises the process group (NCCL on CUDA, gloo on CPU) and picks
the device. Run without ``torchrun`` (or with one process) the same code is single-process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistInfo", "setup", "cleanup", "all_gather_objects", "mean_across"]


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: rank, world size, local rank, device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device=None, backend: str | None = None) -> DistInfo:
    """Initialise from the ``torchrun`` environment (idempotent).

    Parameters
    ----------
    device : str or torch.device, optional
        ``"cpu"`` or ``"cuda"``; default CUDA when available. Under torchrun on CUDA each
        process takes ``cuda:LOCAL_RANK``.
    backend : str, optional
        Process-group backend; default ``nccl`` on CUDA, ``gloo`` on CPU.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(device)!r} was requested but CUDA is not available; use 'cpu'.")
        if dev.index is None:
            dev = torch.device("cuda", local if world > 1 else torch.cuda.current_device())
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend or ("nccl" if dev.type == "cuda" else "gloo"))
    if dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    return DistInfo(rank, world, local, dev)


def cleanup() -> None:
    """Destroy the process group, if any."""
    if dist.is_initialized():
        dist.destroy_process_group()


def all_gather_objects(obj) -> list:
    """Every rank's ``obj`` as a list (``[obj]`` without a process group)."""
    if not (dist.is_initialized() and dist.get_world_size() > 1):
        return [obj]
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def mean_across(t: torch.Tensor) -> torch.Tensor:
    """Mean of a tensor over ranks (itself without a process group)."""
    if not (dist.is_initialized() and dist.get_world_size() > 1):
        return t
    t = t.clone()
    dist.all_reduce(t)
    return t / dist.get_world_size()
