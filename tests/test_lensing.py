"""Born convergence maps against pyccl's Limber C_ell."""

import numpy as np
import pytest
from gancosmo.cosmology import Cosmology, kids450_nz
from gancosmo.sims import convergence_maps
from gancosmo.sims.lensing import lens_planes, lensing_efficiency
from gancosmo.sims.validation import measured_cl

# 128^3 particles in 256 Mpc/h (2 Mpc/h spacing): the maps resolve C_ell up to ell ~ 700 at z_s = 1 (measured:
# 0.78 of Limber at ell 675, 0.74 at 880, sigma_8 = 0.9). Before the planes were anti-aliased (no transverse mode
# beyond 1.5 times the particle Nyquist frequency), the near planes' lattice pattern and discreteness noise filled
# in the missing power up to ell ~ 1000.
ELL_EDGES = np.geomspace(200.0, 700.0, 7)
SETUP = dict(n_maps=48, n_pix=128, field_deg=5.0, z_source=1.0, seed=0, box_size=256.0, n_particles=128, n_steps=12)


@pytest.fixture(scope="module")
def spectra():
    out = {}
    for s8 in (0.7, 0.9):
        cosmo = Cosmology(0.3, s8)
        maps = convergence_maps(cosmo, **SETUP)
        ell, cl = measured_cl(maps, SETUP["field_deg"], ELL_EDGES)
        out[s8] = (ell, cl.mean(0), cosmo.convergence_cl(ell, z_source=1.0), maps)
    return out


@pytest.mark.slow
def test_cl_within_25_percent_of_limber(spectra):
    for s8, (ell, cl, theory, _) in spectra.items():
        assert np.all(np.abs(cl / theory - 1) < 0.25), (s8, ell, cl / theory)


@pytest.mark.slow
def test_sigma8_scaling_of_cl(spectra):
    ell, cl_hi, th_hi, _ = spectra[0.9]
    _, cl_lo, th_lo, _ = spectra[0.7]
    assert np.all(np.abs((cl_hi / cl_lo) / (th_hi / th_lo) - 1) < 0.10), (ell, (cl_hi / cl_lo) / (th_hi / th_lo))


def test_maps_shape_and_mean(spectra):
    maps = spectra[0.7][3]
    assert maps.shape == (48, 128, 128) and maps.dtype == np.float32
    # the convergence has zero mean over the sky; 48 maps of 25 deg^2 average to ~0
    assert abs(maps.mean()) < 0.2 * maps.std()


def test_lensing_efficiency_limits():
    cosmo = Cosmology(0.3, 0.8)
    chi_s = cosmo.comoving_distance(1.0)[0]
    q = lensing_efficiency(cosmo, np.array([0.0, chi_s / 2, chi_s, 2 * chi_s]), 1.0, None)
    assert np.allclose(q, [1.0, 0.5, 0.0, 0.0])
    q_nz = lensing_efficiency(cosmo, np.array([1.0, 500.0, 5000.0]), None, kids450_nz)
    assert q_nz[0] == pytest.approx(1.0, abs=2e-3) and 0 < q_nz[1] < 1 and q_nz[2] < 1e-3
    chi, z = lens_planes(cosmo, 256.0, chi_s)
    assert np.allclose(np.diff(chi), 128.0) and chi[-1] >= chi_s - 128 and np.all(np.diff(z) > 0)


@pytest.mark.parametrize(
    "source", [dict(z_source=1.0, nz=None), dict(z_source=None, nz=kids450_nz)], ids=["z_s=1", "KiDS n(z)"]
)
def test_born_weights_reproduce_pyccl_limber(source):
    """The plane weights 1.5 Omega_m (H0/c)^2 (1+z) chi q(chi), integrated in Limber form over pyccl's
    halofit P(k), give pyccl's convergence C_ell: the maps' kernel is the theory's kernel."""
    from gancosmo.sims.lensing import HUBBLE_OVER_C

    cosmo = Cosmology(0.3, 0.8)
    chi = np.linspace(1.0, 5500.0, 3000)
    z = cosmo.redshift_at_distance(chi)
    weight = 1.5 * cosmo.omega_m * HUBBLE_OVER_C**2 * (1 + z) * chi * lensing_efficiency(cosmo, chi, **source)
    ell = np.array([100.0, 300.0, 1000.0, 3000.0])
    cl = []
    for l in ell:
        k = (l + 0.5) / chi
        pk = np.array([cosmo.pk_halofit(np.array([ki]), zi)[0] for ki, zi in zip(k[::10], z[::10])])
        cl.append(np.trapezoid(weight[::10] ** 2 / chi[::10] ** 2 * pk, chi[::10]))
    assert np.allclose(cl, cosmo.convergence_cl(ell, **source), rtol=5e-3)


def test_nz_maps_and_reproducibility():
    cosmo = Cosmology(0.3, 0.8)
    kwargs = dict(n_maps=3, n_pix=32, field_deg=5.0, nz=kids450_nz, seed=4, box_size=256.0, n_particles=16, n_steps=3)
    a = convergence_maps(cosmo, **kwargs)
    b = convergence_maps(cosmo, **kwargs)
    assert a.shape == (3, 32, 32) and np.array_equal(a, b) and np.all(np.isfinite(a))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_maps=0), "n_maps must be an integer >= 1"),
        (dict(field_deg=-1.0), "field_deg must be a number of degrees"),
        (dict(z_source=None), "give exactly one of z_source"),
        (dict(z_source=-1.0), "z_source must be > 0"),
        (dict(n_particles=24), "n_particles must be a power of two"),
    ],
)
def test_bad_input(kwargs, message):
    args = dict(n_maps=1, n_pix=16, field_deg=1.0, z_source=1.0, n_particles=16, n_steps=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        convergence_maps(Cosmology(0.3, 0.8), **args)
