"""Named suites: shapes, the config-keyed cache, corruption handling and bad input."""

import json
import math
import warnings

import numpy as np
import pytest
from gancosmo.sims import load_suite
from gancosmo.sims.cache import CacheCorruptionWarning, cached_arrays, config_key
from gancosmo.sims.suites import book_requests, kids450_grid, log_like, p2_maps, resolve_profile, slab_images


def test_cache_roundtrip_and_key(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return dict(x=np.arange(10.0), attrs=dict(note="hello"))

    a, meta = cached_arrays("demo", dict(n=10), build, root=tmp_path)
    b, meta_b = cached_arrays("demo", dict(n=10), build, root=tmp_path)
    assert len(calls) == 1 and np.array_equal(a["x"], b["x"]) and meta_b["attrs"] == {"note": "hello"}
    assert config_key(dict(n=10)) != config_key(dict(n=11))
    assert config_key(dict(a=1, b=2)) == config_key(dict(b=2, a=1))
    assert not list(tmp_path.glob("*.tmp"))


def test_corrupt_cache_file_is_regenerated_not_read(tmp_path):
    def build():
        return dict(x=np.arange(1000.0))

    cached_arrays("demo", dict(n=1), build, root=tmp_path)
    h5 = next(tmp_path.glob("demo-*.h5"))
    data = bytearray(h5.read_bytes())
    data[-100] ^= 0xFF  # flip bits inside the array data
    h5.write_bytes(bytes(data))
    with pytest.warns(CacheCorruptionWarning, match="corrupt"):
        arrays, _ = cached_arrays("demo", dict(n=1), build, root=tmp_path)
    assert np.array_equal(arrays["x"], np.arange(1000.0))
    # the regenerated entry is clean again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cached_arrays("demo", dict(n=1), build, root=tmp_path)


def test_truncated_or_orphaned_cache_entries(tmp_path):
    cached_arrays("demo", dict(n=2), lambda: dict(x=np.ones(50)), root=tmp_path)
    h5 = next(tmp_path.glob("demo-*.h5"))
    h5.write_bytes(h5.read_bytes()[:200])
    with pytest.warns(CacheCorruptionWarning):
        arrays, _ = cached_arrays("demo", dict(n=2), lambda: dict(x=np.ones(50)), root=tmp_path)
    assert arrays["x"].shape == (50,)
    # an .h5 without its JSON (an interrupted write) is rebuilt silently
    meta = next(tmp_path.glob("demo-*.json"))
    meta.unlink()
    arrays, m = cached_arrays("demo", dict(n=2), lambda: dict(x=np.zeros(5)), root=tmp_path)
    assert arrays["x"].shape == (5,) and json.loads(meta.read_text())["shapes"] == {"x": [5]}


@pytest.fixture(scope="module")
def smoke():
    return {name: load_suite(name, profile="smoke", progress=False, **opts) for name, opts in book_requests("smoke")}


def test_smoke_suites_shapes_and_values(smoke):
    p1 = smoke["p1"]["maps"]
    assert p1.shape == (64, 64, 64) and np.all(np.isfinite(p1))
    p2 = smoke["p2"]
    assert p2["maps"].shape == (10, 32, 32) and p2["params"].shape == (10, 2)  # 5 cosmologies x 2 maps
    grid = kids450_grid()
    for index, params in zip(p2["cosmology_index"], p2["params"]):
        assert tuple(params) == (grid[index]["omega_m"], grid[index]["sigma8"])
    p3 = smoke["p3"]
    assert set(p3.arrays) == {f"density_z{z:g}" for z in (3.0, 1.5, 0.5, 0.0, 2.0, 1.0, 0.25)}
    assert p3["density_z0"].shape == (1, 32, 32, 32)
    assert p3["density_z0"].mean() == pytest.approx(1.0, abs=0.02)
    counts = smoke["p4"]["counts"]
    assert counts.dtype == np.int32 and counts.shape == (2, 16, 16, 16)
    assert np.all(counts.sum(axis=(1, 2, 3)) == 64**3)  # 64 particles per voxel
    images = smoke["p5"]["images"]
    assert images.shape[1:] == (32, 32) and images.min() > -1.5 and images.max() < 1.0
    p5_2d = smoke["p5_2d"]
    assert p5_2d["density"].shape == (2, 64, 64) and p5_2d["images"].max() <= 1.0


def test_suite_reads_back_from_cache(smoke):
    again = load_suite("p4", profile="smoke", progress=False)
    assert np.array_equal(again["counts"], smoke["p4"]["counts"])
    assert again.meta["key"] == smoke["p4"].meta["key"]
    assert again.config["n_cubes"] == 2 and again.config["cosmology"]["omega_m"] == 0.276


def test_p2_split_and_grid():
    grid = kids450_grid()
    assert len(grid) == 57
    assert sum(g["split"] == "train" for g in grid) == 46
    assert sum(g["extrapolation"] for g in grid) == 3


def test_log_like_transforms():
    # P5 Eq. 1 maps [0.01, 600] onto [-1, 1]
    assert log_like(np.array([0.01, 600.0]), a=math.log(0.01), b=math.log(600.0)) == pytest.approx([-1.0, 1.0])
    # Eq. 2 with c = 0.001 maps v = 0 to -1 and v = 2632 - c to +1
    assert log_like(np.array([0.0, 2632.0 - 1e-3]), a=math.log(1e-3), b=math.log(2632.0), c=1e-3) == pytest.approx(
        [-1.0, 1.0]
    )


def test_slab_images_match_a_direct_histogram():
    """One slab image equals numpy's 2D histogram of that slab, transformed (P5 Eq. 2) and smoothed with stride 3."""
    import torch
    from scipy.ndimage import gaussian_filter

    g = torch.Generator().manual_seed(0)
    x = torch.rand(30000, 3, generator=g, dtype=torch.float64) * 90.0
    images = slab_images(x, 90.0, slabs_per_axis=2, histogram=48)
    assert images.shape == (6, 16, 16)
    # slab 1 along axis 0 (index 1): particles with 45 <= x < 90, histogram over (y, z)
    sel = x[:, 0].numpy() >= 45.0
    counts, _, _ = np.histogram2d(x[sel, 1].numpy(), x[sel, 2].numpy(), bins=48, range=[[0, 90], [0, 90]])
    transformed = log_like(counts, a=math.log(1e-3), b=math.log(2632.0), c=1e-3)
    expected = gaussian_filter(transformed, sigma=3.0, mode="wrap", truncate=4.0)[::3, ::3]
    assert np.allclose(images[1], expected, atol=1e-5)
    assert counts.sum() == sel.sum()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: load_suite("p9"), "unknown suite 'p9'"),
        (lambda: load_suite("p1", profile="huge"), "profile must be one of auto, smoke, cpu, cpu-long, gpu, paper"),
        (lambda: load_suite("p1", profile="smoke", source="web"), "source must be 'simulated' or 'published'"),
        (lambda: load_suite("p3", profile="smoke", source="published"), "never made public"),
        (lambda: load_suite("p4", profile="smoke", n_cube=3), "unknown option"),
        (lambda: p2_maps(profile="smoke", cosmologies=[57]), "cosmologies must be indices"),
        (lambda: p2_maps(profile="smoke", cosmologies=[1.7]), "cosmologies must be indices"),
        (lambda: load_suite("p1", profile="smoke", omega_m=0.5), "unknown option"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_cuda_requested_without_cuda():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA is not available"):
        load_suite("p1", profile="smoke", device="cuda")


def test_resolve_profile():
    import torch

    assert resolve_profile("auto") == ("gpu" if torch.cuda.is_available() else "cpu")
    assert resolve_profile("smoke") == "smoke"


def test_corrupt_json_record_is_reported_as_the_record(tmp_path):
    builds = []

    def build():
        builds.append(1)
        return dict(x=np.arange(4.0))

    cached_arrays("t", dict(a=1), build, root=tmp_path)
    record = next(tmp_path.rglob("*.json"))
    record.write_text(record.read_text()[:10])
    with pytest.warns(CacheCorruptionWarning, match=r"cache record .*\.json is not a valid JSON record"):
        arrays, _ = cached_arrays("t", dict(a=1), build, root=tmp_path)
    assert len(builds) == 2 and np.array_equal(arrays["x"], np.arange(4.0))
