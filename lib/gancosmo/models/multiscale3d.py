"""P4 (Perraudin et al. 2019): the three WGANs of the multi-scale, patch-by-patch 3D model.

P4 generates a ``256^3`` cube in three stages (Sect. 4.1, Tables 3-5):

* **M3** (Table 3), latent -> ``32^3``: a DCGAN-style WGAN, kernels 4, five (transposed)
  convolutions in the generator and the critic, LeakyReLU(0.2);
* **M2** (Table 4), ``32^3`` -> ``64^3``: patches of ``32^3`` conditioned on their 7 borders
  (encoded by 3 strided convolutions and concatenated to the latent before a dense layer)
  and on the low-resolution patch (concatenated at the first convolution);
* **M1** (Table 5), ``64^3`` -> ``256^3``: patches of ``32^3``; the borders (flipped to align
  with the produced corner) and the up-sampled low-resolution patch enter as extra channels
  of a stride-1 network of inception blocks (kernels 1, 2, 4 in parallel merged by a
  ``1 x 1 x 1`` convolution); the latent is a field of the patch's size.

The critics of M2 and M1 see the ``2 x 2 x 2`` block (7 borders + the real or generated patch,
"reshape to a cube"), its low-resolution "smooth image" and their difference, as 3 channels.
Every critic layer is spectrally normalised, no network has BatchNorm, and M1's critic
concatenates power-spectrum features of the block to its first dense layer (Appendix F).
Weights are Xavier-uniform, biases zero (Appendix F).

Sizes are explicit: ``width`` is Table 3-5's ``d`` (P4: M3 64, M2 32, M1 64,
:data:`PAPER_WIDTHS`) and the side of M3's cubes / of the patches of M2 and M1 is an argument
(P4: 32; any multiple of 8 works, so the book's CPU profiles use 8 and 16).
:func:`paper_sizes` gives P4's arguments of each builder.

Conditioning
------------
``G(z, y)`` and ``D(x, y)`` of M2 and M1 take one tensor ``y`` ``(B, C, p, p, p)`` per patch, or
the same flattened to ``(B, C p^3)`` (what :class:`gancosmo.train.Trainer` stores as labels):
channels 0-6 the borders (block octants in raster order, in place, not flipped), channel 7
the low-resolution block (see :mod:`gancosmo.models.patches3d`, which builds ``y`` for
training and for sampling). The ablations drop channels: ``low_res=False`` (Appendix C, the
single-scale model: 7 channels), ``borders=False`` (independent patches: 1 channel, the
low-resolution patch). ``z`` is ``(B, G.latent_dim)``.

Choices where the tables are ambiguous or inconsistent
------------------------------------------------------
* **M3 critic strides.** Table 3's stride column (2, 2, 1, 1, 1) contradicts its output
  shapes (32, 32, 16, 8, 4 from a 32^3 input) and its dense layer ``(512d, 1)``, which needs a
  ``4^3 x 8d`` output. We follow the shapes and the dense layer: strides 1, 1, 2, 2, 2.
* **Channel typos.** Table 3's third transposed convolution reads ``(d, d)`` after a ``2d``
  layer and Table 4's fourth critic convolution ``(d, d)`` after a ``4d`` one; we take the
  input channels from the previous layer. The channel counts printed on the LeakyReLU rows
  disagree with the layers around them and are ignored.
* **Activations the tables omit.** No activation after the dense layers of the generators
  (none listed), LeakyReLU after the first two of M2's three border-encoder convolutions
  (the table lists none; the third feeds the dense layer linearly), LeakyReLU after every
  hidden layer elsewhere. Output layers: M1's generator ends in a ReLU (Table 5; the
  transformed data are >= 0); Tables 3 and 4 list no output activation, so M3's and M2's are
  linear; the critics end linearly (Wasserstein scores).
* **Stride-1 "DeConv" layers** are stride-1 convolutions with TensorFlow's ``same`` padding
  (for kernel 4: 1 voxel before, 2 after): a stride-1 transposed convolution is a
  convolution with a mirrored kernel, so the function class is the same.
* **M2's dense layer** outputs ``2 (p/2)^3`` units reshaped to 2 channels of side ``p/2``
  (Table 4: ``256d = 8192 = 2 x 16^3`` at P4's ``d = 32``, ``p = 32``): the size follows the
  patch, not the width. Its latent is ``z1`` (default: the size of the border code,
  ``16 (p/8)^3``, Table 4's 1024) followed by ``z2``, a field of ``(p/2)^3`` values;
  ``latent_dim = dim(z1) + (p/2)^3`` (P4: 5120). Without borders the dense layer takes
  ``z1`` alone.
* **Inception blocks.** Each of the three parallel convolutions has as many channels as the
  block's output; no activation between them and the merging ``1 x 1 x 1`` convolution.
  Table 5 lists 8 inception layers in M1's critic (the text of Sect. 5 says 6); we follow
  the table.
* **Power-spectrum features** (:class:`PowerSpectrumFeatures`): ``log(1 + P(k))`` in
  ``side/2`` unit-width shells of ``|k|`` (DC excluded) of the field the critic sees (the
  ``2p`` block, or the patch without borders). Table 5's feature counts (16384 conv
  features, 1914 PSD values) do not follow from its own shapes; we use the real sizes.
  P4's text puts the PSD features in M1's critic (Table 5); the authors' code feeds them to
  the discriminators in general, so M3 and M2 have them as an option (``psd=True``), off by
  default.
* **Spectral normalisation** on every convolution and dense layer of the critics
  (Appendix F names it among the stabilisers without saying which network; the generators
  have none).
* **The "smooth image"** of the critic is the low-res block repeated to the block's side
  (nearest up-sampling, P4's "deconvolution with a constant kernel"); M1's generator takes
  the patch's low-res region repeated ``factor`` times. These repetitions carry no weights,
  so they are done on ``y`` rather than by a layer.

Example
-------
>>> G, D = m1_gan(width=2, patch=8, seed=0)
>>> z, y = torch.randn(2, G.latent_dim), torch.randn(2, G.cond_channels, 8, 8, 8)
>>> G(z, y).shape, D(G(z, y), y).shape
(torch.Size([2, 1, 8, 8, 8]), torch.Size([2]))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .patches3d import (
    N_BORDERS,
    align_borders,
    assemble_block,
    block_smooth_field,
    conditioning_channels,
    patch_low_res,
    split_conditioning,
)

__all__ = [
    "INCEPTION_KERNELS",
    "PAPER_M3_LATENT_DIM",
    "PAPER_SIDE",
    "PAPER_WIDTHS",
    "InceptionConv3d",
    "M1Critic",
    "M1Generator",
    "M2Critic",
    "M2Generator",
    "M3Critic",
    "M3Generator",
    "PowerSpectrumFeatures",
    "count_parameters",
    "m1_gan",
    "m2_gan",
    "m3_gan",
    "paper_sizes",
    "radial_power_spectrum",
    "shell_index",
    "spectral_normalise",
    "xavier_init",
]

LEAK = 0.2
KERNEL = 4
INCEPTION_KERNELS = (1, 2, 4)
#: Side of M3's cubes and of M2's and M1's patches in P4 (voxels).
PAPER_SIDE = 32
#: Latent size of M3 (Table 3).
PAPER_M3_LATENT_DIM = 256
#: Tables 3-5's ``d`` of each stage.
PAPER_WIDTHS = {"m3": 64, "m2": 32, "m1": 64}
#: Channels of M2's border code (Table 4's last encoder layer).
M2_CODE_CHANNELS = 16
#: Hidden units of M1's critic head (Table 5).
M1_HEAD_UNITS = (64, 16)


def paper_sizes(stage: str) -> dict:
    """P4's builder arguments for ``stage`` (``"m3"``, ``"m2"`` or ``"m1"``), e.g. ``m1_gan(**paper_sizes("m1"))``."""
    if stage == "m3":
        return dict(width=PAPER_WIDTHS["m3"], side=PAPER_SIDE, latent_dim=PAPER_M3_LATENT_DIM)
    if stage in ("m2", "m1"):
        return dict(width=PAPER_WIDTHS[stage], patch=PAPER_SIDE)
    raise ValueError(f"stage must be 'm3', 'm2' or 'm1', got {stage!r}.")


# ---------------------------------------------------------------------------------------------- checks
def _check_width(width: int) -> None:
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer (P4: M3 64, M2 32, M1 64), got {width!r}.")


def _check_side(name: str, side: int) -> None:
    if isinstance(side, bool) or not isinstance(side, int) or side < 8 or side % 8:
        raise ValueError(f"{name} must be a multiple of 8 voxels (P4: 32), got {side!r}.")


def _check_latent(z: torch.Tensor, latent_dim: int) -> None:
    if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != latent_dim:
        got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"z must have shape (B, {latent_dim}), got {got}.")


def _check_volume(x: torch.Tensor, side: int, who: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 5 or tuple(x.shape[1:]) != (1, side, side, side):
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{who} takes volumes of shape (B, 1, {side}, {side}, {side}), got {got}.")


# ---------------------------------------------------------------------------------------------- layers
def same_conv3d(c_in: int, c_out: int, kernel: int) -> nn.Sequential:
    """Stride-1 convolution keeping the side, padded as TensorFlow's ``same`` (``(k-1)//2`` before, the rest after)."""
    before = (kernel - 1) // 2
    after = kernel - 1 - before
    return nn.Sequential(nn.ConstantPad3d((before, after) * 3, 0.0), nn.Conv3d(c_in, c_out, kernel))


def strided_conv3d(c_in: int, c_out: int, kernel: int = KERNEL) -> nn.Conv3d:
    """Stride-2 convolution halving an even side (kernels 1, 2, 4: padding 0, 0, 1)."""
    return nn.Conv3d(c_in, c_out, kernel, stride=2, padding=(kernel - 1) // 2)


def up_conv3d(c_in: int, c_out: int) -> nn.ConvTranspose3d:
    """Stride-2 transposed convolution of kernel 4 doubling the side."""
    return nn.ConvTranspose3d(c_in, c_out, KERNEL, stride=2, padding=1)


def conv3d(c_in: int, c_out: int, stride: int, kernel: int = KERNEL) -> nn.Module:
    """Kernel-``kernel`` convolution of stride 1 (side kept) or 2 (side halved)."""
    if stride == 1:
        return same_conv3d(c_in, c_out, kernel)
    if stride == 2:
        return strided_conv3d(c_in, c_out, kernel)
    raise ValueError(f"stride must be 1 or 2, got {stride!r}.")


class InceptionConv3d(nn.Module):
    """P4's inception block: convolutions of kernels 1, 2, 4 in parallel, concatenated, merged by ``1 x 1 x 1``.

    Parameters
    ----------
    c_in, c_out : int
        Channels in and out; each branch has ``c_out`` channels.
    stride : {1, 2}
        Stride of the three branches (side kept or halved).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.branches = nn.ModuleList(conv3d(c_in, c_out, stride, k) for k in INCEPTION_KERNELS)
        self.merge = nn.Conv3d(len(INCEPTION_KERNELS) * c_out, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.merge(torch.cat([branch(x) for branch in self.branches], dim=1))


def _stack(layers: list[nn.Module], last_activation: nn.Module | None = None) -> nn.Sequential:
    """``layers`` with LeakyReLU(0.2) after each but the last (followed by ``last_activation`` if given)."""
    out = []
    for n, layer in enumerate(layers):
        out.append(layer)
        if n < len(layers) - 1:
            out.append(nn.LeakyReLU(LEAK))
    if last_activation is not None:
        out.append(last_activation)
    return nn.Sequential(*out)


# 2D layers too: Table 2's baselines (models/wgan2d.py) are built and initialised the same way.
WEIGHTED = (nn.Conv3d, nn.ConvTranspose3d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def xavier_init(module: nn.Module) -> nn.Module:
    """Xavier-uniform weights and zero biases for every (transposed) convolution and dense layer (Appendix F)."""
    for m in module.modules():
        if isinstance(m, WEIGHTED):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


def spectral_normalise(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) of every (transposed) convolution and dense layer, in place."""
    for m in list(module.modules()):
        if isinstance(m, WEIGHTED):
            spectral_norm(m)
    return module


# ---------------------------------------------------------------------------------------------- power spectrum
def shell_index(side: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Shell of every Fourier mode of a ``side^3`` grid, for :func:`radial_power_spectrum`.

    Mode ``k`` (integer wave numbers, cycles per box, from :func:`torch.fft.fftfreq`) lies in
    shell ``b = round(|k|)``; shells ``1 .. side/2`` are kept (whole spheres inside the grid),
    the mean (``b = 0``) and the corners beyond ``side/2`` are dropped.

    Returns
    -------
    index : long tensor ``(side^3,)``
        Shell of each mode of the flattened ``fftn`` output, 0 for the dropped ones.
    counts : float tensor ``(side/2,)``
        Modes per shell 1 .. side/2.
    """
    if isinstance(side, bool) or not isinstance(side, int) or side < 2:
        raise ValueError(f"side must be an integer >= 2, got {side!r}.")
    k = torch.fft.fftfreq(side, d=1.0 / side, dtype=torch.float64)
    k2 = k[:, None, None] ** 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2
    shell = torch.round(k2.sqrt()).long()  # |k|^2 is an integer, so |k| never falls on a half-integer edge
    n_bins = side // 2
    index = torch.where((shell >= 1) & (shell <= n_bins), shell, torch.zeros_like(shell)).flatten()
    counts = torch.bincount(index, minlength=n_bins + 1)[1:].float()
    return index, counts


def _binned_power(x: torch.Tensor, index: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    side = x.shape[-1]
    with torch.autocast(device_type=x.device.type, enabled=False):  # FFTs in float32 (cuFFT has no bf16)
        field = x.float().reshape(x.shape[0], side, side, side)
        f = torch.fft.fftn(field, dim=(-3, -2, -1))
        power = (f.real.square() + f.imag.square()).flatten(1) / side**3
        sums = power.new_zeros((x.shape[0], len(counts) + 1))
        sums = sums.scatter_add(1, index[None].expand(x.shape[0], -1), power)
        return sums[:, 1:] / counts


def radial_power_spectrum(x: torch.Tensor) -> torch.Tensor:
    """Shell-averaged ``|FFT(x)|^2 / side^3`` of cubes ``(B, n, n, n)`` or ``(B, 1, n, n, n)``: ``(B, n/2)``.

    Shell ``b`` (column ``b - 1``) averages the modes with ``b - 1/2 <= |k| < b + 1/2``
    (``|k|`` in cycles per box, :func:`shell_index`). Differentiable. Normalised so that a
    plane wave ``A cos(2 pi k0 . r / n)`` puts ``A^2 n^3 / 4`` into each of its two modes
    (Parseval: the modes' powers sum to ``sum(x^2)``).
    """
    if x.dim() == 5 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 4 or len(set(x.shape[1:])) != 1:
        raise ValueError(f"x must have shape (B, n, n, n) or (B, 1, n, n, n), got {tuple(x.shape)}.")
    index, counts = shell_index(x.shape[-1])
    return _binned_power(x, index.to(x.device), counts.to(x.device))


class PowerSpectrumFeatures(nn.Module):
    """``log(1 + P(k))`` in ``side/2`` shells of fields ``(B, 1, side, side, side)`` (:func:`radial_power_spectrum`).

    The shell index is a non-persistent buffer (moves with the module, stays out of checkpoints).
    """

    def __init__(self, side: int):
        super().__init__()
        index, counts = shell_index(side)
        self.side, self.n_features = side, len(counts)
        self.register_buffer("index", index, persistent=False)
        self.register_buffer("counts", counts, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log1p(_binned_power(x, self.index, self.counts))


# ---------------------------------------------------------------------------------------------- M3
class M3Generator(nn.Module):
    """Table 3 generator: ``z`` ``(B, latent_dim)`` -> cubes ``(B, 1, side, side, side)``.

    Dense ``latent_dim -> 4 width (side/8)^3``, reshape to ``4 width`` channels of side
    ``side/8``, three stride-2 transposed convolutions (``4w -> 4w -> 2w -> w`` channels), two
    stride-1 convolutions (``w -> w -> 1``); kernels 4, LeakyReLU(0.2), linear output.

    Parameters
    ----------
    width : int
        Table 3's ``d`` (P4: 64).
    side : int
        Output side, a multiple of 8 (P4: 32).
    latent_dim : int
        P4: 256.
    """

    def __init__(self, width: int = 64, side: int = PAPER_SIDE, latent_dim: int = PAPER_M3_LATENT_DIM):
        super().__init__()
        _check_width(width), _check_side("side", side)
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer (P4: 256), got {latent_dim!r}.")
        self.width, self.side, self.latent_dim = width, side, latent_dim
        self.start = side // 8
        w = width
        self.dense = nn.Linear(latent_dim, 4 * w * self.start**3)
        self.body = _stack(
            [up_conv3d(4 * w, 4 * w), up_conv3d(4 * w, 2 * w), up_conv3d(2 * w, w), conv3d(w, w, 1), conv3d(w, 1, 1)]
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is not None:
            raise ValueError("M3 is unconditional: call it as G(z).")
        _check_latent(z, self.latent_dim)
        s = self.start
        return self.body(self.dense(z).reshape(z.shape[0], 4 * self.width, s, s, s))


class M3Critic(nn.Module):
    """Table 3 critic: cubes ``(B, 1, side, side, side)`` -> scores ``(B,)``.

    Five convolutions of kernel 4, strides 1, 1, 2, 2, 2, channels ``w, w, 2w, 4w, 8w``,
    LeakyReLU(0.2), a dense layer ``8w (side/8)^3 (+ side/2 PSD features) -> 1``; every layer
    spectrally normalised.

    Parameters
    ----------
    width : int
        P4: 64.
    side : int
        Multiple of 8 (P4: 32).
    psd : bool
        Concatenate :class:`PowerSpectrumFeatures` of the cube to the dense layer's input.
    """

    def __init__(self, width: int = 64, side: int = PAPER_SIDE, psd: bool = False):
        super().__init__()
        _check_width(width), _check_side("side", side)
        self.width, self.side, self.psd = width, side, bool(psd)
        w = width
        self.trunk = _stack(
            [conv3d(1, w, 1), conv3d(w, w, 1), conv3d(w, 2 * w, 2), conv3d(2 * w, 4 * w, 2), conv3d(4 * w, 8 * w, 2)],
            nn.LeakyReLU(LEAK),
        )
        self.spectrum = PowerSpectrumFeatures(side) if psd else None
        n_psd = self.spectrum.n_features if psd else 0
        self.head = nn.Linear(8 * w * (side // 8) ** 3 + n_psd, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is not None:
            raise ValueError("M3 is unconditional: call it as D(x).")
        _check_volume(x, self.side, "the M3 critic")
        h = self.trunk(x).flatten(1)
        if self.spectrum is not None:
            h = torch.cat([h, self.spectrum(x).to(h.dtype)], dim=1)
        return self.head(h).reshape(-1)


# ---------------------------------------------------------------------------------------------- M2
class M2Generator(nn.Module):
    """Table 4 generator: ``G(z, y)`` -> patches ``(B, 1, p, p, p)``.

    Borders ``(7, p)`` -> 3 stride-2 convolutions (``w, w, 16`` channels) -> code of
    ``16 (p/8)^3``; concatenated with ``z1``; dense to ``2 (p/2)^3``, reshaped to 2 channels of
    side ``p/2``; concatenated with the low-res patch (side ``p/2``) and ``z2`` (side ``p/2``);
    two stride-1 convolutions (``w, w``), a stride-2 transposed convolution (``4w``, side ``p``),
    two stride-1 convolutions (``2w, 1``). Kernels 4, LeakyReLU(0.2), linear output.

    Parameters
    ----------
    width : int
        Table 4's ``d`` (P4: 32).
    patch : int
        Patch side ``p``, a multiple of 8 (P4: 32).
    borders, low_res : bool
        Conditioning switches (module docstring); ``cond_channels`` follows from them.
    dense_latent_dim : int, optional
        Size of ``z1`` (default: the border code's size, ``16 (p/8)^3``).

    Attributes
    ----------
    latent_dim : int
        ``dim(z1) + (p/2)^3``, the size of the flat ``z`` (``z1`` first).
    """

    def __init__(
        self,
        width: int = 32,
        patch: int = PAPER_SIDE,
        borders: bool = True,
        low_res: bool = True,
        dense_latent_dim: int | None = None,
    ):
        super().__init__()
        _check_width(width), _check_side("patch", patch)
        self.cond_channels = conditioning_channels(borders, low_res)
        self.width, self.patch, self.borders, self.low_res = width, patch, bool(borders), bool(low_res)
        code = M2_CODE_CHANNELS * (patch // 8) ** 3
        self.dense_latent_dim = code if dense_latent_dim is None else dense_latent_dim
        if isinstance(self.dense_latent_dim, bool) or not isinstance(self.dense_latent_dim, int):
            raise ValueError(f"dense_latent_dim must be a positive integer, got {dense_latent_dim!r}.")
        if self.dense_latent_dim < 1:
            raise ValueError(f"dense_latent_dim must be a positive integer, got {dense_latent_dim!r}.")
        self.half = patch // 2
        self.latent_dim = self.dense_latent_dim + self.half**3
        w = width
        self.encoder = (
            _stack([conv3d(N_BORDERS, w, 2), conv3d(w, w, 2), conv3d(w, M2_CODE_CHANNELS, 2)]) if borders else None
        )
        self.dense = nn.Linear(self.dense_latent_dim + (code if borders else 0), 2 * self.half**3)
        c_in = 2 + self.low_res + 1
        self.body = _stack(
            [conv3d(c_in, w, 1), conv3d(w, w, 1), up_conv3d(w, 4 * w), conv3d(4 * w, 2 * w, 1), conv3d(2 * w, 1, 1)]
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _check_latent(z, self.latent_dim)
        borders, low = split_conditioning(y, self.patch, self.borders, self.low_res)
        B, h = z.shape[0], self.half
        z_dense, z_field = z[:, : self.dense_latent_dim], z[:, self.dense_latent_dim :].reshape(B, 1, h, h, h)
        dense_in = [z_dense]
        if borders is not None:
            dense_in.insert(0, self.encoder(borders.to(z.dtype)).flatten(1))
        maps = [self.dense(torch.cat(dense_in, dim=1)).reshape(B, 2, h, h, h)]
        if low is not None:
            low_patch = F.avg_pool3d(patch_low_res(low, self.borders).to(z.dtype), 2)  # back to side p/2
            maps.append(low_patch)
        maps.append(z_field)
        return self.body(torch.cat(maps, dim=1))


class _PatchCritic(nn.Module):
    """What the critics of M2 and M1 share: the input assembly and the PSD features.

    With borders the critic sees the ``2p`` block (borders + ``x`` in the corner), otherwise
    the patch ``x`` alone; with low-res conditioning, also the smooth image of that field and
    the difference ``field - smooth`` (Tables 4, 5: "concatenation (+ diff)").
    """

    def _setup(self, width: int, patch: int, borders: bool, low_res: bool, psd: bool) -> int:
        _check_width(width), _check_side("patch", patch)
        self.cond_channels = conditioning_channels(borders, low_res)
        self.width, self.patch, self.borders, self.low_res = width, patch, bool(borders), bool(low_res)
        self.psd = bool(psd)
        self.field_side = 2 * patch if borders else patch
        self.in_channels = 3 if low_res else 1
        self.spectrum = PowerSpectrumFeatures(self.field_side) if psd else None
        return self.spectrum.n_features if psd else 0

    def _field(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the critic's input ``(B, 1 or 3, f, f, f)``, the field ``(B, 1, f, f, f)``)."""
        _check_volume(x, self.patch, f"the {type(self).__name__}")
        borders, low = split_conditioning(y, self.patch, self.borders, self.low_res)
        field = assemble_block(borders, x) if borders is not None else x
        if low is None:
            return field, field
        smooth = block_smooth_field(low, self.borders).to(field.dtype)
        return torch.cat([field, smooth, field - smooth], dim=1), field

    def _features(self, inputs: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
        h = self.trunk(inputs).flatten(1)
        if self.spectrum is not None:
            h = torch.cat([h, self.spectrum(field).to(h.dtype)], dim=1)
        return h

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        inputs, field = self._field(x, y)
        return self.head(self._features(inputs, field)).reshape(-1)


class M2Critic(_PatchCritic):
    """Table 4 critic: ``D(x, y)``, patches ``x`` ``(B, 1, p, p, p)`` -> scores ``(B,)``.

    Input: the block (side ``f = 2p``; ``p`` without borders), its smooth image and their
    difference. Five convolutions of kernel 4, strides 1, 2, 2, 1, 2, channels
    ``w, 2w, 4w, w, w``, LeakyReLU(0.2); dense ``w (f/8)^3 (+ f/2 PSD features) -> 1``; all
    spectrally normalised.

    Parameters
    ----------
    width : int
        P4: 32.
    patch : int
        Multiple of 8 (P4: 32).
    borders, low_res : bool
        Conditioning switches.
    psd : bool
        Power-spectrum features (not in Table 4; authors' code).
    """

    def __init__(
        self, width: int = 32, patch: int = PAPER_SIDE, borders: bool = True, low_res: bool = True, psd: bool = False
    ):
        super().__init__()
        n_psd = self._setup(width, patch, borders, low_res, psd)
        w = width
        self.trunk = _stack(
            [
                conv3d(self.in_channels, w, 1),
                conv3d(w, 2 * w, 2),
                conv3d(2 * w, 4 * w, 2),
                conv3d(4 * w, w, 1),
                conv3d(w, w, 2),
            ],
            nn.LeakyReLU(LEAK),
        )
        self.head = nn.Linear(w * (self.field_side // 8) ** 3 + n_psd, 1)


# ---------------------------------------------------------------------------------------------- M1
class M1Generator(nn.Module):
    """Table 5 generator: ``G(z, y)`` -> patches ``(B, 1, p, p, p)``.

    Input channels: ``z`` as a field of side ``p``, the low-res patch repeated to side ``p``,
    the 7 borders flipped to the produced corner (:func:`~.patches3d.align_borders`): 9
    channels. Eight stride-1 inception blocks (``w`` channels, the last 1), LeakyReLU(0.2)
    between them, a final ReLU.

    Parameters
    ----------
    width : int
        Table 5's ``d`` (P4: 64).
    patch : int
        Multiple of 8 (P4: 32).
    borders, low_res : bool
        Conditioning switches.

    Attributes
    ----------
    latent_dim : int
        ``p^3`` (P4: 32^3).
    """

    n_blocks = 8

    def __init__(self, width: int = 64, patch: int = PAPER_SIDE, borders: bool = True, low_res: bool = True):
        super().__init__()
        _check_width(width), _check_side("patch", patch)
        self.cond_channels = conditioning_channels(borders, low_res)
        self.width, self.patch, self.borders, self.low_res = width, patch, bool(borders), bool(low_res)
        self.latent_dim = patch**3
        c_in = 1 + self.low_res + N_BORDERS * self.borders
        chans = [c_in] + [width] * (self.n_blocks - 1) + [1]
        self.body = _stack([InceptionConv3d(a, b) for a, b in zip(chans, chans[1:])], nn.ReLU())

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _check_latent(z, self.latent_dim)
        borders, low = split_conditioning(y, self.patch, self.borders, self.low_res)
        p = self.patch
        maps = [z.reshape(z.shape[0], 1, p, p, p)]
        if low is not None:
            maps.append(patch_low_res(low, self.borders).to(z.dtype))
        if borders is not None:
            maps.append(align_borders(borders).to(z.dtype))
        return self.body(torch.cat(maps, dim=1))


class M1Critic(_PatchCritic):
    """Table 5 critic: ``D(x, y)``, patches ``x`` ``(B, 1, p, p, p)`` -> scores ``(B,)``.

    Input as :class:`M2Critic`. Eight inception blocks, strides 2, 1, 1, 1, 1, 1, 2, 2,
    channels ``2w, 2w, w, w, w, w, w, w``, LeakyReLU(0.2); flatten ``w (f/8)^3``, concatenate
    ``f/2`` PSD features of the field, dense 64 -> 16 -> 1 with LeakyReLU(0.2); all
    spectrally normalised.

    Parameters
    ----------
    width : int
        P4: 64.
    patch : int
        Multiple of 8 (P4: 32).
    borders, low_res : bool
        Conditioning switches.
    psd : bool
        Power-spectrum features (Table 5: yes).
    """

    def __init__(
        self, width: int = 64, patch: int = PAPER_SIDE, borders: bool = True, low_res: bool = True, psd: bool = True
    ):
        super().__init__()
        n_psd = self._setup(width, patch, borders, low_res, psd)
        w = width
        plan = [(2 * w, 2), (2 * w, 1), (w, 1), (w, 1), (w, 1), (w, 1), (w, 2), (w, 2)]
        layers, c_in = [], self.in_channels
        for c_out, stride in plan:
            layers.append(InceptionConv3d(c_in, c_out, stride))
            c_in = c_out
        self.trunk = _stack(layers, nn.LeakyReLU(LEAK))
        a, b = M1_HEAD_UNITS
        self.head = _stack([nn.Linear(w * (self.field_side // 8) ** 3 + n_psd, a), nn.Linear(a, b), nn.Linear(b, 1)])


# ---------------------------------------------------------------------------------------------- builders
def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _build(seed: int, make_generator, make_critic) -> tuple[nn.Module, nn.Module]:
    """Both networks, Xavier-initialised, critic spectrally normalised, from ``seed`` (global RNG untouched)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        G = xavier_init(make_generator())
        D = spectral_normalise(xavier_init(make_critic()))
    return G, D


def m3_gan(
    width: int = PAPER_WIDTHS["m3"],
    side: int = PAPER_SIDE,
    latent_dim: int = PAPER_M3_LATENT_DIM,
    psd: bool = False,
    seed: int = 0,
) -> tuple[M3Generator, M3Critic]:
    """M3 (Table 3): ``(G, D)`` for ``side^3`` cubes from a ``latent_dim`` latent; ``psd`` adds PSD features to D."""
    return _build(seed, lambda: M3Generator(width, side, latent_dim), lambda: M3Critic(width, side, psd))


def m2_gan(
    width: int = PAPER_WIDTHS["m2"],
    patch: int = PAPER_SIDE,
    borders: bool = True,
    low_res: bool = True,
    psd: bool = False,
    dense_latent_dim: int | None = None,
    seed: int = 0,
) -> tuple[M2Generator, M2Critic]:
    """M2 (Table 4): ``(G, D)`` for patches of side ``patch`` at twice the resolution of the conditioning cube.

    ``G.latent_dim`` is the latent size to train with; ``G.cond_channels`` the channels of ``y``.
    """
    return _build(
        seed,
        lambda: M2Generator(width, patch, borders, low_res, dense_latent_dim),
        lambda: M2Critic(width, patch, borders, low_res, psd),
    )


def m1_gan(
    width: int = PAPER_WIDTHS["m1"],
    patch: int = PAPER_SIDE,
    borders: bool = True,
    low_res: bool = True,
    psd: bool = True,
    seed: int = 0,
) -> tuple[M1Generator, M1Critic]:
    """M1 (Table 5): ``(G, D)`` for patches of side ``patch`` (P4: 4 times the conditioning resolution).

    ``G.latent_dim`` is ``patch^3``; ``G.cond_channels`` the channels of ``y``.
    """
    return _build(
        seed,
        lambda: M1Generator(width, patch, borders, low_res),
        lambda: M1Critic(width, patch, borders, low_res, psd),
    )
