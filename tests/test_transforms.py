"""P3's density scaling c(x) = 2x/(x + kappa) - 1: values, inverse, derivative, Appendix B, bad input."""

import numpy as np
import pytest
import torch
from gancosmo.data.transforms import (
    DensityScaling,
    density_error,
    density_error_at,
    error_ratio,
    scale,
    scale_derivative,
    unscale,
)


def test_fixed_points_and_limit():
    assert scale(0.0, 45) == -1.0
    assert scale(45.0, 45) == pytest.approx(0.0, abs=1e-15)
    assert scale(np.inf, 4) == 1.0
    big = 1e12
    assert 1 - scale(big, 45) == pytest.approx(2 * 45 / (big + 45), rel=1e-3)


@pytest.mark.parametrize("kappa", [0.5, 4.0, 45.0, 300.0])
def test_inverse_round_trip_numpy_and_torch(kappa):
    x = np.geomspace(1e-4, 1e5, 200)
    np.testing.assert_allclose(unscale(scale(x, kappa), kappa), x, rtol=1e-9)
    xt = torch.from_numpy(x)
    back = unscale(scale(xt, kappa), kappa)
    assert isinstance(back, torch.Tensor)
    np.testing.assert_allclose(back.numpy(), x, rtol=1e-9)
    c = np.linspace(-1, 0.999, 50)
    np.testing.assert_allclose(scale(unscale(c, kappa), kappa), c, atol=1e-12)


def test_same_formula_as_paper():
    x, kappa = np.array([0.0, 0.3, 1.0, 7.0, 450.0]), 45.0
    np.testing.assert_allclose(scale(x, kappa), 2 * x / (x + kappa) - 1, atol=1e-15)


def test_derivative_matches_finite_differences():
    x, kappa, h = np.array([0.1, 1.0, 10.0, 100.0]), 45.0, 1e-5
    fd = (scale(x + h, kappa) - scale(x - h, kappa)) / (2 * h)
    np.testing.assert_allclose(scale_derivative(x, kappa), fd, rtol=1e-7)


def test_error_propagation_appendix_b():
    kappa, dc = 45.0, 1e-6
    c = np.array([-0.9, -0.5, 0.0, 0.5, 0.9])
    fd = unscale(c + dc, kappa) - unscale(c, kappa)
    np.testing.assert_allclose(density_error(c, dc, kappa), fd, rtol=1e-4)
    x = unscale(c, kappa)
    np.testing.assert_allclose(density_error_at(x, dc, kappa), density_error(c, dc, kappa), rtol=1e-10)
    # Eq. B7 and its high-density limit kappa2 / kappa1
    np.testing.assert_allclose(
        error_ratio(x, 4, 45), density_error_at(x, dc, 4) / density_error_at(x, dc, 45), rtol=1e-10
    )
    assert error_ratio(1e9, 4, 45) == pytest.approx(45 / 4, rel=1e-6)


def test_clip_of_saturated_tanh_and_class():
    s = DensityScaling(4)
    assert np.isfinite(s.inverse(np.array([1.0]), clip=True)).all()
    assert s.inverse(s(10.0)) == pytest.approx(10.0)


@pytest.mark.parametrize("kappa", [0, -1, float("nan"), float("inf"), True, "45"])
def test_bad_kappa(kappa):
    with pytest.raises(ValueError, match="kappa must be a finite number > 0"):
        scale(1.0, kappa)


def test_values_outside_the_domain():
    with pytest.raises(ValueError, match="must be >= 0"):
        scale(np.array([1.0, -0.1]), 45)
    with pytest.raises(ValueError, match=r"\[-1, 1\)"):
        unscale(np.array([1.0]), 45)
    with pytest.raises(ValueError, match=r"\[-1, 1\)"):
        unscale(torch.tensor([-1.5]), 45)
