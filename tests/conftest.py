"""Shared test settings: a private data cache per test session, no GUI backend."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    previous = os.environ.get("GANCOSMO_CACHE")
    os.environ["GANCOSMO_CACHE"] = str(tmp_path_factory.mktemp("gancosmo-cache"))
    yield
    if previous is None:
        os.environ.pop("GANCOSMO_CACHE", None)
    else:
        os.environ["GANCOSMO_CACHE"] = previous


def pytest_configure(config):
    """Under pytest-xdist, give each worker its share of the cores: N workers x all-core torch pools oversubscribe."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
