"""Flat LambdaCDM cosmology backed by pyccl, in the book's units.

Lengths are comoving Mpc/h, wavenumbers h/Mpc, power spectra (Mpc/h)^3. The growth
factor D(z) is normalised to D(0) = 1. Every quantity the simulator and the lensing code
need comes from here, so the physics of the whole book rests on one validated library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Cosmology", "kids450_nz", "SPEED_OF_LIGHT_KM_S"]

SPEED_OF_LIGHT_KM_S = 299792.458


def _check_positive(name: str, value: float, upper: float | None = None) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}.") from None
    if not math.isfinite(value) or value <= 0 or (upper is not None and value >= upper):
        accepted = f"in (0, {upper})" if upper is not None else "> 0"
        raise ValueError(f"{name} must be {accepted}, got {value}.")
    return value


def _as_array(name: str, values, minimum: float | None = None) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {values!r}.") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers, got {values!r}.")
    if minimum is not None and np.any(arr < minimum):
        raise ValueError(f"{name} must be >= {minimum}, got a minimum of {arr.min()}.")
    return arr


def kids450_nz(z) -> np.ndarray:
    """Non-tomographic KiDS-450-like source redshift distribution (unnormalised).

    A Smail form n(z) ~ z^2 exp(-(z/z0)^1.5) with z0 = 0.5, whose mean redshift is z0 Gamma(8/3) = 0.752,
    close to the full KiDS-450 sample (0.1 < z_B < 0.9) that Fluri et al. (2019) used.
    The exact DIR histogram of KiDS-450 is not reproduced here; this form is stated in the
    book wherever P2's data are simulated.

    Parameters
    ----------
    z : array_like
        Redshifts.
    """
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z**2 * np.exp(-((np.clip(z, 0, None) / 0.5) ** 1.5)), 0.0)


@dataclass(frozen=True)
class Cosmology:
    """Flat LambdaCDM cosmology (pyccl inside), immutable and hashable.

    Parameters
    ----------
    omega_m : float
        Total matter density today, Omega_m (cold dark matter + baryons), in (0, 1).
    sigma8 : float
        Amplitude of linear fluctuations in 8 Mpc/h spheres today, > 0.
    h : float
        Dimensionless Hubble constant, H0 = 100 h km/s/Mpc.
    omega_b : float
        Baryon density today, Omega_b, smaller than omega_m.
    n_s : float
        Spectral index of the primordial power spectrum.
    """

    omega_m: float
    sigma8: float
    h: float = 0.7
    omega_b: float = 0.045
    n_s: float = 0.96
    _ccl: object = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        omega_m = _check_positive("omega_m", self.omega_m, upper=1.0)
        sigma8 = _check_positive("sigma8", self.sigma8)
        h = _check_positive("h", self.h, upper=2.0)
        omega_b = _check_positive("omega_b", self.omega_b, upper=omega_m)
        n_s = _check_positive("n_s", self.n_s, upper=2.0)
        for name, value in dict(omega_m=omega_m, sigma8=sigma8, h=h, omega_b=omega_b, n_s=n_s).items():
            object.__setattr__(self, name, value)
        import pyccl

        ccl = pyccl.Cosmology(
            Omega_c=omega_m - omega_b,
            Omega_b=omega_b,
            h=h,
            sigma8=sigma8,
            n_s=n_s,
            transfer_function="eisenstein_hu",
            matter_power_spectrum="halofit",
        )
        object.__setattr__(self, "_ccl", ccl)

    # -- background -------------------------------------------------------------------
    def as_dict(self) -> dict:
        """Parameters as a plain dict (for metadata and cache keys)."""
        return dict(omega_m=self.omega_m, sigma8=self.sigma8, h=self.h, omega_b=self.omega_b, n_s=self.n_s)

    def mean_matter_density(self) -> float:
        """Mean comoving matter density today, Omega_m rho_crit, in solar masses per Mpc^3 (not (Mpc/h)^3).

        rho_crit = 3 H0^2 / (8 pi G) = 2.775e11 h^2 M_sun / Mpc^3 (pyccl's constants).
        """
        import pyccl

        return float(self.omega_m * pyccl.physical_constants.RHO_CRITICAL * self.h**2)

    def efunc(self, a) -> np.ndarray:
        """E(a) = H(a)/H0 at scale factor(s) a."""
        import pyccl

        return pyccl.h_over_h0(self._ccl, _as_array("a", a, minimum=1e-8))

    def growth_factor(self, z) -> np.ndarray:
        """Linear growth factor D(z), normalised so that D(0) = 1."""
        import pyccl

        return pyccl.growth_factor(self._ccl, 1.0 / (1.0 + _as_array("z", z, minimum=0.0)))

    def growth_rate(self, z) -> np.ndarray:
        """Logarithmic growth rate f(z) = dln D / dln a."""
        import pyccl

        return pyccl.growth_rate(self._ccl, 1.0 / (1.0 + _as_array("z", z, minimum=0.0)))

    def comoving_distance(self, z) -> np.ndarray:
        """Comoving radial distance chi(z) in Mpc/h."""
        import pyccl

        a = 1.0 / (1.0 + _as_array("z", z, minimum=0.0))
        return pyccl.comoving_radial_distance(self._ccl, a) * self.h

    def redshift_at_distance(self, chi) -> np.ndarray:
        """Inverse of :meth:`comoving_distance`: z at comoving distance chi (Mpc/h)."""
        import pyccl

        chi = _as_array("chi", chi, minimum=0.0)
        a = pyccl.scale_factor_of_chi(self._ccl, chi / self.h)
        return 1.0 / np.asarray(a) - 1.0

    # -- power spectra ----------------------------------------------------------------
    def _power(self, kind: str, k, z) -> np.ndarray:
        import pyccl

        k = _as_array("k", k)
        if np.any(k <= 0):
            raise ValueError("k must be > 0 (h/Mpc).")
        zs = _as_array("z", z, minimum=0.0)
        func = pyccl.linear_matter_power if kind == "linear" else pyccl.nonlin_matter_power
        out = np.stack([func(self._ccl, k * self.h, 1.0 / (1.0 + zi)) * self.h**3 for zi in zs])
        return out[0] if np.ndim(z) == 0 else out

    def pk_linear(self, k, z=0.0) -> np.ndarray:
        """Linear matter power spectrum P_lin(k, z) in (Mpc/h)^3, k in h/Mpc.

        Returns shape ``(len(k),)`` for scalar z, else ``(len(z), len(k))``.
        """
        return self._power("linear", k, z)

    def pk_halofit(self, k, z=0.0) -> np.ndarray:
        """Non-linear (halofit, Takahashi 2012) matter power spectrum in (Mpc/h)^3."""
        return self._power("halofit", k, z)

    # -- lensing ----------------------------------------------------------------------
    def convergence_cl(self, ell, z_source: float | None = None, nz=None) -> np.ndarray:
        """Theory convergence power spectrum C_ell (Limber, halofit P(k)).

        Parameters
        ----------
        ell : array_like
            Multipoles.
        z_source : float, optional
            Single source redshift (a delta-function n(z)).
        nz : tuple of (z, n) arrays, or callable, optional
            Source redshift distribution; a callable is evaluated on a fine z grid.
            Exactly one of ``z_source`` and ``nz`` must be given.
        """
        import pyccl

        ell = _as_array("ell", ell, minimum=0.0)
        z, n = self._source_distribution(z_source, nz)
        tracer = pyccl.WeakLensingTracer(self._ccl, dndz=(z, n))
        # pyccl wants increasing, distinct multipoles: evaluate those and map back
        unique, inverse = np.unique(ell, return_inverse=True)
        return np.asarray(pyccl.angular_cl(self._ccl, tracer, tracer, unique))[inverse.ravel()]

    @staticmethod
    def _source_distribution(z_source, nz) -> tuple[np.ndarray, np.ndarray]:
        if (z_source is None) == (nz is None):
            raise ValueError("give exactly one of z_source (a redshift > 0) or nz ((z, n) arrays or a callable).")
        if z_source is not None:
            zs = _check_positive("z_source", z_source)
            # A narrow Gaussian stands in for the delta function; 0.2% width changes C_ell by < 1e-4.
            width = 0.002 * zs
            z = np.linspace(max(zs - 6 * width, 1e-4), zs + 6 * width, 201)
            return z, np.exp(-0.5 * ((z - zs) / width) ** 2)
        if callable(nz):
            z = np.linspace(1e-3, 4.0, 800)
            n = np.asarray(nz(z), dtype=np.float64)
        else:
            z, n = (np.asarray(v, dtype=np.float64) for v in nz)
        if z.ndim != 1 or z.shape != n.shape or z.size < 2 or np.any(np.diff(z) <= 0) or np.any(n < 0) or n.sum() <= 0:
            raise ValueError("nz must be increasing z with the same number of non-negative n values, not all zero.")
        return z, n

    def __reduce__(self):
        return (Cosmology, tuple(self.as_dict().values()))
