r"""P3's density scaling :math:`c(x) = 2x/(x + \kappa) - 1`, its inverse and error propagation.

P3 (Feder et al. 2020, Eq. 5, after Rodriguez et al. 2018) maps the normalised matter
density :math:`x = \rho/\bar\rho \ge 0` (here ``1 + delta``) into :math:`[-1, 1)`, the range of a
tanh output:

.. math::
   c(x) = \frac{2x}{x + \kappa} - 1 = 1 - \frac{2\kappa}{x + \kappa},\qquad
   x(c) = \kappa\,\frac{1 + c}{1 - c}.

:math:`c(0) = -1`, :math:`c(\kappa) = 0` and :math:`c \to 1` as :math:`x \to \infty`. A larger
:math:`\kappa` spends more of the output range on high densities (P3: :math:`\kappa = 45` at
z = 0, 4 for the redshift-conditional model, 4 in Rodriguez et al.).

Appendix B propagates an error :math:`\delta c` of the network output to the density:

.. math::
   \delta x = \frac{dx}{dc}\,\delta c = \frac{2\kappa}{(1 - c)^2}\,\delta c
            = \frac{(x + \kappa)^2}{2\kappa}\,\delta c,

so for the same :math:`\delta c`, two scalings differ by
:math:`\delta x_1/\delta x_2 = (\kappa_2/\kappa_1)\,((x + \kappa_1)/(x + \kappa_2))^2`, which tends
to :math:`\kappa_2/\kappa_1` for :math:`x \gg \kappa` (Eq. B7).

Every function takes numpy arrays (or Python numbers) or torch tensors and returns the same
kind, on the input's device. Inputs are checked: :math:`\kappa` must be a finite number > 0,
densities must be >= 0 (``+inf`` maps to 1), scaled values must lie in [-1, 1) (1 would be an
infinite density; ``clip=True`` moves values >= 1 just below 1, for a saturated tanh).
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "scale",
    "unscale",
    "scale_derivative",
    "density_error",
    "density_error_at",
    "error_ratio",
    "DensityScaling",
    "check_kappa",
    "CLIP_EPS",
]

#: ``unscale(..., clip=True)`` maps scaled values >= 1 - CLIP_EPS to 1 - CLIP_EPS (x = 2e6 kappa).
CLIP_EPS = 1e-6


def check_kappa(kappa) -> float:
    """``kappa`` as a float; one clear ValueError unless it is a finite number > 0."""
    if (
        isinstance(kappa, bool)
        or not isinstance(kappa, (int, float, np.integer, np.floating))
        or not math.isfinite(float(kappa))
        or float(kappa) <= 0
    ):
        raise ValueError(
            f"kappa must be a finite number > 0 (P3: 45 at z = 0, 4 for the redshift model), got {kappa!r}."
        )
    return float(kappa)


def _array(x, name: str):
    """``x`` as a torch tensor (kept) or a float numpy array; rejects other types."""
    if isinstance(x, torch.Tensor):
        return x if x.is_floating_point() else x.double()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number, a numpy array or a torch tensor of numbers, got {type(x).__name__}."
        ) from None


def _any(mask) -> bool:
    return bool(mask.any()) if isinstance(mask, torch.Tensor) else bool(np.any(mask))


def _isnan(a):
    return torch.isnan(a) if isinstance(a, torch.Tensor) else np.isnan(a)


def _out(a, like):
    """numpy results of scalar inputs come back as Python floats."""
    if isinstance(a, np.ndarray) and a.ndim == 0 and not isinstance(like, np.ndarray):
        return float(a)
    return a


def _density(x):
    a = _array(x, "x")
    if _any(_isnan(a)) or _any(a < 0):
        raise ValueError(
            "x (the normalised density rho/rho_mean = 1 + delta) must be >= 0 and not NaN; "
            "accepted are densities in [0, inf]."
        )
    return a


def _scaled(c, clip: bool = False):
    a = _array(c, "c")
    if _any(_isnan(a)) or _any(a < -1):
        raise ValueError("c (the scaled density) must lie in [-1, 1); got a value below -1 or NaN.")
    if clip:
        a = a.clamp(max=1 - CLIP_EPS) if isinstance(a, torch.Tensor) else np.minimum(a, 1 - CLIP_EPS)
    elif _any(a >= 1):
        raise ValueError(
            "c (the scaled density) must lie in [-1, 1): c = 1 is an infinite density; "
            "pass clip=True to map saturated values (>= 1) to 1 - 1e-6."
        )
    return a


def scale(x, kappa: float = 45.0):
    r"""P3's Eq. 5: :math:`c = 2x/(x + \kappa) - 1 \in [-1, 1)`.

    Parameters
    ----------
    x : array_like or torch.Tensor
        Normalised density :math:`\rho/\bar\rho = 1 + \delta` (dimensionless, >= 0).
    kappa : float
        Scaling parameter (> 0; P3: 45).
    """
    k = check_kappa(kappa)
    a = _density(x)
    return _out(1.0 - 2.0 * k / (a + k), x)


def unscale(c, kappa: float = 45.0, clip: bool = False):
    r"""Inverse of :func:`scale`: :math:`x = \kappa (1 + c)/(1 - c)`.

    Parameters
    ----------
    c : array_like or torch.Tensor
        Scaled density in [-1, 1).
    kappa : float
        The scaling parameter used by :func:`scale`.
    clip : bool
        Map values >= 1 (a saturated tanh) to ``1 - CLIP_EPS`` instead of raising.
    """
    k = check_kappa(kappa)
    a = _scaled(c, clip)
    return _out(k * (1.0 + a) / (1.0 - a), c)


def scale_derivative(x, kappa: float = 45.0):
    r""":math:`dc/dx = 2\kappa/(x + \kappa)^2` (per unit of normalised density)."""
    k = check_kappa(kappa)
    a = _density(x)
    return _out(2.0 * k / (a + k) ** 2, x)


def density_error(c, dc, kappa: float = 45.0):
    r"""Appendix B, Eq. B2: :math:`\delta x = 2\kappa\,\delta c/(1 - c)^2` at scaled value ``c``."""
    k = check_kappa(kappa)
    a = _scaled(c)
    return _out(2.0 * k * dc / (1.0 - a) ** 2, c)


def density_error_at(x, dc, kappa: float = 45.0):
    r"""Eq. B2 at density ``x``: :math:`\delta x = (x + \kappa)^2 \delta c / (2\kappa)`."""
    k = check_kappa(kappa)
    a = _density(x)
    return _out((a + k) ** 2 * dc / (2.0 * k), x)


def error_ratio(x, kappa1: float, kappa2: float):
    r"""Eq. B7: :math:`\delta x(\kappa_1)/\delta x(\kappa_2) = (\kappa_2/\kappa_1)((x + \kappa_1)/(x + \kappa_2))^2`
    for the same :math:`\delta c` at the same density ``x`` (-> kappa2/kappa1 for x >> kappa)."""
    k1, k2 = check_kappa(kappa1), check_kappa(kappa2)
    a = _density(x)
    return _out(k2 / k1 * ((a + k1) / (a + k2)) ** 2, x)


class DensityScaling:
    """The pair (:func:`scale`, :func:`unscale`) at one ``kappa``: ``s.forward(x)`` (or ``s(x)``), ``s.inverse(c)``.

    ``clip`` is the default of :meth:`inverse`: True for generator outputs, whose tanh may reach 1.
    """

    def __init__(self, kappa: float = 45.0, clip: bool = False):
        self.kappa = check_kappa(kappa)
        self.clip = bool(clip)

    def __call__(self, x):
        return scale(x, self.kappa)

    def forward(self, x):
        """Density ``x = rho/rho_bar`` -> scaled ``c`` in [-1, 1)."""
        return scale(x, self.kappa)

    def inverse(self, c, clip: bool | None = None):
        return unscale(c, self.kappa, self.clip if clip is None else clip)

    def __repr__(self) -> str:
        return f"DensityScaling(kappa={self.kappa:g})"
