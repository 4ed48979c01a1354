"""P2 (Perraudin et al. 2021): the conditional GAN of Table A1 and its latent-norm conditioning.

The generator is conditioned on ``y = (Omega_m, sigma_8)`` by rescaling the *length* of its
Gaussian latent vector (P2, Eq. 2): for a parameter ``y`` in the range ``[a, b]``,

    z_hat = (l0 + (l1 - l0) (y - a) / (b - a)) * z / ||z||_2,

so the length of ``z_hat`` runs linearly from ``l0`` to ``l1`` across the range. With two
parameters the latent vector is cut into one block per parameter and each block is
rescaled by its own parameter. Two variants are offered:

``"paper"`` (default, the text)
    ``l0 = 0.1 sqrt(n)``, ``l1 = sqrt(n)`` with ``n`` the size of the whole latent vector
    (128 in Table A1), ranges ``[a, b]`` = the range of the parameter over the simulation
    grid (Omega_m in [0.101, 0.487], sigma_8 in [0.475, 1.331]).
``"code"`` (the authors' released code, ``gaussian_length``)
    one 64-dimensional block per parameter whose length maps onto [0.8, 8] (that is
    ``0.1 sqrt(64)`` to ``sqrt(64)``: the block size, not the latent size), with the code's
    ranges (sigma_8 in [0.487, 1.331], although the grid has sigma_8 = 0.475).

Parameters outside ``[a, b]`` extrapolate the same straight line; the mapped length must stay
positive, so each parameter has a lowest admissible value (:meth:`LatentNormConditioning.lowest`).

Networks (Table A1; ``width=32``, :data:`PAPER_WIDTH`, is the paper's size; every size is
explicit): the generator is an MLP ``128 -> 256 -> 512 -> 16*width*(map_size/16)^2`` (ReLU), a
reshape to ``16*width x map_size/16 x map_size/16``, four transposed convolutions of stride 2
(kernels 3, 5, 5, 5; channels 8, 4, 2, 1 times ``width``, ReLU) and a 7 x 7 transposed
convolution of stride 1 to one channel. P2's maps have ``map_size = 128`` (:data:`PAPER_MAP_SIZE`:
the MLP ends in ``8*8*16*width``); the book's reduced-scale suites have smaller maps (32 or 64
pixels), for which only the first reshape changes (32 px: ``2 x 2``) and the critic's and the
regressor's first linear layers take ``16*width*(map_size/16)^2`` features.
Table A1 lists a ReLU after that last layer too; convergence maps have negative pixels, so
our output layer is linear (the data are scaled by a constant, :class:`gancosmo.data.intensity.ConstantScale`). The
critic mirrors it: a 7 x 7 convolution of stride 1 (``width`` channels), four strided
convolutions (kernels 5, 5, 5, 3; 2, 4, 8, 16 times ``width``), flatten, concatenate the two
parameters, linear layers 512 -> 256 -> 128 -> 1 with LeakyReLU(0.2) between them (the
table's LeakyReLU on the single output d9 is dropped: a Wasserstein critic needs an
unbounded linear output). No normalisation layers (WGAN-GP penalises per-sample gradients).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "PAPER_MAP_SIZE",
    "PAPER_WIDTH",
    "CODE_RANGES",
    "CONDITIONINGS",
    "GRID_RANGES",
    "ConditionalCritic",
    "ConditionalGenerator",
    "LatentNormConditioning",
    "conditional_gan",
    "check_map_size",
    "conv_trunk",
    "count_parameters",
    "trunk_features",
]

#: Table A1's width (channels of the thinnest layer; 16, 8, 4, 2, 1 times it).
PAPER_WIDTH = 32
#: P2's maps: 128 x 128 pixels (the default ``map_size`` of every network here).
PAPER_MAP_SIZE = 128
#: The four stride-2 layers divide the map side by this factor.
DOWNSAMPLING = 16
#: Range of (Omega_m, sigma_8) over the 57 cosmologies of the KiDS-450 grid.
GRID_RANGES = ((0.101, 0.487), (0.475, 1.331))
#: Ranges in the authors' code (sigma_8 from 0.487, although the grid reaches 0.475).
CODE_RANGES = ((0.101, 0.487), (0.487, 1.331))
CONDITIONINGS = ("paper", "code")
PARAMETER_NAMES = ("Omega_m", "sigma_8")


@dataclass(frozen=True)
class LatentNormConditioning:
    """Eq. 2 of P2: one latent block per parameter, its length set by the parameter.

    Parameters
    ----------
    latent_dim : int
        Size ``n`` of the whole latent vector (Table A1: 128); split into equal blocks.
    ranges : tuple of (a, b)
        Parameter range per block (dimensionless cosmological parameters).
    l0, l1 : float
        Lengths at ``y = a`` and ``y = b``.
    """

    latent_dim: int
    ranges: tuple
    l0: float
    l1: float

    def __post_init__(self):
        if (
            isinstance(self.latent_dim, bool)
            or not isinstance(self.latent_dim, int)
            or self.latent_dim < len(self.ranges)
        ):
            raise ValueError(
                f"latent_dim must be an integer >= the number of parameters ({len(self.ranges)}), got "
                f"{self.latent_dim!r}."
            )
        if self.latent_dim % len(self.ranges):
            raise ValueError(
                f"latent_dim {self.latent_dim} must split into {len(self.ranges)} equal blocks (one per parameter)."
            )
        for a, b in self.ranges:
            if not b > a:
                raise ValueError(f"each parameter range (a, b) needs b > a, got {(a, b)}.")
        if not 0 < self.l0 < self.l1:
            raise ValueError(f"the latent lengths need 0 < l0 < l1, got l0={self.l0}, l1={self.l1}.")

    @classmethod
    def paper(cls, latent_dim: int = 128, ranges=GRID_RANGES) -> LatentNormConditioning:
        """The text: ``l0 = 0.1 sqrt(n)``, ``l1 = sqrt(n)``, ``n`` = the latent size."""
        return cls(
            latent_dim, tuple(tuple(map(float, r)) for r in ranges), 0.1 * math.sqrt(latent_dim), math.sqrt(latent_dim)
        )

    @classmethod
    def code(cls, latent_dim: int = 128, ranges=CODE_RANGES) -> LatentNormConditioning:
        """The authors' code: block lengths from 0.1 sqrt(block) to sqrt(block) ([0.8, 8] for 64)."""
        block = latent_dim // len(ranges)
        return cls(latent_dim, tuple(tuple(map(float, r)) for r in ranges), 0.1 * math.sqrt(block), math.sqrt(block))

    @classmethod
    def make(cls, kind: str, latent_dim: int = 128) -> LatentNormConditioning:
        """``"paper"`` or ``"code"``."""
        if kind == "paper":
            return cls.paper(latent_dim)
        if kind == "code":
            return cls.code(latent_dim)
        raise ValueError(f"conditioning must be one of {', '.join(map(repr, CONDITIONINGS))}; got {kind!r}.")

    @property
    def n_params(self) -> int:
        return len(self.ranges)

    @property
    def block(self) -> int:
        return self.latent_dim // self.n_params

    def length(self, y) -> torch.Tensor:
        """Mapped lengths ``(B, n_params)`` of the latent blocks for parameters ``y`` ``(B, n_params)``."""
        y = torch.as_tensor(y, dtype=torch.float32)
        a = torch.tensor([r[0] for r in self.ranges], dtype=y.dtype, device=y.device)
        b = torch.tensor([r[1] for r in self.ranges], dtype=y.dtype, device=y.device)
        return self.l0 + (self.l1 - self.l0) * (y - a) / (b - a)

    def lowest(self) -> tuple:
        """Lowest admissible value of each parameter (where the mapped length reaches 0)."""
        return tuple(a - self.l0 * (b - a) / (self.l1 - self.l0) for a, b in self.ranges)

    def check(self, y: torch.Tensor) -> None:
        """Raise a clear ValueError when ``y`` has the wrong shape or maps to a length <= 0."""
        if y.dim() != 2 or y.shape[1] != self.n_params:
            raise ValueError(
                f"parameters y must have shape (B, {self.n_params}) ({', '.join(PARAMETER_NAMES[: self.n_params])}), "
                f"got {tuple(y.shape)}."
            )
        if not bool(torch.isfinite(y).all()):
            raise ValueError("parameters y contain NaN or infinite values; accepted are finite numbers.")
        low = torch.tensor(self.lowest(), dtype=y.dtype, device=y.device)
        bad = y <= low
        if bool(bad.any()):
            j = int(bad.any(0).nonzero()[0])
            raise ValueError(
                f"{PARAMETER_NAMES[j]} = {float(y[bad[:, j], j][0]):.4g} is below {self.lowest()[j]:.4g}, "
                f"where the conditioned latent length of Eq. 2 reaches zero; accepted are values above it."
            )

    def __call__(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``z_hat = f(z, y)``: each block of ``z`` ``(B, latent_dim)`` rescaled to its mapped length."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"latent z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}.")
        y = y.to(device=z.device, dtype=torch.float32)
        self.check(y)
        blocks = z.float().reshape(z.shape[0], self.n_params, self.block)
        unit = blocks / blocks.norm(dim=2, keepdim=True).clamp_min(1e-12)
        return (unit * self.length(y).unsqueeze(-1)).reshape(z.shape[0], self.latent_dim).to(z.dtype)


def _widths(width: int) -> list[int]:
    return [width * m for m in (1, 2, 4, 8, 16)]


def _check_width(width: int) -> None:
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer (Table A1: 32), got {width!r}.")


def check_map_size(map_size: int) -> None:
    """Raise a ValueError unless ``map_size`` (pixels per side) is a power of two >= 32."""
    if (
        isinstance(map_size, bool)
        or not isinstance(map_size, int)
        or map_size < 2 * DOWNSAMPLING
        or map_size & (map_size - 1)
    ):
        raise ValueError(f"map_size must be a power of two >= 32 (P2: 128 pixels per side), got {map_size!r}.")


def trunk_features(width: int, map_size: int) -> int:
    """Features of the flattened :func:`conv_trunk` on ``map_size``-pixel maps: ``16 width (map_size/16)^2``."""
    return _widths(width)[4] * (map_size // DOWNSAMPLING) ** 2


def check_map_batch(x: torch.Tensor, map_size: int, who: str) -> None:
    """Raise a ValueError unless ``x`` is a batch of maps ``(B, 1, map_size, map_size)``."""
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, map_size, map_size):
        raise ValueError(f"{who} takes maps of shape (B, 1, {map_size}, {map_size}), got {tuple(x.shape)}.")


class ConditionalGenerator(nn.Module):
    """Table A1 generator: ``G(z, y)``, ``z`` ``(B, latent_dim)``, ``y`` ``(B, 2)`` -> ``(B, 1, map_size, map_size)``.

    Parameters
    ----------
    width : int
        Channels of the last hidden layer (Table A1: 32; channels 16, 8, 4, 2, 1 times it).
    latent_dim : int
        Size of the Gaussian latent vector (Table A1: 128).
    conditioning : {"paper", "code"}
        Eq. 2 as printed, or the authors' code (see the module docstring).
    map_size : int
        Pixels per side of the output maps, a power of two >= 32 (P2: 128); the MLP ends in
        ``16 width (map_size/16)^2`` units, reshaped to ``map_size/16`` pixels per side.
    """

    def __init__(self, width: int, latent_dim: int = 128, conditioning: str = "paper", map_size: int = PAPER_MAP_SIZE):
        super().__init__()
        _check_width(width)
        check_map_size(map_size)
        self.width, self.latent_dim, self.map_size, self.conditioning_kind = width, latent_dim, map_size, conditioning
        self.start_size = map_size // DOWNSAMPLING
        self.conditioning = LatentNormConditioning.make(conditioning, latent_dim)
        c = _widths(width)
        self.mlp = nn.Sequential(
            nn.Linear(latent_dim, 256),
            nn.ReLU(),
            nn.Linear(256, 512),
            nn.ReLU(),
            nn.Linear(512, trunk_features(width, map_size)),
            nn.ReLU(),
        )
        layers = []
        for cin, cout, k in ((c[4], c[3], 3), (c[3], c[2], 5), (c[2], c[1], 5), (c[1], c[0], 5)):
            layers += [nn.ConvTranspose2d(cin, cout, k, stride=2, padding=k // 2, output_padding=1), nn.ReLU()]
        layers.append(nn.ConvTranspose2d(c[0], 1, 7, stride=1, padding=3))
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.mlp(self.conditioning(z, y))
        return self.deconv(h.reshape(z.shape[0], -1, self.start_size, self.start_size))


def conv_trunk(width: int) -> nn.Sequential:
    """The convolutional layers shared by the critic (d0-d4) and the regressor (h0-h4), flattened."""
    c = _widths(width)
    layers = [nn.Conv2d(1, c[0], 7, stride=1, padding=3), nn.LeakyReLU(0.2)]
    for cin, cout, k in ((c[0], c[1], 5), (c[1], c[2], 5), (c[2], c[3], 5), (c[3], c[4], 3)):
        layers += [nn.Conv2d(cin, cout, k, stride=2, padding=k // 2), nn.LeakyReLU(0.2)]
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)


class ConditionalCritic(nn.Module):
    """Table A1 critic: ``D(x, y)`` with ``x`` ``(B, 1, map_size, map_size)``, ``y`` ``(B, 2)`` -> ``(B,)`` scores.

    ``map_size`` (pixels per side, a power of two >= 32; P2: 128) sets the features of the
    first linear layer, ``16 width (map_size/16)^2`` plus the parameters.
    """

    def __init__(self, width: int, n_params: int = 2, map_size: int = PAPER_MAP_SIZE):
        super().__init__()
        _check_width(width)
        check_map_size(map_size)
        self.width, self.n_params, self.map_size = width, n_params, map_size
        self.trunk = conv_trunk(width)
        self.head = nn.Sequential(
            nn.Linear(trunk_features(width, map_size) + n_params, 512),
            nn.LeakyReLU(0.2),
            nn.Linear(512, 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, 128),
            nn.LeakyReLU(0.2),
            nn.Linear(128, 1),
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        check_map_batch(x, self.map_size, "the critic")
        if y.dim() != 2 or y.shape != (x.shape[0], self.n_params):
            raise ValueError(f"parameters y must have shape ({x.shape[0]}, {self.n_params}), got {tuple(y.shape)}.")
        h = torch.cat([self.trunk(x), y.to(x.dtype)], dim=1)
        return self.head(h).squeeze(1)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def conditional_gan(
    width: int, latent_dim: int = 128, conditioning: str = "paper", seed: int = 0, map_size: int = PAPER_MAP_SIZE
):
    """``(G, D)`` of Table A1 at ``width`` (:data:`PAPER_WIDTH` = 32 in the paper) for maps of ``map_size`` pixels
    per side (:data:`PAPER_MAP_SIZE` = 128 in the paper), weights drawn from ``seed`` (PyTorch defaults)."""
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"conditioning must be one of {', '.join(map(repr, CONDITIONINGS))}; got {conditioning!r}.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        G = ConditionalGenerator(width, latent_dim, conditioning, map_size=map_size)
        D = ConditionalCritic(width, map_size=map_size)
    return G, D
