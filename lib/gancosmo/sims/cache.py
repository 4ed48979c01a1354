"""HDF5 + JSON cache of generated data sets, keyed by a hash of their configuration.

Each entry is ``<name>-<key>.h5`` (the arrays) beside ``<name>-<key>.json`` (the config, the
array shapes and the SHA-256 of the HDF5 file). Both are written to temporary files and
renamed into place, the JSON last, so an entry without a matching JSON checksum is by
construction incomplete or corrupt: it is reported and regenerated, never read.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from ..io import atomic_replace, atomic_write_json
from ..paths import cache_dir

__all__ = ["config_key", "cached_arrays", "CacheCorruptionWarning"]


class CacheCorruptionWarning(UserWarning):
    """A cache entry failed its checksum or could not be read and is being regenerated."""


def config_key(config: dict) -> str:
    """Stable 16-hex-digit key of a JSON-serialisable configuration."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _read(h5_path: Path, meta_path: Path) -> tuple[dict, dict] | None:
    if not (h5_path.exists() and meta_path.exists()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
            raise ValueError("it has no sha256 entry")
    except (OSError, UnicodeDecodeError, ValueError) as error:  # the record is bad, not (known to be) the data
        warnings.warn(
            f"cache record {meta_path.name} is not a valid JSON record ({error}); regenerating {h5_path.name}.",
            CacheCorruptionWarning,
            stacklevel=3,
        )
        return None
    try:
        if _sha256(h5_path) != meta["sha256"]:
            raise ValueError("checksum mismatch")
        with h5py.File(h5_path, "r") as f:
            arrays = {name: f[name][()] for name in f}
        return arrays, meta
    except Exception as error:  # any unreadable entry is regenerated, never used
        warnings.warn(
            f"cache entry {h5_path.name} is corrupt ({error}); regenerating it.", CacheCorruptionWarning, stacklevel=3
        )
        return None


def cached_arrays(name: str, config: dict, build: Callable[[], dict], root: Path | None = None) -> tuple[dict, dict]:
    """Return the arrays of a cached data set, building and storing them on a miss.

    Parameters
    ----------
    name : str
        Data-set name (file prefix).
    config : dict
        JSON-serialisable configuration; its hash is the cache key.
    build : callable
        Returns a dict of numpy arrays (and optionally ``"attrs"``: a JSON-serialisable dict
        stored in the metadata).
    root : Path, optional
        Cache folder (default ``cache_dir() / "suites"``).

    Returns
    -------
    arrays : dict of np.ndarray
    meta : dict
        ``config``, ``key``, ``sha256``, ``shapes``, ``attrs``, ``seconds`` (build time).
    """
    root = Path(root) if root is not None else cache_dir() / "suites"
    root.mkdir(parents=True, exist_ok=True)
    key = config_key(config)
    h5_path = root / f"{name}-{key}.h5"
    meta_path = root / f"{name}-{key}.json"
    hit = _read(h5_path, meta_path)
    if hit is not None:
        return hit
    start = time.perf_counter()
    arrays = build()
    attrs = arrays.pop("attrs", {})
    seconds = time.perf_counter() - start

    def write_h5(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            for array_name, array in arrays.items():
                f.create_dataset(array_name, data=np.asarray(array))

    meta_path.unlink(missing_ok=True)  # an entry is valid only once its JSON is back in place
    atomic_replace(h5_path, write_h5)
    meta = dict(
        name=name,
        key=key,
        config=config,
        sha256=_sha256(h5_path),
        attrs=attrs,
        seconds=seconds,
        shapes={k: list(np.shape(v)) for k, v in arrays.items()},
    )
    atomic_write_json(meta, meta_path)
    return {k: np.asarray(v) for k, v in arrays.items()}, meta
