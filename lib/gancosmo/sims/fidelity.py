r"""How faithful a simulated suite is: the scales it resolves, and whether it carries non-Gaussian information.

Two measurements per suite (chapter ``00_simulations``, ``results/simulations/suites_{profile}.json``):

* **Resolution** (:func:`map_resolution`, :func:`cube_resolution`): the mean spectrum of the
  suite's maps (C_ell) or cubes (P(k), window-compensated) over pyccl's halofit (Limber for
  maps). ``resolved_max`` is the largest multipole or wavenumber up to which every bin, from
  twice the fundamental mode on, lies within ``tolerance`` (20%) of the theory.
* **Null distinguishability** (:func:`null_distinguishability`): a lognormal field with the
  same power spectrum and one-point variance (:class:`~gancosmo.evaluation.sampling.LognormalNull`)
  against held-out real samples, through the protocol of ``PROTOCOL.md``: the chi^2/dof of the
  null's mean summary (one-point PDF, peak counts and Minkowski functionals for maps; voxel
  PDF and reduced bispectrum for cubes) against the real covariance, next to the upper end of
  the same statistic over 39 real-vs-real splits. A statistic the null cannot reproduce is one
  on which an emulator can show that it learned more than the power spectrum.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "RESOLUTION_TOLERANCE",
    "resolved_max",
    "map_resolution",
    "cube_resolution",
    "map_summaries",
    "cube_summaries",
    "null_distinguishability",
    "MEASURED_SUITES",
    "measure_suite",
    "sizes_table",
    "suites_table",
    "suite_row",
    "format_suite_rows",
    "committed_suites_text",
    "write_suites_json",
]

#: Largest |mean spectrum / theory - 1| of a resolved bin.
RESOLUTION_TOLERANCE = 0.2


def resolved_max(
    x: np.ndarray, ratio: np.ndarray, x_min: float, tolerance: float = RESOLUTION_TOLERANCE, x_end: float | None = None
) -> float:
    """Largest ``x`` up to which every bin with ``x >= x_min`` has ``|ratio - 1| <= tolerance``.

    Parameters
    ----------
    x : numpy.ndarray
        Increasing bin centres (ell, or k in h/Mpc).
    ratio : numpy.ndarray
        Measured over theoretical spectrum per bin.
    x_min : float
        First scale considered (twice the fundamental mode).
    x_end : float, optional
        Returned when every bin is good (the upper end of the measured range, e.g. the Nyquist
        frequency, beyond the last bin centre); default the last bin centre.

    Returns
    -------
    float
        The centre of the last good bin before the first bad one; ``nan`` when the first bin
        considered is already off by more than ``tolerance``.
    """
    x, ratio = np.asarray(x, float), np.asarray(ratio, float)
    sel = x >= x_min * (1 - 1e-9)
    xs, good = x[sel], np.abs(ratio[sel] - 1) <= tolerance
    if not len(xs) or not good[0]:
        return float("nan")
    if good.all():
        return float(xs[-1] if x_end is None else x_end)
    return float(xs[int(np.argmin(good)) - 1])


def _resolution(name: str, x, ratio, fundamental: float, nyquist: float, tolerance: float) -> dict:
    """The result dict of :func:`map_resolution` (``name="ell"``) and :func:`cube_resolution` (``"k"``)."""
    return {
        name: x,
        "ratio": ratio,
        f"{name}_fundamental": fundamental,
        "scored_max": nyquist,
        "resolved_max": resolved_max(x, ratio, 2 * fundamental, tolerance, x_end=nyquist),
        "tolerance": tolerance,
    }


def map_resolution(maps, field_deg: float, cosmo, z_source=None, nz=None, tolerance=RESOLUTION_TOLERANCE) -> dict:
    """Mean C_ell of ``(N, n, n)`` convergence maps over pyccl's halofit Limber C_ell.

    Bins are one fundamental ``ell_f = 360 / field_deg`` wide up to the maps' Nyquist
    multipole ``pi n / field`` (the range the chapters score).

    Returns
    -------
    dict
        ``ell``, ``ratio`` (per bin), ``ell_fundamental``, ``scored_max`` (the Nyquist
        multipole), ``resolved_max`` and ``tolerance``.
    """
    from ..stats import power_spectrum_2d

    maps = np.asarray(maps, np.float64)
    n = maps.shape[-1]
    ell_f = 360.0 / field_deg
    edges = ell_f * (np.arange(n // 2 + 1) + 0.5)
    ell, cl = power_spectrum_2d(maps, field_deg, edges)
    theory = cosmo.convergence_cl(ell, z_source=z_source, nz=nz)
    return _resolution("ell", ell, cl.mean(0) / theory, ell_f, math.pi * n / math.radians(field_deg), tolerance)


def cube_resolution(
    density, box_size: float, cosmo, z: float, tolerance=RESOLUTION_TOLERANCE, assignment: str = "cic"
) -> dict:
    """Mean window-compensated P(k) of ``(N, n, n, n)`` densities (1 + delta, or counts) over pyccl's halofit at ``z``.

    ``box_size`` is the side of one cube in Mpc/h; bins are one fundamental mode wide up to
    the cubes' Nyquist wavenumber ``pi n / box_size`` (h/Mpc). ``assignment`` is the window
    divided out: ``"cic"`` (the suites' densities) or ``"ngp"`` (P4's particle counts).

    Returns
    -------
    dict
        ``k``, ``ratio``, ``k_fundamental``, ``scored_max`` (Nyquist), ``resolved_max``, ``tolerance``.
    """
    from .validation import measured_pk

    density = np.asarray(density)
    n = density.shape[-1]
    k_f = 2 * math.pi / box_size
    k, pk = measured_pk(density, box_size, assignment=assignment)
    return _resolution("k", k, pk.mean(0) / cosmo.pk_halofit(k, z), k_f, math.pi * n / box_size, tolerance)


def _summary_edges(real: np.ndarray, n_bins: int, low: float, high: float) -> np.ndarray:
    """Edges from ``mean + low sigma`` to ``mean + high sigma`` of ``real``'s values."""
    mu, sd = float(real.mean()), float(real.std())
    return mu + sd * np.linspace(low, high, n_bins + 1)


def map_summaries(maps: np.ndarray, reference: np.ndarray) -> dict:
    """Per-map one-point PDF, peak counts and Minkowski functionals on thresholds set by ``reference``.

    Thresholds run from the reference maps' mean - 2 sigma to mean + 4 sigma (PDF and
    functionals, 12 bins) and from mean to mean + 5 sigma (peaks above the mean, 10 bins);
    Minkowski functionals use ``boundary="mask"`` (the suite maps are not periodic).

    Returns
    -------
    dict
        ``pdf`` ``(N, 12)``, ``peaks`` ``(N, 10)``, ``mf`` ``(N, 36)`` (V0, V1, V2 side by side).
    """
    from ..stats import minkowski_2d, peak_histogram, pixel_histogram

    maps = np.asarray(maps, np.float64)
    pdf_edges = _summary_edges(reference, 12, -2.0, 4.0)
    _, pdf = pixel_histogram(maps, pdf_edges, unbounded=True, density=False)
    _, peaks = peak_histogram(maps, _summary_edges(reference, 10, 0.0, 5.0), neighbourhood=1, threshold=None)
    _, v0, v1, v2 = minkowski_2d(maps, pdf_edges, boundary="mask")
    return dict(pdf=pdf / maps[0].size, peaks=peaks, mf=np.concatenate([v0, v1, v2], axis=1))


def cube_summaries(density: np.ndarray, box_size: float) -> dict:
    """Per-cube voxel PDF of log10(1 + delta) and reduced bispectrum Q(theta).

    The PDF has 16 bins over log10(1 + delta) in [-1.5, 2.5] (values beyond fall in the end
    bins); Q is measured for k1 = 4 k_f, k2 = 8 k_f (k_f = 2 pi / box_size, h/Mpc) at 8 angles.

    Returns
    -------
    dict
        ``pdf`` ``(N, 16)``, ``bispectrum`` ``(N, 8)`` (Q, dimensionless).
    """
    from ..stats import bispectrum_3d, pixel_histogram

    density = np.asarray(density, np.float64)
    log_rho = np.log10(np.clip(density / density.mean(axis=(1, 2, 3), keepdims=True), 1e-3, None))
    _, pdf = pixel_histogram(log_rho, np.linspace(-1.5, 2.5, 17), unbounded=True)
    k_f = 2 * math.pi / box_size
    delta = density / density.mean(axis=(1, 2, 3), keepdims=True) - 1.0
    _, q = bispectrum_3d(delta, box_size, 4 * k_f, 8 * k_f, np.linspace(0.1, 0.9, 8) * math.pi)
    return dict(pdf=pdf / density[0].size, bispectrum=q)


def null_distinguishability(samples: np.ndarray, size: float, n_splits: int = 39, seed: int = 0) -> dict:
    """Real samples against the lognormal null, each summary's chi^2/dof beside its real-vs-real band.

    The samples are dealt into halves at random: the null is fitted to the first (its power
    spectrum and one-point variance) and drawn as often as the second holds samples; the second
    half is the test pool, from which :func:`~gancosmo.evaluation.protocol.real_vs_real_splits`
    takes test set A (half of it) and the 39 random pairs of the band.

    Parameters
    ----------
    samples : numpy.ndarray
        ``(N, n, n)`` convergence maps or ``(N, n, n, n)`` densities 1 + delta (N >= 8).
    size : float
        Map side in degrees, or cube side in Mpc/h.

    Returns
    -------
    dict
        Per summary (``pdf``, ``peaks``, ``mf`` for maps; ``pdf``, ``bispectrum`` for cubes):
        ``null_chi2_dof``, ``band_upper`` (upper end of the real-vs-real band) and
        ``distinguished`` (null outside the band); plus ``n`` (samples per side).
    """
    from ..evaluation.binned import binned_comparison
    from ..evaluation.protocol import real_vs_real_splits, score
    from ..evaluation.sampling import LognormalNull

    samples = np.asarray(samples)
    if samples.ndim not in (3, 4) or len(samples) < 8:
        raise ValueError(
            f"samples has shape {samples.shape}; accepted are at least 8 maps (N, n, n) or cubes (N, n, n, n)."
        )
    order = np.random.default_rng(seed).permutation(len(samples))
    fit, pool = samples[order[: len(samples) // 2]], samples[order[len(samples) // 2 :]]
    n = len(pool) // 2
    null = LognormalNull(fit, size).sample(n, seed=seed + 1)
    if samples.ndim == 3:

        def summarize(x):
            return map_summaries(x, fit)
    else:

        def summarize(x):
            return cube_summaries(x, size)

    real_features, null_features = summarize(pool), summarize(null)
    names = list(real_features)

    def compare(real, other):
        out = {}
        for name in names:
            out[f"{name}_chi2_dof"] = binned_comparison(real[name], other[name], name)[f"{name}_chi2_dof"]
        return out

    splits = real_vs_real_splits(np.arange(len(pool)), n, n_splits=n_splits, seed=seed)
    scores = score(compare, real_features, splits, null_features)
    result = dict(n=n)
    for name in names:
        value = scores.ours[f"{name}_chi2_dof"]
        upper = scores.band(f"{name}_chi2_dof", sided="upper")[1]
        result[name] = dict(null_chi2_dof=float(value), band_upper=float(upper), distinguished=bool(value > upper))
    return result


# ------------------------------------------------------------------ per-suite measurement
#: The suites whose scales a chapter scores, and what a sample is.
MEASURED_SUITES = ("p1", "p2", "p3", "p4")


def _null(samples: np.ndarray, size: float) -> dict | None:
    """:func:`null_distinguishability`, or None for fewer than 8 samples (``smoke``)."""
    return null_distinguishability(samples, size) if len(samples) >= 8 else None


def measure_suite(name: str, profile: str, device=None, progress: bool = False, **options) -> dict:
    """Resolution, null distinguishability and generation time of one suite at one profile.

    Parameters
    ----------
    name : str
        ``p1``, ``p2``, ``p3`` or ``p4``.
    profile : str
        A profile of :data:`gancosmo.sims.suites.PROFILES`.
    options :
        Count overrides of the suite (e.g. ``n_sims``), passed to :func:`load_suite`.

    Returns
    -------
    dict
        ``suite``, ``profile``, ``resolved_max`` (measured here), ``recorded_resolved_max``
        (``RESOLVED_MAX``), ``scored_max`` (the pixels' or cells' Nyquist frequency, the largest
        scale the chapters score), ``units``, ``generation_s`` (s, from the cache record),
        ``n_samples``, ``null`` (:func:`null_distinguishability`) and ``curves`` (per probed
        cosmology or redshift: scale, ratio).
    """
    from ..cosmology import Cosmology, kids450_nz
    from . import load_suite
    from .suites import P1_COSMOLOGY, P3_COSMOLOGY, P4_COSMOLOGY, kids450_grid, kids450_probe_cosmologies

    if name not in MEASURED_SUITES:
        raise ValueError(f"suite {name!r} has no measured resolution; accepted: {', '.join(MEASURED_SUITES)}.")
    extra = dict(cosmologies=kids450_probe_cosmologies()) if name == "p2" else {}
    suite = load_suite(name, profile=profile, device=device, progress=progress, **extra, **options)
    cfg = suite.config
    curves = {}
    if name == "p1":
        maps = suite["maps"]
        res = map_resolution(maps, cfg["field_deg"], Cosmology(**P1_COSMOLOGY), z_source=1.0)
        curves["z_s = 1"] = res
        null = _null(maps[:512], cfg["field_deg"])
        n_samples, units = len(maps), "ell"
    elif name == "p2":
        grid = kids450_grid()
        for i in cfg["cosmologies"]:
            maps = suite["maps"][suite["cosmology_index"] == i]
            cosmo = Cosmology(grid[i]["omega_m"], grid[i]["sigma8"])
            curves[f"Omega_m {cosmo.omega_m:.3f}, sigma_8 {cosmo.sigma8:.3f}"] = map_resolution(
                maps, cfg["field_deg"], cosmo, nz=kids450_nz
            )
        res = min(curves.values(), key=lambda r: np.nan_to_num(r["resolved_max"], nan=-1.0))
        centre = suite["maps"][suite["cosmology_index"] == cfg["cosmologies"][0]]
        null = _null(centre, cfg["field_deg"])
        n_samples, units = len(suite["maps"]), "ell"
    elif name == "p3":
        side = cfg["sub_size"] * cfg["cell_size"]
        for z in (0.0, 1.0, 3.0):
            curves[f"z = {z:g}"] = cube_resolution(suite[f"density_z{z:g}"], side, Cosmology(**P3_COSMOLOGY), z)
        res = min(curves.values(), key=lambda r: np.nan_to_num(r["resolved_max"], nan=-1.0))
        null = _null(suite["density_z0"], side)
        n_samples, units = len(suite["density_z0"]), "k [h/Mpc]"
    else:
        counts = suite["counts"].astype(np.float64)
        res = cube_resolution(counts, cfg["box_size"], Cosmology(**P4_COSMOLOGY), 0.0, assignment="ngp")
        curves["z = 0"] = res
        null = _null(counts, cfg["box_size"])
        n_samples, units = len(counts), "k [h/Mpc]"
    return dict(
        suite=name,
        profile=profile,
        resolved_max=res["resolved_max"],
        recorded_resolved_max=cfg.get("resolved_max"),
        scored_max=res["scored_max"],
        units=units,
        generation_s=float(suite.meta.get("seconds", float("nan"))),
        n_samples=int(n_samples),
        null=null,
        curves={
            k: dict(x=np.asarray(v.get("ell", v.get("k"))).tolist(), ratio=np.asarray(v["ratio"]).tolist())
            for k, v in curves.items()
        },
    )


def main(argv=None) -> None:
    """``python -m gancosmo.sims.fidelity --profile cpu``: measure the suites, write ``suites_{profile}.json``."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--suites", default=",".join(MEASURED_SUITES))
    parser.add_argument("--out", default=None, help="folder for suites_{profile}.json (default: print only)")
    args = parser.parse_args(argv)
    entries = []
    for name in args.suites.split(","):
        entry = measure_suite(name.strip(), args.profile, progress=True)
        entries.append(entry)
        print(
            f"{name}: resolved_max {entry['resolved_max']:.4g} (scored to {entry['scored_max']:.4g} {entry['units']}), "
            f"{entry['generation_s']:.0f} s, null: "
            + ", ".join(
                f"{k} {v['null_chi2_dof']:.2f} vs {v['band_upper']:.2f}"
                for k, v in (entry["null"] or {}).items()
                if k != "n"
            ),
            flush=True,
        )
    if args.out:
        print(write_suites_json(args.out, args.profile, entries))


# ------------------------------------------------------------------ chapter 00's tables
def sizes_table(profiles=("cpu", "cpu-long", "gpu", "paper")) -> str:
    """Text table of each suite's samples and resolution per profile (from :data:`gancosmo.sims.suites.SIZES`)."""
    from .suites import SIZES

    def describe(name: str, s: dict) -> str:
        if name == "p1":
            pixels = f"{s['n_pix']}^2 px / {s['field_deg']:.3g} deg"
            return f"{s['n_maps']} maps {pixels}, {s['n_particles']}^3 in {s['box_size']:g}"
        if name == "p2":
            return f"{s['maps_per_cosmology']}/cosmology {s['n_pix']}^2 px, {s['n_particles']}^3 in {s['box_size']:g}"
        if name == "p3":
            cell = s["box_size"] / s["density_grid"]
            return f"{s['n_boxes']} boxes {s['n_particles']}^3 in {s['box_size']:g}, {cell:g} Mpc/h cells"
        if name == "p4":
            return f"{s['n_cubes']} cubes {s['voxels']}^3 vox, {s['n_particles']}^3 in {s['box_size']:g}"
        if name == "p5":
            return f"{s['n_boxes']} boxes {s['n_particles']}^3, {3 * s['slabs_per_axis']} slabs"
        return f"{s['n_runs']} runs {s['n_particles']}^2"

    lines = [f"{'suite':<6} " + " | ".join(f"{p:<44}" for p in profiles)]
    for name in SIZES:
        lines.append(f"{name:<6} " + " | ".join(f"{describe(name, SIZES[name][p]):<44}" for p in profiles))
    return "\n".join(lines) + "\n(boxes in Mpc/h; particles per side)"


def suite_row(entry: dict) -> dict:
    """One row of chapter 00's table from a :func:`measure_suite` result (what ``suites_{profile}.json`` stores).

    Keys: ``suite``, ``profile``, ``n_samples``, ``resolved_max``, ``scored_max``, ``units``,
    ``resolves_scored_range`` (bool), ``generation_s`` and ``null`` (per summary: the null's
    chi^2/dof, the upper end of the real-vs-real band, distinguished or not).
    """
    resolved, scored = entry["resolved_max"], entry["scored_max"]
    return dict(
        suite=entry["suite"],
        profile=entry["profile"],
        n_samples=entry["n_samples"],
        resolved_max=resolved,
        scored_max=scored,
        units=entry["units"],
        resolves_scored_range=bool(np.isfinite(resolved) and resolved >= scored * (1 - 1e-9)),
        generation_s=entry["generation_s"],
        null={k: v for k, v in (entry["null"] or {}).items() if k != "n"},
    )


def format_suite_rows(rows: list[dict]) -> str:
    """Text table of :func:`suite_row` rows."""
    lines = [
        f"{'suite':<5} {'profile':<8} {'samples':>7} {'resolved_max':>12} {'scored_max':>10} {'units':<10} {'ok':<3} "
        f"{'gen. s':>7}  null chi^2/dof vs band (distinguished?)"
    ]
    for row in rows:
        null_text = ", ".join(
            f"{k} {v['null_chi2_dof']:.2f} vs {v['band_upper']:.2f} ({'yes' if v['distinguished'] else 'no'})"
            for k, v in row["null"].items()
        )
        lines.append(
            f"{row['suite']:<5} {row['profile']:<8} {row['n_samples']:>7} {row['resolved_max']:>12.4g} "
            f"{row['scored_max']:>10.4g} {row['units']:<10} {'yes' if row['resolves_scored_range'] else 'NO':<3} "
            f"{row['generation_s']:>7.0f}  {null_text or 'too few samples'}"
        )
    return "\n".join(lines)


def suites_table(entries: list[dict]) -> tuple[list[dict], str]:
    """Rows (:func:`suite_row`) and the text table (:func:`format_suite_rows`) of :func:`measure_suite` results."""
    rows = [suite_row(e) for e in entries]
    return rows, format_suite_rows(rows)


def committed_suites_text(profile: str) -> str:
    """The table of a committed ``results/simulations/suites_{profile}.json``, or a sentence saying there is none."""
    import json

    from ..paths import committed_results

    path = committed_results() / "simulations" / f"suites_{profile}.json"
    if not path.exists():
        return f"no measurement of the {profile} suites is stored with the book yet"
    return format_suite_rows(json.loads(path.read_text())["suites"])


def write_suites_json(results_dir, profile: str, entries: list[dict], provenance: dict | None = None) -> str:
    """Write ``suites_{profile}.json`` (one entry per suite: resolution, scored range, time, null) into ``results_dir``.

    Returns the line to print, or an empty string when ``results_dir`` is None.
    """
    import json
    from pathlib import Path

    if results_dir is None:
        return ""
    rows, _ = suites_table(entries)
    curves = {e["suite"]: e["curves"] for e in entries}
    path = Path(results_dir) / f"suites_{profile}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    payload = dict(profile=profile, suites=rows, curves=curves, **(provenance or {}))
    tmp.write_text(json.dumps(payload, indent=1, default=float))
    tmp.replace(path)
    return f"wrote {path}"


if __name__ == "__main__":
    main()
