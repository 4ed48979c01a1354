"""P1 (CosmoGAN, Mustafa et al. 2019): the DCGAN generator and discriminator of Tables 1 and 2.

At the paper's size (``base_filters=64``, ``map_size=256``, ``latent_dim=64``) the layers
are exactly those of the tables: a dense layer from the 64-dimensional latent vector to
512 x 16 x 16, four 5 x 5 transposed convolutions of stride 2 (512 -> 256 -> 128 -> 64 -> 1),
BatchNorm + ReLU after every layer but the last, and tanh on the output; the discriminator
mirrors it with four 5 x 5 convolutions of stride 2 (1 -> 64 -> 128 -> 256 -> 512),
BatchNorm on all but the first, LeakyReLU(0.2), and a dense layer to one output.

Parameter counts: the discriminator has 4,436,225 (Table 2: 4.4M). The generator has
12,824,449; each of its layers matches its row of Table 1 (8.5M, 1024, 3.3M, 512, 819K, 256,
205K, 128, 1601) but those rows add up to 12.8M, not the 12.3M printed as Table 1's total
(an arithmetic slip in the paper; no layout consistent with the rows gives 12.3M).

The discriminator returns a logit (no sigmoid): the paper's sigmoid + cross-entropy is applied
inside the loss (:mod:`gancosmo.train.losses`), the numerically stable form of the same thing.

Smaller versions keep the layout and shrink two knobs, always given explicitly (the chapter's
sizes per profile live in :class:`gancosmo.evaluation.p1.P1Config`): ``base_filters`` (the
width: channels are 8, 4, 2, 1 times it) and ``map_size`` (the side of the maps, any multiple
of 16: the dense layer feeds ``map_size / 16`` squared feature maps).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Generator", "Discriminator", "cosmogan", "paper_sizes", "init_weights", "count_parameters"]

#: P1's sizes (Tables 1 and 2).
PAPER_BASE_FILTERS, PAPER_MAP_SIZE, PAPER_LATENT_DIM = 64, 256, 64


def paper_sizes() -> dict:
    """P1's network sizes as keyword arguments of :func:`cosmogan`: ``base_filters=64, map_size=256, latent_dim=64``."""
    return dict(base_filters=PAPER_BASE_FILTERS, map_size=PAPER_MAP_SIZE, latent_dim=PAPER_LATENT_DIM)


_KERNEL = 5
_N_LAYERS = 4


def _check(base_filters: int, map_size: int, latent_dim: int) -> None:
    for name, value in (("base_filters", base_filters), ("latent_dim", latent_dim), ("map_size", map_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if map_size % 2**_N_LAYERS:
        raise ValueError(f"map_size must be a multiple of 16 (four stride-2 layers), got {map_size}.")


class Generator(nn.Module):
    """P1 generator (Table 1): latent ``(B, latent_dim)`` -> maps ``(B, 1, map_size, map_size)`` in [-1, 1].

    Parameters
    ----------
    latent_dim : int
        Size of the Gaussian latent vector (paper: 64).
    base_filters : int
        Channels of the last hidden layer; the dense layer has ``8 * base_filters`` (paper: 64).
    map_size : int
        Side of the output maps, a multiple of 16 (paper: 256).
    """

    def __init__(self, latent_dim: int = 64, base_filters: int = 64, map_size: int = 256):
        super().__init__()
        _check(base_filters, map_size, latent_dim)
        self.latent_dim, self.base_filters, self.map_size = latent_dim, base_filters, map_size
        self.start = map_size // 2**_N_LAYERS
        width = base_filters * 2 ** (_N_LAYERS - 1)
        self.dense = nn.Linear(latent_dim, width * self.start**2)
        self.bn0 = nn.BatchNorm2d(width)
        layers = []
        for i in range(_N_LAYERS):
            out = 1 if i == _N_LAYERS - 1 else width // 2
            layers.append(nn.ConvTranspose2d(width, out, _KERNEL, stride=2, padding=_KERNEL // 2, output_padding=1))
            if i < _N_LAYERS - 1:
                layers += [nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            width = out
        layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.dense(z).view(z.shape[0], -1, self.start, self.start)
        return self.net(torch.relu(self.bn0(x)))


class Discriminator(nn.Module):
    """P1 discriminator (Table 2): maps ``(B, 1, map_size, map_size)`` -> logits ``(B,)``.

    Parameters
    ----------
    base_filters : int
        Channels of the first convolution; then 2x, 4x, 8x (paper: 64).
    map_size : int
        Side of the input maps, a multiple of 16 (paper: 256).
    """

    def __init__(self, base_filters: int = 64, map_size: int = 256):
        super().__init__()
        _check(base_filters, map_size, 1)
        self.base_filters, self.map_size = base_filters, map_size
        layers, width_in = [], 1
        for i in range(_N_LAYERS):
            out = base_filters * 2**i
            layers.append(nn.Conv2d(width_in, out, _KERNEL, stride=2, padding=_KERNEL // 2))
            if i > 0:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            width_in = out
        self.net = nn.Sequential(*layers)
        side = map_size // 2**_N_LAYERS
        self.dense = nn.Linear(width_in * side * side, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.net(x).flatten(1)).squeeze(1)


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """DCGAN initialisation: weights ~ N(0, std), BatchNorm scales ~ N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def cosmogan(
    *, base_filters: int, map_size: int, latent_dim: int = PAPER_LATENT_DIM, seed: int | None = None
) -> tuple[Generator, Discriminator]:
    """Build P1's generator and discriminator, DCGAN-initialised, at explicit sizes.

    ``cosmogan(**paper_sizes(), seed=0)`` builds the networks of Tables 1 and 2.

    Parameters
    ----------
    base_filters : int
        Width (paper: 64): channels are 8, 4, 2, 1 times it.
    map_size : int
        Map side, a multiple of 16 (paper: 256).
    latent_dim : int
        Latent dimension (paper: 64).
    seed : int, optional
        Seed for the initial weights (a private generator: the global RNG is untouched).

    Returns
    -------
    (Generator, Discriminator)
    """
    sizes = dict(base_filters=base_filters, map_size=map_size)
    _check(base_filters, map_size, latent_dim)
    if seed is None:
        g, d = Generator(latent_dim, **sizes), Discriminator(**sizes)
        init_weights(g), init_weights(d)
        return g, d
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        g, d = Generator(latent_dim, **sizes), Discriminator(**sizes)
        init_weights(g), init_weights(d)
    return g, d
