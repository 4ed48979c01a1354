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
# functionals, power-spectrum correlation matrices, MS-SSIM and a Fréchet distance computed
# with a CNN that regresses $(\Omega_m, \sigma_8)$ from a map. This chapter
#
# 1. simulates the 57 cosmologies with the book's particle-mesh code and splits them as P2 did
#    (46 training, 8 interpolation and 3 extrapolation test cosmologies);
# 2. builds Table A1's networks with Eq. 2's conditioning, and the authors' code variant;
# 3. trains with WGAN-GP and P2's recipe, and trains Table A2's regressor;
# 4. re-makes Figs. 2-10 and fills a scorecard with a real-vs-real reference;
# 5. lets you move sliders over $(\Omega_m, \sigma_8)$ and the latent seed.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | GANs, Wasserstein GAN with gradient penalty | Necessary | Gulrajani et al. (2017) |
# | Convergence power spectrum, bispectrum, Minkowski functionals, peaks | Necessary | [The statistics](00_statistics.ipynb) |
# | Chapter 01 (P1), an unconditional GAN of mass maps | Helpful | [CosmoGAN](01_cosmogan.ipynb) |
# | The book's simulated suites | Helpful | [The simulator](00_simulations.ipynb) |
#
# Time to run: about 8 minutes with `profile="cpu"` on two cores (the default without a GPU;
# reduced data, a narrow network and a few hundred steps); `profile="gpu"` is sized for
# about 20 minutes on one H100 (by arithmetic, not run here); `profile="paper"` is P2's
# 12,000 maps per cosmology and 40 epochs (a week on P2's GPU).

# %% tags=["remove-cell"]
_before_parameters = set(globals())  # names that exist before the parameters cell

# %% tags=["parameters"]
profile = "auto"  # one of: auto (gpu if CUDA is present, else cpu), smoke, cpu, gpu, paper
seed = 0  # seed of the weights, the training run and the evaluation latents
conditioning = "paper"  # "paper" (Eq. 2 as printed) or "code" (the authors' released code)
gp_form = "paper"  # gradient penalty: "paper" mean((|grad| - 1)^2) or "code" (sum |grad|^2 / batch - 1)^2
epochs = None  # training epochs over the training maps (None: from the profile; P2: 40)
max_steps = None  # or a number of generator steps (None: from the profile)
batch_size = None  # maps per batch (None: from the profile; P2: 64)
critic_steps = 5  # critic updates per generator update (P2: 5)
lr = None  # RMSprop learning rate of both networks (None: from the profile; P2: 1e-5)
regressor_epochs = None  # regressor epochs (None: from the profile; P2: 20)
regressor_lr = None  # regressor Adam learning rate (None: from the profile; P2: 3e-5)
fid_formula = "p2_text"  # "p2_text" (Eq. 5 as printed) or "frechet" (the usual Frechet distance, the authors' code)
n_eval = None  # generated maps per cosmology for the evaluation (None: from the profile; P2: 5000)
explore_omega_m = 0.30  # starting Omega_m of the explorer (outside the trained range is allowed, and flagged)
explore_sigma8 = 0.80  # starting sigma_8 of the explorer
device = None  # "cpu" or "cuda" (None: cuda when available)
results_dir = None  # folder for scorecard_p2_{profile}.json and the figures (PNG), or None

# %% tags=["hide-input"]
# Validate the parameters: a wrong name, type or range stops here with one clear sentence.
from gancosmo.params import collect as _collect

_params = _collect(globals(), _before_parameters)  # before any other name is defined
import torch
from gancosmo.evaluation.p2 import inside_training_hull
from gancosmo.models.conditional import LatentNormConditioning
from gancosmo.params import PROFILE_CHOICES, Param, ParameterError, validate

validate(
    _params,
    {
        "profile": Param(str, choices=PROFILE_CHOICES),
        "seed": Param(int, low=0),
        "conditioning": Param(str, choices=("paper", "code")),
        "gp_form": Param(str, choices=("paper", "code")),
        "epochs": Param(float, low=0, low_open=True, allow_none=True),
        "max_steps": Param(int, low=1, allow_none=True),
        "batch_size": Param(int, low=2, allow_none=True),
        "critic_steps": Param(int, low=1),
        "lr": Param(float, low=0, low_open=True, high=1, allow_none=True),
        "regressor_epochs": Param(float, low=0, low_open=True, allow_none=True),
        "regressor_lr": Param(float, low=0, low_open=True, high=1, allow_none=True),
        "fid_formula": Param(str, choices=("p2_text", "frechet")),
        "n_eval": Param(int, low=4, allow_none=True),
        "explore_omega_m": Param(float, low=0, high=1, low_open=True, high_open=True),
        "explore_sigma8": Param(float, low=0, low_open=True, high=3),
        "device": Param(str, choices=("cpu", "cuda"), allow_none=True),
        "results_dir": Param(str, allow_none=True),
    },
)
_lowest = LatentNormConditioning.make(conditioning).lowest()
for _name, _value, _low in (("explore_omega_m", explore_omega_m, _lowest[0]), ("explore_sigma8", explore_sigma8, _lowest[1])):
    if _value <= _low:
        raise ParameterError(f"parameter {_name!r} must be above {_low:.3f}, where Eq. 2's latent length reaches zero with conditioning {conditioning!r}; got {_value!r}.")
if device == "cuda" and not torch.cuda.is_available():
    raise ParameterError("parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None.")
if not inside_training_hull(explore_omega_m, explore_sigma8)[0]:
    print(f"NOTE: (Omega_m, sigma_8) = ({explore_omega_m}, {explore_sigma8}) lies outside the training cosmologies: "
          "the explorer starts in EXTRAPOLATION.")

# %% tags=["hide-input"]
import time

import numpy as np
from gancosmo.cosmology import Cosmology, kids450_nz
from gancosmo.data.augment import dihedral2d
from gancosmo.evaluation import p2 as E
from gancosmo.models.conditional import conditional_gan, count_parameters
from gancosmo.models.regressor import (
    Regressor,
    mse,
    predict,
    split_regressor_data,
    train_regressor,
)
from gancosmo.scorecard import format_table, save_chapter_results
from gancosmo.sims import resolve_profile
from gancosmo.sims.suites import kids450_grid, p2_maps
from gancosmo.stats import power_spectrum_2d
from gancosmo.train import TrainConfig, Trainer
from gancosmo.viz import p2 as V
from gancosmo.viz import widgets as W
from gancosmo.viz.common import show_figures_inline
from IPython.display import HTML, Markdown, display

show_figures_inline()
t_start = time.perf_counter()
profile = resolve_profile(profile)
device = device or ("cuda" if torch.cuda.is_available() else "cpu")
sizes = dict(E.PROFILES[profile])
sizes.update({k: v for k, v in dict(epochs=epochs, max_steps=max_steps, batch_size=batch_size, lr=lr, regressor_epochs=regressor_epochs,
                                     regressor_lr=regressor_lr, n_eval=n_eval).items() if v is not None})
if epochs is not None and max_steps is None:
    sizes["max_steps"] = None
print(f"profile {profile}, device {device}, torch {torch.__version__}")
print(", ".join(f"{k}={v}" for k, v in sizes.items()))
figures = {}

# %% [markdown]
# ## 1. The data: 57 cosmologies (Fig. 2)
# P2 used the non-tomographic KiDS-450 simulations of Fluri et al. (2019): 57 flat
# $\Lambda$CDM cosmologies along the $\Omega_m$-$\sigma_8$ degeneracy, 12,000 maps each.
# Eleven were held out: eight inside the grid (interpolation) and three at its edges
# (extrapolation). We simulate the same 57 cosmologies with the book's particle-mesh code and
# Born lensing ([The simulator](00_simulations.ipynb)). What differs: our source
# distribution is a Smail form $n(z)\propto z^2 e^{-(z/0.5)^{1.5}}$ (mean $z\approx0.75$), not
# the KiDS DIR histogram, and our maps come from a coarse PM simulator, so they lack the
# smallest scales of P2's maps. With `cpu` the simulations are smaller still (32$^3$
# particles, 6 steps, 32 maps per cosmology; `gpu`: 128$^3$, 1000 maps); `smoke` uses one
# training cosmology plus the four named test ones. Our named models A-D are test
# cosmologies: A the interpolation one nearest the grid centre, B-D the three extrapolation
# ones at the edges (P2's A-D are not identified by their parameters in the text).

# %%
grid = kids450_grid()
om_all = np.array([g["omega_m"] for g in grid])
s8_all = np.array([g["sigma8"] for g in grid])
split = E.grid_split()
named = E.named_cosmologies()
print({k: len(v) for k, v in split.items()}, "named:", {k: (i, om_all[i], s8_all[i]) for k, i in named.items()})
use = list(range(len(grid)))
if sizes["n_train_cosmologies"] is not None:
    use = sorted(set(split["train"][: sizes["n_train_cosmologies"]].tolist()) | set(named.values()))
suite = p2_maps(profile=profile, device=device, progress=profile != "smoke", cosmologies=use, **(sizes["data"] or {}))
maps_all, params_all, cidx = suite["maps"], suite["params"], suite["cosmology_index"]
real_by = {i: maps_all[cidx == i] for i in use}
train_ids = [i for i in use if i in set(split["train"])]
train_sel = np.isin(cidx, train_ids)
scaler = E.MapScaler.fit(maps_all[train_sel])
print(f"{len(use)} cosmologies x {len(real_by[use[0]])} maps of 128^2 px (5 deg); training: {train_sel.sum()} maps from "
      f"{len(train_ids)} cosmologies; pixel std {scaler.sigma:.5f} (maps are divided by it for the networks)")
figures["fig2_grid"] = V.plot_grid(om_all, s8_all, split, named, f"P2 Fig. 2: the KiDS-450 grid (profile {profile})")

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
# The MLP (128 $\to$ 256 $\to$ 512 $\to$ 32768) and five transposed convolutions follow Table A1;
# the critic mirrors them and concatenates $(\Omega_m, \sigma_8)$ after its convolutions. Two
# departures, both forced: Table A1 puts a ReLU on the generator's output, which cannot make
# negative convergence, so ours is linear; and a Wasserstein critic's last layer is linear.
# `smoke` and `cpu` narrow every layer (`width`, 32 in the paper).

# %%
G_paper, D_paper = conditional_gan(32, conditioning=conditioning)
print(f"paper size: generator {count_parameters(G_paper):,}, critic {count_parameters(D_paper):,}, "
      f"regressor {count_parameters(Regressor(32)):,} parameters")
del G_paper, D_paper
G, D = conditional_gan(sizes["width"], conditioning=conditioning, seed=seed)
print(f"this run: width {sizes['width']} -> generator {count_parameters(G):,}, critic {count_parameters(D):,} parameters; "
      f"conditioning {conditioning!r} with lengths [{G.conditioning.l0:.2f}, {G.conditioning.l1:.2f}], lowest admissible "
      f"(Omega_m, sigma_8) = ({G.conditioning.lowest()[0]:.3f}, {G.conditioning.lowest()[1]:.3f})")

# %% [markdown]
# ## 3. Training (WGAN-GP) and the regressor (Table A2)
# P2: Wasserstein loss with gradient penalty 10, RMSprop with learning rate $10^{-5}$, batches
# of 64 maps drawn across all training cosmologies, 5 critic updates per generator update,
# random flips and 90° rotations, 40 epochs (a week on a GTX 1080). The `cpu` profile keeps
# the loss, penalty, optimizer, critic steps and augmentation but trains a narrow network
# for about a hundred generator steps with a ten times larger learning rate (and the regressor
# for 8 epochs with lr $3\times10^{-4}$). That is far too short for a GAN to converge: expect
# checkerboard artefacts of the transposed convolutions and statistics far from the real
# maps'; the real-vs-real column of the scorecard shows what a converged emulator would reach. The regressor shares the critic's
# convolutions and is trained with MSE and Adam on 80% of the training cosmologies' maps
# (P2: lr $3\times10^{-5}$, 20 epochs, test MSE $8.93\times10^{-5}$).

# %%
config = TrainConfig(loss="wgan-gp", gp_weight=10.0, gp_form=gp_form, critic_steps=critic_steps, optimizer="rmsprop",
                     lr_g=sizes["lr"], lr_d=sizes["lr"], batch_size=sizes["batch_size"], epochs=sizes["epochs"] or 1.0,
                     max_steps=sizes["max_steps"], latent_dim=128, seed=seed, device=device, progress=profile != "smoke",
                     tensorboard=False, log_every=5)
x_train = scaler.forward(maps_all[train_sel]).astype(np.float32)
y_train = params_all[train_sel].astype(np.float32)
trainer = Trainer(G, D, (x_train, y_train), config, augment=dihedral2d)
t0 = time.perf_counter()
result = trainer.fit()
train_seconds = time.perf_counter() - t0
G = trainer.G_raw.eval()
print(f"{result['step']} generator steps ({result['epochs']:.2f} epochs of {len(x_train)} maps) in {train_seconds:.0f} s")

tr_idx, te_idx = split_regressor_data(len(x_train), 0.8, seed=seed)
reg = Regressor(sizes["regressor_width"]).to(device)
t0 = time.perf_counter()
reg_losses = train_regressor(reg, x_train[tr_idx], y_train[tr_idx], epochs=sizes["regressor_epochs"], lr=sizes["regressor_lr"],
                             batch_size=min(64, len(tr_idx)), seed=seed, augment=dihedral2d, progress=profile != "smoke")
reg_mse = mse(predict(reg, x_train[te_idx]), y_train[te_idx])
reg_ref = mse(np.tile(y_train[tr_idx].mean(0), (len(te_idx), 1)), y_train[te_idx])
print(f"regressor: {len(tr_idx)} training / {len(te_idx)} test maps, {time.perf_counter() - t0:.0f} s; test MSE {reg_mse:.3g} "
      f"(P2: 8.93e-5; predicting the mean label: {reg_ref:.3g})")
figures["training"] = V.plot_training(result["history"], reg_losses, f"P2 training, profile {profile} ({len(x_train)} maps)")


def features(maps):
    """Regressor outputs (Omega_m, sigma_8) of convergence maps: the FID's features."""
    return predict(reg, scaler.forward(maps))


# %% [markdown]
# ## 4. Maps (Fig. 3) and one latent across cosmologies (Fig. 4)
# Simulated (top) and generated (bottom) maps for models A-D; then one latent vector pushed
# through a grid of cosmologies: raising $\sigma_8$ should sharpen the contrast, raising
# $\Omega_m$ add mass, while the large-scale pattern set by the latent stays.

# %%
n_ev = sizes["n_eval"]
fake_by = {i: E.generate(G, (om_all[i], s8_all[i]), n_ev, scaler, seed=seed + 10 + i) for i in use}
labels = {k: rf"$\Omega_m$={om_all[i]:.3f}, $\sigma_8$={s8_all[i]:.3f}" for k, i in named.items()}
figures["fig3_maps"] = V.plot_maps({k: real_by[i] for k, i in named.items()}, {k: fake_by[i] for k, i in named.items()}, labels,
                                   f"P2 Fig. 3 re-made, profile {profile}")
n_lat = sizes["n_latent_grid"]
om_line, s8_line = np.linspace(0.15, 0.45, n_lat), np.linspace(0.55, 1.2, n_lat)
z_one = torch.randn(1, 128, generator=torch.Generator().manual_seed(seed + 5)).repeat(n_lat * n_lat, 1)
pp = np.array([(o, s) for o in om_line for s in s8_line])
lat = E.generate(G, pp, n_lat * n_lat, scaler, z=z_one).reshape(n_lat, n_lat, 128, 128)
figures["fig4_latent"] = V.plot_latent_grid(lat, om_line, s8_line, f"P2 Fig. 4 re-made: one latent vector, profile {profile}")

# %% [markdown]
# ## 5. Statistics of models A-D (Figs. 5-9)
# Pixel and peak histograms (peaks: pixels above their 24 neighbours and above 0), the power
# spectrum and the folded bispectrum (ratio 0.5), Minkowski functionals, and the correlation
# matrices of $C_\ell$ in $300\le\ell\le3000$ with $f_R$ (Eq. 3): medians over maps and the
# 32-68% band, N-body in blue, GAN in red. Our binning differs from the authors' code where
# our coarser maps force it: $\ell$ bins stop at 4600 (Nyquist of 128 px over 5 deg), pixel
# histograms use 40 bins over the real maps' 0.1-99.9% range rather than (0, 0.4).

# %%
curves = {k: E.summary_curves(real_by[i], fake_by[i]) for k, i in named.items()}
counts = {k: (len(real_by[i]), len(fake_by[i])) for k, i in named.items()}
tag = f"profile {profile}"
figures["fig5_pixels"] = V.plot_curves(curves, "pixel", "hist_x", r"$\kappa$", "density", f"P2 Fig. 5 (pixels), {tag}", counts, logy=True)
figures["fig5_peaks"] = V.plot_curves(curves, "peak", "hist_x", r"peak $\kappa$", "density", f"P2 Fig. 5 (peaks), {tag}", counts, logy=True)
figures["fig6_power"] = V.plot_curves(curves, "cl", "ell", r"$\ell$", r"$\ell(\ell+1)C_\ell/2\pi$", f"P2 Fig. 6 ($C_\\ell$), {tag}", counts,
                                      logx=True, logy=True, scale=lambda ell: ell * (ell + 1) / (2 * np.pi))
figures["fig6_bispectrum"] = V.plot_curves(curves, "bl", "ell_b", r"$\ell$ (folded, ratio 0.5)", r"$B_\ell$ (sr$^2$)", f"P2 Fig. 6 ($B_\\ell$), {tag}", counts)
figures["fig7_minkowski"] = V.plot_minkowski(curves, f"P2 Fig. 7 re-made, {tag}", counts)
figures["fig8_correlations"] = V.plot_correlations(curves, f"P2 Fig. 8 re-made, {tag}")
pred = {k: (features(real_by[i]), features(fake_by[i])) for k, i in named.items()}
figures["fig9_regressor"] = V.plot_regressor(pred, {k: (om_all[i], s8_all[i]) for k, i in named.items()}, f"P2 Fig. 9 re-made, {tag}")

# %% [markdown]
# ## 6. Over the whole grid (Fig. 10) and the scorecard
# For every cosmology, the real maps are cut into two halves A and B. *Ours* compares GAN maps
# with half A (as many GAN maps as half B holds); the *reference* compares half B with half A:
# what a perfect emulator would score with our sample sizes. $s_{SSIM}$ (Eq. 4) from MS-SSIM of
# random pairs, FID$^{1/2}$ (Eq. 5 with `fid_formula`, regressor outputs standardized by the real
# half's mean and std), normalized pixel $W_1$, mean $|f_{C_\ell}|$, mean $|f_{B_\ell}|$, $f_R$.
# Circles are training cosmologies, squares test ones.

# %%
grid_metrics = E.compare_grid(real_by, fake_by, features, n_pairs=sizes["n_pairs"], seed=seed, fid_formula=fid_formula,
                              progress=profile != "smoke")
figures["fig10_grid"] = V.plot_grid_metrics(om_all, s8_all, grid_metrics, train_ids, f"P2 Fig. 10 re-made (GAN vs real half), {tag}")
figures["fig10_reference"] = V.plot_grid_metrics(om_all, s8_all, grid_metrics, train_ids, f"real half B vs half A (reference), {tag}", which="reference")
rows = E.scorecard_rows(grid_metrics, named, reg_mse, reg_ref, split, dict(regressor_test=len(te_idx)))
display(Markdown(format_table(rows)))

# %% [markdown]
# ## 7. Explore the emulator
# **Live** (needs a running kernel: open this notebook in Jupyter): ipywidgets sliders for
# $\Omega_m$, $\sigma_8$ and the latent seed redraw a generated map, its power spectrum, the
# theory curve of pyccl (Limber, halofit, our Smail $n(z)$) and the mean spectrum (±1σ) of the
# nearest training cosmology's simulated maps. In the static HTML book this widget cannot run.
#
# **Static** (works in the HTML book, no kernel, no network): the second explorer below holds
# a precomputed grid of views, swapped by sliders with a few lines of inline JavaScript.
# Views outside the training cosmologies are marked EXTRAPOLATION.

# %%
ell_edges = E.ELL_EDGES
_theory_cache = {}


def theory(om, s8, ell):
    key = (round(om, 4), round(s8, 4))
    if key not in _theory_cache:
        _theory_cache[key] = Cosmology(om, s8).convergence_cl(ell, nz=kids450_nz)
    return _theory_cache[key]


def nearest(om, s8):
    d = ((om_all[train_ids] - om) / np.ptp(om_all)) ** 2 + ((s8_all[train_ids] - s8) / np.ptp(s8_all)) ** 2
    i = train_ids[int(np.argmin(d))]
    ell, cl = power_spectrum_2d(real_by[i], E.FIELD_DEG, ell_edges)
    return f"({om_all[i]:.3f}, {s8_all[i]:.3f})", ell, cl.mean(0), cl.std(0)


panel = W.ExplorerPanel(lambda om, s8, sd: E.generate(G, (om, s8), 1, scaler, seed=sd)[0],
                        lambda m: power_spectrum_2d(m, E.FIELD_DEG, ell_edges), theory, nearest,
                        lambda om, s8: bool(E.inside_training_hull(om, s8)[0]), label=f"profile {profile}")
vlim = (float(np.quantile(maps_all, 0.005)), float(np.quantile(maps_all, 0.995)))
display(W.live_explorer(panel, explore_omega_m, explore_sigma8, seed=seed, vlim=vlim,
                        omega_m_range=(max(0.07, G.conditioning.lowest()[0] + 0.01), 0.55),
                        sigma8_range=(max(0.40, G.conditioning.lowest()[1] + 0.01), 1.40)))

# %%
n_om, n_s8, n_seed = sizes["explorer_grid"]
display(HTML(W.static_explorer_html(panel, np.linspace(0.101, 0.487, n_om), np.linspace(0.475, 1.331, n_s8), range(n_seed),
                                    vlim=vlim, progress=profile != "smoke")))

# %%
meta = dict(paper="P2", profile=profile, device=device, torch=torch.__version__, seed=seed, conditioning=conditioning, gp_form=gp_form,
            fid_formula=fid_formula, sizes={k: v for k, v in sizes.items()}, cosmologies=len(use), train_steps=result["step"],
            train_seconds=train_seconds, regressor_mse=reg_mse, chapter_seconds=time.perf_counter() - t_start)
if results_dir is not None:
    save_chapter_results(results_dir, "p2", profile, rows, meta, figures, dpi=80)
print(f"chapter ran in {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# ## Summary
# - P2's conditional GAN is rebuilt from Table A1 with Eq. 2's latent-length conditioning;
#   the authors' code variant (64-dim blocks of length [0.8, 8], its parameter ranges, its
#   gradient-penalty formula) is one parameter away.
# - The 57-cosmology grid is simulated with our PM code and split as in P2 (46 / 8 + 3);
#   every figure of P2's Sect. 5 is re-made, and every headline number sits in the
#   scorecard beside a real-vs-real reference that says what our sample sizes allow.
# - With `cpu` the network is narrow and trained for minutes: read its numbers against the
#   reference column, not against P2's; the `gpu` profile is the one sized to compare.
# - Two explorers: a live ipywidgets one in a running notebook, and a static one that works
#   in the HTML book.
#
# ## What to read next
# - [The statistics](00_statistics.ipynb): the power spectrum, bispectrum, peaks, Minkowski
#   functionals, MS-SSIM and Fréchet distances used here.
# - Chapter 03 (P3) moves to 3D density fields, where a heavy-tailed latent prior matters.
