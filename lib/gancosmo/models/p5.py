r"""P5 (Ullmo et al. 2021): the DCGAN of Appendix A and the encoder of the autoencoder built on it.

At P5's sizes (``width=32``, ``side=128``, ``latent_dim=100``) the layers are those of Fig. A.1:

* generator (and decoder): a dense layer from the Gaussian 100-vector to 512 feature maps of
  4 x 4 pixels, then five 5 x 5 transposed convolutions of stride 2 with 256, 128, 64, 32 and 1
  filters (4 -> 8 -> 16 -> 32 -> 64 -> 128 pixels), ReLU between them and tanh on the output;
* discriminator: five 5 x 5 convolutions of stride 2 with 32, 64, 128, 256 and 512 filters
  (128 -> 64 -> 32 -> 16 -> 8 -> 4 pixels), LeakyReLU(0.2), then the dense layer
  ``8192 -> 1``; its output is a logit (the sigmoid of Fig. A.1 is applied inside the loss,
  :mod:`gancosmo.train.losses`, the numerically stable form of the same thing);
* encoder: the discriminator's layers with the last dense layer ``8192 -> 100`` and no
  activation (Appendix A.2).

What Appendix A leaves open is chosen as in DCGAN (Radford et al. 2016), which P5 builds on:
BatchNorm after every hidden layer of the generator and after every convolution of the
discriminator and encoder but the first; weights drawn from N(0, 0.02). "Padding {0, 0, 0, 0,
1}" of Fig. A.1 is written in the convention of the authors' framework; here every layer pads
by 2 pixels (with one extra output pixel in the transposed convolutions), so that each layer
halves or doubles the side exactly.

The discriminator's :meth:`Discriminator.features` is P5's *truncated discriminator* TD of
Eq. 7: the 8192 values that feed its last dense layer.

Other sizes keep the layout and change two knobs: ``width`` (channels of the first
discriminator layer, doubled by each further one; the generator mirrors it) and ``side`` (4
times a power of two). Every size meets the dense layers with 4 x 4 feature maps, as Fig. A.1
does: a side of ``4 * 2**L`` has ``L`` stride-2 layers (P5's 128: 5; 64: 4, i.e. P5's
networks without the outermost pair of layers). Keeping five layers at 64^2 instead (2 x 2
maps at the dense layers) was tried first: at width 4 and 8 every generator collapsed onto
one image with a 2 x 2 block pattern, the discriminator's accuracy at 1.0.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "Generator",
    "Discriminator",
    "Encoder",
    "dcgan",
    "encoder",
    "paper_sizes",
    "n_layers",
    "is_valid_side",
    "count_parameters",
    "freeze",
    "PAPER_WIDTH",
    "PAPER_SIDE",
    "PAPER_LATENT_DIM",
]

#: P5's sizes (Fig. A.1): 32 filters in the first discriminator layer, 128^2 images, latent 100.
PAPER_WIDTH, PAPER_SIDE, PAPER_LATENT_DIM = 32, 128, 100
_KERNEL = 5
_START = 4  # side of the feature maps that meet the dense layers (Fig. A.1)


def is_valid_side(side: int) -> bool:
    """Whether images of ``side`` pixels fit the networks: 4 times a power of two, at least 8."""
    return side >= 2 * _START and side % _START == 0 and not (side // _START) & (side // _START - 1)


def n_layers(side: int) -> int:
    """Stride-2 layers of the networks for images of ``side`` pixels: ``log2(side / 4)`` (P5's 128: 5)."""
    return (side // _START).bit_length() - 1


def paper_sizes() -> dict:
    """P5's sizes as keyword arguments of :func:`dcgan` and :func:`encoder`."""
    return dict(width=PAPER_WIDTH, side=PAPER_SIDE, latent_dim=PAPER_LATENT_DIM)


def _check(width: int, side: int, latent_dim: int) -> None:
    for name, value in (("width", width), ("side", side), ("latent_dim", latent_dim)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if not is_valid_side(side):
        raise ValueError(f"side must be 4 times a power of two (8, 16, 32, 64, 128, 256...), got {side}.")


def _init(module: nn.Module, std: float = 0.02) -> None:
    """DCGAN initialisation: weights ~ N(0, std), BatchNorm scales ~ N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """P5's generator (and the autoencoder's decoder): ``(B, latent_dim)`` -> ``(B, 1, side, side)`` in [-1, 1].

    Parameters
    ----------
    latent_dim : int
        Size of the Gaussian latent vector (P5: 100).
    width : int
        The discriminator's first width (P5: 32). The dense layer feeds ``width * 2**(L-1)``
        maps (``L`` = :func:`n_layers`; P5: 512), each transposed convolution halves them
        down to ``width``, then 1 filter.
    side : int
        Image side in pixels, 4 times a power of two (P5: 128).
    """

    def __init__(self, latent_dim: int = PAPER_LATENT_DIM, width: int = PAPER_WIDTH, side: int = PAPER_SIDE):
        super().__init__()
        _check(width, side, latent_dim)
        self.latent_dim, self.width, self.side = latent_dim, width, side
        self.start, layers_n = _START, n_layers(side)
        channels = width * 2 ** (layers_n - 1)
        self.dense = nn.Linear(latent_dim, channels * self.start**2)
        self.bn0 = nn.BatchNorm2d(channels)
        layers = []
        for i in range(layers_n):
            out = 1 if i == layers_n - 1 else channels // 2
            layers.append(nn.ConvTranspose2d(channels, out, _KERNEL, stride=2, padding=2, output_padding=1))
            if i < layers_n - 1:
                layers += [nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            channels = out
        layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.dense(z).view(z.shape[0], -1, self.start, self.start)
        return self.net(torch.relu(self.bn0(x)))


class _Convolutions(nn.Module):
    """The five strided convolutions shared by the discriminator and the encoder."""

    def __init__(self, width: int, side: int):
        super().__init__()
        layers, channels = [], 1
        for i in range(n_layers(side)):
            out = width * 2**i
            layers.append(nn.Conv2d(channels, out, _KERNEL, stride=2, padding=2))
            if i > 0:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            channels = out
        self.net = nn.Sequential(*layers)
        self.n_features = channels * _START**2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)


class Discriminator(nn.Module):
    """P5's discriminator: ``(B, 1, side, side)`` -> logits ``(B,)``; :meth:`features` is Eq. 7's TD.

    Parameters
    ----------
    width : int
        Filters of the first convolution (P5: 32), doubled by each further one.
    side : int
        Image side, 4 times a power of two (P5: 128: five convolutions, 512 maps of 4 x 4, 8192 features).
    """

    def __init__(self, width: int = PAPER_WIDTH, side: int = PAPER_SIDE):
        super().__init__()
        _check(width, side, 1)
        self.width, self.side = width, side
        self.conv = _Convolutions(width, side)
        self.n_features = self.conv.n_features
        self.dense = nn.Linear(self.n_features, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The truncated discriminator TD(x): ``(B, n_features)``, the input of the last dense layer."""
        return self.conv(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.features(x)).squeeze(1)


class Encoder(nn.Module):
    """P5's encoder (Appendix A.2): the discriminator's layers with a dense ``n_features -> latent_dim`` head.

    ``(B, 1, side, side)`` -> ``(B, latent_dim)``, no final activation.

    Parameters
    ----------
    width, side : int
        As :class:`Discriminator`.
    latent_dim : int
        The generator's latent size (P5: 100).
    """

    def __init__(self, width: int = PAPER_WIDTH, side: int = PAPER_SIDE, latent_dim: int = PAPER_LATENT_DIM):
        super().__init__()
        _check(width, side, latent_dim)
        self.width, self.side, self.latent_dim = width, side, latent_dim
        self.conv = _Convolutions(width, side)
        self.n_features = self.conv.n_features
        self.dense = nn.Linear(self.n_features, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.conv(x))


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (trainable or frozen)."""
    return sum(p.numel() for p in module.parameters())


def freeze(module: nn.Module) -> nn.Module:
    """``module`` in eval mode with every parameter's ``requires_grad`` off (the autoencoder's decoder and TD)."""
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def _seeded(seed: int | None, build):
    if seed is None:
        return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def dcgan(
    *, width: int, side: int, latent_dim: int = PAPER_LATENT_DIM, seed: int | None = None
) -> tuple[Generator, Discriminator]:
    """P5's generator and discriminator, DCGAN-initialised, at explicit sizes.

    ``dcgan(**paper_sizes(), seed=0)`` builds the networks of Fig. A.1.

    Parameters
    ----------
    width : int
        The discriminator's first width (P5: 32).
    side : int
        Image side in pixels, 4 times a power of two (P5: 128).
    latent_dim : int
        Latent size (P5: 100).
    seed : int, optional
        Seed of the initial weights (a private stream: the global RNG is left as it was).
    """
    _check(width, side, latent_dim)

    def build():
        g, d = Generator(latent_dim, width, side), Discriminator(width, side)
        _init(g), _init(d)
        return g, d

    return _seeded(seed, build)


def encoder(*, width: int, side: int, latent_dim: int = PAPER_LATENT_DIM, seed: int | None = None) -> Encoder:
    """P5's encoder at explicit sizes, DCGAN-initialised (its own weights: P5 keeps D's layout, not D's weights)."""
    _check(width, side, latent_dim)

    def build():
        e = Encoder(width, side, latent_dim)
        _init(e)
        return e

    return _seeded(seed, build)
