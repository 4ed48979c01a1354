"""Figures of chapter 01_cosmogan: P1's Figs. 1-8 re-made from one :class:`gancosmo.evaluation.p1.P1Evaluation`.

Every comparison panel shows test A (real), the GAN and the lognormal null with the same
number of maps, and where it shows a per-bin difference, the 95% band of the same difference
over the parent-level real-vs-real splits (grey): what a perfect emulator would scatter over.
"""

from __future__ import annotations

import numpy as np

from .common import plain_log_ticks, pyplot

__all__ = [
    "map_gallery",
    "plot_training",
    "plot_pixel_histogram",
    "plot_power",
    "plot_correlations",
    "plot_minkowski",
    "plot_minkowski_distributions",
    "plot_nearest",
    "plot_interpolation",
]

_SETS = (("a", "k", "test A (real)"), ("gan", "C3", "GAN"), ("null", "C0", "lognormal null"))


def _limits(maps):
    return np.quantile(maps, 0.005), np.quantile(maps, 0.995)


def _band(ax, x, curve, ylabel: str):
    """Per-bin differences of the GAN and the null from test A over the real-vs-real band."""
    lo, hi = curve["band"]
    ax.fill_between(x, lo, hi, color="0.6", alpha=0.5, step=None, label="real vs real, 95% band")
    ax.plot(x, curve["gan"], "o-", color="C3", ms=3, lw=1, label="GAN")
    ax.plot(x, curve["null"], "s--", color="C0", ms=3, lw=1, mfc="none", label="lognormal null")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel(ylabel)


def map_gallery(ev, side_deg: float, n: int = 5, title: str = ""):
    """Fig. 1: ``n`` test maps (top), GAN maps (middle) and lognormal null maps (bottom), one colour scale."""
    plt = pyplot()
    sets = ((ev.test_a, "test (real)"), (ev.gan, "GAN"), (ev.null, "lognormal null"))
    n = min(n, *(len(m) for m, _ in sets))
    vmin, vmax = _limits(ev.test_a[:n])
    fig, axes = plt.subplots(3, n, figsize=(2.2 * n, 6.8), squeeze=False)
    ext = (0, side_deg, 0, side_deg)
    for row, (maps, label) in enumerate(sets):
        for i in range(n):
            im = axes[row, i].imshow(maps[i], cmap="inferno", vmin=vmin, vmax=vmax, extent=ext, origin="lower")
            axes[row, i].set_xticks([]), axes[row, i].set_yticks([])
        axes[row, 0].set_ylabel(label)
    fig.colorbar(im, ax=axes, shrink=0.8, label=r"convergence $\kappa$")
    fig.suptitle(title + f" (each map {side_deg:.3f} deg on a side)")
    return fig


def plot_training(training, title: str):
    """Losses per logged step and the chi-squared model-selection statistic (:class:`P1Training`)."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    history = training.history
    steps = [h["step"] for h in history]
    a.plot(steps, [h["loss/d"] for h in history], label="discriminator")
    a.plot(steps, [h["loss/g"] for h in history], label="generator")
    a.set(xlabel="generator step", ylabel="loss (cross-entropy)", title=title)
    a.legend()
    if training.selection:
        s, v = zip(*training.selection)
        b.plot(s, v, "o-", ms=3)
        if training.best_step is not None:
            b.axvline(training.best_step, color="k", ls="--", lw=0.8, label=f"selected: step {training.best_step}")
            b.legend()
    b.set(
        xlabel="generator step",
        ylabel=r"$\chi^2$ distance of $\log_{10} C_\ell$ histograms",
        title="model selection on dev (lower is better)",
    )
    fig.tight_layout()
    return fig


def plot_pixel_histogram(ev, title: str):
    """Fig. 2: pooled pixel densities (left) and per-bin differences of the per-map pixel fractions (right)."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    h = ev.pixel_hist
    for key, color, label in _SETS:
        a.plot(
            h["centers"],
            h[key],
            "o" if key != "a" else "s",
            ms=3,
            color=color,
            mfc="none" if key != "a" else color,
            label=f"{label} ({ev.n} maps)",
        )
    a.set(yscale="log", xlabel=r"pixel convergence $\kappa$", ylabel="probability density", title=title)
    a.legend(fontsize=8)
    x = np.arange(len(ev.pdf_bins) + 1)
    _band(b, x, ev.curves["pdf"], "fractional difference of the mean fraction")
    levels = ["<0.1%"] + [f"{100 * q:g}%" for q in ev.pdf_levels[1:]] + [">99.9%"]
    b.set_xticks(x, levels, rotation=60, fontsize=7)
    b.set(
        xlabel="pixel bin (upper edge: quantile of the training pixels)",
        title=f"per-map pixel fractions in {len(x)} bins",
    )
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_power(ev, title: str):
    """Fig. 3: mean +- std bands of l(l+1)C_l/2pi (left) and per-mode fractional differences with the band (right)."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    ell = ev.ell
    w = ell * (ell + 1) / (2 * np.pi)
    for key, color, label in _SETS:
        cl = ev.feats[key]["cl"]
        m, s = (w * cl).mean(0), (w * cl).std(0)
        a.fill_between(ell, m - s, m + s, color=color, alpha=0.25, label=f"{label} ({len(cl)}), " + r"$\mu\pm\sigma$")
        a.plot(ell, m, color=color, lw=1)
    a.set(xscale="log", yscale="log", xlabel=r"multipole $\ell$", ylabel=r"$\ell(\ell+1)C_\ell/2\pi$", title=title)
    a.legend(fontsize=8)
    _band(b, ell, ev.curves["cl"], r"$\bar C_\ell / \bar C_\ell^{\rm test\,A} - 1$")
    if ev.resolved_max >= ell[0]:
        b.axvline(ev.resolved_max, color="k", ls=":", lw=0.8, label=r"resolved $\ell_{\max}$")
    b.set(xscale="log", xlabel=r"multipole $\ell$", title=f"per-mode difference from test A ({len(ell)} modes)")
    b.legend(fontsize=8)
    plain_log_ticks(a, b)
    fig.tight_layout()
    return fig


def plot_correlations(ev, title: str):
    """Fig. 4: C_ell correlation matrices of test A and the GAN, their difference, and test A - test B (equal N)."""
    plt = pyplot()
    c = ev.correlations
    ell = ev.ell
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    ext = (ell[0], ell[-1], ell[0], ell[-1])
    off = ~np.eye(len(ell), dtype=bool)
    d_gan, d_b = c["a"] - c["gan"], c["a"] - c["b"]
    panels = [
        (c["a"], f"test A ({ev.n})", (-1, 1)),
        (c["gan"], f"GAN ({ev.n})", (-1, 1)),
        (d_gan, f"A - GAN, max |.| {np.nanmax(np.abs(d_gan[off])):.2f}", (-0.5, 0.5)),
        (d_b, f"A - test B ({ev.n}), max |.| {np.nanmax(np.abs(d_b[off])):.2f}", (-0.5, 0.5)),
    ]
    for ax, (m, label, (lo, hi)) in zip(axes, panels):
        im = ax.imshow(m, origin="lower", extent=ext, cmap="RdBu_r", vmin=lo, vmax=hi)
        ax.set(xlabel=r"$\ell$", title=label)
        fig.colorbar(im, ax=ax, shrink=0.75)
    axes[0].set_ylabel(r"$\ell$")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


_MF = (r"$V_0$ (area fraction)", r"$V_1$ (boundary length density)", r"$V_2$ (Euler characteristic density)")


def plot_minkowski(ev, title: str):
    """Fig. 5: mean +- std of V0, V1, V2 (top) and their differences from test A in units of its scatter (bottom)."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(14, 6.5), sharex=True)
    for i in range(3):
        ax = axes[0, i]
        for key, color, label in _SETS:
            v = ev.feats[key][f"v{i}"]
            m, s = v.mean(0), v.std(0)
            ax.fill_between(ev.nu, m - s, m + s, color=color, alpha=0.25, label=label)
            ax.plot(ev.nu, m, "--", color=color, lw=1)
        ax.set(ylabel=_MF[i])
        _band(axes[1, i], ev.nu, ev.curves[f"v{i}"], r"$(\bar V - \bar V^{\rm test\,A}) / \sigma^{\rm test\,A}$")
        axes[1, i].set_xlabel(r"threshold $\nu$ (convergence)")
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].legend(fontsize=8)
    fig.suptitle(title + f" ({ev.n} maps each, 2-pixel border masked)")
    fig.tight_layout()
    return fig


def plot_minkowski_distributions(ev, title: str, which=(4, 9, 14)):
    """Fig. 6: histograms of each functional at 3 thresholds, test A against the GAN, with the KS p-value."""
    plt = pyplot()
    which = [w for w in which if w < len(ev.nu)]
    ks = ev.scores.extras["ours"]
    fig, axes = plt.subplots(3, len(which), figsize=(3.6 * len(which), 8), squeeze=False)
    for i in range(3):
        for j, t in enumerate(which):
            ax = axes[i, j]
            r, f = ev.feats["a"][f"v{i}"][:, t], ev.feats["gan"][f"v{i}"][:, t]
            edges = np.histogram_bin_edges(np.concatenate([r, f]), 20)
            ax.hist(r, edges, density=True, histtype="step", color="k", label="test A")
            ax.hist(f, edges, density=True, histtype="step", color="C3", label="GAN")
            ax.set_title(
                f"{_MF[i].split(' ')[0]} at $\\nu$={ev.nu[t]:.3g}: KS p={ks[f'mf_v{i}_ks_p'][t]:.2g}", fontsize=9
            )
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
    n = min(n, len(generated), len(nn["pixel_index"]))
    from ..stats import power_spectrum_2d

    vmin, vmax = _limits(training)
    fig, axes = plt.subplots(4, n, figsize=(2.6 * n, 10), squeeze=False)
    ext = (0, side_deg, 0, side_deg)
    for i in range(n):
        tp, tw = training[nn["pixel_index"][i]], training[nn["power_index"][i]]
        for row, (m, label) in enumerate(
            ((generated[i], "GAN"), (tp, "nearest (pixel L2)"), (tw, "nearest (log C_l L2)"))
        ):
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
