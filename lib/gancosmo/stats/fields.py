r"""Gaussian and lognormal random fields with a prescribed spectrum (test inputs, demos).

Normalizations match the estimators in :mod:`gancosmo.stats.power`, so the expected value
of ``power_spectrum_2d`` on a Gaussian map is the input :math:`C_\ell` (sampled on the
Fourier grid), and likewise ``power_spectrum_3d`` returns the input :math:`P(k)`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = [
    "gaussian_maps",
    "lognormal_maps",
    "gaussian_cubes",
    "lognormal_cubes",
    "power_law_cl",
    "power_law_pk",
]


def power_law_cl(amplitude: float = 1e-9, slope: float = -1.0, ell0: float = 1000.0) -> Callable:
    r"""Return :math:`C_\ell = A (\ell/\ell_0)^{n}` (sr), 0 at :math:`\ell = 0`."""

    def cl(ell):
        ell = np.asarray(ell, dtype=np.float64)
        out = np.zeros_like(ell)
        m = ell > 0
        out[m] = amplitude * (ell[m] / ell0) ** slope
        return out

    return cl


def power_law_pk(amplitude: float = 1e3, slope: float = -1.5, k0: float = 0.1) -> Callable:
    r"""Return :math:`P(k) = A (k/k_0)^{n}` ((Mpc/h)^3), 0 at :math:`k = 0`."""

    def pk(k):
        k = np.asarray(k, dtype=np.float64)
        out = np.zeros_like(k)
        m = k > 0
        out[m] = amplitude * (k[m] / k0) ** slope
        return out

    return pk


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def gaussian_maps(n_maps: int, n_pix: int, side_deg: float, cl: Callable | None = None, seed=0) -> np.ndarray:
    r"""Gaussian random maps with angular power spectrum ``cl(ell)``.

    Parameters
    ----------
    n_maps, n_pix : int
        Batch size and side in pixels.
    side_deg : float
        Map side in degrees.
    cl : callable, optional
        :math:`C_\ell` in sr as a function of multipole; default :func:`power_law_cl`.
    seed : int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        ``(n_maps, n_pix, n_pix)`` float64, zero mean.
    """
    cl = cl or power_law_cl()
    rng = _rng(seed)
    area = np.deg2rad(side_deg) ** 2
    lpix = 360.0 / side_deg
    fx = np.fft.fftfreq(n_pix) * n_pix
    fy = np.arange(n_pix // 2 + 1)
    ell = np.sqrt(fx[:, None] ** 2 + fy[None, :] ** 2) * lpix
    amp = n_pix * np.sqrt(cl(ell) / area)
    white = rng.standard_normal((n_maps, n_pix, n_pix))
    return np.fft.irfft2(np.fft.rfft2(white) * amp, s=(n_pix, n_pix))


def lognormal_maps(n_maps: int, n_pix: int, side_deg: float, cl: Callable | None = None, shift: float = 0.02, seed=0) -> np.ndarray:
    r"""Shifted lognormal maps :math:`\kappa = \kappa_0 (e^{g - \sigma_g^2/2} - 1)`, ``g`` Gaussian with ``cl``."""
    g = gaussian_maps(n_maps, n_pix, side_deg, cl, seed) / shift
    var = g.var(axis=(1, 2), keepdims=True)
    return shift * (np.exp(g - 0.5 * var) - 1.0)


def gaussian_cubes(n_cubes: int, n_mesh: int, box_size: float, pk: Callable | None = None, seed=0) -> np.ndarray:
    r"""Gaussian random overdensity cubes with power spectrum ``pk(k)`` ((Mpc/h)^3, k in h/Mpc).

    Returns
    -------
    numpy.ndarray
        ``(n_cubes, n, n, n)`` float64, zero mean.
    """
    pk = pk or power_law_pk()
    rng = _rng(seed)
    kf = 2 * np.pi / box_size
    f = np.fft.fftfreq(n_mesh) * n_mesh
    fz = np.arange(n_mesh // 2 + 1)
    k = np.sqrt(f[:, None, None] ** 2 + f[None, :, None] ** 2 + fz[None, None, :] ** 2) * kf
    amp = np.sqrt(pk(k) * n_mesh**3 / box_size**3)
    out = np.empty((n_cubes, n_mesh, n_mesh, n_mesh))
    for i in range(n_cubes):
        white = rng.standard_normal((n_mesh, n_mesh, n_mesh))
        out[i] = np.fft.irfftn(np.fft.rfftn(white) * amp, s=(n_mesh,) * 3, axes=(0, 1, 2))
    return out


def lognormal_cubes(n_cubes: int, n_mesh: int, box_size: float, pk: Callable | None = None, seed=0) -> np.ndarray:
    r"""Lognormal overdensity :math:`\delta = e^{g - \sigma_g^2/2} - 1 \ge -1`, ``g`` Gaussian with ``pk``."""
    g = gaussian_cubes(n_cubes, n_mesh, box_size, pk, seed)
    var = g.var(axis=(1, 2, 3), keepdims=True)
    return np.exp(g - 0.5 * var) - 1.0
