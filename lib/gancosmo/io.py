"""Atomic file writes: a temporary file in the target's folder, flushed to disk, then renamed.

A crash or an exception therefore never leaves a half-written file under its final name,
and an existing file is replaced only by a complete new one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_replace", "atomic_write", "atomic_write_text", "atomic_write_json"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_replace(path, write_to: Callable[[Path], None]) -> Path:
    """Call ``write_to(tmp_path)`` on a temporary path beside ``path``, fsync it, rename it to ``path``.

    Use this for writers that need a file name (h5py); :func:`atomic_write` for file objects.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        write_to(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files: give the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_write(path, write: Callable) -> Path:
    """Call ``write(binary_file_object)`` into a temporary file, then rename it to ``path``."""

    def write_to(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            write(fh)

    return atomic_replace(path, write_to)


def atomic_write_text(text: str, path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def atomic_write_json(payload, path, indent: int = 1) -> Path:
    """Write ``payload`` as JSON to ``path`` atomically (non-JSON values through ``str``)."""
    return atomic_write_text(json.dumps(payload, indent=indent, sort_keys=True, default=str), path)
