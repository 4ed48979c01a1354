"""P2's networks: Eq. 2 latent-length conditioning (both variants), Table A1/A2 shapes, bad input."""

import math

import numpy as np
import pytest
import torch
from gancosmo.models.conditional import (
    CODE_RANGES,
    GRID_RANGES,
    ConditionalCritic,
    ConditionalGenerator,
    LatentNormConditioning,
    conditional_gan,
    count_parameters,
)
from gancosmo.models.regressor import Regressor


def _params(n, ranges, rng, spread=0.3):
    """Parameters across and beyond each range (extrapolation up to 30% of the range on each side)."""
    lo = np.array([a - spread * (b - a) for a, b in ranges])
    hi = np.array([b + spread * (b - a) for a, b in ranges])
    return torch.tensor(rng.uniform(lo, hi, size=(n, len(ranges))), dtype=torch.float32)


@pytest.mark.parametrize("kind, ends", [("paper", (0.1 * math.sqrt(128), math.sqrt(128))), ("code", (0.8, 8.0))])
def test_block_norms_equal_the_mapped_length(kind, ends):
    cond = LatentNormConditioning.make(kind, 128)
    assert (cond.l0, cond.l1) == pytest.approx(ends)
    ranges = GRID_RANGES if kind == "paper" else CODE_RANGES
    rng = np.random.default_rng(1)
    y = _params(500, ranges, rng)
    y = torch.maximum(y, torch.tensor(cond.lowest()) + 0.01)
    z = torch.randn(500, 128, generator=torch.Generator().manual_seed(2)) * 3.7
    zh = cond(z, y).reshape(500, 2, 64)
    for j, (a, b) in enumerate(ranges):
        expected = ends[0] + (ends[1] - ends[0]) * (y[:, j] - a) / (b - a)  # Eq. 2
        assert torch.allclose(zh[:, j].norm(dim=1), expected, rtol=1e-5, atol=1e-6)
        # the direction of each block is the latent's own
        zb = z.reshape(500, 2, 64)[:, j]
        cos = (zh[:, j] * zb).sum(1) / (zh[:, j].norm(dim=1) * zb.norm(dim=1))
        assert torch.allclose(cos, torch.ones(500), atol=1e-5)


def test_range_ends_map_to_l0_and_l1():
    cond = LatentNormConditioning.paper()
    y = torch.tensor([[GRID_RANGES[0][0], GRID_RANGES[1][1]]])
    zh = cond(torch.randn(1, 128), y).reshape(2, 64)
    assert float(zh[0].norm()) == pytest.approx(0.1 * math.sqrt(128), rel=1e-5)
    assert float(zh[1].norm()) == pytest.approx(math.sqrt(128), rel=1e-5)


def test_parameters_below_the_zero_length_are_refused():
    cond = LatentNormConditioning.paper()
    low = cond.lowest()
    with pytest.raises(ValueError, match="Omega_m = 0.05 is below"):
        cond(torch.randn(1, 128), torch.tensor([[0.05, 0.8]]))
    with pytest.raises(ValueError, match="shape"):
        cond(torch.randn(2, 128), torch.tensor([0.3, 0.8]))
    with pytest.raises(ValueError, match="conditioning must be one of"):
        LatentNormConditioning.make("text")
    assert low[0] == pytest.approx(0.101 - 0.1 * 0.386 / 0.9, rel=1e-6)


def test_table_a1_shapes_and_paper_size():
    G, D = conditional_gan(32)
    assert G.map_size == D.map_size == 128  # P2's maps are the default
    assert G.mlp[4].out_features == 32768  # g2: 8 x 8 x 512
    assert D.head[0].in_features == 32770  # d5: 32768 features + 2 parameters
    assert Regressor(32).head[0].in_features == 32768
    # Table A1/A2 at width 32 and 128 px: the counts of the networks as built before map_size existed
    assert (count_parameters(G), count_parameters(D), count_parameters(Regressor(32))) == (
        19_231_489,
        19_200_513,
        19_199_618,
    )
    z, y = torch.randn(2, 128), torch.tensor([[0.3, 0.8], [0.2, 1.0]])
    G1, D1 = conditional_gan(1)
    x = G1(z, y)
    assert x.shape == (2, 1, 128, 128)
    assert D1(x, y).shape == (2,)
    assert Regressor(1)(x).shape == (2, 2)
    assert count_parameters(G) > count_parameters(G1)


@pytest.mark.parametrize("map_size", [32, 64, 128])
def test_networks_at_every_map_size(map_size):
    """Only the MLP's last layer and the first linear layers of critic and regressor change with the map size."""
    start = map_size // 16
    G, D = conditional_gan(2, map_size=map_size, seed=0)
    R = Regressor(2, map_size=map_size)
    assert G.mlp[4].out_features == 32 * start * start  # 16 width x (map_size/16)^2
    assert D.head[0].in_features == 32 * start * start + 2 and R.head[0].in_features == 32 * start * start
    z, y = torch.randn(3, 128), torch.tensor([[0.3, 0.8], [0.2, 1.0], [0.4, 0.6]])
    with torch.no_grad():
        x = G(z, y)
        h = G.mlp(G.conditioning(z, y)).reshape(3, -1, start, start)
        assert h.shape == (3, 32, start, start)  # 128 px: 8 x 8 as in Table A1; 32 px: 2 x 2
        assert x.shape == (3, 1, map_size, map_size)
        assert D(x, y).shape == (3,) and R(x).shape == (3, 2) and R(x[:, 0]).shape == (3, 2)
    # the convolutions are the same at every size
    G128, D128 = conditional_gan(2, seed=0)
    assert [p.shape for p in G.deconv.parameters()] == [p.shape for p in G128.deconv.parameters()]
    assert [p.shape for p in D.trunk.parameters()] == [p.shape for p in D128.trunk.parameters()]
    other = 64 if map_size != 64 else 32
    with pytest.raises(ValueError, match=rf"the critic takes maps of shape \(B, 1, {map_size}, {map_size}\)"):
        D(torch.zeros(2, 1, other, other), torch.zeros(2, 2))
    with pytest.raises(ValueError, match=rf"the regressor takes maps of shape \(B, 1, {map_size}, {map_size}\)"):
        R(torch.zeros(2, other, other))


@pytest.mark.parametrize("bad", [16, 48, 100, 0, True, 64.0, "64"])
def test_map_size_must_be_a_power_of_two_from_32(bad):
    for make in (
        lambda: ConditionalGenerator(1, map_size=bad),
        lambda: ConditionalCritic(1, map_size=bad),
        lambda: Regressor(1, map_size=bad),
        lambda: conditional_gan(1, map_size=bad),
    ):
        with pytest.raises(ValueError, match=r"map_size must be a power of two >= 32 \(P2: 128 pixels per side\)"):
            make()


def test_regressor_training_checks_the_map_size():
    from gancosmo.models.regressor import train_regressor

    maps, params = np.zeros((4, 64, 64), np.float32), np.full((4, 2), 0.5, np.float32)
    with pytest.raises(ValueError, match=r"maps must be \(N, 32, 32\) and params \(N, 2\) for this regressor"):
        train_regressor(Regressor(1, map_size=32), maps, params, epochs=1, progress=False)


def test_the_condition_reaches_the_output():
    G, _ = conditional_gan(2, seed=0)  # width 1 at random init has all ReLUs of its last layers dead
    z = torch.randn(1, 128, generator=torch.Generator().manual_seed(0)).repeat(2, 1)
    with torch.no_grad():
        x = G(z, torch.tensor([[0.2, 0.7], [0.4, 1.1]]))
    assert (x[0] - x[1]).abs().max() > 1e-2 * x.abs().max()


def test_bad_network_input():
    with pytest.raises(ValueError, match="width must be a positive integer"):
        ConditionalGenerator(width=0)
    with pytest.raises(ValueError, match=r"maps of shape \(B, 1, 128, 128\)"):
        ConditionalCritic(1)(torch.zeros(2, 1, 64, 64), torch.zeros(2, 2))


def test_sizes_are_explicit():
    from gancosmo.models.conditional import PAPER_WIDTH

    assert PAPER_WIDTH == 32
    for make in (ConditionalGenerator, ConditionalCritic, conditional_gan, Regressor):
        with pytest.raises(TypeError):
            make()  # no hidden default width
