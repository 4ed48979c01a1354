"""Configuration of chapter ``00_statistics`` (the statistics on random fields, and their speed)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ChapterConfig, option

__all__ = [
    "StatisticsConfig",
    "map_summaries",
    "compare_map_summaries",
    "protocol_example",
    "to_tensors",
    "gaussian_minkowski",
    "minkowski_theory",
    "comparison_table",
    "similarity_checks",
    "max_relative_difference",
    "reference_agreement",
    "speed_tables",
]


@dataclass(frozen=True)
class StatisticsConfig(ChapterConfig):
    """Sample sizes of the chapter's Gaussian and lognormal maps and cubes."""

    seed: int = option(doc="seed of every random field in this chapter", low=0)
    n_maps: int = option(doc="maps per sample", low=4)
    n_pix: int = option(doc="map side in pixels", low=32, high=2048)
    n_cubes: int = option(doc="cubes per sample", low=2)
    n_mesh: int = option(doc="cube side in voxels (1 Mpc/h voxels)", low=16, high=512)
    device: str | None = option(
        doc="'cpu' or 'cuda' (None: cuda when available)", choices=("cpu", "cuda"), nullable=True, default=None
    )
    run_benchmark: bool = option(doc="time ours against the references in this run", default=True)

    def check(self) -> None:
        import torch

        from ..params import ParameterError

        if self.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError(
                "parameter 'device' is 'cuda' but no CUDA device is available; accepted here are 'cpu' or None."
            )


StatisticsConfig.PROFILES = {
    "smoke": StatisticsConfig(profile="smoke", seed=0, n_maps=8, n_pix=64, n_cubes=2, n_mesh=32),
    "cpu": StatisticsConfig(profile="cpu", seed=0, n_maps=64, n_pix=128, n_cubes=8, n_mesh=64),
    "gpu": StatisticsConfig(profile="gpu", seed=0, n_maps=1000, n_pix=256, n_cubes=64, n_mesh=128),
    "paper": StatisticsConfig(profile="paper", seed=0, n_maps=5000, n_pix=256, n_cubes=30, n_mesh=256),
}


def map_summaries(maps, side_deg: float, ell_edges, pdf_edges, mf_edges) -> dict:
    """Per-map summaries the protocol example compares: C_ell (sr), pixel PDF, V0/V1/V2 and peak counts.

    Every value is ``(n_maps, n_bins)``: one row per map, so a real-vs-real split only indexes rows.
    """
    import numpy as np

    from . import minkowski_2d, peak_counts_2d, pixel_histogram, power_spectrum_2d

    _, cl = power_spectrum_2d(maps, side_deg, ell_edges)
    _, pdf = pixel_histogram(maps, pdf_edges, unbounded=True, density=True)
    _, v0, v1, v2 = minkowski_2d(maps, mf_edges)
    _, peaks = peak_counts_2d(maps, pdf_edges, differential=False)
    return dict(cl=cl, pdf=pdf, minkowski=np.concatenate([v0, v1, v2], axis=1), peaks=peaks)


def compare_map_summaries(real: dict, other: dict) -> dict:
    """:func:`gancosmo.evaluation.binned.binned_comparison` of every summary of :func:`map_summaries`."""
    from ..evaluation.binned import binned_comparison

    out = {}
    for name in real:
        out.update(binned_comparison(real[name], other[name], name))
    return out


def protocol_example(real_pool, candidates: dict, null, side_deg: float, n: int, seed: int = 0) -> dict:
    """Score each candidate sample against real maps by the book's protocol (``PROTOCOL.md``).

    Parameters
    ----------
    real_pool : numpy.ndarray
        ``(N, n_pix, n_pix)`` real maps, each its own parent (independent fields).
    candidates : dict
        Name -> ``(>= n, n_pix, n_pix)`` maps of a would-be emulator.
    null : numpy.ndarray
        ``(>= n, n_pix, n_pix)`` maps of the null emulator.
    n : int
        Maps on each side of every comparison.

    Returns
    -------
    dict
        Name -> scorecard rows (chi^2/dof and mean |f| of C_ell, pixel PDF, Minkowski functionals
        and peak counts, and the fraction of PDF bins where KS rejects at 5%) with band,
        reference, verdict and the null's verdict.
    """
    import numpy as np

    from ..evaluation.protocol import binned_row_specs, real_vs_real_splits, rows_from_scores, score

    sigma = float(np.std(real_pool))
    mean = float(np.mean(real_pool))
    ell_f = 360.0 / side_deg
    n_pix = real_pool.shape[-1]
    ell_edges = ell_f * np.geomspace(1.0, n_pix / 2, 9)
    pdf_edges = np.linspace(mean - 2.5 * sigma, mean + 5 * sigma, 16)
    mf_edges = np.linspace(mean - 2 * sigma, mean + 4 * sigma, 10)
    summarise = lambda m: map_summaries(m, side_deg, ell_edges, pdf_edges, mf_edges)  # noqa: E731
    real = summarise(real_pool)
    null_features = summarise(null)
    splits = real_vs_real_splits(np.arange(len(real_pool)), n, seed=seed)
    specs = [
        spec
        for s, label in (
            ("cl", "C_ell"),
            ("pdf", "pixel PDF"),
            ("minkowski", "Minkowski V0, V1, V2"),
            ("peaks", "peak counts"),
        )
        for spec in binned_row_specs(s, label, ("chi2_dof", "mean_abs_frac"))
    ]
    specs += binned_row_specs("pdf", "pixel PDF", ("ks_reject",))
    return {
        name: rows_from_scores(specs, score(compare_map_summaries, real, splits, summarise(maps), null_features))
        for name, maps in candidates.items()
    }


def to_tensors(device, *arrays) -> tuple:
    """Each array as a float32 torch tensor on ``device``."""
    import torch

    return tuple(torch.as_tensor(a, dtype=torch.float32, device=device) for a in arrays)


def gaussian_minkowski(gaussian_maps) -> tuple:
    """sigma_0, the chapter's 61 thresholds in [-3 sigma_0, 3 sigma_0], and sigma_1 of Gaussian maps.

    Parameters
    ----------
    gaussian_maps : numpy.ndarray
        ``(B, n_pix, n_pix)`` maps of kappa (dimensionless).

    Returns
    -------
    tuple
        ``(s0, thresholds, s1)``: sigma_0 = std of kappa, the thresholds (units of kappa), and
        sigma_1 = rms of the central-difference gradient (kappa per pixel).
    """
    import numpy as np

    s0 = float(gaussian_maps.std())
    gx = (np.roll(gaussian_maps, -1, 2) - np.roll(gaussian_maps, 1, 2)) / 2
    gy = (np.roll(gaussian_maps, -1, 1) - np.roll(gaussian_maps, 1, 1)) / 2
    s1 = float(np.sqrt((gx**2 + gy**2).mean()))
    return s0, np.linspace(-3 * s0, 3 * s0, 61), s1


def minkowski_theory(t, s0: float, s1: float) -> tuple:
    """Gaussian-field V0 (area fraction), V1 (pixel^-1 per unit kappa) and V2 (pixel^-2) at nu / sigma_0 = t."""
    import numpy as np
    from scipy.special import erfc

    return (
        0.5 * erfc(t / np.sqrt(2)),
        s1 / (8 * np.sqrt(2) * s0) * np.exp(-(t**2) / 2),
        s1**2 / (2 * s0**2) / (2 * np.pi) ** 1.5 * t * np.exp(-(t**2) / 2),
    )


def comparison_table(real, good, bad, side_deg: float, thresholds, seed: int) -> dict:
    """Section 3's two-sample comparison of a good and a bad "generated" sample with the real maps.

    Parameters
    ----------
    real, good, bad : tuple
        ``(numpy maps, torch maps)`` of each sample, ``(B, n_pix, n_pix)``, kappa (dimensionless).
    side_deg : float
        Map side in degrees.
    thresholds : numpy.ndarray
        Peak-count bin edges (units of kappa).
    seed : int
        Seed of the KS/AD bootstrap.

    Returns
    -------
    dict
        ``text``: the printed table (W1 of pixels and peaks, max |f| of C_ell, median KS p-value, f_R,
        S* of C_ell and peaks, and the real-vs-real reference S*); ``edges``: the 30 multipole edges;
        ``spectra``: panel title -> ``(B, 29)`` C_ell in sr of each sample.
    """
    import numpy as np

    from . import (
        fractional_difference,
        frobenius_fr,
        ks_ad_bootstrap,
        normalized_wasserstein1,
        peak_counts_2d,
        peak_values,
        power_spectrum_2d,
        reference_s_star,
        s_star,
    )

    pedges = np.linspace(300.0, 6000.0, 30)
    p_real = power_spectrum_2d(real[1], side_deg, pedges)[1]
    p_good = power_spectrum_2d(good[1], side_deg, pedges)[1]
    p_bad = power_spectrum_2d(bad[1], side_deg, pedges)[1]
    pk_bad_peaks = peak_counts_2d(bad[1], thresholds, differential=False)[1]
    pk_real_peaks = peak_counts_2d(real[1], thresholds, differential=False)[1]
    pk_good_peaks = peak_counts_2d(good[1], thresholds, differential=False)[1]
    rows = []
    for name, (pmap, ptensor), ps, pks in (
        ("lognormal (good)", good, p_good, pk_good_peaks),
        ("Gaussian (bad)", bad, p_bad, pk_bad_peaks),
    ):
        w1_pix = normalized_wasserstein1(real[0], pmap)
        w1_peak = normalized_wasserstein1(
            np.concatenate(peak_values(real[1], 2, threshold=0.0)),
            np.concatenate(peak_values(ptensor, 2, threshold=0.0)),
        )
        frac = np.abs(fractional_difference(p_real, ps)).max()
        ks = ks_ad_bootstrap(p_real, ps, n_boot=5, seed=seed)
        fr = frobenius_fr(p_real, ps)
        keep = pk_real_peaks.mean(0) > 1
        score_ps = s_star(p_real, ps)
        score_peaks = s_star(pk_real_peaks[:, keep], pks[:, keep])
        rows.append((name, w1_pix, w1_peak, frac, np.median(ks["ks"]), fr, score_ps, score_peaks))
    ref_ps = reference_s_star(p_real)
    lines = [
        f"{'generated sample':18s} {'W1 pix':>7s} {'W1 peak':>8s} {'max|f_Cl|':>9s} {'KS p':>6s} {'f_R':>6s} "
        f"{'S*(Cl)':>8s} {'S*(peaks)':>9s}"
    ]
    for r in rows:
        lines.append(f"{r[0]:18s} {r[1]:7.3f} {r[2]:8.3f} {r[3]:9.3f} {r[4]:6.3f} {r[5]:6.3f} {r[6]:8.2f} {r[7]:9.2f}")
    lines.append(f"reference S*(Cl), real half vs half: {ref_ps:.2f}   ({len(real[0])} maps per sample)")
    spectra = {"real (lognormal)": p_real, "generated, good": p_good, "generated, bad": p_bad}
    return dict(text="\n".join(lines), edges=pedges, spectra=spectra)


def similarity_checks(real, real_numpy, good, seed: int) -> dict:
    """Section 3's MS-SSIM, Sørensen-Dice and nearest-neighbour checks.

    SSIM needs a dynamic range: the heavy lognormal tail would make every pair look alike, so the
    maps are clipped to the real sample's 0.5-99.5 percentile range, used as ``data_range``.

    Parameters
    ----------
    real : torch.Tensor
        ``(B, n_pix, n_pix)`` real maps, kappa (dimensionless).
    real_numpy : numpy.ndarray
        The same maps as numpy (for the percentiles).
    good : torch.Tensor
        ``(B, n_pix, n_pix)`` maps of a good generator (an independent real sample).
    seed : int
        Seed of the random pairs and of the noise.

    Returns
    -------
    dict
        ``npairs``; ``ssim``: sample name -> MS-SSIM of random pairs (real, good generator, a
        mode-collapsed generator of B/8 distinct maps); ``percents``; ``dice`` ``(B, n_percents)``
        of real maps vs noisy copies (as an autoencoder returns them, P5); ``r_mean``, ``r_std``
        of random pairs; ``normalized`` and ``significance`` (P5's eq. 10); ``text``: the nearest
        training neighbours of 8 generated maps and of 8 memorized ones.
    """
    import numpy as np
    import torch

    from . import (
        dice_random_baseline,
        dice_scores,
        dice_top_percent,
        ms_ssim_random_pairs,
        nearest_neighbours,
    )

    nm = len(real)
    npairs = min(200, nm * (nm - 1) // 2)
    lo, hi = np.percentile(real_numpy, [0.5, 99.5])
    rng = float(hi - lo)
    collapsed = good[: max(2, nm // 8)].repeat(8, 1, 1)[:nm]  # a mode-collapsed "generator": nm/8 distinct maps
    ssim = {}
    for i, (name, maps) in enumerate(
        (("real", real), ("good generator", good), ("mode-collapsed generator", collapsed))
    ):
        ssim[name] = ms_ssim_random_pairs(
            maps.clamp(float(lo), float(hi)), n_pairs=npairs, data_range=rng, seed=seed + i
        )
    percents = np.arange(5, 100, 5)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    noisy = real + 0.5 * float(real.std()) * torch.randn(real.shape, generator=gen).to(real.device)
    dice = dice_top_percent(real, noisy, percents)
    r_mean, r_std = dice_random_baseline(real, percents, n_pairs=npairs, seed=seed)
    norm, signif = dice_scores(dice, r_mean, r_std)
    idx, dist = nearest_neighbours(good[:8], real, k=1)
    idx_mem, _ = nearest_neighbours(real[:8] + 1e-3 * float(real.std()), real, k=1)
    text = (
        f"nearest training map of 8 generated maps (index, pixel L2): "
        f"{list(zip(idx[:, 0].tolist(), np.round(dist[:, 0], 3).tolist()))}\n"
        f"a memorizing generator is caught: nearest indices {idx_mem[:, 0].tolist()}"
    )
    return dict(
        npairs=npairs,
        ssim=ssim,
        percents=percents,
        dice=dice,
        r_mean=r_mean,
        r_std=r_std,
        normalized=norm,
        significance=signif,
        text=text,
    )


def max_relative_difference(a, b) -> float:
    """max |a - b| / |b| over the bins, with |b| floored at 1e-9 of its maximum (empty bins)."""
    import numpy as np

    b = np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-9 * np.abs(b).max())))


def reference_agreement(root, thetas) -> str:
    """Section 4's table: worst relative difference to lenstools' golden files and to Pylians, live.

    Parameters
    ----------
    root : pathlib.Path
        The repository root (``tests/golden/stats`` and ``oracle/recipe.py``).
    thetas : numpy.ndarray
        Angles of the 3D bispectrum, radians.

    Returns
    -------
    str
        The printed table: statistic, reference, max relative difference, tolerance; rows whose
        reference is missing are skipped (with one sentence for Pylians).
    """
    import contextlib
    import importlib.util
    import io
    import json

    import numpy as np

    from . import (
        bispectrum_2d,
        bispectrum_3d,
        fields,
        minkowski_2d,
        peak_counts_2d,
        power_spectrum_2d,
        power_spectrum_3d,
    )

    rel = max_relative_difference
    golden_dir = root / "tests" / "golden" / "stats"
    table, lines = [], []
    if (golden_dir / "lenstools_maps.npz").exists():
        spec = importlib.util.spec_from_file_location("recipe", root / "oracle" / "recipe.py")
        recipe = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(recipe)
        gold = dict(np.load(golden_dir / "lenstools_maps.npz"))
        meta = json.loads((golden_dir / "lenstools_meta.json").read_text())
        inputs = recipe.build_inputs()
        worst = {}
        for case, d in inputs.items():
            m, sd = d["maps"], d["side_deg"]
            g = {k[len(case) + 1 :]: v for k, v in gold.items() if k.startswith(f"{case}/")}
            checks = {
                "power spectrum": rel(power_spectrum_2d(m, sd, g["ell_edges_p2"])[1], g["power_p2"]),
                "Minkowski V0,V1,V2": max(
                    rel(v, g[f"minkowski_p2/{j}"]) for j, v in enumerate(minkowski_2d(m, g["thresholds_p2"])[1:])
                ),
                "peak counts": rel(peak_counts_2d(m, g["thresholds"])[1], g["peaks"]),
                "bispectrum, equilateral": rel(
                    bispectrum_2d(m, sd, g["ell_edges_bisp"], "equilateral")[1], g["bisp_equilateral"]
                ),
                "bispectrum, folded r=0.5": rel(
                    bispectrum_2d(m, sd, g["ell_edges_bisp"], "folded", 0.5)[1], g["bisp_folded_0.5"]
                ),
            }
            for k_, v in checks.items():
                worst[k_] = max(worst.get(k_, 0.0), v)
        tol = {"power spectrum": 1e-6}
        for k_, v in worst.items():
            table.append((k_, f"lenstools {meta['oracle']['lenstools']}", v, tol.get(k_, 1e-4)))
    try:
        import Pk_library as PKL

        d = fields.lognormal_cubes(1, 32, 64.0, seed=7)[0].astype(np.float32)
        ref = PKL.Pk(d, 64.0, 0, "None", 1, False)
        table.append(
            (
                "P(k), Pylians bins",
                "Pylians",
                rel(power_spectrum_3d(d[None].astype(np.float64), 64.0)[1][0], ref.Pk[:, 0]),
                1e-6,
            )
        )
        with contextlib.redirect_stdout(io.StringIO()):
            rb = PKL.Bk(d, 64.0, 0.3, 0.5, thetas, "None", 1)
        b, q = bispectrum_3d(d[None].astype(np.float64), 64.0, 0.3, 0.5, thetas)
        table.append(("bispectrum B and Q", "Pylians", max(rel(b[0], rb.B), rel(q[0], rb.Q)), 1e-4))
    except ImportError:
        lines.append("Pylians is not installed here: its rows are skipped (it is in the test extra).")
    lines.append(f"{'statistic':28s} {'reference':14s} {'max rel. diff':>13s} {'tolerance':>10s}")
    for r in table:
        lines.append(f"{r[0]:28s} {r[1]:14s} {r[2]:13.2e} {r[3]:10.0e}")
    return "\n".join(lines)


def speed_tables(root, run_benchmark: bool, profile: str, device, n_maps: int) -> str:
    """Section 5: run ``benchmarks/stats_speed.py`` (if asked) and format the committed speed tables.

    Parameters
    ----------
    root : pathlib.Path
        The repository root (``benchmarks/``).
    run_benchmark : bool
        Time ours against the references in this run (its output is printed as it runs).
    profile : str
        The resolved profile: "cpu" and "smoke" time small sizes on the CPU, others the full sizes.
    device : torch.device
        Device of the full-size benchmark.
    n_maps : int
        Batch of the full-size benchmark.

    Returns
    -------
    str
        The committed tables (``results/statistics/stats_speed*.json``): per statistic and size, our
        time in ms per object and the ratio to the reference.
    """
    import json
    import sys

    import torch

    from ..paths import committed_results

    if str(root / "benchmarks") not in sys.path:
        sys.path.insert(0, str(root / "benchmarks"))
    if run_benchmark and profile in ("cpu", "smoke"):
        import stats_speed

        nthreads = torch.get_num_threads()
        args = ["--sizes", "128", "--cube-sizes", "64" if profile == "cpu" else "32", "--batch", "16"]
        stats_speed.main(args + ["--repeats", "2", "--n-ref", "2"])
        torch.set_num_threads(nthreads)
    elif run_benchmark:
        import stats_speed

        stats_speed.main(["--device", str(device), "--batch", str(n_maps)])
    lines = []
    for path in sorted((committed_results() / "statistics").glob("stats_speed*.json")):
        res = json.loads(path.read_text())
        lines.append(f"\n{path.name}: {res['device_name']}, batch {res['batch_maps']} maps")
        for r in res["rows"]:
            ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "-"
            lines.append(
                f"  {r['statistic']:40s} {r['size']:>6s} ours {r['ours_s'] * 1e3:9.4f} ms/object"
                f"  vs {r['reference']:18s} {ratio}"
            )
    return "\n".join(lines)
