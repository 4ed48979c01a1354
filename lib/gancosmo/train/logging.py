"""Run records: TensorBoard scalars and images, and the run's config as JSON.

Only the main process writes; on other ranks :class:`RunLogger` does nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .checkpoint import atomic_write_text

__all__ = ["RunLogger", "image_grid"]


def image_grid(images: torch.Tensor, ncol: int = 4) -> torch.Tensor:
    """Tile ``(B, 1, H, W)`` (or ``(B, H, W)``) maps into one ``(1, H', W')`` image in [0, 1]."""
    x = images.detach().float().cpu()
    if x.dim() == 3:
        x = x[:, None]
    if x.dim() == 5:  # cubes: central slice
        x = x[:, :, x.shape[2] // 2]
    x = x[:, :1]
    lo, hi = x.amin(), x.amax()
    x = (x - lo) / (hi - lo + 1e-12)
    b, _, h, w = x.shape
    ncol = min(ncol, b)
    nrow = -(-b // ncol)
    grid = torch.zeros(1, nrow * h, ncol * w)
    for i in range(b):
        r, c = divmod(i, ncol)
        grid[:, r * h : (r + 1) * h, c * w : (c + 1) * w] = x[i]
    return grid


class RunLogger:
    """TensorBoard writer plus a JSON config record in ``out_dir``.

    Parameters
    ----------
    out_dir : path or None
        Run folder (``None``: log nothing).
    enabled : bool
        False on non-main ranks.
    tensorboard : bool
        Write TensorBoard event files under ``out_dir/tensorboard``.
    """

    def __init__(self, out_dir, enabled: bool = True, tensorboard: bool = True):
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.enabled = enabled and self.out_dir is not None
        self._writer = None
        if self.enabled and tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.out_dir / "tensorboard"))

    def write_config(self, config: dict, name: str = "config.json") -> None:
        if self.enabled:
            atomic_write_text(json.dumps(config, indent=2, sort_keys=True, default=str), self.out_dir / name)

    def scalars(self, values: dict, step: int) -> None:
        if self._writer is not None:
            for k, v in values.items():
                self._writer.add_scalar(k, float(v), step)

    def images(self, tag: str, images: torch.Tensor, step: int) -> None:
        if self._writer is not None:
            self._writer.add_image(tag, image_grid(images), step)

    def text(self, tag: str, text: str, step: int) -> None:
        if self._writer is not None:
            self._writer.add_text(tag, text, step)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
