"""Input checking and numpy/torch plumbing shared by the statistics modules.

Every public statistic accepts a numpy array or a torch tensor, computes on the
input's device (or on ``device`` when given) and returns numpy arrays.  Problems
with the input raise one :class:`ValueError` sentence that names what was wrong
and what is accepted.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = [
    "MAX_CHUNK_ELEMENTS",
    "as_batch",
    "bin_index",
    "chunk_size",
    "check_edges",
    "check_positive",
    "check_same_batch",
    "to_numpy",
]


#: Elements per batch chunk (about 64 MB in float32 per temporary); large batches are
#: processed in chunks of this many pixels/voxels so memory stays bounded on GPUs.
MAX_CHUNK_ELEMENTS = 2**24


def chunk_size(per_item: int, scale: float = 1.0) -> int:
    """Items per chunk for items of ``per_item`` elements (at least 1)."""
    return max(1, int(MAX_CHUNK_ELEMENTS * scale // max(1, per_item)))


def _describe(x: Any) -> str:
    shape = tuple(getattr(x, "shape", ()))
    return f"an array of shape {shape}"


def as_batch(
    x: Any,
    name: str,
    ndim: int,
    kind: str,
    device: str | torch.device | None = None,
    square: bool = True,
    allow_nan: bool = False,
) -> torch.Tensor:
    """Validate a batch of maps or cubes and return it as a floating torch tensor.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
        The batch, batch axis first.
    name : str
        Argument name used in error messages.
    ndim : int
        Required number of dimensions, batch axis included (3 for maps ``(B, H, W)``,
        4 for cubes ``(B, D, H, W)``).
    kind : str
        Human description of the layout, e.g. ``"maps (B, H, W)"``.
    device : str or torch.device, optional
        Where to compute; defaults to the input's device (CPU for numpy).
    square : bool
        Require all spatial sides equal.
    allow_nan : bool
        Skip the finiteness check.

    Returns
    -------
    torch.Tensor
        float64 if the input is float64, else float32, on the requested device.
    """
    if isinstance(x, torch.Tensor):
        t = x.detach()
    elif isinstance(x, np.ndarray) or np.isscalar(x) or isinstance(x, (list, tuple)):
        a = np.asarray(x)
        if a.dtype.kind not in "biuf":
            raise ValueError(
                f"{name} has dtype {a.dtype}; accepted are real numeric numpy arrays or torch tensors."
            )
        t = torch.from_numpy(np.ascontiguousarray(a))
    else:
        raise ValueError(
            f"{name} is a {type(x).__name__}; accepted are numpy arrays or torch tensors of {kind}."
        )
    if t.is_complex():
        raise ValueError(f"{name} is complex; accepted are real-valued {kind}.")
    if t.ndim != ndim:
        raise ValueError(
            f"{name} has {t.ndim} dimensions (shape {tuple(t.shape)}); accepted are {kind}, "
            f"i.e. {ndim} dimensions with the batch first (add a leading axis for a single one)."
        )
    if t.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(t.shape)}); accepted are batches of at least one item.")
    if any(s < 2 for s in t.shape[1:]):
        raise ValueError(f"{name} has spatial shape {tuple(t.shape[1:])}; accepted are sides of at least 2 pixels.")
    if square and len(set(t.shape[1:])) != 1:
        raise ValueError(
            f"{name} has spatial shape {tuple(t.shape[1:])}; accepted are square maps / cubic boxes with equal sides."
        )
    if t.dtype != torch.float64:
        t = t.to(torch.float32)
    if device is not None:
        t = t.to(device)
    if not allow_nan and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values; accepted are finite values only.")
    return t


def check_same_batch(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str, same_shape: bool = True) -> None:
    """Raise if two batches do not match in batch size (and shape when ``same_shape``)."""
    if same_shape and tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{name_a} has shape {tuple(a.shape)} but {name_b} has shape {tuple(b.shape)}; accepted are batches of identical shape."
        )
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_a} has batch size {a.shape[0]} but {name_b} has {b.shape[0]}; accepted are equal batch sizes."
        )


def check_edges(edges: Any, name: str, minimum: int = 2, positive: bool = False) -> np.ndarray:
    """Return bin edges as a float64 numpy array, or raise if they are not strictly increasing."""
    if isinstance(edges, torch.Tensor):
        edges = edges.detach().cpu().numpy()
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < minimum:
        raise ValueError(
            f"{name} has shape {e.shape}; accepted is a 1D sequence of at least {minimum} bin edges."
        )
    if not np.all(np.isfinite(e)):
        raise ValueError(f"{name} contains NaN or infinite values; accepted are finite, strictly increasing edges.")
    if np.any(np.diff(e) <= 0):
        raise ValueError(f"{name} is not strictly increasing; accepted are strictly increasing bin edges.")
    if positive and e[0] < 0:
        raise ValueError(f"{name} starts at {e[0]}; accepted are non-negative edges.")
    return e


def check_positive(value: Any, name: str, unit: str) -> float:
    """Return ``value`` as a float, or raise if it is not a finite positive number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is {value!r}; accepted is a positive number in {unit}.") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} is {value!r}; accepted is a positive number in {unit}.")
    return v


def to_numpy(t: Any) -> np.ndarray:
    """Detach a tensor (any device) and return it as a numpy array."""
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def bin_index(u: torch.Tensor, edges: np.ndarray) -> torch.Tensor:
    """Bin of each value for bins ``[e_i, e_{i+1})``: -1 below ``e_0``, ``nb`` at or above ``e_nb``.

    Equivalent to ``torch.bucketize(u, edges, right=True) - 1`` with the edges cast to
    ``u.dtype``; for uniformly spaced edges an arithmetic index plus an exact one-step
    correction replaces the binary search (several times faster on CPUs).
    """
    nb = edges.size - 1
    te = torch.as_tensor(edges, dtype=u.dtype, device=u.device)
    d = np.diff(edges)
    if nb >= 4 and np.allclose(d, d[0], rtol=1e-9, atol=0):
        inf = torch.tensor([float("inf")], dtype=u.dtype, device=u.device)
        ext = torch.cat([-inf, te, inf])  # ext[i + 1] = e_i, ext[0] = -inf, ext[nb + 2] = +inf
        idx = torch.floor((u - te[0]) * (1.0 / float(d[0]))).clamp_(-1, nb).to(torch.int64)
        lo = ext[idx + 1]
        idx = idx - (u < lo).to(torch.int64)  # u < e_idx: one bin down
        hi = ext[(idx + 2).clamp_(max=nb + 2)]
        idx = idx + (u >= hi).to(torch.int64)  # u >= e_{idx+1}: one bin up
        return idx.clamp_(-1, nb)
    return torch.bucketize(u, te, right=True) - 1
