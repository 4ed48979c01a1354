"""Figures of chapter 03_3d_gan: P3's Figs. 2-16 re-made, ours labelled with profile and sample counts.

Units: densities ``rho / rho_mean``; k in h/Mpc; P(k) in (Mpc/h)^3; B in (Mpc/h)^6.
"""

from __future__ import annotations

import numpy as np

from ..data.transforms import density_error_at, scale
from .common import plain_log_ticks, pyplot

__all__ = [
    "plot_scaling",
    "plot_resolution",
    "plot_training",
    "plot_slices",
    "plot_points",
    "plot_voxel_pdfs",
    "plot_mean_density",
    "plot_power",
    "plot_cross",
    "plot_covariance",
    "plot_bispectra",
    "plot_redshift",
    "plot_latent_redshift",
    "plot_drs",
    "COLORS",
]

COLORS = {
    "N-body": "k",
    "N-body (test A)": "k",
    "gaussian": "C0",
    "student-t": "C3",
    "DRS": "C4",
    "lognormal null": "C2",
}


def _color(name: str) -> str:
    for key in ("student-t", "gaussian", "lognormal null"):
        if key in name:
            return COLORS[key]
    return COLORS.get(name, "k" if name.startswith("N-body") else "C1")


def _label(name: str) -> str:
    """'GAN, student-t prior' for a model, the name itself otherwise (N-body, the lognormal null)."""
    return f"GAN, {name} prior" if name in ("student-t", "gaussian") else name


def plot_scaling(kappas=(4, 20, 30, 45), title: str = ""):
    """Fig. 2 and Appendix B: c(x) for several kappa, and the density error per unit error of c, dx/dc."""
    plt = pyplot()
    x = np.geomspace(1e-2, 1e4, 400)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for kappa in kappas:
        a.plot(x, scale(x, kappa), label=rf"$\kappa={kappa:g}$")
        b.plot(x, density_error_at(x, 1.0, kappa), label=rf"$\kappa={kappa:g}$")
    a.set(
        xscale="log",
        xlabel=r"density $x$ [$10^{10} M_\odot$ per Mpc$^3$] (P3's units)",
        ylabel=r"scaled density $c = 2x/(x+\kappa) - 1$",
        title="P3 Fig. 2 re-made: the scaling (Eq. 5)",
    )
    b.set(
        xscale="log",
        yscale="log",
        xlabel=r"density $x$ [$10^{10} M_\odot$ per Mpc$^3$] (P3's units)",
        ylabel=r"$\delta x / \delta c = (x+\kappa)^2 / 2\kappa$",
        title="Appendix B: an error in c, propagated to the density",
    )
    for ax in (a, b):
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_resolution(res, title: str):
    """Our N-body P(k) at z = 0 (mean over the suite's volumes) over pyccl's halofit: which k our PM data resolve.

    ``res`` is a :class:`gancosmo.evaluation.p3.Resolution`; dotted: the Nyquist k (the rows' ``scored_max``).
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(
        res.k_suite, res.ratio, "ko-", ms=3, label=f"PM volumes ({res.n_volumes} of {res.suite_side:g} Mpc/h) / halofit"
    )
    ax.axhspan(0.75, 1.25, color="0.85", label=r"$\pm 25\%$")
    ax.axvline(res.resolved_max, color="C3", ls="--", label=f"resolved: k <= {res.resolved_max:.2g} h/Mpc")
    ax.axvline(res.scored_max, color="0.4", ls=":", label=f"scored up to the Nyquist k = {res.scored_max:.2f} h/Mpc")
    ax.set(xscale="log", xlabel=r"$k$ [h/Mpc]", ylabel=r"$P_{PM}(k) / P_{halofit}(k)$", title=title)
    plain_log_ticks(ax)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_training(models: dict, title: str):
    """Fig. 3: losses per logged step for each model, and the per-epoch selection statistic on the dev boxes.

    ``models`` maps names to :class:`gancosmo.evaluation.p3.TrainedModel`.
    """
    plt = pyplot()
    histories = {n: m.history for n, m in models.items()}
    selections = {n: (m.selection, m.best_step) for n, m in models.items()}
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, hist) in enumerate(histories.items()):
        steps = [h["step"] for h in hist]
        axes[0].plot(steps, [h["loss/g"] for h in hist], color=f"C{2 * i}", label=f"{name}: generator")
        axes[0].plot(steps, [h["loss/d"] for h in hist], color=f"C{2 * i + 1}", label=f"{name}: discriminator")
    axes[0].set(xlabel="generator step (batch iteration)", ylabel="loss (cross-entropy)", title=title)
    axes[0].legend(fontsize=7)
    for name, (hist, best) in selections.items():
        if hist:
            s, v = zip(*hist)
            (line,) = axes[1].plot(s, v, "o-", ms=3, label=name)
            if best is not None:
                axes[1].axvline(best, color=line.get_color(), ls="--", lw=0.8)
    axes[1].set(
        xlabel="generator step (one evaluation per epoch)",
        ylabel="voxel-PDF L1 + mean |log P ratio| (dev)",
        title="model selection (lower is better; dashed: chosen)",
    )
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _slab(x, depth: int):
    return np.log10(np.maximum(np.asarray(x)[..., :depth].mean(-1), 1e-3))


def plot_slices(samples: dict, box_size: float, title: str, n: int = 4, depth: int = 4):
    """Fig. 4 (as slices): log10 of the density averaged over a slab ``depth`` cells thick, one row per set."""
    plt = pyplot()
    rows = {_label(k): v for k, v in samples.items()}
    n = min([n] + [len(v) for v in rows.values()])
    lo, hi = np.quantile(_slab(next(iter(rows.values()))[:n], depth), [0.01, 0.995])
    fig, axes = plt.subplots(len(rows), n, figsize=(2.3 * n, 2.3 * len(rows)), squeeze=False)
    ext = (0, box_size, 0, box_size)
    for r, (name, x) in enumerate(rows.items()):
        for i in range(n):
            im = axes[r, i].imshow(_slab(x[i], depth).T, origin="lower", extent=ext, cmap="magma", vmin=lo, vmax=hi)
            axes[r, i].set_xticks([]), axes[r, i].set_yticks([])
        axes[r, 0].set_ylabel(name)
    fig.colorbar(im, ax=axes, shrink=0.8, label=rf"$\log_{{10}}\,\rho/\bar\rho$ (slab of {depth} cells)")
    fig.suptitle(f"{title} ({box_size:g} Mpc/h on a side)")
    return fig


def plot_points(volumes: dict, box_size: float, title: str, quantile: float = 0.97):
    """Fig. 4 (3D): one volume per panel, points at the densest voxels, size (c + 1)^5 as P3, colour = x position."""
    plt = pyplot()
    fig = plt.figure(figsize=(4 * len(volumes), 4))
    for i, (name, c) in enumerate(volumes.items()):
        ax = fig.add_subplot(1, len(volumes), i + 1, projection="3d")
        n = c.shape[-1]
        sel = c > np.quantile(c, quantile)
        ix, iy, iz = np.nonzero(sel)
        cell = box_size / n
        ax.scatter(ix * cell, iy * cell, iz * cell, s=(c[sel] + 1) ** 5, c=ix, cmap="viridis", alpha=0.5, linewidths=0)
        ax.set(xlabel="x [Mpc/h]", ylabel="y [Mpc/h]", zlabel="z [Mpc/h]", title=name)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{title} (voxels above the {100 * quantile:g}th percentile of c)")
    return fig


def plot_voxel_pdfs(res: dict, title: str):
    """Fig. 5: mean voxel PDFs with 1-sigma (per-sample) bars, scaled (top) and unscaled (bottom)."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(2, 1, figsize=(6.5, 7.5))
    for ax, key, centers in ((a, "scaled", res["scaled_centers"]), (b, "density", res["density_centers"])):
        m, s = res["real"][key]
        ax.errorbar(centers, m, s, fmt="s", color="k", ms=3, capsize=2, label=f"N-body, test A ({res['real']['n']})")
        for name, r in res["fake"].items():
            m, s = r[key]
            ax.errorbar(
                centers,
                m,
                s,
                fmt="o",
                mfc="none",
                color=_color(name),
                ms=3,
                capsize=2,
                label=f"{_label(name)} ({r['n']})",
            )
        ax.set(yscale="log", ylabel="probability density")
        ax.legend(fontsize=8)
    a.set(xlabel=r"scaled density $c$", title=title)
    b.set(xscale="log", xlabel=r"$\rho/\bar\rho$")
    fig.tight_layout()
    return fig


def plot_mean_density(res: dict, title: str):
    """Fig. 6: distribution of the mean density of each sub-volume."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    allv = np.concatenate([res["real"]] + list(res["fake"].values()))
    edges = np.linspace(np.quantile(allv, 0.005), np.quantile(allv, 0.995), 30)
    ax.hist(
        res["real"],
        edges,
        density=True,
        histtype="step",
        color="k",
        lw=1.5,
        label=f"N-body, test A ({len(res['real'])})",
    )
    for name, m in res["fake"].items():
        ax.hist(
            m,
            edges,
            density=True,
            histtype="step",
            color=_color(name),
            label=f"{_label(name)} ({len(m)}): median {100 * res['bias'][name]:+.1f}%",
        )
    ax.set(
        xlabel=r"mean density of a sub-volume, $\langle\rho/\bar\rho\rangle$", ylabel="probability density", title=title
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_power(res: dict, title: str, k_res: float | None = None):
    """Fig. 7: median P(k) with 16-84% bands, and the fractional deviation of the mean spectra from test A.

    The grey band of the lower panel is the real-vs-real band per bin (``res['band']``, the same
    splits as the scorecard); every bin up to the Nyquist wavenumber is shown and scored.
    """
    plt = pyplot()
    fig, (a, b) = plt.subplots(2, 1, figsize=(6.5, 7), sharex=True, gridspec_kw=dict(height_ratios=(2, 1)))
    k = res["k"]
    k_res = res.get("k_resolved", k_res)
    for name, p in [("N-body, test A", res["real"])] + list(res["fake"].items()):
        lo, med, hi = np.percentile(p, [16, 50, 84], axis=0)
        a.fill_between(k, lo, hi, color=_color(name), alpha=0.2)
        a.plot(k, med, color=_color(name), label=f"{_label(name)} ({len(p)})")
    if res.get("band") is not None:
        b.fill_between(k, res["band"][0], res["band"][1], color="0.75", label="real vs real (95% band)")
    for name, f in res["frac"].items():
        b.plot(k, f, "o-", ms=3, color=_color(name), label=_label(name))
    b.axhline(-0.05, color="0.3", lw=0.6, ls="--", label=r"$\pm5\%$ (P3, $k\leq3$)")
    b.axhline(0.05, color="0.3", lw=0.6, ls="--")
    b.axhline(0, color="k", lw=0.6)
    if k_res is not None:
        for ax in (a, b):
            ax.axvline(k_res, color="0.4", ls=":", lw=1)
    a.set(xscale="log", yscale="log", ylabel=r"$P(k)$ [(Mpc/h)$^3$]", title=title)
    b.set(xlabel=r"$k$ [h/Mpc] (dotted: resolved range ends)", ylabel=r"$\bar P/\bar P_{N-body,A} - 1$")
    plain_log_ticks(b)
    a.legend(fontsize=8), b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_cross(res: dict, title: str):
    """Fig. 8: k^3 P_x(k) of pairs of distinct volumes, medians and 16-84% bands."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    k = res["k"]
    for name, p in res["spectra"].items():
        lo, med, hi = np.percentile(k**3 * p, [16, 50, 84], axis=0)
        color = "k" if name.startswith("N-body x N-body") else _color(name)
        ls = "--" if name.startswith("N-body x ") and not name.startswith("N-body x N-body") else "-"
        ax.fill_between(k, lo, hi, color=color, alpha=0.12)
        ax.plot(k, med, color=color, ls=ls, label=f"{name} ({len(p)} pairs)")
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set(
        xscale="log",
        xlabel=r"$k$ [h/Mpc]",
        ylabel=r"$k^3 P_\times(k)$ [dimensionless $\times$ (h/Mpc)$^0$]",
        title=title,
    )
    plain_log_ticks(ax)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_covariance(res: dict, k, title: str, n: dict):
    """Figs. 9-10: for each model, covariance (top) and correlation (bottom) of P(k): N-body, GAN, difference."""
    plt = pyplot()
    models = list(res)
    fig, axes = plt.subplots(2 * len(models), 3, figsize=(12, 7.2 * len(models)), squeeze=False)
    ext = (0, len(k), 0, len(k))
    ticks = np.arange(0, len(k), max(1, len(k) // 4))
    for m, name in enumerate(models):
        c = res[name]
        vmax = np.nanmax(np.abs(c["cov_real"]))
        panels = [
            (c["cov_real"], "N-body covariance", "viridis", None),
            (c["cov_fake"], f"GAN ({name}) covariance", "viridis", None),
            (c["cov_frac"], r"$C_{GAN}/C_{N-body} - 1$", "RdBu_r", (-1, 1)),
            (c["corr_real"], "N-body correlation", "viridis", (-1, 1)),
            (c["corr_fake"], f"GAN ({name}) correlation", "viridis", (-1, 1)),
            (c["corr_diff"], r"$R_{GAN} - R_{N-body}$", "RdBu_r", (-0.5, 0.5)),
        ]
        for j, (mat, label, cmap, lim) in enumerate(panels):
            ax = axes[2 * m + j // 3, j % 3]
            if lim is None:
                im = ax.imshow(
                    np.log10(np.abs(mat)),
                    origin="lower",
                    cmap=cmap,
                    extent=ext,
                    vmin=np.log10(vmax) - 4,
                    vmax=np.log10(vmax),
                )
                label = r"$\log_{10}|C|$, " + label
            else:
                im = ax.imshow(mat, origin="lower", cmap=cmap, extent=ext, vmin=lim[0], vmax=lim[1])
            ax.set_xticks(ticks + 0.5, [f"{k[t]:.2g}" for t in ticks], fontsize=7)
            ax.set_yticks(ticks + 0.5, [f"{k[t]:.2g}" for t in ticks], fontsize=7)
            ax.set(title=label, xlabel=r"$k$ [h/Mpc]", ylabel=r"$k$ [h/Mpc]")
            fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(f"{title}: N-body {n['real']}, GAN {n['fake']} volumes each")
    fig.tight_layout()
    return fig


def plot_bispectra(res: dict, title: str):
    """Fig. 11: B(theta) medians with 16-84% bands for each triangle configuration."""
    plt = pyplot()
    nc = len(res["configs"])
    fig, axes = plt.subplots(1, nc, figsize=(4.2 * nc, 3.8), squeeze=False)
    th = res["thetas"]
    for c, (k1, k2) in enumerate(res["configs"]):
        ax = axes[0, c]
        for name, b in [("N-body, test A", res["real"][c])] + [(n, v[c]) for n, v in res["fake"].items()]:
            lo, med, hi = np.percentile(b, [16, 50, 84], axis=0)
            ax.fill_between(th, lo, hi, color=_color(name), alpha=0.2)
            ax.plot(th, med, color=_color(name), label=f"{_label(name)} ({len(b)})")
        ax.set(
            xlabel=r"angle $\theta$ between $k_1$ and $k_2$ [rad]",
            ylabel=r"$B(k_1,k_2,\theta)$ [(Mpc/h)$^6$]",
            title=f"$k_1$ = {k1:.2f}, $k_2$ = {k2:.2f} h/Mpc",
        )
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_redshift(res: dict, training_z, title: str, n: dict):
    """Fig. 12: N-body median P(k) at each z (grey) against the z = 3 cGAN grown linearly (left), the cGAN (right)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    cmap = plt.get_cmap("plasma")
    zs = res["redshifts"]
    zmax = max(zs)
    for ax, key, label in ((axes[0], "linear", "cGAN z = 3, linear growth"), (axes[1], "fake", "cGAN")):
        for z in zs:
            ls = "-" if z in training_z else "--"
            ax.plot(res["k"], res["real"][z], color="0.6", lw=1)
            ax.plot(
                res["k"],
                res[key][z],
                color=cmap(0.9 * z / zmax),
                ls=ls,
                label=f"z = {z:g}{'' if z in training_z else ' (interpolated)'}",
            )
        ax.set(xscale="log", yscale="log", xlabel=r"$k$ [h/Mpc]", title=f"{label} vs N-body (grey)")
        plain_log_ticks(ax)
    axes[0].set_ylabel(r"median $P(k)$ [(Mpc/h)$^3$]")
    axes[1].legend(fontsize=7)
    fig.suptitle(f"{title}: {n['real']} N-body and {n['fake']} cGAN volumes per redshift")
    fig.tight_layout()
    return fig


def plot_latent_redshift(volumes: np.ndarray, redshifts, box_size: float, title: str, depth: int = 4):
    """Fig. 13 (as slices): one latent vector, the cGAN's redshift label varied."""
    plt = pyplot()
    n = len(redshifts)
    fig, axes = plt.subplots(1, n, figsize=(2.1 * n, 2.6), squeeze=False)
    sl = [_slab(v, depth) for v in volumes]
    lo, hi = np.quantile(sl[-1], [0.01, 0.995])
    for i, (z, s) in enumerate(zip(redshifts, sl)):
        im = axes[0, i].imshow(s.T, origin="lower", cmap="magma", vmin=lo, vmax=hi, extent=(0, box_size, 0, box_size))
        axes[0, i].set_xticks([]), axes[0, i].set_yticks([])
        axes[0, i].set_title(f"z = {z:.2f}", fontsize=9)
    fig.colorbar(im, ax=axes, shrink=0.8, label=rf"$\log_{{10}}\rho/\bar\rho$ ({depth}-cell slab)")
    fig.suptitle(f"{title} ({box_size:g} Mpc/h on a side)")
    return fig


def plot_drs(res: dict, pk_real, title: str):
    """Figs. 14-15: P(k) of N-body (dev boxes), all GAN samples and DRS-accepted ones; latent norms of both."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    k = res["k"]
    for name, p, color in (
        ("N-body, dev", pk_real, "k"),
        ("GAN, all", res["pk_all"], "C0"),
        ("GAN, DRS-accepted", res["pk_accepted"], "C4"),
    ):
        if len(p) == 0:
            continue
        lo, med, hi = np.percentile(p, [16, 50, 84], axis=0)
        a.fill_between(k, lo, hi, color=color, alpha=0.2)
        a.plot(k, med, color=color, label=f"{name} ({len(p)})")
    a.set(
        xscale="log",
        yscale="log",
        xlabel=r"$k$ [h/Mpc]",
        ylabel=r"$P(k)$ [(Mpc/h)$^3$]",
        title=f"{title}: acceptance {100 * res['rate']:.1f}%",
    )
    plain_log_ticks(a)
    a.legend(fontsize=8)
    edges = np.linspace(res["latent_norm"].min(), res["latent_norm"].max(), 30)
    b.hist(
        res["latent_norm"], edges, density=True, histtype="step", color="C0", label=f"prior ({len(res['latent_norm'])})"
    )
    b.axvline(np.median(res["latent_norm"]), color="C0", ls="--")
    if len(res["latent_norm_accepted"]):
        b.hist(
            res["latent_norm_accepted"],
            edges,
            density=True,
            histtype="step",
            color="C4",
            label=f"DRS-accepted ({len(res['latent_norm_accepted'])})",
        )
        b.axvline(np.median(res["latent_norm_accepted"]), color="C4", ls="--")
    b.set(xlabel=r"latent norm $\|z\|_2$", ylabel="probability density", title="P3 Fig. 15 re-made (dashed: medians)")
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig
