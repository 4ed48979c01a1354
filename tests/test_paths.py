"""One cache default: $GANCOSMO_CACHE, else the checkout's .cache/gancosmo, else ~/.cache/gancosmo."""

from pathlib import Path

import gancosmo.paths as paths

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_is_recognised():
    assert paths.repository_root() == ROOT


def test_environment_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOSMO_CACHE", str(tmp_path / "elsewhere"))
    assert paths.cache_dir() == tmp_path / "elsewhere"
    assert (tmp_path / "elsewhere").is_dir()


def test_inside_the_checkout_the_default_is_the_repositorys_cache(monkeypatch):
    """papermill run in the repository reuses what `make book` generated: the same folder, no variable needed."""
    monkeypatch.delenv("GANCOSMO_CACHE", raising=False)
    assert paths.default_cache_dir() == ROOT / ".cache" / "gancosmo"
    assert paths.cache_dir() == ROOT / ".cache" / "gancosmo"


def test_empty_variable_means_the_default(monkeypatch):
    monkeypatch.setenv("GANCOSMO_CACHE", "")
    assert paths.cache_dir() == ROOT / ".cache" / "gancosmo"


def test_an_installed_copy_uses_the_home_cache(tmp_path, monkeypatch):
    """A copy of the module outside a checkout (as in site-packages) falls back to ~/.cache/gancosmo."""
    site = tmp_path / "site-packages" / "gancosmo"
    site.mkdir(parents=True)
    monkeypatch.setattr(paths, "__file__", str(site / "paths.py"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GANCOSMO_CACHE", raising=False)
    assert paths.repository_root() is None
    assert paths.cache_dir() == tmp_path / "home" / ".cache" / "gancosmo"


def test_a_lib_folder_without_pyproject_is_not_a_checkout(tmp_path, monkeypatch):
    package = tmp_path / "lib" / "gancosmo"
    package.mkdir(parents=True)
    monkeypatch.setattr(paths, "__file__", str(package / "paths.py"))
    assert paths.repository_root() is None
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'gancosmo'\n")
    assert paths.repository_root() == tmp_path
