"""Atomic checkpoints: keep the last K, plus the best under a model-selection statistic.

Files in the checkpoint folder:

* ``step-00001234.pt``: full training state at a generator step (the last ``keep_last`` kept);
* ``best.pt``: the full state at the step with the lowest statistic so far, and
  ``best.json``: that step and value (readable without torch).

Every file is written to a temporary name in the same folder, flushed to disk, then moved
into place with :func:`os.replace`, so a crash never leaves a half-written file under a
final name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from ..io import atomic_write, atomic_write_text

__all__ = ["atomic_save", "atomic_write_text", "load", "CheckpointManager"]

_PATTERN = re.compile(r"^step-(\d{8,})\.pt$")


def atomic_save(obj, path) -> Path:
    """``torch.save(obj)`` to ``path`` through a temporary file and :func:`os.replace`."""
    return atomic_write(path, lambda fh: torch.save(obj, fh))


def load(path, map_location="cpu") -> dict:
    """Read a checkpoint written by :func:`atomic_save` (our own files: full unpickling)."""
    return torch.load(path, map_location=map_location, weights_only=False)


class CheckpointManager:
    """Write and find checkpoints in one folder.

    Parameters
    ----------
    directory : path
        Folder of the checkpoints (created when needed).
    keep_last : int
        Number of most recent step checkpoints kept (>= 1); ``best.pt`` is kept apart.
    """

    def __init__(self, directory, keep_last: int = 3):
        if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1:
            raise ValueError(f"keep_last must be an integer >= 1, got {keep_last!r}.")
        self.directory = Path(directory)
        self.keep_last = keep_last

    def steps(self) -> list[int]:
        """Generator steps of the step checkpoints present, ascending."""
        if not self.directory.is_dir():
            return []
        found = (_PATTERN.match(p.name) for p in self.directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def path(self, step: int) -> Path:
        return self.directory / f"step-{step:08d}.pt"

    def latest(self) -> Path | None:
        """Path of the most recent step checkpoint, or ``None``."""
        steps = self.steps()
        return self.path(steps[-1]) if steps else None

    def save(self, state: dict, step: int) -> Path:
        """Write the state of generator step ``step`` and drop the oldest beyond ``keep_last``."""
        path = atomic_save(state, self.path(step))
        for old in self.steps()[: -self.keep_last]:
            self.path(old).unlink(missing_ok=True)
        return path

    def best(self) -> dict | None:
        """``{"step", "value"}`` of the best checkpoint so far, or ``None``."""
        f = self.directory / "best.json"
        return json.loads(f.read_text()) if f.exists() else None

    def save_best(self, state: dict, step: int, value: float) -> Path:
        path = atomic_save(state, self.directory / "best.pt")
        atomic_write_text(json.dumps(dict(step=int(step), value=float(value))), self.directory / "best.json")
        return path
