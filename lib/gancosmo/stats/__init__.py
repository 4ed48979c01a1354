"""Batched summary statistics and two-sample comparisons (numpy or torch in, numpy out).

Maps are ``(B, H, W)`` with their side in degrees; cubes ``(B, D, H, W)`` with the box
side in Mpc/h. Statistics run on the input's device and agree bin for bin with
lenstools 1.2 (maps) and Pylians (cubes) where those define the papers' statistics.

Modules: ``power`` (C_ell, P(k)), ``bispectrum`` (maps), ``bispectrum3d`` (cubes),
``peaks``, ``minkowski``, ``histograms``, ``compare`` (two-sample distances and scores),
``similarity`` (MS-SSIM, Dice, nearest neighbours), ``fields`` (Gaussian/lognormal fields).
"""

from .bispectrum import bispectrum_2d
from .bispectrum3d import bispectrum_3d
from .compare import (
    correlation,
    covariance,
    fid_like,
    fractional_difference,
    frechet_distance,
    frechet_distance_samples,
    frobenius_fr,
    ks_ad_bootstrap,
    log_statistic,
    normalized_wasserstein1,
    reference_s_star,
    s_star,
    wasserstein1,
)
from .histograms import histogram, linear_edges, log_edges, mean_density, median_mad, peak_histogram, pixel_histogram
from .minkowski import minkowski_2d
from .peaks import peak_counts_2d, peak_counts_3d, peak_mask, peak_values
from .power import power_spectrum_2d, power_spectrum_3d
from .similarity import (
    dice_random_baseline,
    dice_scores,
    dice_top_percent,
    ms_ssim_random_pairs,
    nearest_neighbours,
    s_ssim,
)

__all__ = [
    "bispectrum_2d",
    "bispectrum_3d",
    "correlation",
    "covariance",
    "dice_random_baseline",
    "dice_scores",
    "dice_top_percent",
    "fid_like",
    "fractional_difference",
    "frechet_distance",
    "frechet_distance_samples",
    "frobenius_fr",
    "histogram",
    "ks_ad_bootstrap",
    "linear_edges",
    "log_edges",
    "log_statistic",
    "mean_density",
    "median_mad",
    "minkowski_2d",
    "ms_ssim_random_pairs",
    "nearest_neighbours",
    "normalized_wasserstein1",
    "peak_counts_2d",
    "peak_counts_3d",
    "peak_histogram",
    "peak_mask",
    "peak_values",
    "pixel_histogram",
    "power_spectrum_2d",
    "power_spectrum_3d",
    "reference_s_star",
    "s_star",
    "s_ssim",
    "wasserstein1",
]
