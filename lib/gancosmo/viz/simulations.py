"""Figures of the simulator's validation and of the data suites (chapter 00_simulations)."""

from __future__ import annotations

import numpy as np

from .common import plain_log_ticks, pyplot

__all__ = ["plot_pk_validation", "plot_growth_check", "plot_cl_validation", "image_gallery"]


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
