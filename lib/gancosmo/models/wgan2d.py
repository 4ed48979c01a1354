"""P4's 2D baselines (Appendix E, Table 2): a convolutional Wasserstein GAN of square images.

P4 scores "a traditional convolutional Wasserstein GAN" of 2D images of 32^2 to 256^2 pixels
against which its 3D scores can be read, and gives no table of its layers. The book builds it
as M3 (Table 3) in two dimensions, so that the 2D and 3D numbers come from the same kind of
network:

* generator: dense ``latent_dim -> 4 w (s/8)^2``, reshaped to ``4 w`` channels of side
  ``s/8``, three stride-2 transposed convolutions (``4w -> 4w -> 2w -> w``), two stride-1
  convolutions (``w -> w -> 1``); kernels 4, LeakyReLU(0.2), linear output;
* critic: five convolutions of kernel 4, strides 1, 1, 2, 2, 2, channels ``w, w, 2w, 4w, 8w``,
  LeakyReLU(0.2), a dense layer ``8 w (s/8)^2 -> 1``; every layer spectrally normalised.

Both work in P4's transformed units (:class:`gancosmo.data.intensity.P4ForwardMap`).
"""

from __future__ import annotations

import torch
from torch import nn

from .multiscale3d import KERNEL, LEAK, _build

__all__ = ["Generator2D", "Critic2D", "wgan2d"]


def _check(width: int, side: int, latent_dim: int) -> None:
    for name, value, low in (("width", width, 1), ("latent_dim", latent_dim, 1), ("side", side, 8)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if side % 8:
        raise ValueError(f"side must be a multiple of 8 pixels (P4's Table 2: 32 to 256), got {side!r}.")


def _same_conv2d(c_in: int, c_out: int) -> nn.Sequential:
    """Stride-1 kernel-4 convolution keeping the side (TensorFlow's ``same``: 1 before, 2 after)."""
    return nn.Sequential(nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(c_in, c_out, KERNEL))


def _conv2d(c_in: int, c_out: int, stride: int) -> nn.Module:
    return _same_conv2d(c_in, c_out) if stride == 1 else nn.Conv2d(c_in, c_out, KERNEL, stride=2, padding=1)


def _stack(layers: list[nn.Module], leak_last: bool) -> nn.Sequential:
    out = []
    for n, layer in enumerate(layers):
        out.append(layer)
        if n < len(layers) - 1 or leak_last:
            out.append(nn.LeakyReLU(LEAK))
    return nn.Sequential(*out)


class Generator2D(nn.Module):
    """``z`` ``(B, latent_dim)`` -> images ``(B, 1, side, side)`` (module docstring).

    Parameters
    ----------
    width : int
        Channels ``w``.
    side : int
        Image side in pixels, a multiple of 8.
    latent_dim : int
    """

    def __init__(self, width: int, side: int, latent_dim: int):
        super().__init__()
        _check(width, side, latent_dim)
        self.width, self.side, self.latent_dim, self.start = width, side, latent_dim, side // 8
        w = width
        self.dense = nn.Linear(latent_dim, 4 * w * self.start**2)
        up = [
            nn.ConvTranspose2d(a, b, KERNEL, stride=2, padding=1)
            for a, b in ((4 * w, 4 * w), (4 * w, 2 * w), (2 * w, w))
        ]
        self.body = _stack([*up, _conv2d(w, w, 1), _conv2d(w, 1, 1)], leak_last=False)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is not None:
            raise ValueError("the 2D baseline is unconditional: call it as G(z).")
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}.")
        s = self.start
        return self.body(self.dense(z).reshape(z.shape[0], 4 * self.width, s, s))


class Critic2D(nn.Module):
    """Images ``(B, 1, side, side)`` -> scores ``(B,)`` (module docstring)."""

    def __init__(self, width: int, side: int):
        super().__init__()
        _check(width, side, 1)
        self.width, self.side = width, side
        w = width
        channels = ((1, w, 1), (w, w, 1), (w, 2 * w, 2), (2 * w, 4 * w, 2), (4 * w, 8 * w, 2))
        self.trunk = _stack([_conv2d(a, b, s) for a, b, s in channels], leak_last=True)
        self.head = nn.Linear(8 * w * (side // 8) ** 2, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is not None:
            raise ValueError("the 2D baseline is unconditional: call it as D(x).")
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, self.side, self.side):
            raise ValueError(f"the 2D critic takes images (B, 1, {self.side}, {self.side}), got {tuple(x.shape)}.")
        return self.head(self.trunk(x).flatten(1)).reshape(-1)


def wgan2d(width: int, side: int, latent_dim: int = 64, seed: int = 0) -> tuple[Generator2D, Critic2D]:
    """``(G, D)`` of the 2D baseline, Xavier-initialised, the critic spectrally normalised, from ``seed``."""
    return _build(seed, lambda: Generator2D(width, side, latent_dim), lambda: Critic2D(width, side))
