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
# # The simulator: particle-mesh N-body and Born lensing, validated against pyccl
#
# ## Overview
# The five papers of this book trained their GANs on N-body simulations and ray-traced
# convergence maps that cannot be downloaded here (most were never released). So the book
# carries its own physics: a particle-mesh (PM) N-body code and a Born-approximation lensing
# code, written in PyTorch so they run on a laptop CPU or a data-centre GPU, with every
# background quantity (growth, distances, linear power) taken from
# [pyccl](https://ccl.readthedocs.io), the LSST-DESC reference library. This chapter
#
# 1. explains how the simulator works, in equations;
# 2. validates it: the matter power spectrum $P(k,z)$ against pyccl's linear and halofit
#    spectra, the growth of large-scale modes against the linear growth factor, and the
#    convergence power spectrum $C_\ell$ of the maps against pyccl's Limber integral;
# 3. shows a gallery of every data suite the later chapters train on;
# 4. measures how fast all this is.
#
# The methods behind the code are listed in [the references](../book/references.md). Code: this
# notebook, `gancosmo.sims` and `gancosmo.sims.validation`, in
# [the book's repository](../book/intro.md#the-repository).
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | Linear growth $D(z)$, matter power spectrum | Necessary | any cosmology textbook (Dodelson & Schmidt, ch. 8-9) |
# | Lagrangian perturbation theory (Zel'dovich, 2LPT) | Helpful | Scoccimarro (1998) |
# | Weak lensing convergence, Limber approximation | Necessary for the lensing part | Bartelmann & Schneider (2001) |
# | The FastPM scheme | Helpful | Feng et al. (2016) |
#
# Time to run: a few minutes with `profile="cpu"` on two cores (the default without a GPU).

# %% tags=["remove-cell"]
_before_parameters = set(globals())  # names that exist before the parameters cell

# %% tags=["parameters"]
profile: str = "auto"  # one of: auto (gpu if CUDA is present, else cpu), smoke, cpu, cpu-long, gpu, paper
seed: int = None  # first seed of the validation runs (None: from the profile, 0)
n_steps: int = None  # PM time steps of the validation runs (None: from the profile)
device: str = None  # "cpu" or "cuda" (None: cuda when available)
data_source: str = None  # "simulated" (the book's suites) or "published" (the papers' data, online) (None: simulated)
run_timing: bool = None  # measure the simulator's speed in this run (None: true)
results_dir: str = None  # folder to write the validation metrics (JSON) and figures (PNG) into, or None

# %% tags=["hide-input"]
# Validate the parameters: a wrong name, type or range stops here with one clear sentence.
# Every field of SimulationsConfig (sizes of the P(k) and lensing runs, ...) can be overridden the same way.
from gancosmo.params import collect as _collect
from gancosmo.sims.validation import SimulationsConfig

cfg = SimulationsConfig.from_parameters(**_collect(globals(), _before_parameters))

# %% tags=["hide-input"]
import json

import matplotlib.pyplot as plt
import numpy as np
import torch
from gancosmo.cosmology import Cosmology
from gancosmo.paths import committed_results
from gancosmo.scorecard import chapter_provenance, git_commit, provenance_text
from gancosmo.sims import fidelity as F
from gancosmo.sims import suites as S
from gancosmo.sims import validation as V
from gancosmo.viz import simulations as VS
from gancosmo.viz.common import show_figures_inline

show_figures_inline()
profile, seed, run_timing, results_dir, data_source = (
    cfg.profile,
    cfg.seed,
    cfg.run_timing,
    cfg.results_dir,
    cfg.data_source,
)
device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
print(f"profile {profile}, device {device}, torch {torch.__version__}")
metrics = dict(profile=profile, device=device, torch=torch.__version__, seed=seed)
figures = {}

# %% [markdown]
# ## 1. The cosmology, from pyccl
# `gancosmo.cosmology.Cosmology(omega_m, sigma8, h, omega_b, n_s)` is an immutable flat
# ΛCDM model backed by pyccl (Eisenstein-Hu transfer function, Takahashi et al. 2012
# halofit). It returns the book's units throughout: $k$ in $h$/Mpc, $P(k)$ in (Mpc/$h$)$^3$,
# distances in Mpc/$h$, and the growth factor normalised to $D(0)=1$. Here are the numbers
# the simulator uses for P1's cosmology.

# %%
cosmo_p1 = Cosmology(**S.P1_COSMOLOGY)
print(V.background_table(cosmo_p1, [0.0, 0.5, 1.0, 2.0, 3.0]))

# %% [markdown]
# ## 2. How the particle-mesh code works
#
# **Initial conditions.** A white-noise field is drawn on the particle lattice (on the CPU,
# so a seed gives the same universe on every device) and coloured by the linear power
# spectrum at $z=0$. Particles start from a lattice displaced by second-order Lagrangian
# perturbation theory (2LPT),
#
# $$
# \mathbf x = \mathbf q + D_1\boldsymbol\Psi_1 + D_2\boldsymbol\Psi_2,\qquad
# \boldsymbol\Psi_1=-\nabla\phi_1,\ \nabla^2\phi_1=\delta_L,\qquad
# \boldsymbol\Psi_2=\nabla\phi_2,\ \nabla^2\phi_2=\sum_{i<j}(\phi_{1,ii}\phi_{1,jj}-\phi_{1,ij}^2),
# $$
#
# with $D_2\simeq-\tfrac37 D_1^2\,\Omega_m(a)^{-1/143}$, at $z_{\rm init}=9$.
#
# **Time stepping.** With the canonical momentum $\mathbf p=a^3E(a)\,d\mathbf x/da$
# (units $H_0=1$), the equations of motion are $d\mathbf x/da=\mathbf p/(a^3E)$ and
# $d\mathbf p/da=\mathbf F/(a^2E)$ with $\mathbf F=-\nabla\psi$, $\nabla^2\psi=\tfrac32\Omega_m\delta$.
# Like FastPM (Feng et al. 2016), the kick and drift factors assume that within a step the
# momentum grows like the linear-theory momentum $g_p=a^3E\,dD/da$ and the position like
# $D$:
#
# $$
# \Delta\mathbf x=\mathbf p(a_c)\,\frac{D(a_1)-D(a_0)}{g_p(a_c)},\qquad
# \Delta\mathbf p=\mathbf F(a_c)\,\frac{g_p(a_1)-g_p(a_0)}{\tfrac32\Omega_m D(a_c)},
# $$
#
# so large scales grow exactly as linear theory whatever the number of steps (we use 10-30
# steps linear in $a$).
#
# **Forces.** Particles are painted on a periodic mesh with cloud-in-cell (CIC) weights; the
# Poisson equation is solved with FFTs and the force $i\mathbf k/k^2$ times the density is read
# back with the same CIC weights. Both assignments smooth the force by the CIC window
# $W(\mathbf k)=\prod_i\mathrm{sinc}^2(k_i\Delta/2)$, which we divide out. The lattice sits a
# quarter cell off the mesh nodes: a particle exactly on a node responds to a small
# displacement with a kink, which couples modes even in the linear regime.
#
# **What we measure.** `run_pm(cosmo, box_size, n_particles, redshifts, seed)` returns, at each
# requested redshift, the density $1+\delta$ painted on the particle lattice (mean 1; or on a
# coarser grid, `density_grid`) and the particle counts per voxel (P4's raw data). Outputs
# between two steps are drifted there.
#
# **What differs from the papers' simulators.** P1-P5 used tree or tree-PM codes (GADGET-2,
# L-PICOLA and others) with much higher force resolution. A PM code has force resolution of
# about two mesh cells, so our fields lack power on the smallest scales (see the ratio to
# halofit below). Everything that follows is measured and labelled at the resolution used.

# %%
cosmo = Cosmology(0.3, 0.8)
redshifts = [3.0, 1.0, 0.0]
n, box = cfg.pm_particles, cfg.pm_box_size
runs, pm_seconds = V.run_pm_seeds(cosmo, box, n, redshifts, seed, cfg.pm_runs, cfg.n_steps, device)
print(f"{len(runs)} runs of {n}^3 particles in ({box:g} Mpc/h)^3, {cfg.n_steps} steps: {pm_seconds:.1f} s")

# %% [markdown]
# ## 3. Validation: the matter power spectrum $P(k, z)$
# We measure $P(k)$ of the density with `gancosmo.stats.power_spectrum_3d` (Pylians-identical
# binning, one fundamental mode $k_f=2\pi/L$ per bin) after dividing out the CIC window of the
# output painting. The test suite requires the mean of two seeds to lie within 15% of halofit
# for $0.1 \le k \le k_{\rm Nyquist}/4$ at $z=0$ (64$^3$ particles in 256 Mpc/$h$).

# %%
pk_results = V.pk_against_theory(cosmo, runs, box, redshifts)
k_nyq = np.pi * n / box
figures["pk_validation"] = fig = VS.plot_pk_validation(
    pk_results,
    f"PM {n}$^3$ in ({box:g} Mpc/$h$)$^3$, {len(runs)} seeds, {cfg.n_steps} steps; $k_{{Ny}}$ = {k_nyq:.2f} $h$/Mpc",
)
plt.show()
metrics["pk"], text = V.pk_summary(pk_results, n, box)
print(text)

# %%
print(V.pk_shape_text(pk_results, k_nyq))

# %% [markdown]
# Large scales follow linear theory and halofit. Towards the Nyquist frequency $k_{\rm Ny}$ of
# the particle grid two effects compete: the force resolution runs out (less power), while the
# discreteness of the particles and the aliasing of the painting add power; the numbers above
# say which one wins at each redshift for this run. The low-$k$ bins scatter around the theory
# by cosmic variance: a few modes per bin. This is why every suite below keeps its scored
# scales well inside $k_{\rm Ny}$.
#
# **A finer force mesh.** With `force_factor=2` the force is computed on a mesh twice finer
# than the particle lattice. Done naively this breaks linear growth: the mesh then resolves the
# images of the lattice's own modes (at $\mathbf k + 2\pi\mathbf n/\Delta$), whose force aliases back
# and makes the fundamental mode grow 9% too fast. We paint and read out with the
# triangular-shaped cloud and filter the force above the particle Nyquist frequency (a cos$^2$
# taper from 1 to 1.5 $k_{\rm Ny}$): linear growth is then within 1.3% up to $k_{\rm Ny}/4$ (a
# test), and the small-scale power rises a few per cent towards halofit, for about three times
# the cost. The default stays `force_factor=1`.

# %%
fine, _ = V.run_pm_seeds(cosmo, box, n, [0.0], seed, len(runs), cfg.n_steps, device, force_factor=2)
fine_results = V.pk_against_theory(cosmo, fine, box, [0.0])[0.0]
metrics["pk"]["ratio_to_halofit_z0_force_factor_2"], text = V.force_factor_summary(pk_results[0.0], fine_results, k_nyq)
print(text)

# %% [markdown]
#
# ## 4. Validation: linear growth
# Because each run keeps its seed, the ratio of large-scale power at two redshifts cancels
# cosmic variance and should equal $(D(z)/D(z_{\rm ref}))^2$. The test suite requires 3% at
# $k<0.06\,h$/Mpc between $z=0$ and $z=3$ (for 64$^3$ particles in 256 Mpc/$h$; the reference run on
# a GPU in section 8 is compared with the same 3%). What remains is mode coupling: at $z=0$ even the
# largest modes of a 256 Mpc/$h$ box are a few per cent non-linear (halofit itself predicts
# $P_{\rm hf}/P_{\rm lin}\approx0.98$ at $k\approx0.04$), and with a handful of modes per bin that
# coupling is random from seed to seed.

# %%
check = V.growth_check(cosmo, runs, box, z_ref=3.0, redshifts=[1.0, 0.0])
figures["growth_check"] = fig = VS.plot_growth_check(
    check, 3.0, f"PM {n}$^3$, ({box:g} Mpc/$h$)$^3$, {len(runs)} seeds"
)
plt.show()
metrics["growth"], text = V.growth_summary(check, 3.0)
print(text)

# %% [markdown]
# ## 5. Born lensing: convergence maps
# The line of sight to the sources is cut into slabs half a box thick. For each slab a PM
# snapshot is taken at the slab's redshift, and its particles are projected onto six possible
# planes (three axes, two halves of the box): each particle belongs to one slab, and its
# transverse position is painted in 2D. Every map draws, independently for every plane, one
# of these projections, one of the eight symmetries of the square and a random periodic
# shift, then sums the planes with the Born lensing weight
#
# $$
# \kappa(\boldsymbol\theta)=\sum_i\tfrac32\Omega_m\left(\frac{H_0}{c}\right)^2(1+z_i)\,\chi_i\,q(\chi_i)\,\Sigma_i(\chi_i\boldsymbol\theta),
# \qquad q(\chi)=\Big\langle 1-\frac{\chi}{\chi_s}\Big\rangle_{n(z_s)},
# $$
#
# where $\Sigma_i$ is the overdensity integrated through the slab. This is what the ray-tracing
# suites of P1 and P2 did, minus the deflection of the rays (post-Born corrections are below
# a per cent of $C_\ell$ at these scales).
#
# **Source redshifts.** P1 used a single source plane at $z_s=1$. P2 used the non-tomographic
# KiDS-450 distribution of Fluri et al. (2019); we use the Smail form
# $n(z)\propto z^2\exp[-(z/0.5)^{1.5}]$ (mean redshift 0.75), close to that sample but not its
# exact histogram.
#
# **Anti-aliasing.** A map samples each plane at its pixel centres. Before that, every plane
# loses its transverse modes beyond the map's pixel Nyquist frequency at the plane's distance,
# $|k_x|,|k_y|>(\pi/\theta_{\rm pix})/\chi_i$, and beyond 1.5 times the particles' Nyquist
# frequency: without the first cut, the small-scale power of the distant planes folds onto the
# map's multipoles and $C_\ell$ rises towards the map's Nyquist multipole (by 2x over
# 7 arcmin pixels); without the second, the near planes add the particle lattice's own
# pattern and its discreteness noise (an excess that grows as $\sigma_8$ falls).
#
# **Resolution.** A map resolves $C_\ell$ as far as the particle mesh resolves $P(k)$ along the
# line of sight. The printout gives, per curve, the largest $\ell$ up to which the mean
# $C_\ell$ stays within 20% of pyccl's Limber integral. The test suite requires, at 128$^3$
# particles in 256 Mpc/$h$, the mean $C_\ell$ within 25% of pyccl's for $200\le\ell\le1000$, and
# the ratio $C_\ell(\sigma_8=0.9)/C_\ell(\sigma_8=0.7)$ within 10% of pyccl's.

# %%
lens = cfg.lensing
lensing = V.lensing_validation(lens, seed, device)
curves, ell_max, lens_seconds = lensing["curves"], lensing["ell_max"], lensing["seconds"]
title = f"{lens['n_maps']} maps of {lens['field_deg']:g}$^\\circ$ per curve, {lens['n_pix']}$^2$ px, PM {lens['n_particles']}$^3$ in {lens['box_size']:g} Mpc/$h$"
figures["cl_validation"] = fig = VS.plot_cl_validation(curves, title, ell_max=ell_max)
plt.show()
metrics["cl"], text = V.lensing_summary(lensing, lens)
print(text)

# %%
figures["lensing_maps"] = fig = VS.lensing_maps_gallery(curves, lens)
plt.show()

# %% [markdown]
# ## 6. The data suites
# Each later chapter trains on one named suite, generated by a function of
# `gancosmo.sims.suites` at a size set by the profile and cached on disk (HDF5 + JSON,
# keyed by a hash of the configuration, checksummed on every read; the ones shown here are
# generated once, before the chapters run). With `data_source="published"` this chapter
# reads the papers' own data instead, where it is public (P1's GAN samples, P2's
# KiDS-450-like maps, P4's cubes), through checksummed downloads; in any script,
# `load_suite(name, source="published")` does the same.
#
# The sizes of every suite per profile (`gancosmo.sims.suites.SIZES`) are printed below. The
# `cpu` and `cpu-long` profiles share one recipe per suite (resolution, pixel or cell, field or
# box) and differ only in how many samples they draw, from other seeds: the quick `cpu` run of a
# chapter can score the emulator trained at `cpu-long` on fresh data.
#
# **Reduced scale.** The papers' pixels and cells are finer than any particle mesh on two
# cores resolves: P1's maps have 0.2 arcmin pixels (multipoles up to $\ell\approx52{,}000$), P2's
# 2.3 arcmin ($\ell\approx4{,}600$), P3's cells are 1 Mpc ($k\approx3\,h$/Mpc). Below `paper`,
# the suites keep each paper's cosmology, sources and field or cube geometry, and coarsen the
# pixels over a larger field (P1: 64$^2$ pixels of 11 arcmin over 12$^\circ$; P2: 32$^2$ pixels over
# P2's 5$^\circ$) or the cells (P3: 2 Mpc/$h$), so that every scale the chapters score, up to the
# Nyquist frequency of the pixels or cells, is resolved: a fair reduced-scale reproduction,
# not a claim about P1's arcminute scales. P4's voxels keep P4's size (500/256 Mpc/$h$) and its
# 64 particles per voxel; the cubes have fewer voxels.
#
# This chapter generates P2 for five cosmologies only (the grid's centre and corners); the P2
# chapter generates the full grid.

# %%
print(F.sizes_table())

# %%
suites, text = V.load_book_suites(profile, data_source, device)
print(text)

# %%
fig = VS.p1_gallery(suites["p1"])
plt.show()
print(VS.p1_range_text(suites["p1"]))

# %%
fig = VS.p2_gallery(suites["p2"])
plt.show()

# %%
fig = VS.p3_gallery(suites["p3"])
plt.show()

# %%
fig = VS.p4_gallery(suites["p4"])
plt.show()

# %%
fig_3d, fig_2d = VS.p5_galleries(suites["p5"], suites["p5_2d"])
plt.show()

# %% [markdown]
# ### Do the suites carry the physics the chapters score?
# For each suite that a chapter scores, the table gives the largest scale up to which its mean
# spectrum lies within 20% of pyccl's halofit (`resolved_max`: $\ell$ for maps, Limber; $k$ in
# $h$/Mpc for cubes, from twice the fundamental mode, worst over P2's five cosmologies and P3's
# redshifts 0, 1 and 3), the largest scale the chapters score (`scored_max`: the Nyquist
# frequency of the pixels or cells), how long the suite took to generate, and whether the
# data differ from a lognormal field with the same power spectrum and one-point variance
# (`gancosmo.sims.fidelity`): the null's $\chi^2$/dof against held-out real samples beside the
# upper end of the same statistic over 39 real-vs-real splits, for the one-point PDF, peak
# counts and Minkowski functionals (maps) or the voxel PDF and the reduced bispectrum (cubes).
# Where the null is not distinguished, that statistic cannot show that an emulator learned
# more than a lognormal field.

# %%
entries = [F.measure_suite(name, profile, device=device) for name in F.MEASURED_SUITES]
metrics["suites"], text = F.suites_table(entries)
print(text)
provenance = dict(git_commit=git_commit(), **chapter_provenance("simulations", cfg))
written = F.write_suites_json(results_dir, profile, entries, provenance=provenance)
if written:
    print(written)
for other in ("cpu", "cpu-long", "gpu"):
    if other != profile:
        print(f"\nstored measurement of the {other} suites:\n" + F.committed_suites_text(other))

# %% [markdown]
# ## 7. Speed
# The table times full simulations in this run (2LPT, the steps and one output), and lists
# how long each suite took to generate when it was built (read from its cache metadata).
# GPU timings, measured on one H100 with the repository's `benchmarks/pm_speed.py`, are
# shown where they have been measured.

# %%
rows = V.speed_rows(cosmo, cfg.timing_particles, run_timing, lens, lens_seconds, suites, profile, device)
metrics["speed"], text = V.speed_table(rows)
print(text)
metrics.update(git_commit=git_commit(), **chapter_provenance("simulations", cfg))
written = V.write_results(results_dir, profile, metrics, figures)
if written:
    print(written)

# %% [markdown]
# ## 8. The reference run on a GPU
# The book's reference run of this chapter used the `gpu` profile on one NVIDIA H100 (four
# 256$^3$ runs in 256 Mpc/$h$, 30 steps; lensing from 256$^3$ runs, 400 maps per curve). Its
# metrics and figures are stored with the book and read back here, so the book shows them
# even where it is made without a GPU.

# %%
from IPython.display import Image, display

committed = committed_results() / "simulations"
gpu_json = committed / "validation_gpu.json"
if gpu_json.exists():
    print(provenance_text("simulations", "gpu"))
    print(V.reference_summary(json.loads(gpu_json.read_text())))
    for name in ("pk_validation", "growth_check", "cl_validation", "lensing_maps"):
        png = committed / f"{name}_gpu.png"
        if png.exists():
            display(Image(filename=str(png)))
else:
    print("no committed gpu results found")

# %% [markdown]
# ## Summary
# The particle mesh reproduces linear growth in the linear regime and pyccl's halofit $P(k)$ up
# to a fraction of the particle Nyquist frequency; beyond, a PM code lacks small-scale power, and
# every figure says which resolution it shows. Born convergence maps built from its lens planes
# follow pyccl's Limber $C_\ell$ up to a resolution-dependent multipole and respond to $\sigma_8$
# as theory says. Every suite a chapter scores is checked against the scales that chapter
# scores and against a lognormal field. This run's numbers:

# %%
print(V.chapter_summary(metrics))

# %% [markdown]
# ## What to read next
# - [The statistics](00_statistics.ipynb): how the book compares generated and simulated data.
# - Later chapters train the papers' GANs on these suites.
