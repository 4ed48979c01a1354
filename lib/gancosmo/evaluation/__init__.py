"""Per-paper evaluation pipelines: splits, model-selection statistics, the numbers behind each
re-made figure, and scorecard rows. Modules: :mod:`.p1` (CosmoGAN)."""
from . import p1

__all__ = ["p1"]
