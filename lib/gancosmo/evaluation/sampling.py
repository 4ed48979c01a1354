"""One generator interface for every chapter: ``sample(n, seed, labels=None)`` in physical units.

* :class:`TorchEmulator` wraps a trained generator network, its latent prior and its intensity
  transform (:mod:`gancosmo.data.intensity`): maps come back as convergence kappa, cubes as
  ``rho/rho_bar``, whatever the networks saw.
* :class:`LognormalNull` is the null emulator of ``PROTOCOL.md``: a lognormal field with the
  real training set's measured power spectrum and one-point variance, at the same pixel or cell
  size (:func:`gancosmo.stats.fields.lognormal_maps_like`, ``lognormal_cubes_like``).
* :func:`generation_speed` times any emulator the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from ..data.intensity import Identity, check_transform

__all__ = ["Emulator", "TorchEmulator", "LognormalNull", "generation_speed"]


@runtime_checkable
class Emulator(Protocol):
    """Anything that draws ``n`` samples in physical units, reproducibly from ``seed``."""

    def sample(self, n: int, seed: int = 0, labels=None) -> np.ndarray: ...


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0 (samples to draw), got {n!r}.")
    return int(n)


class TorchEmulator:
    """A generator network as an emulator.

    Parameters
    ----------
    generator : torch.nn.Module
        ``G(z)`` or, when ``cond_dim > 0``, ``G(z, y)``; outputs ``(B, 1, ...)`` in network units.
        It must have a ``latent_dim`` attribute.
    transform : IntensityTransform, optional
        Network -> physical units through ``transform.inverse`` (default: :class:`Identity`).
    latent_sampler : callable, optional
        ``sampler(n, dim, device, generator)`` (:mod:`gancosmo.models.priors`; default standard normal).
    cond_dim : int
        Number of conditioning labels (0: unconditional).
    batch_size : int
        Samples per forward pass.
    """

    def __init__(
        self, generator, transform=None, latent_sampler: Callable | None = None, cond_dim: int = 0, batch_size: int = 64
    ):
        if not hasattr(generator, "latent_dim"):
            raise ValueError(f"generator must have a latent_dim attribute, got {type(generator).__name__}.")
        self.G = generator
        self.transform = check_transform(transform if transform is not None else Identity())
        self.latent_sampler = latent_sampler
        self.cond_dim = int(cond_dim)
        self.batch_size = int(batch_size)

    @property
    def device(self) -> torch.device:
        return next(self.G.parameters()).device

    def latents(self, n: int, seed: int = 0) -> torch.Tensor:
        """The ``(n, latent_dim)`` latents ``sample(n, seed)`` uses, drawn on the CPU (same on any device)."""
        g = torch.Generator().manual_seed(int(seed))
        if self.latent_sampler is None:
            return torch.randn(n, self.G.latent_dim, generator=g)
        return self.latent_sampler(n, self.G.latent_dim, "cpu", g)

    def _labels(self, labels, n: int) -> torch.Tensor | None:
        if self.cond_dim == 0:
            if labels is not None:
                raise ValueError("this emulator is unconditional; accepted labels are None.")
            return None
        if labels is None:
            raise ValueError(
                f"this emulator is conditional on {self.cond_dim} label(s); pass labels "
                f"(one value per label, or an (n, {self.cond_dim}) array)."
            )
        y = np.asarray(labels, dtype=np.float32)
        if y.ndim <= 1 and y.size == self.cond_dim:
            y = np.tile(y.reshape(1, -1), (n, 1))
        elif y.ndim == 1 and self.cond_dim == 1 and len(y) == n:
            y = y[:, None]
        if y.shape != (n, self.cond_dim):
            raise ValueError(
                f"labels have shape {np.shape(labels)}; accepted are {self.cond_dim} value(s) for all "
                f"samples or an ({n}, {self.cond_dim}) array."
            )
        return torch.from_numpy(np.array(y, dtype=np.float32, copy=True))

    @torch.no_grad()
    def sample_network(self, n: int, seed: int = 0, labels=None, z: torch.Tensor | None = None) -> np.ndarray:
        """``n`` samples in network units, ``(n, ...)`` float32 (the channel axis removed)."""
        n = _check_n(n)
        y = self._labels(labels, n)
        z = self.latents(n, seed) if z is None else torch.as_tensor(z)
        dev = self.device
        was = self.G.training
        self.G.eval()
        out = []
        try:
            for s in range(0, n, self.batch_size):
                zb = z[s : s + self.batch_size].to(dev)
                xb = self.G(zb) if y is None else self.G(zb, y[s : s + self.batch_size].to(dev))
                out.append(xb.float()[:, 0].cpu().numpy())
        finally:
            self.G.train(was)
        if not out:
            return np.zeros((0,), np.float32)
        return np.concatenate(out)

    def sample(self, n: int, seed: int = 0, labels=None) -> np.ndarray:
        """``n`` samples in physical units (float32), latents from ``seed``."""
        return np.asarray(self.transform.inverse(self.sample_network(n, seed, labels)), dtype=np.float32)


class LognormalNull:
    """The null emulator: lognormal fields matched to a real training set.

    Parameters
    ----------
    real : numpy.ndarray
        ``(N, n, n)`` maps or ``(N, n, n, n)`` cubes of the training set, physical units.
    size : float
        Map side in degrees, or cube side in Mpc/h.
    """

    def __init__(self, real: np.ndarray, size: float):
        from ..stats import fields

        real = np.asarray(real)
        if real.ndim not in (3, 4) or len(set(real.shape[1:])) != 1:
            raise ValueError(f"real has shape {real.shape}; accepted are (N, n, n) maps or (N, n, n, n) cubes.")
        self.real, self.size = real, float(size)
        self._draw = fields.lognormal_maps_like if real.ndim == 3 else fields.lognormal_cubes_like

    def sample(self, n: int, seed: int = 0, labels=None) -> np.ndarray:
        if labels is not None:
            raise ValueError(
                "the lognormal null is matched to one training set; accepted labels are None "
                "(make one LognormalNull per label)."
            )
        return np.asarray(self._draw(self.real, self.size, _check_n(n), seed=seed), dtype=np.float32)


def generation_speed(emulator: Emulator, n: int, labels=None) -> dict:
    """Samples per second of ``emulator.sample`` (after one warm-up call of up to 8 samples).

    Returns ``n``, ``seconds``, ``per_s`` and ``device`` (``"cpu"`` for emulators without one).
    """
    n = _check_n(n)
    if n < 1:
        raise ValueError("n must be at least 1 to time generation.")
    dev = getattr(emulator, "device", torch.device("cpu"))
    cuda = getattr(dev, "type", "cpu") == "cuda"
    emulator.sample(min(8, n), seed=1, labels=labels)
    if cuda:
        torch.cuda.synchronize()
    t = time.perf_counter()
    emulator.sample(n, seed=2, labels=labels)
    if cuda:
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    return dict(n=n, seconds=dt, per_s=n / dt, device=str(dev))
