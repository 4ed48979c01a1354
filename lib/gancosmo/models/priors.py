r"""Latent priors of P3: Gaussian and heavy-tailed Student-t, and the post-training width calibration.

P3 (Sect. III D) replaces the usual :math:`z \sim N(0, I)` by independent Student-t components
with :math:`\nu` degrees of freedom (:math:`\nu = 10` in the paper), whose heavier tails let the
generator reproduce the sample variance of high-density voxels. Both priors here are
location-scale families with a ``scale`` (width) parameter: :math:`z = s\,t` with :math:`t`
standard. The variance of a component is :math:`s^2` (Gaussian) or
:math:`s^2\nu/(\nu - 2)` (Student-t, finite for :math:`\nu > 2`).

A sampler has the signature used by :class:`gancosmo.train.Trainer`'s ``latent_sampler=``:
``sampler(n, dim, device, generator) -> z`` of shape ``(n, dim)``, drawing every random
number from ``generator`` (so runs are reproducible and resumable). The Student-t sampler
uses the inverse CDF of uniform draws (scipy's ``t.ppf``, in float64), which works for any
real :math:`\nu > 0` with a seeded torch generator.

After training P3 "calibrates the model to the training set by perturbing the scale width of
the latent distribution, typically at the percent level", having noticed that the mean power
spectrum of generated samples grows with the latent width (Appendix A).
:func:`calibrate_width` finds the width at which a statistic (e.g. the log ratio of the mean
generated to the mean real power spectrum) crosses zero on a grid of widths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.stats
import torch

__all__ = [
    "PRIORS",
    "gaussian_sampler",
    "student_t_sampler",
    "make_sampler",
    "prior_variance",
    "calibrate_width",
    "PriorSummary",
    "prior_summary",
]

PRIORS = ("gaussian", "student-t")


def _positive(name: str, value, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(float(value))
        or float(value) <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0 ({what}), got {value!r}.")
    return float(value)


def gaussian_sampler(scale: float = 1.0) -> Callable:
    """A sampler of ``z ~ N(0, scale^2 I)``: ``sampler(n, dim, device, generator) -> (n, dim)`` float32."""
    s = _positive("scale", scale, "the width of the latent distribution")

    def sample(n: int, dim: int, device=None, generator: torch.Generator | None = None) -> torch.Tensor:
        dev = generator.device if generator is not None else (device or "cpu")
        z = torch.randn(n, dim, device=dev, generator=generator)
        return (s * z).to(device or dev)

    sample.prior, sample.scale, sample.nu = "gaussian", s, None
    return sample


def student_t_sampler(nu: float = 10.0, scale: float = 1.0) -> Callable:
    r"""A sampler of independent Student-t components with ``nu`` degrees of freedom, times ``scale``.

    Each component has density :math:`\propto (1 + t^2/\nu)^{-(\nu+1)/2}` (before scaling) and
    variance :math:`\nu/(\nu - 2)` for :math:`\nu > 2`.
    """
    v = _positive("nu", nu, "the Student-t degrees of freedom; P3: 10")
    s = _positive("scale", scale, "the width of the latent distribution")

    def sample(n: int, dim: int, device=None, generator: torch.Generator | None = None) -> torch.Tensor:
        dev = generator.device if generator is not None else (device or "cpu")
        u = torch.rand(n, dim, device=dev, generator=generator, dtype=torch.float64)
        # keep u inside (0, 1): ppf(0) = -inf
        u = u.clamp(1e-300, 1 - 1e-16).cpu().numpy()
        t = scipy.stats.t.ppf(u, v)
        return (s * torch.from_numpy(t)).float().to(device or dev)

    sample.prior, sample.scale, sample.nu = "student-t", s, v
    return sample


def make_sampler(prior: str, nu: float = 10.0, scale: float = 1.0) -> Callable:
    """The sampler of ``prior`` (``"gaussian"`` or ``"student-t"``) at width ``scale``."""
    if prior == "gaussian":
        return gaussian_sampler(scale)
    if prior == "student-t":
        return student_t_sampler(nu, scale)
    raise ValueError(f"prior must be one of {', '.join(repr(p) for p in PRIORS)}, got {prior!r}.")


def prior_variance(prior: str, nu: float = 10.0, scale: float = 1.0) -> float:
    """Variance of one latent component (inf for a Student-t with nu <= 2)."""
    make_sampler(prior, nu, scale)  # validates
    if prior == "gaussian":
        return scale**2
    return scale**2 * nu / (nu - 2) if nu > 2 else math.inf


@dataclass(frozen=True)
class PriorSummary:
    """Moments of ``n x dim`` draws of a prior against the exact variance."""

    prior: str
    nu: float
    variance: float
    exact_variance: float
    excess_kurtosis: float
    tail_4: float  # P(|z| > 4)

    def __str__(self) -> str:
        return (
            f"{self.prior:9s}: sample variance {self.variance:.4f} (exact {self.exact_variance:.4f}), excess kurtosis "
            f"{self.excess_kurtosis:.3f}, P(|z| > 4) = {self.tail_4:.2e}"
        )


def prior_summary(prior: str, nu: float = 10.0, n: int = 20000, dim: int = 100, seed: int = 0) -> PriorSummary:
    """Sample variance, excess kurtosis and tail probability of ``n x dim`` draws of ``prior`` (seeded)."""
    z = make_sampler(prior, nu)(n, dim, "cpu", torch.Generator().manual_seed(int(seed))).double()
    kurt = float(((z - z.mean()) ** 4).mean() / z.var() ** 2 - 3)
    return PriorSummary(
        prior, float(nu), float(z.var()), prior_variance(prior, nu), kurt, float((z.abs() > 4).double().mean())
    )


def calibrate_width(statistic: Callable[[float], float], scales) -> dict:
    r"""The latent width at which ``statistic(width)`` crosses zero, on a grid of widths.

    Parameters
    ----------
    statistic : callable
        ``statistic(width) -> float``, e.g. :math:`\langle\log P_{gen}(k)/P_{real}(k)\rangle_k` of
        samples drawn with latents multiplied by ``width`` (the same base latents each time).
    scales : array_like
        Increasing widths to try (P3: percent-level changes around 1).

    Returns
    -------
    dict
        ``scale``: the zero crossing by linear interpolation between the two grid points
        around it (if the statistic changes sign on the grid; else the grid point with the
        smallest ``|statistic|``), ``bracketed`` (bool), ``scales``, ``values``.
    """
    s = np.asarray(scales, dtype=float)
    if s.ndim != 1 or s.size < 2 or not np.all(np.isfinite(s)) or np.any(s <= 0) or np.any(np.diff(s) <= 0):
        raise ValueError("scales must be at least two increasing finite widths > 0 (e.g. numpy.linspace(0.9, 1.1, 9)).")
    values = np.array([float(statistic(float(x))) for x in s])
    ok = np.isfinite(values)
    best, bracketed = None, False
    for i in range(len(s) - 1):
        a, b = values[i], values[i + 1]
        if ok[i] and ok[i + 1] and (a == 0 or a * b < 0):
            best = s[i] if a == 0 else s[i] + (s[i + 1] - s[i]) * a / (a - b)
            bracketed = True
            break
    if best is None:
        if not ok.any():
            raise ValueError("the statistic was not finite at any width; nothing to calibrate.")
        best = s[np.nanargmin(np.where(ok, np.abs(values), np.nan))]
    if not bracketed and ok[-1] and values[-1] == 0:
        best, bracketed = s[-1], True
    return dict(scale=float(best), bracketed=bracketed, scales=s, values=values)
