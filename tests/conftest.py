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
