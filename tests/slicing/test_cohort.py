"""Cohort: masks against pandas, missing-value semantics, text, JSON, validation, partitions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import errlens as el
from errlens.slicing.cohort import OPS, Cohort

SMALL = pd.DataFrame({
    "x": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
    "c": pd.Categorical(["a", "b", "a", None, "c", "b"]),
    "s": ["u", "v", "w", "u", None, "v"],
    "t": pd.to_datetime(["2024-01-01", "2024-02-01", None, "2024-03-01", "2024-04-01",
                         "2024-05-01"]),
})


@pytest.fixture(scope="module")
def small() -> el.Analysis:
    return el.Analysis.from_predictions(SMALL, y_true=["p", "q", "p", "q", "p", "q"],
                                        y_pred=["p", "p", "q", "q", "p", "p"],
                                        id=[f"r{i}" for i in range(6)])


@pytest.mark.parametrize("feature, op, value, expected", [
    ("x", "==", 2, [0, 1, 0, 0, 0, 0]),
    ("x", "!=", 2, [1, 0, 1, 1, 1, 1]),  # the exact negation of ==: missing included
    ("x", "<", 4, [1, 1, 0, 0, 0, 0]),
    ("x", "<=", 4, [1, 1, 0, 1, 0, 0]),
    ("x", ">", 4, [0, 0, 0, 0, 1, 1]),
    ("x", ">=", 4, [0, 0, 0, 1, 1, 1]),
    ("x", "between", [2, 5], [0, 1, 0, 1, 1, 0]),
    ("x", "is missing", None, [0, 0, 1, 0, 0, 0]),
    ("x", "not missing", None, [1, 1, 0, 1, 1, 1]),
    ("c", "==", "a", [1, 0, 1, 0, 0, 0]),
    ("c", "in", ["a", "c"], [1, 0, 1, 0, 1, 0]),
    ("c", "not in", ["a", "c"], [0, 1, 0, 1, 0, 1]),
    ("c", "is missing", None, [0, 0, 0, 1, 0, 0]),
    ("s", "!=", "u", [0, 1, 1, 0, 1, 1]),
    ("t", ">=", "2024-03-01", [0, 0, 0, 1, 1, 1]),
    ("t", "between", ["2024-01-15", "2024-04-01"], [0, 1, 0, 1, 1, 0]),
])
def test_where_known_answers(small, feature, op, value, expected):
    assert Cohort.where(feature, op, value).mask(small).astype(int).tolist() == expected


def test_every_op_is_covered():
    assert set(OPS) == {"==", "!=", "<", "<=", ">", ">=", "in", "not in", "is missing",
                        "not missing", "between"}


def test_leaves_ids_confusion_cells_and_combinators(small):
    assert Cohort.ids(["r1", "r4"]).mask(small).tolist() == [0, 1, 0, 0, 1, 0]
    assert Cohort.confusion_cell("q", "p").mask(small).tolist() == [0, 1, 0, 0, 0, 1]
    assert Cohort.all().mask(small).all()
    a, b = Cohort.where("x", ">", 1), Cohort.where("c", "==", "b")
    assert (a & b).mask(small).tolist() == [0, 1, 0, 0, 0, 1]
    assert (a | b).mask(small).tolist() == [0, 1, 0, 1, 1, 1]
    assert (~a).mask(small).tolist() == [1, 0, 1, 0, 0, 0]
    assert ~~a == a
    assert (a & b & a).to_json()["args"] == [a.to_json(), b.to_json(), a.to_json()]
    assert Cohort.segment("c", ["a", "(missing)"]).mask(small).tolist() == [1, 0, 1, 1, 0, 0]
    assert list(small.frame(a).index) == ["r1", "r3", "r4", "r5"]
    assert list(a.frame(small).index) == ["r1", "r3", "r4", "r5"]


def test_describe_reads_like_the_question():
    c = Cohort.where("age", ">=", 52) & Cohort.where("education", "==", "Masters")
    assert c.describe() == "age ≥ 52 and education = Masters"
    assert (Cohort.where("a", "<", 1) | (Cohort.where("b", "in", ["x", "y"])
                                         & Cohort.where("c", "!=", 2.5))).describe() == (
        "a < 1 or (b in {x, y} and c ≠ 2.5)")
    assert Cohort.segment("age", "[25, 33)").describe() == "age in [25, 33)"
    assert Cohort.segment("age", "≥ 52").describe() == "age ≥ 52"
    assert Cohort.segment("w", "(missing)").describe() == "w is missing"
    assert (~Cohort.segment("w", "(missing)")).describe() == "w is not missing"
    assert Cohort.segment("e", ["A", "B"]).describe() == "e in {A, B}"
    assert (~Cohort.segment("e", ["A", "B"])).describe() == "e not in {A, B}"
    assert (~Cohort.segment("e", "A")).describe() == "e ≠ A"
    assert (~Cohort.where("x", "<", 3)).describe() == "not x < 3"
    assert Cohort.where("x", "between", [1, 2]).describe() == "1 ≤ x ≤ 2"
    assert Cohort.confusion_cell(">50K", "<=50K").describe() == (
        "true = >50K and predicted = <=50K")
    assert Cohort.ids(["a", "b"]).describe() == "id in {a, b}"
    assert Cohort.ids(list(range(10))).describe() == "10 ids"
    assert Cohort.all().describe() == "all rows"


def test_json_round_trip_equality_and_hash():
    c = (Cohort.where("x", "in", np.array([1, 2])) & ~Cohort.segment("c", "a")) | Cohort.ids(
        [np.int64(3)])
    data = json.loads(json.dumps(c.to_json()))
    back = Cohort.from_json(data)
    assert back == c and hash(back) == hash(c) and len({back, c}) == 1
    assert back != Cohort.all() and c != "not a cohort"
    data["args"][0]["args"][0]["value"] = [9]
    assert Cohort.from_json(data) != c  # to_json is a copy: mutating it did not touch c
    assert c.to_json()["args"][0]["args"][0]["value"] == [1, 2]
    assert repr(Cohort.where("x", ">", 1)) == "Cohort('x > 1')"


@pytest.mark.parametrize("data, message", [
    ({"kind": "where", "feature": "x", "op": "~=", "value": 1}, "unknown cohort op '~='"),
    ({"kind": "nand"}, "unknown cohort node kind 'nand'"),
    ({"kind": "and", "args": [{"kind": "all"}]}, "at least two cohorts"),
    ({"kind": "where", "feature": "x", "op": "in", "value": 3}, "'in' needs a list"),
    ({"kind": "where", "feature": "x", "op": "between", "value": [1]}, "needs \\[low, high\\]"),
    ({"kind": "where", "feature": "x", "op": "==", "value": None}, "use|select missing"),
    ({"kind": "where", "feature": "x", "op": "is missing", "value": 1}, "takes no value"),
    ({"kind": "segment", "feature": "x", "labels": []}, "a segment node needs"),
    ({"kind": "confusion_cell", "true": 1}, "needs 'true' and 'predicted'"),
    ({"kind": "not", "arg": 5}, "unknown cohort node kind 'int'"),
])
def test_from_json_rejects_bad_trees(data, message):
    with pytest.raises(ValueError, match=message):
        Cohort.from_json(data)


def test_unknown_features_labels_and_classes_are_named(small):
    c = Cohort.where("nope", "==", 1) & Cohort.all()
    with pytest.raises(KeyError, match="unknown feature 'nope'"):
        c.mask(small)
    with pytest.raises(KeyError, match="unknown feature 'nope'"):
        Cohort.from_json(c.to_json(), analysis=small)
    with pytest.raises(KeyError, match="has no segment 'zz'"):
        Cohort.segment("c", "zz").mask(small)
    with pytest.raises(KeyError, match="'r' is not a class"):
        Cohort.confusion_cell("r", "p").mask(small)
    with pytest.raises(KeyError, match="unknown sample ids"):
        Cohort.ids(["r9"]).mask(small)
    with pytest.raises(TypeError, match="use '==' / 'in' for unordered categories"):
        Cohort.where("c", "<", "b").mask(small)


def test_save_cohort(small):
    c = small.save_cohort("big x", Cohort.where("x", ">", 4))
    assert small.cohorts["big x"] is c and small.mask(c).sum() == 2
    with pytest.raises(KeyError, match="unknown feature"):
        small.save_cohort("bad", Cohort.where("nope", ">", 4))
    with pytest.raises(TypeError, match="needs a Cohort"):
        small.save_cohort("bad", [1, 2])
    with pytest.raises(ValueError, match="non-empty string"):
        small.save_cohort("", c)
    del small.cohorts["big x"]


def test_adult_masks_match_pandas(adult_ev):
    f = adult_ev.features
    c = Cohort.where("age", ">=", 52) & Cohort.where("education", "==", "Masters")
    assert np.array_equal(c.mask(adult_ev), ((f.age >= 52) & (f.education == "Masters")).to_numpy())
    c = Cohort.where("workclass", "is missing") | Cohort.where("hours_per_week", "between",
                                                              [20, 30])
    expected = f.workclass.isna() | f.hours_per_week.between(20, 30)
    assert np.array_equal(c.mask(adult_ev), expected.to_numpy())
    native = Cohort.where("native_country", "not in", ["United-States", "Mexico"])
    assert np.array_equal(native.mask(adult_ev),
                          (~f.native_country.isin(["United-States", "Mexico"])).to_numpy())
    cell = Cohort.confusion_cell(">50K", "<=50K")
    expected = (adult_ev.y_true == ">50K") & (adult_ev.y_pred == "<=50K")
    assert np.array_equal(cell.mask(adult_ev), expected.to_numpy())


LEAVES = st.one_of(
    st.builds(lambda op, v: Cohort.where("x", op, v),
              st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), st.integers(0, 7)),
    st.builds(lambda v: Cohort.where("c", "in", v), st.lists(st.sampled_from("abc"), max_size=3)),
    st.builds(lambda op: Cohort.where("x", op), st.sampled_from(["is missing", "not missing"])),
    st.builds(lambda lo, hi: Cohort.where("t", "between", [lo, hi]),
              st.sampled_from(["2024-01-01", "2024-02-15"]), st.sampled_from(["2024-03-01",
                                                                               "2024-06-01"])),
    st.builds(lambda ids: Cohort.ids(ids), st.lists(st.sampled_from([f"r{i}" for i in range(6)]),
                                                    unique=True)),
    st.builds(lambda label: Cohort.segment("c", label), st.sampled_from(["a", "b", "(missing)"])),
)
COHORTS = st.recursive(LEAVES, lambda inner: st.one_of(
    st.builds(lambda a, b: a & b, inner, inner), st.builds(lambda a, b: a | b, inner, inner),
    st.builds(lambda a: ~a, inner)), max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(cohort=COHORTS)
def test_a_cohort_and_its_negation_partition_the_rows_and_json_round_trips(small, cohort):
    inside, outside = cohort.mask(small), (~cohort).mask(small)
    assert not (inside & outside).any() and (inside | outside).all()
    back = Cohort.from_json(json.loads(json.dumps(cohort.to_json())))
    assert back == cohort and np.array_equal(back.mask(small), inside)
    assert isinstance(cohort.describe(), str)
