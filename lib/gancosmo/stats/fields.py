r"""Gaussian and lognormal random fields with a prescribed spectrum (test inputs, demos, null emulators).

Conventions
-----------
Normalisations match the estimators in :mod:`gancosmo.stats.power`: the expected value of
``power_spectrum_2d`` on a map from :func:`gaussian_maps` or :func:`lognormal_maps` is the
input :math:`C_\ell` (sr, sampled on the Fourier grid), and the expected value of
``power_spectrum_3d`` on a cube from :func:`gaussian_cubes` or :func:`lognormal_cubes` is
the input :math:`P(k)` ((Mpc/h)^3, k in h/Mpc). For the lognormal fields the requested
spectrum is the spectrum of the *lognormal field itself*.

On an ``N``-cell periodic grid every generator works with the discrete power per Fourier
mode :math:`S_{\mathbf k}` (map units squared), whose mean over the grid is the one-point
variance and whose inverse FFT is the correlation function on the grid:
:math:`S = N_\text{pix}\,C_\ell/\Omega` for maps of solid angle :math:`\Omega` (sr) and
:math:`S = N_\text{cell}\,P(k)/V` for cubes of volume :math:`V` ((Mpc/h)^3).

Lognormal construction
----------------------
A shifted lognormal field with shift :math:`\lambda` (the magnitude of its lower bound) is
:math:`x = \lambda\,(e^{g - \sigma_g^2/2} - 1)`, ``g`` Gaussian with variance
:math:`\sigma_g^2`; then :math:`1 + \xi_x(r)/\lambda^2 = e^{\xi_g(r)}`. So ``g`` is drawn with
the "Gaussianised" spectrum: the target spectrum sampled on the FFT grid is transformed to
the correlation function :math:`\xi` (inverse FFT), mapped to
:math:`\xi_g = \ln(1 + \xi/\lambda^2)` and transformed back (forward FFT); modes where that
power is negative (the target is not exactly lognormal-realisable there) are clipped to 0.
:math:`\sigma_g^2` is the variance implied by the clipped spectrum of ``g`` (not the sample
variance of a realisation), so :math:`\langle x \rangle = 0` exactly in expectation.

The target spectra have no power in the DC mode, but a periodic lognormal field cannot have
an exactly zero mean in every realisation (by Jensen's inequality the Gaussianised DC power
:math:`\sum_r \ln(1 + \xi(r)/\lambda^2)` is negative). Rather than clip that DC power (which
would multiply the power of *every* other mode by :math:`e^{c}`, :math:`c` = the clipped DC
power over :math:`N`, a bias of up to a few per cent for strongly non-Gaussian fields), the
target's DC power is set to the smallest value for which the Gaussianised DC power is zero.
All modes ``k != 0`` are then reproduced exactly (where no clipping occurs); the price is a
small realisation-to-realisation scatter of the field mean, of variance :math:`c\lambda^2`,
which the estimators (DC excluded) do not see.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from itertools import permutations, product
from typing import Any

import numpy as np

__all__ = [
    "gaussian_maps",
    "lognormal_maps",
    "gaussian_cubes",
    "lognormal_cubes",
    "lognormal_maps_like",
    "lognormal_cubes_like",
    "lognormal_skewness",
    "shift_from_skewness",
    "power_law_cl",
    "power_law_pk",
]

#: Share of the Gaussianised power that may be negative (and is clipped) before a warning.
CLIP_WARN_FRACTION = 1e-2


# --------------------------------------------------------------------------------------
# Spectra
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# One-point relations of the shifted lognormal
# --------------------------------------------------------------------------------------
def lognormal_skewness(sigma: float, shift: float) -> float:
    r"""Skewness of a shifted lognormal of standard deviation ``sigma`` and shift ``shift``.

    :math:`\gamma = 3y + y^3` with :math:`y = \sigma/\lambda` (same units for both);
    a negative ``shift`` (mirrored lognormal) gives the negative of that.
    """
    y = sigma / abs(shift)
    return math.copysign(3.0 * y + y**3, shift)


def shift_from_skewness(sigma: float, skewness: float) -> float:
    r"""Shift :math:`\lambda` of the shifted lognormal with standard deviation ``sigma`` and ``skewness``.

    Solves :math:`y^3 + 3y = |\gamma|` for :math:`y = \sigma/|\lambda|` (Cardano; one real
    root) and returns :math:`\lambda = \operatorname{sign}(\gamma)\,\sigma/y`, in the units of
    ``sigma``: negative for a negatively skewed (mirrored) lognormal, ``inf`` for zero
    skewness (the Gaussian limit).
    """
    if skewness == 0:
        return math.inf
    s = abs(skewness)
    r = math.sqrt(0.25 * s * s + 1.0)
    y = np.cbrt(0.5 * s + r) + np.cbrt(0.5 * s - r)
    if not y > 0:  # |skewness| so small that Cardano cancels: first order, y = s/3
        y = s / 3.0
    return math.copysign(sigma / float(y), skewness)


# --------------------------------------------------------------------------------------
# Input checks (one ValueError sentence naming the parameter and what is accepted)
# --------------------------------------------------------------------------------------
def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} is {value!r}; accepted is an integer >= {low}.")
    return int(value)


def _check_length(value: Any, name: str, unit: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is {value!r}; accepted is a positive finite number in {unit}.") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} is {value!r}; accepted is a positive finite number in {unit}.")
    return v


def _check_shift(value: Any, name: str = "shift") -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} is {value!r}; accepted is a positive finite number (the field's lower bound is -{name})."
        ) from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(
            f"{name} is {value!r}; accepted is a positive finite number (the field's lower bound is -{name})."
        )
    return v


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)):
        raise ValueError(f"seed is {seed!r}; accepted are a non-negative integer, None or a numpy.random.Generator.")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ValueError(
            f"seed is {seed!r}; accepted are a non-negative integer, None or a numpy.random.Generator."
        ) from None


def _evaluate(func: Callable | None, default: Callable, grid: np.ndarray, name: str, unit: str) -> np.ndarray:
    """``func`` on the non-zero wavenumbers of ``grid`` (0 at the DC mode), checked finite and >= 0."""
    func = default if func is None else func
    if not callable(func):
        raise ValueError(f"{name} is a {type(func).__name__}; accepted is a callable returning {unit}, or None.")
    out = np.zeros_like(grid)
    m = grid > 0
    try:
        vals = np.broadcast_to(np.asarray(func(grid[m]), dtype=np.float64), (int(m.sum()),))
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{name} failed on an array of wavenumbers ({err}); accepted is a vectorised callable returning {unit}."
        ) from None
    if not np.all(np.isfinite(vals)) or np.any(vals < 0):
        raise ValueError(
            f"{name} returned negative or non-finite values on the Fourier grid; accepted are finite values >= 0 in "
            f"{unit}."
        )
    out[m] = vals
    return out


# --------------------------------------------------------------------------------------
# Grids and the Gaussianised spectrum
# --------------------------------------------------------------------------------------
def _kgrid(n: int, dim: int) -> np.ndarray:
    """|n| (Fourier pixels) on the real-FFT half grid ``(n,) * (dim - 1) + (n // 2 + 1,)``."""
    f = np.fft.fftfreq(n) * n
    axes = [f] * (dim - 1) + [np.arange(n // 2 + 1, dtype=np.float64)]
    mesh = np.meshgrid(*axes, indexing="ij", sparse=True)
    return np.sqrt(sum(a * a for a in mesh))


def _ell_half(n: int, side_deg: float) -> np.ndarray:
    return _kgrid(n, 2) * (360.0 / side_deg)


def _k_half(n: int, box_size: float) -> np.ndarray:
    return _kgrid(n, 3) * (2.0 * np.pi / box_size)


def _multiplicity(n_half: int, n_last: int) -> np.ndarray:
    """Modes of the full grid that each column of the real-FFT half grid stands for."""
    mult = np.full(n_half, 2.0)  # a mode and its conjugate partner ...
    mult[0] = 1.0
    if n_last % 2 == 0:
        mult[-1] = 1.0  # ... except on the self-conjugate kz = 0 and Nyquist planes
    return mult


def _variance_of_power(S: np.ndarray, shape: tuple) -> float:
    """One-point variance implied by a half-grid per-mode power ``S`` (the full-grid mean of S)."""
    return float(np.sum(S * _multiplicity(S.shape[-1], shape[-1])) / math.prod(shape))


def _gaussianised_power(S: np.ndarray, shape: tuple, shift: float, what: str) -> tuple[np.ndarray, float, dict]:
    r"""Half-grid spectrum of ``g`` for a shifted lognormal of per-mode power ``S`` and ``shift``.

    Returns the clipped spectrum :math:`S_g` (per mode, dimensionless), the variance of ``g``
    it implies, and diagnostics: ``mean_variance``, the variance of the field mean implied by
    the DC power given to the target; ``clipped_fraction``, the share of the Gaussianised
    power that was negative (and set to 0); ``variance_g``.
    """
    axes = tuple(range(len(shape)))
    x = np.fft.irfftn(S, s=shape, axes=axes) / (shift * shift)
    xmin = float(x.min())
    if not 1.0 + xmin > 0:
        raise ValueError(
            f"{what} implies a correlation function reaching {xmin * shift * shift:.3g}, at or below -shift**2 = "
            f"{-shift * shift:.3g}, so no shifted lognormal field with this spectrum exists on this grid; "
            "accepted are a larger shift or a spectrum of smaller amplitude."
        )
    f0 = float(np.log1p(x).sum())
    c = 0.0
    if f0 < 0:  # Jensen: the DC power of ln(1 + xi) is negative; give the target the DC power that zeroes it
        from scipy.optimize import brentq

        c = brentq(lambda cc: float(np.log1p(x + cc).sum()), 0.0, -xmin, xtol=1e-15, rtol=1e-13)
    xg = np.log1p(x + c)
    Sg = np.fft.rfftn(xg, axes=axes).real
    if f0 < 0:
        Sg.flat[0] = 0.0
    mult = _multiplicity(Sg.shape[-1], shape[-1])
    neg = np.minimum(Sg, 0.0)
    total = float(np.sum(np.abs(Sg) * mult))
    clipped = abs(float(np.sum(neg * mult))) / total if total > 0 else 0.0
    Sg = np.maximum(Sg, 0.0)
    var_g = _variance_of_power(Sg, shape)
    if clipped > CLIP_WARN_FRACTION:
        warnings.warn(
            f"{what} is not exactly realisable as a shifted lognormal field on this grid: "
            f"{clipped:.2%} of the Gaussianised power was negative and was set to 0, so the "
            "output spectrum falls below the requested one at high wavenumber.",
            RuntimeWarning,
            stacklevel=3,
        )
    return Sg, var_g, {"mean_variance": c * shift * shift, "clipped_fraction": clipped, "variance_g": var_g}


def _gaussian_from_power(rng: np.random.Generator, n_fields: int, shape: tuple, S: np.ndarray) -> np.ndarray:
    """``n_fields`` Gaussian fields whose per-mode power on the half grid is ``S``."""
    amp = np.sqrt(S)
    axes = tuple(range(1, len(shape) + 1))
    if len(shape) == 2:
        white = rng.standard_normal((n_fields, *shape))
        return np.fft.irfftn(np.fft.rfftn(white, axes=axes) * amp, s=shape, axes=axes)
    out = np.empty((n_fields, *shape))
    ax = tuple(range(len(shape)))
    for i in range(n_fields):  # one white cube at a time bounds the memory
        white = rng.standard_normal(shape)
        out[i] = np.fft.irfftn(np.fft.rfftn(white, axes=ax) * amp, s=shape, axes=ax)
    return out


def _lognormal_from_power(
    rng, n_fields: int, shape: tuple, S: np.ndarray, shift: float, what: str
) -> tuple[np.ndarray, dict]:
    r""":math:`\lambda\,(e^{g - \sigma_g^2/2} - 1)`, ``g`` Gaussian with the spectrum ``S`` (per mode).

    The shift :math:`\lambda` may be < 0 (a mirrored lognormal).
    """
    Sg, var_g, info = _gaussianised_power(S, shape, abs(shift), what)
    g = _gaussian_from_power(rng, n_fields, shape, Sg)
    g -= 0.5 * var_g
    np.expm1(g, out=g)
    g *= shift
    return g, info


# --------------------------------------------------------------------------------------
# Maps
# --------------------------------------------------------------------------------------
def _map_power(n_pix: int, side_deg: float, cl: Callable | None) -> np.ndarray:
    ell = _ell_half(n_pix, side_deg)
    area = np.deg2rad(side_deg) ** 2
    return n_pix * n_pix * _evaluate(cl, power_law_cl(), ell, "cl", "C_ell in sr") / area


def gaussian_maps(n_maps: int, n_pix: int, side_deg: float, cl: Callable | None = None, seed=0) -> np.ndarray:
    r"""Gaussian random maps with angular power spectrum ``cl(ell)``.

    Parameters
    ----------
    n_maps : int
        Number of maps (>= 1).
    n_pix : int
        Side of each map in pixels (>= 2).
    side_deg : float
        Side of each map in degrees.
    cl : callable, optional
        :math:`C_\ell` in sr as a vectorised function of the multipole; evaluated at
        :math:`\ell > 0` of the Fourier grid (the DC mode gets no power). Default
        :func:`power_law_cl`.
    seed : int, None or numpy.random.Generator
        Random seed or generator.

    Returns
    -------
    numpy.ndarray
        ``(n_maps, n_pix, n_pix)`` float64, zero mean; ``power_spectrum_2d`` of it has
        expectation ``cl`` (sampled on the grid).
    """
    n_maps = _check_int(n_maps, "n_maps", 1)
    n_pix = _check_int(n_pix, "n_pix", 2)
    side_deg = _check_length(side_deg, "side_deg", "degrees")
    S = _map_power(n_pix, side_deg, cl)
    return _gaussian_from_power(_rng(seed), n_maps, (n_pix, n_pix), S)


def lognormal_maps(
    n_maps: int, n_pix: int, side_deg: float, cl: Callable | None = None, shift: float = 0.02, seed=0
) -> np.ndarray:
    r"""Shifted lognormal maps :math:`\kappa = \lambda\,(e^{g - \sigma_g^2/2} - 1)` with angular power spectrum ``cl``.

    ``cl`` is the spectrum of :math:`\kappa` itself: ``g`` is drawn with the Gaussianised
    spectrum of :math:`\ln(1 + \kappa/\lambda)` (see the module notes), and
    :math:`\sigma_g^2` is the variance that spectrum implies.

    Parameters
    ----------
    n_maps : int
        Number of maps (>= 1).
    n_pix : int
        Side of each map in pixels (>= 2).
    side_deg : float
        Side of each map in degrees.
    cl : callable, optional
        :math:`C_\ell` of the lognormal map in sr; default :func:`power_law_cl`.
    shift : float
        :math:`\lambda > 0`, in map units: minus the lower bound of :math:`\kappa` (the
        "minimum convergence" of the lensing literature). Smaller is more non-Gaussian: the
        pixel skewness is :math:`3y + y^3`, :math:`y = \sigma_\kappa/\lambda`.
    seed : int, None or numpy.random.Generator
        Random seed or generator.

    Returns
    -------
    numpy.ndarray
        ``(n_maps, n_pix, n_pix)`` float64 with :math:`\kappa > -\lambda`, mean 0 in
        expectation; ``power_spectrum_2d`` of it has expectation ``cl`` at every
        :math:`\ell > 0` (up to the modes clipped when ``cl`` is not lognormal-realisable,
        which raises a :class:`RuntimeWarning` above 1 % of the power).

    Raises
    ------
    ValueError
        For bad arguments, or when ``cl`` implies a correlation function below
        :math:`-\lambda^2` somewhere (no lognormal field has that spectrum).
    """
    n_maps = _check_int(n_maps, "n_maps", 1)
    n_pix = _check_int(n_pix, "n_pix", 2)
    side_deg = _check_length(side_deg, "side_deg", "degrees")
    shift = _check_shift(shift)
    S = _map_power(n_pix, side_deg, cl)
    out, _ = _lognormal_from_power(_rng(seed), n_maps, (n_pix, n_pix), S, shift, f"cl with shift={shift:g}")
    return out


# --------------------------------------------------------------------------------------
# Cubes
# --------------------------------------------------------------------------------------
def _cube_power(n_mesh: int, box_size: float, pk: Callable | None) -> np.ndarray:
    k = _k_half(n_mesh, box_size)
    return _evaluate(pk, power_law_pk(), k, "pk", "P(k) in (Mpc/h)^3") * n_mesh**3 / box_size**3


def gaussian_cubes(n_cubes: int, n_mesh: int, box_size: float, pk: Callable | None = None, seed=0) -> np.ndarray:
    r"""Gaussian random overdensity cubes with power spectrum ``pk(k)``.

    Parameters
    ----------
    n_cubes : int
        Number of cubes (>= 1).
    n_mesh : int
        Side of each cube in cells (>= 2).
    box_size : float
        Side of each cube in Mpc/h.
    pk : callable, optional
        :math:`P(k)` in (Mpc/h)^3 as a vectorised function of k in h/Mpc; evaluated at
        :math:`k > 0` of the grid. Default :func:`power_law_pk`.
    seed : int, None or numpy.random.Generator
        Random seed or generator.

    Returns
    -------
    numpy.ndarray
        ``(n_cubes, n, n, n)`` float64, zero mean; ``power_spectrum_3d`` of it has
        expectation ``pk``.
    """
    n_cubes = _check_int(n_cubes, "n_cubes", 1)
    n_mesh = _check_int(n_mesh, "n_mesh", 2)
    box_size = _check_length(box_size, "box_size", "Mpc/h")
    S = _cube_power(n_mesh, box_size, pk)
    return _gaussian_from_power(_rng(seed), n_cubes, (n_mesh,) * 3, S)


def lognormal_cubes(
    n_cubes: int, n_mesh: int, box_size: float, pk: Callable | None = None, shift: float = 1.0, seed=0
) -> np.ndarray:
    r"""Lognormal overdensity cubes :math:`\delta = \lambda\,(e^{g - \sigma_g^2/2} - 1)` with power spectrum ``pk``.

    ``pk`` is the spectrum of :math:`\delta` itself (``g`` is drawn with the Gaussianised
    spectrum, see the module notes). With the default ``shift = 1``,
    :math:`\delta = e^{g - \sigma_g^2/2} - 1 > -1`, so :math:`1 + \delta = \rho/\bar\rho > 0`.

    Parameters
    ----------
    n_cubes : int
        Number of cubes (>= 1).
    n_mesh : int
        Side of each cube in cells (>= 2).
    box_size : float
        Side of each cube in Mpc/h.
    pk : callable, optional
        :math:`P(k)` of :math:`\delta` in (Mpc/h)^3, k in h/Mpc; default :func:`power_law_pk`.
    shift : float
        :math:`\lambda > 0`: minus the lower bound of :math:`\delta` (1 for a density contrast).
    seed : int, None or numpy.random.Generator
        Random seed or generator.

    Returns
    -------
    numpy.ndarray
        ``(n_cubes, n, n, n)`` float64 with :math:`\delta > -\lambda`, mean 0 in expectation;
        ``power_spectrum_3d`` of it has expectation ``pk`` at every :math:`k > 0` (up to
        clipped modes, see :func:`lognormal_maps`).

    Raises
    ------
    ValueError
        For bad arguments, or when ``pk`` is not realisable as a lognormal field on the grid.
    """
    n_cubes = _check_int(n_cubes, "n_cubes", 1)
    n_mesh = _check_int(n_mesh, "n_mesh", 2)
    box_size = _check_length(box_size, "box_size", "Mpc/h")
    shift = _check_shift(shift)
    S = _cube_power(n_mesh, box_size, pk)
    out, _ = _lognormal_from_power(_rng(seed), n_cubes, (n_mesh,) * 3, S, shift, f"pk with shift={shift:g}")
    return out


# --------------------------------------------------------------------------------------
# Null emulators: lognormal fields with the measured spectrum and one-point moments
# --------------------------------------------------------------------------------------
def _symmetrise(P: np.ndarray) -> np.ndarray:
    """Average a full-grid power array over the square/cubic lattice group (axis permutations, reflections)."""
    dim = P.ndim
    acc = np.zeros_like(P)
    count = 0
    for perm in permutations(range(dim)):
        Q = np.transpose(P, perm)
        for flips in product((False, True), repeat=dim):
            R = Q
            for a, f in enumerate(flips):
                if f:  # k -> -k (mod n) along axis a
                    R = np.roll(np.flip(R, axis=a), 1, axis=a)
            acc += R
            count += 1
    return acc / count


def _measure(x: np.ndarray, symmetrise: bool) -> tuple[np.ndarray, dict]:
    """Per-mode power (half grid) of the per-field mean-subtracted batch, and pooled one-point moments."""
    B, shape = x.shape[0], x.shape[1:]
    ncell = math.prod(shape)
    mean = float(x.mean())
    d = x - mean
    var = float(np.mean(d * d))
    skew = float(np.mean(d * d * d) / var**1.5) if var > 0 else 0.0
    P = np.zeros(shape)
    for b in range(B):  # full complex FFT, one field at a time (memory)
        y = x[b] - x[b].mean()
        F = np.fft.fftn(y)
        P += F.real**2 + F.imag**2
    P /= B * ncell
    P.flat[0] = 0.0
    if symmetrise:
        P = _symmetrise(P)
    S = np.ascontiguousarray(P[..., : shape[-1] // 2 + 1])
    stats = {"mean": mean, "variance": var, "skewness": skew, "minimum": float(x.min()), "n_fields": B}
    return S, stats


def _choose_shift(stats: dict, shift: Any, name: str, default: str) -> float:
    sigma = math.sqrt(stats["variance"])
    rule = default if shift is None else shift
    if isinstance(rule, str):
        if rule == "skewness":
            return shift_from_skewness(sigma, stats["skewness"])
        if rule == "minimum":
            lam = stats["mean"] - stats["minimum"]
        elif rule == "mean":
            lam = stats["mean"]
            if not lam > 0:
                raise ValueError(
                    f"shift is 'mean' but the mean of {name} is {lam:.4g}; accepted with 'mean' are fields of "
                    f"positive mean (e.g. rho/rho_bar)."
                )
        else:
            raise ValueError(
                f"shift is {rule!r}; accepted are None, 'skewness', 'minimum', 'mean' or a non-zero number in the "
                f"units of {name}."
            )
        return lam
    try:
        lam = float(rule)
    except (TypeError, ValueError):
        raise ValueError(
            f"shift is {rule!r}; accepted are None, 'skewness', 'minimum', 'mean' or a non-zero number in the units "
            f"of {name}."
        ) from None
    if not math.isfinite(lam) or lam == 0:
        raise ValueError(
            f"shift is {rule!r}; accepted are None, 'skewness', 'minimum', 'mean' or a non-zero finite number in the "
            f"units of {name}."
        )
    return lam


def _like(real, name: str, ndim: int, kind: str, length: tuple, n, seed, shift, default_shift, symmetrise, return_info):
    from ._utils import as_batch, to_numpy

    x = to_numpy(as_batch(real, name, ndim, kind)).astype(np.float64)
    n = _check_int(n, "n", 0)
    if not isinstance(symmetrise, (bool, np.bool_)):
        raise ValueError(f"symmetrise is {symmetrise!r}; accepted is True or False.")
    S, stats = _measure(x, bool(symmetrise))
    if not stats["variance"] > 0:
        raise ValueError(f"{name} has zero variance; accepted are fields that fluctuate.")
    default = default_shift(stats) if callable(default_shift) else default_shift
    lam = _choose_shift(stats, shift, name, default)
    shape = x.shape[1:]
    rng = _rng(seed)
    if math.isinf(lam):  # zero skewness: the Gaussian limit
        out = _gaussian_from_power(rng, n, shape, S)
        info = {"mean_variance": 0.0, "clipped_fraction": 0.0, "variance_g": math.nan}
        model_var, model_skew = _variance_of_power(S, shape), 0.0
    else:
        out, info = _lognormal_from_power(rng, n, shape, S, lam, f"the spectrum of {name} with shift={lam:.4g}")
        e = math.exp(info["variance_g"])
        model_var = lam * lam * (e - 1.0)
        model_skew = math.copysign((e + 2.0) * math.sqrt(e - 1.0), lam)
    out += stats["mean"]
    out = out.astype(np.float32)
    if not return_info:
        return out
    info = {
        **stats,
        "shift": lam,
        "model_variance": model_var,
        "model_skewness": model_skew,
        **info,
        length[0]: length[1],
    }
    return out, info


def lognormal_maps_like(
    real_maps: Any,
    side_deg: float,
    n: int,
    seed=0,
    shift: float | str | None = None,
    symmetrise: bool = True,
    return_info: bool = False,
):
    r"""Null-emulator maps: shifted lognormal maps with the spectrum and one-point moments of ``real_maps``.

    A "model" that knows only the two-point function and the one-point mean, variance and
    skewness of the training set: anything a generative model gets right beyond it is
    higher-order structure.

    * Spectrum: the mean power per Fourier mode of the per-map mean-subtracted real maps,
      :math:`S_{\mathbf k} = \langle|\tilde\kappa_{\mathbf k}|^2\rangle/N_\text{pix}`, on the
      full FFT grid (no radial binning, so no bin-width or interpolation bias at low
      :math:`\ell`, where modes are few and the spectrum is steep), averaged over the
      square's 8 symmetries (axis swap and reflections, under which the expected power of a
      statistically isotropic field is invariant, pixel window included) to cut the
      per-mode noise; ``symmetrise=False`` keeps anisotropic spectra. The output's
      ``power_spectrum_2d`` therefore has, bin for bin, the expectation of the real one.
    * One-point: the pooled mean :math:`\mu`, variance :math:`\sigma^2`, skewness
      :math:`\gamma` and minimum of all pixels. The variance is fixed by the spectrum
      (Parseval), up to the scatter of the map means; the shift is fitted to the skewness:
      :math:`\lambda = \sigma/y`, :math:`y^3 + 3y = \gamma`. A negatively skewed set gives a
      mirrored lognormal (:math:`\lambda < 0`, bounded above), zero skewness a Gaussian field.
    * Output: :math:`\mu + \lambda\,(e^{g - \sigma_g^2/2} - 1)`.

    Parameters
    ----------
    real_maps : array_like or torch.Tensor
        ``(B, N, N)`` training maps (e.g. convergence, dimensionless).
    side_deg : float
        Side of each map in degrees (recorded in the info; the output has the same pixels).
    n : int
        Number of maps to generate (>= 0).
    seed : int, None or numpy.random.Generator
        Random seed or generator.
    shift : None, 'skewness', 'minimum', 'mean' or float
        :math:`\lambda` in map units. None or 'skewness': from the pooled skewness (above);
        'minimum': :math:`\mu - \min` (the output then never goes below the real minimum);
        'mean': :math:`\mu`; a number: that value (negative for a mirrored lognormal).
    symmetrise : bool
        Average the measured power over the lattice symmetries.
    return_info : bool
        Also return a dict of the measured moments (``mean``, ``variance``, ``skewness``,
        ``minimum``), the chosen ``shift``, the model's ``model_variance`` and
        ``model_skewness``, and the construction's ``mean_variance`` (the variance of the
        field means it implies) and ``clipped_fraction``.

    Returns
    -------
    numpy.ndarray
        ``(n, N, N)`` float32 maps in the units of ``real_maps``.
    dict
        Only if ``return_info``.
    """
    side_deg = _check_length(side_deg, "side_deg", "degrees")
    return _like(
        real_maps,
        "real_maps",
        3,
        "maps (B, H, W)",
        ("side_deg", side_deg),
        n,
        seed,
        shift,
        "skewness",
        symmetrise,
        return_info,
    )


def lognormal_cubes_like(
    real_cubes: Any,
    box_size: float,
    n: int,
    seed=0,
    shift: float | str | None = None,
    symmetrise: bool = True,
    return_info: bool = False,
):
    r"""Null-emulator cubes: shifted lognormal cubes with the spectrum and one-point moments of ``real_cubes``.

    As :func:`lognormal_maps_like` (full-grid per-mode power averaged over the cube's 48
    symmetries; pooled one-point moments), for ``(B, N, N, N)`` cubes, typically
    :math:`\rho/\bar\rho` (mean 1). The default shift is the physical one for a density:
    when every real cell is :math:`\ge 0`, :math:`\lambda = \mu` (1 for
    :math:`\rho/\bar\rho`), so the output is :math:`\mu\,e^{g - \sigma_g^2/2} > 0`, the
    lognormal density model, and its skewness (:math:`3\sigma/\mu + (\sigma/\mu)^3`) is a
    prediction, not a fit (see ``info['skewness']`` against ``info['model_skewness']``).
    Fields with negative values (e.g. :math:`\delta` or log-densities) get the skewness fit.

    Parameters
    ----------
    real_cubes : array_like or torch.Tensor
        ``(B, N, N, N)`` training cubes.
    box_size : float
        Side of each cube in Mpc/h (recorded in the info; the output has the same cells).
    n : int
        Number of cubes to generate (>= 0).
    seed : int, None or numpy.random.Generator
        Random seed or generator.
    shift : None, 'skewness', 'minimum', 'mean' or float
        :math:`\lambda` in the units of the cubes; None: 'mean' if ``real_cubes.min() >= 0``,
        else 'skewness' (see :func:`lognormal_maps_like`).
    symmetrise : bool
        Average the measured power over the lattice symmetries.
    return_info : bool
        Also return the dict described in :func:`lognormal_maps_like`.

    Returns
    -------
    numpy.ndarray
        ``(n, N, N, N)`` float32 cubes in the units of ``real_cubes``.
    dict
        Only if ``return_info``.
    """
    box_size = _check_length(box_size, "box_size", "Mpc/h")
    default = lambda st: "mean" if st["minimum"] >= 0 and st["mean"] > 0 else "skewness"  # noqa: E731
    return _like(
        real_cubes,
        "real_cubes",
        4,
        "cubes (B, D, H, W)",
        ("box_size", box_size),
        n,
        seed,
        shift,
        default,
        symmetrise,
        return_info,
    )
