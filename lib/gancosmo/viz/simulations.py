"""Figures of the simulator's validation and of the data suites (chapter 00_simulations)."""

from __future__ import annotations

import numpy as np

from .common import plain_log_ticks, pyplot

__all__ = [
    "plot_pk_validation",
    "plot_growth_check",
    "plot_cl_validation",
    "image_gallery",
    "lensing_maps_gallery",
    "p1_gallery",
    "p1_range_text",
    "p2_gallery",
    "p3_gallery",
    "p4_gallery",
    "p5_galleries",
]


def plot_pk_validation(results: dict, title: str):
    """P(k, z) measured (mean and scatter over runs) against pyccl linear and halofit, with ratios.

    Parameters
    ----------
    results : dict
        Output of :func:`gancosmo.sims.validation.pk_against_theory`.
    title : str
        Figure title (say the run size and the number of runs).
    """
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True, gridspec_kw=dict(height_ratios=(2, 1)))
    colors = plt.cm.viridis(np.linspace(0, 0.85, len(results)))
    for color, (z, r) in zip(colors, sorted(results.items())):
        top.errorbar(r["k"], r["mean"], yerr=r["std"], fmt="o", ms=3, color=color, label=f"PM z = {z:g}")
        top.plot(r["k"], r["halofit"], "-", color=color, lw=1)
        top.plot(r["k"], r["linear"], ":", color=color, lw=1)
        bottom.plot(r["k"], r["mean"] / r["halofit"], "o-", ms=3, color=color)
    top.plot([], [], "k-", lw=1, label="pyccl halofit")
    top.plot([], [], "k:", lw=1, label="pyccl linear")
    top.set(xscale="log", yscale="log", ylabel=r"$P(k)$ [(Mpc/$h$)$^3$]", title=title)
    top.legend(fontsize=8)
    bottom.axhspan(0.85, 1.15, color="0.9", label="±15%")
    bottom.axhline(1, color="k", lw=0.8)
    bottom.set(xscale="log", xlabel=r"$k$ [$h$/Mpc]", ylabel=r"$P_{\rm PM} / P_{\rm halofit}$", ylim=(0.4, 1.6))
    plain_log_ticks(bottom)
    bottom.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_growth_check(check: dict, z_ref: float, title: str):
    """Measured large-scale power ratios P(z)/P(z_ref) per run against (D(z)/D(z_ref))^2."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    z = check["redshifts"]
    for i in range(check["measured"].shape[1]):
        left.plot(z, check["measured"][:, i], "o", ms=5, label=f"PM, seed {i}")
        right.plot(z, check["measured"][:, i] / check["theory"] - 1, "o", ms=5)
    left.plot(z, check["theory"], "k-", label=r"pyccl $(D(z)/D(z_{\rm ref}))^2$")
    left.set(
        xlabel="z",
        ylabel=rf"$P(k<{check['k_max']:g}, z) / P(k<{check['k_max']:g}, z={z_ref:g})$",
        yscale="log",
        title=title,
    )
    left.legend(fontsize=8)
    right.axhspan(-0.03, 0.03, color="0.9", label="±3% (test)")
    right.axhline(0, color="k", lw=0.8)
    right.set(xlabel="z", ylabel="fractional difference")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_cl_validation(curves: list[dict], title: str, ell_max: float | None = None):
    """Mean convergence C_ell of simulated maps (with the error of the mean) against pyccl's Limber C_ell.

    Parameters
    ----------
    curves : list of dict
        Each with ``ell``, ``cl`` (``(n_maps, n_bins)``), ``theory`` and ``label``.
    ell_max : float, optional
        Resolution limit to mark on the figure.
    """
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True, gridspec_kw=dict(height_ratios=(2, 1)))
    for curve in curves:
        ell, cl = curve["ell"], curve["cl"]
        norm = ell * (ell + 1) / (2 * np.pi)
        err = cl.std(0) / np.sqrt(len(cl))
        line = top.errorbar(
            ell, norm * cl.mean(0), yerr=norm * err, fmt="o", ms=3, label=f"{curve['label']} ({len(cl)} maps)"
        )
        top.plot(ell, norm * curve["theory"], "-", color=line[0].get_color(), lw=1)
        bottom.plot(ell, cl.mean(0) / curve["theory"], "o-", ms=3, color=line[0].get_color())
    top.plot([], [], "k-", lw=1, label="pyccl Limber (halofit)")
    top.set(xscale="log", yscale="log", ylabel=r"$\ell(\ell+1)C_\ell/2\pi$", title=title)
    top.legend(fontsize=8)
    bottom.axhspan(0.75, 1.25, color="0.9", label="±25% (test)")
    bottom.axhline(1, color="k", lw=0.8)
    if ell_max:
        for ax in (top, bottom):
            ax.axvline(
                ell_max,
                color="r",
                ls="--",
                lw=0.8,
                label=rf"stated $\ell_{{\max}}$ = {ell_max:g}" if ax is bottom else None,
            )
    bottom.set(xscale="log", xlabel=r"multipole $\ell$", ylabel="simulated / theory", ylim=(0, 1.6))
    plain_log_ticks(bottom)
    bottom.legend(fontsize=8)
    fig.tight_layout()
    return fig


def image_gallery(
    images, titles, extent: float, unit: str, label: str, suptitle: str, cmap: str = "inferno", vmin=None, vmax=None
):
    """A row of images with a shared colour scale and physical axes.

    Parameters
    ----------
    images : sequence of 2D arrays
    titles : sequence of str
    extent : float
        Side of each image in ``unit``.
    unit : str
        Axis unit, e.g. ``"deg"`` or ``"Mpc/h"``.
    label : str
        Colour-bar label (the quantity shown).
    """
    plt = pyplot()
    images = [np.asarray(im) for im in images]
    vmin = np.percentile(np.concatenate([im.ravel() for im in images]), 1) if vmin is None else vmin
    vmax = np.percentile(np.concatenate([im.ravel() for im in images]), 99.5) if vmax is None else vmax
    fig, axes = plt.subplots(1, len(images), figsize=(3.1 * len(images), 3.3), squeeze=False)
    for ax, im, title in zip(axes[0], images, titles):
        shown = ax.imshow(im, origin="lower", extent=(0, extent, 0, extent), cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(unit)
    axes[0][0].set_ylabel(unit)
    fig.colorbar(shown, ax=list(axes[0]), label=label, shrink=0.85)
    fig.suptitle(suptitle, fontsize=10)
    return fig


def lensing_maps_gallery(curves: list[dict], lens: dict):
    """One convergence map of each set of :func:`gancosmo.sims.validation.lensing_validation`.

    ``lens`` is ``SimulationsConfig.lensing`` (field side in deg, pixels, particles per side).
    """
    return image_gallery(
        [cv["maps"][0] for cv in curves],
        [cv["label"] for cv in curves],
        lens["field_deg"],
        "deg",
        r"convergence $\kappa$",
        f"One map of each set ({lens['n_pix']}$^2$ px, Born, PM {lens['n_particles']}$^3$)",
        cmap="magma",
    )


def p1_gallery(p1):
    """Four convergence maps of the P1 suite (field side in deg, 0.866 when the config lacks it)."""
    maps = p1["maps"]
    return image_gallery(
        maps[:4],
        [f"map {i}" for i in range(4)],
        p1.config.get("field_deg", 0.866),
        "deg",
        r"$\kappa$",
        f"P1 suite: {len(maps)} maps, $z_s=1$, $\\sigma_8=0.798$, $\\Omega_m=0.26$ "
        f"(PM {p1.config.get('n_particles')}$^3$ in {p1.config.get('box_size')} Mpc/$h$)",
        cmap="magma",
    )


def p1_range_text(p1) -> str:
    """Fraction of P1 pixels with |kappa| <= 1, and the smallest and largest kappa."""
    maps = p1["maps"]
    return (
        f"P1 maps: fraction of pixels in [-1, 1]: {np.mean(np.abs(maps) <= 1):.4f}; "
        f"min {maps.min():.3f}, max {maps.max():.3f}"
    )


def p2_gallery(p2):
    """The first map of each cosmology of the P2 suite (5 deg fields)."""
    first = [np.flatnonzero(p2["cosmology_index"] == i)[0] for i in np.unique(p2["cosmology_index"])]
    return image_gallery(
        p2["maps"][first],
        [rf"$\Omega_m$={p2['params'][i][0]:.3f}, $\sigma_8$={p2['params'][i][1]:.3f}" for i in first],
        5.0,
        "deg",
        r"$\kappa$",
        f"P2 suite: {len(p2['maps'])} maps over {len(first)} cosmologies, KiDS-450-like n(z)",
        cmap="magma",
    )


def p3_gallery(p3, redshifts=(3.0, 1.5, 0.5, 0.0)):
    """log10(1 + delta) of a 4 Mpc/h slab of the first P3 sub-volume at ``redshifts`` (side in Mpc/h)."""
    cube_side = p3.config.get("sub_size", p3["density_z0"].shape[-1])
    return image_gallery(
        [np.log10(p3[f"density_z{z:g}"][0, :, :, :4].mean(-1) + 1e-2) for z in redshifts],
        [f"z = {z:g}" for z in redshifts],
        float(cube_side),
        "Mpc/h",
        r"$\log_{10}(1+\delta)$, 4 Mpc/$h$ slab",
        f"P3 suite: one of {len(p3['density_z0'])} {cube_side}$^3$ sub-volumes at four of its seven redshifts",
        cmap="viridis",
    )


def p4_gallery(p4):
    """log10(1 + N) of the middle slice of up to four P4 particle-count cubes (side in Mpc/h)."""
    counts = p4["counts"]
    shown = range(min(4, len(counts)))
    return image_gallery(
        [np.log10(1 + counts[i, :, :, counts.shape[-1] // 2]) for i in shown],
        [f"cube {i}" for i in shown],
        float(p4.config.get("box_size", 0)),
        "Mpc/h",
        r"$\log_{10}(1+N)$ per voxel",
        f"P4 suite: {len(counts)} cubes of {counts.shape[-1]}$^3$ voxels "
        f"(mean {counts.mean():.1f} particles per voxel), one slice each",
    )


def p5_galleries(p5, p5_2d):
    """Four transformed-density images of P5's 3D set (crop side in Mpc/h) and four of its 2D set."""
    crop_side = p5.config["box_size"] * p5.config["crop"] / (p5.config["histogram"] // 3)
    fig_3d = image_gallery(
        p5["images"][:4],
        [f"crop {i}" for i in range(4)],
        crop_side,
        "Mpc/h",
        "transformed density (P5 Eq. 2)",
        f"P5 3D set: {len(p5['images'])} smoothed slab crops of {p5['images'].shape[-1]}$^2$ px",
        cmap="cividis",
        vmin=-1,
        vmax=1,
    )
    fig_2d = image_gallery(
        p5_2d["images"][:4],
        [f"run {i}" for i in range(4)],
        p5_2d.config["box_size"],
        "Mpc/h",
        "transformed density (P5 Eq. 1)",
        f"P5 2D set: {len(p5_2d['images'])} native 2D PM runs of {p5_2d['images'].shape[-1]}$^2$ particles",
        cmap="cividis",
        vmin=-1,
        vmax=1,
    )
    return fig_3d, fig_2d
