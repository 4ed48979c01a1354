"""Recipe of the fixed random fields on which gancosmo.stats is checked against lenstools 1.2.

Pure numpy, seeded: the tests regenerate these inputs and compare with the golden outputs
in ``tests/golden/stats/`` computed by ``oracle/make_golden.py`` (``make oracle``).  The
SHA-256 of this file is stored in the golden metadata; a test fails when it changes without
the golden files being regenerated.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

RECIPE_VERSION = 1

# name: (kind, n_maps, n_pix, side_deg, seed)
MAP_CASES = {
    "gauss64": ("gaussian", 3, 64, 3.5, 11),
    "lognorm128": ("lognormal", 3, 128, 5.0, 12),
    "gauss127": ("gaussian", 2, 127, 2.0, 13),
    "lognorm256": ("lognormal", 1, 256, 5.0, 14),
}
FOLD_RATIOS = (0.5, 0.3)


def _maps(kind, n_maps, n_pix, side_deg, seed, slope=-1.2, ell0=1000.0, amp=1e-9):
    rng = np.random.default_rng(seed)
    lpix = 360.0 / side_deg
    fx = np.fft.fftfreq(n_pix) * n_pix
    fy = np.arange(n_pix // 2 + 1)
    ell = np.sqrt(fx[:, None] ** 2 + fy[None, :] ** 2) * lpix
    cl = np.zeros_like(ell)
    cl[ell > 0] = amp * (ell[ell > 0] / ell0) ** slope
    a = n_pix * np.sqrt(cl / np.deg2rad(side_deg) ** 2)
    white = rng.standard_normal((n_maps, n_pix, n_pix))
    g = np.fft.irfft2(np.fft.rfft2(white) * a, s=(n_pix, n_pix))
    if kind == "lognormal":
        shift = 0.02
        g = g / shift
        g = shift * (np.exp(g - 0.5 * g.var(axis=(1, 2), keepdims=True)) - 1.0)
    return g


def _edges(maps, n_pix, side_deg):
    """Bin edges for every statistic of one case (ell edges, thresholds)."""
    lpix = 360.0 / side_deg
    lmax = lpix * n_pix / 2
    s = float(maps.std())
    return {
        "ell_edges": np.linspace(lpix * 1.5, lmax * 1.3, 40),
        "ell_edges_p2": np.linspace(200.0, 6000.0, 200),
        "ell_edges_bisp": np.linspace(lpix * 2.0, lmax * 0.9, 25),
        "thresholds": np.linspace(-2.5 * s, 4.0 * s, 60),
        "thresholds_p2": np.linspace(0.01, 0.1, 100) * s / 0.02,
    }


def build_inputs():
    """Return ``{case: {"maps": (B, N, N) float64, "side_deg": float, <edges>...}}``."""
    out = {}
    for name, (kind, b, n, side, seed) in MAP_CASES.items():
        m = _maps(kind, b, n, side, seed)
        d = {"maps": m, "side_deg": side}
        d.update(_edges(m, n, side))
        out[name] = d
    return out


def recipe_hash() -> str:
    """SHA-256 of this file's bytes."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
