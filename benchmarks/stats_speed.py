"""Per-object speed of gancosmo.stats against lenstools 1.2 and Pylians, measured in one run.

usage:
    python benchmarks/stats_speed.py                       # CPU, one thread, small batches
    python benchmarks/stats_speed.py --device cuda --batch 1000 --out results/stats_speed_gpu.json

Ours is timed on a batch (``--batch`` maps or cubes; cubes use ``--cube-batch``, default
``min(batch, 64)`` on CUDA) and reported per object; the references (one core) are timed
on a few objects of the same inputs. lenstools runs in the pinned ``.venv-oracle`` through
``oracle/lenstools_runner.py`` (its column is skipped, with a message, when that venv is
missing); Pylians runs in this process with ``threads=1``. Ratios are reference time /
our time per object (> 1: we are faster).
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


def time_ours(fn, x, device, repeats):
    """Seconds per object for fn(batch) on device (after one warm-up call)."""
    fn(x)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn(x)
    _sync(device)
    return (time.perf_counter() - t0) / (repeats * x.shape[0])


def time_ref(fn, items, repeats):
    fn(items[0])
    t0 = time.perf_counter()
    for _ in range(repeats):
        for it in items:
            fn(it)
    return (time.perf_counter() - t0) / (repeats * len(items))


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
        print(f"[lenstools column skipped: {ORACLE_PY} not found; run `make oracle` to build it]")
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
        subprocess.run([str(ORACLE_PY), str(ROOT / "oracle" / "lenstools_runner.py"), src, dst, "--time", str(repeats)], check=True, env=env, capture_output=True)
        res = dict(np.load(dst))
    return {k: float(v) for k, v in res.items() if "/time/" in k}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--batch", type=int, default=None, help="maps per batch for ours (default 32 on cpu, 1000 on cuda)")
    ap.add_argument("--cube-batch", type=int, default=None, help="cubes per batch for ours (default 4 on cpu, min(batch, 64) on cuda)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (the comparison is per core)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-ref", type=int, default=4, help="objects timed with the references")
    ap.add_argument("--sizes", default="128,256", help="map sides")
    ap.add_argument("--cube-sizes", default="64,128", help="cube sides")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument("--ref-json", default=None, help="a previous CPU run's JSON: its reference times fill the columns this run cannot measure (e.g. on a GPU machine without lenstools/Pylians); such ratios are marked as cross-run")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    batch = a.batch or (1000 if cuda else 32)
    cube_batch = a.cube_batch or (min(batch, 64) if cuda else 4)
    dtype = torch.float32
    rows = []
    print(f"device {dev} ({torch.cuda.get_device_name(dev) if cuda else platform.processor() or 'cpu'}), torch threads {a.threads}, batch {batch} maps / {cube_batch} cubes")

    # ---------------------------------------------------------------- maps vs lenstools
    map_cases = {}
    for n in [int(s) for s in a.sizes.split(",") if s]:
        maps = lognormal_maps(batch, n, MAP_SIDE, seed=n).astype(np.float32)
        map_cases[f"m{n}"] = (maps, map_edges(maps))
    lt = lenstools_times(map_cases, a.n_ref, a.repeats)
    for name, (maps, e) in map_cases.items():
        x = torch.as_tensor(maps, dtype=dtype, device=dev)
        stats = {
            "power spectrum, 200 ell bins": ("power_p2", lambda m: S.power_spectrum_2d(m, MAP_SIDE, e["ell_edges_p2"])),
            "Minkowski functionals, 100 thresholds": ("minkowski_p2", lambda m: S.minkowski_2d(m, e["thresholds_p2"])),
            "peak counts (8 neighbours), 59 bins": ("peaks", lambda m: S.peak_counts_2d(m, e["thresholds"])),
            "folded bispectrum, 199 ell bins": ("bisp_folded_0.5", lambda m: S.bispectrum_2d(m, MAP_SIDE, e["ell_edges_bisp"], "folded", 0.5)),
        }
        for label, (key, fn) in stats.items():
            ours = time_ours(fn, x, dev, a.repeats)
            ref = lt.get(f"{name}/time/{key}") if lt else None
            rows.append({"statistic": label, "size": f"{maps.shape[-1]}^2", "reference": "lenstools 1.2", "ours_s": ours, "ref_s": ref, "ratio": (ref / ours) if ref else None, "ref_source": "same run" if ref else None})

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
            ("power spectrum (Pylians bins)", lambda c: S.power_spectrum_3d(c, box), (lambda d: PKL.Pk(d, box, 0, "None", 1, False)) if PKL else None),
            ("power spectrum, 50 log bins (P4)", lambda c: S.power_spectrum_3d(c, box, k_edges=k_edges), None),
            ("bispectrum, 10 angles", lambda c: S.bispectrum_3d(c, box, 0.2, 0.3, th), (lambda d: PKL.Bk(d, box, 0.2, 0.3, th, "None", 1)) if PKL else None),
            ("peak counts, 26 neighbours", lambda c: S.peak_counts_3d(c, np.linspace(-1, 50, 21)), None),
        ]
        for label, fn, ref_fn in stats:
            ours = time_ours(fn, x, dev, a.repeats)
            ref = None
            if ref_fn is not None:
                with contextlib.redirect_stdout(io.StringIO()):
                    ref = time_ref(ref_fn, items, a.repeats)
            rows.append({"statistic": label, "size": f"{n}^3", "reference": "Pylians (1 thread)" if ref_fn else "-", "ours_s": ours, "ref_s": ref, "ratio": (ref / ours) if ref else None, "ref_source": "same run" if ref else None})

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
    print(f"\n{'statistic':40s} {'size':>6s} {'reference':>18s} {'ours ms/obj':>12s} {'ref ms/obj':>11s} {'ratio':>8s}")
    for r in rows:
        ref = f"{r['ref_s'] * 1e3:11.3f}" if r["ref_s"] else f"{'-':>11s}"
        ratio = f"{r['ratio']:8.1f}" if r["ratio"] else f"{'-':>8s}"
        print(f"{r['statistic']:40s} {r['size']:>6s} {r['reference']:>18s} {r['ours_s'] * 1e3:12.4f} {ref} {ratio}")
    result = {
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if cuda else (platform.processor() or "cpu"),
        "torch": torch.__version__,
        "threads": a.threads,
        "batch_maps": batch,
        "batch_cubes": int(x.shape[0]) if a.cube_sizes else None,
        "dtype": "float32",
        "note": "ratio = reference seconds per object (one CPU core) / ours per object; references timed on --n-ref objects",
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
