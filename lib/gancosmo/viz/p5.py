"""Figures of chapter 05_gan_autoencoder: P5's Figs. 1-13 re-made, labelled with profile and sample counts.

Units: images are shown in P5's transformed units (Eq. 1 or 2, about [-1, 1]: a log density);
statistics in particles per pixel (ppp), wavenumbers in h/Mpc, P(k) in ppp^2 (Mpc/h)^2. Each
figure's title names the paper's figure it re-makes, and its caption line says what P5 found
there, so that ours stands beside the paper's.
"""

from __future__ import annotations

import numpy as np

from .common import plain_log_ticks, pyplot

__all__ = [
    "plot_transforms",
    "plot_images",
    "plot_statistics",
    "plot_pairs",
    "plot_thresholded",
    "plot_overlaps",
    "plot_dice",
    "plot_training",
    "COLORS",
]

COLORS = {"simulation": "C3", "GAN": "C0", "inferred": "C0", "lognormal null": "C2"}
_CMAP = "inferno"


def _caption(fig, text: str) -> None:
    fig.text(0.5, -0.01, text, ha="center", va="top", fontsize=8, style="italic", wrap=True)


def plot_transforms(sets: dict, profile: str):
    """P5's Fig. 1: an image, its pixel values before and after the transform, and the transform, per set.

    Parameters
    ----------
    sets : dict
        ``name -> P5Set`` (:func:`gancosmo.evaluation.p5.load_data`).
    profile : str
    """
    plt = pyplot()
    fig, axes = plt.subplots(len(sets), 3, figsize=(12, 3.6 * len(sets)), squeeze=False)
    for r, (name, s) in enumerate(sets.items()):
        T = s.transform
        image = s.part("train")[0]
        ax = axes[r, 0]
        im = ax.imshow(image, origin="lower", cmap=_CMAP, vmin=-1, vmax=1, extent=(0, s.field_size, 0, s.field_size))
        ax.set_xlabel("x [Mpc/h]")
        ax.set_ylabel("y [Mpc/h]")
        ax.set_title(f"{name}: a training image, {s.side}^2 pixels", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8, label="v' (transformed)")
        ax = axes[r, 1]
        y = s.part("train")[:64].ravel()
        rho = np.asarray(T.inverse(y.astype(np.float64)))
        ax.hist(np.clip(rho, 0, 5), bins=60, range=(0, 5), density=True, color="0.6", label="v (ppp, clipped at 5)")
        ax.hist(
            y,
            bins=60,
            range=(-1, 1),
            density=True,
            color="C0",
            alpha=0.7,
            label="v' (Eq. %s)" % ("1" if T.c == 0 else "2"),
        )
        ax.set_yscale("log")
        ax.set_xlabel("pixel value")
        ax.set_ylabel("probability density")
        ax.set_title(f"{name}: pixels of {min(64, len(s.split['train']))} training images", fontsize=9)
        ax.legend(fontsize=7)
        ax = axes[r, 2]
        v = np.geomspace(max(T.floor, 1e-6), T.ceiling, 400)
        ax.plot(v, T.forward(v), color="C0")
        if T.c > 0:
            ax.axvline(T.c, color="k", ls=":", lw=1, label=f"c = {T.c:g} ppp: saturation below")
            ax.legend(fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("v [particles per pixel]")
        ax.set_ylabel("v'")
        ax.set_title(f"{name}: the transform {T!r}", fontsize=8)
    fig.suptitle(f"P5 Fig. 1 re-made: the log-like transforms (Eqs. 1, 2), profile {profile}", fontsize=10)
    fig.tight_layout()
    _caption(
        fig,
        "P5: the 3D set's transform saturates below c = 1e-3 ppp, so no network is expected to recover the PDF there.",
    )
    return fig


def _grid(ax_grid, images, vmin=-1, vmax=1):
    for ax, image in zip(ax_grid, images):
        ax.imshow(image, origin="lower", cmap=_CMAP, vmin=vmin, vmax=vmax)
        ax.set_xticks([]), ax.set_yticks([])


def plot_images(real: np.ndarray, fake: np.ndarray, field_size: float, title: str, n: int = 16, caption: str = ""):
    """P5's Figs. 2 and 4: ``n`` simulation images (left) beside ``n`` GAN images (right), transformed units."""
    plt = pyplot()
    n = min(n, len(real), len(fake))
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig = plt.figure(figsize=(2 * 1.6 * cols + 0.6, 1.6 * rows + 0.8))
    sub = fig.subfigures(1, 2, wspace=0.05)
    for sf, images, label in ((sub[0], real, "simulation"), (sub[1], fake, "GAN")):
        axes = sf.subplots(rows, cols, squeeze=False).ravel()
        _grid(axes, images[:n])
        for ax in axes[n:]:
            ax.axis("off")
        sf.suptitle(f"{n} {label} images, {field_size:.3g} Mpc/h per side", fontsize=9)
    fig.suptitle(title, fontsize=10, y=1.04)
    if caption:
        _caption(fig, caption)
    return fig


def _pdf_centres(edges):
    return np.sqrt(edges[1:] * edges[:-1])


def plot_statistics(real: dict, others: dict, k: np.ndarray, peak_edges: np.ndarray, pdf_edges, title: str, caption=""):
    """P5's Figs. 3, 5, 7, 12: pixel PDF, mean-density distribution, median P(k) with MAD band, peak counts.

    Parameters
    ----------
    real : dict
        Statistics of the simulation images (:func:`gancosmo.evaluation.p5.image_statistics`).
    others : dict
        ``label -> statistics`` (GAN, inferred, lognormal null).
    k : numpy.ndarray
        Wavenumbers (h/Mpc) of the P(k) bins.
    peak_edges, pdf_edges : numpy.ndarray
        Bin edges (ppp) of the peak counts and the pixel PDF.
    """
    from ..stats import median_mad

    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    sets = {"simulation": real, **others}
    lo = min(np.min(s["mean"]) for s in sets.values())
    hi = max(np.max(s["mean"]) for s in sets.values())
    mean_bins = np.linspace(lo, hi, 25) if hi > lo else np.linspace(lo - 0.5, lo + 0.5, 25)
    for label, s in sets.items():
        color = COLORS.get(label, "C1")
        ls = "--" if label == "lognormal null" else "-"
        n = len(s["mean"])
        tag = f"{label} ({n} images)"
        x = _pdf_centres(pdf_edges)
        dlog = np.diff(np.log10(pdf_edges))
        pdf = s["pdf"].mean(0) / dlog
        axes[0, 0].plot(x[pdf > 0], pdf[pdf > 0], color=color, ls=ls, label=tag)
        axes[0, 1].hist(s["mean"][:, 0], bins=mean_bins, histtype="step", color=color, ls=ls, lw=1.5, label=tag)
        med, mad = median_mad(s["pk"])
        axes[1, 0].plot(k, med, color=color, ls=ls, label=tag)
        axes[1, 0].fill_between(k, np.maximum(med - mad, med * 1e-3), med + mad, color=color, alpha=0.15, lw=0)
        pc = _pdf_centres(peak_edges)
        axes[1, 1].plot(pc, s["peaks"].mean(0), color=color, ls=ls, marker=".", label=tag)
    ax = axes[0, 0]
    ax.set_xscale("log"), ax.set_yscale("log")
    ax.set_xlabel("rho [particles per pixel]"), ax.set_ylabel("dP / dlog10 rho (mean over images)")
    ax.set_title("pixel PDF", fontsize=9)
    ax = axes[0, 1]
    ax.set_xlabel("mean density of an image [ppp]"), ax.set_ylabel("images")
    ax.set_title("mean density distribution", fontsize=9)
    ax = axes[1, 0]
    ax.set_xscale("log"), ax.set_yscale("log")
    ax.set_xlabel("k [h/Mpc]"), ax.set_ylabel("P(k) [ppp^2 (Mpc/h)^2]")
    ax.set_title("median power spectrum, band: median +- MAD", fontsize=9)
    ax = axes[1, 1]
    ax.set_xscale("log"), ax.set_yscale("log")
    ax.set_xlabel("peak height rho_max [ppp]"), ax.set_ylabel("peaks per image and bin")
    ax.set_title("peak counts (8 neighbours, border masked)", fontsize=9)
    plain_log_ticks(axes[0, 0], axes[1, 0], axes[1, 1])
    for ax in axes.ravel():
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if caption:
        _caption(fig, caption)
    return fig


def plot_pairs(inputs: np.ndarray, inferred: np.ndarray, field_size: float, title: str, n: int = 10, caption=""):
    """P5's Figs. 6 and 11: ``n`` test images (top row) and their inferred images G(E(x)) (bottom row)."""
    plt = pyplot()
    n = min(n, len(inputs))
    fig, axes = plt.subplots(2, n, figsize=(1.5 * n, 3.4), squeeze=False)
    _grid(axes[0], inputs[:n])
    _grid(axes[1], inferred[:n])
    axes[0, 0].set_ylabel("simulation", fontsize=8)
    axes[1, 0].set_ylabel("inferred", fontsize=8)
    fig.suptitle(f"{title}\n{n} held-out images of {field_size:.3g} Mpc/h, transformed units", fontsize=10)
    fig.tight_layout()
    if caption:
        _caption(fig, caption)
    return fig


def _top_mask(image: np.ndarray, percent: float) -> np.ndarray:
    flat = image.ravel()
    k = int(round(percent / 100 * flat.size))
    mask = np.zeros(flat.size, bool)
    mask[np.argsort(flat)[::-1][:k]] = True
    return mask.reshape(image.shape)


def plot_thresholded(inputs, inferred, title: str, percents=(20, 40, 60, 80), n: int = 3, caption=""):
    """P5's Fig. 8: pairs (simulation, inferred) and their top-``p%`` masks at each of ``percents``."""
    plt = pyplot()
    n = min(n, len(inputs))
    cols = 2 + 2 * len(percents)
    fig, axes = plt.subplots(n, cols, figsize=(1.45 * cols, 1.6 * n + 0.6), squeeze=False)
    for r in range(n):
        a, b = inputs[r], inferred[r]
        panels = [(a, "simulation", None), (b, "inferred", None)]
        for p in percents:
            panels += [(_top_mask(a, p), f"sim. top {p}%", "gray"), (_top_mask(b, p), f"inf. top {p}%", "gray")]
        for c, (img, label, cmap) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(img, origin="lower", cmap=cmap or _CMAP, vmin=0 if cmap else -1, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(label, fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if caption:
        _caption(fig, caption)
    return fig


def plot_overlaps(inputs, inferred, title: str, percents=(20, 40, 60, 80), n: int = 3, caption=""):
    """P5's Fig. 9: where the top-``p%`` structures of a pair overlap (yellow) and where not (green)."""
    from matplotlib.colors import ListedColormap

    plt = pyplot()
    n = min(n, len(inputs))
    cmap = ListedColormap(["#1a1a2e", "#2ca02c", "#ffd92f"])
    fig, axes = plt.subplots(n, len(percents), figsize=(2.0 * len(percents), 2.0 * n + 0.6), squeeze=False)
    for r in range(n):
        for c, p in enumerate(percents):
            ma, mb = _top_mask(inputs[r], p), _top_mask(inferred[r], p)
            code = np.where(ma & mb, 2, np.where(ma | mb, 1, 0))
            dice = 2 * (ma & mb).sum() / (ma.sum() + mb.sum())
            ax = axes[r, c]
            ax.imshow(code, origin="lower", cmap=cmap, vmin=0, vmax=2, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(f"top {p}%: Dice {dice:.2f}", fontsize=8)
    fig.suptitle(f"{title}\nyellow: both above their own threshold; green: one only", fontsize=10)
    fig.tight_layout()
    if caption:
        _caption(fig, caption)
    return fig


def plot_dice(dice: dict, sanity, paper_peak: int, title: str, significance: float = 3.0, reach: int = 60, caption=""):
    """P5's Figs. 10 and 13: Dice against the top fraction with the random baseline; Eqs. 10 and 11.

    Parameters
    ----------
    dice : dict
        :func:`gancosmo.evaluation.p5.dice_curves`.
    sanity : SanityCheck
        Sect. 4.3's encoder, whose Dice on GAN and on real images is drawn for comparison.
    paper_peak : int
        Where P5's normalized coefficient peaks (%).
    """
    plt = pyplot()
    p = dice["percents"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    o, n = dice["overlap"], len(dice["overlap"])
    mean, std, sem = o.mean(0), o.std(0), o.std(0) / np.sqrt(n)
    left.fill_between(p, mean - std, mean + std, color="gold", alpha=0.3, lw=0, label="standard deviation over the set")
    left.fill_between(
        p, mean - sem, mean + sem, color="darkgoldenrod", alpha=0.6, lw=0, label="uncertainty of the mean"
    )
    left.plot(p, mean, color="darkgoldenrod", label=f"simulation vs inferred ({n} images)")
    left.errorbar(p, dice["r"], yerr=dice["r_std"], color="k", capsize=2, label=f"random pairs ({len(dice['random'])})")
    if sanity is not None and sanity.dice_gan is not None:
        sp = sanity.percents
        left.plot(sp, sanity.dice_gan.mean(0), color="C4", ls="--", label="Sect. 4.3 encoder, on GAN images")
        left.plot(sp, sanity.dice_real.mean(0), color="C5", ls="--", label="Sect. 4.3 encoder, on real images")
    left.set_xlabel("top fraction of pixels n [%]")
    left.set_ylabel("Dice coefficient 2 N_ab / (N_a + N_b)")
    left.set_title("Dice coefficient (Eq. 9)", fontsize=9)
    left.legend(fontsize=7)
    norm, sig = dice["normalized"], dice["significance"]
    right.fill_between(p, norm - dice["normalized_std"], norm + dice["normalized_std"], color="C0", alpha=0.2, lw=0)
    right.plot(p, norm, color="C0", label="normalized coefficient (Eq. 10)")
    right.axvline(paper_peak, color="C0", ls=":", lw=1, label=f"P5's peak: top {paper_peak}%")
    right.set_xlabel("top fraction of pixels n [%]")
    right.set_ylabel("(O - r) / (1 - r)", color="C0")
    twin = right.twinx()
    twin.fill_between(p, sig - dice["significance_std"], sig + dice["significance_std"], color="C3", alpha=0.15, lw=0)
    twin.plot(p, sig, color="C3", label="significance (Eq. 11)")
    twin.axhline(significance, color="C3", ls="--", lw=1, label=f"{significance:g} sigma")
    twin.axvline(reach, color="k", ls=":", lw=1, label=f"P5: significant up to the top {reach}%")
    twin.set_ylabel("(O - r) / sigma_r", color="C3")
    h1, l1 = right.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    right.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper right")
    right.set_title("normalized Dice (Eq. 10) and its significance (Eq. 11)", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if caption:
        _caption(fig, caption)
    return fig


def plot_training(models: dict, title: str):
    """The GAN's losses and dev statistic, and the encoder's train and dev losses (Eq. 7), per set."""
    plt = pyplot()
    fig, axes = plt.subplots(len(models), 3, figsize=(13, 3.3 * len(models)), squeeze=False)
    for r, (name, m) in enumerate(models.items()):
        h = m.gan.history
        steps = [x["step"] for x in h]
        ax = axes[r, 0]
        ax.plot(steps, [x["loss/d"] for x in h], label="discriminator (Eq. 4)")
        ax.plot(steps, [x["loss/g"] for x in h], label="generator")
        ax.set_xlabel("generator step"), ax.set_ylabel("BCE loss")
        ax.set_title(f"{name}: GAN losses ({m.gan.n_train:,} training images)", fontsize=9)
        ax.legend(fontsize=7)
        ax = axes[r, 1]
        if m.gan.selection:
            s, v = zip(*m.gan.selection)
            ax.plot(s, v, marker=".", color="C2")
            if m.gan.best_step is not None:
                ax.axvline(m.gan.best_step, color="k", ls=":", lw=1, label=f"kept: step {m.gan.best_step}")
                ax.legend(fontsize=7)
        ax.set_xlabel("generator step"), ax.set_ylabel("PDF L1 + mean |ln P ratio|")
        ax.set_title(f"{name}: GAN against the dev images (lower is better)", fontsize=9)
        ax = axes[r, 2]
        ah = m.autoencoder.history
        if ah:
            ax.plot(
                [x["step"] for x in ah], [x["train"] for x in ah], marker=".", label="training (mean over the epoch)"
            )
            ax.plot([x["step"] for x in ah], [x["dev"] for x in ah], marker=".", label="dev")
            ax.axvline(m.autoencoder.best_step, color="k", ls=":", lw=1, label=f"kept: step {m.autoencoder.best_step}")
        ax.set_yscale("log")
        ax.set_xlabel("encoder step"), ax.set_ylabel("||TD(x) - TD(G(E(x)))||^2")
        ax.set_title(f"{name}: the autoencoder's loss (Eq. 7)", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
