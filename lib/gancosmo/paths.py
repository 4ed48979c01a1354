"""Where the book keeps generated and downloaded data.

One default, used by ``make book``, papermill and anyone's own scripts alike (:func:`cache_dir`):
``$GANCOSMO_CACHE`` when set; else ``<repository>/.cache/gancosmo`` when the package is imported
from a checkout of the repository (the editable install that ``make`` does); else
``~/.cache/gancosmo``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "committed_results", "default_cache_dir", "repository_root"]

CACHE_ENV = "GANCOSMO_CACHE"


def repository_root() -> Path | None:
    """The checkout this package is imported from, or None for an installed copy.

    A checkout is recognised by its layout: this module lives in ``<root>/lib/gancosmo/`` and
    ``<root>/pyproject.toml`` exists. A regular (non-editable) install in ``site-packages`` has
    neither, so it returns None.
    """
    package = Path(__file__).resolve().parent
    root = package.parents[1]
    if package == root / "lib" / "gancosmo" and (root / "pyproject.toml").is_file():
        return root
    return None


def default_cache_dir() -> Path:
    """The cache folder used when ``$GANCOSMO_CACHE`` is not set (the folder is not created).

    ``<repository>/.cache/gancosmo`` inside a checkout (see :func:`repository_root`), else
    ``~/.cache/gancosmo``.
    """
    root = repository_root()
    if root is not None:
        return root / ".cache" / "gancosmo"
    return Path.home() / ".cache" / "gancosmo"


def cache_dir() -> Path:
    """Root of the data cache, created if missing.

    ``$GANCOSMO_CACHE`` if set and not empty, else :func:`default_cache_dir`: the repository's
    ``.cache/gancosmo`` when the package is imported from a checkout, else ``~/.cache/gancosmo``.
    """
    root = os.environ.get(CACHE_ENV)
    path = Path(root).expanduser() if root else default_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def committed_results() -> Path:
    """The repository's ``results/`` folder: small committed outputs of chapter runs shown by the book."""
    return Path(__file__).resolve().parents[2] / "results"
