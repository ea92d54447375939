"""Analysis.discover: readable ranked slices, cohorts, groups, JSON and bad input."""

from __future__ import annotations

import json
from itertools import product

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.base.stats import wilson_interval
from errlens.slicing.cohort import Cohort


def planted(repeat: int = 50) -> el.Analysis:
    """A (4 values) x B (3) x C (2) grid; every row with A = a1 and B = b2 is misclassified.
    D is "d0" on all rows but one per A1&B2 cell pair, so slices with D = d0 nearly duplicate."""
    grid = pd.DataFrame(list(product(range(4), range(3), range(2))) * repeat,
                        columns=["A", "B", "C"])
    frame = pd.DataFrame({name: name.lower() + grid[name].astype(str) for name in "ABC"})
    wrong = ((grid["A"] == 1) & (grid["B"] == 2)).to_numpy()
    frame["D"] = np.where(np.arange(len(frame)) % 50 == 0, "d1", "d0")
    y_true = np.zeros(len(frame), dtype=int)
    return el.Analysis.from_predictions(frame, y_true=y_true, y_pred=wrong.astype(int))


def test_known_answer_table():
    ev = planted()
    found = ev.discover(k=3, max_level=2, min_support=10, alpha=0.95, features=["A", "B", "C"])
    table = found.to_frame()
    assert list(table.columns) == [
        "slice", "level", "n", "support", "errors", "error_rate", "ci_low", "ci_high", "lift",
        "score", "group",
    ]
    top = table.iloc[0]
    assert top["slice"] == "A = a1 and B = b2"
    assert (top["n"], top["errors"], top["level"]) == (100, 100, 2)
    assert top["support"] == pytest.approx(100 / 1200)
    assert top["error_rate"] == 1.0 and top["lift"] == pytest.approx(12.0)
    low, high = wilson_interval([100], [100])
    assert (top["ci_low"], top["ci_high"]) == (low[0], high[0])
    assert top["score"] == pytest.approx(0.95 * 11 - 0.05 * 11)
    assert table["slice"].tolist()[1:] == ["A = a1", "A = a1 and C = c0"]


def test_cohorts_select_the_slice_rows_and_survive_json():
    ev = planted()
    found = ev.discover(k=5, max_level=3, min_support=10)
    data = json.loads(json.dumps(found.to_json(), allow_nan=False))
    assert data["params"]["k"] == 5 and data["params"]["n"] == 1200
    for i, row in enumerate(data["slices"]):
        mask = ev.mask(found.cohort(i))
        assert mask.sum() == row["n"] == found.to_frame()["n"].iloc[i]
        assert ev.is_error[mask].sum() == row["errors"]
        assert ev.mask(Cohort.from_json(row["cohort"])).tolist() == mask.tolist()
        assert row["rank"] == i and len(row["predicates"]) == row["level"]


def test_group_points_at_the_better_slice_it_nearly_duplicates():
    ev = planted()
    table = ev.discover(k=10, max_level=3, min_support=10, alpha=1.0,
                        features=["A", "B", "D"], distinct=False).to_frame()
    by_text = table.reset_index().set_index("slice")
    parent = by_text.loc["A = a1 and B = b2"]
    child = by_text.loc["A = a1 and B = b2 and D = d0"]
    assert child["n"] >= 0.9 * parent["n"]
    assert child["group"] == parent["rank"] == parent["group"]


def test_distinct_leaves_out_near_duplicates_and_still_returns_k():
    ev = planted()
    raw = ev.discover(k=40, max_level=3, min_support=10, alpha=1.0, features=["A", "B", "D"],
                      distinct=False).to_frame()
    found = ev.discover(k=10, max_level=3, min_support=10, alpha=1.0, features=["A", "B", "D"])
    table = found.to_frame()
    assert "A = a1 and B = b2 and D = d0" not in table["slice"].tolist()
    assert (table["group"] == table.index).all() and found.params["folded"] >= 1
    # SliceLine's order without the duplicates; their slots go to the next distinct slices
    leaders = raw.loc[raw["group"] == raw.index, "slice"].tolist()
    assert len(raw) > len(leaders) and table["slice"].tolist() == leaders[:10]


def test_features_and_cohort_restrict_the_search():
    ev = planted()
    found = ev.discover(k=5, max_level=2, min_support=5, features=["B", "C"])
    assert all(f in ("B", "C") for p in found.predicates for f, _ in p)
    inside = Cohort.segment("C", "c1")
    sub = ev.discover(k=5, max_level=2, min_support=5, cohort=inside)
    assert sub.params["n"] == 600
    assert sub.to_frame()["support"].iloc[0] == pytest.approx(50 / 600)
    for i in range(len(sub)):
        mask = ev.mask(sub.cohort(i))
        assert not (mask & ~ev.mask(inside)).any()
        assert mask.sum() == sub.to_frame()["n"].iloc[i]


def test_regression_errors_get_a_mean_interval():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 3000)})
    y_true = rng.normal(size=3000)
    noise = np.where(frame["g"] == "b", 3.0, 0.5) * rng.normal(size=3000)
    ev = el.Analysis.from_predictions(frame, y_true=y_true, y_pred=y_true + noise)
    found = ev.discover(k=1, max_level=1)
    top = found.to_frame().iloc[0]
    assert top["slice"] == "g = b"
    values = ev.error[frame["g"].to_numpy() == "b"]
    half = 1.959963984540054 * values.std(ddof=1) / np.sqrt(len(values))
    assert top["error_rate"] == pytest.approx(values.mean())
    assert top["ci_low"] == pytest.approx(values.mean() - half)
    assert top["ci_high"] == pytest.approx(values.mean() + half)


def test_progress_and_no_error_result():
    ev = planted()
    seen = []
    ev.discover(k=2, max_level=2, min_support=10, progress=seen.append)
    assert seen and seen[-1].level == 2 and seen[-1].done == seen[-1].total
    perfect = el.Analysis.from_predictions({"x": ["a", "b"] * 20}, y_true=[0, 1] * 20,
                                           y_pred=[0, 1] * 20)
    empty = perfect.discover()
    assert len(empty) == 0 and empty.to_frame().empty
    assert empty.to_json()["slices"] == []


def test_bad_input_is_named():
    ev = planted(2)
    with pytest.raises(ValueError, match="selects no rows"):
        ev.discover(cohort=np.zeros(ev.n, dtype=bool))
    with pytest.raises(KeyError, match="not a segmented feature"):
        ev.discover(features=["nope"])
    with pytest.raises(ValueError, match="features is empty"):
        ev.discover(features=[])
    with pytest.raises(ValueError, match="k must be"):
        ev.discover(k=0)
    with pytest.raises(ValueError, match="alpha must be"):
        ev.discover(alpha=0)
    with pytest.raises(ValueError, match="max_level must be"):
        ev.discover(max_level=0)
    found = ev.discover(k=1, min_support=1)
    with pytest.raises(IndexError, match="1 slices were found"):
        found.cohort(3)
