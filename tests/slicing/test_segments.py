"""Segments: quantile edges, categories, booleans, dates, missing values, the JSON definition."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import errlens as el
from errlens.slicing.segments import MISSING, OTHER, define, encode, encode_frame

FEATURES = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
            "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
            "hours_per_week", "native_country"]


def analysis_of(frame: pd.DataFrame) -> el.Analysis:
    n = len(frame)
    return el.Analysis.from_predictions(frame, y_true=[0, 1] * (n // 2) + [0] * (n % 2),
                                        y_pred=[0] * n)


def test_numeric_edges_are_inverted_cdf_quantiles_and_codes_follow_them():
    rng = np.random.default_rng(1)
    x = rng.normal(size=1001)
    seg = encode(analysis_of(pd.DataFrame({"x": x})), bins=4)
    expected = np.quantile(x, [0.25, 0.5, 0.75], method="inverted_cdf")
    assert seg.definition[0]["edges"] == expected.tolist()
    assert np.array_equal(seg.codes[:, 0], np.searchsorted(expected, x, side="right"))
    a, b, c = (format(e, ".6g") for e in expected)
    assert seg.labels == [[f"< {a}", f"[{a}, {b})", f"[{b}, {c})", f"≥ {c}"]]
    # every edge is a data value: the lower bound of its bin
    assert all(x[seg.codes[:, 0] == k].min() == expected[k - 1] for k in (1, 2, 3))


def test_known_answer_labels_missing_and_duplicate_edges():
    frame = pd.DataFrame({"age": [20, 30, 30, 30, 30, 40, 50, 60, None, None]})
    seg = encode(analysis_of(frame), bins=4)
    # inverted-CDF quantiles 0.25/0.5/0.75 of the 8 values are 30, 30, 40: 30 is merged
    assert seg.definition[0]["edges"] == [30, 40]
    assert seg.labels[0] == ["< 30", "[30, 40)", "≥ 40", MISSING]
    assert seg.codes[:, 0].tolist() == [0, 1, 1, 1, 1, 2, 2, 2, 3, 3]


def test_a_spike_at_the_minimum_gets_its_own_segment():
    x = np.r_[np.zeros(900), np.arange(1, 101)]
    seg = encode(analysis_of(pd.DataFrame({"gain": x.astype(int)})), bins=5)
    assert seg.labels[0][0] == "= 0"
    counts = np.bincount(seg.codes[:, 0])
    assert counts[0] == 900 and counts.sum() == 1000 and len(counts) == 5


def test_few_distinct_values_each_get_a_segment():
    seg = encode(analysis_of(pd.DataFrame({"k": [3, 1, 2, 1, 3, 3]})), bins=5)
    assert seg.labels == [["= 1", "= 2", "= 3"]]
    assert seg.codes[:, 0].tolist() == [2, 0, 1, 0, 2, 2]


def test_few_values_are_told_apart_from_many_past_the_first_rows():
    head = np.full(70_000, 1.0)  # more rows than the look-ahead of _few_distinct
    few = define(pd.DataFrame({"k": np.concatenate([head, np.tile([2.0, 3.0], 20_000)])}))
    assert few[0]["labels"] == ["= 1", "= 2", "= 3"]
    many = define(pd.DataFrame({"k": np.concatenate([head, np.arange(40_000.0)])}))
    assert not any(label.startswith("=") for label in many[0]["labels"])  # quantile bins


def test_categories_top_k_other_and_missing():
    frame = pd.DataFrame({"job": ["a"] * 5 + ["b"] * 3 + ["c", "d", None, None]})
    seg = encode(analysis_of(frame), top_k=2)
    assert seg.labels == [["a", "b", "other", MISSING]]
    assert seg.codes[:, 0].tolist() == [0] * 5 + [1] * 3 + [2, 2, 3, 3]
    # a real category called "other" is quoted, so it never collides with the bucket
    frame = pd.DataFrame({"job": ["other"] * 3 + ["x", "y"]})
    assert encode(analysis_of(frame), top_k=1).labels == [["'other'", "other"]]


def test_ordered_categories_keep_their_order():
    sizes = pd.Categorical(["L", "S", "S", "M", "S", "L"], categories=["S", "M", "L"],
                           ordered=True)
    assert encode(analysis_of(pd.DataFrame({"size": sizes}))).labels == [["S", "M", "L"]]


def test_booleans_and_datetimes():
    frame = pd.DataFrame({
        "flag": [True, False, True, True],
        "when": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-03-02", "2024-02-28"]),
    })
    seg = encode(analysis_of(frame))
    assert seg.labels == [["False", "True"], ["2024-01-05", "2024-01-20", "2024-02-28",
                                               "2024-03-02"]]
    seg = encode(analysis_of(frame), top_k=3)  # 4 days > top_k: by month
    assert seg.labels[1] == ["2024-01", "2024-02", "2024-03"]
    assert seg.codes[:, 1].tolist() == [0, 0, 2, 1]
    assert seg.definition[1]["period"] == "month"


def test_timezone_aware_dates_bin_by_utc_instants():
    when = pd.Series(pd.date_range("2020-01-01", periods=40, freq="30D", tz="US/Eastern"))
    seg = encode(analysis_of(pd.DataFrame({"when": when})), top_k=5)
    assert seg.definition[0]["period"] == "year"
    assert seg.labels[0] == ["2020", "2021", "2022", "2023"]
    assert np.bincount(seg.codes[:, 0]).sum() == 40


def test_constant_and_all_missing_features_are_documented_single_segments():
    frame = pd.DataFrame({"c": [7.0] * 6, "m": [np.nan] * 6, "cm": [1, None, 1, 1, None, 1]})
    seg = encode(analysis_of(frame))
    assert seg.labels == [["= 7"], [MISSING], ["= 1", MISSING]]
    assert seg.codes.tolist() == [[0, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 1],
                                  [0, 0, 0]]


@pytest.mark.parametrize("kwargs, message", [
    ({"bins": 1}, "bins must be an integer ≥ 2"),
    ({"bins": 2.5}, "bins must be an integer ≥ 2"),
    ({"top_k": 0}, "top_k must be an integer ≥ 1"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        encode(analysis_of(pd.DataFrame({"x": range(10)})), **kwargs)


def test_unknown_features_are_named():
    ev = analysis_of(pd.DataFrame({"x": range(10)}))
    with pytest.raises(KeyError, match=r"unknown features \['nope'\]"):
        encode(ev, features=["nope"])
    with pytest.raises(KeyError, match="'nope' is not a segmented feature"):
        ev.segments.index("nope")
    with pytest.raises(KeyError, match="has no segment 'zzz'"):
        ev.segments.code("x", "zzz")


def test_definition_is_json_and_reproduces_the_codes(adult_ev):
    ev = adult_ev
    seg = ev.segments
    definition = json.loads(json.dumps(seg.definition))
    assert np.array_equal(encode_frame(ev.features, definition), seg.codes)
    # a frame with missing values where the definition has none is refused
    frame = pd.DataFrame({"age": [30.0, np.nan]})
    with pytest.raises(ValueError, match="has no '\\(missing\\)' segment"):
        encode_frame(frame, [d for d in definition if d["feature"] == "age"])


def test_adult_segments_cover_every_row_and_keep_missing(adult_ev):
    ev = adult_ev
    seg = ev.segments
    assert seg.features == FEATURES and seg.codes.shape == (ev.n, 14)
    assert seg.codes.dtype == np.uint8 and seg.codes.flags.f_contiguous
    for j, feature in enumerate(FEATURES):
        counts = np.bincount(seg.codes[:, j], minlength=len(seg.labels[j]))
        assert counts.sum() == ev.n and len(counts) == len(seg.labels[j])
        missing = int(ev.features[feature].isna().sum())
        if missing:
            assert seg.labels[j][-1] == MISSING and counts[-1] == missing
    assert ev.segments is ev.segments  # cached
    assert ev.segment(bins=5, top_k=10) is ev.segments
    assert ev.segment(bins=3) is ev.segment(bins=3)
    assert len(ev.segment(bins=3).labels[0]) == 3


def test_segment_cohort_selects_exactly_its_code(adult_ev):
    ev = adult_ev
    seg = ev.segments
    j = seg.index("occupation")
    for code in range(len(seg.labels[j])):
        assert np.array_equal(seg.cohort("occupation", code).mask(ev), seg.codes[:, j] == code)
    other = ev.segment(bins=3)
    c = other.cohort("age", 2)
    assert np.array_equal(c.mask(ev), other.codes[:, other.index("age")] == 2)
    with pytest.raises(IndexError):
        seg.cohort("age", 99)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(-5, 5), st.floats(-1e6, 1e6)),
                    min_size=1, max_size=60),
    bins=st.integers(2, 8),
)
def test_numeric_codes_partition_rows_in_edge_order(values, bins):
    x = pd.Series(values, dtype="float64")
    d = define(pd.DataFrame({"x": x}), bins=bins)[0]
    codes = encode_frame(pd.DataFrame({"x": x}), [d])[:, 0].astype(int)
    counts = np.bincount(codes, minlength=len(d["labels"]))
    assert counts.sum() == len(x) and len(counts) == len(d["labels"])
    missing = x.isna().to_numpy()
    if missing.any():
        assert (codes[missing] == len(d["labels"]) - 1).all()
    present = ~missing
    if present.any() and d["kind"] == "numeric":
        edges = np.asarray(d["edges"], dtype=float)
        assert len(np.unique(edges)) == len(edges)
        assert len(edges) <= max(bins - 1, x[present].nunique() - 1)
        lower = np.r_[-np.inf, edges][codes[present]]
        upper = np.r_[edges, np.inf][codes[present]]
        assert ((x[present] >= lower) & (x[present] < upper)).all()
        assert (counts[: len(edges) + 1] > 0).all()  # no empty bins


# ---------------------------------------------------------------------------- string columns
TEXT = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
        "native_country"]
STRING_DTYPES = ["str", "string[pyarrow]", "string[python]", object]


def lookup_per_row(column: pd.Series, d: dict) -> np.ndarray:
    """The codes as the encoding computed them before it factorized: each row looked up."""
    codes = pd.Index(d["vocabulary"]).get_indexer(column.to_numpy())
    codes[codes < 0] = len(d["vocabulary"])
    codes[column.isna().to_numpy()] = len(d["labels"]) - 1
    return codes


def top_k_by_rule(column: pd.Series, top_k: int) -> list[str]:
    """The documented rule: most frequent first, ties broken by value."""
    counts = column.dropna().value_counts()
    return sorted(counts.index, key=lambda v: (-counts[v], v))[:top_k]


@pytest.mark.parametrize("dtype", STRING_DTYPES)
def test_adult_string_columns_get_the_categorical_segments_and_codes(adult_ev, dtype):
    categorical = adult_ev.features[TEXT]
    text = categorical.astype(dtype)
    assert define(text) == define(categorical)  # Adult's categories are sorted: ties alike
    definition = define(text)
    codes = encode_frame(text, definition)
    assert np.array_equal(codes, encode_frame(categorical, definition))
    for j, d in enumerate(definition):
        assert np.array_equal(codes[:, j], lookup_per_row(text[d["feature"]], d))
    assert {d["missing"] for d in definition} == {True, False}  # workclass etc. have gaps
    ev = el.Analysis.from_predictions(text, y_true=adult_ev.y_true, y_pred=adult_ev.y_pred)
    segments = encode(ev)  # factorizes each column once for its definition and its codes
    assert segments.definition == definition and np.array_equal(segments.codes, codes)


@pytest.mark.parametrize("dtype", STRING_DTYPES)
def test_random_string_columns_with_gaps_ties_and_names_like_ours(dtype):
    rng = np.random.default_rng(7)
    pool = np.array(["a", "b", "c", "d", "e", OTHER, MISSING, "= 3", "Zed", "zed"], dtype=object)
    gaps = [None, np.nan, pd.NA] if dtype is object else [None]
    for trial in range(40):
        n, top_k = int(rng.integers(1, 400)), int(rng.integers(1, 6))
        values = pool[rng.integers(0, int(rng.integers(1, len(pool) + 1)), n)]
        if trial % 4 == 0:  # equal counts: the top-k cut falls inside a tie
            values = np.resize(pool[rng.permutation(len(pool))], n)
        values[rng.random(n) < rng.choice([0.0, 0.1, 0.5])] = gaps[trial % len(gaps)]
        column = pd.Series(values, dtype=dtype, name="s")
        d = define(pd.DataFrame({"s": column}), top_k=top_k)[0]
        codes = encode_frame(pd.DataFrame({"s": column}), [d])[:, 0]
        assert np.array_equal(codes, lookup_per_row(column, d)), (trial, d)
        if d["kind"] == "categorical":
            assert d["vocabulary"] == top_k_by_rule(column, top_k), (trial, d)
            quoted = {OTHER: "'other'", MISSING: "'(missing)'", "= 3": "'= 3'"}
            assert d["labels"][:len(d["vocabulary"])] == [quoted.get(v, v) for v in d["vocabulary"]]
        else:
            assert d["kind"] == "empty" and column.isna().all()


def test_booleans_with_gaps_in_object_columns_stay_boolean():
    frame = pd.DataFrame({"b": pd.Series([True, None, False, True], dtype=object),
                          "s": pd.Series([True, None, "x", True], dtype=object)})
    b, s = define(frame)
    assert b["kind"] == "boolean" and s["kind"] == "categorical"
    assert encode_frame(frame, [b, s]).tolist() == [[1, 0], [2, 2], [0, 1], [1, 0]]
