"""The pyccl-backed Cosmology: units, normalisations and analytic limits."""

import numpy as np
import pyccl
import pytest
from gancosmo.cosmology import Cosmology, kids450_nz
from scipy.integrate import quad


@pytest.fixture(scope="module")
def cosmo():
    return Cosmology(0.3, 0.8, h=0.7)


def test_sigma8_recovered_from_pk_linear(cosmo):
    """Integrating our P_lin(k) in (Mpc/h)^3 with a top-hat of 8 Mpc/h gives back sigma_8."""

    def integrand(lnk):
        k = np.exp(lnk)
        x = 8.0 * k
        w = 3 * (np.sin(x) - x * np.cos(x)) / x**3
        return k**3 * cosmo.pk_linear(np.array([k]))[0] * w**2 / (2 * np.pi**2)

    sigma2, _ = quad(integrand, np.log(1e-4), np.log(50.0), limit=400)
    assert np.sqrt(sigma2) == pytest.approx(0.8, rel=2e-3)


def test_units_against_raw_pyccl(cosmo):
    raw = pyccl.Cosmology(
        Omega_c=0.255,
        Omega_b=0.045,
        h=0.7,
        sigma8=0.8,
        n_s=0.96,
        transfer_function="eisenstein_hu",
        matter_power_spectrum="halofit",
    )
    k = np.array([0.05, 0.5])
    assert np.allclose(cosmo.pk_halofit(k, 0.5), pyccl.nonlin_matter_power(raw, k * 0.7, 1 / 1.5) * 0.7**3, rtol=1e-10)
    assert cosmo.comoving_distance(1.0)[0] == pytest.approx(pyccl.comoving_radial_distance(raw, 0.5) * 0.7, rel=1e-10)
    assert cosmo.redshift_at_distance(cosmo.comoving_distance(1.3))[0] == pytest.approx(1.3, rel=1e-5)


def test_growth_normalisation_and_rate(cosmo):
    assert cosmo.growth_factor(0.0)[0] == pytest.approx(1.0, abs=1e-10)
    z = np.array([0.0, 1.0, 3.0])
    omega_mz = 0.3 * (1 + z) ** 3 / cosmo.efunc(1 / (1 + z)) ** 2
    # f ~ Omega_m(z)^0.55 (Linder 2005) to better than 1% for LambdaCDM
    assert np.allclose(cosmo.growth_rate(z), omega_mz**0.55, rtol=1e-2)
    # deep in matter domination D grows like a
    d = cosmo.growth_factor([9.0, 19.0])
    assert d[0] / d[1] == pytest.approx(2.0, rel=0.02)


def test_convergence_cl_single_source_and_distribution(cosmo):
    ell = np.array([300.0, 1000.0])
    cl_single = cosmo.convergence_cl(ell, z_source=1.0)
    cl_nz = cosmo.convergence_cl(ell, nz=kids450_nz)
    assert np.all(cl_single > 0) and np.all(cl_nz > 0)
    # amplitude scales roughly as sigma_8^2 or steeper (non-linear halofit)
    cl_high = Cosmology(0.3, 0.9).convergence_cl(ell, z_source=1.0)
    assert np.all(cl_high / cl_single > (0.9 / 0.8) ** 2)


def test_kids450_nz_mean_redshift():
    z = np.linspace(0, 6, 6001)
    n = kids450_nz(z)
    assert np.trapezoid(z * n, z) / np.trapezoid(n, z) == pytest.approx(
        0.5 * 1.5045754, rel=1e-4
    )  # z0 Gamma(8/3) / Gamma(2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(omega_m=0.3, sigma8=0.0), "sigma8 must be > 0"),
        (dict(omega_m=0.3, sigma8=-1), "sigma8 must be > 0"),
        (dict(omega_m=1.2, sigma8=0.8), "omega_m must be in"),
        (dict(omega_m=0.03, sigma8=0.8), "omega_b must be in"),
        (dict(omega_m="a", sigma8=0.8), "omega_m must be a real number"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Cosmology(**kwargs)


def test_bad_calls(cosmo):
    with pytest.raises(ValueError, match="z must be >= 0"):
        cosmo.growth_factor(-0.5)
    with pytest.raises(ValueError, match="exactly one"):
        cosmo.convergence_cl([100.0])
    with pytest.raises(ValueError, match="nz must be increasing"):
        cosmo.convergence_cl([100.0], nz=(np.array([1.0, 0.5]), np.array([1.0, 1.0])))


def test_cl_accepts_any_ell_order_and_rejects_bad_ell(cosmo):
    ell = np.array([1000.0, 300.0, 1000.0])
    cl = cosmo.convergence_cl(ell, z_source=1.0)
    assert cl[0] == cl[2] and np.allclose(cl[1], cosmo.convergence_cl([300.0], z_source=1.0))
    with pytest.raises(ValueError, match="ell must be >= 0"):
        cosmo.convergence_cl([-5.0, 10.0], z_source=1.0)
    with pytest.raises(ValueError, match="z must be a number or an array of numbers"):
        cosmo.growth_factor("abc")


def test_immutable_and_hashable(cosmo):
    with pytest.raises(AttributeError):
        cosmo.omega_m = 0.4
    assert hash(cosmo) == hash(Cosmology(0.3, 0.8, h=0.7))
    assert cosmo == Cosmology(0.3, 0.8, h=0.7)
