"""Run lenstools 1.2 on maps from an .npz file (executed by the .venv-oracle interpreter).

usage: .venv-oracle/bin/python oracle/lenstools_runner.py INPUT.npz OUTPUT.npz [--time REPEATS]

INPUT.npz holds, per case ``c``: ``c/maps`` (B, N, N), ``c/side_deg``, ``c/ell_edges``,
``c/ell_edges_p2``, ``c/ell_edges_bisp``, ``c/thresholds``, ``c/thresholds_p2`` and the list
``folds`` of folding ratios.  OUTPUT.npz gets the statistics per case and map, plus
``versions`` and, with --time, the per-map seconds of each statistic under ``time/...``.
"""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import astropy.units as u  # noqa: E402
import lenstools  # noqa: E402
from lenstools import ConvergenceMap  # noqa: E402


def main(argv):
    src, dst = argv[0], argv[1]
    repeats = int(argv[argv.index("--time") + 1]) if "--time" in argv else 0
    z = np.load(src)
    cases = sorted({k.split("/")[0] for k in z.files if "/" in k})
    folds = [float(f) for f in z["folds"]] if "folds" in z.files else [0.5]
    out = {"versions": json.dumps({"lenstools": lenstools.__version__, "numpy": np.__version__})}
    for c in cases:
        maps = np.asarray(z[c + "/maps"], dtype=np.float64)
        side = float(z[c + "/side_deg"])
        g = lambda k: np.asarray(z[c + "/" + k], dtype=np.float64)  # noqa: E731
        res = {}

        def run(key, fn):
            vals = [fn(ConvergenceMap(m, side * u.deg)) for m in maps]
            if isinstance(vals[0], tuple):
                for j in range(len(vals[0])):
                    res[f"{key}/{j}"] = np.stack([v[j] for v in vals])
            else:
                res[key] = np.stack(vals)
            if repeats:
                cm = [ConvergenceMap(m, side * u.deg) for m in maps]
                t0 = time.perf_counter()
                for _ in range(repeats):
                    for m in cm:
                        fn(m)
                        for a in ("gradient_x", "gradient_y", "hessian_xx", "hessian_yy", "hessian_xy"):
                            if hasattr(m, a):
                                delattr(m, a)
                res["time/" + key] = np.float64((time.perf_counter() - t0) / (repeats * len(cm)))

        run("power", lambda m: m.powerSpectrum(g("ell_edges"))[1])
        run("power_p2", lambda m: m.powerSpectrum(g("ell_edges_p2"))[1])
        run("minkowski", lambda m: m.minkowskiFunctionals(g("thresholds"), norm=False)[1:])
        run("minkowski_p2", lambda m: m.minkowskiFunctionals(g("thresholds_p2"), norm=False)[1:])
        run("peaks", lambda m: m.peakCount(g("thresholds"), norm=False)[1])
        run("bisp_equilateral", lambda m: m.bispectrum(g("ell_edges_bisp"), configuration="equilateral")[1])
        for r in folds:
            run(f"bisp_folded_{r:g}", lambda m, r=r: m.bispectrum(g("ell_edges_bisp"), ratio=r, configuration="folded")[1])
        for k, v in res.items():
            out[c + "/" + k] = v
    np.savez(dst, **out)


if __name__ == "__main__":
    main(sys.argv[1:])
