"""Where the book keeps generated and downloaded data."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "committed_results"]


def cache_dir() -> Path:
    """Root of the data cache: ``$GANCOSMO_CACHE`` if set, else ``~/.cache/gancosmo``."""
    root = os.environ.get("GANCOSMO_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "gancosmo"
    path.mkdir(parents=True, exist_ok=True)
    return path


def committed_results() -> Path:
    """The repository's ``results/`` folder: small committed outputs of chapter runs shown by the book."""
    return Path(__file__).resolve().parents[2] / "results"
