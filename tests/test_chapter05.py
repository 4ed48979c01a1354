"""Chapter 05 (P5): transforms, symmetries, the Dice family, the networks, the frozen decoder, parameters, and
the chapter end to end at smoke through papermill with its saved GAN and autoencoder."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from chapter_runs import notebook_text, run_chapter
from gancosmo import emulators
from gancosmo.evaluation import p5 as E
from gancosmo.models import p5 as M
from gancosmo.params import ParameterError
from gancosmo.sims.suites import log_like
from gancosmo.stats import dice_scores, dice_top_percent

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_gan_autoencoder.ipynb"


# ---------------------------------------------------------------------------------------------- transforms
def test_the_2d_transform_is_eq1_and_inverts_to_particles_per_pixel():
    T = E.TRANSFORMS["2d"]
    v = np.geomspace(0.01, 600, 200)
    np.testing.assert_allclose(T.forward(v), log_like(v, math.log(0.01), math.log(600.0)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(T.inverse(T.forward(v)), v, rtol=1e-12)
    assert T.forward(0.01) == pytest.approx(-1) and T.forward(600.0) == pytest.approx(1)
    assert T.forward(1e-4) == pytest.approx(-1)  # below the suite's 0.01 ppp clip, as the suite does
    y = torch.linspace(-1, 1, 11, dtype=torch.float64)
    np.testing.assert_allclose(T.inverse(y).numpy(), T.inverse(y.numpy()), rtol=1e-12)
    # no saturation: the slope in log10 v is the same everywhere, 2 ln 10 / (b - a)
    np.testing.assert_allclose(T.slope(v), 2 * math.log(10) / math.log(60000.0), rtol=1e-12)


def test_the_3d_transform_is_eq2_inverts_and_maps_zero_to_minus_one():
    T = E.TRANSFORMS["slices"]
    v = np.concatenate([[0.0], np.geomspace(1e-6, 2000, 300)])
    a, b, c = math.log(1e-3), math.log(2632.0), 1e-3
    np.testing.assert_allclose(T.forward(v), log_like(v, a, b, c), rtol=0, atol=1e-12)
    np.testing.assert_allclose(T.inverse(T.forward(v)), v, rtol=1e-9, atol=1e-15)
    assert T.forward(0.0) == pytest.approx(-1, abs=1e-15) and T.forward(2632.0 - c) == pytest.approx(1)
    t = torch.as_tensor(v)
    np.testing.assert_allclose(T.forward(t).numpy(), T.forward(v), rtol=1e-12)


def test_the_3d_transform_saturates_below_c():
    """P5 Sect. 2.2: values below c = 1e-3 are hard to tell apart after Eq. 2."""
    T = E.TRANSFORMS["slices"]
    b_minus_a = math.log(2632.0 / 1e-3)
    # everything in [0, c] lands in [-1, -1 + 2 ln 2 / (b - a)] (about 0.094 wide) ...
    below = T.forward(np.linspace(0, 1e-3, 101))
    assert below.min() == pytest.approx(-1) and below.max() == pytest.approx(-1 + 2 * math.log(2) / b_minus_a)
    # ... while one decade above c spans 2 ln(10.0 / 1.1)... the analytic width
    width = T.forward(1e-1) - T.forward(1e-2)
    assert width == pytest.approx(2 * math.log(0.101 / 0.011) / b_minus_a)
    assert width > 2.3 * (below.max() - below.min())

    def numeric_slope(x, h=1e-4):  # dv'/dlog10 v by central differences
        return (T.forward(x * 10**h) - T.forward(x * 10**-h)) / (2 * h)

    for x in (1e-6, 1e-5, 1e-3, 1.0, 100.0):
        assert numeric_slope(x) == pytest.approx(T.slope(x), rel=1e-6)
    # the resolution at 1e-5 ppp is ~1% of the one at 1 ppp: v / (v + c) (1 + c)
    assert T.slope(1e-5) / T.slope(1.0) == pytest.approx(1e-5 / (1e-5 + 1e-3) * (1 + 1e-3), rel=1e-12)
    assert T.slope(1e-5) < 0.011 * T.slope(1.0)


def test_the_transform_refuses_impossible_constants():
    with pytest.raises(ValueError, match="accepted are a < b"):
        E.P5LogLike(1.0, 0.5)
    with pytest.raises(ValueError, match="exp\\(a\\) >= c"):
        E.P5LogLike(math.log(1e-3), 1.0, c=0.01)


# ---------------------------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def smoke_data():
    cfg = E.P5Config.from_parameters(profile="smoke")
    return cfg, E.load_data(cfg, "cpu", progress=False)


def test_smoke_sets_are_split_by_parent_and_invert_to_the_suites_densities(smoke_data):
    from gancosmo.sims import load_suite

    cfg, data = smoke_data
    for name, s in data.items():
        assert s.images.shape[1:] == (cfg.side, cfg.side) and s.images.dtype == np.float32
        sets = [set(s.parents[s.split[k]]) for k in ("train", "dev", "test")]
        assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2]), name
        assert sum(len(v) for v in s.split.values()) == len(s.images)
        counts = np.bincount(s.parents)
        assert (counts == s.per_parent).all(), name
        assert s.per_parent == cfg.layout(name)["per_parent"] and len(counts) == cfg.layout(name)["parents"]
        assert s.n_eval == cfg.n_eval(name) and len(s.split["train"]) == cfg.n_train(name)
        assert s.images.min() >= -1 - 1e-6
    suite = load_suite("p5_2d", profile="smoke", progress=False, **cfg.suite_overrides("2d"))
    density = suite.arrays["density"].astype(np.float64)
    assert density.mean() == pytest.approx(1.0, rel=1e-5)  # 1 particle per pixel: the density is ppp
    smooth = E.smooth_fields(density, cfg.smooth_2d)
    np.testing.assert_allclose(smooth.sum(axis=(1, 2)), density.sum(axis=(1, 2)), rtol=1e-10)  # particles kept
    assert cfg.smooth_2d > 0 and smooth.std() < density.std()
    crops = E.crop_fields(np.maximum(smooth, 0.01), cfg.side).reshape(-1, cfg.side, cfg.side)
    np.testing.assert_allclose(data["2d"].transform.inverse(data["2d"].images.astype(np.float64)), crops, rtol=2e-5)
    # the 3D set: the suite's images (Eq. 2 then smoothing), cut into our crops, never below 0 ppp
    slabs = load_suite("p5", profile="smoke", progress=False, **cfg.suite_overrides("slices")).arrays["images"]
    np.testing.assert_array_equal(data["slices"].images, E.crop_fields(slabs, cfg.side).reshape(-1, cfg.side, cfg.side))
    assert (data["slices"].density("train") >= 0).all()


def test_smoothing_keeps_the_particles_and_has_the_stated_width_across_the_periodic_edge():
    field = np.zeros((2, 64, 64))
    field[0, 10, 62] = 3.0  # a spike beside the edge: its Gaussian's tail wraps around
    field[1] = 1.0
    out = E.smooth_fields(field, 1.5)
    assert out[0].sum() == pytest.approx(3.0, rel=1e-12)
    np.testing.assert_allclose(out[1], 1.0, rtol=1e-12)  # a uniform field stays uniform
    offset = (np.arange(64) + 32) % 64 - 32  # periodic distance of each pixel from pixel 0
    for axis, at in ((1, 10), (0, 62)):  # rows, then columns
        profile = out[0].sum(axis=axis) / 3.0
        assert np.sum(profile * np.roll(offset, at) ** 2) == pytest.approx(1.5**2, rel=0.02)
    np.testing.assert_array_equal(E.smooth_fields(field, 0.0), field)


@pytest.mark.filterwarnings("ignore:the spectrum of real_maps")
def test_the_null_shift_admits_a_lognormal_where_the_mean_minus_the_minimum_does_not(smoke_data):
    import dataclasses

    from gancosmo.stats.fields import lognormal_maps_like

    cfg, data = smoke_data
    s = data["2d"]
    floor = s.transform.floor
    # image 0: dense squares on a quarter of the pixels, period 8 (every lag (4, .) or (., 4) joins a square to
    # a void, and the pattern has the square's symmetries); image 1: empty. The image means scatter, so the
    # correlation function reaches -(mu_0 - m)^2 / 2 while (mu - m)^2 is only (mu_0 - m)^2 / 4.
    stripe = (np.arange(32) % 8 < 4).astype(float)
    squares = E.smooth_fields((floor + 40.0 * np.outer(stripe, stripe))[None], 0.7)[0]
    rho = np.stack([squares, np.full((32, 32), floor)])
    with pytest.raises(ValueError, match="no shifted lognormal"):
        lognormal_maps_like(rho, 1.0, 2, shift=float(rho.mean() - rho.min()))
    means = rho.mean(axis=(1, 2))
    assert E.null_shift(rho) == pytest.approx(np.sqrt(np.mean((means - floor) ** 2)), rel=1e-9)
    assert E.null_shift(rho) == pytest.approx(np.sqrt(0.5) * (means[0] - floor), rel=1e-6)
    two = dataclasses.replace(
        s, images=s.transform.forward(rho).astype(np.float32), parents=np.arange(2), split={"train": np.arange(2)}
    )
    null, shift = E._lognormal_null(two, 8, seed=0)
    assert shift == pytest.approx(E.null_shift(rho), rel=1e-5)
    assert null.shape == (8, 32, 32) and np.isfinite(null).all() and null.min() >= floor
    # on the smoke images, whose means scatter little, the rule is close to the mean minus the minimum
    train = s.density("train")
    assert train.mean() - train.min() <= E.null_shift(train) < 1.2 * (train.mean() - train.min())
    null, _ = E._lognormal_null(s, 64, seed=0)
    assert null.var() == pytest.approx(train.var(), rel=0.2)


def test_crops_are_the_first_middle_and_last_squares():
    fields = np.arange(2 * 8 * 8, dtype=float).reshape(2, 8, 8)
    crops = E.crop_fields(fields, 4)
    assert crops.shape == (2, 9, 4, 4)
    np.testing.assert_array_equal(crops[1, 4], fields[1, 2:6, 2:6])
    np.testing.assert_array_equal(crops[0, 8], fields[0, 4:, 4:])
    assert E.crop_fields(fields, 8).shape == (2, 1, 8, 8)


def test_the_eight_symmetries_of_the_square():
    image = np.random.default_rng(0).random((6, 6))
    eight = E.square_symmetries(image).numpy()
    assert eight.shape == (8, 6, 6)
    np.testing.assert_array_equal(eight[0], image)
    flat = {tuple(x.ravel()) for x in eight}
    assert len(flat) == 8  # all distinct for an image with no symmetry
    for x in eight:  # each one a permutation of the pixels, and the set closed under rotation and mirror
        np.testing.assert_array_equal(np.sort(x.ravel()), np.sort(image.ravel()))
        assert tuple(np.rot90(x).ravel()) in flat and tuple(x[:, ::-1].ravel()) in flat
    expected = {tuple(np.rot90(m, k).ravel()) for m in (image, image.T) for k in range(4)}
    assert flat == expected


# ---------------------------------------------------------------------------------------------- Dice family
def _distinct(n, side, seed):
    return (
        np.random.default_rng(seed)
        .permuted(np.tile(np.arange(side * side, dtype=float), (n, 1)), axis=1)
        .reshape(n, side, side)
    )


def test_dice_of_identical_images_is_one():
    a = _distinct(4, 16, 0)
    np.testing.assert_allclose(dice_top_percent(a, a.copy(), E.PERCENTS), 1.0)


def test_dice_of_independent_random_images_is_the_top_fraction_on_average():
    a, b = _distinct(400, 32, 1), _distinct(400, 32, 2)
    d = dice_top_percent(a, b, E.PERCENTS)
    # E[N_ab] = k^2 / N for two random sets of k of N pixels: Dice = k / N; its spread over 400 pairs is
    # sqrt(f (1 - f)^2 ... ) small, so the mean is within 0.01 of f
    np.testing.assert_allclose(d.mean(0), E.PERCENTS / 100, atol=0.01)


def test_dice_of_a_flipped_ramp_is_exact():
    ramp = np.repeat(np.arange(20, dtype=float)[:, None], 20, axis=1)[None]  # rows of increasing value
    flipped = ramp[:, ::-1].copy()
    d = dice_top_percent(ramp, flipped, [20, 50, 60, 100])[0]
    # top 20%: rows 16-19 vs rows 0-3, no overlap; top 60%: rows 8-19 vs 0-11, 4 of 12 rows shared
    np.testing.assert_allclose(d, [0.0, 0.0, 1 / 3, 1.0])


def test_eqs_10_and_11_on_known_overlaps():
    overlap = np.array([[0.5, 0.9], [0.7, 0.7]])  # mean 0.6, 0.8
    norm, sig = dice_scores(overlap, np.array([0.2, 0.6]), np.array([0.1, 0.05]))
    np.testing.assert_allclose(norm, [(0.6 - 0.2) / 0.8, (0.8 - 0.6) / 0.4])
    np.testing.assert_allclose(sig, [4.0, 4.0])


def test_dice_curves_give_one_for_perfect_and_zero_for_random_reconstructions():
    real = _distinct(120, 24, 3)
    parents = np.arange(120) // 3
    perfect = E.dice_curves(real, real.copy(), parents, n_pairs=300, seed=0)
    np.testing.assert_allclose(perfect["normalized"], 1.0)
    assert (perfect["significance"] > 3).all()
    noise = E.dice_curves(real, _distinct(120, 24, 4), parents, n_pairs=300, seed=0)
    np.testing.assert_allclose(noise["r"], E.PERCENTS / 100, atol=0.02)
    assert np.abs(noise["normalized"]).max() < 0.05 and np.abs(noise["significance"]).max() < 1.0
    i, j = E.random_pairs(parents, 500, seed=1)
    assert (parents[i] != parents[j]).all() and len(i) == 500


# ---------------------------------------------------------------------------------------------- networks
def _conv_params(c_in, c_out, bn):
    return 25 * c_in * c_out + c_out + (2 * c_out if bn else 0)


def test_networks_at_p5s_sizes():
    G, D = M.dcgan(**M.paper_sizes(), seed=0)
    enc = M.encoder(**M.paper_sizes(), seed=0)
    widths = [1, 32, 64, 128, 256, 512]
    convs = sum(_conv_params(widths[i], widths[i + 1], i > 0) for i in range(5))
    assert M.count_parameters(D) == convs + 8192 + 1  # Fig. A.1: the last dense layer is 8192 -> 1
    assert M.count_parameters(enc) == convs + 8192 * 100 + 100  # Appendix A.2: 8192 -> 100, no activation
    assert D.n_features == enc.n_features == 8192 and enc.dense.out_features == 100
    z = torch.randn(2, 100)
    x = G(z)
    assert x.shape == (2, 1, 128, 128) and x.abs().max() <= 1
    assert D(x).shape == (2,) and D.features(x).shape == (2, 8192) and enc(x).shape == (2, 100)
    assert [m.out_channels for m in G.net if isinstance(m, torch.nn.ConvTranspose2d)] == [256, 128, 64, 32, 1]


@pytest.mark.parametrize("width, side, latent, layers", [(2, 32, 8, 3), (4, 64, 16, 4), (3, 128, 100, 5)])
def test_encoder_shapes(width, side, latent, layers):
    enc = M.encoder(width=width, side=side, latent_dim=latent, seed=1)
    out = enc(torch.zeros(5, 1, side, side))
    assert out.shape == (5, latent)
    # every size ends on 4 x 4 maps, as Fig. A.1: log2(side / 4) layers, the last with width * 2**(layers - 1)
    assert M.n_layers(side) == layers and enc.n_features == width * 2 ** (layers - 1) * 16
    G, D = M.dcgan(width=width, side=side, latent_dim=latent, seed=1)
    assert G(out).shape == (5, 1, side, side) and D.features(G(out)).shape == (5, enc.n_features)
    assert G.dense.out_features == enc.n_features
    with pytest.raises(ValueError, match="4 times a power of two"):
        M.encoder(width=width, side=side + 16, latent_dim=latent)


def _tiny_set(n=48, side=32, seed=0):
    rng = np.random.default_rng(seed)
    images = np.tanh(rng.normal(-0.5, 0.4, size=(n, side, side))).astype(np.float32)
    parents = np.arange(n) // 2
    split = dict(train=np.arange(0, 32), dev=np.arange(32, 40), test=np.arange(40, 48))
    return E.P5Set("2d", images, parents, split, 1.0, 2, E.TRANSFORMS["2d"], "pairs", "random test images")


def test_the_frozen_decoder_and_discriminator_stay_frozen():
    cfg = E.P5Config.from_parameters(profile="smoke")
    data = _tiny_set()
    G, D = M.dcgan(width=2, side=32, latent_dim=cfg.latent_dim, seed=0)
    gan = E.GanModel(G.eval(), D.eval(), cfg.network_args("2d"), 1, 0.1, 32, 0.0, None, None, [], [])
    before = {k: v.clone() for k, v in {**G.state_dict(), **{"D." + k: v for k, v in D.state_dict().items()}}.items()}
    ae = E.train_autoencoder(cfg, data, gan, "cpu", progress=False)
    after = {**G.state_dict(), **{"D." + k: v for k, v in D.state_dict().items()}}
    for k, v in before.items():
        assert torch.equal(v, after[k]), k  # neither network moved, BatchNorm statistics included
    fresh = M.encoder(width=2, side=32, latent_dim=cfg.latent_dim, seed=E._seeds(cfg, "2d")["encoder"])
    assert any(not torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), ae.E.state_dict().values()))
    assert ae.best_loss == min(h["dev"] for h in ae.history)
    assert ae.best_step == min(ae.history, key=lambda h: h["dev"])["step"]
    # the loss of Eq. 7 sends gradients to the encoder only
    frozen_G, frozen_D = M.freeze(G), M.freeze(D)
    x = torch.as_tensor(data.part("train")[:4])[:, None]
    E.feature_loss(frozen_D, frozen_G, ae.E.train(), x).backward()
    assert all(p.grad is None and not p.requires_grad for p in list(G.parameters()) + list(D.parameters()))
    assert all(p.grad is not None for p in ae.E.parameters())
    assert float(E.feature_loss(frozen_D, frozen_G, lambda x: torch.zeros(len(x), cfg.latent_dim), x)) > 0


def test_two_workers_train_the_networks_of_one_after_the_other(smoke_data):
    cfg, data = smoke_data
    side_by_side = E.P5Config.from_parameters(profile="smoke", workers=2)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        parallel, seconds = E.train_sets(side_by_side, data, "cpu", progress=False)  # one thread per worker
        torch.set_num_threads(1)
        E.setup(cfg)
        serial, _ = E.train_sets(cfg, data, "cpu", progress=False)
    finally:
        torch.set_num_threads(threads)
    assert list(parallel) == list(serial) == ["2d", "slices"]
    for name in serial:
        for part in ("gan.G", "gan.D", "autoencoder.E", "sanity.E"):
            a, b = (getattr(getattr(m[name], part.split(".")[0]), part.split(".")[1]) for m in (parallel, serial))
            assert a.state_dict().keys() == b.state_dict().keys()
            for (k, u), v in zip(a.state_dict().items(), b.state_dict().values()):
                assert torch.equal(u, v), (name, part, k)
        assert parallel[name].gan.best_step == serial[name].gan.best_step
    assert seconds > 0


def test_a_failing_worker_is_reported_by_its_set(smoke_data):
    import dataclasses

    cfg, data = smoke_data
    broken = dict(data, slices=dataclasses.replace(data["slices"], images=data["slices"].images[:, :16, :16]))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with pytest.raises(
            RuntimeError, match=r"training the 3D set \(slabs of 3D boxes\) in its worker process failed"
        ):
            E.train_sets(E.P5Config.from_parameters(profile="smoke", workers=2), broken, "cpu", progress=False)
    finally:
        torch.set_num_threads(threads)


def test_feature_loss_is_eq7():
    G, D = M.dcgan(width=2, side=32, latent_dim=4, seed=0)
    G, D = M.freeze(G), M.freeze(D)
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    x = G(z)
    assert float(E.feature_loss(D, G, lambda _: z, x)) == pytest.approx(0.0, abs=1e-10)  # perfect encoder
    other = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
    expected = ((D.features(x) - D.features(G(other))) ** 2).sum(1).mean()
    assert float(E.feature_loss(D, G, lambda _: other, x)) == pytest.approx(float(expected), rel=1e-6)


# ---------------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "profile, overrides, message",
    [
        ("smoke", dict(sead=1), "unknown parameter 'sead'"),
        ("smoke", dict(image_sets="3d"), "parameter 'image_sets' must be one of 'both', '2d', 'slices'"),
        ("smoke", dict(lr=0), "parameter 'lr' must be a number with 0 < value <= 1"),
        ("smoke", dict(label_flip=0.7), "parameter 'label_flip' must be a number with 0 <= value <= 0.5"),
        ("smoke", dict(side=48), "parameter 'side' is 48; accepted is 4 times a power of two"),
        ("cpu", dict(side=256), "parameter 'pixels_2d' is 128; accepted is a divisor of the 2D runs' 256"),
        ("cpu", dict(pixels_2d=100), "parameter 'pixels_2d' is 100; accepted is a divisor of the 2D runs' 256"),
        ("cpu", dict(pixels_2d=256, side=256), "parameter 'side' is 256, larger than the 128-pixel slab images"),
        ("smoke", dict(n_runs=6), "leave 2 test parents in the 2D set"),
        ("smoke", dict(batch_size=12), "parameter 'batch_size' (12) exceeds the 11 training images of the 3D set"),
        ("smoke", dict(epochs_2d=0.01), "parameter 'epochs_2d' (0.01) gives 0 steps"),
        ("smoke", dict(dev_fraction=0.5, test_fraction=0.5), "leave less than 10% of the parents to train on"),
        ("smoke", dict(emulator="committed"), "parameter 'emulator' is 'committed' but its 2d networks were built"),
    ],
)
def test_bad_parameters_are_refused_with_one_sentence(profile, overrides, message):
    with pytest.raises(ParameterError) as error:
        E.P5Config.from_parameters(profile=profile, **overrides)
    text = str(error.value)
    assert message in text, text
    assert text.endswith(".")


def test_every_profile_is_consistent():
    for name, cfg in E.P5Config.PROFILES.items():
        for s in E.SETS:
            assert cfg.n_eval(s) >= 2 and cfg.gan_steps(s) >= 1 and cfg.ae_steps(s) >= 1, (name, s)
    paper = E.P5Config.PROFILES["paper"]
    assert (paper.width, paper.side, paper.latent_dim, paper.batch_size) == (32, 128, 100, 50)
    assert (paper.lr, paper.beta1, paper.epochs_2d, paper.epochs_slices) == (2e-4, 0.5, 60.0, 70.0)
    assert paper.ae_epochs_2d == paper.ae_epochs_slices == 50.0
    assert E.P5Config.PROFILES["gpu"].width == 32 and E.P5Config.PROFILES["cpu"].width < 32
    assert "P5's widths" in paper.reduced() and "4 particles per pixel on average (P5: 4)" in paper.reduced()
    assert E.P5Config.PROFILES["cpu"].emulator == "committed"  # scores the cpu-long networks on fresh data
    for key in ("side", "width", "latent_dim", "pixels_2d"):  # cpu can score the cpu-long networks
        assert getattr(E.P5Config.PROFILES["cpu"], key) == getattr(E.P5Config.PROFILES["cpu-long"], key)


# ---------------------------------------------------------------------------------------------- the chapter
def _papermill(tmp_path, *params):
    return run_chapter(NOTEBOOK, tmp_path, *params, threads=1)


_outputs = notebook_text


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("p5smoke")
    results = tmp / "results"
    results.mkdir()
    proc, out = _papermill(tmp, ("profile", "smoke"), ("results_dir", str(results)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return results, out


def test_smoke_run_writes_a_schema2_scorecard_and_figures(smoke_run):
    results, _ = smoke_run
    payload = json.loads((results / "scorecard_p5_smoke.json").read_text())
    assert payload["schema"] == 2
    meta, rows = payload["meta"], payload["rows"]
    for key in ("profile", "git_commit", "seeds", "n_splits", "scored_max", "sizes", "timings", "parents", "reduced"):
        assert key in meta, key
    assert meta["profile"] == "smoke" and meta["n_splits"] >= 20 and meta["code_hash"] and meta["label_noise"]
    for part in ("data", "gan", "autoencoder", "training", "evaluation", "total", "other"):
        assert meta["timings"][part] >= 0, part
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", r["key"])
        assert r["verdict"] in ("pass", "fail", "untestable"), r  # every row judged, as committed cards must be
        if r["band"] is not None and r["key"].startswith(("p5_2d_", "p5_slices_")):
            assert r["band"][0] <= r["reference"] <= r["band"][1], r["key"]
    for s in ("2d", "slices"):
        for who in ("gan", "ae"):
            for stat in ("pdf_chi2_dof", "pk_median_max_abs_frac", "peaks_chi2_dof", "mean_density_ks"):
                assert f"p5_{s}_{who}_{stat}" in keys
        for target in (
            "pdf_within_10pc",
            "mean_density_in_band",
            "peaks_in_band",
            "pk_median_in_band",
            "peaks_beat_null",
            "dice_significant_to_60pc",
        ):
            assert f"p5_target_{s}_{target}" in keys
        peak = next(r for r in rows if r["key"] == f"p5_{s}_dice_normalized_peak_percent")
        assert peak["paper"] == E.PAPER_DICE_PEAK[s] and peak["ours"] in E.PERCENTS
        near = abs(peak["ours"] - E.PAPER_DICE_PEAK[s]) <= E.PERCENT_STEP
        assert peak["verdict"] == ("pass" if near else "fail"), peak
        real, gan = (next(r for r in rows if r["key"] == f"p5_{s}_sanity_{w}_dice_top1") for w in ("real", "gan"))
        assert real["verdict"] == ("pass" if real["ours"] < gan["ours"] else "fail"), (real, gan)
        assert f"p5_{s}_gan_memorisation" in keys and f"p5_{s}_sanity_gan_dice_top1" in keys
    names = ["fig1_transforms", "training", "fig8_thresholds_2d", "fig9_overlaps_slices"]
    names += ["fig2_images_2d", "fig3_statistics_2d", "fig6_pairs_2d", "fig7_ae_statistics_2d", "fig10_dice_2d"]
    names += ["fig4_images_slices", "fig5_statistics_slices", "fig11_pairs_slices", "fig12_ae_statistics_slices"]
    names += ["fig13_dice_slices"]
    for name in names:
        assert (results / f"{name}_smoke.png").exists(), name


def test_saved_gan_and_autoencoder_load_as_emulators(smoke_run):
    results, _ = smoke_run
    cfg = E.P5Config.from_parameters(profile="smoke")
    for s in E.SETS:
        em = emulators.load(f"p5_{s}", device="cpu", path=results / f"emulator_p5_{s}_smoke")
        images = em.sample(3, seed=0)
        assert images.shape == (3, cfg.side, cfg.side) and images.dtype == np.float32
        np.testing.assert_array_equal(images, em.sample(3, seed=0))
        assert images.min() >= E.TRANSFORMS[s].floor - 1e-6  # particles per pixel, above the transform's floor
        z = em.encode(images)
        assert z.shape == (3, cfg.latent_dim)
        back = em.reconstruct(images)
        assert back.shape == images.shape and (back >= 0).all()
        np.testing.assert_allclose(back, em.decode(z), rtol=1e-6)
        assert em.meta["suite"] == ("p5_2d" if s == "2d" else "p5") and em.meta["training_seconds"] > 0
        models = E.load_models(s, results / f"emulator_p5_{s}_smoke", device="cpu")
        for a, b in zip(models.gan.G.state_dict().values(), em.generator.state_dict().values()):
            assert torch.equal(a, b)  # the decoder is the GAN's generator
        assert models.autoencoder.history and models.gan.history and models.source["profile"] == "smoke"
    with pytest.raises(ValueError, match="accepted are \\(n, 32, 32\\) particles per pixel"):
        em.encode(np.ones((2, 16, 16)))


def test_a_saved_folder_is_scored_without_training_and_other_sizes_are_refused(smoke_run):
    results, _ = smoke_run
    cfg = E.P5Config.from_parameters(profile="smoke", emulator=str(results))
    assert cfg.emulator_stem("2d") == results / "emulator_p5_2d_smoke"
    with pytest.raises(ParameterError, match="its 2d networks were built with width 2, side 32"):
        E.P5Config.from_parameters(profile="cpu", emulator=str(results))
    with pytest.raises(ParameterError, match="holds 0 saved emulator_p5_2d_<profile> files"):
        E.P5Config.from_parameters(profile="smoke", emulator=str(results / "nowhere"))


def test_summary_reads_its_numbers_from_the_scorecard(smoke_run):
    results, out = smoke_run
    rows = json.loads((results / "scorecard_p5_smoke.json").read_text())["rows"]
    text = _outputs(out)
    judged = [r for r in rows if r["verdict"] is not None]
    n_pass = sum(r["verdict"] == "pass" for r in judged)
    n_fail = sum(r["verdict"] == "fail" for r in judged)
    assert f"{n_pass} of {len(judged)} judged rows pass, {n_fail} fail" in text
    targets = [r for r in rows if r["key"].startswith("p5_target_")]
    assert f"{sum(r['verdict'] == 'pass' for r in targets)} of {len(targets)} targets met" in text
    peak = next(r for r in rows if r["key"] == "p5_2d_dice_normalized_peak_percent")
    assert f"peaks at the top {peak['ours']:.0f}% of pixels (P5: 20%)" in text


def test_bad_value_stops_in_validation_cell(tmp_path):
    results = tmp_path / "results"
    proc, _ = _papermill(tmp_path, ("profile", "smoke"), ("image_sets", "3d"), ("results_dir", str(results)))
    assert proc.returncode != 0
    assert "ParameterError" in proc.stderr and "parameter 'image_sets' must be one of" in proc.stderr
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*"))
    assert not results.exists()
