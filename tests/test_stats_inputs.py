"""Bad input raises one clear ValueError sentence naming what was wrong and what is accepted."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gancosmo import stats as S

MAPS = np.random.default_rng(0).standard_normal((2, 16, 16))
CUBES = np.random.default_rng(1).standard_normal((2, 8, 8, 8))
EDGES = np.linspace(100, 3000, 8)
TH = np.linspace(-2, 2, 9)


def _nan(a):
    a = a.copy()
    a.flat[3] = np.nan
    return a


CASES = [
    # (callable, expected words in the message)
    (lambda: S.power_spectrum_2d(MAPS[0], 2.0, EDGES), ["maps", "dimensions", "(B, H, W)"]),
    (lambda: S.power_spectrum_2d(_nan(MAPS), 2.0, EDGES), ["maps", "NaN", "finite"]),
    (lambda: S.power_spectrum_2d(MAPS[:0], 2.0, EDGES), ["maps", "empty batch"]),
    (lambda: S.power_spectrum_2d(MAPS, 2.0, EDGES[::-1]), ["ell_edges", "strictly increasing"]),
    (lambda: S.power_spectrum_2d(MAPS, -1.0, EDGES), ["side_deg", "positive", "degrees"]),
    (lambda: S.power_spectrum_2d(MAPS[:, :, :8], 2.0, EDGES), ["maps", "square"]),
    (lambda: S.power_spectrum_2d(MAPS, 2.0, EDGES, other=MAPS[:1]), ["other", "shape"]),
    (lambda: S.power_spectrum_3d(MAPS, 10.0), ["cubes", "dimensions", "(B, D, H, W)"]),
    (lambda: S.power_spectrum_3d(_nan(CUBES), 10.0), ["cubes", "NaN"]),
    (lambda: S.power_spectrum_3d(CUBES, 10.0, k_edges=[0.1, 0.1, 0.3]), ["k_edges", "strictly increasing"]),
    (lambda: S.power_spectrum_3d(CUBES, 0.0), ["box_size", "Mpc/h"]),
    (lambda: S.power_spectrum_3d(CUBES, 10.0, other=CUBES[:1]), ["other", "shape"]),
    (lambda: S.bispectrum_2d(MAPS, 2.0, EDGES, configuration="squeezed"), ["configuration", "folded", "equilateral"]),
    (lambda: S.bispectrum_2d(MAPS, 2.0, EDGES, ratio=1.5), ["ratio", "between 0 and 1"]),
    (lambda: S.bispectrum_3d(CUBES[:, None], 10.0, 1.0, 1.5, [0.1]), ["cubes", "dimensions"]),
    (lambda: S.bispectrum_3d(CUBES, 10.0, -1.0, 1.5, [0.1]), ["k1", "h/Mpc"]),
    (lambda: S.minkowski_2d(MAPS, TH + 100), ["thresholds", "overlap the range"]),
    (lambda: S.minkowski_2d(MAPS, [0.0]), ["thresholds", "at least 2"]),
    (lambda: S.minkowski_2d(_nan(MAPS), TH), ["maps", "NaN"]),
    (lambda: S.peak_counts_2d(MAPS, TH - 100), ["thresholds", "overlap the range"]),
    (lambda: S.peak_counts_2d(MAPS, TH, neighbourhood=3), ["neighbourhood", "accepted"]),
    (lambda: S.peak_counts_3d(MAPS, TH), ["cubes", "dimensions"]),
    (lambda: S.peak_counts_3d(CUBES, TH[::-1]), ["thresholds", "strictly increasing"]),
    (lambda: S.histogram(MAPS, [0.0, 0.0, 1.0]), ["edges", "strictly increasing"]),
    (lambda: S.histogram(_nan(MAPS), TH), ["values", "NaN"]),
    (lambda: S.log_edges(0.0, 1.0, 10), ["log_edges", "0 < lo < hi"]),
    (lambda: S.fractional_difference(np.ones((3, 4)), np.ones((3, 5))), ["bins", "same bins"]),
    (lambda: S.frobenius_fr(np.ones((1, 4)), np.ones((3, 4))), ["real", "at least 2"]),
    (lambda: S.frechet_distance([0, 0], np.eye(2), [0], np.eye(1)), ["means", "covariances"]),
    (lambda: S.wasserstein1([], [1.0]), ["u", "empty"]),
    (lambda: S.dice_top_percent(MAPS, MAPS[:1]), ["a", "b", "shape"]),
    (lambda: S.dice_top_percent(MAPS, MAPS, percents=[0, 50]), ["percents", "(0, 100]"]),
    (lambda: S.nearest_neighbours(MAPS, MAPS, metric="ssim"), ["metric", "pixel", "power"]),
    (lambda: S.nearest_neighbours(MAPS, MAPS, k=5), ["k", "training set size"]),
    (lambda: S.ms_ssim_random_pairs(MAPS[:1]), ["pair", "at least 2"]),
    (lambda: S.power_spectrum_2d("maps", 2.0, EDGES), ["maps", "accepted"]),
    (lambda: S.power_spectrum_2d(torch.zeros(2, 8, 8, dtype=torch.complex64), 2.0, EDGES), ["complex", "real"]),
]


@pytest.mark.parametrize("call,words", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input_raises_one_clear_sentence(call, words):
    with pytest.raises(ValueError) as exc:
        call()
    msg = str(exc.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert "accepted" in msg or "accepted" in msg.lower(), msg
    assert msg.count("\n") == 0


def test_unknown_peak_boundary_is_rejected():
    maps = np.random.default_rng(0).normal(size=(2, 16, 16))
    with pytest.raises(ValueError, match="boundary must be 'periodic' or 'open'"):
        S.peak_counts_2d(maps, np.linspace(-1, 1, 5), boundary="wrap")
