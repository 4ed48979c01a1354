"""Figures of chapter 02_conditional_massmaps: P2's Figs. 2-10 re-made, labelled with sample counts."""
from __future__ import annotations

import numpy as np

from .common import plain_log_ticks, pyplot

__all__ = [
    "plot_correlations",
    "plot_curves",
    "plot_grid",
    "plot_grid_metrics",
    "plot_latent_grid",
    "plot_maps",
    "plot_minkowski",
    "plot_regressor",
    "plot_training",
]


def plot_grid(om, s8, split: dict, named: dict, title: str):
    """Fig. 2: the 57 cosmologies, training (circles) and test (diamonds), models A-D named."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    for key, marker, label in (("train", "o", "training (46)"), ("test_interpolation", "D", "test, interpolation (8)"),
                               ("test_extrapolation", "s", "test, extrapolation (3)")):
        ax.plot(om[split[key]], s8[split[key]], marker, ls="none", mfc="none", label=label)
    for name, i in named.items():
        ax.annotate(name, (om[i], s8[i]), xytext=(4, 4), textcoords="offset points", fontweight="bold")
    ax.set(xlabel=r"$\Omega_m$", ylabel=r"$\sigma_8$", title=title)
    ax.legend(fontsize=8)
    return fig


def plot_maps(real_by: dict, fake_by: dict, labels: dict, title: str, side_deg: float = 5.0):
    """Fig. 3: a simulated (top) and a generated (bottom) map per named cosmology."""
    plt = pyplot()
    names = list(labels)
    fig, axes = plt.subplots(2, len(names), figsize=(2.6 * len(names), 5.4), squeeze=False)
    for c, name in enumerate(names):
        r, f = real_by[name][0], fake_by[name][0]
        lo, hi = np.quantile(real_by[name], 0.005), np.quantile(real_by[name], 0.995)
        for row, m in enumerate((r, f)):
            im = axes[row, c].imshow(m, cmap="inferno", vmin=lo, vmax=hi, origin="lower", extent=(0, side_deg, 0, side_deg))
            axes[row, c].set_xticks([]), axes[row, c].set_yticks([])
        axes[0, c].set_title(f"{name}: {labels[name]}", fontsize=9)
        fig.colorbar(im, ax=axes[:, c], shrink=0.7, label=r"$\kappa$")
    axes[0, 0].set_ylabel("N-body (PM)")
    axes[1, 0].set_ylabel("GAN")
    fig.suptitle(title + f" (maps {side_deg:g} deg on a side)")
    return fig


def plot_latent_grid(maps: np.ndarray, om_values, s8_values, title: str):
    """Fig. 4: one latent vector, maps over a grid of (Omega_m rows, sigma_8 columns)."""
    plt = pyplot()
    n, m = maps.shape[:2]
    fig, axes = plt.subplots(n, m, figsize=(1.9 * m, 1.9 * n), squeeze=False)
    lo, hi = np.quantile(maps, 0.005), np.quantile(maps, 0.995)
    for i in range(n):
        for j in range(m):
            axes[i, j].imshow(maps[i, j], cmap="inferno", vmin=lo, vmax=hi, origin="lower")
            axes[i, j].set_xticks([]), axes[i, j].set_yticks([])
            if i == n - 1:
                axes[i, j].set_xlabel(rf"$\sigma_8$={s8_values[j]:.2f}")
            if j == 0:
                axes[i, j].set_ylabel(rf"$\Omega_m$={om_values[i]:.2f}")
    fig.suptitle(title)
    return fig


def _band(ax, x, stat, color, label):
    med, lo, hi = (np.nanpercentile(stat, q, axis=0) for q in (50, 32, 68))
    ax.plot(x, med, color=color, label=label)
    ax.fill_between(x, lo, hi, color=color, alpha=0.3)
    return med


def plot_curves(curves: dict, key: str, xkey: str, xlabel: str, ylabel: str, title: str, n: dict, logx=False, logy=False, scale=None):
    """Figs. 5-6: median and 32-68% band (N-body blue, GAN red) per named model, fractional difference below."""
    plt = pyplot()
    names = list(curves)
    fig, axes = plt.subplots(2, len(names), figsize=(3.3 * len(names), 4.6), squeeze=False, sharex="col",
                             gridspec_kw=dict(height_ratios=(3, 1)))
    for c, name in enumerate(names):
        cv = curves[name]
        x = cv[xkey]
        r, f = cv[key]
        s = scale(x) if scale is not None else 1.0
        mr = _band(axes[0, c], x, r * s, "C0", f"N-body ({n[name][0]})")
        mf = _band(axes[0, c], x, f * s, "C3", f"GAN ({n[name][1]})")
        with np.errstate(divide="ignore", invalid="ignore"):
            axes[1, c].plot(x, mf / mr - 1, "k")
        axes[1, c].axhline(0, color="0.6", lw=0.8)
        axes[1, c].set(xlabel=xlabel, ylim=(-0.5, 0.5))
        axes[0, c].set_title(name)
        if logx:
            axes[0, c].set_xscale("log")
            plain_log_ticks(axes[0, c], axes[1, c])
        if logy:
            axes[0, c].set_yscale("log")
    axes[0, 0].set_ylabel(ylabel)
    axes[1, 0].set_ylabel("GAN / N-body - 1")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_minkowski(curves: dict, title: str, n: dict):
    """Fig. 7: V0, V1, V2 (rows) per named model (columns), medians and 32-68% bands."""
    plt = pyplot()
    names = list(curves)
    fig, axes = plt.subplots(3, len(names), figsize=(3.3 * len(names), 7), squeeze=False)
    for c, name in enumerate(names):
        cv = curves[name]
        for v in range(3):
            _band(axes[v, c], cv["nu"], cv["minkowski"][0][v], "C0", f"N-body ({n[name][0]})")
            _band(axes[v, c], cv["nu"], cv["minkowski"][1][v], "C3", f"GAN ({n[name][1]})")
            axes[v, c].set_ylabel(f"$V_{v}$") if c == 0 else None
        axes[0, c].set_title(name)
        axes[2, c].set_xlabel(r"threshold $\kappa$")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_correlations(curves: dict, title: str):
    """Fig. 8: Pearson correlation of C_ell bins, N-body upper triangle, GAN lower, with f_R."""
    plt = pyplot()
    names = list(curves)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4), squeeze=False)
    for c, name in enumerate(names):
        r, f = curves[name]["corr"]
        m = np.where(np.triu(np.ones_like(r, bool)), r, f)
        im = axes[0, c].imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        axes[0, c].set(title=f"{name}: $f_R$ = {curves[name]['f_r']:.2f}", xlabel=r"$\ell$ bin (300-3000)", ylabel=r"$\ell$ bin")
    fig.colorbar(im, ax=axes, shrink=0.8, label="Pearson correlation (upper: N-body, lower: GAN)")
    fig.suptitle(title)
    return fig


def _ellipse(ax, pts, color, label):
    mu, cov = pts.mean(0), np.cov(pts, rowvar=False)
    w, v = np.linalg.eigh(cov)
    t = np.linspace(0, 2 * np.pi, 100)
    for k, ls in ((1.515, "-"), (2.448, ":")):  # 68% and 95% of a 2D Gaussian
        e = mu[:, None] + v @ (k * np.sqrt(np.clip(w, 0, None))[:, None] * np.array([np.cos(t), np.sin(t)]))
        ax.plot(e[0], e[1], color=color, ls=ls, label=label if ls == "-" else None)


def plot_regressor(pred: dict, truth: dict, title: str):
    """Fig. 9: regressor predictions for N-body (blue) and GAN (red) maps, 68% (solid) and 95%
    (dotted) Gaussian contours, true values as stars."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for k, (name, (pr, pf)) in enumerate(pred.items()):
        _ellipse(ax, pr, "C0", f"N-body ({len(pr)} maps/model)" if k == 0 else None)
        _ellipse(ax, pf, "C3", f"GAN ({len(pf)} maps/model)" if k == 0 else None)
        ax.plot(*truth[name], "k*", ms=10)
        ax.annotate(name, truth[name], xytext=(5, 5), textcoords="offset points")
    ax.set(xlabel=r"predicted $\Omega_m$", ylabel=r"predicted $\sigma_8$", title=title)
    ax.legend(fontsize=8)
    return fig


def plot_grid_metrics(om, s8, metrics: dict, train_ids, title: str, which: str = "ours"):
    """Fig. 10: six metrics over the grid, circles training cosmologies, squares test ones."""
    plt = pyplot()
    keys = [("s_ssim", "$s_{SSIM}$"), ("fid_sqrt", "FID$^{1/2}$"), ("w1_pixel", "$W_1$ pixels"),
            ("f_cl", r"mean $|f_{C_\ell}|$"), ("f_bl", r"mean $|f_{B_\ell}|$"), ("f_r", "$f_R$")]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    ids = np.array(sorted(metrics))
    train = np.isin(ids, train_ids)
    for ax, (k, label) in zip(axes.ravel(), keys):
        v = np.array([metrics[i][which][k] for i in ids], float)
        vmax = np.nanmax(np.abs(v)) if np.isfinite(v).any() else 1.0
        cmap, vmin = ("RdBu_r", -vmax) if k == "s_ssim" else ("viridis", 0)
        if k == "f_r":
            cmap, vmin = "RdBu_r", -vmax
        for sel, marker in ((train, "o"), (~train, "s")):
            sc = ax.scatter(om[ids[sel]], s8[ids[sel]], c=v[sel], marker=marker, cmap=cmap, vmin=vmin, vmax=vmax, s=70, edgecolors="k")
        fig.colorbar(sc, ax=ax, label=label)
        ax.set(xlabel=r"$\Omega_m$", ylabel=r"$\sigma_8$", title=label)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_training(history: list[dict], reg_losses: list[float], title: str):
    """Critic's Wasserstein estimate and losses per logged step; regressor loss per epoch."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    steps = [h["step"] for h in history]
    a.plot(steps, [h["loss/d"] for h in history], label="critic loss (incl. penalty)")
    a.plot(steps, [h.get("d/wasserstein", np.nan) for h in history], label="Wasserstein estimate")
    a.set(xlabel="generator step", ylabel="loss", title=title)
    a.legend(fontsize=8)
    b.plot(np.arange(1, len(reg_losses) + 1), reg_losses, "o-")
    b.set(xlabel="epoch", ylabel="standardized MSE (training)", yscale="log", title="regressor (Table A2)")
    fig.tight_layout()
    return fig
