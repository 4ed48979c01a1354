"""P1's networks: Tables 1 and 2 layer by layer, shapes, the factory at explicit sizes, bad input."""

import pytest
import torch
from gancosmo.models.cosmogan import Discriminator, Generator, cosmogan, count_parameters, paper_sizes

# Table 1 (generator) and Table 2 (discriminator) of P1, "Params." column, in layer order.
TABLE1 = ["8.5M", "1024", "3.3M", "512", "819K", "256", "205K", "128", "1601"]
TABLE2 = ["1664", "205K", "256", "819K", "512", "3.3M", "1024", "131K"]


def _layer_counts(module):
    rows = []
    for m in module.modules():
        if not list(m.children()):
            n = sum(p.numel() for p in m.parameters())
            if n:
                rows.append(n)
    return rows


def _value(printed):
    return float(printed.rstrip("MK")) * {"M": 1e6, "K": 1e3}.get(printed[-1], 1)


def _matches(count, printed):
    """``count`` rounds to the table's printed value (to its last printed digit)."""
    unit = {"M": 1e6, "K": 1e3}.get(printed[-1], 1)
    digits = printed.rstrip("MK")
    last = unit * 10 ** -(len(digits.split(".")[1]) if "." in digits else 0)
    return abs(count - float(digits) * unit) <= last / 2


def test_generator_matches_table1_row_by_row():
    G = Generator()
    rows = _layer_counts(G)
    assert len(rows) == len(TABLE1)
    assert all(_matches(c, t) for c, t in zip(rows, TABLE1)), rows


def test_discriminator_matches_table2_row_by_row():
    D = Discriminator()
    rows = _layer_counts(D)
    assert len(rows) == len(TABLE2)
    assert all(_matches(c, t) for c, t in zip(rows, TABLE2)), rows


def test_total_parameter_counts():
    G, D = cosmogan(**paper_sizes(), seed=0)
    assert round(count_parameters(D) / 1e6, 1) == 4.4
    # Table 1's rows add up to 12.8M; the paper prints 12.3M as the total (an arithmetic
    # slip): the chapter reports 12.8M and says so.
    assert round(count_parameters(G) / 1e6, 1) == 12.8
    assert round(sum(_value(t) for t in TABLE1) / 1e6, 1) == 12.8


def test_shapes_and_ranges_at_reduced_size():
    G, D = cosmogan(base_filters=4, map_size=32, latent_dim=8, seed=1)
    z = torch.randn(3, 8)
    x = G(z)
    assert x.shape == (3, 1, 32, 32)
    assert x.abs().max() <= 1
    assert D(x).shape == (3,)


def test_paper_shapes_forward():
    G = Generator(base_filters=2)  # paper layout at 256^2, tiny width to stay fast
    D = Discriminator(base_filters=2)
    x = G(torch.randn(2, 64))
    assert x.shape == (2, 1, 256, 256)
    assert D(x).shape == (2,)


def test_factory_explicit_sizes_and_seed():
    assert paper_sizes() == dict(base_filters=64, map_size=256, latent_dim=64)
    G, D = cosmogan(base_filters=8, map_size=64, seed=0)
    assert (G.base_filters, G.map_size, D.base_filters, D.map_size) == (8, 64, 8, 64)
    g1, _ = cosmogan(base_filters=8, map_size=64, seed=3)
    g2, _ = cosmogan(base_filters=8, map_size=64, seed=3)
    g3, _ = cosmogan(base_filters=8, map_size=64, seed=5)
    assert all(torch.equal(a, b) for a, b in zip(g1.parameters(), g2.parameters()))
    assert not torch.equal(g1.dense.weight, g3.dense.weight)
    state = torch.get_rng_state()
    cosmogan(base_filters=8, map_size=64, seed=4)
    assert torch.equal(state, torch.get_rng_state())  # the global RNG is left alone


def test_factory_needs_explicit_sizes():
    with pytest.raises(TypeError):
        cosmogan(seed=0)  # no profile table in models/: sizes come from the chapter's config
    with pytest.raises(TypeError):
        cosmogan("smoke", seed=0)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(map_size=100), "multiple of 16"),
        (dict(base_filters=0), "base_filters"),
        (dict(base_filters=2.5), "base_filters"),
        (dict(latent_dim=-1), "latent_dim"),
    ],
)
def test_bad_input(kwargs, words):
    with pytest.raises(ValueError, match=words):
        cosmogan(**{**dict(base_filters=8, map_size=64), **kwargs})
