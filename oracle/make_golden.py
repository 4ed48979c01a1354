"""Regenerate tests/golden/stats/ from lenstools 1.2 (run by ``make oracle``).

Generates the recipe's inputs in this (main) environment, runs
``oracle/lenstools_runner.py`` with the pinned ``.venv-oracle`` interpreter, and writes
``lenstools_maps.npz`` (edges and oracle outputs, no maps) and ``lenstools_meta.json``
(recipe hash, oracle versions).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "oracle"))
import recipe  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "stats"
ORACLE_PY = Path(os.environ.get("ORACLE_PYTHON", ROOT / ".venv-oracle" / "bin" / "python"))


def main() -> None:
    inputs = recipe.build_inputs()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        flat = {"folds": np.array(recipe.FOLD_RATIOS)}
        for c, d in inputs.items():
            for k, v in d.items():
                flat[f"{c}/{k}"] = np.asarray(v)
        np.savez(src, **flat)
        subprocess.run([str(ORACLE_PY), str(ROOT / "oracle" / "lenstools_runner.py"), str(src), str(dst)], check=True)
        res = dict(np.load(dst))
    versions = json.loads(str(res.pop("versions")))
    golden = {}
    for c, d in inputs.items():
        for k, v in d.items():
            if k != "maps":
                golden[f"{c}/{k}"] = np.asarray(v)
    golden.update(res)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    tmpf = GOLDEN / "lenstools_maps.tmp.npz"
    np.savez_compressed(tmpf, **golden)
    os.replace(tmpf, GOLDEN / "lenstools_maps.npz")
    meta = {
        "recipe_sha256": recipe.recipe_hash(),
        "recipe_version": recipe.RECIPE_VERSION,
        "runner_sha256": hashlib.sha256((ROOT / "oracle" / "lenstools_runner.py").read_bytes()).hexdigest(),
        "oracle": versions,
        "cases": {c: {"n_maps": v[1], "n_pix": v[2], "side_deg": v[3], "kind": v[0], "seed": v[4]} for c, v in recipe.MAP_CASES.items()},
        "fold_ratios": list(recipe.FOLD_RATIOS),
    }
    tmpj = GOLDEN / "lenstools_meta.tmp.json"
    tmpj.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    os.replace(tmpj, GOLDEN / "lenstools_meta.json")
    size = sum(p.stat().st_size for p in GOLDEN.iterdir())
    print(f"wrote {GOLDEN} ({size / 1e3:.0f} kB), lenstools {versions['lenstools']}")


if __name__ == "__main__":
    main()
