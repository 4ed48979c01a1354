"""gancosmo.stats agrees bin for bin with lenstools 1.2 (golden files) and Pylians (live).

Golden files in ``tests/golden/stats/`` hold lenstools' outputs for the seeded fields of
``oracle/recipe.py``; ``make oracle`` (``bash oracle/regenerate.sh``) regenerates them with the
pinned ``.venv-oracle``.  Tolerances (relative, per bin, float64 inputs): 1e-6 for power
spectra, 1e-4 for Minkowski functionals, peak counts and bispectra.  float32 inputs are
computed in float32 (the GPU path): their power spectra agree to 3e-6, limited by float32
FFT rounding (about 1e-7 per mode, N log N operations).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from gancosmo.stats import (
    bispectrum_2d,
    bispectrum_3d,
    minkowski_2d,
    peak_counts_2d,
    power_spectrum_2d,
    power_spectrum_3d,
)
from gancosmo.stats.fields import gaussian_cubes, lognormal_cubes

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "stats"
ORACLE_PY = ROOT / ".venv-oracle" / "bin" / "python"


def _load_recipe():
    spec = importlib.util.spec_from_file_location("gancosmo_oracle_recipe", ROOT / "oracle" / "recipe.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


recipe = _load_recipe()


@pytest.fixture(scope="module")
def golden():
    return dict(np.load(GOLDEN / "lenstools_maps.npz"))


@pytest.fixture(scope="module")
def meta():
    return json.loads((GOLDEN / "lenstools_meta.json").read_text())


@pytest.fixture(scope="module")
def inputs():
    return recipe.build_inputs()


def assert_rel(ours, ref, rtol, what):
    """Per-bin relative agreement; bins where the reference is ~0 compare against 1e-9 of its peak."""
    ours, ref = np.asarray(ours, float), np.asarray(ref, float)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} vs {ref.shape}"
    floor = 1e-9 * np.max(np.abs(ref)) if ref.size else 0.0
    err = np.abs(ours - ref) / np.maximum(np.abs(ref), max(floor, 1e-300))
    worst = np.unravel_index(np.argmax(err), err.shape) if err.size else ()
    assert np.all(err <= rtol), f"{what}: max relative difference {err.max():.3g} > {rtol:g} at bin {worst}"


# ----------------------------------------------------------------------------------------
# golden files are current
# ----------------------------------------------------------------------------------------
def test_golden_files_are_current(meta, golden):
    assert meta["recipe_sha256"] == recipe.recipe_hash(), (
        "oracle/recipe.py changed since the golden files were made: run `make oracle`."
    )
    runner = hashlib.sha256((ROOT / "oracle" / "lenstools_runner.py").read_bytes()).hexdigest()
    assert meta["runner_sha256"] == runner, (
        "oracle/lenstools_runner.py changed since the golden files were made: run `make oracle`."
    )
    assert meta["oracle"]["lenstools"] == "1.2"
    assert meta["fold_ratios"] == list(recipe.FOLD_RATIOS)
    for case in recipe.MAP_CASES:
        for key in ("power", "power_p2", "minkowski/0", "peaks", "bisp_equilateral"):
            assert f"{case}/{key}" in golden, f"golden file lacks {case}/{key}: run `make oracle`."
    size = sum(p.stat().st_size for p in GOLDEN.iterdir())
    assert size < 2_000_000


# ----------------------------------------------------------------------------------------
# lenstools (golden)
# ----------------------------------------------------------------------------------------
CASES = list(recipe.MAP_CASES)


@pytest.mark.parametrize("case", CASES)
def test_power_spectrum_2d_matches_lenstools(case, inputs, golden):
    maps, side = inputs[case]["maps"], inputs[case]["side_deg"]
    for key, edges in (("power", "ell_edges"), ("power_p2", "ell_edges_p2")):
        e = golden[f"{case}/{edges}"]
        ell, cl = power_spectrum_2d(maps, side, e)
        np.testing.assert_allclose(ell, 0.5 * (e[1:] + e[:-1]), rtol=1e-15)
        assert_rel(cl, golden[f"{case}/{key}"], 1e-6, f"{case} {key}")
    # float32 path (used on GPUs): float32 FFT rounding limits agreement to a few 1e-6
    _, cl32 = power_spectrum_2d(maps.astype(np.float32), side, golden[f"{case}/ell_edges"])
    assert_rel(cl32, golden[f"{case}/power"], 3e-6, f"{case} power float32")


@pytest.mark.parametrize("case", CASES)
def test_minkowski_2d_matches_lenstools(case, inputs, golden):
    maps = inputs[case]["maps"]
    for key, th in (("minkowski", "thresholds"), ("minkowski_p2", "thresholds_p2")):
        nu, v0, v1, v2 = minkowski_2d(maps, golden[f"{case}/{th}"])
        for j, v in enumerate((v0, v1, v2)):
            assert_rel(v, golden[f"{case}/{key}/{j}"], 1e-4, f"{case} {key} V{j}")


@pytest.mark.parametrize("case", CASES)
def test_peak_counts_2d_matches_lenstools(case, inputs, golden):
    _, counts = peak_counts_2d(inputs[case]["maps"], golden[f"{case}/thresholds"])
    assert_rel(counts, golden[f"{case}/peaks"], 1e-4, f"{case} peaks")


@pytest.mark.parametrize("case", CASES)
def test_bispectrum_2d_matches_lenstools(case, inputs, golden):
    maps, side = inputs[case]["maps"], inputs[case]["side_deg"]
    e = golden[f"{case}/ell_edges_bisp"]
    _, b = bispectrum_2d(maps, side, e, configuration="equilateral")
    assert_rel(b, golden[f"{case}/bisp_equilateral"], 1e-4, f"{case} equilateral")
    for r in recipe.FOLD_RATIOS:
        _, b = bispectrum_2d(maps, side, e, configuration="folded", ratio=r)
        assert_rel(b, golden[f"{case}/bisp_folded_{r:g}"], 1e-4, f"{case} folded {r}")


@pytest.mark.skipif(not ORACLE_PY.exists(), reason="no .venv-oracle here (run `make oracle` to build it)")
def test_live_lenstools_on_a_fresh_field():
    """When the oracle venv exists, check a field that is not in the golden files."""
    rng = np.random.default_rng(99)
    maps = np.cumsum(np.cumsum(rng.standard_normal((1, 48, 48)), 1), 2) * 1e-3  # red, non-periodic
    flat = {
        "folds": np.array([0.4]),
        "x/maps": maps,
        "x/side_deg": np.float64(1.7),
        "x/ell_edges": np.linspace(300.0, 9000.0, 17),
        "x/ell_edges_p2": np.geomspace(250.0, 12000.0, 9),
        "x/ell_edges_bisp": np.linspace(500.0, 8000.0, 9),
        "x/thresholds": np.linspace(maps.min() * 0.9, maps.max() * 0.9, 20),
        "x/thresholds_p2": np.linspace(maps.min(), maps.max(), 7),
    }
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, **flat)
        subprocess.run(
            [str(ORACLE_PY), str(ROOT / "oracle" / "lenstools_runner.py"), src, dst], check=True, capture_output=True
        )
        ref = dict(np.load(dst))
    assert_rel(power_spectrum_2d(maps, 1.7, flat["x/ell_edges"])[1], ref["x/power"], 1e-6, "live power")
    assert_rel(power_spectrum_2d(maps, 1.7, flat["x/ell_edges_p2"])[1], ref["x/power_p2"], 1e-6, "live power log")
    _, v0, v1, v2 = minkowski_2d(maps, flat["x/thresholds"])
    for j, v in enumerate((v0, v1, v2)):
        assert_rel(v, ref[f"x/minkowski/{j}"], 1e-4, f"live V{j}")
    assert_rel(peak_counts_2d(maps, flat["x/thresholds"])[1], ref["x/peaks"], 1e-4, "live peaks")
    assert_rel(
        bispectrum_2d(maps, 1.7, flat["x/ell_edges_bisp"], "folded", 0.4)[1],
        ref["x/bisp_folded_0.4"],
        1e-4,
        "live folded",
    )


# ----------------------------------------------------------------------------------------
# Pylians (live)
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def PKL():
    return pytest.importorskip("Pk_library", reason="Pylians is in the test extra")


def _cube(kind, n, box, seed):
    f = gaussian_cubes if kind == "gaussian" else lognormal_cubes
    return f(1, n, box, seed=seed)[0].astype(np.float32)


@pytest.mark.parametrize("kind,n,box", [("gaussian", 32, 100.0), ("lognormal", 33, 250.0), ("lognormal", 48, 64.0)])
def test_power_spectrum_3d_matches_pylians(kind, n, box, PKL):
    d = _cube(kind, n, box, seed=n)
    ref = PKL.Pk(d, box, 0, "None", 1, False)
    k, pk, nmodes = power_spectrum_3d(d[None].astype(np.float64), box, return_nmodes=True)
    assert_rel(k, ref.k3D, 1e-12, "k")
    np.testing.assert_array_equal(nmodes, ref.Nmodes3D)
    assert_rel(pk[0], ref.Pk[:, 0], 1e-6, f"P(k) {kind} {n}")
    # float32 in, float32 FFT: both sides round differently
    _, pk32 = power_spectrum_3d(d[None], box)
    assert_rel(pk32[0], ref.Pk[:, 0], 1e-5, f"P(k) float32 {kind} {n}")


def test_cross_power_3d_of_a_field_with_itself_is_its_power():
    d = _cube("lognormal", 24, 50.0, 3)[None].astype(np.float64)
    _, pk = power_spectrum_3d(d, 50.0)
    _, xk = power_spectrum_3d(d, 50.0, other=d)
    np.testing.assert_allclose(xk, pk, rtol=1e-12)


@pytest.mark.parametrize("n,box,k1,k2", [(32, 64.0, 0.3, 0.5), (33, 100.0, 0.2, 0.3), (40, 64.0, 0.5, 1.0)])
def test_bispectrum_3d_matches_pylians(n, box, k1, k2, PKL):
    d = _cube("lognormal", n, box, seed=n + 1)
    th = np.linspace(0, 2.5, 10)
    with contextlib.redirect_stdout(io.StringIO()):
        ref = PKL.Bk(d, box, k1, k2, th, "None", 1)
    b, q = bispectrum_3d(d[None].astype(np.float64), box, k1, k2, th)
    assert_rel(b[0], ref.B, 1e-4, "B")
    assert_rel(q[0], ref.Q, 1e-4, "Q")
    b32, q32 = bispectrum_3d(d[None], box, k1, k2, th)
    assert_rel(b32[0], ref.B, 1e-4, "B float32")
    assert_rel(q32[0], ref.Q, 1e-4, "Q float32")
