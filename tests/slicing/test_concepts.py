"""Concept slices on the tweets with a planted topic failure, and their cohorts."""

from __future__ import annotations

import numpy as np
import pytest

import errlens as el
from errlens.data.cohort import Cohort


@pytest.fixture(scope="module")
def planted(plant_self_driving) -> tuple[el.Analysis, np.ndarray]:
    """The tweets, a model that is right on 70% of rows at random, and every tweet about
    self-driving cars (found by a pattern the method never sees) predicted wrong."""
    return plant_self_driving(wrong=0.3)


def test_top_concept_is_the_planted_topic(planted: tuple[el.Analysis, np.ndarray]) -> None:
    ev, topic = planted
    found = ev.concepts(k=5)
    top = ev.mask(found.cohort(0))
    precision, recall = topic[top].mean(), (topic & top).sum() / topic.sum()
    assert precision >= 0.9 and recall >= 0.8, (found, precision, recall)
    assert {"cars", "driverless"} <= set(found.table.loc[0, "terms"])
    # each concept is significantly worse than the rest, best score first
    assert (found.table["p_adjusted"] <= 0.05).all()
    assert (found.table["lift"] > 1).all()
    assert found.table["score"].is_monotonic_decreasing
    # the table's figures are the cohort's
    assert found.table.loc[0, "n"] == top.sum()
    assert found.table.loc[0, "errors"] == ev.is_error[top].sum()


def test_concept_cohort_round_trips(planted: tuple[el.Analysis, np.ndarray]) -> None:
    ev, _ = planted
    found = ev.concepts(k=1)
    cohort = found.cohort(0)
    again = Cohort.from_json(cohort.to_json(), analysis=ev)
    assert again == cohort
    assert again.describe() == found.table.loc[0, "concept"]
    assert again.describe().startswith("text mentions ")
    row = found.to_json()["slices"][0]
    assert row["kind"] == "concept" and row["cohort"] == cohort.to_json()


def test_concepts_within_a_cohort(planted: tuple[el.Analysis, np.ndarray]) -> None:
    ev, _ = planted
    airline = Cohort.contains("text", "flight")
    found = ev.concepts(k=3, cohort=airline)
    assert found.params["n"] == ev.mask(airline).sum()
    inside = ev.mask(found.cohort(0)) if len(found) else np.zeros(ev.n, bool)
    assert not (inside & ~ev.mask(airline)).any()


def test_embeddings_group_terms_by_their_rows_vectors() -> None:
    texts = (["the sequel was a bore", "a remake, again", "great cast", "lovely scenery"]
             * 40)
    fails = np.array([True, True, False, False] * 40)
    ev = el.Analysis.from_predictions({"review": texts}, y_true=[1] * 160,
                                      y_pred=np.where(fails, 0, 1), text="review")
    vectors = np.where(fails[:, None], [1.0, 0.0], [0.0, 1.0])
    found = ev.concepts(embeddings=vectors, similarity=0.9)
    assert found.params["by"] == "embeddings"
    assert ev.mask(found.cohort(0)).tolist() == fails.tolist()


def test_no_failing_terms_no_concepts() -> None:
    ev = el.Analysis.from_predictions({"review": ["good film", "bad film"] * 30},
                                      y_true=[1, 0] * 30, y_pred=[1, 0] * 30, text="review")
    assert len(ev.concepts()) == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"k": 0}, "k must be"), ({"fdr": 1.5}, "fdr must be"), ({"similarity": 2}, "cosine"),
    ({"embeddings": np.zeros((3, 2))}, "one vector per row"),
    ({"text": "nope"}, "not a text column"),
])
def test_bad_input_is_named(kwargs: dict, message: str) -> None:
    ev = el.Analysis.from_predictions({"review": ["good film", "bad film"] * 30},
                                      y_true=[1, 0] * 30, y_pred=[0, 0] * 30, text="review")
    with pytest.raises((ValueError, KeyError), match=message):
        ev.concepts(**kwargs)
