"""P3 (Feder et al. 2020, heavy-tailed 3D GAN): the evaluation pipeline of chapter ``03_3d_gan``.

Each function is one arrow of the chapter: cut the suite's sub-volumes to the profile's
side, scale them, choose the generator by P3's voxel-PDF + power-spectrum criterion, draw
samples with a calibrated latent width, and recompute the numbers behind every P3 figure
(voxel PDFs, mean sub-volume densities, power spectra, cross spectra, covariance and
correlation matrices, bispectra, redshift interpolation, discriminator rejection sampling)
and the scorecard rows.

Units: densities are the normalised matter density ``x = rho / rho_mean = 1 + delta``
(dimensionless); box sides in Mpc/h; wavenumbers k in h/Mpc; P(k) in (Mpc/h)^3; bispectra
in (Mpc/h)^6. Power spectra and bispectra are those of ``x - mean(x)`` of each sub-volume
(as P3's code: the mean subtracted, not divided).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..data.transforms import scale, unscale
from ..scorecard import Row
from ..stats import (
    bispectrum_3d,
    correlation,
    covariance,
    mean_density,
    pixel_histogram,
    power_spectrum_3d,
)

__all__ = [
    "PAPER", "PROFILES", "P3Data", "tile_cubes", "prepare_data", "k_edges", "power", "resolved_k",
    "generate", "PdfPowerSelector", "fit_gan", "voxel_pdfs", "mean_density_comparison", "power_comparison",
    "max_fractional_deviation", "cross_spectra", "covariance_comparison", "bispectrum_configurations",
    "bispectrum_comparison", "redshift_comparison", "finetune_discriminator", "discriminator_logits",
    "drs_accept", "drs_experiment", "width_statistic", "generation_speed", "scorecard_rows", "density", "scaled",
]

#: P3's headline numbers (Sect. IV, Appendix A, Discussion), as printed.
PAPER = dict(
    pk_k3=0.05, pk_k5=0.10, cov_range="5-25% up to k = 3 (Student-t); > 50% more accurate than Gaussian",
    mean_density_gaussian=0.12, mean_density_student=0.05, drs_acceptance=0.03, drs_pk="biased high",
    g_parameters=4_393_920, samples_per_s=512 / 6.0, n_generated=2000, n_training=16384, sub_size=64,
    kappa=45.0, kappa_conditional=4.0, nu=10.0,
)

#: Per-profile sizes of the chapter. ``sub_size`` below the suite's 64 cuts every suite
#: sub-volume into non-overlapping cubes of that side (the 1 Mpc/h cells are kept).
#: ``lr_g`` and ``lr_d`` are P3's (1e-4, 5e-5) for ``gpu`` and ``paper``. The short ``cpu``
#: and ``smoke`` runs use 8e-4 and 2e-4: at P3's rates a generator of a few thousand steps
#: never moves its tanh output from c ~ 0 to the data's c ~ -0.99. Measured on the cpu data
#: after 2,016 steps: mean density 44x the data's at P3's rates; 1.03-1.18x at (8e-4, 2e-4)
#: in three runs (both priors, three seeds); 1.7x and 21x at (4e-4, 2e-4) in two.
PROFILES = {
    "smoke": dict(sub_size=32, filters=(8, 4, 2), epochs=2.0, cond_epochs=0.5, batch_size=4, lr_g=8e-4, lr_d=2e-4, n_generate=16,
                  n_select=4, calib_scales=(0.9, 1.1), n_calib=8, drs_steps=2, n_drs=32, n_bispectrum=8, speed_samples=8,
                  compare_priors=True, conditional=True),
    "cpu": dict(sub_size=32, filters=(32, 16, 4), epochs=84.0, cond_epochs=12.0, batch_size=16, lr_g=8e-4, lr_d=2e-4, n_generate=256,
                n_select=32, calib_scales=(0.8, 0.9, 1.0, 1.1, 1.2), n_calib=64, drs_steps=40, n_drs=512, n_bispectrum=128,
                speed_samples=256, compare_priors=True, conditional=True),
    "gpu": dict(sub_size=64, filters=(256, 128, 64, 32), epochs=90.0, cond_epochs=24.0, batch_size=16, lr_g=1e-4, lr_d=5e-5, n_generate=2000,
                n_select=128, calib_scales=(0.94, 0.97, 1.0, 1.03, 1.06), n_calib=256, drs_steps=320, n_drs=2000,
                n_bispectrum=1000, speed_samples=512, compare_priors=True, conditional=True),
    "paper": dict(sub_size=64, filters=(256, 128, 64, 32), epochs=150.0, cond_epochs=150.0, batch_size=16, lr_g=1e-4, lr_d=5e-5, n_generate=2000,
                  n_select=256, calib_scales=(0.97, 0.98, 0.99, 1.0, 1.01, 1.02, 1.03), n_calib=512, drs_steps=5120,
                  n_drs=2000, n_bispectrum=2000, speed_samples=512, compare_priors=True, conditional=True),
}


# -------------------------------------------------------------------------- data
def tile_cubes(cubes: np.ndarray, size: int) -> np.ndarray:
    """Cut ``(N, s, s, s)`` cubes into non-overlapping ``size^3`` cubes (``s`` a multiple of ``size``), parent by parent."""
    cubes = np.asarray(cubes)
    if cubes.ndim != 4 or len(set(cubes.shape[1:])) != 1:
        raise ValueError(f"cubes must have shape (N, s, s, s), got {cubes.shape}.")
    n, s = cubes.shape[0], cubes.shape[1]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 4 or s % size:
        raise ValueError(f"size must be an integer >= 4 that divides the cube side {s}, got {size!r}.")
    m = s // size
    return cubes.reshape(n, m, size, m, size, m, size).transpose(0, 1, 3, 5, 2, 4, 6).reshape(-1, size, size, size)


@dataclass
class P3Data:
    """The chapter's real sub-volumes at every redshift (densities ``1 + delta``) and their geometry.

    ``density[z]`` is ``(N, s, s, s)``; the same sub-volumes at every redshift. ``halves``
    splits the indices in two by parent box (the first and second half of the suite's boxes),
    for the real-vs-real reference.
    """

    density: dict
    box_size: float  # side of one sub-volume, Mpc/h
    cell: float  # Mpc/h
    n_boxes: int
    parent_box_size: float

    @property
    def side(self) -> int:
        return next(iter(self.density.values())).shape[-1]

    def halves(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.density[0.0])
        return np.arange(n // 2), np.arange(n // 2, n)

    def summary(self) -> str:
        return (f"{len(self.density[0.0])} sub-volumes of {self.side}^3 cells ({self.box_size:g} Mpc/h, cells of "
                f"{self.cell:g} Mpc/h) at each of {len(self.density)} redshifts, cut from {self.n_boxes} boxes of "
                f"{self.parent_box_size:g} Mpc/h")


def prepare_data(suite, sub_size: int) -> P3Data:
    """The suite's ``density_z*`` arrays, cut to ``sub_size^3`` (float32), keyed by redshift."""
    cfg = suite.config
    dens = {}
    for key, arr in suite.arrays.items():
        if key.startswith("density_z"):
            dens[float(key[len("density_z"):])] = tile_cubes(arr, sub_size).astype(np.float32) if arr.shape[-1] != sub_size \
                else np.asarray(arr, np.float32)
    if 0.0 not in dens:
        raise ValueError("the suite has no density_z0 array; accepted is a P3 suite (load_suite('p3', ...)).")
    cell = float(cfg["box_size"]) / int(cfg["n_particles"])
    return P3Data(density=dict(sorted(dens.items(), reverse=True)), box_size=cell * sub_size, cell=cell,
                  n_boxes=int(cfg["n_boxes"]), parent_box_size=float(cfg["box_size"]))


# -------------------------------------------------------------------------- power spectrum
def k_edges(n: int, box_size: float, n_bins: int | None = None) -> np.ndarray:
    """Log-spaced edges (h/Mpc) from the fundamental ``k_F = 2 pi / L`` to the Nyquist ``k_F n / 2``.

    ``n_bins`` defaults to ``3 log2(n / 2)`` (12 bins for 32^3, 15 for 64^3). The first edge sits
    just below ``k_F`` so the fundamental modes fall in the first bin.
    """
    kf = 2 * math.pi / box_size
    nb = n_bins or max(4, int(round(3 * math.log2(n / 2))))
    e = kf * np.geomspace(1.0, n / 2, nb + 1)
    e[0] *= 0.999
    e[-1] *= 1.0001
    return e


def _delta(x) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x - x.reshape(len(x), -1).mean(1)[:, None, None, None]


def power(density, box_size: float, edges) -> tuple[np.ndarray, np.ndarray]:
    """``(k, P[B, nb])``: P(k) in (Mpc/h)^3 of each cube's ``x - mean(x)``."""
    return power_spectrum_3d(_delta(density), box_size, edges)


def resolved_k(k: np.ndarray, pk_sim: np.ndarray, pk_theory: np.ndarray, tol: float = 0.25) -> float:
    """The largest k (h/Mpc) up to which the mean simulated P(k) stays within ``tol`` of theory in every bin above 2 k_F.

    Bins below twice the first are skipped (a sub-volume's largest modes carry its window and
    sample variance). Returns the first bin checked (about 2 k_F) if none qualifies.
    """
    r = np.asarray(pk_sim) / np.asarray(pk_theory)
    good = np.abs(r - 1) <= tol
    start = int(np.searchsorted(k, 2 * k[0]))
    best = k[start] if start < len(k) else k[-1]
    for i in range(start, len(k)):
        if not good[i]:
            break
        best = k[i]
    return float(best)


# -------------------------------------------------------------------------- generation, model selection
@torch.no_grad()
def generate(G, n: int, sampler, seed: int = 0, labels=None, batch_size: int = 64, device=None,
             return_latents: bool = False):
    """``n`` scaled volumes ``(n, s, s, s)`` float32 from ``G`` in eval mode.

    Parameters
    ----------
    sampler : callable
        ``sampler(n, dim, device, generator)`` (:mod:`gancosmo.models.priors`); latents are drawn
        on the CPU from ``seed``, so the same seed gives the same latents on any device.
    labels : float or array_like, optional
        Conditioning label(s) for a conditional generator: a scalar for all samples, or ``(n,)``/``(n, c)``.
    """
    dev = torch.device(device) if device is not None else next(G.parameters()).device
    g = torch.Generator().manual_seed(int(seed))
    z = sampler(n, G.latent_dim, "cpu", g)
    y = None
    if labels is not None:
        y = torch.as_tensor(np.broadcast_to(np.asarray(labels, np.float32).reshape(-1, 1) if np.ndim(labels) <= 1 else labels,
                                            (n, G.cond_dim)).copy())
    was = G.training
    G.eval()
    out = []
    try:
        for s in range(0, n, batch_size):
            zb = z[s:s + batch_size].to(dev)
            xb = G(zb) if y is None else G(zb, y[s:s + batch_size].to(dev))
            out.append(xb.float()[:, 0].cpu().numpy())
    finally:
        G.train(was)
    x = np.concatenate(out) if out else np.zeros((0, G.size, G.size, G.size), np.float32)
    return (x, z.numpy()) if return_latents else x


class PdfPowerSelector:
    """The ``statistic`` for :class:`gancosmo.train.Trainer`: P3's choice of epoch by voxel PDF and P(k).

    Value = L1 distance between the mean histograms (49 bins on [-1, 1]) of scaled voxels of
    generated and real volumes + mean over k bins of ``|log(mean P_gen / mean P_real)|`` of the
    unscaled densities. 0 for identical samples; lower is better. Called once per epoch; the
    best generator's weights are kept (a CPU copy), as P3 saved a generator each epoch and
    picked the best.

    Parameters
    ----------
    real : dict
        ``{label: scaled real volumes (N, s, s, s)}``; use the key ``None`` for an
        unconditional model. The value is averaged over the labels.
    box_size : float
        Sub-volume side in Mpc/h.
    kappa : float
        Scaling parameter of the data.
    sampler : callable
        Latent sampler; the same latents (from ``seed``) at every evaluation.
    n_samples : int
        Generated volumes per label and evaluation.
    """

    def __init__(self, real: dict, box_size: float, kappa: float, sampler, n_samples: int, seed: int = 0):
        self.box_size, self.kappa, self.sampler, self.n_samples, self.seed = box_size, kappa, sampler, int(n_samples), seed
        n = next(iter(real.values())).shape[-1]
        self.edges = k_edges(n, box_size)
        self.pdf_edges = np.linspace(-1, 1, 50)
        self.reference = {}
        for y, cubes in real.items():
            _, h = pixel_histogram(cubes, self.pdf_edges, density=True)
            self.reference[y] = (h.mean(0), power(unscale(cubes, kappa, clip=True), box_size, self.edges)[1].mean(0))
        self.history: list[tuple[int, float]] = []
        self.best_step: int | None = None
        self.best_value: float | None = None
        self.best_state: dict | None = None

    def distance(self, fake_scaled: np.ndarray, label=None) -> float:
        """The selection value of scaled volumes against the reference of ``label``."""
        if not np.isfinite(fake_scaled).all():
            return float("inf")
        h_real, p_real = self.reference[label]
        _, h = pixel_histogram(fake_scaled, self.pdf_edges, density=True)
        pdf = float(np.sum(np.abs(h.mean(0) - h_real)) * (self.pdf_edges[1] - self.pdf_edges[0]))
        p_fake = power(unscale(fake_scaled, self.kappa, clip=True), self.box_size, self.edges)[1].mean(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.abs(np.log(p_fake / p_real))
        pk = float(np.nanmean(lp)) if np.isfinite(lp).any() else float("inf")
        return pdf + pk

    def __call__(self, G, step: int) -> float:
        vals = [self.distance(generate(G, self.n_samples, self.sampler, self.seed, labels=y), y) for y in self.reference]
        value = float(np.mean(vals))
        self.history.append((int(step), value))
        if self.best_value is None or value < self.best_value:
            self.best_step, self.best_value = int(step), value
            self.best_state = {k: v.detach().cpu().clone() for k, v in G.state_dict().items()}
        return value


def fit_gan(G, D, data, config, sampler, selector: PdfPowerSelector | None = None, augment=None) -> dict:
    """Train ``G`` against ``D`` with :class:`gancosmo.train.Trainer`, evaluating ``selector`` once per epoch,
    and load the generator of the best epoch (P3 saved the generator every epoch and kept the best).

    Parameters
    ----------
    data : numpy.ndarray or tuple
        Scaled volumes ``(N, s, s, s)``, or ``(volumes, labels)`` for a conditional model.
    config : gancosmo.train.TrainConfig
        Its ``select_every`` is set here to the number of batches per epoch.

    Returns
    -------
    dict
        ``G`` (eval mode, best epoch), ``D``, ``result`` (Trainer.fit's), ``seconds``, ``trainer``.
    """
    from ..train import Trainer

    n = len(data[0]) if isinstance(data, tuple) else len(data)
    config.select_every = max(1, n // config.batch_size) if selector is not None else 0
    trainer = Trainer(G, D, data, config, statistic=selector, latent_sampler=sampler, augment=augment)
    t0 = time.perf_counter()
    result = trainer.fit()
    seconds = time.perf_counter() - t0
    trainer.close()
    if selector is not None and selector.best_state is not None:
        trainer.G_raw.load_state_dict(selector.best_state)
    return dict(G=trainer.G_raw.eval(), D=trainer.D_raw, result=result, seconds=seconds, trainer=trainer)


def width_statistic(G, sampler_at, real_pk_mean: np.ndarray, box_size: float, edges, kappa: float, n: int,
                    seed: int = 0, k_max: float | None = None, labels=None):
    """``statistic(width)`` for :func:`gancosmo.models.priors.calibrate_width`: mean over k <= ``k_max`` of
    ``log(mean P_gen / mean P_real)`` for samples drawn with ``sampler_at(width)`` (same seed each time)."""
    def stat(width: float) -> float:
        x = unscale(generate(G, n, sampler_at(width), seed, labels=labels), kappa, clip=True)
        k, p = power(x, box_size, edges)
        sel = np.isfinite(real_pk_mean) & (k <= (k_max or np.inf))
        return float(np.mean(np.log(p.mean(0)[sel] / real_pk_mean[sel])))
    return stat


# -------------------------------------------------------------------------- figure computations
def voxel_pdfs(real_scaled: np.ndarray, fakes_scaled: dict, kappa: float) -> dict:
    """Fig. 5: per-sample voxel PDFs, scaled (49 linear bins on [-1, 1]) and unscaled (49 log bins,
    1e-4..1e4 in rho/rho_mean), as in P3's code. Returns mean and standard deviation over samples per bin."""
    out = dict(scaled_edges=np.linspace(-1, 1, 50), density_edges=np.geomspace(1e-4, 1e4, 50), real={}, fake={})

    def one(x):
        c_s, h_s = pixel_histogram(x, out["scaled_edges"], density=True)
        d = unscale(x, kappa, clip=True)
        c_d, h_d = pixel_histogram(np.clip(d, 1.0001e-4, 0.9999e4), out["density_edges"], density=True, log_centers=True)
        return dict(scaled=(h_s.mean(0), h_s.std(0)), density=(h_d.mean(0), h_d.std(0)), n=len(x)), c_s, c_d

    out["real"], out["scaled_centers"], out["density_centers"] = one(real_scaled)
    for name, x in fakes_scaled.items():
        out["fake"][name] = one(x)[0]
    return out


def mean_density_comparison(real: np.ndarray, fakes: dict) -> dict:
    """Fig. 6: the mean density of each sub-volume, and each model's bias of the median, ``median_fake / median_real - 1``."""
    r = mean_density(real)
    out = dict(real=r, fake={}, bias={})
    for name, x in fakes.items():
        m = mean_density(x)
        out["fake"][name] = m
        out["bias"][name] = float(np.median(m) / np.median(r) - 1)
    return out


def power_comparison(real: np.ndarray, fakes: dict, box_size: float, edges) -> dict:
    """Fig. 7: P(k) of real and generated densities; medians, 16-84% bands, fractional deviation of the means."""
    k, pr = power(real, box_size, edges)
    out = dict(k=k, real=pr, fake={}, frac={})
    for name, x in fakes.items():
        _, pf = power(x, box_size, edges)
        out["fake"][name] = pf
        out["frac"][name] = pf.mean(0) / pr.mean(0) - 1
    return out


def max_fractional_deviation(k: np.ndarray, frac: np.ndarray, k_max: float) -> float:
    """``max |frac|`` over the bins with k <= ``k_max`` (NaN if none)."""
    sel = (np.asarray(k) <= k_max) & np.isfinite(frac)
    return float(np.max(np.abs(frac[sel]))) if sel.any() else float("nan")


def cross_spectra(real: np.ndarray, fakes: dict, box_size: float, edges, n_pairs: int, seed: int = 0) -> dict:
    """Fig. 8: cross spectra of random pairs of distinct volumes: real x real, GAN x GAN, real x GAN (per model)."""
    rng = np.random.default_rng(seed)

    def pairs(n_a, n_b, same):
        m = min(n_pairs, n_a if not same else n_a // 2 * 2)
        if same:
            p = rng.permutation(n_a)
            m = min(m, n_a // 2)
            return p[:m], p[m:2 * m]
        return rng.choice(n_a, m, replace=n_a < m), rng.choice(n_b, m, replace=n_b < m)

    def cross(a, b):
        return power_spectrum_3d(_delta(a), box_size, edges, other=_delta(b))

    i, j = pairs(len(real), len(real), True)
    k, rr = cross(real[i], real[j])
    out = dict(k=k, spectra={"N-body x N-body": rr})
    for name, x in fakes.items():
        i, j = pairs(len(x), len(x), True)
        out["spectra"][f"GAN ({name}) x GAN ({name})"] = cross(x[i], x[j])[1]
        i, j = pairs(len(real), len(x), False)
        out["spectra"][f"N-body x GAN ({name})"] = cross(real[i], x[j])[1]
    return out


def covariance_comparison(pk_real: np.ndarray, pk_fake: np.ndarray, k: np.ndarray, k_max: float) -> dict:
    """Figs. 9-10: covariance (Eq. 8) and correlation (Eq. 9) matrices of P(k), their fractional / absolute differences.

    Summaries over bins with k <= ``k_max``: ``cov_median``, the median of ``|C_fake / C_real - 1|``
    over all matrix entries; ``cov_diag_median`` the same on the diagonal (the variance);
    ``corr_rms``, the rms of ``R_fake - R_real`` off the diagonal.
    """
    cr, cf = covariance(pk_real), covariance(pk_fake)
    rr, rf = correlation(pk_real), correlation(pk_fake)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = cf / cr - 1
    sel = np.asarray(k) <= k_max
    sub = frac[np.ix_(sel, sel)]
    off = ~np.eye(sel.sum(), dtype=bool)
    d = (rf - rr)[np.ix_(sel, sel)]
    return dict(cov_real=cr, cov_fake=cf, cov_frac=frac, corr_real=rr, corr_fake=rf, corr_diff=rf - rr,
                cov_median=float(np.nanmedian(np.abs(sub))), cov_diag_median=float(np.nanmedian(np.abs(np.diag(sub)))),
                corr_rms=float(np.sqrt(np.nanmean(d[off] ** 2))) if off.any() else float("nan"), k_max=k_max)


def bispectrum_configurations(box_size: float) -> list[tuple[float, float]]:
    """Triangle legs (k1, k2) in h/Mpc, in units of the fundamental: (2, 2) k_F (isosceles), (2, 3) k_F and
    (5, 10) k_F. For P3's 64 Mpc/h sub-volumes the last two are its code's (0.2, 0.3) and (0.5, 1.0) h/Mpc."""
    kf = 2 * math.pi / box_size
    return [(2 * kf, 2 * kf), (2 * kf, 3 * kf), (5 * kf, 10 * kf)]


def bispectrum_comparison(real: np.ndarray, fakes: dict, box_size: float, thetas=None) -> dict:
    """Fig. 11: B(theta) in (Mpc/h)^6 for each configuration; medians, 16-84% bands, fractional deviation of the medians."""
    th = np.linspace(0, 2.5, 10) if thetas is None else np.asarray(thetas, float)
    out = dict(thetas=th, configs=bispectrum_configurations(box_size), real=[], fake={n: [] for n in fakes}, frac={n: [] for n in fakes})
    dr = _delta(real)
    fk = {n: _delta(x) for n, x in fakes.items()}
    for k1, k2 in out["configs"]:
        br, _ = bispectrum_3d(dr, box_size, k1, k2, th)
        out["real"].append(br)
        for n, x in fk.items():
            bf, _ = bispectrum_3d(x, box_size, k1, k2, th)
            out["fake"][n].append(bf)
            out["frac"][n].append(np.median(bf, 0) / np.median(br, 0) - 1)
    return out


def redshift_comparison(real_by_z: dict, fake_by_z: dict, box_size: float, edges, cosmology, z_ref: float = 3.0) -> dict:
    """Fig. 12: median P(k) of N-body and cGAN volumes at each redshift, and the cGAN's z_ref median grown
    by linear theory, ``P(k, z) = (D(z)/D(z_ref))^2 P(k, z_ref)`` (D from pyccl)."""
    out = dict(redshifts=sorted(real_by_z, reverse=True), real={}, fake={}, linear={}, frac={})
    k = None
    for z in out["redshifts"]:
        k, pr = power(real_by_z[z], box_size, edges)
        _, pf = power(fake_by_z[z], box_size, edges)
        out["real"][z], out["fake"][z] = np.median(pr, 0), np.median(pf, 0)
        out["frac"][z] = out["fake"][z] / out["real"][z] - 1
    d_ref = float(np.asarray(cosmology.growth_factor(z_ref)).ravel()[0])
    for z in out["redshifts"]:
        g = float(np.asarray(cosmology.growth_factor(z)).ravel()[0]) / d_ref
        out["linear"][z] = g**2 * out["fake"][z_ref]
    out["k"] = k
    return out


# -------------------------------------------------------------------------- Appendix A: discriminator rejection sampling
def finetune_discriminator(D, G, real_scaled: np.ndarray, sampler, steps: int, batch_size: int = 16, lr: float = 5e-5,
                           augment=None, seed: int = 0, progress: bool = True) -> list[float]:
    """Train ``D`` alone against the fixed ``G`` (P3: five more epochs), BCE on logits, Adam(0.5, 0.999).

    Returns the loss per step. ``D`` is left in eval mode.
    """
    from tqdm.auto import tqdm

    dev = next(D.parameters()).device
    g = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    real = torch.as_tensor(np.asarray(real_scaled, np.float32))
    losses = []
    G.eval(), D.train()
    for _ in tqdm(range(int(steps)), desc="DRS: discriminator", disable=not progress):
        idx = torch.randint(0, len(real), (batch_size,), generator=g)
        xr = real[idx][:, None]
        if augment is not None:
            xr = augment(xr, g)
        with torch.no_grad():
            xf = G(sampler(batch_size, G.latent_dim, "cpu", g).to(dev))
        logits = D(torch.cat([xr.to(dev), xf]))
        target = torch.cat([torch.ones(batch_size), torch.zeros(batch_size)]).to(dev)
        loss = bce(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    D.eval()
    return losses


@torch.no_grad()
def discriminator_logits(D, scaled: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Logits ``(N,)`` of ``D`` (eval mode) for scaled volumes ``(N, s, s, s)``."""
    dev = next(D.parameters()).device
    was = D.training
    D.eval()
    try:
        out = [D(torch.as_tensor(np.asarray(scaled[s:s + batch_size], np.float32))[:, None].to(dev)).float().cpu().numpy()
               for s in range(0, len(scaled), batch_size)]
    finally:
        D.train(was)
    return np.concatenate(out)


def drs_accept(logits, epsilon: float = 0.01, gamma: float = 0.0, rng=None, logit_max: float | None = None) -> dict:
    r"""Discriminator rejection sampling (Azadi et al. 2019; P3 Eqs. A4-A5).

    With :math:`\tilde D` the logit and :math:`\tilde D_M` its maximum (estimated from the samples,
    a lower bound of the true one), each sample is accepted with probability
    :math:`\sigma(\hat F)`,

    .. math::
       \hat F(x) = \tilde D(x) - \tilde D_M - \log\left(1 - e^{\tilde D(x) - \tilde D_M - \epsilon}\right) - \gamma .

    For :math:`\epsilon \to 0`, :math:`\gamma = 0` this is :math:`e^{\tilde D - \tilde D_M}`, ordinary
    rejection sampling with :math:`p_{data}/p_g = e^{\tilde D}` (Eq. A3); larger :math:`\gamma`
    accepts fewer samples.

    Returns
    -------
    dict
        ``accepted`` (bool mask), ``probability``, ``rate`` (fraction accepted), ``logit_max``.
    """
    d = np.asarray(logits, dtype=np.float64).ravel()
    if d.size == 0 or not np.isfinite(d).all():
        raise ValueError("logits must be a non-empty array of finite discriminator logits.")
    if not (np.isfinite(epsilon) and epsilon >= 0) or not np.isfinite(gamma):
        raise ValueError(f"epsilon must be a finite number >= 0 and gamma finite, got {epsilon!r} and {gamma!r}.")
    rng = np.random.default_rng(rng)
    dm = float(d.max()) if logit_max is None else float(logit_max)
    e = np.minimum(d - dm - epsilon, -1e-12)  # a sample above the estimated maximum has e -> 0
    f = d - dm - np.log1p(-np.exp(e)) - gamma
    p = 1.0 / (1.0 + np.exp(-f))
    acc = rng.random(d.size) < p
    return dict(accepted=acc, probability=p, rate=float(acc.mean()), logit_max=dm)


def drs_experiment(G, D, sampler, n: int, kappa: float, box_size: float, edges, epsilon: float = 0.01, gamma: float = 0.0,
                   seed: int = 0) -> dict:
    """Appendix A: ``n`` generated volumes, their logits, DRS acceptance, P(k) of all vs accepted, latent norms."""
    x, z = generate(G, n, sampler, seed, return_latents=True)
    logits = discriminator_logits(D, x)
    res = drs_accept(logits, epsilon, gamma, rng=seed)
    dens = unscale(x, kappa, clip=True)
    k, pk = power(dens, box_size, edges)
    res.update(k=k, pk_all=pk, pk_accepted=pk[res["accepted"]], latent_norm=np.linalg.norm(z, axis=1),
               logits=logits, n=n)
    res["latent_norm_accepted"] = res["latent_norm"][res["accepted"]]
    return res


def generation_speed(G, n: int, sampler, batch_size: int = 64) -> dict:
    """Volumes per second of ``G`` in eval mode on its device (after a warm-up batch)."""
    dev = next(G.parameters()).device
    generate(G, min(n, batch_size), sampler, batch_size=batch_size)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    generate(G, n, sampler, seed=1, batch_size=batch_size)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    return dict(n=n, seconds=dt, per_s=n / dt, device=str(dev))


# -------------------------------------------------------------------------- scorecard
def scorecard_rows(res: dict) -> list[Row]:
    """Scorecard rows of P3's headline numbers.

    ``res`` holds: ``k_res`` (resolved k, h/Mpc), ``k_nyq``, ``pk`` ({model: (max dev k<=3, max dev k<=5)}),
    ``pk_ref`` (same for real half B vs A), ``cov`` ({model: covariance_comparison}), ``cov_ref``,
    ``bias`` ({model: mean density bias}), ``bias_ref``, ``bispec`` ({model: median |frac|}), ``bispec_ref``,
    ``drs`` (rate, P(k) shift), ``cgan`` (max |frac| at interpolated z), ``params``, ``speed``, ``n`` (sizes).
    """
    n = res["n"]
    sizes = f"{n['fake']} GAN vs {n['real']} real (half A); reference: half B ({n['reference']}) vs half A"
    k3 = min(3.0, res["k_res"])
    rows = []
    for name, (d3, d5) in res["pk"].items():
        rows.append(Row(f"max |mean P_GAN / P_N-body - 1|, k <= {k3:.2g} h/Mpc ({name} prior; Fig. 7)",
                        PAPER["pk_k3"] if name == "student-t" else None, d3, res["pk_ref"][0], "",
                        f"P3: < 5% up to k = 3 (Student-t); our PM data resolve k <= {res['k_res']:.2g} h/Mpc; {sizes}"))
    name0 = next(iter(res["pk"]))
    rows.append(Row("max |mean P_GAN / P_N-body - 1|, k <= 5 h/Mpc (Fig. 7)", PAPER["pk_k5"], None, None, "",
                    f"not measured: our bins stop at the Nyquist k = {res['k_nyq']:.2f} h/Mpc of {n['cell']:g} Mpc/h cells "
                    f"and our PM resolves k <= {res['k_res']:.2g}; P3's cells are also 1 Mpc, so its k = 5 uses the cube's corner modes"
                    if res["k_nyq"] < 5 else f"{res['pk'][name0][1]:.3g}"))
    for name, c in res["cov"].items():
        rows.append(Row(f"median |C_GAN / C_N-body - 1| of the P(k) covariance, k <= {k3:.2g} ({name} prior; Figs. 9-10)",
                        "0.05-0.25 (Student-t)" if name == "student-t" else "> 1.5x Student-t's error",
                        c["cov_median"], res["cov_ref"]["cov_median"], "", sizes))
        rows.append(Row(f"rms difference of P(k) correlation matrices, k <= {k3:.2g} ({name} prior)", None,
                        c["corr_rms"], res["cov_ref"]["corr_rms"], "", "P3 shows the matrices, no number"))
    for name, b in res["bias"].items():
        rows.append(Row(f"mean sub-volume density, median GAN / median N-body - 1 ({name} prior; Fig. 6)",
                        PAPER["mean_density_gaussian"] if name == "gaussian" else PAPER["mean_density_student"],
                        b, res["bias_ref"], "", sizes))
    for name, b in res["bispec"].items():
        rows.append(Row(f"median |B_GAN / B_N-body - 1| over triangles ({name} prior; Fig. 11)", "similar to P(k)",
                        b, res["bispec_ref"], "", "median over the configurations and angles of the medians' fractional deviation"))
    if res.get("cgan") is not None:
        rows.append(Row("cGAN: max |P_cGAN / P_N-body - 1| at interpolated z = 2, 1, 0.25, k <= k_res (Fig. 12)",
                        "interpolates smoothly", res["cgan"]["interp"], None, "", f"trained at z = 3, 1.5, 0.5, 0 with kappa = {res['cgan']['kappa']:g}"))
        rows.append(Row("cGAN: linear growth from z = 3 over cGAN at z = 0, highest resolved k (Fig. 12)",
                        "< 1 (linear theory underestimates small-scale growth)", res["cgan"]["linear_ratio"], None, "", ""))
    if res.get("drs") is not None:
        rows.append(Row("DRS acceptance rate (Appendix A)", PAPER["drs_acceptance"], res["drs"]["rate"], None, "",
                        f"epsilon {res['drs']['epsilon']}, gamma {res['drs']['gamma']}, {res['drs']['n']} samples"))
        rows.append(Row("DRS: mean P(k) of accepted / all - 1, k <= k_res (Appendix A)", PAPER["drs_pk"],
                        res["drs"]["pk_shift"], None, "", "P3: DRS prefers samples with more power"))
    rows.append(Row("Generator parameters (Table I)", PAPER["g_parameters"], res["params"], None, "", "paper-size network, counted"))
    rows.append(Row("Generation speed", PAPER["samples_per_s"], res["speed"]["per_s"], None, "volumes/s",
                    f"ours: {res['speed']['n']} volumes of {n['side']}^3 on {res['speed']['device']}; P3: 512 of 64^3 in ~6 s (GPU)"))
    return rows


def density(scaled: np.ndarray, kappa: float) -> np.ndarray:
    """Unscale generator output (saturated tanh values are clipped just below 1)."""
    return unscale(np.asarray(scaled), kappa, clip=True).astype(np.float32)


def scaled(density_: np.ndarray, kappa: float) -> np.ndarray:
    """Scale densities for the generator (float32)."""
    return scale(np.asarray(density_), kappa).astype(np.float32)
