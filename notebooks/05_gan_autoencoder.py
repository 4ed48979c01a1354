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
# # A GAN of the cosmic web and an autoencoder on its generator (P5)
#
# ## Overview
# Ullmo, Decelle & Aghanim (2021, *Astronomy & Astrophysics* 651, A46, "Encoding large scale
# cosmological structure with Generative Adversarial Networks") trained a DCGAN on $128^2$
# images of the logarithm of the matter density, of two kinds: maps of native **2D**
# particle-mesh runs, and **slices of a 3D** N-body box. They then made the GAN's frozen
# generator the *decoder* of an autoencoder: an encoder with the discriminator's layout learns
# to map an image $x$ to a latent vector $z = E(x)$ such that the discriminator "sees" the same
# thing in $G(E(x))$ as in $x$ (the distance between their penultimate-layer features, Eq. 7).
# P5 found the GAN's pixel PDF, mean-density distribution, power spectrum and peak counts
# overlapping the simulations', and the autoencoder's *inferred* images recovering the dense
# structures of their inputs: the overlap of their top-$n\%$ pixels (a normalized Sørensen-Dice
# coefficient, Eq. 10) peaks at the top 20% (2D set) and 10% (3D set) and stays significantly
# above that of random pairs (Eq. 11) up to the top 60%. This chapter
#
# 1. makes both image sets with the book's particle-mesh (PM) code, with P5's log-like
#    transforms (Eqs. 1, 2) and their inverses to particles per pixel, split by parent
#    (a 2D run, or a slab of a 3D box) into training, development and test images;
# 2. builds the networks of Appendix A and trains the GAN with P5's recipe, then the encoder
#    under the frozen generator (Eq. 7), then the sanity check of Sect. 4.3;
# 3. re-makes Figs. 1-13, ours beside what P5 reports;
# 4. scores the GAN and the autoencoder by the book's protocol (see
#    [the scorecard](../book/scorecard.md)): every statistic against held-out images, with the
#    band of random real-vs-real splits at the same size and a lognormal null, and the Dice
#    coefficient against random pairs.
#
# Paper: [doi:10.1051/0004-6361/202039866](https://doi.org/10.1051/0004-6361/202039866). Code:
# this notebook and `gancosmo.evaluation.p5`, in [the book's repository](../book/intro.md#the-repository).
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | GANs, DCGAN, binary cross-entropy | Necessary | Goodfellow et al. (2014); Radford et al. (2016) |
# | Autoencoders | Helpful | Hinton & Salakhutdinov (2006) |
# | Power spectrum, peak counts, the lognormal null | Necessary | [The statistics](00_statistics.ipynb) |
# | The book's PM simulator in 2D and 3D | Helpful | [The simulator](00_simulations.ipynb) |
#
# Time to run: a few minutes with `profile="cpu"` on two free cores (the default without a
# GPU; the run's own timings are printed in the summary). At `cpu` the chapter scores the
# networks of the stored `cpu-long` run on fresh images (the same recipe, other seeds), as the
# page shows; `-p emulator train` trains small networks here instead. `profile="cpu-long"`
# trains on eight times the 2D runs within about an hour; `gpu` trains P5's own networks;
# `paper` is P5's sizes and epochs. With `results_dir` set, every run saves its scorecard,
# figures and trained networks.

# %% tags=["remove-cell"]
_before_parameters = set(globals())  # names that exist before the parameters cell

# %% tags=["parameters"]
profile: str = "auto"  # one of: auto (gpu if CUDA is present, else cpu), smoke, cpu, cpu-long, gpu, paper
seed: int = None  # seed of the networks, the training runs and the generated images (None: the profile's, 0)
image_sets: str = None  # "both", "2d" or "slices" (None: both)
emulator: str = None  # "train" here, "committed" (the stored cpu-long networks) or a folder (None: the profile's)
n_runs: int = None  # 2D particle-mesh runs of the 2D set (None: from the profile)
n_boxes: int = None  # 3D boxes of the 3D set (None: from the profile)
smooth_2d: float = None  # Gaussian rms in pixels smoothing the 2D densities, 0 for none (None: 1)
epochs_2d: float = None  # GAN epochs on the 2D set over its 8 symmetric copies (None: from the profile; P5: 60)
epochs_slices: float = None  # GAN epochs on the 3D set (None: from the profile; P5: 70)
ae_epochs_2d: float = None  # encoder epochs on the 2D set (None: from the profile; P5: 50)
ae_epochs_slices: float = None  # encoder epochs on the 3D set (None: from the profile; P5: 50)
batch_size: int = None  # images per batch (None: 50, P5's)
lr: float = None  # Adam learning rate (None: 2e-4, P5's)
label_flip: float = None  # probability of swapped labels in a discriminator step (None: 0.05)
width: int = None  # filters of the discriminator's first layer (None: from the profile; P5: 32)
workers: int = None  # processes training the two sets side by side (None: 2 at cpu and cpu-long, else 1)
device: str = None  # "cpu" or "cuda" (None: cuda when available)
results_dir: str = None  # folder to write scorecard_p5_{profile}.json, the figures and the emulators into, or None

# %% tags=["hide-input"]
# Validate the parameters: a wrong name, type or range stops here with one clear sentence.
from gancosmo.params import collect as _collect

_params = _collect(globals(), _before_parameters)  # before any other name is defined
from gancosmo.evaluation.p5 import P5Config  # noqa: E402

cfg = P5Config.from_parameters(**_params)

# %% tags=["hide-input"]
import time

import torch
from gancosmo.evaluation import p5 as E
from gancosmo.models import p5 as M
from gancosmo.scorecard import ScorecardTable, provenance_sentence, save_chapter_results
from gancosmo.viz import p5 as V
from gancosmo.viz.common import show_figures_inline
from IPython.display import Markdown, display

show_figures_inline()
t_start = time.perf_counter()
device = E.setup(cfg)
progress = cfg.profile != "smoke"
print(f"profile {cfg.profile}, device {device}, torch {torch.__version__}")
print(", ".join(f"{k}={v}" for k, v in cfg.to_dict().items()))
figures = {}

# %% [markdown]
# ## 1. Two image sets
# P5's **2D set** comes from 1000 runs of a public 2D particle-mesh code, $512^2$ particles in
# $(100\,\mathrm{Mpc}/h)^2$, turned into $256^2$ density maps by a Delaunay tessellation; its
# **3D set** from one GADGET-2 box of $512^3$ particles in $(100\,\mathrm{Mpc}/h)^3$ at $z = 0$,
# cut into 999 slabs 0.3 Mpc thick along the three axes and binned on $770^2$ pixels. Both
# were cut into nine $128^2$ crops of 50 Mpc/$h$ per image and multiplied by the 8 symmetries
# of the square (72 000 images). The book's `p5_2d` and `p5` suites make the same kinds of
# images with its own PM code at sizes that fit the profile; the line printed below says what is
# reduced. Its 2D densities are cloud-in-cell, smoothed by a Gaussian of one pixel rms as a
# stand-in for the Delaunay estimator: with a few particles per pixel the raw densities leave
# the voids as shot noise, which the discriminator spots at once, and every GAN we trained on
# them for 6000 steps or more collapsed onto a single tiled image. Crops of one 2D run,
# or of one slab, share a **parent**, and the training, development (model selection, early
# stopping) and test images never share one.

# %%
data = E.load_data(cfg, device, progress)
for s in data.values():
    print(s.summary(), "\n")
print("what this profile reduces:", cfg.reduced())

# %% [markdown]
# ## 2. The log-like transforms (Fig. 1)
# Densities span five decades and networks work in $[-1, 1]$, so P5 feeds them
# $v' = (2\log(v + c) - (b + a))/(b - a)$ of the particles per pixel $v$: Eq. 1 for the 2D set
# ($c = 0$, $a = \log 0.01$, $b = \log 600$) and Eq. 2 for the 3D set, whose empty pixels need
# $c = 10^{-3}$ ($a_2 = \log c$, $b_2 = \log 2632$). For the 3D set the transform is applied to
# the histogram *before* the Gaussian smoothing of stride 3. Every statistic below is computed
# on $v = T^{-1}(v')$, in particles per pixel (ppp). The constant $c$ makes the transform
# saturate: all densities below $c$ share a sliver of $v'$, so P5 expects no network to get the
# pixel PDF right there. The numbers below are the transform's own:

# %%
T3 = E.TRANSFORMS["slices"]
for v in (0.0, 1e-4, 1e-3, 1e-2, 1.0, 100.0):
    print(f"v = {v:>7g} ppp -> 3D set v' = {float(T3.forward(v)):+.4f}, slope dv'/dlog10 v = {float(T3.slope(v)):.4f}")
figures["fig1_transforms"] = V.plot_transforms(data, cfg.profile)

# %% [markdown]
# ## 3. The networks (Appendix A)
# Generator: a dense layer from the Gaussian 100-vector to $512 \times 4 \times 4$, then five
# $5\times5$ transposed convolutions of stride 2 (256, 128, 64, 32, 1 filters), ReLU, tanh.
# Discriminator: five $5\times5$ convolutions of stride 2 (32 to 512 filters), LeakyReLU, and
# a dense layer $8192 \to 1$. Encoder: the discriminator's layers with the last one
# $8192 \to 100$ and no activation. What Appendix A does not say (BatchNorm, initialisation,
# padding) follows DCGAN, on which P5 builds (`gancosmo.models.p5`). The `cpu` profiles narrow
# every layer (`width`) and, for their $64^2$ images, drop the outermost pair of layers, so that
# the dense layers still meet $4 \times 4$ feature maps as in P5 (keeping five layers leaves
# $2 \times 2$ maps there; with those, every generator we tried collapsed onto one image):

# %%
for label, sizes in (("P5's sizes", M.paper_sizes()), ("this run", dict(width=cfg.width, side=cfg.side))):
    G_, D_ = M.dcgan(**{"latent_dim": cfg.latent_dim, **sizes})
    E_ = M.encoder(**{"latent_dim": cfg.latent_dim, **sizes})
    print(
        f"{label}: generator {M.count_parameters(G_):,}, discriminator {M.count_parameters(D_):,}, encoder "
        f"{M.count_parameters(E_):,} parameters; TD(x) has {D_.n_features:,} features"
    )
del G_, D_, E_

# %% [markdown]
# ## 4. Training
# **The GAN** (Sect. 3.1, Appendix A.1): binary cross-entropy (Eq. 4), Adam at $2\times10^{-4}$
# with $\beta_1 = 0.5$, batches of 50, 60 epochs (2D set) or 70 (3D set) over the 72 000
# images, "a small noisy component that gives the images the wrong label" (the *label noise*),
# weights saved regularly and the best set chosen by the statistics of its images. We write the
# label noise as: with probability `label_flip` a discriminator step sees its real batch
# labelled fake and its generated batch labelled real. Each real batch is turned by a random one
# of the 8 symmetries of the square. In the last half of the run the generator is scored every
# `select_every` steps on the development images (pixel PDF and median power spectrum) and the
# best one is kept, with the discriminator of the same step.
#
# **The autoencoder** (Sect. 3.2, Appendix A.2): the generator and the discriminator frozen, the
# encoder trained with Adam on $L_{AE} = \|TD(x) - TD(G(E(x)))\|^2$ (Eq. 7), $TD$ the
# discriminator without its last layer; the loss on the development images is measured every
# epoch and the encoder of its minimum is kept (P5: 50 epochs, stopped at the validation
# minimum). **The sanity check** (Sect. 4.3): another encoder trained on fresh GAN images
# $G(z)$ with the latent loss $\|E(G(z)) - z\|^2$, tested below on GAN and on real images.

# %%
if cfg.emulator == "train":
    models, training_seconds = E.train_sets(cfg, data, device, progress)
    if cfg.results_dir is not None:
        for name in cfg.sets:
            print(f"wrote {E.save_models(cfg, data[name], models[name], cfg.results_dir)}")
else:
    models, training_seconds = {name: E.load_models(name, cfg.emulator_stem(name), device) for name in cfg.sets}, None
    for m in models.values():
        print(f"loaded the {m.source['profile']} run's networks (network seed {m.source['seed']})")
for name, m in models.items():
    print(f"{name}: GAN {m.gan.describe()}\n    encoder {m.autoencoder.describe()}\n    sanity {m.sanity.describe()}")
trained_at = cfg.profile if cfg.emulator == "train" else next(iter(models.values())).source["profile"]
figures["training"] = V.plot_training(models, f"P5's GANs and autoencoders during training, profile {trained_at}")

# %% [markdown]
# ## 5. The GAN against the simulations (Figs. 2-5)
# `E.evaluate` draws as many GAN images as half the test images, infers every test image with
# the autoencoder, and scores both (the sections below). Each statistic is compared with the
# simulation images of test half A; its **band** is the spread of the same comparison between
# random disjoint halves of *real* test images split by parent (what a perfect emulator scores
# at our sizes), and the **lognormal null** (images with the training images' power spectrum
# and one-point variance, and nothing else) is scored the same way.

# %%
evaluations = {name: E.evaluate(cfg, data[name], models[name], device, progress) for name in cfg.sets}
for name, ev in evaluations.items():
    fig = E.FIGURES[name]
    figures[f"fig{fig['images']}_images_{name}"] = V.plot_images(
        ev.real,
        ev.gan,
        data[name].field_size,
        f"P5 Fig. {fig['images']} re-made ({name} set), profile {cfg.profile}",
        caption=E.PAPER_CAPTIONS[(name, "images")],
    )
    figures[f"fig{fig['statistics']}_statistics_{name}"] = V.plot_statistics(
        ev.statistics["real"],
        {"GAN": ev.statistics["gan"], "lognormal null": ev.statistics["null"]},
        ev.k,
        ev.peak_edges,
        E.PDF_EDGES,
        f"P5 Fig. {fig['statistics']} re-made ({name} set): GAN vs simulation, profile {cfg.profile}",
        caption=E.PAPER_CAPTIONS[(name, "statistics")],
    )
    display(ev.table("gan"))

# %% [markdown]
# ## 6. The autoencoder's inferred images (Figs. 6, 7, 11, 12)
# Each held-out simulation image $x$ and its inferred image $G(E(x))$. The statistics compare the
# inferred images of test half A with their own inputs. P5 found the dense structures recovered
# better than the diffuse ones, and the inferred images denser than their inputs: the decoder
# receives latent vectors that are not drawn from its Gaussian prior.

# %%
for name, ev in evaluations.items():
    fig = E.FIGURES[name]
    figures[f"fig{fig['pairs']}_pairs_{name}"] = V.plot_pairs(
        ev.test,
        ev.inferred,
        data[name].field_size,
        f"P5 Fig. {fig['pairs']} re-made ({name} set), profile {cfg.profile}",
        caption=E.PAPER_CAPTIONS[(name, "pairs")],
    )
    figures[f"fig{fig['ae_statistics']}_ae_statistics_{name}"] = V.plot_statistics(
        ev.statistics["real"],
        {"inferred": ev.statistics["ae"]},
        ev.k,
        ev.peak_edges,
        E.PDF_EDGES,
        f"P5 Fig. {fig['ae_statistics']} re-made ({name} set): inferred vs input, profile {cfg.profile}",
        caption=E.PAPER_CAPTIONS[(name, "ae_statistics")],
    )
    display(ev.table("ae"))

# %% [markdown]
# ## 7. How well the structures overlap: the Dice coefficient (Figs. 8-10, 13)
# Threshold a pair of images at their own top $n\%$ of pixels and count the pixels above both
# thresholds: $O = 2N_{ab}/(N_a + N_b)$ (Eq. 9; P5 prints it without the 2, which its own
# statements, 1 for identical images and $n\%$ on average for random ones, require). Random pairs
# of simulation images (of different parents) overlap by $r \approx n$; the normalized
# coefficient $(\bar O - r)/(1 - r)$ (Eq. 10) is 0 for random and 1 for perfect recovery, and the
# significance $(\bar O - r)/\sigma_r$ (Eq. 11) counts standard deviations of the random overlap.

# %%
for name, ev in evaluations.items():
    fig = E.FIGURES[name]
    figures[f"fig8_thresholds_{name}"] = V.plot_thresholded(
        ev.test, ev.inferred, f"P5 Fig. 8 re-made ({name} set), profile {cfg.profile}", caption=E.PAPER_CAPTIONS["fig8"]
    )
    figures[f"fig9_overlaps_{name}"] = V.plot_overlaps(
        ev.test, ev.inferred, f"P5 Fig. 9 re-made ({name} set), profile {cfg.profile}", caption=E.PAPER_CAPTIONS["fig9"]
    )
    figures[f"fig{fig['dice']}_dice_{name}"] = V.plot_dice(
        ev.dice,
        models[name].sanity,
        E.PAPER_DICE_PEAK[name],
        f"P5 Fig. {fig['dice']} re-made ({name} set), {len(ev.test)} held-out images, profile {cfg.profile}",
        caption=E.PAPER_CAPTIONS[(name, "dice")],
    )
    display(ev.table("dice", "sanity"))

# %% [markdown]
# The dashed curves are Sect. 4.3's sanity check: P5's encoder trained on GAN images recovered
# new GAN images almost perfectly (Dice above 0.7 even for the top 1% of pixels) but not real
# ones, which P5 read as a gap between GAN images and real ones.
#
# ## 8. Scorecard

# %%
card = E.scorecard(cfg, data, models, evaluations, started=t_start, device=device, training_seconds=training_seconds)
display(card.table())
display(Markdown(provenance_sentence(card.meta, subject="This run's")))
if cfg.results_dir is not None:
    save_chapter_results(cfg.results_dir, "p5", cfg.profile, card.rows, card.meta, figures, dpi=90, config=cfg)

# %% [markdown]
# ## Summary
# What this run found, written from its scorecard:

# %%
display(Markdown(card.summary()))

# %% [markdown]
# What the book asks of P5's GAN and autoencoder, per image set (the GAN's pixel PDF within 10%
# or the band from $10^{-3}$ to $10^2$ ppp; its mean-density distribution, peak counts and
# median power spectrum inside the band; its peak counts closer than the lognormal null's; the
# inferred images' normalized Dice above 3 sigma of the random baseline up to the top 60%), read
# from this run's rows:

# %%
display(Markdown(card.targets()))
display(ScorecardTable([r for r in card.rows if r.key.startswith("p5_target_")], caption="targets"))

# %% [markdown]
# How to read it:
# - At `cpu` and `cpu-long` the networks are a quarter of P5's width (four layers instead of
#   five) and see images of half its resolution. The `cpu-long` run is the one meant to test
#   P5's claims at these reduced scales; at `cpu` this page scores its stored networks on
#   fresh images of the same recipe. Networks trained here with `-p emulator train` at `cpu`
#   train for minutes: their rows check the pipeline and the yardstick, not P5's claims. `gpu`
#   trains P5's own networks.
# - What differs from P5, beyond the sizes printed in section 1: the book's PM data
#   (smoothed cloud-in-cell densities, not a Delaunay estimator or GADGET-2), the stated form of the
#   label noise, DCGAN's BatchNorm and initialisation, our choice of the development statistic,
#   and splits by parent with a held-out test pool (P5 does not say how it split).
# - Where the lognormal null passes a row, that row cannot tell the GAN's structure from a
#   lognormal field at our sizes. The Dice rows have no real-vs-real band: their yardstick is
#   P5's own, the random pairs.
#
# ## What to read next
# - [The statistics](00_statistics.ipynb): power spectra, peak counts, the Dice coefficient and
#   the lognormal null.
# - [The scorecard](../book/scorecard.md): every chapter's rows, bands and verdicts together.
# - [Chapter 01](01_cosmogan.ipynb): the DCGAN of convergence maps that P5's GAN resembles.
