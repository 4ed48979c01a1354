"""Symmetry augmentations of maps and cubes, drawn per sample from a seeded generator.

A periodic (or statistically isotropic) field is equally likely in any orientation, so the
papers enlarge their training sets with the symmetries of the square and the cube:

* :func:`dihedral2d` -- P2's random 90-degree rotations and flips: the 8 elements of the
  dihedral group of the square, applied to ``(B, C, H, W)`` maps.
* :func:`octahedral3d` -- P3's "6 faces x 4 rotations x 2 flips": the 48 elements of the
  full symmetry group of the cube (6 axis permutations x 8 axis reflections), applied to
  ``(B, C, D, H, W)`` cubes.

Both take a CPU :class:`torch.Generator` (the trainer's, whose state is checkpointed) for the
random choices and run on the input's device. Each symmetry only permutes voxels, so the
one-point distribution and the isotropic power spectrum of every sample are unchanged.
"""

from __future__ import annotations

import itertools

import torch

__all__ = ["dihedral2d", "octahedral3d", "apply_dihedral2d", "apply_octahedral3d", "AXIS_PERMUTATIONS"]

AXIS_PERMUTATIONS = tuple(itertools.permutations(range(3)))


def _check(x: torch.Tensor, dims: int, name: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != dims + 2:
        shape = "(B, C, H, W)" if dims == 2 else "(B, C, D, H, W)"
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} expects a tensor of shape {shape}, got {got}.")
    if dims == 2 and x.shape[-1] != x.shape[-2] or dims == 3 and len(set(x.shape[-3:])) != 1:
        raise ValueError(
            f"{name} needs square maps / cubic volumes (rotations change the shape otherwise), got {tuple(x.shape)}."
        )


def _per_sample(x: torch.Tensor, index: torch.Tensor, n_elements: int, element) -> torch.Tensor:
    """Apply ``element(batch, k)`` to the samples whose ``index`` is ``k``, for each of the ``n_elements``."""
    index = index.to(x.device)
    out = x.clone()
    for k in range(n_elements):
        sel = index == k
        if bool(sel.any()):
            out[sel] = element(x[sel], k)
    return out


def _square_element(y: torch.Tensor, k: int) -> torch.Tensor:
    y = torch.rot90(y, k % 4, dims=(-2, -1))
    return y.flip(-1) if k >= 4 else y


def _cube_element(y: torch.Tensor, k: int) -> torch.Tensor:
    y = y.permute(0, 1, *(2 + p for p in AXIS_PERMUTATIONS[k // 8]))
    flips = [2 + a for a in range(3) if (k % 8) >> a & 1]
    return y.flip(flips) if flips else y


def apply_dihedral2d(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Apply element ``index[b]`` in 0..7 of the square's symmetry group to sample ``b``.

    Element ``k``: rotate by ``(k % 4) * 90`` degrees, then mirror left-right when ``k >= 4``.
    """
    _check(x, 2, "apply_dihedral2d")
    return _per_sample(x, index, 8, _square_element)


def apply_octahedral3d(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Apply element ``index[b]`` in 0..47 of the cube's symmetry group to sample ``b``.

    Element ``k``: permute the three spatial axes by ``AXIS_PERMUTATIONS[k // 8]``, then
    reflect axis ``a`` when bit ``a`` of ``k % 8`` is set.
    """
    _check(x, 3, "apply_octahedral3d")
    return _per_sample(x, index, 48, _cube_element)


def dihedral2d(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random flip/90-degree rotation per map (P2), uniform over the 8 symmetries."""
    return apply_dihedral2d(x, torch.randint(0, 8, (x.shape[0],), generator=generator))


def octahedral3d(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random one of the cube's 48 symmetries per volume (P3), uniform."""
    return apply_octahedral3d(x, torch.randint(0, 48, (x.shape[0],), generator=generator))
