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
# # The statistics: how a GAN emulator is judged
#
# ## Overview
# Every chapter of this book judges a generative model by the summary statistics
# cosmologists use on real data. This chapter defines each of them in one sentence or one
# equation, computes them on simulated maps and cubes with `gancosmo.stats`, shows that they
# agree bin for bin with the reference codes the papers used (lenstools 1.2 for maps,
# Pylians for cubes), and measures how fast they are.
#
# 1. Map statistics: angular power spectrum, bispectrum, peak counts, Minkowski functionals, pixel and peak histograms.
# 2. Cube statistics: power spectrum, bispectrum, 3D peaks, voxel histograms, mean density.
# 3. Two-sample comparisons: fractional differences, Wasserstein-1, KS/AD tests, correlation matrices, Fréchet distance and P4's score, MS-SSIM, Sørensen-Dice overlap, nearest neighbours.
# 4. Agreement with the reference implementations, and speed.
#
# References: lenstools (A. Petri 2016,
# [doi:10.1016/j.ascom.2016.06.001](https://doi.org/10.1016/j.ascom.2016.06.001)) and Pylians
# ([ascl:1811.008](https://ascl.net/1811.008)); each paper's own statistics are cited in its
# chapter. Code: this notebook and `gancosmo.stats`, in
# [the book's repository](../book/intro.md#the-repository).
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | Fourier transforms, power spectra | Necessary | $C_\ell$ for maps, $P(k)$ for cubes |
# | Gaussian and lognormal random fields | Helpful | the inputs of this chapter |
# | Hypothesis tests (KS), Wasserstein distances | Helpful | for the comparison section |
#
# All statistics take numpy arrays or torch tensors, batch first — maps `(B, H, W)` with the
# side in degrees, cubes `(B, D, H, W)` with the box side in Mpc/h — run on the input's
# device, and return numpy arrays `(centers, values[B, n_bins])`.
#
# Time to run: under 3 minutes with `profile="cpu"` on two cores.

# %% tags=["remove-cell"]
_before_parameters = set(globals())  # names that exist before the parameters cell

# %% tags=["parameters"]
profile: str = "auto"  # one of: auto (gpu if CUDA is present, else cpu), smoke, cpu, gpu, paper
seed: int = None  # seed of every random field in this chapter (None: from the profile, 0)
n_maps: int = None  # maps per sample (None: from the profile)
n_pix: int = None  # map side in pixels (None: from the profile)
n_cubes: int = None  # cubes per sample (None: from the profile)
n_mesh: int = None  # cube side in voxels (None: from the profile)
device: str = None  # "cpu" or "cuda" (None: cuda when available)
run_benchmark: bool = None  # time ours against the references in this run (None: true)

# %% tags=["hide-input"]
# Validate the parameters: a wrong name, type or range stops here with one clear sentence.
from gancosmo.params import collect as _collect
from gancosmo.stats.chapter import StatisticsConfig

cfg = StatisticsConfig.from_parameters(**_collect(globals(), _before_parameters))

# %% [markdown]
# ## Set-up
# The profile picks the sample sizes; any explicit parameter overrides it.

# %% tags=["hide-input"]
import time
from pathlib import Path

import gancosmo
import matplotlib.pyplot as plt
import numpy as np
import torch
from gancosmo import stats as S
from gancosmo.stats import chapter as ch
from gancosmo.viz import statistics as V
from gancosmo.viz.common import show_figures_inline
from IPython.display import display

show_figures_inline()
from gancosmo.stats import fields

resolved, seed, run_benchmark = cfg.profile, cfg.seed, cfg.run_benchmark
dev = torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
ROOT = Path(gancosmo.__file__).resolve().parents[2]
SIDE = 5.0  # map side, degrees (P2's 5 x 5 deg maps)
BOX = 64.0 * cfg.n_mesh / 64  # box side, Mpc/h (1 Mpc/h voxels, as P3)
print(f"profile {resolved}: {cfg.n_maps} maps of {cfg.n_pix}^2, {cfg.n_cubes} cubes of {cfg.n_mesh}^3, device {dev}")

# %% [markdown]
# ### The simulated inputs
# Two samples of convergence-like maps with the same power-law spectrum
# $C_\ell = 10^{-9}(\ell/1000)^{-1.2}$: a Gaussian random field, and a shifted lognormal field
# $\kappa = \kappa_0(e^{g - \sigma_g^2/2} - 1)$ with $\kappa_0 = 0.02$, whose skewed pixel
# distribution and high peaks mimic lensing by halos. For cubes, lognormal overdensities
# $\delta = e^{g - \sigma_g^2/2} - 1$ with $P(k) = 10^3 (k/0.1)^{-1.5}$ (Mpc/h)$^3$.
# (The book's own particle-mesh simulator, chapter `00_simulations`, makes the real inputs
# of the later chapters; random fields keep this chapter fast and exact.)

# %%
t0 = time.perf_counter()
cl_in = fields.power_law_cl(1e-9, -1.2)
gmaps = fields.gaussian_maps(cfg.n_maps, cfg.n_pix, SIDE, cl_in, seed=seed)
lmaps = fields.lognormal_maps(cfg.n_maps, cfg.n_pix, SIDE, cl_in, seed=seed + 1)
lmaps_b = fields.lognormal_maps(cfg.n_maps, cfg.n_pix, SIDE, cl_in, seed=seed + 2)  # a second "real" sample
pk_in = fields.power_law_pk(1e3, -1.5)
cubes = fields.lognormal_cubes(cfg.n_cubes, cfg.n_mesh, BOX, pk_in, seed=seed + 3)
cubes_b = fields.lognormal_cubes(cfg.n_cubes, cfg.n_mesh, BOX, pk_in, seed=seed + 4)
G, L, L2, C, C2 = ch.to_tensors(dev, gmaps, lmaps, lmaps_b, cubes, cubes_b)
NM, NC = cfg.n_maps, cfg.n_cubes
fig = V.plot_fields(gmaps[0], lmaps[0], cubes[0], cfg.n_pix, SIDE, cfg.n_mesh, BOX)
print(f"fields generated in {time.perf_counter() - t0:.1f} s")
plt.show()


# %% [markdown]
# ## 1. Map statistics
# ### Angular power spectrum
# $C_\ell = \langle |\tilde\kappa(\boldsymbol\ell)|^2 \rangle_{|\boldsymbol\ell| \in \text{bin}}$,
# the average over the Fourier cells in each multipole bin of the squared Fourier amplitude,
# normalized by $(\theta_\text{side}/N^2)^2$ — exactly lenstools' `powerSpectrum`:
# every cell of the real-FFT half plane counts once, a cell belongs to bin $b$ when
# $\ell_b < \ell \le \ell_{b+1}$, and $\ell$ is reported at the bin mid-points.

# %%
ell_edges = np.linspace(200.0, 6000.0, 200)  # P2's binning
fig = V.plot_power_2d({"Gaussian": G, "lognormal": L}, SIDE, ell_edges, cl_in, NM)
plt.show()


# %% [markdown]
# ### Bispectrum
# The three-point function in Fourier space, $B(\ell_1,\ell_2,\ell_3) =
# \langle \mathrm{Re}\,\tilde\kappa(\boldsymbol\ell_1)\tilde\kappa(\boldsymbol\ell_2)\tilde\kappa(\boldsymbol\ell_3)\rangle$
# with $\boldsymbol\ell_1 + \boldsymbol\ell_2 + \boldsymbol\ell_3 = 0$, on lenstools'
# triangles: *equilateral* ($\boldsymbol\ell_2$ = $\boldsymbol\ell_1$ rotated by 120°) and
# *folded* ($\boldsymbol\ell_2 = -r\boldsymbol\ell_1$, P2 uses $r = 0.5$). A Gaussian field has
# zero bispectrum; the lognormal one does not. As in lenstools, triangles whose legs leave
# the Fourier grid are skipped, so the equilateral bins above about $0.7\,\ell_\text{Nyquist}$ are empty (0).

# %%
bedges = np.linspace(300.0, 6000.0, 40)
fig = V.plot_bispectrum_2d({"Gaussian": G, "lognormal": L}, SIDE, bedges, NM)
plt.show()


# %% [markdown]
# ### Peak counts and peak values
# A peak is a pixel strictly above all its neighbours (periodic): 8 neighbours as lenstools'
# `peakCount` (which returns the number of peaks per unit threshold in each bin), or 24 as
# P2 (its 5×5 window). `peak_values` returns the heights themselves for histograms and W1.

# %%
sig = float(lmaps.std())
th = np.linspace(-2 * sig, 6 * sig, 41)
fig = V.plot_peak_counts({"Gaussian": G, "lognormal": L}, th, sig, NM)
plt.show()


# %% [markdown]
# ### Minkowski functionals
# For the excursion set $\{\kappa \ge \nu\}$: $V_0$ its area fraction, $V_1$ a quarter of its
# boundary length per unit area, $V_2$ its Euler characteristic (islands minus holes) per
# unit area, computed from finite-difference gradients and Hessians as lenstools does
# (`norm=False`, pixel units, $V_1$ and $V_2$ per unit threshold bin). For a Gaussian field
# they are known analytically:
# $V_0 = \tfrac12\mathrm{erfc}(\nu/\sqrt2\sigma_0)$,
# $V_1 = \frac{\sigma_1}{8\sqrt2\,\sigma_0}e^{-\nu^2/2\sigma_0^2}$,
# $V_2 = \frac{\sigma_1^2}{2\sigma_0^2(2\pi)^{3/2}}\frac{\nu}{\sigma_0}e^{-\nu^2/2\sigma_0^2}$,
# with $\sigma_0^2 = \langle\kappa^2\rangle$ and $\sigma_1^2 = \langle|\nabla\kappa|^2\rangle$.

# %%
fig = V.plot_minkowski(G, L, gmaps, NM)
plt.show()


# %% [markdown]
# ### Pixel and peak histograms
# P2 histograms pixel and peak values in 200 linear bins with the values outside the range
# added to the edge bins ("unbounded"); P3 uses 49 log-spaced bins; P5 draws median ± MAD
# bands. `pixel_histogram` and `peak_histogram` take any edges (`linear_edges`, `log_edges`).

# %%
edges = S.linear_edges(-3 * sig, 8 * sig, 100)
fig = V.plot_histograms({"Gaussian": G, "lognormal": L}, edges, NM)
plt.show()


# %% [markdown]
# ## 2. Cube statistics
# ### Power spectrum
# $P(k) = \langle|\delta_{\mathbf k}|^2\rangle (L/N^2)^3$ over the independent Fourier modes
# of each bin. With no edges given, the bins are Pylians' (`Pk_library.Pk`, `MAS='None'`):
# integer shells $i \le |\mathbf k|/k_F < i+1$, $k_F = 2\pi/L$, DC mode excluded, $k$ reported as
# the mean $|\mathbf k|$ of the modes. Explicit edges give the papers' binnings (P4: 50 log
# bins; P3: 16 log bins).

# %%
fig = V.plot_power_3d(C, C2, BOX, cfg.n_mesh, pk_in, NC)
plt.show()


# %% [markdown]
# ### Bispectrum
# For legs $k_1, k_2$ and angle $\theta$ ($k_3^2 = k_1^2 + k_2^2 + 2k_1k_2\cos\theta$), each leg
# selects the shell $|\,|\mathbf k| - k_i| < k_F$; with $\delta_i(\mathbf x)$ the field filtered
# to shell $i$ and $I_i$ the filtered unit field,
# $B = \sum_x\delta_1\delta_2\delta_3/\sum_x I_1I_2I_3$ and $Q = B/(P_1P_2 + P_1P_3 + P_2P_3)$,
# as Pylians' `Bk` (P3 uses $(k_1, k_2)$ = (0.2, 0.3) and (0.5, 1.0) h/Mpc, 10 angles).

# %%
thetas = np.linspace(0, 2.5, 10)
fig = V.plot_bispectrum_3d(C, BOX, cfg.n_mesh, thetas, NC)
plt.show()


# %% [markdown]
# ### 3D peaks, voxel histogram and mean density
# Peaks in 3D have 26 neighbours, or 124 in P4's 5-wide window; P4 histograms
# $\log(p + e)$ of the peak heights and $\log_{10}(x+1)$ of the voxel values. The
# mean-density distribution (P3, P5) is the histogram of each cube's mean.

# %%
rho = 1.0 + C  # density in units of the mean
fig = V.plot_cube_one_point(rho, NC)
plt.show()


# %% [markdown]
# ## 3. Comparing two samples
# Here the "real" sample is the lognormal maps and the "generated" ones are either a second,
# independent lognormal sample (a perfect emulator) or the Gaussian maps (an emulator that
# got the power spectrum right and everything else wrong).
#
# * fractional difference of the means per bin, $f_x = (\bar x_{GAN} - \bar x_{N})/\bar x_N$ (P2);
# * normalized Wasserstein-1 of pixel and peak values, both standardized by the real sample (P2);
# * bootstrapped KS and Anderson-Darling p-values per bin (P1);
# * Pearson correlation matrices and P2's $f_R = (\|R_{GAN}\|_F - \|R_N\|_F)/\|R_N\|_F$;
# * Fréchet distance between Gaussians fitted to $\log_{10}(s + \varepsilon)$ and P4's score
#   $S^* = 1/d^2$, with the real-vs-real reference score;
# * MS-SSIM over random pairs and P2's $s_{SSIM}$ (mode collapse raises the similarity);
# * Sørensen-Dice overlap of top-$n$% pixels with its random-pair baseline (P5);
# * nearest training neighbours of generated maps, by pixels or by power spectrum (P1).

# %%
comparison = ch.comparison_table((lmaps, L), (lmaps_b, L2), (gmaps, G), SIDE, th, seed)
print(comparison["text"])
fig = V.plot_correlations(comparison["spectra"], comparison["edges"], NM)
plt.show()


# %%
similarity = ch.similarity_checks(L, lmaps, L2, seed)  # MS-SSIM, Dice overlap, nearest neighbours
fig = V.plot_similarity(similarity, NM)
print(similarity["text"])
plt.show()


# %% [markdown]
# ### How the book judges an emulator: bands from real-vs-real splits, and a null
# None of the numbers above says on its own whether a sample is "good enough": their values
# under the null hypothesis depend on sample sizes and on correlations between samples.
# Resampling both sets with replacement and counting bins with "p > 0.99" (P1) is not a test
# either: for two samples from one distribution such p-values are spread over [0, 1] and rarely
# exceed 0.95. The book therefore scores every metric the same way (`gancosmo.evaluation`):
#
# 1. the real samples are split by *parent* (simulation, box or parent map); the emulator is
#    compared with a held-out real set A of the same size $n$;
# 2. the same metric between two disjoint real sets, drawn 39 times at random with whole
#    parents on one side, gives the distribution a perfect emulator would have: its median is
#    the *reference*, its 95% interval the *band*; a row *passes* when the emulator lies
#    inside the band;
# 3. a *null* emulator, a lognormal field with the training set's power spectrum and pixel
#    variance, goes through the same rows; where it passes, the row cannot test non-Gaussian
#    structure.
#
# Binned summaries are compared by $\chi^2$/dof of the difference of means with the real
# covariance, the mean fractional difference, and the fraction of bins where two-sample KS
# or Anderson-Darling tests reject at 5%. Below, the real maps are lognormal; a second
# lognormal sample (a perfect emulator) and the Gaussian maps (right spectrum, wrong
# everything else) are scored. Because these real maps *are* lognormal, the null is itself a
# perfect emulator here, and every row it passes says exactly that.

# %%
from gancosmo.evaluation.sampling import LognormalNull
from gancosmo.scorecard import ScorecardTable
from gancosmo.stats.chapter import protocol_example

real_pool = fields.lognormal_maps(2 * NM, cfg.n_pix, SIDE, cl_in, seed=seed + 5)
null_maps = LognormalNull(lmaps, SIDE).sample(NM // 2, seed=seed + 6)
judged = protocol_example(
    real_pool, {"second lognormal sample": lmaps_b, "Gaussian maps": gmaps}, null_maps, SIDE, n=NM // 2, seed=seed
)
for name, rows in judged.items():
    display(
        ScorecardTable(rows, caption=f"{name} vs real lognormal maps, {NM // 2} maps per side, 39 real-vs-real splits")
    )

# %% [markdown]
# The Fréchet part of P2's FID-like distance is `S.fid_like(features_real, features_fake)`:
# any feature network's outputs (the cosmology regressor is built in chapter 02), standardized
# by the real sample, Fréchet distance between the fitted Gaussians, square root reported.

# %% [markdown]
# ## 4. Agreement with the reference implementations
# The book's tests check every map statistic against lenstools 1.2 (which runs in its own,
# pinned Python environment; its outputs are stored with the tests) on seeded Gaussian and
# lognormal maps of 64², 127², 128² and 256² pixels, and every cube statistic against
# Pylians, live. Here the same comparison, recomputed now:

# %%
print(ch.reference_agreement(ROOT, thetas))

# %% [markdown]
# The references compute in double precision on float32 FFTs (Pylians) or numpy's double
# FFTs (lenstools); float64 inputs reproduce them to rounding. float32 inputs (our GPU path)
# agree to about $10^{-6}$ for power spectra, limited by float32 FFT rounding.
#
# ## 5. Speed
# One run, same inputs: our per-object time on a batch (one CPU thread, or the GPU) against
# lenstools and Pylians on one core. The script `benchmarks/stats_speed.py` of the repository
# measures these tables; the ones measured for this book, on a 2-core CPU and on one H100
# GPU, are shown below. lenstools and Pylians were not installed beside the GPU, so the GPU
# ratios divide the reference's time on one CPU core (from the CPU measurement) by our GPU
# time (rows marked *).

# %%
print(ch.speed_tables(ROOT, run_benchmark, resolved, dev, cfg.n_maps))

# %% [markdown]
# ## Summary
# * `gancosmo.stats` computes the papers' statistics in batches, on CPU or GPU, from numpy or
#   torch inputs: $C_\ell$, bispectra, peaks, Minkowski functionals and histograms of maps;
#   $P(k)$, bispectra, peaks and histograms of cubes.
# * Map statistics reproduce lenstools 1.2 and cube statistics Pylians bin for bin (to
#   rounding in double precision), and the Gaussian-field Minkowski functionals follow theory.
# * The comparison tools tell a good emulator from a bad one on each axis the papers use:
#   W1 and $f_x$ on one-point and spectral statistics, $f_R$ on correlations, P4's $S^*$,
#   $s_{SSIM}$ for mode collapse, Dice overlap for paired images, nearest neighbours for
#   memorization.
# * Whether a value is good enough is decided against the spread of the same metric over
#   random real-vs-real splits, and a lognormal null field shows which rows can test
#   non-Gaussian structure at all; the tables above print, from this run, which rows the
#   Gaussian maps fail.
#
# ## What to read next
# * `00_simulations`: the particle-mesh simulator and Born lensing that produce the real inputs.
# * `01_cosmogan` (P1): the first chapter that uses these statistics to judge a trained GAN.
# * The API reference: `help(gancosmo.stats)`; the tests that compare each statistic with
#   lenstools and Pylians are in [the book's repository](../book/intro.md#the-repository).
