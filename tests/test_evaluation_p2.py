"""P2's evaluation: the grid split, the comparisons (analytic cases), the regressor and FID plumbing."""
import numpy as np
import pytest
import torch
from gancosmo.evaluation import p2 as E
from gancosmo.models.regressor import (
    Regressor,
    mse,
    predict,
    split_regressor_data,
    train_regressor,
)
from gancosmo.sims.suites import kids450_grid
from gancosmo.stats import fid_like


def test_grid_split_is_46_train_8_interpolation_3_extrapolation():
    s = E.grid_split()
    assert (len(s["train"]), len(s["test_interpolation"]), len(s["test_extrapolation"])) == (46, 8, 3)
    all_ids = np.concatenate(list(s.values()))
    assert sorted(all_ids) == list(range(57))
    grid = kids450_grid()
    ext = {(grid[i]["omega_m"], grid[i]["sigma8"]) for i in s["test_extrapolation"]}
    assert ext == {(0.127, 0.836), (0.196, 1.225), (0.487, 0.643)}
    named = E.named_cosmologies()
    assert named["A"] in s["test_interpolation"] and {named[k] for k in "BCD"} == set(s["test_extrapolation"])


def test_training_hull():
    grid = kids450_grid()
    interp = [i for i in E.grid_split()["test_interpolation"]]
    om = [grid[i]["omega_m"] for i in interp]
    s8 = [grid[i]["sigma8"] for i in interp]
    assert E.inside_training_hull(om, s8).all()
    assert not E.inside_training_hull([0.487, 0.10], [1.331, 0.5]).any()


def _white(n, seed):
    return np.random.default_rng(seed).normal(0.0, 0.01, size=(n, 128, 128))


def test_compare_analytic_cases():
    real = _white(16, 0)
    scaled = 1.5 * real
    r = E.compare(real, scaled, n_pairs=4)
    assert r["f_cl"] == pytest.approx(1.5**2 - 1, rel=1e-6)  # C_ell scales by 1.5^2 in every bin
    assert r["f_bl"] == pytest.approx(1.5**3 - 1, rel=1e-6)  # B_ell by 1.5^3
    assert abs(r["f_r"]) < 1e-9  # correlation matrices are scale free
    # standardized N(0,1) vs N(0,1.5^2): W1 = 0.5 E|X| = 0.5 sqrt(2/pi)
    assert r["w1_pixel"] == pytest.approx(0.5 * np.sqrt(2 / np.pi), abs=0.01)
    same = E.compare(real, _white(16, 1), n_pairs=4)
    assert same["w1_pixel"] < 0.01 and same["f_cl"] < 0.05


def test_fid_plumbing_one_sigma_is_one():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(20000, 2))
    shifted = rng.normal(size=(20000, 2)) + np.array([1.0, 0.0])
    wider = rng.normal(size=(20000, 2)) * np.array([2.0, 1.0])
    assert fid_like(real, shifted, formula="p2_text") == pytest.approx(1.0, abs=0.05)
    assert fid_like(real, wider, formula="p2_text") == pytest.approx(1.0, abs=0.05)
    assert fid_like(real, rng.normal(size=(20000, 2)), formula="p2_text") < 0.06


def test_regressor_learns_parameters_on_tiny_data():
    rng = np.random.default_rng(0)
    n = 48
    params = np.column_stack([rng.uniform(0.1, 0.5, n), rng.uniform(0.5, 1.3, n)]).astype(np.float32)
    yy, xx = np.mgrid[0:128, 0:128] / 128.0
    # Omega_m sets the amplitude of one wave, sigma_8 of another, plus noise: learnable from 38 maps
    maps = (4 * params[:, 0, None, None] * np.sin(2 * np.pi * xx) + 2 * params[:, 1, None, None] * np.cos(2 * np.pi * yy)
            + 0.05 * rng.normal(size=(n, 128, 128))).astype(np.float32)
    tr, te = split_regressor_data(n, 0.8, seed=0)
    assert len(tr) == 38 and len(te) == 10 and not set(tr) & set(te)
    torch.manual_seed(0)
    model = Regressor(width=1)
    losses = train_regressor(model, maps[tr], params[tr], epochs=20, lr=1e-3, batch_size=16, progress=False)
    baseline = mse(np.tile(params[tr].mean(0), (len(te), 1)), params[te])
    err = mse(predict(model, maps[te]), params[te])
    assert losses[-1] < losses[0]
    assert err < 0.1 * baseline, (err, baseline)


def test_scaler_and_bad_input():
    s = E.MapScaler(0.02)
    x = _white(2, 5)
    assert np.allclose(s.inverse(s.forward(x)), x)
    with pytest.raises(ValueError, match="sigma must be a positive"):
        E.MapScaler(0.0)
    with pytest.raises(ValueError, match="need at least 2 maps"):
        split_regressor_data(1)


def test_scorecard_rows_carry_the_paper_numbers():
    m = dict(s_ssim=0.1, fid_sqrt=1.0, w1_pixel=0.02, w1_peak=0.03, f_cl=0.05, f_bl=0.2, f_r=0.01)
    named = E.named_cosmologies()
    gm = {i: dict(ours=m, reference=m, n_real=8, n_other=8) for i in named.values()}
    rows = E.scorecard_rows(gm, named, 1e-3, 2e-2, E.grid_split(), dict(regressor_test=10))
    assert rows[0].paper == 8.93e-5 and rows[0].ours == 1e-3
    fid = [r for r in rows if r.quantity.startswith("FID") and r.quantity.endswith("model B")][0]
    assert fid.paper == 1.44


@pytest.mark.parametrize("formula", ["p2_text", "frechet"])
def test_both_fid_formulas_through_compare(formula):
    """Both FID options reach the chapter's per-cosmology comparison: 1 for a 1-sigma shift, about 0 for the same law."""
    rng = np.random.default_rng(5)
    maps = rng.normal(size=(6, 128, 128)).astype(np.float32)
    real = rng.normal(size=(4000, 2))
    # standardized by the real sample's std (about 1 to 1.1% at n = 4000), so a shift of 1 reads 1 to about 3%
    for other, expected, tol in ((real[::-1] + np.array([1.0, 0.0]), 1.0, 0.03), (rng.normal(size=(4000, 2)), 0.0, 0.08)):
        fid = E.compare(maps[:3], maps[3:], real, other, n_pairs=3, fid_formula=formula)["fid_sqrt"]
        assert fid == pytest.approx(expected, abs=tol)
    assert fid_like(real, real * np.array([2.0, 1.0]), formula=formula) == pytest.approx(1.0, abs=0.01)
