"""Fixtures shared by every test area."""

from __future__ import annotations

import pandas as pd
import pytest

from errlens.datasets import load_adult


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    """UCI Adult, 48,842 rows (read once per session; tests must not mutate it)."""
    return load_adult()
