"""Fixtures shared by every test area."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pandas as pd
import pytest

from errlens.datasets import load_adult


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Changelog checkpoints go to a folder of this test run, not the user's cache."""
    before = os.environ.get("ERRLENS_CACHE_DIR")
    os.environ["ERRLENS_CACHE_DIR"] = str(tmp_path_factory.mktemp("errlens-cache"))
    yield
    if before is None:
        del os.environ["ERRLENS_CACHE_DIR"]
    else:
        os.environ["ERRLENS_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    """UCI Adult, 48,842 rows (read once per session; tests must not mutate it)."""
    return load_adult()
