"""Figures of chapter 01_cosmogan: P1's Figs. 1-8 re-made, ours labelled with sample counts."""
from __future__ import annotations

import numpy as np

from .common import plain_log_ticks, pyplot

__all__ = ["map_gallery", "plot_training", "plot_pixel_histogram", "plot_power", "plot_correlations",
           "plot_minkowski", "plot_minkowski_distributions", "plot_nearest", "plot_interpolation"]


def _limits(maps):
    return np.quantile(maps, 0.005), np.quantile(maps, 0.995)


def map_gallery(real: np.ndarray, fake: np.ndarray, side_deg: float, n: int = 5, title: str = ""):
    """Fig. 1: ``n`` validation maps (top) and ``n`` GAN maps (bottom), one colour scale."""
    plt = pyplot()
    n = min(n, len(real), len(fake))
    vmin, vmax = _limits(real[:n])
    fig, axes = plt.subplots(2, n, figsize=(2.2 * n, 4.6), squeeze=False)
    ext = (0, side_deg, 0, side_deg)
    for i in range(n):
        for row, maps in enumerate((real, fake)):
            im = axes[row, i].imshow(maps[i], cmap="inferno", vmin=vmin, vmax=vmax, extent=ext, origin="lower")
            axes[row, i].set_xticks([]), axes[row, i].set_yticks([])
    axes[0, 0].set_ylabel("validation")
    axes[1, 0].set_ylabel("GAN")
    fig.colorbar(im, ax=axes, shrink=0.8, label=r"convergence $\kappa$")
    fig.suptitle(title + f" (each map {side_deg:.3f} deg on a side)")
    return fig


def plot_training(history: list[dict], selection: list[tuple[int, float]], best_step: int | None, title: str):
    """Losses per logged step and the chi-squared model-selection statistic."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    steps = [h["step"] for h in history]
    a.plot(steps, [h["loss/d"] for h in history], label="discriminator")
    a.plot(steps, [h["loss/g"] for h in history], label="generator")
    a.set(xlabel="generator step", ylabel="loss (cross-entropy)", title=title)
    a.legend()
    if selection:
        s, v = zip(*selection)
        b.plot(s, v, "o-", ms=3)
        if best_step is not None:
            b.axvline(best_step, color="k", ls="--", lw=0.8, label=f"selected: step {best_step}")
            b.legend()
    b.set(xlabel="generator step", ylabel=r"$\chi^2$ distance of $\log_{10} C_\ell$ histograms", title="model selection (lower is better)")
    fig.tight_layout()
    return fig


def plot_pixel_histogram(res: dict, n_real: int, n_fake: int, title: str):
    """Fig. 2: pixel-intensity densities of validation and GAN maps."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(res["centers"], res["real"], "ks", ms=3, label=f"validation ({n_real} maps)")
    ax.plot(res["centers"], res["fake"], "o", mfc="none", color="C3", ms=4, label=f"GAN ({n_fake} maps)")
    ax.set(yscale="log", xlabel=r"pixel convergence $\kappa$", ylabel="probability density",
           title=f"{title}\nKS p = {res['ks_p']:.3g} ({res['n_pixels']} pixels each)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_power(res: dict, n_real: int, n_fake: int, title: str):
    """Fig. 3: mean +- std bands of l(l+1)C_l/2pi and the per-mode bootstrapped p-values."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    ell = res["ell"]
    w = ell * (ell + 1) / (2 * np.pi)
    for cl, color, label in ((res["real"], "k", f"validation ({n_real})"), (res["fake"], "C3", f"GAN ({n_fake})")):
        m, s = (w * cl).mean(0), (w * cl).std(0)
        a.fill_between(ell, m - s, m + s, color=color, alpha=0.3, label=label + r", $\mu\pm\sigma$")
        a.plot(ell, m, color=color, lw=1)
    a.set(xscale="log", yscale="log", xlabel=r"multipole $\ell$", ylabel=r"$\ell(\ell+1)C_\ell/2\pi$", title=title)
    a.legend(fontsize=8)
    b.plot(ell, res["ks"], "o", ms=3, label="KS")
    b.plot(ell, res["ad"], "s", ms=3, mfc="none", label="AD (scipy caps at 0.25)")
    b.axhline(0.99, color="k", ls=":", lw=0.8)
    b.axhline(0.05, color="C3", ls=":", lw=0.8)
    b.set(xscale="log", xlabel=r"multipole $\ell$", ylabel="median bootstrapped p-value", ylim=(-0.02, 1.02),
          title=f"per-mode two-sample tests ({len(ell)} modes)")
    b.legend(fontsize=8)
    plain_log_ticks(a, b)
    fig.tight_layout()
    return fig


def plot_correlations(res: dict, ell: np.ndarray, counts: dict, title: str):
    """Fig. 4: correlation matrices of validation and GAN C_ell, their difference, and validation - auxiliary."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    ext = (ell[0], ell[-1], ell[0], ell[-1])
    panels = [(res["validation"], f"validation ({counts['validation']})", (-1, 1)), (res["gan"], f"GAN ({counts['gan']})", (-1, 1)),
              (res["diff_gan"], f"validation - GAN, max |.| {res['max_diff_gan']:.2f}", (-0.5, 0.5)),
              (res["diff_aux"], f"validation - auxiliary ({counts['auxiliary']}), max |.| {res['max_diff_aux']:.2f}", (-0.5, 0.5))]
    for ax, (m, label, (lo, hi)) in zip(axes, panels):
        im = ax.imshow(m, origin="lower", extent=ext, cmap="RdBu_r", vmin=lo, vmax=hi)
        ax.set(xlabel=r"$\ell$", title=label)
        fig.colorbar(im, ax=ax, shrink=0.75)
    axes[0].set_ylabel(r"$\ell$")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


_MF = (r"$V_0$ (area fraction)", r"$V_1$ (boundary length density)", r"$V_2$ (Euler characteristic density)")


def plot_minkowski(res: dict, n_real: int, n_fake: int, title: str):
    """Fig. 5: mean +- std bands of V0, V1, V2 over 19 thresholds, with bootstrapped KS p-values."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for i, ax in enumerate(axes):
        for v, color, label in ((res["real"][i], "k", f"validation ({n_real})"), (res["fake"][i], "C3", f"GAN ({n_fake})")):
            m, s = v.mean(0), v.std(0)
            ax.fill_between(res["nu"], m - s, m + s, color=color, alpha=0.3, label=label)
            ax.plot(res["nu"], m, "--", color=color, lw=1)
        ax.set(xlabel=r"threshold $\nu$ (convergence)", ylabel=_MF[i],
               title=f"KS p > 0.95 at {int((res['ks'][i] > 0.95).sum())} of {len(res['nu'])} thresholds")
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_minkowski_distributions(res: dict, title: str, which=(4, 9, 14)):
    """Fig. 6: histograms of each functional at 3 equidistant thresholds."""
    plt = pyplot()
    which = [w for w in which if w < len(res["nu"])]
    fig, axes = plt.subplots(3, len(which), figsize=(3.6 * len(which), 8), squeeze=False)
    for i in range(3):
        for j, t in enumerate(which):
            ax = axes[i, j]
            r, f = res["real"][i][:, t], res["fake"][i][:, t]
            edges = np.histogram_bin_edges(np.concatenate([r, f]), 20)
            ax.hist(r, edges, density=True, histtype="step", color="k", label="validation")
            ax.hist(f, edges, density=True, histtype="step", color="C3", label="GAN")
            ax.set_title(f"{_MF[i].split(' ')[0]} at $\\nu$={res['nu'][t]:.3g}: KS p={res['ks'][i][t]:.2f}", fontsize=9)
            ax.set_xlabel(_MF[i], fontsize=8)
            if j == 0:
                ax.set_ylabel("density")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_nearest(generated: np.ndarray, training: np.ndarray, nn: dict, side_deg: float, title: str, n: int = 4):
    """Fig. 7: generated maps (top), nearest training maps by pixel L2 and by power-spectrum L2, and their spectra."""
    plt = pyplot()
    n = min(n, len(generated))
    from ..stats import power_spectrum_2d

    vmin, vmax = _limits(training)
    fig, axes = plt.subplots(4, n, figsize=(2.6 * n, 10), squeeze=False)
    ext = (0, side_deg, 0, side_deg)
    for i in range(n):
        tp, tw = training[nn["pixel_index"][i]], training[nn["power_index"][i]]
        for row, (m, label) in enumerate(((generated[i], "GAN"), (tp, "nearest (pixel L2)"), (tw, "nearest (log C_l L2)"))):
            axes[row, i].imshow(m, cmap="inferno", vmin=vmin, vmax=vmax, extent=ext, origin="lower")
            axes[row, i].set_xticks([]), axes[row, i].set_yticks([])
            if i == 0:
                axes[row, i].set_ylabel(label, fontsize=9)
        ell, cl = power_spectrum_2d(np.stack([generated[i], tw]), side_deg, nn["edges"])
        axes[3, i].loglog(ell, cl[0], color="C3", label="GAN")
        axes[3, i].loglog(ell, cl[1], color="k", ls="--", label="nearest training")
        axes[3, i].set_xlabel(r"$\ell$")
        plain_log_ticks(axes[3, i])
    axes[3, 0].set_ylabel(r"$C_\ell$ [sr]")
    axes[3, 0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_interpolation(rows: np.ndarray, side_deg: float, title: str):
    """Fig. 8: maps along slerp paths between two latent vectors, one path per row."""
    plt = pyplot()
    nr, ns = rows.shape[:2]
    vmin, vmax = _limits(rows)
    fig, axes = plt.subplots(nr, ns, figsize=(1.6 * ns, 1.7 * nr), squeeze=False)
    for i in range(nr):
        for j in range(ns):
            axes[i, j].imshow(rows[i, j], cmap="inferno", vmin=vmin, vmax=vmax, origin="lower")
            axes[i, j].set_xticks([]), axes[i, j].set_yticks([])
    for j in range(ns):
        axes[-1, j].set_xlabel(f"t={j / max(ns - 1, 1):.2f}", fontsize=8)
    fig.suptitle(title + f" (maps {side_deg:.3f} deg on a side)")
    fig.tight_layout()
    return fig
