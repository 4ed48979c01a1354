r"""Two-sample comparisons of summary statistics (real vs generated).

Statistic arrays are ``(n_samples, n_bins)`` (one row per map or cube), as returned by the
statistics of this package.

* :func:`fractional_difference` -- :math:`f_x = (\bar x_{GAN} - \bar x_{N\text{-body}})/\bar x_{N\text{-body}}` (P2).
* :func:`wasserstein1`, :func:`normalized_wasserstein1` -- W1 of value distributions; P2
  standardizes both samples with the mean and standard deviation of the real one.
* :func:`ks_ad_bootstrap` -- bootstrapped two-sample Kolmogorov-Smirnov and Anderson-Darling
  p-values per bin (P1).
* :func:`covariance`, :func:`correlation`, :func:`frobenius_fr` -- P2's
  :math:`f_R = (\|R_{GAN}\|_F - \|R_{N\text{-body}}\|_F)/\|R_{N\text{-body}}\|_F`.
* :func:`frechet_distance` -- :math:`d^2 = \|m_1 - m_2\|^2 + \mathrm{Tr}(C_1 + C_2 - 2(C_1C_2)^{1/2})`
  between Gaussians (Dowson and Landau 1982; P4's eq. 1 prints ``2 C^r C^f``, a typo for the
  matrix square root used by its reference).
* :func:`s_star`, :func:`reference_s_star` -- P4's score :math:`S^* = 1/d^2` on
  :math:`\log_{10}(s + \varepsilon)`, :math:`\varepsilon = \max_b \langle s^r\rangle_b / 10^5`.
* :func:`fid_like` -- P2's Frechet distance of feature-network outputs, standardized by the
  real sample, square root reported.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.stats

__all__ = [
    "fractional_difference",
    "wasserstein1",
    "normalized_wasserstein1",
    "ks_ad_bootstrap",
    "covariance",
    "correlation",
    "frobenius_fr",
    "frechet_distance",
    "frechet_distance_samples",
    "log_statistic",
    "s_star",
    "reference_s_star",
    "fid_like",
]


def _stat2d(x: Any, name: str, min_rows: int = 1) -> np.ndarray:
    a = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} has shape {a.shape}; accepted is a 2D array (n_samples, n_bins).")
    if a.shape[0] < min_rows:
        raise ValueError(f"{name} has {a.shape[0]} samples; accepted are at least {min_rows}.")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has no bins (shape {a.shape}); accepted is at least one bin.")
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN; accepted are finite statistics (drop empty bins first).")
    return a


def _same_bins(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{na} has {a.shape[1]} bins but {nb} has {b.shape[1]}; accepted are statistics on the same bins."
        )


def fractional_difference(real: Any, fake: Any) -> np.ndarray:
    r"""Per-bin fractional difference of the means, :math:`(\bar x_{fake} - \bar x_{real})/\bar x_{real}`."""
    r, f = _stat2d(real, "real"), _stat2d(fake, "fake")
    _same_bins(r, f, "real", "fake")
    mr = r.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (f.mean(axis=0) - mr) / mr


def _flat(x: Any, name: str) -> np.ndarray:
    if isinstance(x, (list, tuple)):
        x = np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in x]) if len(x) else np.array([])
    a = np.ravel(np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64))
    if a.size == 0:
        raise ValueError(f"{name} is empty; accepted is at least one value.")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values; accepted are finite values only.")
    return a


def wasserstein1(u: Any, v: Any) -> float:
    """Wasserstein-1 distance between the empirical distributions of two sets of values."""
    return float(scipy.stats.wasserstein_distance(_flat(u, "u"), _flat(v, "v")))


def normalized_wasserstein1(real: Any, fake: Any) -> float:
    r"""P2's normalized W1: both samples standardized by the real sample's mean and std.

    A 1-sigma shift of a Gaussian gives 1; doubling its standard deviation about 0.8 (P2, Sect. 4).
    """
    r, f = _flat(real, "real"), _flat(fake, "fake")
    mu, sd = r.mean(), r.std()
    if sd == 0:
        raise ValueError("real has zero standard deviation; accepted are samples with spread.")
    return float(scipy.stats.wasserstein_distance((r - mu) / sd, (f - mu) / sd))


def ks_ad_bootstrap(real: Any, fake: Any, n_boot: int = 20, sample_size: int | None = None, seed: int = 0) -> dict:
    r"""Bootstrapped two-sample KS and Anderson-Darling tests per bin (P1).

    Each of ``n_boot`` rounds draws ``sample_size`` rows with replacement from each sample
    (default: the smaller sample size) and tests, bin by bin, the null hypothesis that both
    come from one continuous distribution.

    This is P1's procedure, kept to re-make its figure; it is **not** a calibrated test.
    Resampling with replacement creates ties and the median p-value of two samples of one
    distribution is spread over [0, 1] (512 vs 512 maps, 31 bins, 20 rounds: median 0.16,
    no bin above 0.95), so counting bins with "p > 0.99" cannot be passed even by real data,
    and scipy caps Anderson-Darling p-values at 0.25. Judge emulators with
    :func:`gancosmo.evaluation.binned.binned_comparison` and the real-vs-real band instead.

    Returns
    -------
    dict
        ``ks``, ``ad``: median p-values per bin ``(n_bins,)``; ``ks_all``, ``ad_all``:
        ``(n_boot, n_bins)``. scipy caps Anderson-Darling p-values to [0.001, 0.25].
    """
    r, f = _stat2d(real, "real", 2), _stat2d(fake, "fake", 2)
    _same_bins(r, f, "real", "fake")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot is {n_boot}; accepted is a positive integer.")
    m = int(sample_size or min(len(r), len(f)))
    rng = np.random.default_rng(seed)
    nb = r.shape[1]
    ks = np.empty((n_boot, nb))
    ad = np.empty((n_boot, nb))
    for i in range(n_boot):
        rr = r[rng.integers(0, len(r), m)]
        ff = f[rng.integers(0, len(f), m)]
        ks[i] = scipy.stats.ks_2samp(rr, ff, axis=0).pvalue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for b in range(nb):
                if np.ptp(rr[:, b]) == 0 and np.ptp(ff[:, b]) == 0 and rr[0, b] == ff[0, b]:
                    ad[i, b] = 1.0
                else:
                    ad[i, b] = scipy.stats.anderson_ksamp([rr[:, b], ff[:, b]]).pvalue
    return {"ks": np.median(ks, axis=0), "ad": np.median(ad, axis=0), "ks_all": ks, "ad_all": ad}


def covariance(stat: Any) -> np.ndarray:
    """Sample covariance ``(n_bins, n_bins)`` of a statistic ``(n_samples, n_bins)``."""
    return np.atleast_2d(np.cov(_stat2d(stat, "stat", 2), rowvar=False))


def correlation(stat: Any) -> np.ndarray:
    """Pearson correlation matrix ``(n_bins, n_bins)`` of a statistic ``(n_samples, n_bins)``."""
    return np.atleast_2d(np.corrcoef(_stat2d(stat, "stat", 2), rowvar=False))


def frobenius_fr(real: Any, fake: Any) -> float:
    r"""P2's :math:`f_R`: fractional difference of the Frobenius norms of the correlation matrices."""
    r, f = _stat2d(real, "real", 2), _stat2d(fake, "fake", 2)
    _same_bins(r, f, "real", "fake")
    nr = np.linalg.norm(correlation(r), "fro")
    return float((np.linalg.norm(correlation(f), "fro") - nr) / nr)


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix."""
    c = 0.5 * (c + c.T)
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: Any, cov1: Any, mu2: Any, cov2: Any) -> float:
    r"""Squared Frechet (Wasserstein-2) distance between two Gaussians.

    :math:`d^2 = \|\mu_1 - \mu_2\|^2 + \mathrm{Tr}(C_1 + C_2 - 2 (C_1 C_2)^{1/2})`.
    """
    m1, m2 = np.atleast_1d(np.asarray(mu1, float)), np.atleast_1d(np.asarray(mu2, float))
    c1, c2 = np.atleast_2d(np.asarray(cov1, float)), np.atleast_2d(np.asarray(cov2, float))
    if m1.shape != m2.shape or c1.shape != c2.shape or c1.shape != (m1.size, m1.size):
        raise ValueError(
            f"frechet_distance got means {m1.shape}, {m2.shape} and covariances {c1.shape}, {c2.shape}; "
            "accepted are two means (d,) and two covariances (d, d)."
        )
    diff = m1 - m2
    # Tr (C1 C2)^{1/2} = Tr (C1^{1/2} C2 C1^{1/2})^{1/2}: symmetric, so eigh is stable
    s1 = _sqrt_psd(c1)
    tr_covmean = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(s1 @ c2 @ s1), 0.0, None))))
    return float(diff @ diff + np.trace(c1) + np.trace(c2) - 2.0 * tr_covmean)


def frechet_distance_samples(x: Any, y: Any) -> float:
    """Squared Frechet distance between Gaussians fitted to two samples ``(n, d)``."""
    a, b = _stat2d(x, "x", 2), _stat2d(y, "y", 2)
    _same_bins(a, b, "x", "y")
    return frechet_distance(
        a.mean(0), np.atleast_2d(np.cov(a, rowvar=False)), b.mean(0), np.atleast_2d(np.cov(b, rowvar=False))
    )


def log_statistic(real: Any, fake: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""P4's :math:`\log_{10}(s + \varepsilon)` with :math:`\varepsilon = \max_b \langle s^r \rangle / 10^5`.

    Bins that are NaN in any sample (e.g. empty k bins) are dropped from both.
    """
    r = np.asarray(real, float)
    f = np.asarray(fake, float)
    if r.ndim != 2 or f.ndim != 2 or r.shape[1] != f.shape[1]:
        raise ValueError(
            f"real {r.shape} and fake {f.shape}; accepted are (n_samples, n_bins) arrays on the same bins."
        )
    keep = ~(np.isnan(r).any(0) | np.isnan(f).any(0))
    r, f = r[:, keep], f[:, keep]
    if (r < 0).any() or (f < 0).any():
        raise ValueError("S* takes non-negative statistics (power spectra, histograms); accepted are values >= 0.")
    eps = np.max(r.mean(axis=0)) / 1e5
    return np.log10(r + eps), np.log10(f + eps)


def s_star(real: Any, fake: Any) -> float:
    r"""P4's score :math:`S^* = 1/d^2` between Gaussians fitted to the log statistics."""
    lr, lf = log_statistic(real, fake)
    return 1.0 / frechet_distance_samples(lr, lf)


def reference_s_star(real: Any) -> float:
    """P4's reference score: :func:`s_star` between the first and second half of the real sample."""
    r = np.asarray(real, float)
    h = r.shape[0] // 2
    if h < 2:
        raise ValueError(f"real has {r.shape[0]} samples; accepted are at least 4 for a split reference.")
    return s_star(r[:h], r[h : 2 * h])


def fid_like(features_real: Any, features_fake: Any, sqrt: bool = True, formula: str = "frechet") -> float:
    r"""P2's Frechet distance between feature-network outputs (e.g. a cosmology regressor).

    Both samples are standardized with the real sample's per-feature mean and std, then
    ``formula="frechet"`` (default, as in the authors' code) uses :func:`frechet_distance`;
    ``formula="p2_text"`` uses the paper's printed :math:`\|\mu_r - \mu_g\|^2 +
    \|\Sigma_r^{1/2} - \Sigma_g^{1/2}\|_F^2`. The square root is returned when ``sqrt``.
    """
    r, f = _stat2d(features_real, "features_real", 2), _stat2d(features_fake, "features_fake", 2)
    _same_bins(r, f, "features_real", "features_fake")
    mu, sd = r.mean(0), r.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    r, f = (r - mu) / sd, (f - mu) / sd
    if formula == "frechet":
        d2 = frechet_distance_samples(r, f)
    elif formula == "p2_text":
        cr, cf = np.atleast_2d(np.cov(r, rowvar=False)), np.atleast_2d(np.cov(f, rowvar=False))
        sr, sf = _sqrt_psd(cr), _sqrt_psd(cf)
        dm = r.mean(0) - f.mean(0)
        d2 = float(dm @ dm + np.sum((sr - sf) ** 2))
    else:
        raise ValueError(f"formula is {formula!r}; accepted are 'frechet' and 'p2_text'.")
    d2 = max(d2, 0.0)
    return float(np.sqrt(d2)) if sqrt else float(d2)
