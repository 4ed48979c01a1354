# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (gancosmo)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # CosmoGAN: a DCGAN emulator of weak-lensing convergence maps (P1)
#
# ## Overview
# Mustafa et al. (2019, *Computational Astrophysics and Cosmology* 6:1, "CosmoGAN") trained a
# deep convolutional GAN (DCGAN) on 256$\times$256-pixel weak-lensing convergence maps of one
# $\Lambda$CDM cosmology and showed that the generated maps reproduce the pixel-intensity
# distribution, the power spectrum (and its mode-to-mode correlations) and the Minkowski
# functionals of held-out simulated maps, without memorising the training set. This chapter
#
# 1. builds P1's data: the book's simulated P1 suite, split into training, validation and
#    development maps, plus an independent auxiliary set made with another seed;
# 2. builds P1's networks (Tables 1 and 2) and trains them with P1's recipe, including its
#    model selection by a chi-squared statistic of the power spectrum;
# 3. re-makes every figure of P1 (Figs. 1-8) with our generator beside the paper's claims;
# 4. fills a scorecard: each P1 headline number, ours, and the same test between two
#    disjoint sets of *real* maps, which says what a perfect emulator would score with our
#    sample sizes.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | GANs, DCGAN architecture | Necessary | Goodfellow et al. (2014); Radford et al. (2015) |
# | Convergence power spectrum $C_\ell$, Minkowski functionals | Necessary | [The statistics](00_statistics.ipynb) |
# | Two-sample KS and Anderson-Darling tests | Helpful | any statistics text |
# | The book's simulated suites | Helpful | [The simulator](00_simulations.ipynb) |
#
# Time to run: about 5 minutes with `profile="cpu"` on two cores (the default without a
# GPU), about 20 minutes with `profile="gpu"` on one H100; `profile="paper"` is P1's 45 + 2
# epochs on 200,000 maps (days).

# %% tags=["remove-cell"]
_before_parameters = set(globals())  # names that exist before the parameters cell

# %% tags=["parameters"]
profile = "auto"  # one of: auto (gpu if CUDA is present, else cpu), smoke, cpu, gpu, paper
seed = 0  # seed of the split, the network weights and the training run
epochs = None  # training epochs (None: from the profile; P1: 47, the generator chosen over the last 2)
batch_size = None  # maps per batch (None: from the profile; P1: 64)
label_flip = 0.01  # probability that a discriminator batch has its real/fake labels swapped (P1: 0.01)
loss = "bce"  # "bce" (P1's non-saturating cross-entropy) or "wgan-gp"
lr = 2e-4  # Adam learning rate of both networks (P1: 2e-4)
beta1 = 0.5  # Adam beta1 (P1: 0.5)
intensity_scale = None  # the networks see the maps times this; generated maps are divided by it (None: from the profile; P1: 1)
n_generate = None  # generated maps for the evaluation (None: from the profile; P1: 6400)
device = None  # "cpu" or "cuda" (None: cuda when available)
results_dir = None  # folder to write scorecard_p1_{profile}.json and the figures (PNG) into, or None

# %% tags=["hide-input"]
# Validate the parameters: a wrong name, type or range stops here with one clear sentence.
from gancosmo.params import collect as _collect

_params = _collect(globals(), _before_parameters)  # before any other name is defined
import torch  # noqa: E402

from gancosmo.params import PROFILE_CHOICES, Param, ParameterError, validate  # noqa: E402

validate(
    _params,
    {
        "profile": Param(str, choices=PROFILE_CHOICES),
        "seed": Param(int, low=0),
        "epochs": Param(float, low=0, allow_none=True),
        "batch_size": Param(int, low=1, allow_none=True),
        "label_flip": Param(float, low=0, high=1, high_open=True),
        "loss": Param(str, choices=("bce", "wgan-gp")),
        "lr": Param(float, low=0, low_open=True, high=1),
        "beta1": Param(float, low=0, high=1, high_open=True),
        "intensity_scale": Param(float, low=0, low_open=True, allow_none=True),
        "n_generate": Param(int, low=8, allow_none=True),
        "device": Param(str, choices=("cpu", "cuda"), allow_none=True),
        "results_dir": Param(str, allow_none=True),
    },
)
if loss != "bce" and label_flip:
    raise ParameterError(f"parameter 'label_flip' applies to loss 'bce' only; with loss {loss!r} it must be 0, got {label_flip!r}.")
if device == "cuda" and not torch.cuda.is_available():
    raise ParameterError("parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None.")

# %% tags=["hide-input"]
import time

import numpy as np
from IPython.display import Markdown, display

from gancosmo.evaluation import p1 as E
from gancosmo.models.cosmogan import cosmogan, count_parameters
from gancosmo.scorecard import format_table, save_chapter_results
from gancosmo.sims import load_suite, resolve_profile
from gancosmo.stats import power_spectrum_2d
from gancosmo.train import TrainConfig, Trainer
from gancosmo.viz import cosmogan as V
from gancosmo.viz.common import show_figures_inline

show_figures_inline()

t_start = time.perf_counter()
profile = resolve_profile(profile)
device = device or ("cuda" if torch.cuda.is_available() else "cpu")
sizes = dict(E.PROFILES[profile])
sizes.update({k: v for k, v in dict(epochs=epochs, batch_size=batch_size, n_generate=n_generate, intensity_scale=intensity_scale).items() if v is not None})
print(f"profile {profile}, device {device}, torch {torch.__version__}")
print(", ".join(f"{k}={v}" for k, v in sizes.items()))
figures = {}

# %% [markdown]
# ## 1. The data
# P1 ray-traced 1000 convergence maps of 12 deg$^2$ (1024$^2$ pixels, sources at $z_s=1$,
# $\Omega_m=0.26$, $\sigma_8=0.798$) and randomly cropped 200 maps of 256$^2$ pixels from
# each: 0.866 deg on a side. Validation and development maps were cropped the same way; an
# *auxiliary* set of 1000 maps from simulations with another random seed serves as a
# statistically independent second sample of real maps. P1 noticed that fewer than 1% of
# maps have any pixel outside $[-1, 1]$, and used the maps as they are, with no
# normalisation, under the generator's tanh output.
#
# The book's P1 suite (`load_suite("p1", profile)`) makes maps of the same geometry and
# cosmology with its particle-mesh simulator and Born lensing ([The simulator](00_simulations.ipynb)).
# We split the maps at random into training (62.5%), validation (25%) and development
# (12.5%) sets and make the auxiliary set with a different simulation seed.
# With `smoke` and `cpu` the network is smaller: its maps are 64$^2$ pixels, so each
# 256$^2$ map is cut into 16 non-overlapping tiles *after* the split (tiles of one map never
# straddle two sets). Tiling keeps the pixel scale, hence the physics per pixel, and shrinks
# the field to 0.217 deg, so the lowest multipole rises from $\ell\approx 416$ to 1663.

# %%
suite = load_suite("p1", profile=profile, device=device, progress=False, **sizes["suite"])
aux_suite = load_suite("p1", profile=profile, device=device, progress=False, seed=seed + 1000, **sizes["aux"])
maps = suite["maps"]
inside = float(np.mean(np.abs(maps) <= 1))
maps_outside = float(np.mean((np.abs(maps) > 1).any(axis=(1, 2))))
print(f"suite: {maps.shape[0]} maps of {maps.shape[1]}^2 px; auxiliary: {aux_suite['maps'].shape[0]} maps (simulation seed {seed + 1000})")
print(f"pixel range [{maps.min():.4f}, {maps.max():.4f}], std {maps.std():.4f}; "
      f"pixels inside [-1, 1]: {100 * inside:.4f}%; maps with any pixel outside: {100 * maps_outside:.2f}%")
data = E.prepare_data(maps, aux_suite["maps"], sizes["map_size"], seed=seed)
print(data.summary())

# %% [markdown]
# All our pixels lie inside $[-1, 1]$, by a wide margin: convergence at $z_s=1$ on
# sub-arcminute pixels rarely exceeds a few tenths, and our PM maps, which lack the smallest
# scales of P1's ray-traced simulations, have a narrower tail still. So, like P1, the `gpu`
# and `paper` profiles feed the maps to the GAN as they are, and the generator must learn to
# use a small part of the tanh range, which P1's network managed in about 140,000 steps.
#
# **What `cpu` changes here.** A run of a few thousand steps does not get that far. We
# measured 1,920 steps of the `cpu` network on the raw maps: the generated $C_\ell$ stayed
# 1-2 dex below the data's on large scales (pixel std 0.0024 against 0.0114). The `cpu`
# profile therefore multiplies the maps by `intensity_scale` = 10 before training and divides
# the generated maps by it (a constant, not a per-map normalisation; about $10^{-5}$ of the
# scaled pixels lie outside $[-1, 1]$); the same run then came within 0.17 dex of the data's
# $C_\ell$ at every multipole. All statistics below are computed on maps in convergence units.

# %% [markdown]
# ## 2. The networks (Tables 1 and 2)
# The generator maps a 64-dimensional Gaussian vector through a dense layer to
# $512\times16\times16$ and four 5$\times$5 transposed convolutions of stride 2
# (512 $\to$ 256 $\to$ 128 $\to$ 64 $\to$ 1 channels), with BatchNorm and ReLU between
# layers and tanh at the end. The discriminator mirrors it with four strided convolutions,
# LeakyReLU(0.2), BatchNorm after all but the first, and a dense layer to one logit.
# The paper-size networks (`base_filters=64`, `map_size=256`) have these parameter counts:

# %%
G_paper, D_paper = cosmogan("paper", seed=0)
n_g, n_d = count_parameters(G_paper), count_parameters(D_paper)
print(f"generator:     {n_g:,} parameters (Table 1 prints a total of 12.3M; its rows add up to 12.8M)")
print(f"discriminator: {n_d:,} parameters (Table 2: 4.4M)")
del G_paper, D_paper
G, D = cosmogan(profile, base_filters=sizes["base_filters"], map_size=sizes["map_size"], seed=seed)
print(f"this run ({profile}): base_filters {G.base_filters}, maps {G.map_size}^2 -> generator {count_parameters(G):,}, "
      f"discriminator {count_parameters(D):,} parameters")

# %% [markdown]
# Every row of our generator matches its row of Table 1 (8.5M for the dense layer, 3.3M,
# 819K, 205K and 1601 for the transposed convolutions, plus the BatchNorm scales), but those
# rows add up to 12.8M, not the 12.3M printed as the table's total: an arithmetic slip in the
# paper. The discriminator's 4.4M agrees.
#
# The `smoke` and `cpu` profiles keep the layout and shrink the width (`base_filters` 8
# instead of 64, so channels 64-32-16-8) and the map side (64 instead of 256); `gpu` and
# `paper` train the full networks on full 256$^2$ maps.

# %% [markdown]
# ## 3. Training with P1's recipe
# Non-saturating cross-entropy loss; Adam with learning rate $2\times10^{-4}$ and
# $\beta_1=0.5$; batches of 64; with probability 1% the labels of a whole discriminator batch
# are swapped (P1's "label flipping", which kept the discriminator from winning). P1 trained
# for 45 epochs, then noticed that the generator's summary statistics "start varying
# uncontrollably" from step to step; so it trained two more epochs, generated 6400 maps at
# *every* step, computed the chi-squared distance between their power-spectrum histograms
# and those of a development set, and kept the generator with the lowest value.
#
# Our statistic (`gancosmo.evaluation.p1.chi2_histogram_distance`): for each Fourier mode,
# histograms of $\log_{10} C_\ell$ of the generated and development maps on 20 common bins,
# $\chi^2=\sum_h (p_h-q_h)^2/(p_h+q_h)$, averaged over modes. It is 0 for identical samples
# and 2 for samples that do not overlap. The trainer calls it over the last
# `select_epochs` epochs, every `select_every` steps (P1: every step), with the same latent
# vectors each time, and we keep the weights of the best step.

# %%
select_from = max(0.0, sizes["epochs"] - sizes["select_epochs"])
config = TrainConfig.p1(
    loss=loss, label_flip=label_flip, lr_g=lr, lr_d=lr, betas=(beta1, 0.999), batch_size=sizes["batch_size"],
    epochs=sizes["epochs"], select_from_epoch=select_from, select_every=sizes["select_every"], seed=seed,
    device=device, progress=profile != "smoke", tensorboard=False, log_every=5,
)
scale = sizes["intensity_scale"]


def to_network(maps):
    """Maps as the networks see them; no copy of the full-size sets when the scale is P1's 1."""
    return maps if scale == 1 else maps * np.float32(scale)


# The selector compares log C_ell histograms, which a constant factor only shifts: it can work in network units.
selector = E.ChiSquaredSelector(to_network(data.development), data.side_deg, n_samples=min(sizes["n_select"], 4 * len(data.development)), seed=seed + 1)
trainer = Trainer(G, D, to_network(data.training), config, statistic=selector)
t0 = time.perf_counter()
result = trainer.fit()
train_seconds = time.perf_counter() - t0
print(f"{result['step']} generator steps ({result['epochs']:.2f} epochs of {len(data.training)} maps) in {train_seconds:.0f} s")
if selector.best_state is not None:
    trainer.G_raw.load_state_dict(selector.best_state)
    print(f"selected the generator of step {selector.best_step} (chi-squared {selector.best_value:.4f} "
          f"against {len(data.development)} development maps; {len(selector.history)} evaluations)")
else:
    print("no model-selection evaluation happened (too few steps): the final generator is used")
G = trainer.G_raw.eval()
figures["training"] = V.plot_training(result["history"], selector.history, selector.best_step,
                                      f"P1 training, profile {profile} ({len(data.training)} maps of {G.map_size}^2)")

# %% [markdown]
# ## 4. The maps (Fig. 1)
# Validation maps (never used for training or selection) above, generated maps below, on one
# colour scale.

# %%
fake = E.generate(G, sizes["n_generate"], seed=seed + 2) / scale
val = data.validation
figures["fig1_gallery"] = V.map_gallery(val, fake, data.side_deg, n=5, title=f"P1 Fig. 1 re-made, profile {profile}")

# %% [markdown]
# ## 5. Pixel intensities (Fig. 2)
# P1 compares the pixel-intensity distributions of 1000 generated and 1000 validation maps
# and quotes a KS p-value above 0.999. With millions of pixels, which are strongly correlated
# within a map (and maps differ in their mean), a KS test on all of them rejects even two
# sets of real maps, and P1 does not say how it sampled them. We take one random pixel per
# map from each set (independent draws from the one-point distribution), 20 times, and quote
# the median p-value.

# %%
pix = E.pixel_comparison(val, fake, seed=seed)
print(f"KS p-value {pix['ks_p']:.3g} (median of 20 draws of one pixel from each of {pix['n_pixels']} maps per set; statistic {pix['ks_stat']:.4f}); GAN pixels inside [-1, 1]: {100 * pix['frac_fake_in_unit']:.2f}%")
figures["fig2_pixels"] = V.plot_pixel_histogram(pix, len(val), len(fake), f"P1 Fig. 2 re-made, profile {profile}")

# %% [markdown]
# ## 6. Power spectrum (Fig. 3)
# $C_\ell$ in bins one fundamental mode $\ell_f = 360°/\theta$ wide, from $\ell_f$ to the
# Nyquist multipole ($\theta$ the map side): 127 modes for 256$^2$ maps, 31 for 64$^2$ tiles
# (P1's lenstools binning gave 248 modes, not specified further). Left: bands of mean
# $\pm$ standard deviation; right: the median over bootstrap rounds of the two-sample KS and
# Anderson-Darling p-values at each mode. scipy caps Anderson-Darling p-values at 0.25, so
# P1's "AD p > 0.99" cannot be reproduced as such.
#
# What to look for: the generator's four stride-2 transposed convolutions with 5$\times$5
# kernels overlap unevenly, which imprints a periodic "checkerboard" pattern with periods of
# 2, 4, 8 pixels, i.e. excess power at a few fixed multipoles near the right end of the left
# panel; P1's long training removed them. Before the `cpu` profile scaled the maps by
# `intensity_scale` its generator had 100 times the real power at the Nyquist mode; the
# committed `cpu` run (`results/p1/`) is printed below: the ratio of the mean spectra, and
# the KS p-values, which with 512 maps per set are small even for a ratio close to 1.

# %%
power = E.power_comparison(val, fake, data.side_deg, n_boot=sizes["n_boot"], seed=seed)
print(f"{len(power['ell'])} modes, ell {power['ell'][0]:.0f}..{power['ell'][-1]:.0f}: "
      f"KS p > 0.99 at {(power['ks'] > 0.99).sum()}, > 0.95 at {(power['ks'] > 0.95).sum()}, < 0.05 at {(power['ks'] < 0.05).sum()}")
_ratio = power["fake"].mean(0) / power["real"].mean(0)
_worst = int(np.argmax(np.abs(np.log(_ratio))))
print(f"mean C_ell, GAN / validation: median over modes {np.median(_ratio):.3f}, farthest from 1 at ell {power['ell'][_worst]:.0f} "
      f"({_ratio[_worst]:.3f}); spread (std over maps) GAN / validation, median over modes "
      f"{np.median(power['fake'].std(0) / power['real'].std(0)):.2f}")
figures["fig3_power"] = V.plot_power(power, len(val), len(fake), f"P1 Fig. 3 re-made, profile {profile}")

# %% [markdown]
# ## 7. Power-spectrum correlation matrices (Fig. 4)
# The Pearson correlation between modes across maps, for validation and GAN maps, their
# difference, and the difference between validation and the independent auxiliary set: the
# scale of differences expected from sampling noise alone. P1: up to 10% between validation
# and GAN, up to 7% between validation and auxiliary.

# %%
_, cl_aux = power_spectrum_2d(data.auxiliary, data.side_deg, power["edges"])
corr = E.correlation_comparison(power["real"], power["fake"], cl_aux)
print(f"max |C_val - C_GAN| = {corr['max_diff_gan']:.3f} (rms {corr['rms_diff_gan']:.3f}); "
      f"max |C_val - C_aux| = {corr['max_diff_aux']:.3f} (rms {corr['rms_diff_aux']:.3f})")
figures["fig4_correlations"] = V.plot_correlations(corr, power["ell"], dict(validation=len(val), gan=len(fake), auxiliary=len(data.auxiliary)),
                                                   f"P1 Fig. 4 re-made, profile {profile}")

# %% [markdown]
# ## 8. Minkowski functionals (Figs. 5 and 6)
# Area $V_0$, boundary length $V_1$ and Euler characteristic $V_2$ of the excursion sets
# above 19 thresholds (P1 does not give its thresholds; ours are evenly spaced from 2
# standard deviations below to 4 above the mean pixel of the validation maps), with
# bootstrapped KS and AD tests at each of the 57 (functional, threshold) pairs.

# %%
thresholds = E.minkowski_thresholds(val)
mink = E.minkowski_comparison(val, fake, thresholds, n_boot=sizes["n_boot"], seed=seed)
print(f"KS p > 0.95 for {(mink['ks'] > 0.95).sum()} of {mink['ks'].size} tests; p < 0.05 for {(mink['ks'] < 0.05).sum()}")
figures["fig5_minkowski"] = V.plot_minkowski(mink, len(val), len(fake), f"P1 Fig. 5 re-made, profile {profile}")
figures["fig6_minkowski_distributions"] = V.plot_minkowski_distributions(mink, f"P1 Fig. 6 re-made, profile {profile}")

# %% [markdown]
# ## 9. Does the generator copy its training maps? (Fig. 7)
# For a few generated maps, the nearest training map in pixel L2 distance and in L2 distance
# between $\log_{10} C_\ell$. Memorisation would show as near-identical pairs; as a scale,
# we also give the same distances for validation maps, which the generator never saw.

# %%
n_nn = sizes["n_nn"]
nn_fake = E.nearest_training(fake[:64], data.training, data.side_deg)
nn_val = E.nearest_training(val[:64], data.training, data.side_deg)
print(f"median nearest-training pixel L2: GAN {np.median(nn_fake['pixel_distance']):.4f}, validation {np.median(nn_val['pixel_distance']):.4f}")
print(f"median nearest-training log C_ell L2: GAN {np.median(nn_fake['power_distance']):.4f}, validation {np.median(nn_val['power_distance']):.4f}")
figures["fig7_nearest"] = V.plot_nearest(fake, data.training, nn_fake, data.side_deg, f"P1 Fig. 7 re-made, profile {profile}", n=n_nn)

# %% [markdown]
# P1 also applied the *birthday paradox* test: a generator that could make only $N$
# distinct maps would repeat itself in a batch of about $\sqrt{N}$ draws, and P1 estimated
# that its generator makes at least a billion distinct maps. Our version counts, in batches
# of generated maps as large as the validation set, the pairs closer than half the closest
# pair of validation maps (pixel L2 after 4$\times$4 averaging). A batch of $m$ maps can
# only certify a support of order $m^2$; P1's billion needed tens of thousands of maps.

# %%
birthday = E.birthday_paradox(fake, val, pool=4)
if birthday["n_duplicate_pairs"]:
    print(f"{birthday['n_duplicate_pairs']} near-duplicate pairs in {birthday['pairs_examined']:,} pairs: "
          f"about {birthday['support_estimate']:.3g} distinct maps")
else:
    print(f"no near-duplicate pair in {birthday['pairs_examined']:,} pairs of generated maps (batches of {birthday['batch']}; "
          f"closest generated pair {birthday['closest_generated']:.4f}, threshold {birthday['threshold']:.4f}): "
          f"at least {birthday['support_lower_bound_95']:.3g} distinct maps (95% confidence; P1: >= 1e9)")

# %% [markdown]
# ## 10. Latent interpolation (Fig. 8)
# Maps along spherical linear interpolations (slerp) between two random latent vectors,
# which stay on the shell where a 64-dimensional Gaussian puts its mass. A smooth morph means
# the generator maps the prior smoothly rather than scattering maps at random.

# %%
paths = E.interpolate(G, n_rows=3, n_steps=8, seed=seed + 3) / scale
figures["fig8_interpolation"] = V.plot_interpolation(paths, data.side_deg, f"P1 Fig. 8 re-made, profile {profile}")

# %% [markdown]
# ## 11. Speed
# P1: 1024 maps in about 15 s on an NVIDIA Titan X Pascal, about 68 maps/s.

# %%
speed = E.generation_speed(G, sizes["speed_maps"])
print(f"{speed['n_maps']} maps of {G.map_size}^2 px in {speed['seconds']:.2f} s on {speed['device']}: {speed['maps_per_s']:.0f} maps/s "
      f"(P1: {E.PAPER['maps_per_s']:.0f} maps/s at 256^2)")

# %% [markdown]
# ## 12. Scorecard
# Each P1 headline number beside ours. The *real vs real* column repeats the test between
# two disjoint halves of the validation maps (parent maps dealt alternately, so that both
# halves sample every simulation: maps of one simulation share its large-scale structure),
# with the GAN compared to the first half using as many maps as the second half holds: what
# a perfect emulator would score with our sample sizes. p-value thresholds mean less with
# few maps.

# %%
val_a, val_b = data.validation_halves()
fake_b = fake[: len(val_b)]
ours, ref = {}, {}
for res, other in ((ours, fake_b), (ref, val_b)):
    res["pixel"] = E.pixel_comparison(val_a, other, seed=seed)
    res["power"] = E.power_comparison(val_a, other, data.side_deg, n_boot=sizes["n_boot"], seed=seed)
    res["minkowski"] = E.minkowski_comparison(val_a, other, thresholds, n_boot=sizes["n_boot"], seed=seed)
rows = E.scorecard_rows(ours, ref, corr, speed, dict(real=len(val_a), fake=len(fake_b), reference=len(val_b),
                                                     validation=len(val), auxiliary=len(data.auxiliary), map_size=G.map_size),
                        birthday=birthday)
display(Markdown(format_table(rows)))

# %%
meta = dict(paper="P1", profile=profile, device=device, torch=torch.__version__, seed=seed, sizes={k: v for k, v in sizes.items()},
            train_steps=result["step"], train_seconds=train_seconds, selected_step=selector.best_step,
            selected_chi2=selector.best_value, generator_parameters=count_parameters(G), data=data.summary(),
            pixels_inside_unit=inside, birthday=birthday, chapter_seconds=time.perf_counter() - t_start)
if results_dir is not None:
    save_chapter_results(results_dir, "p1", profile, rows, meta, figures, dpi=90)
print(f"chapter ran in {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# ## Summary
# - P1's networks are rebuilt layer for layer: the discriminator has Table 2's 4.4M
#   parameters; the generator's rows match Table 1 and add up to 12.8M (the printed 12.3M
#   total is an arithmetic slip).
# - P1's recipe (Adam 2e-4, $\beta_1$ 0.5, batch 64, 1% label flips, chi-squared model
#   selection against a development set) runs end to end on the book's simulated maps, which,
#   like P1's, need no normalisation (the short `cpu` run multiplies them by a constant 10, and
#   without it did not learn the large scales).
# - Every figure of P1 is re-made, and the scorecard sets each headline number beside ours
#   and beside a real-vs-real reference; with the reduced `cpu` profile the generator is
#   small and briefly trained, so read its numbers against that reference, not against P1's.
#
# ## What to read next
# - [The statistics](00_statistics.ipynb): the power spectrum, Minkowski functionals and
#   two-sample tests used here.
# - Chapter 02 (P2) conditions the generator on cosmology ($\Omega_m$, $\sigma_8$).
