"""Per-object speed of gancosmo.stats against lenstools 1.2 and Pylians, measured in one run.

usage:
    python benchmarks/stats_speed.py                       # CPU, one thread, small batches
    python benchmarks/stats_speed.py --out results/statistics/stats_speed_cpu.json
    python benchmarks/stats_speed.py --sizes 256 --cube-sizes ""   # just the 256^2 maps
    python benchmarks/stats_speed.py --device cuda --batch 1000 --out results/stats_speed_gpu.json

Ours is timed on a batch (``--batch`` maps or cubes; cubes use ``--cube-batch``, default
``min(batch, 64)`` on CUDA) and reported per object; the references (one core) are timed
on a few objects of the same inputs. lenstools runs in the pinned ``.venv-oracle`` through
``oracle/lenstools_runner.py`` (its column is skipped, with a message, when that venv is
missing); Pylians runs in this process with ``threads=1``. Ratios are reference time /
our time per object (> 1: we are faster).

The machine may be shared: every time is the best of ``--rounds`` rounds (each the mean
over ``--repeats`` calls), and the rounds of ours and of the references alternate, so both
see the same load; the load average is printed and recorded beside the numbers.  On CPUs
the Minkowski functionals and peak counts are also timed in CPU time (``process_time``;
lenstools through a small script run by ``.venv-oracle``), which hardly depends on what
else runs on the cores: columns ``ours_cpu_s``, ``ref_cpu_s``, ``ratio_cpu``, and the
256^2 summary printed at the end (``summary_256`` in the JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from gancosmo import stats as S  # noqa: E402
from gancosmo.stats.fields import lognormal_cubes, lognormal_maps  # noqa: E402

ORACLE_PY = ROOT / ".venv-oracle" / "bin" / "python"
ELL_P2 = np.linspace(200.0, 6000.0, 200)
MAP_SIDE = 5.0


def _sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def time_ours(fn, x, device, repeats, warm=True, clock=time.perf_counter):
    """Seconds per object for fn(batch) on device (after one warm-up call); ``clock``:
    wall time, or ``time.process_time`` for the CPU time of this process (blind to the time
    other processes hold the cores)."""
    if warm:
        fn(x)
        _sync(device)
    t0 = clock()
    for _ in range(repeats):
        fn(x)
    _sync(device)
    return (clock() - t0) / (repeats * x.shape[0])


def time_ref(fn, items, repeats, warm=True):
    if warm:
        fn(items[0])
    t0 = time.perf_counter()
    for _ in range(repeats):
        for it in items:
            fn(it)
    return (time.perf_counter() - t0) / (repeats * len(items))


def load_average():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # not available on this platform
        return None


def map_edges(maps):
    s = float(maps.std())
    lpix = 360.0 / MAP_SIDE
    n = maps.shape[-1]
    return {
        "ell_edges": np.linspace(lpix * 1.5, lpix * n / 2 * 1.3, 40),
        "ell_edges_p2": ELL_P2,
        "ell_edges_bisp": ELL_P2,
        "thresholds": np.linspace(-2.5 * s, 4.0 * s, 60),
        "thresholds_p2": np.linspace(0.01, 0.1, 101) * s / 0.02,
    }


def lenstools_times(cases, n_ref, repeats):
    if not ORACLE_PY.exists():
        print("[lenstools column skipped: the pinned lenstools 1.2 environment is not installed on this machine]")
        return None
    flat = {"folds": np.array([0.5])}
    for name, (maps, edges) in cases.items():
        flat[f"{name}/maps"] = maps[:n_ref].astype(np.float64)
        flat[f"{name}/side_deg"] = np.float64(MAP_SIDE)
        for k, v in edges.items():
            flat[f"{name}/{k}"] = v
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, **flat)
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        subprocess.run(
            [str(ORACLE_PY), str(ROOT / "oracle" / "lenstools_runner.py"), src, dst, "--time", str(repeats)],
            check=True,
            env=env,
            capture_output=True,
        )
        res = dict(np.load(dst))
    return {k: float(v) for k, v in res.items() if "/time/" in k}


# CPU time per map of lenstools' Minkowski functionals and peak counts (run by .venv-oracle)
_LT_CPU = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np, astropy.units as u
from lenstools import ConvergenceMap
z = np.load(sys.argv[1]); repeats = int(sys.argv[2]); out = {}
for c in sorted({k.split("/")[0] for k in z.files}):
    cms = [ConvergenceMap(m, float(z[c + "/side_deg"]) * u.deg) for m in z[c + "/maps"]]
    fns = {"minkowski_p2": lambda m: m.minkowskiFunctionals(z[c + "/thresholds_p2"], norm=False),
           "minkowski": lambda m: m.minkowskiFunctionals(z[c + "/thresholds"], norm=False),
           "peaks": lambda m: m.peakCount(z[c + "/thresholds"], norm=False)}
    for key, f in fns.items():
        t0 = time.process_time()
        for _ in range(repeats):
            for m in cms:
                f(m)
                for a in ("gradient_x", "gradient_y", "hessian_xx", "hessian_yy", "hessian_xy"):
                    if hasattr(m, a):
                        delattr(m, a)
        out[c + "/cpu/" + key] = (time.process_time() - t0) / (repeats * len(cms))
print(json.dumps(out))
"""
CPU_KEYS = ("minkowski_p2", "minkowski", "peaks")


def lenstools_cpu_times(cases, n_ref, repeats):
    """CPU seconds per map of lenstools' Minkowski functionals and peaks (None without .venv-oracle)."""
    if not ORACLE_PY.exists():
        return None
    flat = {}
    for name, (maps, edges) in cases.items():
        flat[f"{name}/maps"] = maps[:n_ref].astype(np.float64)
        flat[f"{name}/side_deg"] = np.float64(MAP_SIDE)
        flat[f"{name}/thresholds"], flat[f"{name}/thresholds_p2"] = edges["thresholds"], edges["thresholds_p2"]
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.npz")
        np.savez(src, **flat)
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        cmd = [str(ORACLE_PY), "-c", _LT_CPU, src, str(repeats)]
        run = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    return json.loads(run.stdout)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--batch", type=int, default=None, help="maps per batch for ours (default 32 on cpu, 1000 on cuda)")
    ap.add_argument(
        "--cube-batch",
        type=int,
        default=None,
        help="cubes per batch for ours (default 4 on cpu, min(batch, 64) on cuda)",
    )
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (the comparison is per core)")
    ap.add_argument("--repeats", type=int, default=3, help="calls per timing round")
    ap.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of ours and the references; the best is kept"
    )
    ap.add_argument("--n-ref", type=int, default=4, help="objects timed with the references")
    ap.add_argument("--sizes", default="128,256", help="map sides")
    ap.add_argument("--cube-sizes", default="64,128", help="cube sides")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument(
        "--ref-json",
        default=None,
        help="a previous CPU run's JSON: its reference times fill the columns this run cannot measure "
        "(e.g. on a GPU machine without lenstools/Pylians); such ratios are marked as cross-run",
    )
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    batch = a.batch or (1000 if cuda else 32)
    cube_batch = a.cube_batch or (min(batch, 64) if cuda else 4)
    dtype = torch.float32
    rows = []
    print(
        f"device {dev} ({torch.cuda.get_device_name(dev) if cuda else platform.processor() or 'cpu'}), torch threads "
        f"{a.threads}, batch {batch} maps / {cube_batch} cubes"
    )

    # ---------------------------------------------------------------- maps vs lenstools
    load_start = load_average()
    print(f"load average (1, 5, 15 min) at start: {load_start} on {os.cpu_count()} cores")
    map_cases = {}
    for n in [int(s) for s in a.sizes.split(",") if s]:
        maps = lognormal_maps(batch, n, MAP_SIDE, seed=n).astype(np.float32)
        map_cases[f"m{n}"] = (maps, map_edges(maps))
    map_stats = {}
    for name, (_, e) in map_cases.items():
        map_stats[name] = {
            "power spectrum, 200 ell bins": (
                "power_p2",
                lambda m, e=e: S.power_spectrum_2d(m, MAP_SIDE, e["ell_edges_p2"]),
            ),
            "Minkowski functionals, 100 thresholds": (
                "minkowski_p2",
                lambda m, e=e: S.minkowski_2d(m, e["thresholds_p2"]),
            ),
            "Minkowski functionals, 59 thresholds": ("minkowski", lambda m, e=e: S.minkowski_2d(m, e["thresholds"])),
            "peak counts (8 neighbours), 59 bins": ("peaks", lambda m, e=e: S.peak_counts_2d(m, e["thresholds"])),
            "folded bispectrum, 199 ell bins": (
                "bisp_folded_0.5",
                lambda m, e=e: S.bispectrum_2d(m, MAP_SIDE, e["ell_edges_bisp"], "folded", 0.5),
            ),
            "Minkowski functionals, 100 thr., boundary='mask'": (
                None,
                lambda m, e=e: S.minkowski_2d(m, e["thresholds_p2"], boundary="mask"),
            ),
            "peak counts (8 neighbours), 59 bins, boundary='mask'": (
                None,
                lambda m, e=e: S.peak_counts_2d(m, e["thresholds"], boundary="mask"),
            ),
        }
    xs = {name: torch.as_tensor(maps, dtype=dtype, device=dev) for name, (maps, _) in map_cases.items()}
    for name in map_cases:  # warm-up (allocator, caches)
        for _, fn in map_stats[name].values():
            fn(xs[name])
    ours_rounds, ours_cpu = {}, {}
    lt_rounds, lt_cpu = [], []
    for _ in range(max(1, a.rounds)):
        lt = lenstools_times(map_cases, a.n_ref, a.repeats)
        if lt is not None:
            lt_rounds.append(lt)
        for name in map_cases:
            for label, (_, fn) in map_stats[name].items():
                ours_rounds.setdefault((name, label), []).append(time_ours(fn, xs[name], dev, a.repeats, warm=False))
        if not cuda:  # CPU time: what the cores spent, whatever else runs on them
            lt = lenstools_cpu_times(map_cases, a.n_ref, a.repeats)
            if lt is not None:
                lt_cpu.append(lt)
            for name in map_cases:
                for label, (key, fn) in map_stats[name].items():
                    if key in CPU_KEYS:
                        t = time_ours(fn, xs[name], dev, a.repeats, warm=False, clock=time.process_time)
                        ours_cpu.setdefault((name, label), []).append(t)
    for name, (maps, _) in map_cases.items():
        for label, (key, _) in map_stats[name].items():
            ours_all = ours_rounds[(name, label)]
            ref_all = [r[f"{name}/time/{key}"] for r in lt_rounds if key and f"{name}/time/{key}" in r]
            ours, ref = min(ours_all), (min(ref_all) if ref_all else None)
            rows.append(
                {
                    "statistic": label,
                    "size": f"{maps.shape[-1]}^2",
                    "reference": "lenstools 1.2" if key else "-",
                    "ours_s": ours,
                    "ref_s": ref,
                    "ratio": (ref / ours) if ref else None,
                    "ref_source": "same run" if ref else None,
                    "ours_s_rounds": ours_all,
                    "ref_s_rounds": ref_all or None,
                }
            )
            if (name, label) in ours_cpu:
                cpu_ref = [r[f"{name}/cpu/{key}"] for r in lt_cpu if f"{name}/cpu/{key}" in r]
                oc, rc = min(ours_cpu[(name, label)]), (min(cpu_ref) if cpu_ref else None)
                rows[-1].update({"ours_cpu_s": oc, "ref_cpu_s": rc, "ratio_cpu": (rc / oc) if rc else None})

    # ---------------------------------------------------------------- cubes vs Pylians
    try:
        import Pk_library as PKL
    except ImportError:
        PKL = None
        print("[Pylians column skipped: Pk_library not importable]")
    for n in [int(s) for s in a.cube_sizes.split(",") if s]:
        box = float(n)  # 1 Mpc/h voxels
        cubes = lognormal_cubes(max(cube_batch, a.n_ref) if not cuda else a.n_ref, n, box, seed=n).astype(np.float32)
        x = torch.as_tensor(cubes[: min(len(cubes), cube_batch)], dtype=dtype, device=dev)
        if cuda and x.shape[0] < cube_batch:
            x = x.repeat((cube_batch + x.shape[0] - 1) // x.shape[0], 1, 1, 1)[:cube_batch].contiguous()
        th = np.linspace(0, 2.5, 10)
        k_edges = np.geomspace(2 * np.pi / box, np.pi * n / box, 51)
        items = list(cubes[: a.n_ref])
        stats = [
            (
                "power spectrum (Pylians bins)",
                lambda c: S.power_spectrum_3d(c, box),
                (lambda d: PKL.Pk(d, box, 0, "None", 1, False)) if PKL else None,
            ),
            ("power spectrum, 50 log bins (P4)", lambda c: S.power_spectrum_3d(c, box, k_edges=k_edges), None),
            (
                "bispectrum, 10 angles",
                lambda c: S.bispectrum_3d(c, box, 0.2, 0.3, th),
                (lambda d: PKL.Bk(d, box, 0.2, 0.3, th, "None", 1)) if PKL else None,
            ),
            ("peak counts, 26 neighbours", lambda c: S.peak_counts_3d(c, np.linspace(-1, 50, 21)), None),
        ]
        for label, fn, ref_fn in stats:
            ours_all, ref_all = [], []
            for k in range(max(1, a.rounds)):
                ours_all.append(time_ours(fn, x, dev, a.repeats, warm=k == 0))
                if ref_fn is not None:
                    with contextlib.redirect_stdout(io.StringIO()):
                        ref_all.append(time_ref(ref_fn, items, a.repeats, warm=k == 0))
            ours, ref = min(ours_all), (min(ref_all) if ref_all else None)
            rows.append(
                {
                    "statistic": label,
                    "size": f"{n}^3",
                    "reference": "Pylians (1 thread)" if ref_fn else "-",
                    "ours_s": ours,
                    "ref_s": ref,
                    "ratio": (ref / ours) if ref else None,
                    "ref_source": "same run" if ref else None,
                    "ours_s_rounds": ours_all,
                    "ref_s_rounds": ref_all or None,
                }
            )

    # ---------------------------------------------------------------- references from another run
    if a.ref_json:
        prev = {(r["statistic"], r["size"]): r for r in json.loads(Path(a.ref_json).read_text())["rows"]}
        for r in rows:
            p = prev.get((r["statistic"], r["size"]))
            if r["ref_s"] is None and p and p.get("ref_s"):
                r["ref_s"], r["ratio"] = p["ref_s"], p["ref_s"] / r["ours_s"]
                r["reference"] = p["reference"] + " *"
                r["ref_source"] = str(a.ref_json)
        print(f"[* reference times taken from {a.ref_json} (another run, one CPU core)]")

    # ---------------------------------------------------------------- report
    load_end = load_average()
    print(f"\n{'statistic':52s} {'size':>6s} {'reference':>18s} {'ours ms/obj':>12s} {'ref ms/obj':>11s} {'ratio':>8s}")
    for r in rows:
        ref = f"{r['ref_s'] * 1e3:11.3f}" if r["ref_s"] else f"{'-':>11s}"
        ratio = f"{r['ratio']:8.1f}" if r["ratio"] else f"{'-':>8s}"
        print(f"{r['statistic']:52s} {r['size']:>6s} {r['reference']:>18s} {r['ours_s'] * 1e3:12.4f} {ref} {ratio}")
    summary = {}
    for r in rows:
        if r["size"] == "256^2" and r["statistic"] in (
            "Minkowski functionals, 100 thresholds",
            "Minkowski functionals, 59 thresholds",
            "peak counts (8 neighbours), 59 bins",
        ):
            summary[r["statistic"]] = {
                "ours_ms_per_map": r["ours_s"] * 1e3,
                "lenstools_ms_per_map": r["ref_s"] * 1e3 if r["ref_s"] else None,
                "ratio": r["ratio"],
                "ours_cpu_ms_per_map": r["ours_cpu_s"] * 1e3 if r.get("ours_cpu_s") else None,
                "lenstools_cpu_ms_per_map": r["ref_cpu_s"] * 1e3 if r.get("ref_cpu_s") else None,
                "ratio_cpu": r.get("ratio_cpu"),
            }
    if summary:
        print(
            f"\n256^2 maps, {a.threads} torch thread(s), best of {a.rounds} rounds; "
            f"load average {load_start} -> {load_end} on {os.cpu_count()} cores:"
        )
        for label, v in summary.items():
            lt_ms = f"{v['lenstools_ms_per_map']:.3f} ms" if v["lenstools_ms_per_map"] else "-"
            ratio = f"{v['ratio']:.1f}x" if v["ratio"] else "-"
            print(f"  {label:40s} wall: ours {v['ours_ms_per_map']:.3f} ms/map, lenstools {lt_ms}/map, ratio {ratio}")
            if v["ours_cpu_ms_per_map"]:
                lt_ms = f"{v['lenstools_cpu_ms_per_map']:.3f} ms" if v["lenstools_cpu_ms_per_map"] else "-"
                ratio = f"{v['ratio_cpu']:.1f}x" if v["ratio_cpu"] else "-"
                cpu = v["ours_cpu_ms_per_map"]
                print(f"  {'':40s} CPU:  ours {cpu:.3f} ms/map, lenstools {lt_ms}/map, ratio {ratio}")
    result = {
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if cuda else (platform.processor() or "cpu"),
        "torch": torch.__version__,
        "threads": a.threads,
        "batch_maps": batch,
        "batch_cubes": int(x.shape[0]) if a.cube_sizes else None,
        "dtype": "float32",
        "note": "ratio = reference seconds per object (one CPU core) / ours per object; "
        "references timed on --n-ref objects",
        "timing": f"best of {a.rounds} alternating rounds (ours, references), each the mean over {a.repeats} calls; "
        "*_s wall time, *_cpu_s CPU time of the process (process_time, blind to other load on shared cores)",
        "rounds": a.rounds,
        "repeats": a.repeats,
        "n_ref": a.n_ref,
        "cpu_count": os.cpu_count(),
        "load_avg_start": load_start,
        "load_avg_end": load_end,
        "summary_256": summary,
        "rows": rows,
    }
    if a.out:
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(out.suffix + ".tmp")
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        os.replace(tmp, out)
        print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
