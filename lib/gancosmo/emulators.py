"""The book's trained emulators: ``load(name)`` gives a committed generator that samples physical fields.

>>> from gancosmo import emulators
>>> p1 = emulators.load("p1")                       # doctest: +SKIP
>>> kappa = p1.sample(16, seed=0)                   # (16, 64, 64) convergence maps   # doctest: +SKIP
>>> p1.meta["field_deg"], p1.meta["suite"], p1.meta["profile"]                           # doctest: +SKIP

An emulator is two files beside each other in the repository (:data:`REGISTRY`, kept in
:mod:`gancosmo.emulator_registry`):

* ``{stem}.safetensors``: the generator's weights (``state_dict``), in the safetensors format,
  so that loading never unpickles anything;
* ``{stem}.json``: ``sha256`` of the weights file, the network (``builder`` and its arguments),
  the latent prior, the intensity transform between network and physical units, the names of
  the conditioning labels, and ``meta``: ``suite`` and ``profile`` (so that
  ``load_suite(meta["suite"], profile=meta["profile"])`` rebuilds the training data),
  ``from_suite`` (``"same"``: one sample has the shape and pixel or cell scale of one suite
  sample; ``"tiles"``: it is a tile of one; ``"pooled"``: of coarser cells), ``field_deg``
  (maps) or ``box_size`` (cubes, Mpc/h) of one sample, ``resolved_max``, the cosmology, the
  training run's ``git_commit``, its seed, steps and timing.

:func:`save_emulator` writes both (the chapters call it after training); :func:`load`
verifies the checksum before it reads a byte of the weights and refuses a file that differs.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .data.intensity import ConstantScale, Identity, P4ForwardMap
from .data.transforms import DensityScaling
from .emulator_registry import CHAPTER_LOADERS, REGISTRY
from .evaluation.sampling import TorchEmulator
from .io import atomic_replace, atomic_write_json

__all__ = [
    "REGISTRY",
    "EmulatorError",
    "TrainedEmulator",
    "load",
    "load_verified",
    "read_record",
    "save_emulator",
    "available",
]

FORMAT_VERSION = 1

_FROM_SUITE = ("same", "tiles", "pooled")


class EmulatorError(RuntimeError):
    """An emulator that is missing, corrupted or recorded in a form this version cannot read."""


# ------------------------------------------------------------------------ records of the parts
def _builders():
    from .models.conditional import conditional_gan
    from .models.cosmogan import cosmogan
    from .models.dcgan3d import dcgan3d

    return {
        "cosmogan": lambda a: cosmogan(base_filters=a["base_filters"], map_size=a["map_size"], seed=0)[0],
        "conditional_gan": lambda a: conditional_gan(
            a["width"], latent_dim=a["latent_dim"], conditioning=a["conditioning"], map_size=a["map_size"], seed=0
        )[0],
        "dcgan3d": lambda a: dcgan3d(tuple(a["filters"]), a["latent_dim"], cond_dim=a["cond_dim"], seed=0)[0],
    }


def transform_record(transform) -> dict:
    """A JSON record of an intensity transform (:func:`transform_from_record` rebuilds it)."""
    if isinstance(transform, Identity):
        return {"kind": "identity"}
    if isinstance(transform, ConstantScale):
        return {"kind": "constant_scale", "factor": transform.factor}
    if isinstance(transform, DensityScaling):
        return {"kind": "density_scaling", "kappa": transform.kappa, "clip": transform.clip}
    if isinstance(transform, P4ForwardMap):
        return {"kind": "p4_forward_map", "c": transform.c, "shift": transform.shift}
    raise ValueError(
        f"transform {transform!r} has no record; accepted are Identity, ConstantScale, DensityScaling, P4ForwardMap."
    )


def transform_from_record(record: dict):
    kind = record.get("kind")
    if kind == "identity":
        return Identity()
    if kind == "constant_scale":
        return ConstantScale(record["factor"])
    if kind == "density_scaling":
        return DensityScaling(record["kappa"], clip=record.get("clip", True))
    if kind == "p4_forward_map":
        return P4ForwardMap(record["c"], record["shift"])
    raise EmulatorError(f"unknown transform kind {kind!r} in the emulator record.")


def _latent_sampler(record: dict):
    from .models.priors import make_sampler

    prior = record.get("prior", "gaussian")
    if prior == "gaussian" and float(record.get("width", 1.0)) == 1.0:
        return None  # TorchEmulator's standard normal
    return make_sampler(prior, float(record.get("nu", 10.0)), float(record.get("width", 1.0)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _repository_root() -> Path:
    return Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------ the emulator
@dataclass
class TrainedEmulator:
    """A committed generator with its units and provenance.

    Attributes
    ----------
    name : str
        ``"p1"``, ``"p2"``, ``"p3"`` (redshift 0), ``"p3_z"`` (P3's redshift-conditional model) or
        ``"p4"`` (P4's multi-scale pipeline of three generators).
    generator : torch.nn.Module
        The network, in eval mode, on ``device`` (P4: the whole pipeline as one network).
    labels : tuple of str
        Names of the conditioning labels, in the network's order (P2: ``("omega_m", "sigma8")``;
        P3's redshift model: ``("z",)``; unconditional: ``()``).
    meta : dict
        See the module docstring.
    emulator : TorchEmulator
        The generator with its prior and transform (what the chapters' evaluations call).
    """

    name: str
    generator: torch.nn.Module
    labels: tuple
    meta: dict
    emulator: TorchEmulator

    @property
    def device(self) -> torch.device:
        return self.emulator.device

    def to(self, device) -> TrainedEmulator:
        """Move the generator to ``device`` (``"cpu"``, ``"cuda"``); returns self."""
        self.generator.to(device)
        return self

    def _label_array(self, labels, named: dict, n: int):
        if labels is not None and named:
            raise ValueError("give the labels either as labels=... or by name, not both.")
        if not self.labels:
            if named or labels is not None:
                got = ", ".join(named) if named else "labels"
                raise ValueError(f"emulator {self.name!r} is unconditional; it takes no labels (got {got}).")
            return None
        if labels is not None:
            return labels
        missing = [k for k in self.labels if k not in named]
        unknown = [k for k in named if k not in self.labels]
        if missing or unknown:
            raise ValueError(
                f"emulator {self.name!r} takes the labels {', '.join(self.labels)} by name"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + "."
            )
        columns = [np.broadcast_to(np.asarray(named[k], np.float32), (n,)) for k in self.labels]
        return np.stack(columns, axis=1)

    def sample(self, n: int, seed: int = 0, labels=None, **named) -> np.ndarray:
        """``n`` samples in physical units (kappa maps; ``rho/rho_bar`` cubes; P4: particle counts per voxel),
        float32, from latent ``seed``.

        Labels by name (``sample(8, omega_m=0.3, sigma8=0.8)``; ``sample(8, z=1.0)``), one
        value for all samples or one per sample, or as ``labels`` (an ``(n, c)`` array).
        """
        return self.emulator.sample(n, seed=seed, labels=self._label_array(labels, named, n))


def available(root: str | Path | None = None) -> dict:
    """``name -> True/False``: which emulators of :data:`REGISTRY` have both files under ``root``."""
    root = Path(root) if root is not None else _repository_root()
    return {
        name: (root / f"{stem}.safetensors").is_file() and (root / f"{stem}.json").is_file()
        for name, stem in REGISTRY.items()
    }


def _files(name: str, root, path) -> tuple[Path, Path, dict]:
    if name not in REGISTRY:
        raise EmulatorError(f"unknown emulator {name!r}; accepted: {', '.join(sorted(REGISTRY))}.")
    root = Path(root) if root is not None else _repository_root()
    stem = Path(path) if path is not None else root / REGISTRY[name]
    weights, record_path = stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")
    for f in (weights, record_path):
        if not f.is_file():
            raise EmulatorError(
                f"emulator {name!r}: {f.name} is missing from {f.parent}; the chapter's cpu-long run writes it."
            )
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError) as exc:
        raise EmulatorError(f"emulator {name!r}: {record_path} is not a readable JSON record ({exc}).") from None
    if record.get("format") != FORMAT_VERSION:
        raise EmulatorError(
            f"emulator {name!r}: {record_path} has format {record.get('format')!r}; "
            f"this version reads {FORMAT_VERSION}."
        )
    return weights, record_path, record


def read_record(name: str, root: str | Path | None = None, path: str | Path | None = None) -> dict:
    """The JSON record of emulator ``name`` (its ``meta``, network, transform), without loading weights.

    Raises :class:`EmulatorError` as :func:`load` does for a missing or unreadable record.
    """
    return _files(name, root, path)[2]


def load_verified(name: str, root: str | Path | None = None, path: str | Path | None = None) -> tuple[dict, dict]:
    """The record of emulator ``name`` and its weights (a ``state_dict`` on the CPU), checksum-verified.

    Raises :class:`EmulatorError` as :func:`load` does; nothing is read from a weights file
    whose sha256 differs from the record's.
    """
    weights, _, record = _files(name, root, path)
    actual = _sha256(weights)
    if actual != record.get("sha256"):
        raise EmulatorError(
            f"emulator {name!r}: {weights.name} has sha256 {actual[:12]}..., its record says "
            f"{str(record.get('sha256'))[:12]}...; the weights file is corrupted or was replaced. Refusing to load it."
        )
    from safetensors.torch import load_file

    return record, load_file(str(weights), device="cpu")


def load(name: str, device: str | None = None, root: str | Path | None = None, path: str | Path | None = None):
    """The committed emulator ``name`` (``"p1"``, ``"p2"``, ``"p3"``, ``"p3_z"``, ``"p4"``), its weights
    checksum-verified.

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`.
    device : str, optional
        ``"cpu"`` or ``"cuda"`` (default: cuda when available).
    root : path, optional
        Repository root holding the files (default: the checkout this package is imported from).
    path : path, optional
        Another file stem (``.../emulator_p1_cpu-long``) instead of the registry's.

    Raises
    ------
    EmulatorError
        Unknown name, missing files, a checksum that differs from the record, or a record of
        another format version. Nothing is loaded in those cases.
    """
    record, state = load_verified(name, root, path)
    net = record["network"]
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if net.get("builder") in CHAPTER_LOADERS:
        chapter = importlib.import_module(f"{__package__}.evaluation.{CHAPTER_LOADERS[net['builder']]}")
        return chapter.emulator_from_record(name, record, state, dev)
    builders = _builders()
    if net.get("builder") not in builders:
        raise EmulatorError(f"emulator {name!r}: unknown network builder {net.get('builder')!r}.")
    generator = builders[net["builder"]](net["args"])
    generator.load_state_dict(state, strict=True)
    generator = generator.to(dev).eval()
    labels = tuple(record.get("labels", ()))
    emulator = TorchEmulator(
        generator,
        transform_from_record(record["transform"]),
        latent_sampler=_latent_sampler(record.get("latent", {})),
        cond_dim=len(labels),
        batch_size=int(record.get("batch_size", 64)),
    )
    return TrainedEmulator(name, generator, labels, dict(record["meta"]), emulator)


def save_emulator(
    stem: str | Path,
    generator: torch.nn.Module,
    *,
    builder: str,
    args: dict,
    transform,
    meta: dict,
    labels: tuple = (),
    latent: dict | None = None,
    batch_size: int = 64,
) -> Path:
    """Write ``{stem}.safetensors`` (the generator's weights, CPU, contiguous) and ``{stem}.json``.

    ``meta`` must hold ``suite``, ``profile``, ``from_suite`` (one of ``same``, ``tiles``,
    ``pooled``), ``field_deg`` or ``box_size``, and ``resolved_max``; the chapters add the
    cosmology, seed, steps and ``git_commit``. Both files are written through temporary
    files, the weights first, and no file is ever half-written: an interrupted save leaves the
    new weights beside the old record at worst, which :func:`load` then refuses by checksum. Returns the weights path.
    """
    from safetensors.torch import save_file

    if builder not in _builders():
        raise ValueError(f"builder must be one of {', '.join(_builders())}, got {builder!r}.")
    for key in ("suite", "profile", "from_suite", "resolved_max"):
        if key not in meta:
            raise ValueError(f"meta needs {key!r}; got keys {', '.join(sorted(meta))}.")
    if meta["from_suite"] not in _FROM_SUITE:
        raise ValueError(f"meta['from_suite'] must be one of {', '.join(_FROM_SUITE)}, got {meta['from_suite']!r}.")
    if ("field_deg" in meta) == ("box_size" in meta):
        raise ValueError("meta needs exactly one of 'field_deg' (maps, degrees) or 'box_size' (cubes, Mpc/h).")
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights, record_path = stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")
    state = {k: v.detach().to("cpu").contiguous() for k, v in generator.state_dict().items()}
    atomic_replace(weights, lambda tmp: save_file(state, str(tmp), metadata={"emulator": stem.name}))
    record = dict(
        format=FORMAT_VERSION,
        sha256=_sha256(weights),
        network=dict(builder=builder, args=args),
        transform=transform_record(transform),
        latent=latent or {"prior": "gaussian", "width": 1.0},
        labels=list(labels),
        batch_size=int(batch_size),
        meta={k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in meta.items()},
    )
    atomic_write_json(record, record_path)
    return weights
