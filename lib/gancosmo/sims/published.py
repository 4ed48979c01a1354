"""Checksummed downloaders and readers for the papers' published data sets.

The book simulates every data set it needs; this module is the other door, for readers
with network access who want the papers' own data. Three data sets are public:

``"p1"``
    CosmoGAN (Mustafa et al. 2019): the authors' file ``cosmogan_maps_256_8k_1.npy``,
    8000 maps of 256^2 pixels in [-1, 1]. **These are GAN samples, not simulations**: the
    paper's simulated maps were never published. No checksum is published either, so the
    file is validated on first use (shape, finite values in [-1, 1]) and its md5 is then
    recorded beside it and checked on every later read.
``"p2"``
    Conditional mass maps (Fluri et al. 2019, KiDS-450-like, zenodo 4646764): 57 zip
    archives, one per (Omega_m, sigma_8), each holding one ``.npy`` of 12000 convergence
    maps of 128^2 pixels (5 x 5 deg).
``"p4"``
    3D N-body cubes (Perraudin et al. 2019, zenodo 3369574): ``nbody-cubes.zip`` with 30
    HDF5 files, one 256^3 particle-count cube each under the key ``data``.

P3 and P5 data are not public: :func:`load_p3_boxes` and :func:`load_p5_images` say so and
point to the simulated suite. :func:`load_published` is the single switch a chapter uses.

Files live under ``gancosmo.paths.cache_dir() / "published"`` (or an explicit ``cache=``
directory), one folder per data set. Downloads go through :mod:`pooch`: a file is streamed
to a temporary name, its md5 checked, and only then renamed into place; a cached file is
re-hashed on every fetch, and one that no longer matches is downloaded again. Archives are
extracted the same way (temporary name, validation, then :func:`os.replace`), so a
half-written or invalid file is never left under a final name nor returned as data. A
download that fails (no network, a timeout, a wrong checksum, an interruption) leaves no
partial file and no folder it created behind. A JSON record beside a file (its md5, the size
of an extracted file, the P4 manifest) that is unreadable is reported by name with a
:class:`PublishedRecordWarning` and the file is verified again.

Every loader is called the same way, by keyword, through :func:`load_published` (and so
``load_suite(name, source="published", ...)``): ``cache``, ``base_url``, ``registry``,
``progressbar`` and ``timeout`` for all, plus ``n_maps`` (P1, P2), ``omega_m`` and ``sigma8``
(P2, required), ``n_cubes`` (P4) and ``map_size`` (P1), ``mmap`` (P2), ``cube_size``, ``key``
(P4); a missing or unknown argument is refused with a sentence listing the accepted ones.

Network timeouts: each download waits at most ``timeout`` seconds (default
:data:`DEFAULT_TIMEOUT`, 30 s) to connect to each address the server's name resolves to, then
at most ``timeout`` seconds for each next piece of data, and is not retried. A network that
hangs (nothing arrives) therefore fails one file after at most ``(addresses + 1) * timeout``
seconds, 60 s for a server with one address at the default; resolving the name is left to the
system's resolver (usually a few seconds). A slow download that keeps receiving data is not
cut off.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import inspect
import json
import math
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gancosmo.io import atomic_write_json
from gancosmo.paths import cache_dir

__all__ = [
    "PUBLISHED",
    "NOT_PUBLIC",
    "P1_BASE_URL",
    "P2_BASE_URL",
    "P4_BASE_URL",
    "P2_EXTRAPOLATION",
    "DEFAULT_TIMEOUT",
    "PublishedDataError",
    "PublishedRecordWarning",
    "ChecksumError",
    "CorruptFileError",
    "DataNotPublicError",
    "P2Cosmology",
    "published_cache",
    "p1_registry",
    "fetch_p1_maps",
    "load_p1_maps",
    "p2_grid",
    "p2_filename",
    "parse_p2_filename",
    "p2_registry",
    "fetch_p2_docs",
    "fetch_p2_cosmology",
    "load_p2_maps",
    "p4_registry",
    "fetch_p4_cubes",
    "load_p4_cubes",
    "load_p3_boxes",
    "load_p5_images",
    "load_published",
    "published_arguments",
]

P1_BASE_URL = "http://portal.nersc.gov/project/dasrepo/cosmogan/"
P1_FILE = "cosmogan_maps_256_8k_1.npy"
P2_BASE_URL = "https://zenodo.org/record/4646764/files/"
P2_MAP_SIZE = 128
#: The three test cosmologies outside the training hull, (Omega_m, sigma_8).
P2_EXTRAPOLATION = ((0.196, 1.225), (0.127, 0.836), (0.487, 0.643))
P4_BASE_URL = "https://zenodo.org/record/3369574/files/"
P4_ARCHIVE = "nbody-cubes.zip"
P4_NAME_TAG = "256_nbody_350Mpc"
#: Seconds a download waits to connect to one address of the server, then for each next piece of data.
DEFAULT_TIMEOUT = 30.0

PUBLISHED = {
    "p1": "P1 CosmoGAN (Mustafa et al. 2019): 8000 GAN-generated 256^2 convergence maps in "
    "[-1, 1] published by the authors (GAN samples, not simulations; no checksum "
    "published), from " + P1_BASE_URL + ".",
    "p2": "P2 conditional mass maps (Fluri et al. 2019): 57 KiDS-450-like cosmologies "
    "(Omega_m, sigma_8), 12000 convergence maps of 128^2 px (5 x 5 deg) each, "
    "zenodo 4646764.",
    "p4": "P4 3D N-body cubes (Perraudin et al. 2019): 30 particle-count cubes of 256^3 "
    "voxels (500 Mpc/h box, z = 0, L-PICOLA), zenodo 3369574.",
}

NOT_PUBLIC = {
    "p3": "The P3 training data (Feder et al. 2020: 32 GADGET-2 boxes of 512^3 particles at "
    "seven redshifts) were never made public, so they cannot be downloaded; use the "
    'book\'s simulated P3 suite (data source "simulated") instead.',
    "p5": "The P5 data sets (Ullmo et al. 2021: 1000 runs of a 2D particle-mesh code and a "
    "GADGET-2 512^3 box sliced into 72,000 images) are not public, so they cannot be "
    'downloaded; use the book\'s simulated P5 suite (data source "simulated") instead.',
}

_P2_DOCS = {
    "description.md": "md5:8e87303f686e31ac977c55af9fa5a330",
    "cosmo.par": "md5:674997a97f5f86b944c45793d378c0fc",
}
_P4_FILES = {
    P4_ARCHIVE: "md5:abc89d98e60d94fda703f5d176594dd9",
    "README.md": "md5:0d88b246880d554406e48d249931008d",
}
_GRID_CSV = Path(__file__).with_name("kids450_grid.csv")


# --------------------------------------------------------------------------- errors
class PublishedDataError(RuntimeError):
    """A published file could not be obtained or read; nothing invalid was returned."""


class ChecksumError(PublishedDataError):
    """A downloaded or cached file does not have its registered md5."""


class CorruptFileError(PublishedDataError):
    """A file has the right checksum (or none is known) but its content is unreadable."""


class DataNotPublicError(ValueError):
    """The requested paper's data were never published."""


class PublishedRecordWarning(UserWarning):
    """A JSON record beside a published file is unreadable: it is ignored and the file verified again."""


# --------------------------------------------------------------------------- helpers
def published_cache(cache=None) -> Path:
    """Root folder of the published data: ``cache`` if given, else ``cache_dir()/published``.

    The folder is not created here: the loaders create it when they write a file, and remove
    what they created when a download fails.
    """
    return Path(cache) if cache is not None else cache_dir() / "published"


@contextlib.contextmanager
def _no_folders_left_on_failure(folder: Path):
    """Create ``folder`` (and its missing parents); when the body fails, remove those of them still empty."""
    created = [path for path in (folder, *folder.parents) if not path.exists()]  # deepest first
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    except BaseException:
        for path in created:
            try:
                path.rmdir()
            except OSError:  # not empty: it holds a complete file, from before or from this call
                break
        raise


def _check_timeout(timeout) -> float:
    ok = not isinstance(timeout, bool) and isinstance(timeout, (int, float)) and math.isfinite(timeout)
    if not ok or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    return float(timeout)


def _progressbar(progressbar) -> bool:
    if progressbar is not None:
        return bool(progressbar)
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def _fetch(fname: str, registry: dict, base_url: str, folder: Path, progressbar, timeout: float) -> Path:
    """Download ``fname`` with pooch (md5-checked when the registry has a hash).

    The download goes to a temporary file in ``folder`` that pooch removes unless it
    completes with the right md5; ``timeout`` (seconds) bounds the wait for the connection to
    each server address and for each next piece of data (see the module's docstring).
    """
    import pooch
    import requests

    if fname not in registry:
        raise ValueError(f"{fname!r} is not in this data set's registry.")
    timeout = _check_timeout(timeout)
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    target = folder / fname
    known = registry[fname]
    pup = pooch.create(path=folder, base_url=base_url, registry=dict(registry))
    downloader = pooch.HTTPDownloader(progressbar=_progressbar(progressbar), timeout=timeout)
    try:
        return Path(pup.fetch(fname, downloader=downloader))
    except requests.RequestException as err:  # first: some (InvalidSchema, InvalidURL) are ValueErrors too
        if known and target.exists() and (pooch.file_hash(str(target), alg="md5") != known.split(":")[-1].lower()):
            target.unlink()  # a corrupted cached copy that could not be replaced
        hint = f" (md5 {known.split(':')[-1]})" if known else ""
        why = type(err).__name__
        if isinstance(err, requests.Timeout):
            why = f"no answer within {timeout:g} s: {why}"
        raise PublishedDataError(
            f"Could not download {base_url}{fname} ({why}); without network "
            f"access, place the file by hand at {target}{hint}."
        ) from err
    except ValueError as err:
        found = re.search(r"expected (\S+) but got (\w+)", str(err))
        if found is None:
            raise
        target.unlink(missing_ok=True)  # a stale cached copy that failed to update
        expected = found.group(1).split(":")[-1]
        raise ChecksumError(
            f"{fname} from {base_url} has md5 {found.group(2)} but {expected} was expected, "
            f"so the file was deleted from {folder} and not used."
        ) from None


def _md5(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "md5").hexdigest()


def _write_json(path: Path, payload: dict) -> None:
    atomic_write_json(payload, path)


def _read_json(path: Path) -> dict | None:
    """The JSON record at ``path``; None when there is none or it is corrupt (reported by name)."""
    if not path.exists():
        return None
    try:
        payload = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        problem = f"is not valid JSON ({err})"
    else:
        if isinstance(payload, dict):
            return payload
        problem = f"holds a JSON {type(payload).__name__}, not an object"
    warnings.warn(
        f"the JSON record {path} {problem}, so it was ignored and the data it describes are verified again.",
        PublishedRecordWarning,
        stacklevel=3,
    )
    return None


def _npy_header(path: Path, label: str) -> tuple[tuple, np.dtype]:
    """Shape and dtype of a ``.npy`` file, raising if it is not one or is truncated."""
    fmt = np.lib.format
    size = os.path.getsize(path)
    with open(path, "rb") as stream:
        try:
            version = fmt.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(stream)
            else:
                shape, _, dtype = fmt.read_array_header_2_0(stream)
        except (ValueError, OSError, EOFError) as err:
            raise CorruptFileError(f"{label} is not a readable .npy file ({err}), so it was not used.") from None
        offset = stream.tell()
    if dtype.hasobject or dtype.kind not in "fiu":
        raise CorruptFileError(f"{label} holds {dtype} values, not numbers, so it was not used.")
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size < expected:
        raise CorruptFileError(
            f"{label} is truncated: its header announces shape {shape} of {dtype} "
            f"({expected} bytes) but the file holds {size} bytes, so it was not used."
        )
    return tuple(shape), dtype


def _check_maps_shape(shape: tuple, size: int, label: str) -> None:
    if len(shape) != 3 or shape[1:] != (size, size):
        raise CorruptFileError(
            f"{label} holds an array of shape {shape}, not (n, {size}, {size}) maps, so it was not used."
        )


def _take(array: np.ndarray, n: int | None, what: str, label: str) -> int:
    total = array.shape[0]
    if n is None:
        return total
    if not 0 < int(n) <= total:
        raise ValueError(f"n_{what} must be between 1 and {total} for {label}, got {n}.")
    return int(n)


# --------------------------------------------------------------------------- P1
def p1_registry() -> dict:
    """Pooch registry of P1: the one GAN-sample file, with no published hash (``None``)."""
    return {P1_FILE: None}


def _known_md5(registry: dict, fname: str) -> str | None:
    known = registry.get(fname)
    return known.split(":")[-1].lower() if known else None


def _validate_p1(path: Path, map_size: int) -> dict:
    """Check a P1 file fully (header, size, finite values in [-1, 1]); return its record."""
    shape, dtype = _npy_header(path, path.name)
    _check_maps_shape(shape, map_size, path.name)
    maps = np.load(path, mmap_mode="r")
    lo, hi = np.inf, -np.inf
    for start in range(0, shape[0], 256):
        chunk = np.asarray(maps[start : start + 256], dtype=np.float64)
        if not np.isfinite(chunk).all():
            raise CorruptFileError(f"{path.name} contains non-finite values, so it was not used.")
        lo, hi = min(lo, chunk.min()), max(hi, chunk.max())
    del maps
    if lo < -1.0 - 1e-5 or hi > 1.0 + 1e-5:
        raise CorruptFileError(
            f"{path.name} has values in [{lo:.4g}, {hi:.4g}], outside the [-1, 1] range of "
            "the published GAN maps, so it was not used."
        )
    return {"md5": _md5(path), "shape": list(shape), "dtype": str(dtype), "min": float(lo), "max": float(hi)}


def fetch_p1_maps(
    cache=None,
    base_url=None,
    progressbar=None,
    map_size: int = 256,
    registry=None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Download (once) and verify the P1 authors' GAN-sample file; return its path.

    No md5 is published for this file, so the first valid copy is trusted: its shape and
    value range are checked and its md5 recorded in ``<file>.json`` beside it. Every later
    call re-hashes the file against that record; a copy that changed is deleted and
    downloaded again.

    Parameters
    ----------
    cache : path-like, optional
        Root folder replacing ``cache_dir()/published``; the file goes to ``<cache>/p1``.
    base_url : str, optional
        Where to download from (default :data:`P1_BASE_URL`).
    progressbar : bool, optional
        Show a download progress bar (default: when tqdm is installed).
    map_size : int
        Expected side of the maps in pixels (256; tests use the default too).
    registry : dict, optional
        ``{file name: "md5:<hash>"}`` overriding :func:`p1_registry` (an md5 you trust).
    timeout : float
        Seconds to wait for the connection to each server address and then for each next
        piece of data (default 30 s): a hanging network fails after at most
        ``(addresses + 1) * timeout`` seconds, see the module's docstring.

    Returns
    -------
    pathlib.Path
        The verified ``cosmogan_maps_256_8k_1.npy``.
    """
    timeout = _check_timeout(timeout)
    reg = p1_registry()
    reg.update(registry or {})
    known = _known_md5(reg, P1_FILE)
    folder = published_cache(cache) / "p1"
    with _no_folders_left_on_failure(folder):
        path, record_path = folder / P1_FILE, folder / (P1_FILE + ".json")
        if path.exists():
            record = _read_json(record_path)
            try:
                if record is None:  # placed by hand, a crash before recording, or a corrupt record
                    record = _validate_p1(path, map_size)
                    if known is None or record["md5"] == known:
                        _write_json(record_path, record)
                        return path
                elif _md5(path) == record.get("md5") and known in (None, record.get("md5")):
                    return path
            except CorruptFileError:
                pass
            path.unlink(missing_ok=True)  # changed since it was verified: fetch it again
            record_path.unlink(missing_ok=True)
        path = _fetch(P1_FILE, reg, base_url or P1_BASE_URL, folder, progressbar, timeout)
        try:
            record = _validate_p1(path, map_size)
        except CorruptFileError:
            path.unlink(missing_ok=True)
            raise
        _write_json(record_path, record)
        return path


def load_p1_maps(
    n_maps: int | None = None,
    cache=None,
    base_url=None,
    progressbar=None,
    map_size: int = 256,
    registry=None,
    timeout: float = DEFAULT_TIMEOUT,
) -> np.ndarray:
    """The P1 authors' GAN-generated maps, ``(n, 256, 256)`` float32 in [-1, 1].

    These are samples of the authors' trained CosmoGAN, not N-body/ray-traced maps (those
    were never published): use them as a second generator to compare against, never as
    the "real" side of a two-sample test.

    Parameters
    ----------
    n_maps : int, optional
        How many maps to read from the start of the file (default all 8000); only those
        are read, through a memory map.
    cache, base_url, progressbar, map_size, registry, timeout
        As in :func:`fetch_p1_maps`.

    Returns
    -------
    numpy.ndarray
        ``(n_maps, map_size, map_size)`` float32.
    """
    path = fetch_p1_maps(
        cache=cache,
        base_url=base_url,
        progressbar=progressbar,
        map_size=map_size,
        registry=registry,
        timeout=timeout,
    )
    maps = np.load(path, mmap_mode="r")
    n = _take(maps, n_maps, "maps", path.name)
    return np.array(maps[:n], dtype=np.float32)


# --------------------------------------------------------------------------- P2
class P2Cosmology(NamedTuple):
    """One P2 cosmology: its parameters, the paper's split and its archive."""

    omega_m: float
    sigma8: float
    split: str  # "train" or "test"
    extrapolation: bool  # a test cosmology outside the training hull
    filename: str
    md5: str


@functools.lru_cache(maxsize=1)
def _grid() -> tuple[P2Cosmology, ...]:
    rows = []
    with open(_GRID_CSV, newline="") as stream:
        for row in csv.DictReader(stream):
            rows.append(
                P2Cosmology(
                    omega_m=float(row["omega_m"]),
                    sigma8=float(row["sigma_8"]),
                    split="train" if row["split"] == "train" else "test",
                    extrapolation=row["split"] == "test_extrapolation",
                    filename=row["zenodo_file"],
                    md5=row["md5"].lower(),
                )
            )
    if len(rows) != 57:
        raise PublishedDataError(f"{_GRID_CSV} lists {len(rows)} cosmologies instead of 57.")
    return tuple(rows)


def p2_grid() -> list[P2Cosmology]:
    """The 57 P2 cosmologies with the paper's split (46 train, 11 test of which 3 extrapolate).

    Returns
    -------
    list of P2Cosmology
        Rows ``(omega_m, sigma8, split, extrapolation, filename, md5)``, read from the
        ``kids450_grid.csv`` shipped with the package.
    """
    return list(_grid())


def p2_filename(omega_m: float, sigma8: float) -> str:
    """Archive name of a P2 cosmology, ``kappa_map_cosmo_{Om:.3f}_{s8:.3f}.zip``."""
    return f"kappa_map_cosmo_{float(omega_m):.3f}_{float(sigma8):.3f}.zip"


def parse_p2_filename(name) -> tuple[float, float]:
    """``(Omega_m, sigma_8)`` from a P2 archive or map file name."""
    parts = Path(str(name)).name.split("_")
    try:
        return float(parts[3]), float(parts[4].rsplit(".", 1)[0])
    except (IndexError, ValueError):
        raise ValueError(f"{name!r} is not a P2 file name of the form kappa_map_cosmo_<Om>_<s8>.zip.") from None


def p2_registry() -> dict:
    """Pooch registry of P2: 57 archives (md5 from the shipped csv) and the two docs."""
    registry = {row.filename: f"md5:{row.md5}" for row in _grid()}
    registry.update(_P2_DOCS)
    return registry


def _p2_setup(cache, base_url, registry):
    merged = p2_registry()
    merged.update(registry or {})
    return published_cache(cache) / "p2", base_url or P2_BASE_URL, merged


def fetch_p2_docs(cache=None, base_url=None, registry=None, progressbar=None, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Download (once) ``description.md`` and ``cosmo.par``; return ``{name: path}``.

    Arguments as in :func:`fetch_p2_cosmology`.
    """
    timeout = _check_timeout(timeout)
    folder, url, reg = _p2_setup(cache, base_url, registry)
    with _no_folders_left_on_failure(folder):
        return {name: _fetch(name, reg, url, folder, progressbar, timeout) for name in _P2_DOCS}


def _extract_p2(archive: Path, out: Path, source_md5: str) -> Path:
    """Extract the single ``.npy`` of ``archive`` to ``out`` atomically, once."""
    record_path = out.with_name(out.name + ".json")
    record = _read_json(record_path)
    if (
        out.exists()
        and record is not None
        and record.get("source_md5") == source_md5
        and record.get("size") == out.stat().st_size
    ):
        return out
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name + ".", suffix=".part")
    try:
        try:
            with os.fdopen(fd, "wb") as dst, zipfile.ZipFile(archive) as zf:
                members = [m for m in zf.infolist() if m.filename.endswith(".npy") and not m.is_dir()]
                if len(members) != 1:
                    raise CorruptFileError(
                        f"{archive.name} holds {len(members)} .npy files instead of one, so it was not used."
                    )
                with zf.open(members[0]) as src:
                    shutil.copyfileobj(src, dst, 1 << 22)
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as err:
            raise CorruptFileError(
                f"{archive.name} is not a readable zip archive ({err}), so it was not used."
            ) from None
        label = f"{members[0].filename} (in {archive.name})"
        shape, _ = _npy_header(Path(tmp), label)
        _check_maps_shape(shape, P2_MAP_SIZE, label)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _write_json(
        record_path,
        {"source_md5": source_md5, "size": out.stat().st_size, "member": members[0].filename, "shape": list(shape)},
    )
    return out


def fetch_p2_cosmology(
    omega_m: float,
    sigma8: float,
    cache=None,
    base_url=None,
    registry=None,
    progressbar=None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Download (once) and unpack the P2 maps of one cosmology; return the ``.npy`` path.

    Parameters
    ----------
    omega_m, sigma8 : float
        A grid point of :func:`p2_grid` (matched at 3 decimals, as in the file names).
    cache : path-like, optional
        Root folder replacing ``cache_dir()/published``; files go to ``<cache>/p2``.
    base_url : str, optional
        Where to download from (default :data:`P2_BASE_URL`, the zenodo record).
    registry : dict, optional
        ``{file name: "md5:<hash>"}`` entries overriding :func:`p2_registry` (tests).
    progressbar : bool, optional
        Show a download progress bar (default: when tqdm is installed).
    timeout : float
        Seconds to wait for the connection to each server address and then for each next
        piece of data (default 30 s): a hanging network fails after at most
        ``(addresses + 1) * timeout`` seconds, see the module's docstring.

    Returns
    -------
    pathlib.Path
        ``<cache>/p2/kappa_map_cosmo_<Om>_<s8>.npy``, extracted from the md5-verified
        archive through a temporary file and checked for truncation.

    Raises
    ------
    ChecksumError
        The archive's md5 differs from the registry (the file is deleted).
    CorruptFileError
        The archive or its ``.npy`` is unreadable or truncated.
    """
    timeout = _check_timeout(timeout)
    folder, url, reg = _p2_setup(cache, base_url, registry)
    omega_m, sigma8 = _p2_number("omega_m", omega_m), _p2_number("sigma8", sigma8)
    fname = p2_filename(omega_m, sigma8)
    if fname not in reg:
        near = min(_grid(), key=lambda r: (r.omega_m - omega_m) ** 2 + (r.sigma8 - sigma8) ** 2)
        raise ValueError(
            f"(Omega_m, sigma_8) = ({omega_m}, {sigma8}) is not one of the 57 P2 cosmologies "
            f"(nearest: ({near.omega_m}, {near.sigma8})); see p2_grid()."
        )
    with _no_folders_left_on_failure(folder):
        archive = _fetch(fname, reg, url, folder, progressbar, timeout)
        source_md5 = (reg[fname] or "").split(":")[-1]
        return _extract_p2(archive, folder / fname.replace(".zip", ".npy"), source_md5)


def _p2_number(name: str, value) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if not ok or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number (a grid point of p2_grid()), got {value!r}.")
    return float(value)


def load_p2_maps(
    omega_m: float,
    sigma8: float,
    n_maps: int | None = None,
    cache=None,
    base_url=None,
    registry=None,
    progressbar=None,
    mmap: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> np.ndarray:
    """P2 convergence maps of one cosmology, ``(n, 128, 128)`` float32.

    Parameters
    ----------
    omega_m, sigma8 : float
        A grid point of :func:`p2_grid`.
    n_maps : int, optional
        How many maps to read from the start of the file (default all 12000); only those
        are read, through a memory map.
    cache, base_url, registry, progressbar, timeout
        As in :func:`fetch_p2_cosmology`.
    mmap : bool
        Return a read-only memory map instead of a copy in memory (when the file is
        float32; otherwise a float32 copy is made anyway).

    Returns
    -------
    numpy.ndarray
        ``(n_maps, 128, 128)`` float32 maps; no intensity transform is applied.
    """
    path = fetch_p2_cosmology(
        omega_m, sigma8, cache=cache, base_url=base_url, registry=registry, progressbar=progressbar, timeout=timeout
    )
    maps = np.load(path, mmap_mode="r")
    n = _take(maps, n_maps, "maps", path.name)
    if mmap and maps.dtype == np.float32:
        return maps[:n]
    out = np.array(maps[:n], dtype=np.float32)
    if not np.isfinite(out).all():
        raise CorruptFileError(f"{path.name} contains non-finite values, so it was not used.")
    return out


# --------------------------------------------------------------------------- P4
def p4_registry() -> dict:
    """Pooch registry of P4: ``nbody-cubes.zip`` and ``README.md`` with their md5s."""
    return dict(_P4_FILES)


def _check_cube_file(path: Path, key: str, cube_size: int, label: str):
    """Open an HDF5 cube file and return its dataset's shape, with explicit errors."""
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            if key not in h5 or not isinstance(h5[key], h5py.Dataset):
                raise CorruptFileError(
                    f"{label} has no dataset {key!r} (it holds {sorted(h5.keys())}), so it was not used."
                )
            shape, dtype = h5[key].shape, h5[key].dtype
    except OSError as err:
        raise CorruptFileError(
            f"{label} is not a readable HDF5 file (truncated or corrupted: {err}), so it was not used."
        ) from None
    if shape != (cube_size,) * 3 or dtype.kind not in "fiu":
        raise CorruptFileError(
            f"{label} holds {dtype} data of shape {shape}, not a {cube_size}^3 cube of counts, so it was not used."
        )
    return shape


def _cube_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    files = [m for m in zf.infolist() if not m.is_dir()]
    chosen = [m for m in files if P4_NAME_TAG in Path(m.filename).name]
    if not chosen:  # tolerate renamed files: any HDF5 by extension
        chosen = [m for m in files if m.filename.lower().endswith((".h5", ".hdf5"))]
    if not chosen:
        names = ", ".join(m.filename for m in files[:5]) or "nothing"
        raise CorruptFileError(
            f"The P4 archive holds no cube files (no name containing {P4_NAME_TAG!r} or "
            f"ending in .h5/.hdf5; it starts with {names}), so it was not used."
        )
    basenames = [Path(m.filename).name for m in chosen]
    if len(set(basenames)) != len(basenames):
        raise CorruptFileError("The P4 archive holds two cube files with the same name.")
    return sorted(chosen, key=lambda m: Path(m.filename).name)


def fetch_p4_cubes(
    cache=None,
    base_url=None,
    registry=None,
    progressbar=None,
    cube_size: int = 256,
    key: str = "data",
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Path]:
    """Download (once) and unpack the P4 cubes; return the sorted HDF5 paths.

    The archive is extracted into a temporary folder, each cube file is opened and its
    dataset ``key`` checked for a ``cube_size^3`` shape, and only then is the folder
    renamed to ``<cache>/p4/nbody-cubes`` with a manifest of the source md5.

    Parameters
    ----------
    cache : path-like, optional
        Root folder replacing ``cache_dir()/published``; files go to ``<cache>/p4``.
    base_url : str, optional
        Where to download from (default :data:`P4_BASE_URL`, the zenodo record).
    registry : dict, optional
        ``{file name: "md5:<hash>"}`` entries overriding :func:`p4_registry` (tests).
    progressbar : bool, optional
        Show a download progress bar (default: when tqdm is installed).
    cube_size : int
        Expected side of the cubes in voxels (256; smaller in tests).
    key : str
        HDF5 dataset holding the cube.
    timeout : float
        Seconds to wait for the connection to each server address and then for each next
        piece of data (default 30 s): a hanging network fails after at most
        ``(addresses + 1) * timeout`` seconds, see the module's docstring.

    Returns
    -------
    list of pathlib.Path
    """
    timeout = _check_timeout(timeout)
    folder = published_cache(cache) / "p4"
    reg = p4_registry()
    reg.update(registry or {})
    with _no_folders_left_on_failure(folder):
        archive = _fetch(P4_ARCHIVE, reg, base_url or P4_BASE_URL, folder, progressbar, timeout)
        return _unpack_p4(archive, folder, (reg[P4_ARCHIVE] or "").split(":")[-1], cube_size, key)


def _unpack_p4(archive: Path, folder: Path, source_md5: str, cube_size: int, key: str) -> list[Path]:
    """Extract and check the cubes of ``archive`` into ``folder/nbody-cubes`` (once, atomically)."""
    final = folder / "nbody-cubes"
    manifest = _read_json(final / "manifest.json")
    if (
        manifest is not None
        and manifest.get("source_md5") == source_md5
        and manifest.get("key") == key
        and manifest.get("cube_size") == cube_size
        and all(
            (final / name).is_file() and (final / name).stat().st_size == size
            for name, size in manifest.get("files", {}).items()
        )
    ):
        return [final / name for name in sorted(manifest["files"])]
    tmpdir = Path(tempfile.mkdtemp(dir=folder, prefix="nbody-cubes.", suffix=".part"))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                members = _cube_members(zf)
                for member in members:
                    with zf.open(member) as src, open(tmpdir / Path(member.filename).name, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 22)
        except (zipfile.BadZipFile, EOFError) as err:
            raise CorruptFileError(
                f"{archive.name} is not a readable zip archive ({err}), so it was not used."
            ) from None
        names = [Path(m.filename).name for m in members]
        for name in names:
            _check_cube_file(tmpdir / name, key, cube_size, f"{name} (in {archive.name})")
        _write_json(
            tmpdir / "manifest.json",
            {
                "source_md5": source_md5,
                "key": key,
                "cube_size": cube_size,
                "files": {name: (tmpdir / name).stat().st_size for name in names},
            },
        )
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmpdir, final)
    finally:
        if tmpdir.exists():
            shutil.rmtree(tmpdir)
    return [final / name for name in sorted(names)]


def load_p4_cubes(
    n_cubes: int | None = None,
    cache=None,
    base_url=None,
    registry=None,
    progressbar=None,
    cube_size: int = 256,
    key: str = "data",
    timeout: float = DEFAULT_TIMEOUT,
) -> np.ndarray:
    """P4 particle-count cubes, ``(n, 256, 256, 256)`` float32.

    Parameters
    ----------
    n_cubes : int, optional
        How many cubes to read, in file-name order (default all 30).
    cache, base_url, registry, progressbar, cube_size, key, timeout
        As in :func:`fetch_p4_cubes`.

    Returns
    -------
    numpy.ndarray
        ``(n_cubes, cube_size, cube_size, cube_size)`` float32 counts (500 Mpc/h box).

    Raises
    ------
    CorruptFileError
        A file lacks ``key``, has the wrong shape, is unreadable, or holds negative or
        non-finite counts.
    """
    import h5py

    paths = fetch_p4_cubes(
        cache=cache,
        base_url=base_url,
        registry=registry,
        progressbar=progressbar,
        cube_size=cube_size,
        key=key,
        timeout=timeout,
    )
    n = len(paths) if n_cubes is None else n_cubes
    if not 0 < int(n) <= len(paths):
        raise ValueError(f"n_cubes must be between 1 and {len(paths)}, got {n_cubes}.")
    out = np.empty((int(n),) + (cube_size,) * 3, dtype=np.float32)
    for i, path in enumerate(paths[: int(n)]):
        _check_cube_file(path, key, cube_size, path.name)
        with h5py.File(path, "r") as h5:
            h5[key].read_direct(out, dest_sel=np.s_[i])  # HDF5 converts to float32
        if not np.isfinite(out[i]).all() or out[i].min() < 0:
            raise CorruptFileError(
                f"{path.name} holds negative or non-finite values, which particle counts cannot be, so it was not used."
            )
    return out


# --------------------------------------------------------------------------- P3, P5
def load_p3_boxes(**kwargs):
    """Raise :class:`DataNotPublicError`: the P3 simulations were never published."""
    raise DataNotPublicError(NOT_PUBLIC["p3"])


def load_p5_images(**kwargs):
    """Raise :class:`DataNotPublicError`: the P5 data sets were never published."""
    raise DataNotPublicError(NOT_PUBLIC["p5"])


# --------------------------------------------------------------------------- switch
_LOADERS = {"p1": load_p1_maps, "p2": load_p2_maps, "p4": load_p4_cubes}
#: What a required argument of a loader is, for the message that asks for it.
_REQUIRED = {
    "omega_m": "Omega_m of one of the 57 cosmologies of p2_grid(), such as 0.101",
    "sigma8": "sigma_8 of that cosmology, such as 1.304",
}


def published_arguments(name: str) -> dict:
    """The keyword arguments :func:`load_published` accepts for data set ``name``: ``{argument: default}``.

    Required arguments have the default :data:`inspect.Parameter.empty`.
    """
    loader = _LOADERS[_published_name(name)]
    return {n: p.default for n, p in inspect.signature(loader).parameters.items()}


def _published_name(name) -> str:
    key = str(name).lower()
    if key in NOT_PUBLIC:
        raise DataNotPublicError(NOT_PUBLIC[key])
    if key not in _LOADERS:
        raise ValueError(
            f"Unknown published data set {name!r}; the accepted names are "
            f"{', '.join(repr(k) for k in _LOADERS)} (P3 and P5 data are not public)."
        )
    return key


def _check_arguments(key: str, options: dict) -> None:
    accepted = published_arguments(key)
    listed = ", ".join(accepted)
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise ValueError(
            f"The published {key!r} data take no argument {', '.join(map(repr, unknown))}; "
            f"the accepted arguments are {listed}."
        )
    missing = [k for k, default in accepted.items() if default is inspect.Parameter.empty and k not in options]
    if missing:
        needs = " and ".join(f"{k} ({_REQUIRED.get(k, 'required')})" for k in missing)
        raise ValueError(f"The published {key!r} data need {needs}; the accepted arguments are {listed}.")


def load_published(name: str, **options) -> np.ndarray:
    """Load a published data set by name, in place of a simulated suite.

    Every data set is called the same way, by keyword; this is what
    ``load_suite(name, source="published", **options)`` calls.

    Parameters
    ----------
    name : {"p1", "p2", "p4"}
        Which data set (see :data:`PUBLISHED`); ``"p3"`` and ``"p5"`` raise
        :class:`DataNotPublicError`.
    **options
        The arguments of :func:`load_p1_maps`, :func:`load_p2_maps` (``omega_m`` and
        ``sigma8`` required: one of the 57 cosmologies of :func:`p2_grid`) or
        :func:`load_p4_cubes`; all take ``cache``, ``base_url``, ``registry``,
        ``progressbar`` and ``timeout`` (seconds, default 30: a hanging network fails a
        file after at most ``(addresses + 1) * timeout`` seconds, 60 s for a server with one
        address). :func:`published_arguments` lists them.

    Returns
    -------
    numpy.ndarray
        Maps ``(B, H, W)`` or cubes ``(B, D, H, W)``, float32.

    Raises
    ------
    ValueError
        An unknown name, or an argument the loader does not take or needs and did not get
        (the message lists the accepted arguments).
    DataNotPublicError
        ``"p3"`` or ``"p5"``.
    PublishedDataError
        A download failed (nothing is left behind) or a file is invalid.
    """
    key = _published_name(name)
    _check_arguments(key, options)
    return _LOADERS[key](**options)
