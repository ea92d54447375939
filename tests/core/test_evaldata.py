"""The data contract: layer-3 functions run on a bare EvalData, caches are typed fields, and the
data layer imports nothing above it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.build import from_predictions
from errlens.data import Cohort, DataCache, EvalData
from errlens.slicing import masks
from errlens.slicing.discovery.run import discover
from errlens.slicing.segment_cache import segments_at
from errlens.slicing.tables import slice_table
from errlens.suspects.detect import find_suspects


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    from errlens.datasets import load_adult

    return load_adult().sample(3000, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def pair(adult: pd.DataFrame) -> tuple[EvalData, el.Analysis]:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([2, 2], len(adult))
    kwargs = dict(y_true="income", proba=proba, classes=["<=50K", ">50K"], id="id",
                  proba_out_of_fold=True)
    data = from_predictions(EvalData, adult, **kwargs)
    return data, el.Analysis.from_predictions(adult, **kwargs)


def test_layer_three_runs_on_bare_evaluation_data(pair: tuple[EvalData, el.Analysis]) -> None:
    data, ev = pair
    assert type(data) is EvalData and not hasattr(data, "slices")
    cohort = Cohort.where("age", ">=", 40) & Cohort.segment("sex", "Male")
    np.testing.assert_array_equal(masks.mask(data, cohort), ev.mask(cohort))
    assert masks.mask(data, cohort).sum() == ((ev.features["age"] >= 40)
                                              & (ev.features["sex"] == "Male")).sum()
    pd.testing.assert_frame_equal(slice_table(data, ["race"], cohort=cohort),
                                  ev.slices(["race"], cohort=cohort))
    found = discover(data, k=3, max_level=2)
    assert found.to_frame()["slice"].tolist() == ev.discover(k=3, max_level=2).to_frame()[
        "slice"].tolist()
    pd.testing.assert_frame_equal(find_suspects(data, "confident_learning").table,
                                  ev.suspects("confident_learning").table)


def test_caches_are_typed_fields_not_dict_keys(pair: tuple[EvalData, el.Analysis]) -> None:
    _, ev = pair
    fresh = el.Analysis.from_predictions(ev.features.reset_index(drop=True),
                                         y_true=ev.y_true.to_numpy(), y_pred=ev.y_pred.to_numpy())
    before = set(vars(fresh))
    fresh.slices(cohort=Cohort.segment("age", fresh.segments.labels[0][0]))
    fresh.error_tree(max_depth=2)
    fresh.suspects("knn", n_neighbors=5)
    assert set(vars(fresh)) == before  # nothing written beside the declared fields
    cache = fresh.cache
    assert {f.name for f in fields(DataCache)} >= {"segments_by_setting", "packed_keys"}
    assert cache.segments_by_setting[(5, 10)] is fresh.segments is segments_at(fresh)
    assert id(fresh.segments) in cache.packed_keys
    assert any(key[0] == "knn" for key in cache.suspects if isinstance(key, tuple))
    assert cache.y_true_codes is not None and cache.y_pred_codes is not None


def test_cohort_asks_the_analysis_it_is_given() -> None:
    class Recorder:
        features = pd.DataFrame({"x": [1, 2]})

        def __init__(self) -> None:
            self.asked: list[object] = []

        def mask(self, cohort: object = None) -> np.ndarray:
            self.asked.append(cohort)
            return np.array([True, False])

    analysis = Recorder()
    cohort = Cohort.where("x", "<", 2)
    assert cohort.mask(analysis).tolist() == [True, False]  # type: ignore[arg-type]
    assert analysis.asked == [cohort]


def test_the_data_layer_imports_nothing_above_it() -> None:
    code = ("import sys, errlens.data; "
            "print(sorted(m for m in sys.modules if m.startswith('errlens.') and "
            "m.split('.')[1] in ('slicing', 'suspects', 'engines', 'analysis', 'views', "
            "'widgets', 'build')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
