"""P2 (conditional mass maps, Perraudin et al. 2021): the pipeline of chapter ``02_conditional_massmaps``.

Data (the 57 KiDS-450 cosmologies with P2's 46/11 split), a constant intensity scaling and
its inverse, conditional generation, the per-cosmology comparisons of P2's Figs. 5-10
(normalized pixel and peak W1, power spectrum and folded bispectrum fractional differences,
Minkowski functionals, correlation matrices with f_R, s_SSIM, the regressor FID), each also
computed between two disjoint halves of the real maps (the real-vs-real reference), and the
scorecard rows.

Units: maps are dimensionless convergence on 5 x 5 deg (128 px); multipoles ell; C_ell in sr.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import Delaunay

from ..scorecard import Row
from ..sims.suites import kids450_grid
from ..stats import (
    bispectrum_2d,
    fid_like,
    fractional_difference,
    frobenius_fr,
    minkowski_2d,
    ms_ssim_random_pairs,
    normalized_wasserstein1,
    peak_values,
    power_spectrum_2d,
    s_ssim,
)

__all__ = [
    "BISPEC_EDGES",
    "CORR_EDGES",
    "ELL_EDGES",
    "FIELD_DEG",
    "PAPER",
    "PROFILES",
    "MapScaler",
    "compare",
    "compare_grid",
    "generate",
    "grid_split",
    "inside_training_hull",
    "named_cosmologies",
    "scorecard_rows",
    "summary_curves",
]

FIELD_DEG = 5.0
#: Power spectrum bins: P2's code uses linspace(200, 6000, 200); our 128 px maps reach ell ~ 4600
#: (Nyquist) and bins narrower than the fundamental (72) are empty, so 24 bins from 200 to 4600.
ELL_EDGES = np.linspace(200.0, 4600.0, 25)
BISPEC_EDGES = np.linspace(200.0, 3000.0, 15)  # folded triangles, ratio 0.5: legs stay below Nyquist
CORR_EDGES = np.linspace(300.0, 3000.0, 11)  # "coarsely-binned C_ell in 300 <= ell <= 3000" (Fig. 8)

#: P2's numbers for its models A, B, C, D and its regressor (Sect. 5, Appendix B).
PAPER = dict(w1_pixel=(0.04, 0.02, 0.02, 0.02), w1_peak=(0.04, 0.03, 0.01, 0.02), f_r=(0.02, 0.14, 0.06, 0.06),
             s_ssim=(0.08, 0.23, -0.27, 0.42), fid_sqrt=(1.26, 1.44, 1.00, 1.19), regressor_mse=8.93e-5,
             f_cl="< 0.05", f_bl="~0.2 for two models")

#: Per-profile sizes. ``data``: overrides of the P2 suite (None: the suite's own profile sizes).
PROFILES = {
    "smoke": dict(data=dict(maps_per_cosmology=4, n_particles=32, n_steps=2, box_size=512.0), n_train_cosmologies=1,
                  width=2, batch_size=4, max_steps=2, epochs=None, critic_steps=5, lr=1e-4, regressor_width=2,
                  regressor_epochs=1.0, regressor_lr=3e-4, n_eval=4, n_pairs=4, explorer_grid=(2, 1, 2), n_latent_grid=2),
    "cpu": dict(data=dict(maps_per_cosmology=32, n_particles=32, n_steps=6, box_size=256.0), n_train_cosmologies=None,
                width=4, batch_size=16, max_steps=110, epochs=None, critic_steps=5, lr=1e-4, regressor_width=4,
                regressor_epochs=8.0, regressor_lr=3e-4, n_eval=32, n_pairs=10, explorer_grid=(4, 4, 2), n_latent_grid=4),
    "gpu": dict(data=None, n_train_cosmologies=None, width=32, batch_size=64, max_steps=None, epochs=20.0, critic_steps=5,
                lr=1e-5, regressor_width=32, regressor_epochs=20.0, regressor_lr=3e-5, n_eval=1000, n_pairs=500,
                explorer_grid=(9, 9, 4), n_latent_grid=5),
    "paper": dict(data=None, n_train_cosmologies=None, width=32, batch_size=64, max_steps=None, epochs=40.0, critic_steps=5,
                  lr=1e-5, regressor_width=32, regressor_epochs=20.0, regressor_lr=3e-5, n_eval=5000, n_pairs=5000,
                  explorer_grid=(9, 9, 4), n_latent_grid=5),
}


# -------------------------------------------------------------------------- the grid
def grid_split() -> dict:
    """Indices into the 57 cosmologies: ``train`` (46), ``test_interpolation`` (8), ``test_extrapolation`` (3)."""
    grid = kids450_grid()
    out = dict(train=[], test_interpolation=[], test_extrapolation=[])
    for i, g in enumerate(grid):
        out["train" if g["split"] == "train" else "test_extrapolation" if g["extrapolation"] else "test_interpolation"].append(i)
    return {k: np.array(v, dtype=int) for k, v in out.items()}


def named_cosmologies() -> dict:
    """Our models A-D, all test cosmologies: A the interpolation one nearest the grid centre,
    B, C, D the three extrapolation ones (grid edges: low Omega_m, high sigma_8, high Omega_m)."""
    grid, split = kids450_grid(), grid_split()
    om = np.array([g["omega_m"] for g in grid])
    s8 = np.array([g["sigma8"] for g in grid])
    d = ((om - np.median(om)) / om.std()) ** 2 + ((s8 - np.median(s8)) / s8.std()) ** 2
    interp = split["test_interpolation"]
    ext = sorted(split["test_extrapolation"], key=lambda i: (om[i], -s8[i]))
    centre = int(interp[np.argmin(d[interp])])
    return {"A": centre, "B": int(ext[0]), "C": int(ext[1]), "D": int(ext[2])}


def inside_training_hull(omega_m, sigma8) -> np.ndarray:
    """True where (Omega_m, sigma_8) lies inside the convex hull of the 46 training cosmologies."""
    grid = kids450_grid()
    pts = np.array([[g["omega_m"], g["sigma8"]] for g in grid if g["split"] == "train"])
    q = np.column_stack([np.ravel(omega_m), np.ravel(sigma8)]).astype(float)
    return Delaunay(pts).find_simplex(q) >= 0


# -------------------------------------------------------------------------- scaling and generation
class MapScaler:
    """Constant intensity scaling ``x / sigma`` (sigma: pixel std of the training maps) and its inverse."""

    def __init__(self, sigma: float):
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive finite pixel standard deviation, got {sigma!r}.")
        self.sigma = float(sigma)

    @classmethod
    def fit(cls, maps: np.ndarray) -> MapScaler:
        return cls(float(np.std(maps)))

    def forward(self, maps):
        return maps / self.sigma

    def inverse(self, scaled):
        return scaled * self.sigma


@torch.no_grad()
def generate(G, params, n: int, scaler: MapScaler, seed: int = 0, batch_size: int = 128, z=None) -> np.ndarray:
    """``n`` convergence maps ``(n, 128, 128)`` at ``params`` (one ``(Omega_m, sigma_8)`` pair or ``(n, 2)``).

    Latents are drawn from ``seed`` (the same seed gives the same latents at any parameters),
    or given as ``z`` ``(n, latent_dim)``.
    """
    dev = next(G.parameters()).device
    y = np.asarray(params, dtype=np.float32)
    y = np.tile(y, (n, 1)) if y.ndim == 1 else y
    if y.shape != (n, 2):
        raise ValueError(f"params must be (Omega_m, sigma_8) or an (n, 2) array with n = {n}, got shape {y.shape}.")
    if z is None:
        z = torch.randn(n, G.latent_dim, generator=torch.Generator().manual_seed(int(seed)))
    was = G.training
    G.eval()
    out = []
    for s in range(0, n, batch_size):
        out.append(G(z[s:s + batch_size].to(dev), torch.from_numpy(y[s:s + batch_size]).to(dev)).float()[:, 0].cpu().numpy())
    G.train(was)
    return scaler.inverse(np.concatenate(out)).astype(np.float32)


# -------------------------------------------------------------------------- comparisons
def _mean_abs(f: np.ndarray) -> float:
    f = np.asarray(f, float)
    f = f[np.isfinite(f)]
    return float(np.mean(np.abs(f))) if f.size else float("nan")


def compare(real: np.ndarray, other: np.ndarray, feat_real=None, feat_other=None, n_pairs: int = 40, seed: int = 0,
            fid_formula: str = "p2_text", data_range: float | None = None, ssim_real=None) -> dict:
    """P2's six grid metrics (Fig. 10) plus peak W1 between real maps and ``other`` maps of one cosmology.

    Returns ``s_ssim``, ``fid_sqrt`` (NaN without regressor features), ``w1_pixel``, ``w1_peak``,
    ``f_cl`` (mean |fractional difference| of C_ell), ``f_bl`` (same for the folded bispectrum),
    ``f_r`` (Eq. 3 on C_ell in 300 <= ell <= 3000). ``data_range`` is the MS-SSIM dynamic range
    (default: that of ``real``); ``ssim_real`` reuses MS-SSIM scores of ``real`` already computed.
    """
    real, other = np.asarray(real, np.float64), np.asarray(other, np.float64)
    dr = float(np.ptp(real)) if data_range is None else float(data_range)
    if ssim_real is None:
        ssim_real = ms_ssim_random_pairs(real.astype(np.float32), n_pairs, data_range=dr, seed=seed + 1)
    ss = s_ssim(ms_ssim_random_pairs(other.astype(np.float32), n_pairs, data_range=dr, seed=seed), ssim_real)
    _, cr = power_spectrum_2d(real, FIELD_DEG, ELL_EDGES)
    _, co = power_spectrum_2d(other, FIELD_DEG, ELL_EDGES)
    _, br = bispectrum_2d(real, FIELD_DEG, BISPEC_EDGES)
    _, bo = bispectrum_2d(other, FIELD_DEG, BISPEC_EDGES)
    keep = br.mean(0) != 0
    _, kr = power_spectrum_2d(real, FIELD_DEG, CORR_EDGES)
    _, ko = power_spectrum_2d(other, FIELD_DEG, CORR_EDGES)
    pr = np.concatenate(peak_values(real, neighbourhood=2, threshold=0.0))
    po = np.concatenate(peak_values(other, neighbourhood=2, threshold=0.0))
    fid = float("nan")
    if feat_real is not None and feat_other is not None and len(feat_real) > 2 and len(feat_other) > 2:
        fid = fid_like(feat_real, feat_other, sqrt=True, formula=fid_formula)
    return dict(s_ssim=ss, fid_sqrt=fid, w1_pixel=normalized_wasserstein1(real, other),
                w1_peak=normalized_wasserstein1(pr, po) if len(pr) > 1 and len(po) > 0 else float("nan"),
                f_cl=_mean_abs(fractional_difference(cr, co)), f_bl=_mean_abs(fractional_difference(br[:, keep], bo[:, keep])),
                f_r=frobenius_fr(kr, ko))


def compare_grid(real_by_cosmo: dict, fake_by_cosmo: dict, features: callable | None = None, n_pairs: int = 40,
                 seed: int = 0, fid_formula: str = "p2_text", progress: bool = True) -> dict:
    """For every cosmology: GAN vs real half A (``ours``) and real half B vs real half A (``reference``).

    ``real_by_cosmo[i]`` are the real maps of cosmology ``i`` (split in two halves), ``fake_by_cosmo[i]``
    generated maps (the first ``len(half B)`` are used, so both comparisons have the same sizes);
    ``features(maps) -> (n, 2)`` is the regressor for the FID.
    """
    from tqdm.auto import tqdm

    out = {}
    for i in tqdm(sorted(real_by_cosmo), desc="grid metrics", disable=not progress):
        real = real_by_cosmo[i]
        h = len(real) // 2
        a, b = real[:h], real[h:2 * h]
        f = fake_by_cosmo[i][:len(b)]
        fa = fb = ff = None
        if features is not None:
            fa, fb, ff = features(a), features(b), features(f)
        dr = float(np.ptp(a))
        sa = ms_ssim_random_pairs(a.astype(np.float32), n_pairs, data_range=dr, seed=seed + 1)
        out[i] = dict(ours=compare(a, f, fa, ff, n_pairs, seed, fid_formula, dr, sa),
                      reference=compare(a, b, fa, fb, n_pairs, seed, fid_formula, dr, sa),
                      n_real=len(a), n_other=len(b))
    return out


def summary_curves(real: np.ndarray, fake: np.ndarray) -> dict:
    """The curves of Figs. 5-8 for one cosmology: medians and 32/68% bands of pixel and peak
    histograms, C_ell, folded B_ell, V0-V2, and both correlation matrices."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    lo, hi = np.quantile(real, 0.001), np.quantile(real, 0.999)
    edges = np.linspace(lo, hi, 41)
    centers = 0.5 * (edges[1:] + edges[:-1])

    def hist(values_per_map):
        return np.array([np.histogram(np.clip(v, lo, hi), edges, density=True)[0] for v in values_per_map])

    out = dict(hist_x=centers)
    out["pixel"] = (hist(real.reshape(len(real), -1)), hist(fake.reshape(len(fake), -1)))
    out["peak"] = (hist(peak_values(real, neighbourhood=2, threshold=0.0)), hist(peak_values(fake, neighbourhood=2, threshold=0.0)))
    ell, cr = power_spectrum_2d(real, FIELD_DEG, ELL_EDGES)
    _, cf = power_spectrum_2d(fake, FIELD_DEG, ELL_EDGES)
    out["ell"], out["cl"] = ell, (cr, cf)
    lb, br = bispectrum_2d(real, FIELD_DEG, BISPEC_EDGES)
    _, bf = bispectrum_2d(fake, FIELD_DEG, BISPEC_EDGES)
    keep = br.mean(0) != 0
    out["ell_b"], out["bl"] = lb[keep], (br[:, keep], bf[:, keep])
    m, s = real.mean(), real.std()
    nu_edges = np.linspace(m - 1.5 * s, m + 4 * s, 26)
    nu, *vr = minkowski_2d(real, nu_edges)
    _, *vf = minkowski_2d(fake, nu_edges)
    out["nu"], out["minkowski"] = nu, (vr, vf)
    _, kr = power_spectrum_2d(real, FIELD_DEG, CORR_EDGES)
    _, kf = power_spectrum_2d(fake, FIELD_DEG, CORR_EDGES)
    out["corr"] = (np.corrcoef(kr, rowvar=False), np.corrcoef(kf, rowvar=False))
    out["f_r"] = frobenius_fr(kr, kf)
    return out


# -------------------------------------------------------------------------- scorecard
def scorecard_rows(grid_metrics: dict, named: dict, regressor_mse: float, regressor_ref: float, split: dict, n: dict) -> list[Row]:
    """Rows: each P2 number for models A-D beside ours and the real-vs-real reference, the
    regressor test MSE, and medians over the training and the test cosmologies (Fig. 10)."""
    rows = [Row("Regressor test MSE on (Omega_m, sigma_8) (App. B)", PAPER["regressor_mse"], regressor_mse, regressor_ref, "",
                f"20% of the maps of the training cosmologies held out ({n['regressor_test']} maps); reference column: "
                "MSE of always predicting the mean of the training labels")]
    names = dict(w1_pixel="Normalized W1, pixels (Fig. 5)", w1_peak="Normalized W1, peaks (Fig. 5)",
                 f_r="f_R, correlation matrices (Eq. 3, Fig. 8)", s_ssim="s_SSIM (Eq. 4)", fid_sqrt="FID^(1/2), regressor (Eq. 5)")
    for key, label in names.items():
        for k, (model, idx) in enumerate(named.items()):
            if idx not in grid_metrics:
                continue
            g = grid_metrics[idx]
            rows.append(Row(f"{label}, model {model}", PAPER[key][k], g["ours"][key], g["reference"][key], "",
                            f"cosmology {idx}; {g['n_real']} real vs {g['n_other']} GAN maps; reference {g['n_real']} vs {g['n_other']} real"))
    for key, label, paper in (("f_cl", "mean |f_Cl|, power spectrum (Fig. 6)", PAPER["f_cl"]),
                              ("f_bl", "mean |f_Bl|, folded bispectrum (Fig. 6)", PAPER["f_bl"])):
        for model, idx in named.items():
            if idx in grid_metrics:
                g = grid_metrics[idx]
                rows.append(Row(f"{label}, model {model}", paper, g["ours"][key], g["reference"][key], "", f"cosmology {idx}"))
    for part in ("train", "test"):
        ids = [i for i in grid_metrics if (i in set(split["train"])) == (part == "train")]
        if not ids:
            continue
        for key in ("s_ssim", "fid_sqrt", "w1_pixel", "f_cl", "f_bl", "f_r"):
            ours = np.nanmedian([abs(grid_metrics[i]["ours"][key]) for i in ids])
            ref = np.nanmedian([abs(grid_metrics[i]["reference"][key]) for i in ids])
            rows.append(Row(f"median |{key}| over the {len(ids)} {part} cosmologies (Fig. 10)", None, ours, ref, "",
                            "P2 shows these on a colour scale only"))
    return rows
