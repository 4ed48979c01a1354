"""Figures of chapter 02_conditional_massmaps: P2's Figs. 2-10 re-made, labelled with sample counts.

Every statistic figure draws equal-size sets of maps of one cosmology: the real test set A
(N-body, blue), the GAN (red) and the lognormal null (grey), as returned by
:func:`gancosmo.evaluation.p2.summary_curves`.
"""

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
    "plot_resolution",
    "plot_training",
]

_COLORS = ("C0", "C3", "0.45", "C2")


def plot_grid(om, s8, split: dict, named: dict, title: str, simulated=None):
    """Fig. 2: the 57 cosmologies, training (circles) and test (diamonds, squares), models A-D named.

    ``simulated``: grid indices this run simulated (others drawn faint).
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    sim = np.ones(len(om), bool) if simulated is None else np.isin(np.arange(len(om)), simulated)
    for key, marker, label in (
        ("train", "o", "training"),
        ("test_interpolation", "D", "test, interpolation"),
        ("test_extrapolation", "s", "test, extrapolation"),
    ):
        ids = np.asarray(split[key])
        line = ax.plot(
            om[ids[sim[ids]]], s8[ids[sim[ids]]], marker, ls="none", mfc="none", label=f"{label} ({len(ids)})"
        )[0]
        if (~sim[ids]).any():
            ax.plot(
                om[ids[~sim[ids]]],
                s8[ids[~sim[ids]]],
                marker,
                ls="none",
                mfc="none",
                color=line.get_color(),
                alpha=0.25,
            )
    for name, i in named.items():
        ax.annotate(name, (om[i], s8[i]), xytext=(4, 4), textcoords="offset points", fontweight="bold")
    ax.set(xlabel=r"$\Omega_m$", ylabel=r"$\sigma_8$", title=title)
    ax.legend(fontsize=8)
    return fig


def plot_maps(examples: dict, labels: dict, title: str, side_deg: float = 5.0):
    """Fig. 3: one map of each set (rows: N-body, GAN, null) per named cosmology (columns)."""
    plt = pyplot()
    names = list(examples)
    sets = list(examples[names[0]])
    fig, axes = plt.subplots(len(sets), len(names), figsize=(2.6 * len(names), 2.7 * len(sets)), squeeze=False)
    for c, name in enumerate(names):
        real = examples[name][sets[0]]
        lo, hi = np.quantile(real, 0.005), np.quantile(real, 0.995)
        for row, s in enumerate(sets):
            im = axes[row, c].imshow(
                examples[name][s][0],
                cmap="inferno",
                vmin=lo,
                vmax=hi,
                origin="lower",
                extent=(0, side_deg, 0, side_deg),
            )
            axes[row, c].set_xticks([]), axes[row, c].set_yticks([])
            if c == 0:
                axes[row, 0].set_ylabel(s)
        axes[0, c].set_title(f"{name}: {labels[name]}", fontsize=9)
        fig.colorbar(im, ax=axes[:, c], shrink=0.7, label=r"$\kappa$")
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
    ax.fill_between(x, lo, hi, color=color, alpha=0.25)
    return med


def plot_curves(
    curves: dict, key: str, xkey: str, xlabel: str, ylabel: str, title: str, logx=False, logy=False, scale=None
):
    """Figs. 5-6: median and 32-68% band of each set per named model, each set over the first (real) below."""
    plt = pyplot()
    models = list(curves)
    fig, axes = plt.subplots(
        2,
        len(models),
        figsize=(3.3 * len(models), 4.6),
        squeeze=False,
        sharex="col",
        gridspec_kw=dict(height_ratios=(3, 1)),
    )
    for c, model in enumerate(models):
        cv = curves[model]
        x = cv[xkey]
        s = scale(x) if scale is not None else 1.0
        meds = {}
        for k, name in enumerate(cv["names"]):
            values = cv[key][name]
            meds[name] = _band(axes[0, c], x, values * s, _COLORS[k], f"{name} ({len(values)})")
        ref = meds[cv["names"][0]]
        with np.errstate(divide="ignore", invalid="ignore"):
            for k, name in enumerate(cv["names"][1:], start=1):
                axes[1, c].plot(x, meds[name] / ref - 1, color=_COLORS[k])
        axes[1, c].axhline(0, color="0.6", lw=0.8)
        axes[1, c].set(xlabel=xlabel, ylim=(-0.5, 0.5))
        axes[0, c].set_title(model)
        if logx:
            axes[0, c].set_xscale("log")
            plain_log_ticks(axes[0, c], axes[1, c])
        if logy:
            axes[0, c].set_yscale("log")
    axes[0, 0].set_ylabel(ylabel)
    axes[1, 0].set_ylabel("median / real - 1")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_minkowski(curves: dict, title: str):
    """Fig. 7: V0, V1, V2 (rows) per named model (columns), medians and 32-68% bands (interior pixels)."""
    plt = pyplot()
    models = list(curves)
    fig, axes = plt.subplots(3, len(models), figsize=(3.3 * len(models), 7), squeeze=False)
    for c, model in enumerate(models):
        cv = curves[model]
        for v in range(3):
            for k, name in enumerate(cv["names"]):
                values = cv["minkowski"][name][v]
                _band(axes[v, c], cv["nu"], values, _COLORS[k], f"{name} ({len(values)})")
            if c == 0:
                axes[v, c].set_ylabel(f"$V_{v}$")
        axes[0, c].set_title(model)
        axes[2, c].set_xlabel(r"threshold $\kappa$")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_correlations(curves: dict, title: str):
    """Fig. 8: Pearson correlation of C_ell bins, real (test A) upper triangle, GAN lower, with f_R of GAN and null."""
    plt = pyplot()
    models = list(curves)
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 3.6), squeeze=False)
    im = None
    for c, model in enumerate(models):
        cv = curves[model]
        real, gan = cv["names"][0], cv["names"][1]
        r, f = cv["corr"][real], cv["corr"][gan]
        m = np.where(np.triu(np.ones_like(r, bool)), r, f)
        im = axes[0, c].imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        extra = "".join(f"\n$f_R$ {name}: {cv['f_r'][name]:.2f}" for name in cv["names"][2:])
        low, high = cv["corr_range"]
        axes[0, c].set(
            title=f"{model}: $f_R$ GAN = {cv['f_r'][gan]:.2f}{extra}",
            xlabel=rf"$\ell$ bin ({low:.0f}-{high:.0f})",
            ylabel=r"$\ell$ bin",
        )
        axes[0, c].title.set_fontsize(9)
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
        _ellipse(ax, pr, "C0", f"N-body, test A ({len(pr)} maps/model)" if k == 0 else None)
        _ellipse(ax, pf, "C3", f"GAN ({len(pf)} maps/model)" if k == 0 else None)
        ax.plot(*truth[name], "k*", ms=10)
        ax.annotate(name, truth[name], xytext=(5, 5), textcoords="offset points")
    ax.set(xlabel=r"predicted $\Omega_m$", ylabel=r"predicted $\sigma_8$", title=title)
    ax.legend(fontsize=8)
    return fig


def plot_grid_metrics(om, s8, values: dict, train_ids, metrics, title: str):
    """Fig. 10: metrics over the grid (``values``: grid index -> {key: value}); circles training cosmologies, squares
    test ones.

    ``metrics``: ``(key, label)`` pairs; signed metrics (s_SSIM, f_R) get a diverging colour map.
    """
    plt = pyplot()
    fig, axes = plt.subplots(2, (len(metrics) + 1) // 2, figsize=(13, 7.5), squeeze=False)
    ids = np.array(sorted(values))
    train = np.isin(ids, train_ids)
    for ax, (k, label) in zip(axes.ravel(), metrics):
        v = np.array([values[i][k] for i in ids], float)
        vmax = np.nanmax(np.abs(v)) if np.isfinite(v).any() else 1.0
        cmap, vmin = ("RdBu_r", -vmax) if k in ("s_ssim", "f_r") else ("viridis", 0)
        sc = None
        for sel, marker in ((train, "o"), (~train, "s")):
            if sel.any():
                sc = ax.scatter(
                    om[ids[sel]],
                    s8[ids[sel]],
                    c=v[sel],
                    marker=marker,
                    cmap=cmap,
                    vmin=vmin,
                    vmax=vmax,
                    s=70,
                    edgecolors="k",
                )
        fig.colorbar(sc, ax=ax, label=label)
        ax.set(xlabel=r"$\Omega_m$", ylabel=r"$\sigma_8$", title=label, xlim=(0.08, 0.51), ylim=(0.44, 1.36))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_resolution(check: dict, title: str):
    """Mean simulated C_ell of each named model's cosmology against pyccl's (top), and their ratio (bottom).

    ``check``: ``P2Evaluation.theory_check`` of :mod:`gancosmo.evaluation.p2` (``models``: name -> ``ell``, ``sim``,
    ``theory``, ``resolved_max``; ``tolerance``, ``ell_min``, ``scored_max``). The grey band is
    the tolerance; the resolved range runs from ``ell_min`` (twice the fundamental) to
    ``resolved_max`` (dotted, per model), the scored range to ``scored_max`` (dashed).
    """
    plt = pyplot()
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.5, 4.8), sharex=True, gridspec_kw=dict(height_ratios=(3, 1.4)))
    tol = check["tolerance"]
    for k, (name, m) in enumerate(check["models"].items()):
        ell, color = m["ell"], f"C{k}"
        f = ell * (ell + 1) / (2 * np.pi)
        a.loglog(ell, f * m["sim"], color=color, label=f"{name}: simulated maps (mean)")
        a.loglog(ell, f * m["theory"], color=color, ls="--", lw=0.9)
        b.semilogx(ell, m["sim"] / m["theory"] - 1, color=color)
        if m["resolved_max"] is not None:
            b.axvline(m["resolved_max"], color=color, ls=":", lw=1)
    a.plot([], [], "k--", lw=0.9, label="pyccl halofit (Limber), same colour")
    b.axhspan(-tol, tol, color="0.9", label=f"within {tol:.0%}")
    b.axhline(0, color="0.6", lw=0.8)
    for ax in (a, b):
        ax.axvline(check["ell_min"], color="0.5", lw=0.8)
        ax.axvline(check["scored_max"], color="k", ls="--", lw=0.8)
    b.text(check["scored_max"], 0.97, "Nyquist ", transform=b.get_xaxis_transform(), ha="right", va="top", fontsize=7)
    a.set(ylabel=r"$\ell(\ell+1)C_\ell/2\pi$", title=title)
    b.set(xlabel=r"$\ell$", ylabel="sim / theory - 1", ylim=(-1.0, 1.0))
    plain_log_ticks(a, b)
    a.legend(fontsize=7)
    b.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def plot_training(history: list[dict], reg_losses: list[float], reg_dev: list[float], title: str):
    """Critic's Wasserstein estimate and losses per logged step; regressor training loss and dev MSE per epoch."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    steps = [h["step"] for h in history]
    a.plot(steps, [h["loss/d"] for h in history], label="critic loss (incl. penalty)")
    a.plot(steps, [h.get("d/wasserstein", np.nan) for h in history], label="Wasserstein estimate")
    a.set(xlabel="generator step", ylabel="loss", title=title)
    a.legend(fontsize=8)
    ep = np.arange(1, len(reg_losses) + 1)
    b.plot(ep, reg_losses, "o-", label="training loss (standardized)")
    if reg_dev:
        b.plot(np.arange(1, len(reg_dev) + 1), reg_dev, "s--", label="dev MSE")
    b.set(xlabel="epoch", ylabel="MSE", yscale="log", title="regressor (Table A2)")
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig
