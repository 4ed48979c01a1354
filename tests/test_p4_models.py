"""P4's multi-scale patch GAN: patch geometry, the raster-scan sampler, the three WGANs, one training step each."""

import numpy as np
import pytest
import torch
from gancosmo.models import multiscale3d as ms
from gancosmo.models import patches3d as P
from gancosmo.train import TrainConfig, Trainer
from torch import nn
from torch.nn.utils import parametrize

BUILDERS = {"m3": ms.m3_gan, "m2": ms.m2_gan, "m1": ms.m1_gan}


def _build(stage, side, width=2, seed=0, **kw):
    size = dict(side=side) if stage == "m3" else dict(patch=side)
    if stage == "m3":
        kw.setdefault("latent_dim", 8)
    return BUILDERS[stage](width=width, seed=seed, **size, **kw)


def _cube4():
    """A 4^3 cube of distinct values 0..63 (value = 16 x + 4 y + z): a 2 x 2 x 2 grid of 2^3 patches."""
    return torch.arange(64.0).reshape(1, 4, 4, 4)


# ---------------------------------------------------------------------------------------------- geometry
def test_raster_order():
    by_hand = [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)]
    assert P.grid_positions(2) == by_hand
    assert P.BLOCK_OCTANTS[-1] == (1, 1, 1) and P.BLOCK_OCTANTS[3] == (0, 1, 1)


def test_borders_of_the_last_patch_are_the_seven_others():
    cube = _cube4()
    borders = P.neighbour_borders(cube, (1, 1, 1), 2)
    assert borders.shape == (1, 7, 2, 2, 2)
    for m, (a, b, c) in enumerate(P.BLOCK_OCTANTS[:7]):
        expected = cube[0, 2 * a : 2 * a + 2, 2 * b : 2 * b + 2, 2 * c : 2 * c + 2]
        assert torch.equal(borders[0, m], expected), m
    # octant 6 = (1, 1, 0): the patch just before in raster order, cube[2:4, 2:4, 0:2]; its first voxel 16*2 + 4*2
    assert borders[0, 6, 0, 0, 0] == 40.0


def test_zero_borders_at_the_cube_edges():
    cube = _cube4() + 1.0  # no zero voxel inside the cube
    b = P.neighbour_borders(cube, (1, 0, 1), 2)[0]
    # octants with b = 0 lie at j = -1: outside
    for m in (0, 1, 4, 5):
        assert torch.count_nonzero(b[m]) == 0
    # the others: (0, 1, 0) -> patch (0, 0, 0); (0, 1, 1) -> (0, 0, 1); (1, 1, 0) -> (1, 0, 0)
    assert torch.equal(b[2], cube[0, 0:2, 0:2, 0:2])
    assert torch.equal(b[3], cube[0, 0:2, 0:2, 2:4])
    assert torch.equal(b[6], cube[0, 2:4, 0:2, 0:2])
    assert torch.count_nonzero(P.neighbour_borders(cube, (0, 0, 0), 2)) == 0


def test_aligned_borders_put_the_touching_voxels_at_index_zero():
    cube = _cube4()
    aligned = P.neighbour_borders(cube, (1, 1, 1), 2, aligned=True)[0]
    # the produced patch covers cube[2:4, 2:4, 2:4]; its corner voxel (2, 2, 2) touches
    # (1, 1, 1) of octant 0, (1, 1, 2) of octant 1, (1, 2, 1) of octant 2, (2, 1, 1) of octant 4 ...
    assert aligned[0, 0, 0, 0] == 16 * 1 + 4 * 1 + 1  # octant (0,0,0) flipped on all axes
    assert aligned[3, 0, 0, 0] == 16 * 1 + 4 * 2 + 2  # octant (0,1,1) flipped on x only
    assert aligned[6, 0, 0, 0] == 16 * 2 + 4 * 2 + 1  # octant (1,1,0) flipped on z only
    # octant (0,1,1) = cube[0:2, 2:4, 2:4]: flipped on x, its slab 0 is the cube's slab x = 1
    assert torch.equal(aligned[3, 0], cube[0, 1, 2:4, 2:4])
    assert torch.equal(aligned[3, 1], cube[0, 0, 2:4, 2:4])
    # octant (1,0,1) = cube[2:4, 0:2, 2:4]: flipped on y only
    assert torch.equal(aligned[5], cube[0, 2:4, 0:2, 2:4].flip(1))
    raw = P.neighbour_borders(cube, (1, 1, 1), 2)
    assert torch.equal(P.align_borders(P.align_borders(raw)), raw)


def test_assemble_block_inverts_the_border_extraction():
    cube = _cube4()
    borders = P.neighbour_borders(cube, (1, 1, 1), 2)
    block = P.assemble_block(borders, P.extract_patch(cube, (1, 1, 1), 2)[:, None])
    assert torch.equal(block[:, 0], cube)


def test_downsample_and_upsample_by_hand():
    cube = _cube4()
    low = P.downsample(cube, 2)
    assert low.shape == (1, 2, 2, 2)
    # block (0, 0, 0) holds 16 x + 4 y + z for x, y, z in {0, 1}: mean 16/2 + 4/2 + 1/2 = 10.5
    assert low[0, 0, 0, 0] == pytest.approx(10.5)
    assert low[0, 1, 0, 1] == pytest.approx(10.5 + 32 + 2)
    up = P.upsample_nearest(low, 2)
    assert torch.equal(up[0, 2:4, 0:2, 2:4], torch.full((2, 2, 2), 44.5))
    assert torch.allclose(P.downsample(up, 2), low)


def test_low_res_block_and_patch_regions():
    low = torch.arange(1.0, 9.0).reshape(1, 2, 2, 2)  # low-res of a 4^3 cube (factor 2, patches of 2)
    # last patch: the block is the whole low-res cube (2p / factor = 2 voxels, repeated factor / 2 = 1 time)
    assert torch.equal(P.low_res_block(low, (1, 1, 1), 2, 2)[0, 0], low[0])
    # first patch: the block starts one low-res voxel before the cube; only its corner is inside
    first = P.low_res_block(low, (0, 0, 0), 2, 2)[0, 0]
    assert first[1, 1, 1] == 1.0 and torch.count_nonzero(first) == 1
    # patch (1, 0, 1): low-res voxel (1, 0, 1) = 6, repeated to 2^3
    assert torch.equal(P.low_res_patch(low, (1, 0, 1), 2, 2)[0, 0], torch.full((2, 2, 2), 6.0))
    # factor 4, patches of 4 in an 8^3 cube: the last block covers the whole 2^3 low-res cube, repeated twice
    block = P.low_res_block(low, (1, 1, 1), 4, 4)[0, 0]
    assert block.shape == (4, 4, 4) and torch.equal(block, P.upsample_nearest(low[0], 2))
    # the generator's view of it: the corner octant (low-res voxel (1, 1, 1) = 8) repeated to the patch
    assert torch.equal(P.patch_low_res(block[None, None])[0, 0], torch.full((4, 4, 4), 8.0))


def test_conditioning_layout_and_flat_form():
    cube, low = _cube4(), P.downsample(_cube4(), 2)
    y = P.conditioning(cube, low, (1, 0, 1), 2, factor=2)
    assert y.shape == (1, 8, 2, 2, 2)
    assert torch.equal(y[:, :7], P.neighbour_borders(cube, (1, 0, 1), 2))
    assert torch.equal(y[:, 7:], P.low_res_block(low, (1, 0, 1), 2, 2))
    borders, low_ch = P.split_conditioning(y.flatten(1), 2)
    assert torch.equal(borders, y[:, :7]) and torch.equal(low_ch, y[:, 7:])
    assert P.conditioning(cube, None, (1, 0, 1), 2, low_res=False).shape == (1, 7, 2, 2, 2)
    assert P.conditioning(None, low, (1, 0, 1), 2, factor=2, borders=False).shape == (1, 1, 2, 2, 2)
    with pytest.raises(ValueError, match="both were switched off"):
        P.conditioning(cube, low, (0, 0, 0), 2, 2, borders=False, low_res=False)


def test_training_pairs_cover_every_grid_position():
    cubes = torch.rand(3, 8, 8, 8, generator=torch.Generator().manual_seed(1))
    targets, y = P.training_pairs(cubes, 4, factor=2)
    assert targets.shape == (3 * 8, 4, 4, 4) and y.shape == (24, 8, 4, 4, 4)
    # pair 8 + 5 = cube 1, raster position 5 = (1, 0, 1)
    assert torch.equal(targets[13], cubes[1, 4:8, 0:4, 4:8])
    expected = P.conditioning(cubes[1:2], P.downsample(cubes[1:2], 2), (1, 0, 1), 4, 2)
    assert torch.equal(y[13], expected[0])
    _, flat = P.training_pairs(cubes, 4, factor=2, flat=True)
    assert flat.shape == (24, 8 * 64) and torch.equal(flat[13], expected.flatten())


# ---------------------------------------------------------------------------------------------- the sampler
class SumOfBorders(nn.Module):
    """Toy patch generator: every voxel = 1 + the sum over the 7 border channels of their mean."""

    def forward(self, z, y):
        borders, _ = P.split_conditioning(y, y.shape[-1], low_res=False)
        value = 1.0 + borders.mean(dim=(2, 3, 4)).sum(1)
        return value[:, None, None, None, None].expand(-1, 1, *y.shape[2:])


class MeanOfPresentBorders(nn.Module):
    """Toy patch generator: the mean of the non-zero border channels, ``value`` where there are none."""

    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def forward(self, z, y):
        means = y[:, :7].mean(dim=(2, 3, 4))
        present = (means != 0).float()
        out = (means * present).sum(1) / present.sum(1).clamp_min(1)
        out = torch.where(present.sum(1) > 0, out, torch.full_like(out, self.value))
        return out[:, None, None, None, None].expand(-1, 1, *y.shape[2:])


class LowResEcho(nn.Module):
    """Toy patch generator returning its own low-resolution patch, repeated to the patch's side."""

    def __init__(self, borders: bool):
        super().__init__()
        self.borders = borders

    def forward(self, z, y):
        _, low = P.split_conditioning(y, y.shape[-1], borders=self.borders)
        return P.patch_low_res(low, self.borders)


def test_raster_generation_refeeds_the_generated_patches():
    cube = P.generate_cube(SumOfBorders(), None, 2, latent_dim=1, seed=0, side=4, n_cubes=1)
    # by hand: v(000) = 1 (no border inside the cube); v(001), v(010), v(100) see one border,
    # v(000): 1 + 1 = 2; v(011) = 1 + v(000) + v(001) + v(010) = 6, and so v(101), v(110);
    # v(111) = 1 + (1 + 2 + 2 + 6 + 2 + 6 + 6) = 26. A patch read before it was generated would count 0.
    expected = {(0, 0, 0): 1, (0, 0, 1): 2, (0, 1, 0): 2, (0, 1, 1): 6}
    expected.update({(1, 0, 0): 2, (1, 0, 1): 6, (1, 1, 0): 6, (1, 1, 1): 26})
    for (i, j, k), v in expected.items():
        assert torch.equal(cube[0, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2, 2 * k : 2 * k + 2], torch.full((2, 2, 2), v))


def test_mean_of_borders_generator_reproduces_a_constant_cube():
    cube = P.generate_cube(MeanOfPresentBorders(3.5), None, 2, latent_dim=1, seed=0, side=6, n_cubes=2)
    assert cube.shape == (2, 6, 6, 6)
    assert torch.equal(cube, torch.full_like(cube, 3.5))


@pytest.mark.parametrize("factor, patch, borders", [(2, 4, True), (4, 4, True), (2, 2, False), (4, 4, False)])
def test_low_res_conditioning_reaches_each_patch(factor, patch, borders):
    low = torch.rand(2, 4, 4, 4, generator=torch.Generator().manual_seed(3)) + 0.5
    cube = P.generate_cube(LowResEcho(borders), low, patch, latent_dim=1, seed=0, factor=factor, borders=borders)
    assert torch.equal(cube, P.upsample_nearest(low, factor))


def test_generate_cube_draws_its_latents_from_the_seed():
    G, _ = _build("m1", 8)
    low = torch.rand(1, 4, 4, 4, generator=torch.Generator().manual_seed(0))
    a = P.generate_cube(G, low, 8, G.latent_dim, seed=5, factor=4)
    b = P.generate_cube(G, low, 8, G.latent_dim, seed=5, factor=4)
    c = P.generate_cube(G, low, 8, G.latent_dim, seed=6, factor=4)
    assert a.shape == (1, 16, 16, 16) and torch.equal(a, b) and not torch.equal(a, c)
    assert G.training  # the sampler restores the mode it found
    with pytest.raises(ValueError, match="latent_dim"):
        P.generate_cube(G, low, 8, 7, seed=5, factor=4)


def test_ablation_samplers_run_the_real_networks():
    G_single, _ = _build("m2", 8, low_res=False)  # Appendix C
    single = P.generate_cube(G_single, None, 8, G_single.latent_dim, seed=0, side=16, n_cubes=2)
    G_indep, _ = _build("m2", 8, borders=False)
    low = torch.rand(2, 8, 8, 8)
    indep = P.generate_cube(G_indep, low, 8, G_indep.latent_dim, seed=0, factor=2, borders=False)
    assert single.shape == indep.shape == (2, 16, 16, 16)
    assert torch.isfinite(single).all() and torch.isfinite(indep).all()


def test_full_pipeline_shapes():
    G3, _ = _build("m3", 8)
    G2, _ = _build("m2", 8)
    G1, _ = _build("m1", 8)
    scales = P.generate_multiscale(G3, [(G2, 2), (G1, 4)], n_cubes=1, seed=0)
    assert [tuple(s.shape) for s in scales] == [(1, 8, 8, 8), (1, 16, 16, 16), (1, 64, 64, 64)]
    assert (scales[-1] >= 0).all()  # M1 ends in a ReLU


# ---------------------------------------------------------------------------------------------- networks
@pytest.mark.parametrize("side", [8, 16, 32])
@pytest.mark.parametrize("stage", ["m3", "m2", "m1"])
def test_network_shapes_and_signatures(stage, side):
    G, D = _build(stage, side)
    z = torch.randn(2, G.latent_dim)
    if stage == "m3":
        x = G(z)
        assert x.shape == (2, 1, side, side, side) and D(x).shape == (2,)
        with pytest.raises(ValueError, match="unconditional"):
            G(z, torch.zeros(2, 1))
        return
    y = torch.randn(2, G.cond_channels, side, side, side)
    x = G(z, y)
    assert x.shape == (2, 1, side, side, side)
    assert D(x, y).shape == (2,)
    assert torch.equal(G(z, y.flatten(1)), x)  # the Trainer's flat labels
    D.eval()  # in training mode each call advances the spectral norm's power iteration
    assert torch.equal(D(x, y.flatten(1)), D(x, y))
    with pytest.raises(ValueError, match="conditioning y"):
        G(z, y[:, :3])


@pytest.mark.parametrize("stage", ["m2", "m1"])
@pytest.mark.parametrize("borders, low_res, channels", [(True, True, 8), (True, False, 7), (False, True, 1)])
def test_ablation_networks(stage, borders, low_res, channels):
    G, D = _build(stage, 8, borders=borders, low_res=low_res)
    assert G.cond_channels == D.cond_channels == channels
    y = torch.randn(2, channels, 8, 8, 8)
    x = G(torch.randn(2, G.latent_dim), y)
    assert x.shape == (2, 1, 8, 8, 8) and D(x, y).shape == (2,)
    assert D.field_side == (16 if borders else 8) and D.in_channels == (3 if low_res else 1)


def test_latent_sizes():
    assert _build("m2", 8)[0].latent_dim == 16 * 1 + 4**3  # border code 16 (p/8)^3 + z2 (p/2)^3
    assert _build("m2", 32)[0].latent_dim == 1024 + 16**3  # Table 4: 1024 + 16^3
    assert _build("m1", 16)[0].latent_dim == 16**3
    assert ms.paper_sizes("m3") == dict(width=64, side=32, latent_dim=256)


def test_m3_generator_parameter_count_by_hand():
    G, _ = _build("m3", 8, latent_dim=4)
    # width 2, side 8: dense 4 -> 8 (40); transposed 8->8, 8->4, 4->2 and convs 2->2, 2->1, kernel 4^3 with biases
    by_hand = (4 * 8 + 8) + (64 * 8 * 8 + 8) + (64 * 8 * 4 + 4) + (64 * 4 * 2 + 2) + (64 * 2 * 2 + 2) + (64 * 2 + 1)
    assert ms.count_parameters(G) == by_hand == 7097


def test_stride_one_layers_pad_like_tensorflow_same():
    conv = ms.same_conv3d(1, 1, 4)
    assert conv[0].padding == (1, 2, 1, 2, 1, 2)
    x = torch.zeros(1, 1, 5, 5, 5)
    x[0, 0, 2, 2, 2] = 1.0
    with torch.no_grad():
        conv[1].weight.zero_(), conv[1].bias.zero_()
        conv[1].weight[0, 0, 1, 1, 1] = 1.0  # the tap at offset 0 of a (1 before, 2 after) window
    assert torch.equal(conv(x), x)


@pytest.mark.parametrize("stage", ["m3", "m2", "m1"])
def test_critics_are_spectrally_normalised_without_batchnorm(stage):
    G, D = _build(stage, 8)
    weighted = [m for m in D.modules() if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d, nn.Linear))]
    n_expected = {"m3": 6, "m2": 6, "m1": 8 * 4 + 3}[stage]  # M1: 8 inception blocks x (3 branches + merge) + 3 dense
    assert len(weighted) == n_expected
    assert all(parametrize.is_parametrized(m, "weight") for m in weighted)
    for net in (G, D):
        assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())


def test_generators_xavier_weights_zero_biases():
    G, _ = _build("m1", 8)
    conv = G.body[0].branches[2][1]  # first block, kernel-4 branch: 9 -> 2 channels
    bound = (6 / ((9 + 2) * 64)) ** 0.5
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.8 * bound
    assert torch.count_nonzero(conv.bias) == 0


# ---------------------------------------------------------------------------------------------- PSD
def test_power_spectrum_of_a_plane_wave():
    n = 16
    x = torch.arange(n, dtype=torch.float64)
    wave = torch.cos(2 * np.pi * 3 * x / n)[:, None, None].expand(n, n, n)[None].float()
    ps = ms.radial_power_spectrum(wave)
    assert ps.shape == (1, 8)
    assert int(ps.argmax()) == 2  # shell |k| = 3
    # 2 modes of power n^3 / 4 each, averaged over the 98 modes with 2.5 <= |k| < 3.5
    # (|k|^2 in 7..12: 0 + 12 + 30 + 24 + 24 + 8 lattice points)
    assert float(ps[0, 2]) == pytest.approx(2 * n**3 / 4 / 98, rel=1e-5)
    assert float(ps[0].sum() - ps[0, 2]) == pytest.approx(0.0, abs=1e-4)
    _, counts = ms.shell_index(n)
    assert counts[2] == 98 and counts[0] == 6 + 12  # |k| in [0.5, 1.5): |k|^2 in {1, 2}


def test_power_spectrum_features_are_differentiable_twice():
    features = ms.PowerSpectrumFeatures(8)
    x = torch.randn(2, 1, 8, 8, 8, requires_grad=True)
    (grad,) = torch.autograd.grad(features(x).sum(), x, create_graph=True)
    grad.square().sum().backward()  # what the gradient penalty does
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert torch.allclose(features(x), torch.log1p(ms.radial_power_spectrum(x)))


# ---------------------------------------------------------------------------------------------- seeds
@pytest.mark.parametrize("stage", ["m3", "m2", "m1"])
def test_construction_is_reproducible(stage):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    G1, D1 = _build(stage, 8, seed=4)
    G2, D2 = _build(stage, 8, seed=4)
    G3, _ = _build(stage, 8, seed=5)
    assert torch.equal(torch.get_rng_state(), before)  # fork_rng: the caller's stream is untouched
    for a, b in ((G1, G2), (D1, D2)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(a, b) for a, b in zip(G1.parameters(), G3.parameters()))


# ---------------------------------------------------------------------------------------------- training
def _train_one_step(G, D, data, **extra):
    cfg = dict(loss="wgan-gp", gp_weight=10.0, overlap_weight=1.0, critic_steps=2, optimizer="rmsprop")
    cfg.update(lr_g=3e-5, lr_d=3e-5, batch_size=2, max_steps=1, latent_dim=G.latent_dim, device="cpu")
    cfg.update(progress=False, tensorboard=False, log_every=1)
    cfg.update(extra)
    before = [p.detach().clone() for p in G.parameters()]
    before_d = [p.detach().clone() for p in D.parameters()]
    trainer = Trainer(G, D, data, TrainConfig(**cfg))
    out = trainer.fit()
    assert out["step"] == 1
    row = out["history"][-1]
    assert np.isfinite(row["loss/g"]) and np.isfinite(row["loss/d"]) and row["d/gp"] > 0
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, trainer.G_raw.parameters()))
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before_d, trainer.D_raw.parameters()))
    return out


def _real_cubes(n=2, side=16):
    return torch.rand(n, side, side, side, generator=torch.Generator().manual_seed(0)).log1p()


def test_m3_trains_one_step():
    G, D = _build("m3", 8)
    _train_one_step(G, D, P.downsample(_real_cubes(), 2), precision="fp32")


@pytest.mark.parametrize("stage, factor", [("m2", 2), ("m1", 4)])
def test_patch_stages_train_one_step(stage, factor):
    G, D = _build(stage, 8)
    targets, y = P.training_pairs(_real_cubes(), 8, factor=factor, flat=True)
    _train_one_step(G, D, (targets, y), precision="fp32")


def test_m1_trains_one_step_with_the_cuda_options():
    """bf16 autocast and channels-last-3d, as on a GPU: the PSD features must leave autocast."""
    G, D = _build("m1", 8)
    targets, y = P.training_pairs(_real_cubes(), 8, factor=4, flat=True)
    out = _train_one_step(G, D, (targets, y), precision="bf16", channels_last=True, critic_steps=1)
    assert out["device_settings"]["precision"] == "bf16" and out["device_settings"]["channels_last"]


# ---------------------------------------------------------------------------------------------- Table 2's 2D WGAN
def test_2d_baseline_shapes_spectral_norm_and_refusals():
    from gancosmo.models.wgan2d import wgan2d

    G, D = wgan2d(width=4, side=32, latent_dim=16, seed=1)
    x = G(torch.randn(3, 16))
    assert x.shape == (3, 1, 32, 32) and D(x).shape == (3,)
    weighted = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert weighted and all(parametrize.is_parametrized(m, "weight") for m in weighted)
    G2, _ = wgan2d(width=4, side=32, latent_dim=16, seed=1)
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G2.state_dict().values()))
    with pytest.raises(ValueError, match="side must be a multiple of 8"):
        wgan2d(width=4, side=36)
    with pytest.raises(ValueError, match="takes images \\(B, 1, 32, 32\\)"):
        D(torch.zeros(2, 1, 16, 16))
