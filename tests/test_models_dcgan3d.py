"""P3's 3D DCGAN (Table I): shapes, exact parameter counts, the conditional variant, latent priors."""

import math

import numpy as np
import pytest
import torch
from gancosmo.models.dcgan3d import (
    PAPER_G_PARAMETERS,
    Discriminator3D,
    Generator3D,
    count_parameters,
    dcgan3d,
    table1_parameter_count,
)
from gancosmo.models.priors import (
    calibrate_width,
    make_sampler,
    prior_summary,
    prior_variance,
    student_t_sampler,
)


def test_table1_parameter_count_is_exact():
    G, D = dcgan3d(seed=0)
    # hand count of Table I: 4^3 (100*256 + 256*128 + 128*64 + 64*32 + 32) weights + 2 (256 + 128 + 64 + 32) BatchNorm
    by_hand = 64 * (100 * 256 + 256 * 128 + 128 * 64 + 64 * 32 + 32) + 2 * (256 + 128 + 64 + 32)
    assert by_hand == PAPER_G_PARAMETERS == 4_393_920
    assert count_parameters(G) == table1_parameter_count() == by_hand
    assert count_parameters(D) == table1_parameter_count(network="discriminator") == 2_771_840


def test_paper_shapes_one_sample():
    G = Generator3D()
    G.eval()
    with torch.no_grad():
        x = G(torch.randn(1, 100))
    assert x.shape == (1, 1, 64, 64, 64) and x.abs().max() <= 1
    D = Discriminator3D()
    D.eval()
    with torch.no_grad():
        assert D(x).shape == (1,)


def test_reduced_sizes_and_counts():
    G, D = dcgan3d((8, 4, 2), seed=1)
    assert G.size == D.size == 32
    assert count_parameters(G) == table1_parameter_count(100, G.filters)
    x = G(torch.randn(3, 100))
    assert x.shape == (3, 1, 32, 32, 32)
    assert D(x).shape == (3,)


def test_conditional_generator_uses_its_label():
    torch.manual_seed(0)
    G, D = dcgan3d((8, 4, 2), cond_dim=1, seed=2)
    G.eval()
    z = torch.randn(2, 100)
    with torch.no_grad():
        a = G(z, torch.zeros(2, 1))
        b = G(z, torch.full((2, 1), 3.0))
        d0, d3 = D(a, torch.zeros(2, 1)), D(a, torch.full((2, 1), 3.0))
    # DCGAN initialisation makes outputs small: compare relative to their size
    assert (a - b).abs().mean() > 0.05 * a.abs().mean()
    assert not torch.allclose(d0, d3)
    assert count_parameters(G) == table1_parameter_count(100, G.filters, cond_dim=1)
    with pytest.raises(ValueError, match="conditional"):
        G(z)


def test_sizes_are_explicit():
    from gancosmo.models import dcgan3d as module

    assert not hasattr(module, "PROFILE_SIZES")
    assert module.paper_sizes() == dict(filters=(256, 128, 64, 32), latent_dim=100)
    with pytest.raises(ValueError, match="profile names moved"):
        dcgan3d("smoke")


def test_bad_arguments():
    with pytest.raises(ValueError, match="filters"):
        Generator3D(filters=())
    with pytest.raises(ValueError, match="latent_dim"):
        Generator3D(latent_dim=0)
    with pytest.raises(ValueError, match=r"shape \(B, 100\)"):
        Generator3D(filters=(4, 2))(torch.randn(2, 7))


def test_student_t_variance_and_tails():
    n, dim, nu = 20000, 50, 10.0
    z = student_t_sampler(nu)(n, dim, "cpu", torch.Generator().manual_seed(0)).double()
    assert z.shape == (n, dim)
    var = z.var().item()
    exact = nu / (nu - 2)
    # standard error of a variance estimate: sqrt((mu4 - sigma^4) / N); mu4 = 3 nu^2 / ((nu-2)(nu-4)) for t
    mu4 = 3 * nu**2 / ((nu - 2) * (nu - 4))
    se = math.sqrt((mu4 - exact**2) / z.numel())
    assert abs(var - exact) < 5 * se
    assert prior_variance("student-t", nu) == pytest.approx(exact)
    g = make_sampler("gaussian")(n, dim, "cpu", torch.Generator().manual_seed(0)).double()
    assert abs(g.var().item() - 1) < 5 * math.sqrt(2 / g.numel())
    # heavier tails than the Gaussian
    assert (z.abs() > 4).double().mean() > 10 * (g.abs() > 4).double().mean()


def test_sampler_reproducible_and_scaled():
    s1 = make_sampler("student-t", 5, scale=2.0)
    a = s1(4, 8, "cpu", torch.Generator().manual_seed(3))
    b = make_sampler("student-t", 5, scale=1.0)(4, 8, "cpu", torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, 2 * b)
    with pytest.raises(ValueError, match="prior must be one of"):
        make_sampler("cauchy")
    with pytest.raises(ValueError, match="nu must be"):
        make_sampler("student-t", 0)


def test_calibrate_width_finds_the_root():
    # mean power grows as width^2: log ratio = log(1.1 w^2) crosses 0 at w = 1/sqrt(1.1)
    res = calibrate_width(lambda w: math.log(1.1 * w**2), np.linspace(0.8, 1.2, 9))
    assert res["bracketed"] and res["scale"] == pytest.approx(1 / math.sqrt(1.1), rel=2e-3)
    res = calibrate_width(lambda w: 1 + w, [0.9, 1.0, 1.1])
    assert not res["bracketed"] and res["scale"] == 0.9


def test_prior_summary_moments():
    g, t = prior_summary("gaussian", n=4000, dim=50), prior_summary("student-t", 10.0, n=4000, dim=50)
    assert abs(g.variance - 1) < 0.01 and abs(g.excess_kurtosis) < 0.05
    assert t.exact_variance == pytest.approx(1.25) and abs(t.variance - 1.25) < 0.03
    assert t.excess_kurtosis == pytest.approx(1.0, abs=0.2)  # 6 / (nu - 4) for nu = 10
    assert t.tail_4 > 10 * g.tail_4
