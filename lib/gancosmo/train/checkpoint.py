"""Atomic, checksummed checkpoints: keep the last K, plus the best under a model-selection statistic.

Files in the checkpoint folder:

* ``step-00001234.pt``: full training state at a generator step (the last ``keep_last`` kept),
  with its record ``step-00001234.json``: ``file``, ``step``, ``bytes`` and the ``sha256`` of
  the ``.pt`` file;
* ``best.pt``: the full state at the step with the lowest statistic so far, with its record
  ``best.json``: the same fields plus the statistic's ``value`` (readable without torch).

Every file is written to a temporary name in the same folder, flushed to disk, then moved
into place with :func:`os.replace`, so a crash never leaves a half-written file under a
final name. A checkpoint is written in three moves: its old record is removed, the ``.pt``
is written, then its new record; a ``.pt`` whose record is missing, unreadable or does not
match its size and SHA-256 is never loaded (:class:`CheckpointError`).
:meth:`CheckpointManager.load_latest` walks back from the newest step checkpoint to the
newest one that verifies, with a :class:`CheckpointSkippedWarning` naming each file skipped.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path

import torch

from ..io import atomic_write, atomic_write_json, atomic_write_text

__all__ = [
    "atomic_save",
    "atomic_write_text",
    "load",
    "verify",
    "record_path",
    "CheckpointError",
    "CheckpointSkippedWarning",
    "CheckpointManager",
]

_PATTERN = re.compile(r"^step-(\d{8,})\.pt$")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be trusted (no or bad record, wrong size or checksum) or cannot be read."""


class CheckpointSkippedWarning(UserWarning):
    """Resume skipped a checkpoint that does not verify and fell back to an earlier one."""


def record_path(path) -> Path:
    """The record of checkpoint ``path``: the same name with ``.json`` for ``.pt``."""
    return Path(path).with_suffix(".json")


def _sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def atomic_save(obj, path, **fields) -> Path:
    """``torch.save(obj)`` to ``path`` atomically, then write its checksummed record.

    Parameters
    ----------
    obj : object
        What to save (a training state).
    path : path-like
        The ``.pt`` file.
    **fields
        JSON-serialisable entries added to the record (``step``, ``value``...).

    Returns
    -------
    pathlib.Path
        ``path``; its record is :func:`record_path` ``(path)``.
    """
    path = Path(path)
    record = record_path(path)
    record.unlink(missing_ok=True)  # the new .pt is valid only once its own record is in place
    atomic_write(path, lambda fh: torch.save(obj, fh))
    atomic_write_json(
        dict(fields, file=path.name, bytes=path.stat().st_size, sha256=_sha256(path)), record, indent=None
    )
    return path


def _read_record(path: Path) -> dict:
    record = record_path(path)
    if not record.exists():
        raise CheckpointError(
            f"checkpoint {path} has no record {record.name} (the run stopped between writing the two, or an "
            "older version wrote it), so it was not loaded."
        )
    try:
        payload = json.loads(record.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise CheckpointError(
            f"checkpoint {path} has a record {record.name} that is not valid JSON ({err}), so it was not loaded."
        ) from None
    ok = (
        isinstance(payload, dict)
        and payload.get("file") == path.name
        and isinstance(payload.get("bytes"), int)
        and isinstance(payload.get("sha256"), str)
    )
    if not ok:
        raise CheckpointError(
            f"checkpoint {path} has a record {record.name} without its own file name, size and sha256, "
            "so it was not loaded."
        )
    found = _PATTERN.match(path.name)
    if found and payload.get("step") != int(found.group(1)):
        raise CheckpointError(
            f"checkpoint {path} has a record {record.name} for step {payload.get('step')!r}, not "
            f"{int(found.group(1))}, so it was not loaded."
        )
    return payload


def verify(path) -> dict:
    """Check checkpoint ``path`` against its record; return the record.

    Raises
    ------
    CheckpointError
        The file or its record is missing, the record is not valid JSON or lacks the file's
        name, size or checksum, or the file's size or SHA-256 differ from the record
        (truncated, or bytes changed since it was written). The message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist.")
    record = _read_record(path)
    size = path.stat().st_size
    if size != record["bytes"]:
        raise CheckpointError(
            f"checkpoint {path} holds {size} bytes but its record says {record['bytes']} (truncated or "
            "overwritten), so it was not loaded."
        )
    digest = _sha256(path)
    if digest != record["sha256"]:
        raise CheckpointError(
            f"checkpoint {path} has sha256 {digest[:16]}... but its record says {record['sha256'][:16]}... "
            "(its bytes changed after it was written), so it was not loaded."
        )
    return record


def load(path, map_location="cpu") -> dict:
    """Verify checkpoint ``path`` (:func:`verify`) and read it (our own files: full unpickling).

    Raises
    ------
    CheckpointError
        The file does not verify against its record, or torch cannot read it.
    """
    path = Path(path)
    verify(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:  # noqa: BLE001 - whatever torch raises, the file is unusable
        raise CheckpointError(
            f"checkpoint {path} matches its record but torch cannot read it ({type(err).__name__}: {err})."
        ) from err


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
        """Generator steps of the step checkpoints present (verified or not), ascending."""
        if not self.directory.is_dir():
            return []
        found = (_PATTERN.match(p.name) for p in self.directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def path(self, step: int) -> Path:
        return self.directory / f"step-{step:08d}.pt"

    def latest(self) -> Path | None:
        """Path of the most recent step checkpoint (not verified), or ``None``."""
        steps = self.steps()
        return self.path(steps[-1]) if steps else None

    def load_latest(self, map_location="cpu") -> tuple[Path, dict] | None:
        """The newest step checkpoint that verifies, as ``(path, state)``; None when there is none at all.

        Each newer checkpoint that does not verify (truncated, bytes changed, missing or bad
        record, unreadable) is skipped with a :class:`CheckpointSkippedWarning` naming it.

        Raises
        ------
        CheckpointError
            Step checkpoints exist but none verifies (the message names the folder).
        """
        steps = self.steps()
        if not steps:
            return None
        for step in reversed(steps):
            path = self.path(step)
            try:
                return path, load(path, map_location=map_location)
            except CheckpointError as err:
                warnings.warn(f"{err} Trying the checkpoint before it.", CheckpointSkippedWarning, stacklevel=2)
        raise CheckpointError(
            f"none of the {len(steps)} step checkpoints in {self.directory} verifies against its record, so "
            "training cannot resume from that folder; remove it (or choose another out_dir) to start afresh."
        )

    def save(self, state: dict, step: int) -> Path:
        """Write the state of generator step ``step`` and drop the oldest beyond ``keep_last``."""
        path = atomic_save(state, self.path(step), step=int(step))
        for old in self.steps()[: -self.keep_last]:
            self.path(old).unlink(missing_ok=True)
            record_path(self.path(old)).unlink(missing_ok=True)
        return path

    def best(self) -> dict | None:
        """``{"step", "value"}`` of the best checkpoint so far, or ``None``."""
        f = self.directory / "best.json"
        if not f.exists():
            return None
        record = json.loads(f.read_text())
        return dict(step=record["step"], value=record["value"])

    def save_best(self, state: dict, step: int, value: float) -> Path:
        """Write ``best.pt`` and its record ``best.json`` (step, value, size, sha256)."""
        return atomic_save(state, self.directory / "best.pt", step=int(step), value=float(value))
