"""Symmetry augmentations: every group element distinct, values only permuted, bad shapes refused."""

import pytest
import torch
from gancosmo.data.augment import apply_dihedral2d, apply_octahedral3d, dihedral2d, octahedral3d


def test_dihedral_has_eight_distinct_elements_that_permute_pixels():
    x = torch.randn(1, 1, 6, 6, generator=torch.Generator().manual_seed(0)).expand(8, 1, 6, 6).contiguous()
    y = apply_dihedral2d(x, torch.arange(8))
    assert len({tuple(v.flatten().tolist()) for v in y}) == 8
    for v in y:
        assert torch.equal(v.flatten().sort().values, x[0].flatten().sort().values)
    assert torch.equal(y[0], x[0])
    assert torch.equal(y[1], torch.rot90(x[0], 1, dims=(-2, -1)))


def test_octahedral_has_48_distinct_elements_closed_under_composition():
    x = torch.randn(1, 1, 4, 4, 4, generator=torch.Generator().manual_seed(1)).expand(48, 1, 4, 4, 4).contiguous()
    y = apply_octahedral3d(x, torch.arange(48))
    images = {tuple(v.flatten().tolist()) for v in y}
    assert len(images) == 48
    # applying any element to any image gives another image: the 48 form a group
    z = apply_octahedral3d(y, torch.randint(0, 48, (48,), generator=torch.Generator().manual_seed(2)))
    assert {tuple(v.flatten().tolist()) for v in z} <= images
    # the 24 proper rotations (even number of reflections for even permutations, ...) include a 90-degree turn
    assert any(torch.equal(v, torch.rot90(x[0], 1, dims=(-2, -1))) for v in y)


def test_random_draws_follow_the_generator():
    x = torch.randn(32, 1, 8, 8)
    a = dihedral2d(x, torch.Generator().manual_seed(5))
    b = dihedral2d(x, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    c = octahedral3d(torch.randn(16, 1, 4, 4, 4), torch.Generator().manual_seed(5))
    assert c.shape == (16, 1, 4, 4, 4)


@pytest.mark.parametrize(
    "fn, x",
    [
        (dihedral2d, torch.zeros(2, 8, 8)),
        (dihedral2d, torch.zeros(2, 1, 8, 6)),
        (octahedral3d, torch.zeros(2, 1, 8, 8)),
        (octahedral3d, torch.zeros(2, 1, 4, 4, 2)),
    ],
)
def test_bad_shapes(fn, x):
    with pytest.raises(ValueError, match="expects|needs"):
        fn(x)
