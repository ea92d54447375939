"""Fixtures shared by every test area."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.datasets import load_adult, load_tweets

SELF_DRIVING = r"self[- ]?driving|driverless|autonomous|\bcars?\b|vehicles?"
"""The planted topic's pattern: tweets about self-driving cars (no method sees it)."""


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


def _plant_self_driving(*, wrong: float, length: bool = False, seed: int = 0
                        ) -> tuple[el.Analysis, np.ndarray]:
    """The tweets (text, with its length as a tabular feature if ``length``), a model wrong on
    a random ``wrong`` share of rows, and every tweet about self-driving cars predicted wrong;
    returns the analysis and the topic's mask."""
    tweets = load_tweets()
    rng = np.random.default_rng(seed)
    classes = np.array(sorted(tweets["sentiment"].unique()))
    truth = tweets["sentiment"].to_numpy()
    mistaken = rng.random(len(tweets)) < wrong
    topic = tweets["text"].str.lower().str.contains(SELF_DRIVING).to_numpy()
    shift = rng.integers(1, len(classes), len(tweets))
    pred = np.where(mistaken | topic,
                    classes[(np.searchsorted(classes, truth) + shift) % len(classes)], truth)
    frame = tweets[["text"]]
    if length:
        frame = frame.assign(length=tweets["text"].str.len())
    ev = el.Analysis.from_predictions(frame, y_true=truth, y_pred=pred, id=tweets["id"],
                                      text="text")
    return ev, topic


@pytest.fixture(scope="session")
def plant_self_driving() -> Callable[..., tuple[el.Analysis, np.ndarray]]:
    """Builds the tweets with a planted failure on self-driving cars (see
    :func:`_plant_self_driving`)."""
    return _plant_self_driving
