"""Configuration of chapter ``00_statistics`` (the statistics on random fields, and their speed)."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import ChapterConfig, option

__all__ = ["StatisticsConfig"]


@dataclass(frozen=True)
class StatisticsConfig(ChapterConfig):
    """Sample sizes of the chapter's Gaussian and lognormal maps and cubes."""

    seed: int = option(doc="seed of every random field in this chapter", low=0)
    n_maps: int = option(doc="maps per sample", low=4)
    n_pix: int = option(doc="map side in pixels", low=32, high=2048)
    n_cubes: int = option(doc="cubes per sample", low=2)
    n_mesh: int = option(doc="cube side in voxels (1 Mpc/h voxels)", low=16, high=512)
    device: str | None = option(doc="'cpu' or 'cuda' (None: cuda when available)", choices=("cpu", "cuda"), nullable=True,
                                default=None)
    run_benchmark: bool = option(doc="time ours against the references in this run", default=True)

    def check(self) -> None:
        import torch

        from ..params import ParameterError

        if self.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError("parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None.")


StatisticsConfig.PROFILES = {
    "smoke": StatisticsConfig(profile="smoke", seed=0, n_maps=8, n_pix=64, n_cubes=2, n_mesh=32),
    "cpu": StatisticsConfig(profile="cpu", seed=0, n_maps=64, n_pix=128, n_cubes=8, n_mesh=64),
    "gpu": StatisticsConfig(profile="gpu", seed=0, n_maps=1000, n_pix=256, n_cubes=64, n_mesh=128),
    "paper": StatisticsConfig(profile="paper", seed=0, n_maps=5000, n_pix=256, n_cubes=30, n_mesh=256),
}
