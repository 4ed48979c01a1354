"""Configuration of chapter ``00_statistics`` (the statistics on random fields, and their speed)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ChapterConfig, option

__all__ = ["StatisticsConfig", "map_summaries", "compare_map_summaries", "protocol_example"]


@dataclass(frozen=True)
class StatisticsConfig(ChapterConfig):
    """Sample sizes of the chapter's Gaussian and lognormal maps and cubes."""

    seed: int = option(doc="seed of every random field in this chapter", low=0)
    n_maps: int = option(doc="maps per sample", low=4)
    n_pix: int = option(doc="map side in pixels", low=32, high=2048)
    n_cubes: int = option(doc="cubes per sample", low=2)
    n_mesh: int = option(doc="cube side in voxels (1 Mpc/h voxels)", low=16, high=512)
    device: str | None = option(
        doc="'cpu' or 'cuda' (None: cuda when available)", choices=("cpu", "cuda"), nullable=True, default=None
    )
    run_benchmark: bool = option(doc="time ours against the references in this run", default=True)

    def check(self) -> None:
        import torch

        from ..params import ParameterError

        if self.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError(
                "parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None."
            )


StatisticsConfig.PROFILES = {
    "smoke": StatisticsConfig(profile="smoke", seed=0, n_maps=8, n_pix=64, n_cubes=2, n_mesh=32),
    "cpu": StatisticsConfig(profile="cpu", seed=0, n_maps=64, n_pix=128, n_cubes=8, n_mesh=64),
    "gpu": StatisticsConfig(profile="gpu", seed=0, n_maps=1000, n_pix=256, n_cubes=64, n_mesh=128),
    "paper": StatisticsConfig(profile="paper", seed=0, n_maps=5000, n_pix=256, n_cubes=30, n_mesh=256),
}


def map_summaries(maps, side_deg: float, ell_edges, pdf_edges, mf_edges) -> dict:
    """Per-map summaries the protocol example compares: C_ell (sr), pixel PDF, V0/V1/V2 and peak counts.

    Every value is ``(n_maps, n_bins)``: one row per map, so a real-vs-real split only indexes rows.
    """
    import numpy as np

    from . import minkowski_2d, peak_counts_2d, pixel_histogram, power_spectrum_2d

    _, cl = power_spectrum_2d(maps, side_deg, ell_edges)
    _, pdf = pixel_histogram(maps, pdf_edges, unbounded=True, density=True)
    _, v0, v1, v2 = minkowski_2d(maps, mf_edges)
    _, peaks = peak_counts_2d(maps, pdf_edges, differential=False)
    return dict(cl=cl, pdf=pdf, minkowski=np.concatenate([v0, v1, v2], axis=1), peaks=peaks)


def compare_map_summaries(real: dict, other: dict) -> dict:
    """:func:`gancosmo.evaluation.binned.binned_comparison` of every summary of :func:`map_summaries`."""
    from ..evaluation.binned import binned_comparison

    out = {}
    for name in real:
        out.update(binned_comparison(real[name], other[name], name))
    return out


def protocol_example(real_pool, candidates: dict, null, side_deg: float, n: int, seed: int = 0) -> dict:
    """Score each candidate sample against real maps by the book's protocol (``PROTOCOL.md``).

    Parameters
    ----------
    real_pool : numpy.ndarray
        ``(N, n_pix, n_pix)`` real maps, each its own parent (independent fields).
    candidates : dict
        Name -> ``(>= n, n_pix, n_pix)`` maps of a would-be emulator.
    null : numpy.ndarray
        ``(>= n, n_pix, n_pix)`` maps of the null emulator.
    n : int
        Maps on each side of every comparison.

    Returns
    -------
    dict
        Name -> scorecard rows (chi^2/dof and mean |f| of C_ell, pixel PDF, Minkowski functionals
        and peak counts, and the fraction of PDF bins where KS rejects at 5%) with band,
        reference, verdict and the null's verdict.
    """
    import numpy as np

    from ..evaluation.protocol import binned_row_specs, real_vs_real_splits, rows_from_scores, score

    sigma = float(np.std(real_pool))
    mean = float(np.mean(real_pool))
    ell_f = 360.0 / side_deg
    n_pix = real_pool.shape[-1]
    ell_edges = ell_f * np.geomspace(1.0, n_pix / 2, 9)
    pdf_edges = np.linspace(mean - 2.5 * sigma, mean + 5 * sigma, 16)
    mf_edges = np.linspace(mean - 2 * sigma, mean + 4 * sigma, 10)
    summarise = lambda m: map_summaries(m, side_deg, ell_edges, pdf_edges, mf_edges)  # noqa: E731
    real = summarise(real_pool)
    null_features = summarise(null)
    splits = real_vs_real_splits(np.arange(len(real_pool)), n, seed=seed)
    specs = [
        spec
        for s, label in (
            ("cl", "C_ell"),
            ("pdf", "pixel PDF"),
            ("minkowski", "Minkowski V0, V1, V2"),
            ("peaks", "peak counts"),
        )
        for spec in binned_row_specs(s, label, ("chi2_dof", "mean_abs_frac"))
    ]
    specs += binned_row_specs("pdf", "pixel PDF", ("ks_reject",))
    return {
        name: rows_from_scores(specs, score(compare_map_summaries, real, splits, summarise(maps), null_features))
        for name, maps in candidates.items()
    }
