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
# # A conditional GAN over $(\Omega_m, \sigma_8)$: mass maps for any cosmology (P2)
#
# ## Overview
# Perraudin et al. (2021, *Frontiers in Artificial Intelligence* 4:673062) trained one GAN on
# weak-lensing convergence maps ($5\times5$ deg, 128$^2$ pixels, KiDS-450-like source
# galaxies) from 57 cosmologies and conditioned it on the two parameters that shape such
# maps most, the matter density $\Omega_m$ and the clustering amplitude $\sigma_8$. The
# conditioning is unusual: the cosmology sets the *length* of the Gaussian latent vector
# (their Eq. 2). Eleven cosmologies were held out; the GAN's maps were compared with
# simulated ones through pixel and peak histograms, power spectrum and bispectrum, Minkowski
# functionals, power-spectrum correlation matrices, SSIM and a Fréchet distance computed
# with a CNN that regresses $(\Omega_m, \sigma_8)$ from a map. This chapter
#
# 1. simulates the 57 cosmologies with the book's particle-mesh code, splits them as P2 did
#    (46 training, 8 interpolation and 3 extrapolation test cosmologies), and splits the maps
#    of every cosmology by parent into train / dev / test;
# 2. builds Table A1's networks with Eq. 2's conditioning, and the authors' code variant;
# 3. trains with WGAN-GP and P2's recipe, and trains Table A2's regressor;
# 4. re-makes Figs. 2-10 and fills a scorecard by the book's protocol: every row against
#    real-vs-real splits, a lognormal null and, for the test cosmologies, the nearest
#    training cosmology's own maps;
# 5. lets you move sliders over $(\Omega_m, \sigma_8)$ and the latent seed.
#
# Paper: [doi:10.3389/frai.2021.673062](https://doi.org/10.3389/frai.2021.673062),
# [arXiv:2004.08139](https://arxiv.org/abs/2004.08139). Code: this notebook and
# `gancosmo.evaluation.p2`, in [the book's repository](../book/intro.md#the-repository).
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | GANs, Wasserstein GAN with gradient penalty | Necessary | Gulrajani et al. (2017) |
# | Convergence power spectrum, bispectrum, Minkowski functionals, peaks | Necessary | [The statistics](00_statistics.ipynb) |
# | Chapter 01 (P1), an unconditional GAN of mass maps | Helpful | [CosmoGAN](01_cosmogan.ipynb) |
# | The book's simulated suites | Helpful | [The simulator](00_simulations.ipynb) |
#
# Time to run: a few minutes with `profile="cpu"` on two cores once its maps are simulated
# (the default without a GPU: reduced data, the committed `cpu-long` generator scored on fresh
# maps; the run prints its own timings at the end); `profile="cpu-long"` trains that generator
# (about an hour on two cores, data included); `profile="gpu"` is sized for one H100 (by arithmetic, not run here); `profile="paper"`
# is P2's 12,000 maps per cosmology and 40 epochs (a week on P2's GPU). Every size comes
# from one table, `P2Config.PROFILES` in `gancosmo.evaluation.p2`; any of them can be
# overridden here (`None`: the profile's value).

# %% tags=["remove-cell"]
_before_parameters = set(globals())  # names that exist before the parameters cell

# %% tags=["parameters"]
profile: str = "auto"  # one of: auto (gpu if CUDA is present, else cpu), smoke, cpu, cpu-long, gpu, paper
seed: int = None  # seed of the splits, the weights, the training run and the evaluation latents (profile: 0)
conditioning: str = None  # "paper" (Eq. 2 as printed) or "code" (the authors' released code)
gp_form: str = None  # gradient penalty: "paper" mean((|grad| - 1)^2) or "code" (sum |grad|^2 / batch - 1)^2
fid_formula: str = None  # "p2_text" (Eq. 5 as printed) or "frechet" (the usual Frechet distance, the authors' code)
maps_per_cosmology: int = None  # simulated maps per cosmology (P2: 12000)
n_particles: int = None  # particles per side of each PM simulation (a power of two)
n_steps: int = None  # PM time steps
box_size: float = None  # PM box side in Mpc/h
n_sims: int = None  # PM simulations per cosmology (the maps' parents when there are several)
n_train_cosmologies: int = None  # training cosmologies simulated (None: the profile's; set: these plus models A-D only)
train_fraction: float = None  # fraction of each cosmology's parents dealt to train
dev_fraction: float = None  # fraction dealt to dev (the regressor's early stopping); the rest is test
emulator: str = (
    None  # "train" one here, or evaluate the "committed" cpu-long generator (None: committed at cpu, else train)
)
width: int = None  # channels of the networks' thinnest layer (Table A1: 32)
regressor_width: int = None  # the regressor's width (Table A2: 32)
epochs: float = None  # GAN epochs (P2: 40); setting it alone trains by epochs
max_steps: int = None  # GAN generator steps (None: from the profile)
batch_size: int = None  # maps per batch (P2: 64)
critic_steps: int = None  # critic updates per generator update (P2: 5)
lr: float = None  # RMSprop learning rate of both networks (P2: 1e-5)
regressor_epochs: float = None  # regressor epochs (P2: 20)
regressor_lr: float = None  # regressor Adam learning rate (P2: 3e-5)
n_eval: int = None  # maps per side of every comparison, as many for the GAN as for test A and B (None: the most the test pool allows)
n_splits: int = None  # random parent-level real-vs-real splits per cosmology (at least 20; profile: 39)
n_scored_training: int = None  # training cosmologies scored besides the test ones (None: the profile's)
n_latent_grid: int = None  # side of Fig. 4's grid of cosmologies
explorer_grid: list = None  # static explorer views: [Omega_m values, sigma_8 values, seeds]
explore_omega_m: float = None  # starting Omega_m of both explorers (outside the trained range: allowed, flagged)
explore_sigma8: float = None  # starting sigma_8 of both explorers
device: str = None  # "cpu" or "cuda" (None: cuda when available)
results_dir: str = None  # folder for scorecard_p2_{profile}.json and the figures (PNG), or None

# %% tags=["hide-input"]
# Validate the parameters (P2Config.from_parameters): a wrong name, type or range stops here with one clear sentence.
from gancosmo.evaluation import p2 as E
from gancosmo.params import collect as _collect

cfg = E.P2Config.from_parameters(**_collect(globals(), _before_parameters))
print(E.start_note(cfg))

# %% tags=["hide-input"]
import time

from gancosmo.scorecard import ScorecardTable, provenance_sentence
from gancosmo.viz import p2 as V
from gancosmo.viz import widgets as W
from gancosmo.viz.common import show_figures_inline
from IPython.display import HTML, Markdown, display

show_figures_inline()
t_start = time.perf_counter()
verbose = cfg.profile != "smoke"
tag = f"profile {cfg.profile}"
figures = {}

# %% [markdown]
# ## 1. The data: 57 cosmologies (Fig. 2)
# P2 used the non-tomographic KiDS-450 simulations of Fluri et al. (2019): 57 flat
# $\Lambda$CDM cosmologies along the $\Omega_m$-$\sigma_8$ degeneracy, 12,000 maps each.
# Eleven were held out: eight inside the grid (interpolation) and three at its edges
# (extrapolation). We simulate the same 57 cosmologies with the book's particle-mesh code and
# Born lensing ([The simulator](00_simulations.ipynb)). What differs: our source
# distribution is a Smail form $n(z)\propto z^2 e^{-(z/0.5)^{1.5}}$ (mean $z\approx0.75$), not
# the KiDS DIR histogram, and our maps come from a PM simulator sized for the machine at hand.
#
# **Map size.** It comes from the profile (the suite's `n_pix`: 32 at `smoke` and `cpu`, 64 at
# `gpu`, 128 at `paper`), always over P2's $5\times5$ deg; the networks are built for it. At
# `cpu` the maps have $32^2$ pixels of 9.4 arcmin, because the particle mesh that two cores can
# run resolves $\ell$ up to about 1,100 (its $C_\ell$ within 20% of pyccl's), and 32 pixels over
# 5 deg reach their Nyquist multipole at $\ell = 1152$; P2's $128^2$ pixels of 2.3 arcmin
# need $\ell \sim 4600$. Coarser pixels over P2's field are a reduced-scale reproduction: every
# multipole the rows score is one the simulation should resolve (measured below, section 4),
# while the smallest scales of P2's maps are absent.
#
# `smoke` uses a few training cosmologies plus the four named test ones. Our named models
# A-D are test cosmologies: A the interpolation one nearest the grid centre, B-D the three
# extrapolation ones at the edges (P2's A-D are not identified by their parameters in the text).
#
# **Splits.** The book's protocol splits every comparison by *parent*, the unit samples are
# cut from: within each cosmology, train maps feed the GAN and the regressor (training
# cosmologies only), dev maps only stop the regressor early, and the test pool is where every
# score is measured: the GAN's maps against test set A, and, for the band, `n_splits` random
# pairs of disjoint real sets of the same size drawn from that pool.

# %%
data = E.load_data(cfg, progress=verbose)
display(Markdown(E.data_markdown(cfg, data)))
figures["fig2_grid"] = V.plot_grid(
    data.omega_m,
    data.sigma8,
    data.split,
    data.named,
    f"P2 Fig. 2: the KiDS-450 grid ({tag})",
    simulated=data.cosmologies,
)

# %% [markdown]
# ## 2. The networks (Table A1) and the conditioning (Eq. 2)
# The generator draws $z\sim\mathcal N(0, I_{128})$ and rescales it with the cosmology,
# $\hat z = \big(l_0 + \tfrac{l_1-l_0}{b-a}(y-a)\big)\, z/\|z\|$: the larger the parameter, the
# longer the latent vector. With two parameters we cut $z$ into two 64-dimensional blocks,
# one per parameter. **Which is which:**
#
# | | `conditioning="paper"` (default) | `conditioning="code"` |
# |---|---|---|
# | lengths $[l_0, l_1]$ | $[0.1\sqrt n, \sqrt n]$, $n = 128$ (the latent size, as the text says) = $[1.13, 11.3]$ | $[0.8, 8]$ per 64-dim block ($0.1\sqrt{64}, \sqrt{64}$) |
# | ranges $[a, b]$ | the grid's: $\Omega_m\in[0.101, 0.487]$, $\sigma_8\in[0.475, 1.331]$ | the code's: $\sigma_8\in[0.487, 1.331]$ |
# | gradient penalty (`gp_form`) | `"paper"`: $\gamma\,\langle(\|\nabla D\|-1)^2\rangle$ | `"code"`: $\gamma\,(\sum\|\nabla D\|^2/B - 1)^2$ |
#
# The MLP (128 $\to$ 256 $\to$ 512 $\to$ $16\,w\,(N/16)^2$ for width $w$ and maps of $N^2$ pixels:
# 32768 at P2's $w = 32$, $N = 128$) and five transposed convolutions follow Table A1; only the
# first reshape depends on the map size ($8\times8$ at 128 px, $2\times2$ at 32 px). The critic
# mirrors them and concatenates $(\Omega_m, \sigma_8)$ after its convolutions, whose
# $16\,w\,(N/16)^2$ features feed its first linear layer. Two departures, both forced:
# Table A1 puts a ReLU on the generator's output, which cannot make negative convergence, so
# ours is linear; and a Wasserstein critic's last layer is linear.
# `smoke` and `cpu` narrow every layer (`width`, 32 in the paper).
#
# ## 3. Training (WGAN-GP) and the regressor (Table A2)
# P2: Wasserstein loss with gradient penalty 10, RMSprop with learning rate $10^{-5}$, batches
# of 64 maps drawn across all training cosmologies, 5 critic updates per generator update,
# random flips and 90° rotations, 40 epochs (a week on a GTX 1080). The `cpu-long` profile
# keeps the loss, penalty, optimizer and augmentation and trains Table A1's networks at half
# width for 4000 generator steps at a ten times larger learning rate with 2 critic updates per
# generator step instead of 5 (about half an hour on one CPU core; P2 took some 350,000
# steps). The book's first `cpu-long` run, with 5 critic updates and 2000 steps, left the
# critic far ahead and the maps' power 3-5 times too low at the test cosmologies. Its generator is the book's
# committed P2 emulator (`gancosmo.emulators.load("p2")`). At the `cpu` profile this cell
# loads that generator with the record of its training run and scores it below on *fresh*
# maps: the `cpu` suite draws other simulations than the ones it was trained on. With
# `-p emulator train` it trains a narrow network here instead (110 steps, a few minutes: far
# too short to converge, expect checkerboard artefacts). The real-vs-real band of each row
# shows what a perfect emulator would score with our sample sizes. The GAN takes `max_steps`
# generator steps when the profile sets them, else `epochs` passes; it is not selected on dev. The regressor shares the critic's
# convolutions and is trained with MSE and Adam on the same training maps, keeping the epoch
# with the lowest dev MSE (P2: 80% of the training cosmologies' maps, lr $3\times10^{-5}$, 20
# epochs, test MSE $8.93\times10^{-5}$).

# %%
if cfg.emulator == "train":
    gan = E.train_gan(cfg, data, progress=verbose)
    if cfg.results_dir is not None:
        print(f"wrote {E.save_trained(cfg, data, gan, cfg.results_dir)}")
else:
    gan = E.committed_gan(cfg.resolved_device(), path=cfg.emulator_path)
print(E.network_summary(cfg, gan))
reg = E.train_feature_regressor(cfg, data, progress=verbose)
print(E.training_summary(gan, reg))
figures["training"] = V.plot_training(gan.history, reg.losses, reg.dev_mse, f"P2 training, {tag} ({gan.n_maps} maps)")

# %% [markdown]
# ## 4. Scoring by the protocol
# For every scored cosmology the GAN draws as many maps as test set A holds; the null
# emulator, a lognormal field with the power spectrum and one-point moments of that
# cosmology's training maps (for a test cosmology, which has none for the GAN, of its own
# train and dev maps: a null that *knows* the test cosmology's spectrum, a stricter opponent
# than the GAN's interpolation faces), draws as many; for a test cosmology, the nearest
# training cosmology's real maps stand in as a third candidate, the baseline P2's
# interpolation must beat. All are compared with test A through one function, and the band
# of each metric is the range of its `n_splits` real-vs-real values (B' vs A' from the test
# pool, the same sizes; with 39 splits the range is the 95% interval). Every row's verdict is `pass` inside the band, `fail` outside, `untestable` where
# the band is wider than the paper's own tolerance (5% for $C_\ell$, 20% for the bispectrum).
#
# The figure after the scores compares the mean $C_\ell$ of all simulated maps of models A-D
# with pyccl's: the rows score multipoles up to the maps' Nyquist frequency, and
# `resolved_max` (the largest $\ell$ up to which every bin from twice the fundamental lies
# within 20% of pyccl, the smallest over the four) says whether the simulation resolves them.

# %%
ev = E.evaluate(cfg, data, gan, reg, progress=verbose)
display(Markdown(E.scoring_markdown(ev, data)))
figures["resolution"] = V.plot_resolution(ev.theory_check, f"models A-D: simulated vs theory C_ell ({tag})")

# %% [markdown]
# ## 5. Maps (Fig. 3) and one latent across cosmologies (Fig. 4)
# Simulated (top), generated (middle) and null (bottom) maps for models A-D; then one latent
# vector pushed through a grid of cosmologies: raising $\sigma_8$ should sharpen the
# contrast, raising $\Omega_m$ add mass, while the large-scale pattern set by the latent stays.

# %%
labels = {m: data.label(data.named[m]) for m in ev.examples}
figures["fig3_maps"] = V.plot_maps(ev.examples, labels, f"P2 Fig. 3 re-made, {tag}", side_deg=data.field_deg)
lat, om_line, s8_line = E.latent_grid(gan.emulator, cfg.n_latent_grid, seed=cfg.seed)
figures["fig4_latent"] = V.plot_latent_grid(lat, om_line, s8_line, f"P2 Fig. 4 re-made: one latent vector, {tag}")

# %% [markdown]
# ## 6. Statistics of models A-D (Figs. 5-9)
# Pixel and peak histograms (peaks: pixels above their 24 neighbours and above 0, at least
# 2 px from the border, since our maps are not periodic), the power spectrum and the folded
# bispectrum (ratio 0.5), Minkowski functionals (pixels at least 2 px from the border, so
# that no finite difference wraps around), and the correlation matrices of $C_\ell$ in
# $300\le\ell\le3000$ (or up to Nyquist, where that is lower) with $f_R$ (Eq. 3): medians over
# maps and the 32-68% band, N-body test A in blue, GAN in red, the lognormal null in grey, all
# with the same number of maps. Our binning differs from the authors' code where our maps
# force it: $C_\ell$ bins run from 200 to the maps' Nyquist multipole $\pi N/\theta$ (1152 for
# 32 px, 4608 for P2's 128 px over 5 deg), each at least one fundamental (72) wide; the
# bispectrum's base leg stops at 3000 or at Nyquist, whichever is lower; pixel histograms use
# 40 bins over the real maps' 0.1-99.9% range rather than (0, 0.4).

# %%
cv = ev.curves
figures["fig5_pixels"] = V.plot_curves(
    cv, "pixel", "hist_x", r"$\kappa$", "density", f"P2 Fig. 5 (pixels), {tag}", logy=True
)
figures["fig5_peaks"] = V.plot_curves(
    cv, "peak", "hist_x", r"peak $\kappa$", "density", f"P2 Fig. 5 (peaks), {tag}", logy=True
)
figures["fig6_power"] = V.plot_curves(
    cv,
    "cl",
    "ell",
    r"$\ell$",
    r"$\ell(\ell+1)C_\ell/2\pi$",
    f"P2 Fig. 6 ($C_\\ell$), {tag}",
    logx=True,
    logy=True,
    scale=E.ell_factor,
)
figures["fig6_bispectrum"] = V.plot_curves(
    cv, "bl", "ell_b", r"$\ell$ (folded, ratio 0.5)", r"$B_\ell$ (sr$^2$)", f"P2 Fig. 6 ($B_\\ell$), {tag}"
)
figures["fig7_minkowski"] = V.plot_minkowski(cv, f"P2 Fig. 7 re-made, {tag}")
figures["fig8_correlations"] = V.plot_correlations(cv, f"P2 Fig. 8 re-made, {tag}")
figures["fig9_regressor"] = V.plot_regressor(ev.regressor_points, ev.truth, f"P2 Fig. 9 re-made, {tag}")

# %% [markdown]
# ## 7. Over the grid (Fig. 10) and the scorecard
# Fig. 10's six metrics for every scored cosmology: the GAN against test A (top) and the
# median of the real-vs-real splits (bottom: what a perfect emulator scores here). Circles
# are training cosmologies, squares test ones. The scorecard then gives, for models A-D,
# each of P2's numbers beside ours, the band, the null and the baseline, and the medians
# over the scored training and test cosmologies.

# %%
train_ids = data.train_cosmologies
figures["fig10_grid"] = V.plot_grid_metrics(
    data.omega_m,
    data.sigma8,
    ev.grid_values("ours"),
    train_ids,
    E.GRID_METRICS,
    f"P2 Fig. 10 re-made (GAN vs test A), {tag}",
)
figures["fig10_reference"] = V.plot_grid_metrics(
    data.omega_m,
    data.sigma8,
    ev.grid_values("reference"),
    train_ids,
    E.GRID_METRICS,
    f"real vs real, median of the splits, {tag}",
)
display(ScorecardTable(ev.rows, caption=f"P2 scorecard, {tag}"))

# %% [markdown]
# ### What a trained emulator must reach
# The book asks of a trained P2 emulator, each target judged against its real-vs-real band and
# beside the lognormal null (which is fitted to each cosmology's own maps, so it knows the
# spectrum a GAN has to interpolate): a mean $|f_{C_\ell}|$ within 10% (or the band) at five
# or more test cosmologies; derivatives $d\ln C_\ell/d\sigma_8$ and $d\ln C_\ell/d\Omega_m$
# at the grid centre within 20% of the data's; the regressor's estimate of the parameters
# from the emulator's maps within its real-map scatter of the truth; and a better match to
# the test cosmologies than the nearest training cosmology's own maps (P2's interpolation
# claim). This run:

# %% tags=["hide-input"]
display(Markdown(E.targets_markdown(ev)))

# %% [markdown]
# ## 8. Explore the emulator
# **Live** (needs a running kernel: open this notebook in Jupyter): ipywidgets sliders for
# $\Omega_m$, $\sigma_8$ and the latent seed redraw a generated map, its power spectrum, the
# theory curve of pyccl (Limber, halofit, our Smail $n(z)$) and the mean spectrum (±1σ) of the
# nearest training cosmology's simulated maps. In the static HTML book this widget cannot run.
#
# **Static** (works in the HTML book, no kernel, no network): the second explorer below holds
# a precomputed grid of views, swapped by sliders with a few lines of inline JavaScript. Its
# grid follows the training cosmologies along the $\Omega_m$-$\sigma_8$ degeneracy: at each
# $\Omega_m$ the $\sigma_8$ slider spans the trained range there, and the grid passes through
# (`explore_omega_m`, `explore_sigma8`), where it starts. Each latent seed is an independent
# draw; the note under the sliders gives how alike the seeds' maps are. The live explorer also
# goes outside the training cosmologies, marked EXTRAPOLATION.

# %%
panel = E.explorer_panel(gan.emulator, data, label=tag)
lowest = gan.generator.conditioning.lowest()
display(
    W.live_explorer(
        panel,
        cfg.explore_omega_m,
        cfg.explore_sigma8,
        seed=cfg.seed,
        vlim=data.vlim,
        omega_m_range=E.slider_range(lowest[0], 0.07, 0.55),
        sigma8_range=E.slider_range(lowest[1], 0.40, 1.40),
    )
)

# %%
grid_om, grid_s8, seeds = E.explorer_values(cfg)
start = (cfg.explore_omega_m, cfg.explore_sigma8, cfg.seed)
display(HTML(W.static_explorer_html(panel, grid_om, grid_s8, seeds, vlim=data.vlim, progress=verbose, start=start)))

# %%
meta = E.run_meta(cfg, data, gan, reg, ev, chapter_seconds=time.perf_counter() - t_start)
E.save_results(cfg, ev, meta, figures)
display(Markdown(provenance_sentence(meta, subject="This run's")))
print(E.timing_summary(meta))

# %% [markdown]
# ## Summary
# - P2's conditional GAN is rebuilt from Table A1 with Eq. 2's latent-length conditioning;
#   the authors' code variant (64-dim blocks of length [0.8, 8], its parameter ranges, its
#   gradient-penalty formula) is one parameter away.
# - The 57-cosmology grid is simulated with our PM code and split as in P2 (46 / 8 + 3);
#   the maps of every cosmology are split by parent; every figure of P2's Sect. 5 is re-made
#   and every headline number sits in the scorecard beside a real-vs-real band, a lognormal
#   null and, for the test cosmologies, the nearest training cosmology's own maps.
# - Two explorers: a live ipywidgets one in a running notebook, and a static one that works
#   in the HTML book.
#
# What this run found (every number below is read from its scorecard):

# %% tags=["hide-input"]
display(Markdown(E.summary_markdown(ev)))

# %% [markdown]
# ## What to read next
# - [The statistics](00_statistics.ipynb): the power spectrum, bispectrum, peaks, Minkowski
#   functionals, SSIM and Fréchet distances used here.
# - Chapter 03 (P3) moves to 3D density fields, where a heavy-tailed latent prior matters.
