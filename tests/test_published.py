"""Published-data loaders, offline: tiny files in the real formats served on loopback HTTP."""

from __future__ import annotations

import csv
import functools
import hashlib
import http.server
import inspect
import io
import json
import socket
import threading
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from gancosmo.sims import published as pub

P2_OM, P2_S8 = 0.101, 1.304
P2_ZIP = "kappa_map_cosmo_0.101_1.304.zip"


# --------------------------------------------------------------------------- helpers
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A loopback HTTP server over ``tmp_path/www``; yields ``(folder, base_url)``."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def write_zip(path: Path, members: dict) -> str:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return md5(path)


def p2_maps(n=5) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 0.01, (n, 128, 128)).astype(np.float32)


def serve_p2(www: Path, maps: np.ndarray) -> dict:
    digest = write_zip(www / P2_ZIP, {P2_ZIP.replace(".zip", ".npy"): npy_bytes(maps)})
    return {P2_ZIP: f"md5:{digest}"}


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# --------------------------------------------------------------------------- P2 tables
def test_p2_registry_has_all_archives_with_csv_md5s():
    registry = pub.p2_registry()
    with open(Path(pub.__file__).with_name("kids450_grid.csv"), newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 57
    zips = {k: v for k, v in registry.items() if k.endswith(".zip")}
    assert len(zips) == 57
    for row in rows:
        name = f"kappa_map_cosmo_{float(row['omega_m']):.3f}_{float(row['sigma_8']):.3f}.zip"
        assert name == row["zenodo_file"]
        assert zips[name] == f"md5:{row['md5']}"
        assert pub.parse_p2_filename(name) == (float(row["omega_m"]), float(row["sigma_8"]))
    assert registry["description.md"] == "md5:8e87303f686e31ac977c55af9fa5a330"
    assert registry["cosmo.par"] == "md5:674997a97f5f86b944c45793d378c0fc"
    assert pub.p4_registry()["nbody-cubes.zip"] == "md5:abc89d98e60d94fda703f5d176594dd9"
    assert pub.p1_registry() == {"cosmogan_maps_256_8k_1.npy": None}


def test_p2_grid_split():
    grid = pub.p2_grid()
    assert len(grid) == 57
    assert sum(r.split == "train" for r in grid) == 46
    assert sum(r.split == "test" for r in grid) == 11
    extrapolation = {(r.omega_m, r.sigma8) for r in grid if r.extrapolation}
    assert extrapolation == set(pub.P2_EXTRAPOLATION)
    assert all(r.split == "test" for r in grid if r.extrapolation)
    assert sum(r.split == "test" and not r.extrapolation for r in grid) == 8


def test_p2_unknown_cosmology(cache):
    with pytest.raises(ValueError, match="not one of the 57 P2 cosmologies"):
        pub.fetch_p2_cosmology(0.3, 0.8, cache=cache, base_url="http://127.0.0.1:9/")


# --------------------------------------------------------------------------- P2 downloads
def test_p2_download_and_load(server, cache):
    www, url = server
    maps = p2_maps()
    registry = serve_p2(www, maps)
    kwargs = dict(cache=cache, base_url=url, registry=registry, progressbar=False)
    out = pub.load_p2_maps(P2_OM, P2_S8, n_maps=3, **kwargs)
    assert out.shape == (3, 128, 128) and out.dtype == np.float32
    np.testing.assert_array_equal(out, maps[:3])
    path = pub.fetch_p2_cosmology(P2_OM, P2_S8, **kwargs)
    assert path.parent == cache / "p2" and pub.parse_p2_filename(path) == (P2_OM, P2_S8)
    # The single switch, and a memory map of the whole file.
    np.testing.assert_array_equal(pub.load_published("p2", omega_m=P2_OM, sigma8=P2_S8, **kwargs), maps)
    mm = pub.load_p2_maps(P2_OM, P2_S8, mmap=True, **kwargs)
    assert isinstance(mm, np.memmap) and mm.shape == (5, 128, 128)
    with pytest.raises(ValueError, match="n_maps"):
        pub.load_p2_maps(P2_OM, P2_S8, n_maps=6, **kwargs)
    # Served no longer: the verified cache is enough, and no temporary file is left.
    (www / P2_ZIP).unlink()
    np.testing.assert_array_equal(pub.load_p2_maps(P2_OM, P2_S8, **kwargs), maps)
    assert sorted(p.name for p in files_in(cache)) == sorted(
        [P2_ZIP, P2_ZIP.replace(".zip", ".npy"), P2_ZIP.replace(".zip", ".npy.json")]
    )


def test_p2_wrong_checksum_leaves_nothing(server, cache):
    www, url = server
    serve_p2(www, p2_maps())
    with pytest.raises(pub.ChecksumError) as info:
        pub.load_p2_maps(
            P2_OM, P2_S8, cache=cache, base_url=url, registry={P2_ZIP: "md5:" + "0" * 32}, progressbar=False
        )
    message = str(info.value)
    assert P2_ZIP in message and "0" * 32 in message and md5(www / P2_ZIP) in message
    assert "deleted" in message
    assert files_in(cache) == []


def test_p2_corrupted_cache_is_refetched(server, cache):
    www, url = server
    maps = p2_maps()
    registry = serve_p2(www, maps)
    kwargs = dict(cache=cache, base_url=url, registry=registry, progressbar=False)
    pub.fetch_p2_cosmology(P2_OM, P2_S8, **kwargs)
    cached = cache / "p2" / P2_ZIP
    cached.write_bytes(b"garbage" + cached.read_bytes()[7:])  # same size, wrong md5
    np.testing.assert_array_equal(pub.load_p2_maps(P2_OM, P2_S8, **kwargs), maps)
    assert "md5:" + md5(cached) == registry[P2_ZIP]  # downloaded again
    # A truncated extracted .npy is noticed (size record) and extracted again.
    npy = cache / "p2" / P2_ZIP.replace(".zip", ".npy")
    npy.write_bytes(npy.read_bytes()[:-128])
    np.testing.assert_array_equal(pub.load_p2_maps(P2_OM, P2_S8, **kwargs), maps)
    # Offline with a corrupted cached archive: an error, and the bad copy is removed.
    cached.write_bytes(b"garbage")
    with pytest.raises(pub.PublishedDataError, match="by hand"):
        pub.fetch_p2_cosmology(P2_OM, P2_S8, **{**kwargs, "base_url": closed_port_url()})
    assert not cached.exists()


def test_p2_corrupted_cache_with_bad_server_is_removed(server, cache):
    www, url = server
    registry = serve_p2(www, p2_maps())
    kwargs = dict(cache=cache, base_url=url, registry=registry, progressbar=False)
    pub.fetch_p2_cosmology(P2_OM, P2_S8, **kwargs)
    cached = cache / "p2" / P2_ZIP
    cached.write_bytes(cached.read_bytes()[:100])  # truncated in the cache
    write_zip(www / P2_ZIP, {"x.npy": npy_bytes(p2_maps(2))})  # server now wrong too
    with pytest.raises(pub.ChecksumError, match="not used"):
        pub.fetch_p2_cosmology(P2_OM, P2_S8, **kwargs)
    assert not cached.exists()


def test_p2_truncated_npy_in_zip(server, cache):
    www, url = server
    data = npy_bytes(p2_maps())
    digest = write_zip(www / P2_ZIP, {"kappa_map_cosmo_0.101_1.304.npy": data[: len(data) // 2]})
    with pytest.raises(pub.CorruptFileError, match="truncated"):
        pub.load_p2_maps(P2_OM, P2_S8, cache=cache, base_url=url, registry={P2_ZIP: f"md5:{digest}"}, progressbar=False)
    assert not list((cache / "p2").glob("*.npy*"))


def test_p2_truncated_zip(server, cache):
    www, url = server
    serve_p2(www, p2_maps())
    (www / P2_ZIP).write_bytes((www / P2_ZIP).read_bytes()[:5000])
    with pytest.raises(pub.CorruptFileError, match="not a readable zip"):
        pub.load_p2_maps(
            P2_OM, P2_S8, cache=cache, base_url=url, registry={P2_ZIP: f"md5:{md5(www / P2_ZIP)}"}, progressbar=False
        )
    assert not list((cache / "p2").glob("*.npy*"))


def test_p2_wrong_map_shape(server, cache):
    www, url = server
    digest = write_zip(www / P2_ZIP, {"m.npy": npy_bytes(np.zeros((2, 64, 64), np.float32))})
    with pytest.raises(pub.CorruptFileError, match=r"not \(n, 128, 128\)"):
        pub.load_p2_maps(P2_OM, P2_S8, cache=cache, base_url=url, registry={P2_ZIP: f"md5:{digest}"}, progressbar=False)


def test_p2_docs(server, cache):
    www, url = server
    (www / "description.md").write_text("# maps\n")
    (www / "cosmo.par").write_text("Om 0.3\n")
    registry = {n: f"md5:{md5(www / n)}" for n in ("description.md", "cosmo.par")}
    paths = pub.fetch_p2_docs(cache=cache, base_url=url, registry=registry, progressbar=False)
    assert paths["cosmo.par"].read_text() == "Om 0.3\n"


def closed_port_url() -> str:
    with socket.socket() as sock:  # a loopback port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_no_network_is_explained(cache):
    with pytest.raises(pub.PublishedDataError, match="place the file by hand"):
        pub.fetch_p2_cosmology(P2_OM, P2_S8, cache=cache, base_url=closed_port_url(), progressbar=False)
    assert files_in(cache) == []


# --------------------------------------------------------------------------- P4
def cube_file(cube: np.ndarray, key="data") -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        h5.create_dataset(key, data=cube)
    return buffer.getvalue()


def serve_p4(www: Path, cubes: list, key="data") -> dict:
    members = {f"nbody-cubes/{i}_256_nbody_350Mpc.h5": cube_file(c, key) for i, c in enumerate(cubes)}
    members["nbody-cubes/notes.txt"] = b"not a cube"
    return {"nbody-cubes.zip": f"md5:{write_zip(www / 'nbody-cubes.zip', members)}"}


def counts(n=3, size=8) -> list:
    rng = np.random.default_rng(1)
    return [rng.poisson(3.0, (size,) * 3).astype(np.int32) for _ in range(n)]


def test_p4_download_and_load(server, cache):
    www, url = server
    cubes = counts()
    kwargs = dict(cache=cache, base_url=url, registry=serve_p4(www, cubes), progressbar=False, cube_size=8)
    out = pub.load_p4_cubes(**kwargs)
    assert out.shape == (3, 8, 8, 8) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.stack(cubes))
    assert pub.load_published("p4", n_cubes=2, **kwargs).shape == (2, 8, 8, 8)
    assert sorted(p.name for p in (cache / "p4").iterdir()) == ["nbody-cubes", "nbody-cubes.zip"]
    with pytest.raises(ValueError, match="n_cubes"):
        pub.load_p4_cubes(n_cubes=4, **kwargs)


@pytest.mark.parametrize(
    "problem, match",
    [
        ("key", "no dataset 'data'"),
        ("shape", "not a 8\\^3 cube"),
        ("negative", "negative"),
        ("truncated", "not a readable HDF5"),
    ],
)
def test_p4_bad_cubes(server, cache, problem, match):
    www, url = server
    cubes, key = counts(2), "data"
    if problem == "key":
        key = "density"
    elif problem == "shape":
        cubes[1] = cubes[1][:, :, :4]
    elif problem == "negative":
        cubes[0] = cubes[0] - 10
    registry = serve_p4(www, cubes, key=key)
    if problem == "truncated":
        good = cube_file(cubes[0])
        members = {"0_256_nbody_350Mpc.h5": good[: len(good) // 2]}
        registry = {"nbody-cubes.zip": f"md5:{write_zip(www / 'nbody-cubes.zip', members)}"}
    with pytest.raises(pub.CorruptFileError, match=match):
        pub.load_p4_cubes(cache=cache, base_url=url, registry=registry, progressbar=False, cube_size=8)
    if problem != "negative":  # caught before anything was put in place
        assert sorted(p.name for p in (cache / "p4").iterdir()) == ["nbody-cubes.zip"]


# --------------------------------------------------------------------------- P1
P1 = "cosmogan_maps_256_8k_1.npy"


def p1_maps(n=4) -> np.ndarray:
    return np.random.default_rng(2).uniform(-1, 1, (n, 256, 256)).astype(np.float32)


def test_p1_download_verify_and_refetch(server, cache):
    www, url = server
    maps = p1_maps()
    np.save(www / P1, maps)
    kwargs = dict(cache=cache, base_url=url, progressbar=False)
    out = pub.load_p1_maps(n_maps=2, **kwargs)
    assert out.shape == (2, 256, 256) and out.dtype == np.float32
    np.testing.assert_array_equal(out, maps[:2])
    cached = cache / "p1" / P1
    record = pub._read_json(cached.with_name(P1 + ".json"))
    assert record["md5"] == md5(cached) and record["shape"] == [4, 256, 256]
    # A cached copy that changed is detected and fetched again.
    raw = bytearray(cached.read_bytes())
    raw[-1] ^= 0xFF
    cached.write_bytes(bytes(raw))
    np.testing.assert_array_equal(pub.load_published("p1", **kwargs), maps)
    assert md5(cached) == md5(www / P1)


@pytest.mark.parametrize(
    "problem, match",
    [
        ("range", r"outside the \[-1, 1\] range"),
        ("truncated", "truncated"),
        ("shape", r"not \(n, 256, 256\)"),
    ],
)
def test_p1_bad_file_is_not_kept(server, cache, problem, match):
    www, url = server
    maps = p1_maps()
    if problem == "range":
        maps[1, 0, 0] = 3.0
    elif problem == "shape":
        maps = maps[:, :128]
    data = npy_bytes(maps)
    (www / P1).write_bytes(data[:-1000] if problem == "truncated" else data)
    with pytest.raises(pub.CorruptFileError, match=match):
        pub.load_p1_maps(cache=cache, base_url=url, progressbar=False)
    assert files_in(cache / "p1") == []


def test_p1_corrupted_cache_with_bad_server(server, cache):
    www, url = server
    np.save(www / P1, p1_maps())
    pub.fetch_p1_maps(cache=cache, base_url=url, progressbar=False)
    cached = cache / "p1" / P1
    cached.write_bytes(cached.read_bytes()[:-10])
    (www / P1).write_bytes(npy_bytes(p1_maps())[:-10])
    with pytest.raises(pub.CorruptFileError, match="truncated"):
        pub.load_p1_maps(cache=cache, base_url=url, progressbar=False)
    assert files_in(cache / "p1") == []


# --------------------------------------------------------------------------- switch
def test_names_and_unpublished():
    assert set(pub.PUBLISHED) == {"p1", "p2", "p4"}
    assert "not simulations" in pub.PUBLISHED["p1"]
    with pytest.raises(ValueError, match="'p1', 'p2', 'p4'"):
        pub.load_published("p9")
    for name, loader in (("p3", pub.load_p3_boxes), ("p5", pub.load_p5_images)):
        for call in (loader, functools.partial(pub.load_published, name)):
            with pytest.raises(pub.DataNotPublicError, match="simulated") as info:
                call()
            assert str(info.value).replace("al. ", "").count(". ") == 0  # one sentence


def test_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOSMO_CACHE", str(tmp_path / "root"))
    assert pub.published_cache() == tmp_path / "root" / "published"
    assert pub.published_cache(tmp_path / "mine") == tmp_path / "mine"


# --------------------------------------------------------------------------- one way to call every loader
def one_sentence(message: str) -> bool:
    return message.rstrip(".").count(". ") == 0


def test_every_loader_takes_the_same_common_arguments():
    common = {"cache", "base_url", "registry", "progressbar", "timeout"}
    for name in pub.PUBLISHED:
        accepted = pub.published_arguments(name)
        assert common <= set(accepted), name
        assert accepted["timeout"] == pub.DEFAULT_TIMEOUT == 30.0
    assert [k for k, v in pub.published_arguments("p2").items() if v is inspect.Parameter.empty] == [
        "omega_m",
        "sigma8",
    ]


@pytest.mark.parametrize(
    "name, options, words",
    [
        (
            "p2",
            {},
            r"The published 'p2' data need omega_m \(.*p2_grid\(\).*\) and sigma8 \(.*\); the accepted arguments",
        ),
        ("p2", {"omega_m": P2_OM}, r"need sigma8 \(sigma_8 of that cosmology, such as 1\.304\)"),
        ("p1", {"n": 3}, r"The published 'p1' data take no argument 'n'; the accepted arguments are n_maps, cache"),
        ("p4", {"n_maps": 3}, r"take no argument 'n_maps'; the accepted arguments are n_cubes, cache"),
        ("p1", {"timeout": 0}, r"timeout must be a positive number of seconds, got 0"),
        ("p2", {"omega_m": "0.101", "sigma8": P2_S8}, r"omega_m must be a finite number"),
    ],
)
def test_missing_or_unknown_arguments_are_one_clear_sentence(cache, name, options, words):
    from gancosmo.sims.suites import load_suite

    for call in (
        lambda: pub.load_published(name, cache=cache, **options),
        lambda: load_suite(name, source="published", cache=cache, **options),
    ):
        with pytest.raises(ValueError, match=words) as info:
            call()
        assert one_sentence(str(info.value)), str(info.value)
    assert not cache.exists()  # refused before anything was made


def test_load_suite_published_calls_each_loader(server, cache):
    from gancosmo.sims.suites import load_suite

    www, url = server
    maps, cubes = p2_maps(), counts()
    registry = {**serve_p2(www, maps), **serve_p4(www, cubes)}
    np.save(www / P1, p1_maps())
    common = dict(cache=cache, base_url=url, registry=registry, progressbar=False, timeout=5)
    p2 = load_suite("p2", source="published", omega_m=P2_OM, sigma8=P2_S8, n_maps=4, **common)
    np.testing.assert_array_equal(p2["data"], maps[:4])
    assert p2.config["source"] == "published" and p2.config["omega_m"] == str(P2_OM)
    p4 = load_suite("p4", source="published", n_cubes=2, cube_size=8, **common)
    np.testing.assert_array_equal(p4["data"], np.stack(cubes[:2]))
    p1 = load_suite("p1", source="published", n_maps=2, **common)
    np.testing.assert_array_equal(p1["data"], p1_maps()[:2])


# --------------------------------------------------------------------------- failed downloads leave nothing
class _CutOffHandler(http.server.BaseHTTPRequestHandler):
    """Announces 100 kB, sends 1 kB, closes the connection."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"\0" * 1000)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def cut_off_url(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CutOffHandler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def hanging_url(monkeypatch):
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


LOADERS = {
    "p1": dict(),
    "p2": dict(omega_m=P2_OM, sigma8=P2_S8),
    "p4": dict(cube_size=8),
}


def interrupting_downloader(monkeypatch):
    """Replace pooch's HTTP download by one that writes half a file, then is interrupted (Ctrl-C)."""
    import pooch

    def interrupted(self, url, output_file, pooch_instance, check_only=False):
        with open(output_file, "wb") as fh:
            fh.write(b"\0" * 4096)
        raise KeyboardInterrupt

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", interrupted)


@pytest.mark.parametrize("name", sorted(LOADERS))
@pytest.mark.parametrize("failure", ["closed port", "file url", "hanging", "cut off", "interrupted"])
def test_a_failed_download_leaves_no_file_and_no_folder(tmp_path, monkeypatch, cut_off_url, hanging_url, name, failure):
    cache = tmp_path / "published"
    url = {
        "closed port": closed_port_url(),
        "file url": (tmp_path / "nowhere").as_uri() + "/",
        "hanging": hanging_url,
        "cut off": cut_off_url,
        "interrupted": "http://127.0.0.1:9/",
    }[failure]
    if failure == "interrupted":
        interrupting_downloader(monkeypatch)
    expected = KeyboardInterrupt if failure == "interrupted" else pub.PublishedDataError
    with pytest.raises(expected) as info:
        pub.load_published(name, cache=cache, base_url=url, progressbar=False, timeout=0.5, **LOADERS[name])
    if failure != "interrupted":
        assert "place the file by hand" in str(info.value) and one_sentence(str(info.value))
    assert not cache.exists(), sorted(str(p) for p in cache.rglob("*"))


def test_a_failed_download_keeps_the_cache_root_that_was_there(tmp_path):
    cache = tmp_path / "published"
    (cache / "p1").mkdir(parents=True)
    with pytest.raises(pub.PublishedDataError):
        pub.load_published("p2", cache=cache, base_url=closed_port_url(), omega_m=P2_OM, sigma8=P2_S8)
    assert sorted(p.name for p in cache.iterdir()) == ["p1"]  # only what this call created is gone


def test_a_hanging_network_fails_within_the_timeout(tmp_path, hanging_url):
    import time

    start = time.perf_counter()
    with pytest.raises(pub.PublishedDataError, match=r"no answer within 0\.5 s: ReadTimeout"):
        pub.fetch_p4_cubes(cache=tmp_path / "c", base_url=hanging_url, progressbar=False, timeout=0.5, cube_size=8)
    elapsed = time.perf_counter() - start
    # one address (127.0.0.1): at most (1 + 1) * timeout, plus the test's own overhead
    assert 0.4 < elapsed < 0.5 * 2 + 1.0


# --------------------------------------------------------------------------- corrupt JSON records
def test_corrupt_json_records_are_reported_as_json_and_the_data_verified_again(server, cache):
    www, url = server
    maps, cubes = p2_maps(), counts()
    registry = {**serve_p2(www, maps), **serve_p4(www, cubes)}
    np.save(www / P1, p1_maps())
    common = dict(cache=cache, base_url=url, registry=registry, progressbar=False)
    pub.load_published("p1", **common)
    pub.load_published("p2", omega_m=P2_OM, sigma8=P2_S8, **common)
    pub.load_published("p4", cube_size=8, **common)
    records = {
        "p1": cache / "p1" / (P1 + ".json"),
        "p2": cache / "p2" / P2_ZIP.replace(".zip", ".npy.json"),
        "p4": cache / "p4" / "nbody-cubes" / "manifest.json",
    }
    for path in records.values():
        path.write_text(path.read_text()[:-3])  # a cut JSON record
    for served in list(www.iterdir()):
        served.unlink()  # offline now: the cached files must be verified again, not downloaded
    expected = {"p1": p1_maps(), "p2": maps, "p4": np.stack(cubes)}
    options = {"p1": {}, "p2": dict(omega_m=P2_OM, sigma8=P2_S8), "p4": dict(cube_size=8)}
    for name, record in records.items():
        with pytest.warns(pub.PublishedRecordWarning) as caught:
            out = pub.load_published(name, **options[name], **common)
        messages = [str(w.message) for w in caught if issubclass(w.category, pub.PublishedRecordWarning)]
        assert len(messages) == 1
        assert messages[0].startswith(f"the JSON record {record} is not valid JSON")
        assert ".h5 " not in messages[0] and "zip archive" not in messages[0]
        np.testing.assert_array_equal(out, expected[name])
        assert isinstance(json.loads(record.read_text()), dict)  # written again, valid
