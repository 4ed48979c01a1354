"""P3 (Feder et al. 2020): the 3D DCGAN of Table I, unconditional and redshift-conditional.

Table I of P3 lists, per layer of the generator: kernel 4, channels 256-128-64-32-1,
strides 1-2-2-2-2, a latent vector of dimension 100, LeakyReLU activations and a final tanh;
the discriminator takes the layers in reverse order (channels 1-32-64-128-256-1, strides
2-2-2-2-1), ReLU activations and a final sigmoid. The generator maps ``z`` (seen as a
``100 x 1 x 1 x 1`` volume) to ``4^3`` (stride 1, no padding), then doubles the side four
times to ``64^3``.

Parameter count: the transposed convolutions carry no bias (each is followed by BatchNorm,
which supplies the shift), so the generator has
``4^3 (100*256 + 256*128 + 128*64 + 64*32 + 32*1) = 4,392,960`` weights plus
``2 (256 + 128 + 64 + 32) = 960`` BatchNorm scales and shifts: **4,393,920**, exactly the
``N_params`` printed in Table I (which is the generator's count; 4.39M float32 weights are
the 17 MB quoted in P3's discussion). The discriminator (BatchNorm on all but the first
layer, as in DCGAN) has ``4^3 (32 + 32*64 + 64*128 + 128*256 + 256) + 2 (64 + 128 + 256)
= 2,771,840``; P3 does not print it.

Two printed details cannot both hold: Table I gives paddings ``{0, 0, 0, 0, 1}``, but with
kernel 4 and stride 2 only padding 1 doubles the side (padding 0 gives 4 -> 10 -> 22 -> 46
-> 92, not 64). We use paddings ``{0, 1, 1, 1, 1}``, the only choice that gives 64^3 volumes.
Table I's activations (LeakyReLU in G, ReLU in D) are the reverse of the usual DCGAN
convention; we follow the table.

The discriminator returns a logit (no sigmoid): the sigmoid + cross-entropy is applied in
the loss (:mod:`gancosmo.train.losses`), the numerically stable form of the same thing.

Conditional variant (P3 Sect. IV D, redshift): the label ``y`` of shape ``(B, c)`` is
appended to the latent vector of the generator (``latent_dim + c`` input channels) and, in
the discriminator, broadcast to ``c`` constant extra input channels of the volume.

Sizes are explicit: ``filters`` sets the hidden channels of the generator (the discriminator
uses them in reverse order); the output side is ``4 * 2**len(filters)``, so ``(256, 128, 64, 32)``
(Table I, :func:`paper_sizes`) gives 64^3 and ``(32, 16, 4)`` gives 32^3. A chapter's profile
table (:class:`gancosmo.evaluation.p3.P3Config`) holds the sizes it trains.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "Generator3D",
    "Discriminator3D",
    "dcgan3d",
    "paper_sizes",
    "PAPER_FILTERS",
    "PAPER_LATENT_DIM",
    "PAPER_G_PARAMETERS",
    "count_parameters",
    "table1_parameter_count",
    "init_weights",
]

KERNEL = 4
PAPER_FILTERS = (256, 128, 64, 32)
PAPER_LATENT_DIM = 100
#: Table I's printed N_params (the generator).
PAPER_G_PARAMETERS = 4_393_920


def paper_sizes() -> dict:
    """Table I's sizes: ``filters`` (256, 128, 64, 32) and ``latent_dim`` 100 (64^3 volumes)."""
    return dict(filters=PAPER_FILTERS, latent_dim=PAPER_LATENT_DIM)


def _check(filters, latent_dim: int, cond_dim: int) -> tuple:
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}.")
    if isinstance(cond_dim, bool) or not isinstance(cond_dim, int) or cond_dim < 0:
        raise ValueError(f"cond_dim must be an integer >= 0 (0: unconditional), got {cond_dim!r}.")
    try:
        f = tuple(filters)
    except TypeError:
        f = None
    if not f or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in f):
        raise ValueError(
            f"filters must be a non-empty sequence of positive integers (e.g. (256, 128, 64, 32)), got {filters!r}."
        )
    return f


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: convolutions N(0, 0.02), BatchNorm scales N(1, 0.02) and shifts 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _checked_labels(y, batch: torch.Tensor, cond_dim: int, network: str, call: str):
    """``y`` as ``(B, cond_dim)`` in ``batch``'s dtype, or None for an unconditional network; wrong use raises."""
    if not cond_dim:
        if y is not None:
            raise ValueError(f"this {network} is unconditional: call it as {call}), without a label.")
        return None
    if y is None:
        raise ValueError(f"this {network} is conditional: call it as {call}, y) with y of shape (B, {cond_dim}).")
    y = y.reshape(len(batch), -1).to(batch.dtype)
    if y.shape[1] != cond_dim:
        raise ValueError(f"y must have shape (B, {cond_dim}), got {tuple(y.shape)}.")
    return y


class Generator3D(nn.Module):
    """P3 generator (Table I): latent ``(B, latent_dim)`` -> volumes ``(B, 1, s, s, s)`` in (-1, 1).

    Parameters
    ----------
    latent_dim : int
        Size of the latent vector (paper: 100).
    filters : sequence of int
        Hidden channels, first to last (paper: 256, 128, 64, 32); side ``s = 4 * 2**len(filters)``.
    cond_dim : int
        Size of the conditioning label appended to the latent vector (0: unconditional; P3's
        redshift model: 1).
    """

    def __init__(self, latent_dim: int = PAPER_LATENT_DIM, filters=PAPER_FILTERS, cond_dim: int = 0):
        super().__init__()
        f = _check(filters, latent_dim, cond_dim)
        self.latent_dim, self.filters, self.cond_dim = latent_dim, f, cond_dim
        self.size = 4 * 2 ** len(f)
        layers = [
            nn.ConvTranspose3d(latent_dim + cond_dim, f[0], KERNEL, stride=1, padding=0, bias=False),
            nn.BatchNorm3d(f[0]),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for c_in, c_out in zip(f, f[1:]):
            layers += [
                nn.ConvTranspose3d(c_in, c_out, KERNEL, stride=2, padding=1, bias=False),
                nn.BatchNorm3d(c_out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers += [nn.ConvTranspose3d(f[-1], 1, KERNEL, stride=2, padding=1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}.")
        y = _checked_labels(y, z, self.cond_dim, "generator", "G(z")
        if y is not None:
            z = torch.cat([z, y], dim=1)
        return self.net(z[:, :, None, None, None])


class Discriminator3D(nn.Module):
    """P3 discriminator (Table I, layers reversed): volumes ``(B, 1, s, s, s)`` -> logits ``(B,)``.

    Parameters
    ----------
    filters : sequence of int
        The generator's hidden channels (paper: 256, 128, 64, 32); used in reverse order.
    cond_dim : int
        Label channels broadcast over the input volume (0: unconditional).
    """

    def __init__(self, filters=PAPER_FILTERS, cond_dim: int = 0):
        super().__init__()
        f = _check(filters, 1, cond_dim)[::-1]
        self.filters, self.cond_dim = tuple(f[::-1]), cond_dim
        self.size = 4 * 2 ** len(f)
        layers = [nn.Conv3d(1 + cond_dim, f[0], KERNEL, stride=2, padding=1, bias=False), nn.ReLU(inplace=True)]
        for c_in, c_out in zip(f, f[1:]):
            layers += [
                nn.Conv3d(c_in, c_out, KERNEL, stride=2, padding=1, bias=False),
                nn.BatchNorm3d(c_out),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.Conv3d(f[-1], 1, KERNEL, stride=1, padding=0, bias=False)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        s = self.size
        if x.dim() != 5 or tuple(x.shape[1:]) != (1, s, s, s):
            raise ValueError(f"x must have shape (B, 1, {s}, {s}, {s}), got {tuple(x.shape)}.")
        y = _checked_labels(y, x, self.cond_dim, "discriminator", "D(x")
        if y is not None:
            x = torch.cat([x, y[:, :, None, None, None].expand(-1, -1, s, s, s)], dim=1)
        return self.net(x).reshape(-1)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def table1_parameter_count(
    latent_dim: int = PAPER_LATENT_DIM, filters=PAPER_FILTERS, cond_dim: int = 0, network: str = "generator"
) -> int:
    """Parameters implied by Table I's layer list, counted by hand (no network is built).

    Each ``k^3`` (transposed) convolution from ``c_in`` to ``c_out`` channels has
    ``k^3 c_in c_out`` weights (no bias); each BatchNorm layer ``2 c`` parameters.
    """
    f = _check(filters, latent_dim, cond_dim)
    k3 = KERNEL**3
    if network == "generator":
        chans = (latent_dim + cond_dim,) + f + (1,)
        bn = sum(f)
    elif network == "discriminator":
        chans = (1 + cond_dim,) + f[::-1] + (1,)
        bn = sum(f[::-1][1:])
    else:
        raise ValueError(f"network must be 'generator' or 'discriminator', got {network!r}.")
    return k3 * sum(a * b for a, b in zip(chans, chans[1:])) + 2 * bn


def dcgan3d(
    filters=PAPER_FILTERS, latent_dim: int = PAPER_LATENT_DIM, cond_dim: int = 0, seed: int | None = None
) -> tuple[Generator3D, Discriminator3D]:
    """The generator and discriminator at explicit sizes (default: Table I's), DCGAN-initialised.

    Parameters
    ----------
    filters : sequence of int
        Hidden channels of the generator (the discriminator's in reverse); side ``4 * 2**len(filters)``.
    latent_dim : int
        Size of the latent vector.
    cond_dim : int
        Conditioning labels (0: unconditional; P3's redshift model: 1).
    seed : int, optional
        Seed of the initial weights (``torch.manual_seed``).
    """
    if isinstance(filters, str):
        raise ValueError(
            f"filters must be a sequence of positive integers (e.g. (256, 128, 64, 32)), got {filters!r}; "
            "the profile names moved to the chapter's config (P3Config)."
        )
    if seed is not None:
        torch.manual_seed(seed)
    G, D = Generator3D(latent_dim, filters, cond_dim), Discriminator3D(filters, cond_dim)
    init_weights(G), init_weights(D)
    return G, D
