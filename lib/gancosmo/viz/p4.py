"""Figures of chapter 04_scalable_3d: P4's Figs. 5-12 re-made, labelled with profile and sample counts.

Units: particle counts per voxel (slices shown as log10(1 + counts)); k in h/Mpc; P(k) in
(Mpc/h)^3; the mass histogram over log10(counts + 1), the peak histogram over ln(peak + e)
(P4's bins, :mod:`gancosmo.evaluation.p4_benchmark`).
"""

from __future__ import annotations

import numpy as np

from ..evaluation.p4_benchmark import STATISTIC_WORDS, STATISTICS, mass_histogram_edges, peak_histogram_edges
from .common import pyplot

__all__ = ["plot_slices", "plot_statistics", "plot_training", "COLORS"]

COLORS = {"N-body": "k", "lognormal null": "C2", "borders only": "C1", "independent patches": "C4"}
X_LABELS = {
    "psd": "k [h/Mpc]",
    "mass_hist": "log10(particles per voxel + 1)",
    "peak_hist": "ln(peak value + e)",
}
Y_LABELS = {"psd": "P(k) [(Mpc/h)^3]", "mass_hist": "voxels per cube", "peak_hist": "peaks per cube"}


def _mid_slice(cube: np.ndarray) -> np.ndarray:
    """log10(1 + counts) of a cube's middle slice, or of an image (Table 2) as it is."""
    c = np.asarray(cube)
    return np.log10(1.0 + (c if c.ndim == 2 else c[c.shape[0] // 2]))


def plot_slices(rows: list, box_size: float, title: str):
    """Middle slices (P4's Figs. 5, 7, 9, 11): one row per entry of ``rows``.

    Parameters
    ----------
    rows : list of (row label, list of (panel label, cube ``(n, n, n)`` or image ``(n, n)`` counts))
    box_size : float
        Side of the cubes in Mpc/h (every scale covers the same box).
    title : str
    """
    plt = pyplot()
    n_cols = max(len(panels) for _, panels in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(2.3 * n_cols, 2.4 * len(rows)), squeeze=False)
    values = [_mid_slice(c) for _, panels in rows for _, c in panels]
    vmax = max(float(v.max()) for v in values)
    image = None
    for r, (row_label, panels) in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            if c >= len(panels):
                ax.axis("off")
                continue
            label, cube = panels[c]
            extent = (0, box_size, 0, box_size)
            image = ax.imshow(_mid_slice(cube), origin="lower", extent=extent, vmin=0, vmax=vmax, cmap="magma")
            size = f"{cube.shape[0]}^2 pixels" if np.ndim(cube) == 2 else f"{cube.shape[0]}^3 voxels"
            ax.set_title(f"{label}\n{size}", fontsize=8)
            ax.tick_params(labelsize=7)
            if c == 0:
                ax.set_ylabel(f"{row_label}\ny [Mpc/h]", fontsize=8)
            if r == len(rows) - 1:
                ax.set_xlabel("x [Mpc/h]", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.8, label="log10(1 + particles per voxel), middle or one-voxel slice")
    fig.suptitle(title, fontsize=10)
    return fig


def _centres(name: str, k: np.ndarray) -> np.ndarray:
    if name == "psd":
        return k
    edges = mass_histogram_edges() if name == "mass_hist" else peak_histogram_edges()
    return 0.5 * (edges[1:] + edges[:-1])


def _band(ax, x, values, label, color, real=False, unit="cubes"):
    v = np.asarray(values, float)
    mean, std = v.mean(0), v.std(0)
    if real:
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, lw=0)
        ax.plot(x, mean, color=color, lw=2, label=f"{label} ({len(v)} {unit})")
    else:
        ax.errorbar(x, mean, yerr=std, color=color, lw=1, capsize=2, label=f"{label} ({len(v)} {unit})")


def plot_statistics(rows: list, title: str, images: bool = False):
    """P4's three statistics (Figs. 6, 8, 10, 12): mean and standard deviation between cubes.

    Parameters
    ----------
    rows : list of (row label, k, real feature set, {name: feature set})
        Feature sets of :func:`gancosmo.evaluation.p4_benchmark.p4_statistics`; ``k`` (h/Mpc)
        the power spectrum's wavenumbers at that scale.
    title : str
    images : bool
        The feature sets are of 2D images (Table 2): P(k) in (Mpc/h)^2, counts per image.
    """
    unit, per = ("images", "image") if images else ("cubes", "cube")
    plt = pyplot()
    fig, axes = plt.subplots(len(rows), 3, figsize=(13, 3.4 * len(rows)), squeeze=False)
    for r, (row_label, k, real, others) in enumerate(rows):
        for c, name in enumerate(STATISTICS):
            ax = axes[r, c]
            x = _centres(name, k)
            _band(ax, x, real[name], "N-body", COLORS["N-body"], real=True, unit=unit)
            for i, (label, feats) in enumerate(others.items()):
                _band(ax, x, feats[name], label, COLORS.get(label, f"C{(3 + i) % 10}"), unit=unit)
            if name == "psd":
                ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(X_LABELS[name])
            ylabel = Y_LABELS[name]
            if images:
                ylabel = "P(k) [(Mpc/h)^2]" if name == "psd" else ylabel.replace("voxels", "pixels")
            ax.set_ylabel(ylabel.replace("per cube", f"per {per}"))
            ax.set_title(f"{row_label}: {STATISTIC_WORDS[name]}", fontsize=9)
            if c == 0:
                ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_training(models: dict, title: str):
    """The critic's Wasserstein estimate against generator steps, one line per trained network."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, m in models.items():
        steps = [h["step"] for h in m.history if "d/wasserstein" in h]
        w = [h["d/wasserstein"] for h in m.history if "d/wasserstein" in h]
        ax.plot(steps, w, label=f"{name} ({m.n_train:,} training samples)")
    ax.set_xlabel("generator step")
    ax.set_ylabel("critic's Wasserstein estimate\nE D(real) - E D(fake)")
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
