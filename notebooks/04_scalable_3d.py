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
# # A scalable multi-scale 3D GAN of particle counts (P4)
#
# ## Overview
# Perraudin, Srivastava, Lucchi, Kacprzak, Hofmann & Réfrégier (2019, *Computational
# Astrophysics and Cosmology* 6, 5, "Cosmological N-body simulations: a challenge for scalable
# generative models") asked how a GAN can make $256^3$-voxel cubes of the matter distribution
# when a GPU holds networks for $32^3$ at most. Their answer has two parts. A cube is made
# **patch by patch** in raster order, each $32^3$ patch conditioned on the 7 patches already
# made around it (its *borders*); and it is made at **three scales**: a WGAN M3 draws the whole
# cube at $32^3$, M2 refines it to $64^3$ and M1 to $256^3$, each up-scaling patch also seeing
# the cube one scale below. P4 also published 30 N-body cubes and a benchmark: scores
# $S^* = 1/d^2$, $d^2$ a Fréchet distance between Gaussians fitted to log statistics, for the
# power spectrum, the histogram of voxel counts (mass) and the histogram of peaks. This chapter
#
# 1. makes particle-count cubes with P4's voxel size and 64 particles per voxel from the
#    book's particle-mesh (PM) code, splits them into training cubes and a test pool, and
#    builds P4's data pipeline (the forward map, mean pooling to the lower scales, the
#    authors' augmentation);
# 2. trains the three WGANs of Tables 3-5, each on its own, and the two ablations P4
#    describes: patches with borders but no lower scale (Appendix C) and independent patches
#    (no borders);
# 3. re-makes P4's figures: each stage alone conditioned on real pooled cubes (Figs. 5-10) and
#    the full pipeline (Figs. 11-12);
# 4. scores Table 1 by the book's protocol (see [the scorecard](../book/scorecard.md)): every
#    generated set against half the test pool, with the band of random half/half splits of
#    *real* cubes at the same size and a lognormal null, plus a statistic that looks for seams
#    at the patch scale.
#
# Paper: [doi:10.1186/s40668-019-0032-1](https://doi.org/10.1186/s40668-019-0032-1),
# [arXiv:1908.05519](https://arxiv.org/abs/1908.05519). Code: this notebook and
# `gancosmo.evaluation.p4`, in [the book's repository](../book/intro.md#the-repository).
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | GANs, Wasserstein GANs with gradient penalty | Necessary | Goodfellow et al. (2014); Gulrajani et al. (2017) |
# | Matter power spectrum, peak counts | Necessary | [The statistics](00_statistics.ipynb) |
# | The book's PM simulator | Helpful | [The simulator](00_simulations.ipynb) |
# | Chapter 03 (a 3D GAN in one piece) | Helpful | [The heavy-tailed 3D GAN](03_3d_gan.ipynb) |
#
# Time to run: a few minutes with `profile="cpu"` on two free cores (the default without a
# GPU; it scores the committed `cpu-long` networks, and the simulations take most of the time
# the first time, then come from the cache); the run's own timings are printed in the summary.
# `profile="cpu-long"` trains the networks on six times the cubes within about an hour; `gpu`
# trains M1 at P4's own sizes on $128^3$ cubes; `paper` is P4's $256^3$ pipeline. With
# `results_dir` set, every run saves its scorecard, figures and trained pipeline.

# %% tags=["remove-cell"]
_before_parameters = set(globals())  # names that exist before the parameters cell

# %% tags=["parameters"]
profile: str = "auto"  # one of: auto (gpu if CUDA is present, else cpu), smoke, cpu, cpu-long, gpu, paper
seed: int = None  # seed of the networks, the training runs and the generated samples (None: the profile's, 0)
source: str = None  # "simulated" (the book's PM cubes) or "published" (P4's cubes) (None: simulated)
n_cubes: int = None  # cubes of the data set (None: from the profile)
test_fraction: float = None  # fraction of the cubes held out as the test pool (None: 0.5)
n_augment: int = None  # augmented copies of each training cube (None: from the profile)
ablations: bool = None  # train and score the two ablations (None: true)
emulator: str = None  # "train" here, or score the "committed" cpu-long networks (None: committed at cpu, else train)
steps_m3: int = None  # generator steps of M3 (None: from the profile)
steps_m2: int = None  # generator steps of M2 (None: from the profile)
steps_m1: int = None  # generator steps of M1 and of each ablation (None: from the profile)
batch_size: int = None  # samples per batch (None: 8, P4's)
critic_steps: int = None  # critic steps per generator step (None: 5, P4's)
workers: int = None  # processes training the networks side by side (None: 2 at cpu-long, else 1)
table2_max: int = None  # largest image side of Table 2's 2D baselines, 0 for none (None: from the profile)
steps_2d: int = None  # generator steps of each 2D baseline (None: from the profile)
lr: float = None  # RMSprop learning rate (None: from the profile; P4: 3e-5)
device: str = None  # "cpu" or "cuda" (None: cuda when available)
results_dir: str = None  # folder to write scorecard_p4_{profile}.json, the figures and the emulator into, or None

# %% tags=["hide-input"]
# Validate the parameters: a wrong name, type or range stops here with one clear sentence.
from gancosmo.params import collect as _collect

_params = _collect(globals(), _before_parameters)  # before any other name is defined
from gancosmo.evaluation.p4 import P4Config  # noqa: E402

cfg = P4Config.from_parameters(**_params)

# %% tags=["hide-input"]
import time

import torch
from gancosmo.data.intensity import P4ForwardMap
from gancosmo.evaluation import p4 as E
from gancosmo.models import multiscale3d as ms
from gancosmo.scorecard import provenance_sentence, save_chapter_results
from gancosmo.viz import p4 as V
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
# ## 1. The data
# P4 ran 30 independent L-PICOLA simulations of $1024^3$ particles in boxes of 500 Mpc/$h$
# ($\Omega_m = 0.276$) and binned the $z = 0$ particles into $256^3$ voxels: 64 particles per
# voxel on average. The book's `p4` suite keeps P4's cosmology, its voxel of 500/256 Mpc/$h$
# and its 64 particles per voxel, and makes smaller cubes (fewer voxels, not larger ones) with
# the book's PM code. P4 had no train/test split (its scores compare the generated cubes with
# the training cubes); here the test pool holds cubes no network saw, and every cube is an
# independent periodic box, its own *parent*.

# %%
data = E.load_data(cfg, device, progress)
print(data.summary())
print("what this profile reduces:", cfg.reduced())

# %% [markdown]
# ## 2. The forward map, the scales and the augmentation
# Counts span five decades, so P4 feeds the networks $y = f(x)$: logarithmic below
# $c = 2\times 10^4$ and linear above, scaled to $y(c) = 3$ (`P4ForwardMap`, inverted exactly
# after generation). The lower scales are **mean pools** of $y$ (not of the counts), as in the
# authors' code. The authors enlarge the 30 cubes by random circular rolls (the boxes are
# periodic, so a roll moves the patch grid over the structures) and by the flips and
# transposes of the cube; we apply them to whole cubes before cutting patches, so that every
# scale of one augmented cube stays consistent.

# %%
fmap = P4ForwardMap()
for counts in (0, 1, 64, 1000, 2e4, 1e5):
    print(f"x = {counts:>8g} particles -> y = {float(fmap.forward(float(counts))):.3f}")
print(f"scales (voxels per side): {cfg.sides}; patches: M2 {cfg.patch_m2}^3, M1 {cfg.patch_m1}^3")

# %% [markdown]
# ## 3. The networks (Tables 3-5)
# M3 is a DCGAN-like WGAN (kernels 4, five layers, LeakyReLU). M2's generator encodes the 7
# borders with three strided convolutions, joins the code to the latent in a dense layer and
# adds the low-resolution patch at its first convolution. M1's generator stacks the borders
# (flipped so that the faces touching the new patch line up), the up-sampled low-resolution
# patch and a latent *field* as channels of eight stride-1 inception blocks. Each critic sees
# the $2\times2\times2$ block of borders plus the real or generated patch, the block's
# low-resolution image and their difference; critics are spectrally normalised, no network has
# BatchNorm, and M1's critic also reads the block's power spectrum. At P4's sizes:

# %%
for stage in ("m3", "m2", "m1"):
    G_paper, D_paper = E.build_stage(stage, ms.paper_sizes(stage))
    print(
        f"{stage.upper()} at P4's sizes: generator {ms.count_parameters(G_paper):,}, critic "
        f"{ms.count_parameters(D_paper):,} parameters"
    )
del G_paper, D_paper

# %% [markdown]
# ## 4. Training, each network on its own
# P4's recipe for all three: WGAN with gradient penalty (weight 10) and the extra critic term
# $\mathrm{relu}(D_\mathrm{real} D_\mathrm{fake})$, RMSprop at $3\times10^{-5}$, 5 critic steps
# per generator step, batches of 8. The three GANs never see each other during training: M2 and
# M1 learn from real cubes and their real pooled versions, which is why they can be trained in
# parallel. The ablations use M1's network with one input switched off. The profiles below
# `gpu` raise the learning rate (a few thousand steps at $3\times10^{-5}$ barely move the
# networks) and narrow the networks; the line printed in section 1 says what is reduced.
#
# The networks (and Table 2's 2D baseline, section 8) never exchange anything, so at
# `cpu-long` two processes train them side by side, one core each (`workers`). At the `cpu`
# profile this cell does not train: it loads the committed `cpu-long` networks
# (`gancosmo.emulators.load("p4")` is their full pipeline) with the record of their training,
# and the sections below score them on the `cpu` suite's cubes, which they never saw. With
# `-p emulator train` it trains the quick networks here.

# %%
if cfg.emulator == "train":
    models, training_seconds = E.train_stages(cfg, data, device, progress)
    source = None
    if cfg.results_dir is not None:
        print(f"wrote {E.save_pipeline(cfg, data, models, cfg.results_dir, training_seconds)}")
else:
    models, source = E.load_stage_models(cfg.emulator_path, device, cfg.stages)
    training_seconds = 0.0
    print(
        f"loaded the {source['profile']} run's networks (network seed {source['seed']}, commit "
        f"{source['git_commit'][:10]}; their training took {source['training_seconds'] / 60:.0f} min)"
    )
for m in models.values():
    print(m.describe())
trained_at = cfg.profile if source is None else source["profile"]
figures["training"] = V.plot_training(models, f"P4 critics during training, profile {trained_at}")

# %% [markdown]
# ## 5. Each stage alone (Figs. 5-10)
# P4 checked each stage apart from the others: M3's cubes against pooled real cubes, and each
# up-scaler fed a *real* cube pooled to the scale below. We do the same with the test pool
# (M3's samples, M2 on the test cubes pooled twice, M1 on them pooled once), and compute P4's
# statistics on counts, $f^{-1}(y)$, at every scale. Then `E.evaluate` draws the full pipeline
# and the ablations and scores everything.

# %%
ev = E.evaluate(cfg, data, models, device, progress)
print(f"{ev.n_real} test cubes; evaluation {ev.seconds:.0f} s. {ev.null_note}")
figures["fig5_7_9_stage_slices"] = V.plot_slices(
    E.stage_slice_rows(ev), data.box_size, f"P4 Figs. 5, 7, 9 re-made, profile {cfg.profile}"
)
figures["fig6_8_10_stage_statistics"] = V.plot_statistics(
    E.stage_statistic_rows(ev), f"P4 Figs. 6, 8, 10 re-made, profile {cfg.profile}, {ev.n_real} cubes per set"
)
display(ev.table("m3_stage", "m2_stage", "m1_stage", seams=False))

# %% [markdown]
# ## 6. The full pipeline and the ablations (Figs. 11-12, Table 1)
# M3 draws the lowest scale, M2 and M1 refine it patch by patch with zero borders at the
# cube's lower faces (Appendix D). The ablations are sampled the same way: borders only (no
# lower scale: one stage at full resolution) and independent patches (M3 and M2 as in the
# pipeline, then M1's network without borders). Table 1 rows below: $d^2$ of each statistic of
# half the generated cubes against half the test pool, the band and median of $d^2$ over random
# half/half splits of the test pool (what a perfect emulator scores at our size; $d^2$ shrinks
# as the sets grow, so P4's numbers at 30 cubes are not ours), and the lognormal null.

# %%
figures["fig11_pipeline_slices"] = V.plot_slices(
    E.pipeline_slice_rows(ev), data.box_size, f"P4 Fig. 11 re-made with the ablations, profile {cfg.profile}"
)
figures["fig12_pipeline_statistics"] = V.plot_statistics(
    E.pipeline_statistic_rows(ev), f"P4 Fig. 12 re-made, profile {cfg.profile}, {ev.n_real} cubes per set"
)
display(ev.table("pipeline", "borders_only", "independent", seams=False))
print(ev.tables["pipeline"].format())

# %% [markdown]
# The text table is Table 1 both ways: the authors' (all generated cubes against all real ones,
# the reference between the two halves of the real cubes) and the book's (equal halves, with
# the band).
#
# ## 7. Seams at the patch scale
# Anything a patch generator repeats in every patch, a jump at its faces or a profile inside
# it, has Fourier power only at the wavevectors of the patch grid, $2\pi(a, b, c)/L_\mathrm{patch}$.
# The seam rows compare the power there (over that of the cells next to them) of generated
# cubes with that of real ones, with the real-vs-real band; they fail only above it.

# %%
display(ev.table(*ev.seams, seams=True))

# %% [markdown]
# ## 8. The 2D baselines (Appendix E, Table 2)
# To put the 3D scores in context, P4 also trained "a traditional convolutional Wasserstein
# GAN" on 2D images of $32^2$ to $256^2$ pixels and scored it with the same three statistics
# (its Table 2; P4 gives neither the layers nor how the images were cut). Ours is M3's layout
# in two dimensions (`gancosmo.models.wgan2d`), trained with P4's recipe on one-voxel slices
# of the training cubes (every fourth slice along each axis, cut into tiles of the image side)
# and scored on slices of the test cubes, with the real-vs-real band split by parent cube
# (slices of one cube are not independent). Our cubes limit the sides to those the profile
# lists (section 1); P4's larger images need larger cubes (`gpu`, `paper`).

# %%
if ev.images:
    figures["table2_2d_images"] = V.plot_slices(
        E.table2_image_rows(ev),
        cfg.table2_sides[0] * data.voxel_size,
        f"P4 Table 2's 2D baseline, profile {cfg.profile}: N-body slices and generated images",
    )
    figures["table2_2d_statistics"] = V.plot_statistics(
        E.table2_statistic_rows(ev), f"P4 Table 2 statistics, profile {cfg.profile}", images=True
    )
    display(ev.table(*(f"table2_{side}" for side in ev.images), seams=False))
else:
    print("table2_max is 0: no 2D baselines in this run")

# %% [markdown]
# ## 9. Scorecard

# %%
card = E.scorecard(cfg, data, models, ev, training_seconds, started=t_start, device=device, source=source)
display(card.table())
display(Markdown(provenance_sentence(card.meta, subject="This run's")))
if cfg.results_dir is not None:
    save_chapter_results(cfg.results_dir, "p4", cfg.profile, card.rows, card.meta, figures, dpi=90, config=cfg)

# %% [markdown]
# ## Summary
# What this run found, written from its scorecard:

# %%
display(Markdown(card.summary()))

# %% [markdown]
# What the book asks of the multi-scale pipeline (its $S^*$ above both ablations' for every
# statistic, its $d^2$ within five times the real-vs-real median, no excess power at the patch
# scale beyond the band), read from this run's rows:

# %%
display(Markdown(card.targets()))

# %% [markdown]
# How to read it:
# - At the `cpu` profile (the book's page) the networks are the committed `cpu-long` ones,
#   trained on their own cubes (section 4 prints for how long) and scored here on the `cpu`
#   suite's cubes, which they never saw: these rows are the chapter's evidence for or against
#   P4's claims at our reduced scales. The [Scorecard](../book/scorecard.md) page also shows the
#   `cpu-long` run's own scorecard, on its larger test pool. `smoke` runs, and `cpu` runs with
#   `-p emulator train` (a few hundred steps), check the plumbing and the yardstick only.
# - Our cubes are much smaller than P4's (section 1 says by how much), so the power spectrum
#   has few bins and the peak histogram few peaks per cube; the band is drawn at our sizes.
# - Where the lognormal null passes a row, that row cannot tell non-Gaussian structure from a
#   lognormal field at our sizes.
#
# ## What to read next
# - [The statistics](00_statistics.ipynb): power spectra, peak counts and the lognormal null.
# - [The scorecard](../book/scorecard.md): every chapter's rows, bands and verdicts together.
# - [Chapter 03](03_3d_gan.ipynb): a 3D GAN that makes its cubes in one piece.
