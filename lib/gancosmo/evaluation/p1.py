"""P1 (CosmoGAN, Mustafa et al. 2019): the evaluation pipeline of chapter ``01_cosmogan``.

Each function is one arrow of the chapter: split and tile the maps, select the generator
by P1's chi-squared statistic, then recompute every figure's numbers (pixel intensities,
power spectrum, its correlation matrices, Minkowski functionals, nearest training maps,
latent interpolation, generation speed) and turn them into scorecard rows.

Units: maps are dimensionless convergence; multipoles ``ell`` follow from the map side in
degrees (``FIELD_DEG`` for the full 256-pixel maps, less for tiles); C_ell in steradians.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.stats
import torch

from ..scorecard import Row
from ..stats import correlation, ks_ad_bootstrap, minkowski_2d, nearest_neighbours, power_spectrum_2d

__all__ = [
    "FIELD_DEG", "PAPER_PIX", "PROFILES", "split_parents", "tile_maps", "P1Data", "prepare_data",
    "ell_edges", "log_power", "chi2_histogram_distance", "ChiSquaredSelector", "generate",
    "pixel_comparison", "power_comparison", "correlation_comparison", "minkowski_thresholds",
    "minkowski_comparison", "nearest_training", "slerp", "interpolate", "generation_speed",
    "pairwise_min_distances", "birthday_paradox", "scorecard_rows", "PAPER",
]

#: Side of P1's 256-pixel maps in degrees (256 px crops of 1024 px maps over 12 deg^2).
FIELD_DEG = math.sqrt(12.0) / 4
PAPER_PIX = 256

#: P1's headline numbers (Sect. 3), as printed.
PAPER = dict(
    pixel_ks_p="> 0.999", n_modes=248, ps_ks_099=236, ps_ad_099=205, ps_ks_095=10, ps_ad_095=26,
    corr_gan_val=0.10, corr_val_aux=0.07, n_mf=57, mf_ks_095=40, mf_ad_095=32,
    maps_per_s=1024 / 15.0, distinct_maps=1e9, g_params_rows=12_824_449, g_params_printed="12.3M", d_params="4.4M",
)

#: Per-profile sizes of the chapter (training, evaluation). ``map_size`` < 256 means the
#: 256-pixel suite maps are cut into non-overlapping tiles of that side (the pixel scale,
#: hence the physics per pixel, is kept; the field shrinks). ``suite`` overrides the P1
#: suite's size for this chapter. The ``gpu`` run is sized by arithmetic from the measured
#: exploratory H100 run (3,200 steps of 64 maps in 94 s with model selection, 2,180 maps/s):
#: 88 epochs of 20,480 training maps = 28,160 steps, about 14 min of training, plus about
#: 2 min to simulate 32,768 maps and 4 min of evaluation. ``intensity_scale`` multiplies the
#: maps the networks see (generated maps are divided by it): 1 is P1's "no normalisation"
#: (``gpu``, ``paper``). The short ``cpu`` run uses 10: with the raw maps (pixel std 0.012,
#: a hundredth of the tanh range) 1,920 steps left the generated C_ell 1-2 dex below the
#: data's on large scales; scaled by 10 (pixel std 0.12, 1e-5 of pixels beyond +-1) the same
#: run came within 0.17 dex at every multipole (measured, one run each).
PROFILES = {
    "smoke": dict(base_filters=8, map_size=64, intensity_scale=10.0, epochs=1.0, select_epochs=0.5, select_every=1, batch_size=16,
                  n_select=32, n_generate=64, n_boot=5, n_nn=4, aux=dict(n_maps=8, n_sims=1), speed_maps=64, suite={}),
    "cpu": dict(base_filters=8, map_size=64, intensity_scale=10.0, epochs=48.0, select_epochs=2.0, select_every=5, batch_size=64,
                n_select=512, n_generate=1024, n_boot=20, n_nn=4, aux=dict(n_maps=128, n_sims=1), speed_maps=1024, suite={}),
    "gpu": dict(base_filters=64, map_size=256, intensity_scale=1.0, epochs=88.0, select_epochs=2.0, select_every=10, batch_size=64,
                n_select=1024, n_generate=6400, n_boot=20, n_nn=4, aux=dict(n_maps=1024, n_sims=2), speed_maps=6400,
                suite=dict(n_maps=32768)),
    "paper": dict(base_filters=64, map_size=256, intensity_scale=1.0, epochs=47.0, select_epochs=2.0, select_every=1, batch_size=64,
                  n_select=6400, n_generate=6400, n_boot=100, n_nn=4, aux=dict(n_maps=1000, n_sims=5), speed_maps=6400, suite={}),
}

SPLIT_FRACTIONS = (0.625, 0.25, 0.125)  # training, validation, development (of the parent maps)


# -------------------------------------------------------------------------- data
def split_parents(n: int, fractions=SPLIT_FRACTIONS, seed: int = 0) -> dict[str, np.ndarray]:
    """Disjoint random index sets ``training``, ``validation``, ``development`` over ``n`` maps.

    Each set gets at least one map (``n >= 3``); the sizes follow ``fractions`` otherwise.
    """
    if n < 3:
        raise ValueError(f"need at least 3 maps to split into training, validation and development; got {n}.")
    f = np.asarray(fractions, dtype=float)
    if f.shape != (3,) or (f <= 0).any():
        raise ValueError(f"fractions must be three positive numbers, got {fractions!r}.")
    f = f / f.sum()
    n_val = max(1, int(round(f[1] * n)))
    n_dev = max(1, int(round(f[2] * n)))
    n_train = n - n_val - n_dev
    if n_train < 1:
        raise ValueError(f"{n} maps leave no training maps with fractions {fractions!r}.")
    perm = np.random.default_rng(seed).permutation(n)
    return dict(training=np.sort(perm[:n_train]), validation=np.sort(perm[n_train:n_train + n_val]),
                development=np.sort(perm[n_train + n_val:]))


def tile_maps(maps: np.ndarray, size: int) -> np.ndarray:
    """Cut ``(N, n, n)`` maps into non-overlapping ``(N * (n // size)**2, size, size)`` tiles.

    Tiles of one map stay together (map 0's tiles first), so a split made on the maps
    carries over to the tiles.
    """
    maps = np.asarray(maps)
    n = maps.shape[-1]
    if size > n or n % size:
        raise ValueError(f"tile size {size} must divide the map side {n}.")
    k = n // size
    t = maps.reshape(maps.shape[0], k, size, k, size).transpose(0, 1, 3, 2, 4)
    return np.ascontiguousarray(t.reshape(-1, size, size))


@dataclass
class P1Data:
    """Training, validation, development and auxiliary maps, tiled to the model's side."""

    training: np.ndarray
    validation: np.ndarray
    development: np.ndarray
    auxiliary: np.ndarray
    side_deg: float
    parents: dict = field(default_factory=dict)

    def validation_halves(self) -> tuple[np.ndarray, np.ndarray]:
        """Two disjoint halves of the validation tiles for the real-vs-real reference.

        Parent maps are dealt alternately (in index order) to the two halves, and tiles
        follow their parent. Maps of one simulation share its large-scale structure, and
        the suite stores the maps of each simulation together, so alternating is what makes
        both halves sample every simulation alike; a first-half/second-half cut would
        compare different simulations and make even real maps look inconsistent.
        """
        n_parents = len(self.parents["validation"])
        if n_parents < 2:
            raise ValueError(f"the real-vs-real reference needs at least 2 validation maps, got {n_parents}.")
        per = len(self.validation) // n_parents
        tiles = self.validation.reshape(n_parents, per, *self.validation.shape[1:])
        return tiles[0::2].reshape(-1, *self.validation.shape[1:]), tiles[1::2].reshape(-1, *self.validation.shape[1:])

    def summary(self) -> str:
        return ", ".join(f"{k} {len(getattr(self, k))}" for k in ("training", "validation", "development", "auxiliary")) + \
            f" maps of {self.training.shape[-1]}^2 px, {self.side_deg:.4f} deg side"


def prepare_data(maps: np.ndarray, aux_maps: np.ndarray, map_size: int, seed: int = 0) -> P1Data:
    """Split the suite's maps (by parent map), then tile every set to ``map_size``."""
    parents = split_parents(len(maps), seed=seed)
    n = maps.shape[-1]
    sets = {k: tile_maps(maps[idx], map_size) for k, idx in parents.items()}
    return P1Data(auxiliary=tile_maps(aux_maps, map_size), side_deg=FIELD_DEG * map_size / n, parents=parents, **sets)


# -------------------------------------------------------------------------- power spectrum, model selection
def ell_edges(map_size: int, side_deg: float) -> np.ndarray:
    """One bin per fundamental ring, from the fundamental to the Nyquist multipole.

    ``map_size // 2`` edges spaced by ``ell_f = 360 / side_deg`` from ``ell_f`` (so
    ``map_size // 2 - 1`` bins; P1's lenstools binning gave 248 modes, not specified further).
    """
    ell_f = 360.0 / side_deg
    return ell_f * np.arange(1, map_size // 2 + 1, dtype=float)


def log_power(maps, side_deg: float, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ell, log10 C_ell)`` of a batch of maps (C_ell in sr)."""
    ell, cl = power_spectrum_2d(maps, side_deg, edges)
    return ell, np.log10(np.maximum(cl, 1e-30))


def chi2_histogram_distance(stat_fake: np.ndarray, stat_ref: np.ndarray, n_hist: int = 20) -> float:
    r"""P1's model-selection statistic: chi-squared distance between histograms, per bin.

    For every column (Fourier mode) the values of both samples are histogrammed on the
    same ``n_hist`` edges (the reference's range widened by half its width on each side;
    values outside go to the edge bins), normalised to unit sum, and
    :math:`\chi^2 = \sum_h (p_h - q_h)^2 / (p_h + q_h)` is averaged over the columns.
    It is 0 for identical samples and grows (to at most 2) as they separate.
    """
    a, b = np.atleast_2d(np.asarray(stat_fake, float)), np.atleast_2d(np.asarray(stat_ref, float))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the samples have {a.shape[1]} and {b.shape[1]} bins; accepted are samples with the same bins.")
    total = 0.0
    for j in range(a.shape[1]):
        lo, hi = b[:, j].min(), b[:, j].max()
        width = max(hi - lo, 1e-12 * max(abs(lo), 1.0))
        e = np.linspace(lo - 0.5 * width, hi + 0.5 * width, n_hist + 1)
        p = np.bincount(np.clip(np.searchsorted(e, a[:, j], side="right") - 1, 0, n_hist - 1), minlength=n_hist) / len(a)
        q = np.bincount(np.clip(np.searchsorted(e, b[:, j], side="right") - 1, 0, n_hist - 1), minlength=n_hist) / len(b)
        s = p + q
        ok = s > 0
        total += float(np.sum((p[ok] - q[ok]) ** 2 / s[ok]))
    return total / a.shape[1]


@torch.no_grad()
def generate(G, n: int, batch_size: int = 256, seed: int = 0, device=None) -> np.ndarray:
    """``n`` maps ``(n, H, W)`` float32 from ``G`` in eval mode, latents from ``seed``."""
    dev = torch.device(device) if device is not None else next(G.parameters()).device
    was_training = G.training
    G.eval()
    g = torch.Generator().manual_seed(int(seed))
    out = []
    try:
        for s in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - s), G.latent_dim, generator=g).to(dev)
            out.append(G(z).float()[:, 0].cpu().numpy())
    finally:
        G.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, G.map_size, G.map_size), np.float32)


class ChiSquaredSelector:
    """The ``statistic`` for :class:`gancosmo.train.Trainer`: chi-squared of log C_ell against the development set.

    Parameters
    ----------
    development : numpy.ndarray
        ``(N, H, W)`` development maps.
    side_deg : float
        Side of the maps in degrees.
    n_samples : int
        Generated maps per evaluation (P1: 6400).
    seed : int
        Latent seed (the same latents at every evaluation, so values are comparable).
    """

    def __init__(self, development: np.ndarray, side_deg: float, n_samples: int, seed: int = 0, batch_size: int = 256):
        self.side_deg, self.n_samples, self.seed, self.batch_size = side_deg, int(n_samples), seed, batch_size
        self.edges = ell_edges(development.shape[-1], side_deg)
        self.reference = log_power(development, side_deg, self.edges)[1]
        self.history: list[tuple[int, float]] = []
        self.best_step: int | None = None
        self.best_value: float | None = None
        self.best_state: dict | None = None  # a CPU copy of the generator's weights at the best step

    def __call__(self, G, step: int) -> float:
        fake = generate(G, self.n_samples, self.batch_size, self.seed)
        if not np.isfinite(fake).all():
            value = float("inf")
        else:
            value = chi2_histogram_distance(log_power(fake, self.side_deg, self.edges)[1], self.reference)
        self.history.append((int(step), value))
        if self.best_value is None or value < self.best_value:
            self.best_step, self.best_value = int(step), value
            self.best_state = {k: v.detach().cpu().clone() for k, v in G.state_dict().items()}
        return value


# -------------------------------------------------------------------------- figure computations
def pixel_comparison(real: np.ndarray, fake: np.ndarray, n_bins: int = 50, n_draws: int = 20, seed: int = 0) -> dict:
    """Fig. 2: pooled pixel-intensity histograms and a two-sample KS test.

    Pixels of one map are strongly correlated, and maps differ in their mean, so a KS test
    on all pixels rejects even two sets of real maps. The test here takes one random pixel
    per map (independent draws from the one-point distribution) from each set, ``n_draws``
    times, and reports the median p-value (P1 does not say how it sampled its pixels).
    """
    real, fake = np.asarray(real, float), np.asarray(fake, float)
    r, f = real.ravel(), fake.ravel()
    lo, hi = np.quantile(r, 1e-4), np.quantile(r, 1 - 1e-4)
    edges = np.linspace(lo, hi, n_bins + 1)
    hr, _ = np.histogram(np.clip(r, lo, hi), edges, density=True)
    hf, _ = np.histogram(np.clip(f, lo, hi), edges, density=True)
    rng = np.random.default_rng(seed)
    m = min(len(real), len(fake))
    pr, pf = real.reshape(len(real), -1), fake.reshape(len(fake), -1)
    pvals, stats = [], []
    for _ in range(n_draws):
        a = pr[rng.choice(len(pr), m, replace=False), rng.integers(0, pr.shape[1], m)]
        b = pf[rng.choice(len(pf), m, replace=False), rng.integers(0, pf.shape[1], m)]
        ks = scipy.stats.ks_2samp(a, b)
        pvals.append(ks.pvalue), stats.append(ks.statistic)
    return dict(centers=0.5 * (edges[1:] + edges[:-1]), real=hr, fake=hf, ks_p=float(np.median(pvals)),
                ks_stat=float(np.median(stats)), n_pixels=m, frac_real_in_unit=float(np.mean(np.abs(r) <= 1)),
                frac_fake_in_unit=float(np.mean(np.abs(f) <= 1)))


def power_comparison(real: np.ndarray, fake: np.ndarray, side_deg: float, n_boot: int = 20, seed: int = 0) -> dict:
    """Fig. 3: C_ell of both sets (sr) and per-mode bootstrapped KS/AD median p-values."""
    edges = ell_edges(real.shape[-1], side_deg)
    ell, cr = power_spectrum_2d(real, side_deg, edges)
    _, cf = power_spectrum_2d(fake, side_deg, edges)
    p = ks_ad_bootstrap(cr, cf, n_boot=n_boot, seed=seed)
    return dict(ell=ell, edges=edges, real=cr, fake=cf, ks=p["ks"], ad=p["ad"])


def correlation_comparison(cl_validation: np.ndarray, cl_gan: np.ndarray, cl_auxiliary: np.ndarray) -> dict:
    """Fig. 4: Pearson correlation matrices of C_ell across modes and their differences."""
    cv, cg, ca = correlation(cl_validation), correlation(cl_gan), correlation(cl_auxiliary)
    off = ~np.eye(len(cv), dtype=bool)
    return dict(validation=cv, gan=cg, auxiliary=ca, diff_gan=cv - cg, diff_aux=cv - ca,
                max_diff_gan=float(np.nanmax(np.abs(cv - cg)[off])), max_diff_aux=float(np.nanmax(np.abs(cv - ca)[off])),
                rms_diff_gan=float(np.sqrt(np.nanmean((cv - cg)[off] ** 2))), rms_diff_aux=float(np.sqrt(np.nanmean((cv - ca)[off] ** 2))))


def minkowski_thresholds(real: np.ndarray, n_thresholds: int = 19) -> np.ndarray:
    """``n_thresholds + 1`` edges from mean - 2 sigma to mean + 4 sigma of the real pixels (19 thresholds as P1)."""
    m, s = float(np.mean(real)), float(np.std(real))
    return np.linspace(m - 2 * s, m + 4 * s, n_thresholds + 1)


def minkowski_comparison(real: np.ndarray, fake: np.ndarray, thresholds: np.ndarray, n_boot: int = 20, seed: int = 0) -> dict:
    """Figs. 5-6: V0, V1, V2 at each threshold and bootstrapped KS/AD p-values (3 x 19 = 57 tests)."""
    nu, *vr = minkowski_2d(real, thresholds)
    _, *vf = minkowski_2d(fake, thresholds)
    out = dict(nu=nu, real=vr, fake=vf, ks=[], ad=[])
    for a, b in zip(vr, vf):
        p = ks_ad_bootstrap(a, b, n_boot=n_boot, seed=seed)
        out["ks"].append(p["ks"]), out["ad"].append(p["ad"])
    out["ks"], out["ad"] = np.array(out["ks"]), np.array(out["ad"])
    return out


def nearest_training(generated: np.ndarray, training: np.ndarray, side_deg: float) -> dict:
    """Fig. 7: nearest training map of each generated map in pixel L2 and in log C_ell L2."""
    edges = ell_edges(training.shape[-1], side_deg)
    ip, dp = nearest_neighbours(generated, training, k=1, metric="pixel")
    iw, dw = nearest_neighbours(generated, training, k=1, metric="power", side_deg=side_deg, ell_edges=edges)
    return dict(pixel_index=ip[:, 0], pixel_distance=dp[:, 0], power_index=iw[:, 0], power_distance=dw[:, 0], edges=edges)


def slerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    r"""Spherical linear interpolation (White 2016) between two latent vectors, ``(len(t), dim)``.

    :math:`\mathrm{slerp}(z_0, z_1; t) = \frac{\sin((1-t)\Omega)}{\sin\Omega} z_0 + \frac{\sin(t\Omega)}{\sin\Omega} z_1`
    with :math:`\cos\Omega = \hat z_0\cdot\hat z_1`; linear when the vectors are parallel.
    """
    z0, z1 = torch.as_tensor(z0, dtype=torch.float64), torch.as_tensor(z1, dtype=torch.float64)
    t = torch.as_tensor(np.asarray(t, dtype=float)).reshape(-1, 1)
    cos = torch.clamp(torch.dot(z0, z1) / (z0.norm() * z1.norm()), -1.0, 1.0)
    omega = torch.arccos(cos)
    if float(torch.sin(omega)) < 1e-6:
        return ((1 - t) * z0 + t * z1).float()
    return ((torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)).float()


@torch.no_grad()
def interpolate(G, n_rows: int = 3, n_steps: int = 8, seed: int = 0) -> np.ndarray:
    """Fig. 8: ``(n_rows, n_steps, H, W)`` maps along slerp paths between random latent pairs."""
    dev = next(G.parameters()).device
    g = torch.Generator().manual_seed(int(seed))
    was_training = G.training
    G.eval()
    rows = []
    try:
        for _ in range(n_rows):
            z0, z1 = torch.randn(2, G.latent_dim, generator=g)
            rows.append(G(slerp(z0, z1, np.linspace(0, 1, n_steps)).to(dev)).float()[:, 0].cpu().numpy())
    finally:
        G.train(was_training)
    return np.stack(rows)


def generation_speed(G, n_maps: int, batch_size: int = 256) -> dict:
    """Maps per second of ``G`` in eval mode on its device (after one warm-up batch)."""
    dev = next(G.parameters()).device
    generate(G, min(batch_size, n_maps), batch_size)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    generate(G, n_maps, batch_size, seed=1)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    return dict(n_maps=n_maps, seconds=dt, maps_per_s=n_maps / dt, device=str(dev))


def _pooled(maps, pool: int, device) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(maps, dtype=np.float32), device=device)[:, None]
    if pool > 1:
        x = torch.nn.functional.avg_pool2d(x, pool)
    return x.flatten(1).double()


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(len(a), len(b))`` squared L2 distances between the rows of ``a`` and ``b``."""
    return ((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T).clamp_min(0)


def pairwise_min_distances(maps, pool: int = 4, chunk: int = 1024, device=None) -> np.ndarray:
    """For each map, the L2 distance to its nearest *other* map of the same set, ``(N,)``.

    Distances are taken between ``pool x pool``-averaged maps (average pooling only brings
    maps closer, so a pair that is not close after pooling is not close before), in chunks
    of ``chunk`` rows on ``device`` (default: CUDA when available).
    """
    if pool < 1 or int(pool) != pool:
        raise ValueError(f"pool must be a positive integer, got {pool!r}.")
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = _pooled(maps, int(pool), dev)
    if len(x) < 2:
        raise ValueError(f"need at least 2 maps to measure distances between them, got {len(x)}.")
    out = torch.empty(len(x), dtype=torch.float64, device=dev)
    for s in range(0, len(x), chunk):
        d2 = _squared_distances(x[s:s + chunk], x)
        rows = torch.arange(s, min(s + chunk, len(x)), device=dev)
        d2[rows - s, rows] = float("inf")
        out[s:s + chunk] = d2.min(1).values.sqrt()
    return out.cpu().numpy()


def birthday_paradox(generated, real, pool: int = 4, fraction: float = 0.5, device=None) -> dict:
    """How many distinct maps can the generator make? A birthday-paradox estimate (P1 Sect. 3).

    If a generator could only produce ``N`` equally likely maps, a batch of ``m`` draws would
    hold on average ``m (m - 1) / (2 N)`` coinciding pairs. The generated maps are cut into
    batches of ``m = min(len(real), len(generated))``; within each batch we count
    *near-duplicate* pairs: pairs closer (in pooled pixel L2) than ``fraction`` times the
    closest pair among the ``m`` real maps, a scale that distinct maps of the real
    distribution do not reach. With ``n`` such pairs over ``P`` examined pairs the support
    is estimated as ``P / n``; with none, the 95% Poisson upper limit of 3 expected pairs
    gives the lower bound ``P / 3``. A batch of ``m`` maps can only certify a support of
    order ``m^2``, which is why P1's bound needed many maps.

    Returns
    -------
    dict
        ``n_generated``, ``n_real``, ``batch``, ``threshold``, ``closest_generated``,
        ``pairs_examined``, ``n_duplicate_pairs``, ``support_estimate`` (None when no pair
        was found), ``support_lower_bound_95`` (None when pairs were found), ``pool``.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}.")
    m = min(len(real), len(generated))
    if m < 2:
        raise ValueError(f"need at least 2 real and 2 generated maps, got {len(real)} and {len(generated)}.")
    threshold = fraction * float(pairwise_min_distances(real[:m], pool, device=device).min())
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    n_pairs, closest, examined = 0, float("inf"), 0
    for a in range(0, len(generated) - m + 1, m):
        x = _pooled(generated[a:a + m], int(pool), dev)
        d = _squared_distances(x, x).sqrt()
        d = d[torch.triu(torch.ones(m, m, dtype=torch.bool, device=dev), diagonal=1)]
        closest = min(closest, float(d.min()))
        n_pairs += int((d < threshold).sum())
        examined += m * (m - 1) // 2
    return dict(n_generated=len(generated), n_real=len(real), batch=m, threshold=threshold, closest_generated=closest,
                pairs_examined=examined, n_duplicate_pairs=n_pairs, support_estimate=examined / n_pairs if n_pairs else None,
                support_lower_bound_95=examined / 3.0 if not n_pairs else None, pool=int(pool))


# -------------------------------------------------------------------------- scorecard
def _frac(p: np.ndarray, level: float) -> float:
    return float(np.mean(np.asarray(p) > level))


def scorecard_rows(ours: dict, ref: dict, corr: dict, speed: dict, n: dict, birthday: dict | None = None) -> list[Row]:
    """Scorecard rows of P1's headline numbers.

    ``ours`` and ``ref`` hold ``pixel``, ``power``, ``minkowski`` results of
    GAN-vs-validation-half-A and validation-half-B-vs-A (the same sample sizes); ``corr``
    is :func:`correlation_comparison`; ``n`` holds the sample sizes for the notes;
    ``birthday`` is :func:`birthday_paradox` (optional).
    """
    pw, pr = ours["power"], ref["power"]
    nm = len(pw["ks"])
    mw, mr = ours["minkowski"], ref["minkowski"]
    sizes = f"{n['real']} real vs {n['fake']} GAN maps; reference: {n['real']} vs {n['reference']} real"
    rows = [
        Row("KS p-value, pixel intensities (Fig. 2)", PAPER["pixel_ks_p"], ours["pixel"]["ks_p"], ref["pixel"]["ks_p"], "",
            f"median over 20 draws of one random pixel per map ({ours['pixel']['n_pixels']} per set); P1: 1000 vs 1000 maps, sampling not stated"),
        Row("Fraction of modes with bootstrapped KS p > 0.99 (Fig. 3)", PAPER["ps_ks_099"] / PAPER["n_modes"],
            _frac(pw["ks"], 0.99), _frac(pr["ks"], 0.99), "", f"P1: 236 of 248 modes; ours of {nm}; {sizes}"),
        Row("Fraction of modes with bootstrapped AD p > 0.99 (Fig. 3)", PAPER["ps_ad_099"] / PAPER["n_modes"],
            _frac(pw["ad"], 0.99), _frac(pr["ad"], 0.99), "", "P1: 205 of 248; scipy caps AD p-values at 0.25, so none can exceed 0.99 here"),
        Row("Fraction of modes with bootstrapped KS p > 0.95 (Fig. 3)", (PAPER["ps_ks_099"] + PAPER["ps_ks_095"]) / PAPER["n_modes"],
            _frac(pw["ks"], 0.95), _frac(pr["ks"], 0.95), "", "P1: 246 of 248"),
        Row("Fraction of modes with bootstrapped AD p > 0.2 (Fig. 3)", None,
            _frac(pw["ad"], 0.2), _frac(pr["ad"], 0.2), "", "our stand-in for P1's AD rows (capped scale)"),
        Row("Median over modes of the bootstrapped KS p-value (Fig. 3)", None,
            float(np.median(pw["ks"])), float(np.median(pr["ks"])), "",
            "P1's p > 0.99 counts are not reached even real vs real with our sample sizes; the median compares GAN and reference directly"),
        Row("Max |difference| of C_ell correlation matrices, validation vs GAN (Fig. 4)", PAPER["corr_gan_val"],
            corr["max_diff_gan"], corr["max_diff_aux"], "", "reference = validation vs auxiliary set (P1: 0.07)"),
        Row("Max |difference| of C_ell correlation matrices, validation vs auxiliary (Fig. 4)", PAPER["corr_val_aux"],
            corr["max_diff_aux"], None, "", f"{n['validation']} validation vs {n['auxiliary']} auxiliary maps"),
        Row("Fraction of Minkowski tests (3 x 19 thresholds) with KS p > 0.95 (Figs. 5-6)", PAPER["mf_ks_095"] / PAPER["n_mf"],
            _frac(mw["ks"], 0.95), _frac(mr["ks"], 0.95), "", f"P1: 40 of 57; {sizes}"),
        Row("Fraction of Minkowski tests with AD p > 0.2 (Figs. 5-6)", None,
            _frac(mw["ad"], 0.2), _frac(mr["ad"], 0.2), "", "P1: AD p > 0.95 for 32 of 57 (not reachable with scipy's cap)"),
        Row("Median over the 57 Minkowski tests of the bootstrapped KS p-value (Figs. 5-6)", None,
            float(np.median(mw["ks"])), float(np.median(mr["ks"])), "", sizes),
        Row("Generation speed (Sect. 3.1)", PAPER["maps_per_s"], speed["maps_per_s"], None, "maps/s",
            f"ours: {speed['n_maps']} maps of {n['map_size']}^2 px on {speed['device']}; P1: 1024 maps of 256^2 in ~15 s on a Titan X Pascal"),
    ]
    if birthday is not None:
        b = birthday
        ours_support = b["support_estimate"] if b["n_duplicate_pairs"] else f">= {b['support_lower_bound_95']:.3g}"
        rows.append(Row("Distinct maps the generator can make (birthday paradox, Sect. 3)", ">= 1e9", ours_support, None, "maps",
                        f"{b['n_duplicate_pairs']} near-duplicate pairs in {b['pairs_examined']:,} pairs of generated maps (batches of {b['batch']}; "
                        f"closer than half the closest pair of {b['batch']} real maps, {b['pool']}x{b['pool']}-pooled pixel L2); "
                        f"a batch of m maps can only certify about m^2"))
    return rows
