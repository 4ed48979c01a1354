"""Data-side helpers shared by the chapters: augmentations (:mod:`.augment`)."""

from .augment import apply_dihedral2d, apply_octahedral3d, dihedral2d, octahedral3d

__all__ = ["dihedral2d", "octahedral3d", "apply_dihedral2d", "apply_octahedral3d"]
