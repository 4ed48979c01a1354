"""Figures of chapter 00_statistics: the statistics of ``gancosmo.stats`` on Gaussian and lognormal fields.

Units: map sides in degrees, multipoles ell dimensionless, C_ell in sr; box sides in Mpc/h, k in h/Mpc,
P(k) in (Mpc/h)^3; map values kappa and cube values delta = rho / rho_mean - 1 dimensionless.
"""

from __future__ import annotations

import numpy as np

from .. import stats as S
from .common import pyplot

__all__ = [
    "plot_fields",
    "plot_power_2d",
    "plot_bispectrum_2d",
    "plot_peak_counts",
    "plot_minkowski",
    "plot_histograms",
    "plot_power_3d",
    "plot_bispectrum_3d",
    "plot_cube_one_point",
    "plot_correlations",
    "plot_similarity",
]


def _log_plus_e(p):
    """P4's transform of peak heights, log(p + e)."""
    return np.log(p + np.e)


def plot_fields(gmap, lmap, cube, n_pix: int, side_deg: float, n_mesh: int, box: float):
    """One Gaussian map, one lognormal map and one lognormal cube projected along its first axis.

    Parameters
    ----------
    gmap, lmap : numpy.ndarray
        ``(n_pix, n_pix)`` maps of kappa (dimensionless).
    cube : numpy.ndarray
        ``(n_mesh, n_mesh, n_mesh)`` overdensity delta (dimensionless).
    n_pix, side_deg : int, float
        Map side in pixels and in degrees (for the title).
    n_mesh, box : int, float
        Cube side in voxels and in Mpc/h (for the title).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.6))
    for a, img, title in (
        (ax[0], gmap, "Gaussian"),
        (ax[1], lmap, "lognormal"),
        (ax[2], cube.mean(0), "lognormal cube, projected"),
    ):
        im = a.imshow(img, cmap="magma", origin="lower")
        a.set_title(title)
        a.set_xlabel("x [pixel]")
        a.set_ylabel("y [pixel]")
        fig.colorbar(im, ax=a, label=r"$\kappa$" if "cube" not in title else r"$\langle\delta\rangle_z$")
    fig.suptitle(f"maps: {n_pix}$^2$ pixels, {side_deg:g} deg; cube: {n_mesh}$^3$ voxels, {box:g} Mpc/h")
    plt.tight_layout()
    return fig


def plot_power_2d(maps: dict, side_deg: float, ell_edges, cl_in, n_maps: int):
    """Median and MAD of ell(ell+1)C_ell/2pi (sr) of each sample, against the input spectrum.

    Parameters
    ----------
    maps : dict
        Name -> ``(B, n_pix, n_pix)`` maps (numpy or torch).
    side_deg : float
        Map side in degrees.
    ell_edges : numpy.ndarray
        Multipole bin edges (dimensionless).
    cl_in : callable
        Input spectrum, ell -> C_ell in sr.
    n_maps : int
        Maps per sample (for the labels).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    cls = {name: S.power_spectrum_2d(m, side_deg, ell_edges) for name, m in maps.items()}
    ell = next(iter(cls.values()))[0]
    good = next(iter(cls.values()))[1].mean(0) > 0  # bins narrower than the Fourier grid spacing are empty
    fac = ell * (ell + 1) / (2 * np.pi)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, (_, cl) in cls.items():
        med, mad = S.median_mad(cl[:, good] * fac[good])
        ax.plot(ell[good], med, label=f"{name} (median of {n_maps} maps)")
        ax.fill_between(ell[good], med - mad, med + mad, alpha=0.3)
    ax.plot(ell[good], fac[good] * cl_in(ell[good]), "k--", label="input spectrum")
    ax.set(xscale="log", yscale="log", xlabel=r"multipole $\ell$", ylabel=r"$\ell(\ell+1)C_\ell/2\pi$ [sr]")
    ax.set_title(f"angular power spectrum, median $\\pm$ MAD, {n_maps} maps each")
    ax.legend()
    return fig


def plot_bispectrum_2d(maps: dict, side_deg: float, edges, n_maps: int):
    """Folded (r = 0.5) and equilateral bispectra, ell_1^3 B(ell_1) in sr^2, mean and standard error.

    Parameters
    ----------
    maps : dict
        Name -> ``(B, n_pix, n_pix)`` maps (numpy or torch).
    side_deg : float
        Map side in degrees.
    edges : numpy.ndarray
        Bin edges of ell_1 (dimensionless).
    n_maps : int
        Maps per sample (standard error and labels).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    for a, conf in zip(ax, ("folded", "equilateral")):
        for name, m in maps.items():
            lb, b = S.bispectrum_2d(m, side_deg, edges, configuration=conf, ratio=0.5)
            a.errorbar(
                lb, b.mean(0) * lb**3, yerr=b.std(0) * lb**3 / np.sqrt(n_maps), fmt=".-", label=f"{name}, {n_maps} maps"
            )
        a.axhline(0, color="k", lw=0.5)
        a.set(
            xlabel=r"$\ell_1$",
            ylabel=r"$\ell_1^3 B(\ell_1)$ [sr$^2$]",
            title=f"{conf} bispectrum" + (" (r = 0.5)" if conf == "folded" else ""),
        )
        a.legend()
    return fig


def plot_peak_counts(maps: dict, thresholds, sigma: float, n_maps: int):
    """Mean peak counts per map and bin against kappa / sigma_kappa, with 8 and 24 neighbours.

    Parameters
    ----------
    maps : dict
        Name -> ``(B, n_pix, n_pix)`` maps (numpy or torch).
    thresholds : numpy.ndarray
        Bin edges of the peak height kappa (dimensionless).
    sigma : float
        sigma_kappa, the unit of the x axis (dimensionless).
    n_maps : int
        Maps per sample (for the title).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, m in maps.items():
        for r, ls in ((1, "-"), (2, "--")):
            c, n = S.peak_counts_2d(m, thresholds, neighbourhood=r, differential=False)
            ax.plot(c / sigma, n.mean(0), ls, label=f"{name}, {8 if r == 1 else 24} neighbours")
    ax.set(
        yscale="log",
        xlabel=r"peak height $\kappa/\sigma_\kappa$",
        ylabel="peaks per map and bin",
        title=f"peak counts, mean of {n_maps} maps",
    )
    ax.legend()
    return fig


def plot_minkowski(gaussian, lognormal, gaussian_maps, n_maps: int):
    """V0, V1 (pixel^-1 per unit kappa) and V2 (pixel^-2) of both samples, with the Gaussian-field theory.

    Parameters
    ----------
    gaussian, lognormal : numpy.ndarray or torch.Tensor
        ``(B, n_pix, n_pix)`` Gaussian and lognormal maps.
    gaussian_maps : numpy.ndarray
        The Gaussian maps as numpy, for sigma_0 and sigma_1 of the theory.
    n_maps : int
        Maps per sample (for the labels).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..stats.chapter import gaussian_minkowski, minkowski_theory

    plt = pyplot()
    s0, thresholds, s1 = gaussian_minkowski(gaussian_maps)
    nu, v0, v1, v2 = S.minkowski_2d(gaussian, thresholds)
    _, w0, w1, w2 = S.minkowski_2d(lognormal, thresholds)
    t = nu / s0
    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    for i, (a, vg, vl, an) in enumerate(zip(ax, (v0, v1, v2), (w0, w1, w2), minkowski_theory(t, s0, s1))):
        a.plot(t, vg.mean(0), label=f"Gaussian, {n_maps} maps")
        a.plot(t, vl.mean(0), label=f"lognormal, {n_maps} maps")
        a.plot(t, an, "k--", label="Gaussian theory")
        a.set(
            xlabel=r"threshold $\nu/\sigma_0$",
            ylabel=[r"$V_0$ (area fraction)", r"$V_1$ [pixel$^{-1}$ per unit $\kappa$]", r"$V_2$ [pixel$^{-2}$]"][i],
        )
    ax[0].legend()
    fig.suptitle("Minkowski functionals")
    plt.tight_layout()
    return fig


def plot_histograms(maps: dict, edges, n_maps: int):
    """Pixel histograms (probability density of kappa) and peak histograms (24 neighbours, median and MAD).

    Parameters
    ----------
    maps : dict
        Name -> ``(B, n_pix, n_pix)`` maps (numpy or torch).
    edges : numpy.ndarray
        Bin edges of kappa (dimensionless); values outside go to the edge bins.
    n_maps : int
        Maps per sample (for the labels).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    for name, m in maps.items():
        c, h = S.pixel_histogram(m, edges, unbounded=True, density=True)
        ax[0].plot(c, h.mean(0), label=f"{name}, {n_maps} maps")
        c, h = S.peak_histogram(m, edges, neighbourhood=2, threshold=None, unbounded=True)
        med, mad = S.median_mad(h)
        ax[1].plot(c, med, label=f"{name}, median of {n_maps} maps")
        ax[1].fill_between(c, med - mad, med + mad, alpha=0.3)
    ax[0].set(
        yscale="log",
        xlabel=r"pixel value $\kappa$",
        ylabel="probability density",
        title="pixel histogram (unbounded edges)",
    )
    ax[1].set(
        xlabel=r"peak height $\kappa$",
        ylabel="peaks per map and bin",
        title="peak histogram (24 neighbours), median $\\pm$ MAD",
    )
    for a in ax:
        a.legend()
    return fig


def plot_power_3d(cubes, other, box: float, n_mesh: int, pk_in, n_cubes: int):
    """P(k) in (Mpc/h)^3 against k in h/Mpc: Pylians bins, 16 log bins, the cross spectrum and the input.

    Parameters
    ----------
    cubes, other : numpy.ndarray or torch.Tensor
        ``(B, n_mesh, n_mesh, n_mesh)`` overdensities of two independent samples.
    box : float
        Box side in Mpc/h.
    n_mesh : int
        Cube side in voxels.
    pk_in : callable
        Requested spectrum, k (h/Mpc) -> P(k) in (Mpc/h)^3.
    n_cubes : int
        Cubes per sample (for the labels).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    k, pk, nmodes = S.power_spectrum_3d(cubes, box, return_nmodes=True)
    kl, pkl = S.power_spectrum_3d(cubes, box, k_edges=np.geomspace(2 * np.pi / box, np.pi * n_mesh / box, 17))
    kx, px = S.power_spectrum_3d(cubes, box, other=other)  # cross spectrum of two independent samples
    fig, ax = plt.subplots(figsize=(6.5, 4))
    med, mad = S.median_mad(pk)
    ax.plot(k, med, label=f"Pylians bins, median of {n_cubes} cubes")
    ax.fill_between(k, med - mad, med + mad, alpha=0.3)
    ax.plot(kl, pkl.mean(0), "o", label=f"16 log bins (P3), mean of {n_cubes}")
    ax.plot(k, np.abs(px.mean(0)), ":", label="|cross spectrum| of independent cubes")
    ax.plot(k, pk_in(k), "k--", label="requested $P(k)$ of the lognormal field")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"$k$ [h/Mpc]",
        ylabel=r"$P(k)$ [(Mpc/h)$^3$]",
        title=f"lognormal cubes, {n_mesh}$^3$, L = {box:g} Mpc/h",
    )
    ax.legend(fontsize=8)
    return fig


def plot_bispectrum_3d(cubes, box: float, n_mesh: int, thetas, n_cubes: int):
    """Reduced bispectrum Q(theta) (dimensionless) for (k1, k2) = (0.2, 0.3) and (0.5, 1.0) h/Mpc.

    Parameters
    ----------
    cubes : numpy.ndarray or torch.Tensor
        ``(B, n_mesh, n_mesh, n_mesh)`` overdensities.
    box : float
        Box side in Mpc/h.
    n_mesh : int
        Cube side in voxels (legs above the Nyquist wavenumber are skipped).
    thetas : numpy.ndarray
        Angles between k1 and k2, radians.
    n_cubes : int
        Cubes per sample (standard error and title).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k1, k2 in ((0.2, 0.3), (0.5, 1.0)):
        if max(k1, k2) < np.pi * n_mesh / box:
            b, q = S.bispectrum_3d(cubes, box, k1, k2, thetas)
            ax.errorbar(
                thetas, q.mean(0), yerr=q.std(0) / np.sqrt(n_cubes), fmt="o-", label=f"$k_1$={k1}, $k_2$={k2} h/Mpc"
            )
    ax.set(
        xlabel=r"$\theta$ [rad]", ylabel=r"reduced bispectrum $Q(\theta)$", title=f"lognormal cubes, mean of {n_cubes}"
    )
    ax.legend()
    return fig


def plot_cube_one_point(rho, n_cubes: int):
    """3D peak histograms of log(rho/rho_mean + e), the voxel histogram of rho/rho_mean and the mean densities.

    Parameters
    ----------
    rho : numpy.ndarray or torch.Tensor
        ``(B, n_mesh, n_mesh, n_mesh)`` density in units of the mean (dimensionless).
    n_cubes : int
        Cubes per sample (titles and the number of mean-density bins).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    for r, ls in ((1, "-"), (2, "--")):
        c, h = S.peak_histogram(
            rho, S.linear_edges(1.0, 4.0, 30), neighbourhood=r, threshold=0.0, transform=_log_plus_e
        )
        ax[0].plot(c, h.mean(0), ls, label=f"{26 if r == 1 else 124} neighbours")
    ax[0].set(
        yscale="log",
        xlabel=r"$\log(\rho/\bar\rho + e)$ at peaks",
        ylabel="peaks per cube and bin",
        title=f"3D peaks, mean of {n_cubes} cubes",
    )
    ax[0].legend()
    c, h = S.pixel_histogram(rho, S.log_edges(1e-3, 1e2, 49), log_centers=True, density=True)
    ax[1].plot(c, h.mean(0))
    ax[1].set(
        xscale="log",
        yscale="log",
        xlabel=r"$\rho/\bar\rho$",
        ylabel="probability density",
        title="voxel histogram, 49 log bins",
    )
    md = S.mean_density(rho)
    ax[2].hist(md, bins=max(3, n_cubes // 2))
    ax[2].set(
        xlabel=r"mean density $\langle\rho/\bar\rho\rangle$ of a cube",
        ylabel="cubes",
        title=f"mean-density distribution, {n_cubes} cubes",
    )
    plt.tight_layout()
    return fig


def plot_correlations(spectra: dict, edges, n_maps: int):
    """Pearson correlation matrices R_{ell ell'} of C_ell, one panel per sample.

    Parameters
    ----------
    spectra : dict
        Panel title -> ``(B, n_bins)`` C_ell in sr.
    edges : numpy.ndarray
        Multipole bin edges (dimensionless), the extent of both axes.
    n_maps : int
        Maps per sample (for the titles).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    fig, ax = plt.subplots(1, len(spectra), figsize=(14, 3.8))
    for a, (title, stat) in zip(ax, spectra.items()):
        im = a.imshow(
            S.correlation(stat),
            vmin=-1,
            vmax=1,
            cmap="RdBu_r",
            origin="lower",
            extent=[edges[0], edges[-1], edges[0], edges[-1]],
        )
        a.set(xlabel=r"$\ell$", ylabel=r"$\ell'$", title=f"$R_{{\\ell\\ell'}}$ of $C_\\ell$, {title}, {n_maps} maps")
    fig.colorbar(im, ax=ax, label="Pearson correlation")
    return fig


def plot_similarity(sim: dict, n_maps: int):
    """MS-SSIM of random pairs per sample, and P5's Sørensen-Dice overlap of top-n% pixels.

    Parameters
    ----------
    sim : dict
        The output of :func:`gancosmo.stats.chapter.similarity_checks`.
    n_maps : int
        Maps per sample (for the labels).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    npairs, percents, r_mean, r_std = sim["npairs"], sim["percents"], sim["r_mean"], sim["r_std"]
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    bins = np.linspace(0, 1, 41)
    for name, s in sim["ssim"].items():
        ax[0].hist(s, bins=bins, histtype="step", label=f"{name}: s_SSIM = {S.s_ssim(s, sim['ssim']['real']):+.2f}")
    ax[0].set(xlabel="MS-SSIM of a random pair", ylabel="pairs", title=f"MS-SSIM, {npairs} random pairs per sample")
    ax[0].legend(fontsize=8)
    ax[1].plot(percents, sim["dice"].mean(0), label=f"real vs noisy copy, {n_maps} pairs")
    ax[1].plot(percents, r_mean, "k--", label=f"random pairs ({npairs})")
    ax[1].fill_between(percents, r_mean - r_std, r_mean + r_std, color="k", alpha=0.2)
    ax[1].plot(percents, sim["normalized"], label="normalized coefficient (eq. 10)")
    ax[1].set(xlabel="top n% of pixels", ylabel="Sørensen-Dice overlap", title="P5's overlap of thresholded maps")
    ax[1].legend(fontsize=8)
    return fig
