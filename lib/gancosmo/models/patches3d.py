"""P4 (Perraudin et al. 2019): patch geometry and the raster-scan sampler of Appendix D.

P4 builds a cube of side ``n`` from patches of side ``p`` (P4: ``n = 256``, ``p = 32``) laid on
a regular ``(n/p)^3`` grid. The patches are generated in raster order, ``(i, j, k)`` with ``i``
(the first spatial axis) slowest and ``k`` fastest, and each patch is conditioned on

* its **borders**: the 7 patches of the ``2 x 2 x 2`` block of which it is the last corner,
  i.e. the patches at ``(i - 1 + a, j - 1 + b, k - 1 + c)`` for ``(a, b, c)`` in ``{0, 1}^3``
  without ``(1, 1, 1)``. They all precede it in raster order, so at sampling time they are
  already generated. Where they fall outside the cube (the lower faces), they are zero
  ("we pad with zeros", Sect. 4.2);
* the **low-resolution cube** of the previous scale (the multi-scale model of Sect. 4.1),
  mean-pooled by ``factor`` (P4: 2 from 32^3 to 64^3, 4 from 64^3 to 256^3).

Block octants
-------------
:data:`BLOCK_OCTANTS` lists the 8 octants ``(a, b, c)`` of the ``2 x 2 x 2`` block in raster
order; octant ``a * 4 + b * 2 + c`` holds the patch at ``(i - 1 + a, j - 1 + b, k - 1 + c)``,
and the last octant, ``(1, 1, 1)``, is the patch being produced (P4: "the lowest rightmost
patch"). Border channel ``m`` (0 to 6) is octant ``m``.

Conditioning tensor
-------------------
One tensor ``y`` of shape ``(B, C, p, p, p)`` per patch carries everything a stage's
generator and critic need (:func:`conditioning`); the networks also accept it flattened to
``(B, C p^3)``, the form :class:`gancosmo.train.Trainer` takes as labels (it stores labels as
``(N, c)``). The channel layout depends on the two ablation switches:

=====================  ===  ==============================================================
``borders, low_res``    C   channels
=====================  ===  ==============================================================
True, True (P4)          8  0-6: borders (octants 0-6, **not** flipped); 7: low-res block
True, False (App. C)     7  0-6: borders
False, True              1  0: low-res patch
=====================  ===  ==============================================================

*Low-res block* (:func:`low_res_block`): the low-resolution region under the whole
``2 x 2 x 2`` block (side ``2p`` at full resolution, ``2p / factor`` at low resolution),
repeated ``factor / 2`` times along each axis to side ``p``; zero outside the cube. This is
all the critic needs for its "smooth image" of the block (Tables 4, 5: up-sampled twice more
to ``2p``) and its corner octant is the patch's own low-resolution region, which the
generator takes. The repetition loses nothing (every low-resolution voxel is copied intact).
*Low-res patch* (:func:`low_res_patch`): without borders there is no block; the channel
holds the patch's own low-resolution region repeated ``factor`` times to side ``p``.

The borders in ``y`` are in their place in the cube (not flipped), so that the critic can
put the block back together (Tables 4, 5: "reshape to a cube"). M1's generator flips them
itself (:func:`align_borders`, P4 Appendix F: "we flip them to obtain a correct alignment
with produced corner"); :func:`neighbour_borders` with ``aligned=True`` shows what it sees.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BLOCK_OCTANTS",
    "N_BORDERS",
    "align_borders",
    "assemble_block",
    "block_smooth_field",
    "check_factor",
    "conditioning",
    "conditioning_channels",
    "downsample",
    "extract_patch",
    "generate_cube",
    "generate_multiscale",
    "grid_positions",
    "low_res_block",
    "low_res_patch",
    "neighbour_borders",
    "patch_low_res",
    "split_conditioning",
    "training_pairs",
    "upsample_nearest",
]

#: The 8 octants ``(a, b, c)`` of the 2 x 2 x 2 block in raster order; the last is the produced patch.
BLOCK_OCTANTS = tuple(itertools.product((0, 1), repeat=3))
#: Border patches per produced patch (the first 7 octants).
N_BORDERS = 7


# ---------------------------------------------------------------------------------------------- checks
def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


def _as_cubes(cubes, name: str = "cubes") -> torch.Tensor:
    """``cubes`` as a float tensor ``(B, n, n, n)``; a single cube ``(n, n, n)`` gains a batch axis."""
    x = torch.as_tensor(cubes)
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4 or len(set(x.shape[1:])) != 1:
        raise ValueError(f"{name} must have shape (B, n, n, n) or (n, n, n), got {tuple(x.shape)}.")
    return x if x.is_floating_point() else x.float()


def _check_grid(side: int, patch: int) -> int:
    """Patches per side of a cube of ``side`` voxels cut into patches of ``patch`` voxels."""
    _positive_int("patch", patch)
    if side % patch:
        raise ValueError(f"the cube side {side} is not a multiple of the patch side {patch}.")
    return side // patch


def check_factor(patch: int, factor: int, borders: bool = True) -> None:
    """Raise a ValueError unless ``factor`` (resolution ratio between two scales) suits ``patch``.

    The factor must be an integer >= 2 dividing ``patch`` (a patch then covers whole
    low-resolution voxels); with borders it must be even, since the low-res block of side
    ``2 patch / factor`` is repeated ``factor / 2`` times to side ``patch``.
    """
    _positive_int("factor", factor)
    if factor < 2:
        raise ValueError(f"factor must be an integer >= 2 (P4: 2 and 4), got {factor!r}.")
    if borders and factor % 2:
        raise ValueError(f"with borders the factor must be even (P4: 2 and 4), got {factor!r}.")
    if patch % factor:
        raise ValueError(f"the patch side {patch} must be a multiple of the factor {factor}.")


def conditioning_channels(borders: bool = True, low_res: bool = True) -> int:
    """Channels ``C`` of the conditioning tensor: 7 borders (if ``borders``) plus 1 low-res channel (if ``low_res``)."""
    if not borders and not low_res:
        raise ValueError("a patch stage needs borders, low-resolution conditioning or both; both were switched off.")
    return N_BORDERS * bool(borders) + bool(low_res)


# ---------------------------------------------------------------------------------------------- geometry
def grid_positions(n_patches: int) -> list[tuple[int, int, int]]:
    """Grid indices ``(i, j, k)`` of an ``n_patches^3`` grid in raster order (``i`` slowest, ``k`` fastest)."""
    _positive_int("n_patches", n_patches)
    return list(itertools.product(range(n_patches), repeat=3))


def _region(cubes: torch.Tensor, start: Sequence[int], size: int) -> torch.Tensor:
    """``cubes[:, s0:s0+size, s1:s1+size, s2:s2+size]`` with zeros where the window leaves the cube.

    Parameters
    ----------
    cubes : torch.Tensor
        ``(B, n, n, n)``.
    start : three ints
        Lower corner of the window in voxels (may be negative or run past the far faces).
    size : int
        Window side in voxels.
    """
    n = cubes.shape[-1]
    out = cubes.new_zeros((cubes.shape[0], size, size, size))
    src, dst = [], []
    for s in start:
        lo, hi = max(s, 0), min(s + size, n)
        if hi <= lo:
            return out
        src.append(slice(lo, hi))
        dst.append(slice(lo - s, hi - s))
    out[(slice(None), *dst)] = cubes[(slice(None), *src)]
    return out


def extract_patch(cubes, index: Sequence[int], patch: int) -> torch.Tensor:
    """The patch at grid position ``index`` of each cube: ``(B, patch, patch, patch)``."""
    x = _as_cubes(cubes)
    n = _check_grid(x.shape[-1], patch)
    if len(index) != 3 or not all(0 <= int(i) < n for i in index):
        raise ValueError(f"index must be three grid positions in [0, {n}), got {tuple(index)!r}.")
    return _region(x, [int(i) * patch for i in index], patch)


def neighbour_borders(cubes, index: Sequence[int], patch: int, aligned: bool = False) -> torch.Tensor:
    """The 7 border patches of the patch at ``index``: ``(B, 7, patch, patch, patch)``.

    Channel ``m`` is block octant ``m`` (:data:`BLOCK_OCTANTS`), the patch at
    ``(i - 1 + a, j - 1 + b, k - 1 + c)``; zero where it falls outside the cube.

    Parameters
    ----------
    cubes : tensor ``(B, n, n, n)``
    index : three ints
        Grid position ``(i, j, k)`` of the produced patch.
    patch : int
        Patch side in voxels.
    aligned : bool
        Flip each border so that its face touching the produced patch lies at index 0 of the
        flipped axes (:func:`align_borders`; what M1's generator sees).
    """
    x = _as_cubes(cubes)
    n = _check_grid(x.shape[-1], patch)
    if len(index) != 3 or not all(0 <= int(i) < n for i in index):
        raise ValueError(f"index must be three grid positions in [0, {n}), got {tuple(index)!r}.")
    i, j, k = (int(v) for v in index)
    borders = [
        _region(x, ((i - 1 + a) * patch, (j - 1 + b) * patch, (k - 1 + c) * patch), patch)
        for a, b, c in BLOCK_OCTANTS[:N_BORDERS]
    ]
    out = torch.stack(borders, dim=1)
    return align_borders(out) if aligned else out


def align_borders(borders: torch.Tensor) -> torch.Tensor:
    """Flip the borders ``(B, 7, p, p, p)`` to align them with the produced corner (P4 Appendix F).

    Border octant ``(a, b, c)`` is reversed along each spatial axis on which it precedes the
    produced patch (``a``, ``b`` or ``c`` = 0). Its voxels next to the produced patch then sit
    at index 0 of those axes, as do the produced patch's own voxels next to it, so that a
    stride-1 convolution sees touching voxels at the same place of every channel. Applying
    the function twice gives the input back.
    """
    if borders.dim() != 5 or borders.shape[1] != N_BORDERS:
        raise ValueError(f"borders must have shape (B, 7, p, p, p), got {tuple(borders.shape)}.")
    flipped = []
    for m, octant in enumerate(BLOCK_OCTANTS[:N_BORDERS]):
        spatial_axes = [1 + axis for axis, bit in enumerate(octant) if bit == 0]  # axes of borders[:, m]
        flipped.append(borders[:, m].flip(spatial_axes))
    return torch.stack(flipped, dim=1)


def assemble_block(borders: torch.Tensor, corner: torch.Tensor) -> torch.Tensor:
    """Put the 7 borders ``(B, 7, p, p, p)`` (not flipped) and the corner ``(B, 1, p, p, p)`` together.

    Returns the ``2 x 2 x 2`` block ``(B, 1, 2p, 2p, 2p)`` (differentiable in both inputs;
    Tables 4, 5: "reshape to a cube").
    """
    if borders.dim() != 5 or borders.shape[1] != N_BORDERS:
        raise ValueError(f"borders must have shape (B, 7, p, p, p), got {tuple(borders.shape)}.")
    if corner.dim() != 5 or corner.shape[1] != 1 or corner.shape[2:] != borders.shape[2:]:
        raise ValueError(
            f"corner must have shape (B, 1, {', '.join(map(str, borders.shape[2:]))}), got {tuple(corner.shape)}."
        )
    B, p = borders.shape[0], borders.shape[-1]
    dtype = torch.promote_types(borders.dtype, corner.dtype)  # a bf16 fake patch among fp32 borders: fp32
    octants = torch.cat([borders.to(dtype), corner.to(dtype)], dim=1)  # (B, 8, p, p, p), octant m = a*4 + b*2 + c
    block = octants.reshape(B, 2, 2, 2, p, p, p).permute(0, 1, 4, 2, 5, 3, 6)
    return block.reshape(B, 1, 2 * p, 2 * p, 2 * p)


# ---------------------------------------------------------------------------------------------- scales
def downsample(cubes, factor: int) -> torch.Tensor:
    """Mean-pool ``(B, n, n, n)`` cubes (or one ``(n, n, n)`` cube) over ``factor^3`` blocks: ``(B, n/f, n/f, n/f)``.

    P4 applies its intensity transform first and pools the transformed cubes to the 64^3 and
    32^3 scales (authors' code).
    """
    x = _as_cubes(cubes)
    _positive_int("factor", factor)
    if x.shape[-1] % factor:
        raise ValueError(f"the cube side {x.shape[-1]} is not a multiple of the factor {factor}.")
    return F.avg_pool3d(x[:, None], factor)[:, 0]


def upsample_nearest(cubes: torch.Tensor, factor: int) -> torch.Tensor:
    """Repeat every voxel ``factor`` times along the last three axes (a transposed convolution with a
    constant kernel, P4 Appendix F). Works for any leading axes; mean-pooling by ``factor`` inverts it."""
    _positive_int("factor", factor)
    if factor == 1:
        return cubes
    for axis in (-3, -2, -1):
        cubes = cubes.repeat_interleave(factor, dim=axis)
    return cubes


def low_res_block(low_res_cubes, index: Sequence[int], patch: int, factor: int) -> torch.Tensor:
    """The low-res region under the 2 x 2 x 2 block ending at patch ``index``, at side ``patch``: ``(B, 1, p, p, p)``.

    Parameters
    ----------
    low_res_cubes : tensor ``(B, n/factor, n/factor, n/factor)``
        The previous scale.
    index : three ints
        Grid position of the produced patch (grid of the full-resolution cube).
    patch : int
        Patch side at full resolution.
    factor : int
        Resolution ratio between the two scales (even, dividing ``patch``).

    The block spans ``2 patch / factor`` low-res voxels per side, starting at
    ``(index - 1) patch / factor``; voxels outside the cube are zero. Each is repeated
    ``factor / 2`` times along each axis.
    """
    low = _as_cubes(low_res_cubes, "low_res_cubes")
    check_factor(patch, factor)
    step = patch // factor
    region = _region(low, [(int(i) - 1) * step for i in index], 2 * step)
    return upsample_nearest(region, factor // 2)[:, None]


def low_res_patch(low_res_cubes, index: Sequence[int], patch: int, factor: int) -> torch.Tensor:
    """The low-res region of patch ``index`` itself, repeated ``factor`` times to side ``patch``: ``(B, 1, p, p, p)``.

    Parameters as :func:`low_res_block`; the region spans ``patch / factor`` low-res voxels per side.
    """
    low = _as_cubes(low_res_cubes, "low_res_cubes")
    check_factor(patch, factor, borders=False)
    step = patch // factor
    region = _region(low, [int(i) * step for i in index], step)
    return upsample_nearest(region, factor)[:, None]


def conditioning(
    cubes,
    low_res_cubes,
    index: Sequence[int],
    patch: int,
    factor: int | None = None,
    borders: bool = True,
    low_res: bool = True,
) -> torch.Tensor:
    """The conditioning tensor ``y`` ``(B, C, p, p, p)`` of the patch at ``index`` (layout: module docstring).

    Parameters
    ----------
    cubes : tensor ``(B, n, n, n)``
        Full-resolution cubes the borders are read from (real cubes for training, the cube
        being generated for sampling). Unused when ``borders`` is False (may be None).
    low_res_cubes : tensor ``(B, n/factor, ...)`` or None
        The previous scale; unused when ``low_res`` is False (may be None).
    index : three ints
    patch : int
    factor : int
        Resolution ratio (needed with ``low_res``).
    borders, low_res : bool
        P4's model has both; Appendix C (single scale) drops ``low_res``; ``borders=False``
        makes independent patches.
    """
    conditioning_channels(borders, low_res)
    parts = []
    if borders:
        parts.append(neighbour_borders(cubes, index, patch))
    if low_res:
        if factor is None:
            raise ValueError("low-resolution conditioning needs the factor between the two scales.")
        take = low_res_block if borders else low_res_patch
        part = take(low_res_cubes, index, patch, factor)
        parts.append(part.to(parts[0].dtype) if parts else part)
    return torch.cat(parts, dim=1)


def split_conditioning(
    y: torch.Tensor, patch: int, borders: bool = True, low_res: bool = True
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Read ``y`` (``(B, C, p, p, p)`` or flattened ``(B, C p^3)``) back into (borders, low-res channel).

    Returns
    -------
    borders : tensor ``(B, 7, p, p, p)`` or None
    low : tensor ``(B, 1, p, p, p)`` or None
        The low-res block (with borders) or the low-res patch (without).
    """
    c = conditioning_channels(borders, low_res)
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"the conditioning y must be a tensor of shape (B, {c}, {patch}, {patch}, {patch}).")
    if y.dim() == 2 and y.shape[1] == c * patch**3:
        y = y.reshape(y.shape[0], c, patch, patch, patch)
    if y.dim() != 5 or tuple(y.shape[1:]) != (c, patch, patch, patch):
        raise ValueError(
            f"the conditioning y must have shape (B, {c}, {patch}, {patch}, {patch}) or (B, {c * patch**3}), "
            f"got {tuple(y.shape)}."
        )
    b = y[:, :N_BORDERS] if borders else None
    low = y[:, c - 1 : c] if low_res else None
    return b, low


def patch_low_res(low: torch.Tensor, borders: bool = True) -> torch.Tensor:
    """The produced patch's own low-res region at side ``p`` from the low-res channel ``(B, 1, p, p, p)``.

    With borders the channel is the block: its corner octant (side ``p/2``) is the patch and
    is repeated twice; without borders the channel already is the patch.
    """
    if not borders:
        return low
    half = low.shape[-1] // 2
    return upsample_nearest(low[..., half:, half:, half:], 2)


def block_smooth_field(low: torch.Tensor, borders: bool = True) -> torch.Tensor:
    """The low-res channel at the resolution of what the critic sees (the "smooth image" of Tables 4, 5).

    With borders: the block, repeated twice to side ``2p``; without: the patch, side ``p``.
    """
    return upsample_nearest(low, 2) if borders else low


# ---------------------------------------------------------------------------------------------- training
def training_pairs(
    cubes,
    patch: int,
    factor: int | None = None,
    borders: bool = True,
    low_res: bool = True,
    low_res_cubes=None,
    flat: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Training pairs (target patch, conditioning) of a patch stage from real cubes, every grid position.

    Parameters
    ----------
    cubes : tensor ``(N, n, n, n)``
        Real cubes at the stage's resolution (already transformed and, if wanted, augmented:
        P4's circular rolls move the patch grid over the cube).
    patch : int
        Patch side.
    factor : int
        Resolution ratio to the previous scale (P4: M2 2, M1 4); needed with ``low_res``.
    borders, low_res : bool
        Conditioning switches (module docstring).
    low_res_cubes : tensor ``(N, n/factor, ...)``, optional
        The previous scale; default: :func:`downsample` of ``cubes`` by ``factor``.
    flat : bool
        Return ``y`` flattened to ``(M, C p^3)``, the label form of :class:`gancosmo.train.Trainer`.

    Returns
    -------
    targets : float32 tensor ``(M, p, p, p)``
        ``M = N (n/p)^3`` patches, cube by cube, each cube's in raster order.
    y : float32 tensor ``(M, C, p, p, p)`` (or ``(M, C p^3)``)
    """
    x = _as_cubes(cubes)
    n = _check_grid(x.shape[-1], patch)
    c = conditioning_channels(borders, low_res)
    low = None
    if low_res:
        if factor is None:
            raise ValueError("low-resolution conditioning needs the factor between the two scales.")
        check_factor(patch, factor, borders)
        low = downsample(x, factor) if low_res_cubes is None else _as_cubes(low_res_cubes, "low_res_cubes")
        if low.shape[0] != x.shape[0] or low.shape[-1] * factor != x.shape[-1]:
            raise ValueError(
                f"low_res_cubes must have shape ({x.shape[0]}, {x.shape[-1] // factor}, ...), got {tuple(low.shape)}."
            )
    positions = grid_positions(n)
    targets = torch.stack([extract_patch(x, idx, patch) for idx in positions], dim=1)
    ys = torch.stack([conditioning(x, low, idx, patch, factor, borders, low_res) for idx in positions], dim=1)
    targets = targets.reshape(-1, patch, patch, patch).float()
    ys = ys.reshape(-1, c, patch, patch, patch).float()
    return targets, (ys.flatten(1) if flat else ys)


# ---------------------------------------------------------------------------------------------- sampling
def _device_of(module: nn.Module, fallback) -> torch.device:
    for p in module.parameters():
        return p.device
    return torch.device(fallback)


@torch.no_grad()
def generate_cube(
    generator: nn.Module,
    low_res_cube,
    patch: int,
    latent_dim: int,
    seed: int,
    factor: int = 2,
    borders: bool = True,
    side: int | None = None,
    n_cubes: int | None = None,
) -> torch.Tensor:
    """Generate cubes patch by patch in raster order (P4 Appendix D).

    Every patch is produced by ``generator(z, y)``, ``y`` being the conditioning of
    :func:`conditioning` read from the cube generated so far (its 7 borders precede it in
    raster order; zero at the cube's lower faces) and from the low-resolution cube.

    Parameters
    ----------
    generator : nn.Module
        ``G(z, y)``: ``z`` ``(B, latent_dim)``, ``y`` ``(B, C, p, p, p)`` -> ``(B, 1, p, p, p)``. When it
        has ``cond_channels``, ``patch`` or ``latent_dim`` attributes they are checked.
    low_res_cube : tensor ``(B, m, m, m)`` or None
        The previous scale (for M2: M3's 32^3 cubes; for M1: the 64^3 ones); None = no
        low-resolution conditioning (Appendix C), then give ``side`` and ``n_cubes``.
    patch : int
        Patch side in voxels (P4: 32).
    latent_dim : int
        Size of each patch's latent vector, drawn ``N(0, 1)`` per patch in raster order.
    seed : int
        Seed of the latent draws (a CPU generator: the same numbers on every device).
    factor : int
        Resolution ratio to ``low_res_cube``: the output side is ``m factor`` (P4: M2 2, M1 4).
    borders : bool
        Condition on the borders (False: independent patches).
    side, n_cubes : int, optional
        Output side and number of cubes without a low-res cube (checked against it otherwise).

    Returns
    -------
    torch.Tensor
        ``(B, side, side, side)`` float32 cubes, on the generator's device.
    """
    low_res = low_res_cube is not None
    c = conditioning_channels(borders, low_res)
    device = _device_of(generator, low_res_cube.device if low_res else "cpu")
    low = None
    if low_res:
        low = _as_cubes(low_res_cube, "low_res_cube").to(device=device, dtype=torch.float32)
        check_factor(patch, factor, borders)
        if side is not None and side != low.shape[-1] * factor:
            raise ValueError(f"side {side} disagrees with the low-res side {low.shape[-1]} times factor {factor}.")
        if n_cubes is not None and n_cubes != low.shape[0]:
            raise ValueError(f"n_cubes {n_cubes} disagrees with the {low.shape[0]} low-res cubes.")
        side, n_cubes = low.shape[-1] * factor, low.shape[0]
    elif side is None or n_cubes is None:
        raise ValueError("without a low-res cube, give the output side and n_cubes.")
    _positive_int("side", side), _positive_int("n_cubes", n_cubes), _positive_int("latent_dim", latent_dim)
    n = _check_grid(side, patch)
    for name, value in (("cond_channels", c), ("patch", patch), ("latent_dim", latent_dim)):
        own = getattr(generator, name, None)
        if own is not None and own != value:
            raise ValueError(f"the generator's {name} is {own}, but this sampling needs {value}.")

    rng = torch.Generator().manual_seed(int(seed))
    cube = torch.zeros((n_cubes, side, side, side), device=device)
    was_training = generator.training
    generator.eval()
    try:
        for index in grid_positions(n):
            y = conditioning(cube, low, index, patch, factor, borders, low_res)
            z = torch.randn(n_cubes, latent_dim, generator=rng).to(device)
            out = generator(z, y)
            if tuple(out.shape) != (n_cubes, 1, patch, patch, patch):
                raise ValueError(
                    f"the generator must return (B, 1, {patch}, {patch}, {patch}) patches, got {tuple(out.shape)}."
                )
            i, j, k = (v * patch for v in index)
            cube[:, i : i + patch, j : j + patch, k : k + patch] = out[:, 0].float()
    finally:
        generator.train(was_training)
    return cube


@torch.no_grad()
def generate_multiscale(
    first: nn.Module, upscalers: Sequence[tuple[nn.Module, int]], n_cubes: int, seed: int
) -> list[torch.Tensor]:
    """P4's full pipeline (Appendix D): ``first`` (M3) draws low-res cubes, each up-scaler refines them.

    Parameters
    ----------
    first : nn.Module
        ``G(z)`` with a ``latent_dim`` attribute, returning ``(B, 1, m, m, m)``.
    upscalers : sequence of (generator, factor)
        P4: ``[(M2, 2), (M1, 4)]``; each generator has ``patch``, ``latent_dim`` and
        ``borders`` attributes (the networks of :mod:`gancosmo.models.multiscale3d`) and is
        conditioned on the previous scale.
    n_cubes, seed : int
        Number of cubes; seed of every latent draw (stage ``s`` uses ``seed + s``).

    Returns
    -------
    list of tensors
        The cubes at every scale, ``(n_cubes, m, m, m)`` first.
    """
    _positive_int("n_cubes", n_cubes)
    device = _device_of(first, "cpu")
    rng = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n_cubes, first.latent_dim, generator=rng).to(device)
    was_training = first.training
    first.eval()
    try:
        scales = [first(z)[:, 0].float()]
    finally:
        first.train(was_training)
    for stage, (generator, factor) in enumerate(upscalers, start=1):
        if not getattr(generator, "low_res", True):
            raise ValueError(f"up-scaler {stage} has no low-resolution input; it cannot refine the previous scale.")
        scales.append(
            generate_cube(
                generator,
                scales[-1],
                generator.patch,
                generator.latent_dim,
                int(seed) + stage,
                factor=factor,
                borders=generator.borders,
            )
        )
    return scales
