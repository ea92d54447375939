"""Labels leave a store in the dtype ``y_true`` had, so a model fits on them in one line.

Real data: UCI Adult's income as text (pandas ``str``), as a boolean and as an ordered
category (categories deliberately not in sorted order), and scikit-learn's digits (int64).
Each goes through relabels, a tag, a second annotator merged in, ``merge_logs``, a CSV import
and a Label Studio import; ``LogisticRegression`` is then fitted on ``store.labels("v1")``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import errlens as el
from errlens.annotators.exchange import export_csv, import_csv
from errlens.annotators.labelstudio import import_labelstudio, labelstudio_tasks
from errlens.changelog import Changelog, LabelStore, merge_logs
from errlens.datasets import load_digits

ADULT_NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
INCOME_CATEGORY = pd.CategoricalDtype([">50K", "<=50K"], ordered=True)  # not sorted order


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Fits on one BLAS thread: on a shared 2-core machine more threads thrash (a digits fit
    took 10 s instead of 0.15 s)."""
    with threadpool_limits(1):
        yield


def _model() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))


@pytest.fixture(scope="module", params=["adult-str", "adult-bool", "adult-category", "digits"])
def case(request, adult) -> tuple[el.Analysis, pd.DataFrame, pd.Series]:
    """An out-of-fold Analysis of a logistic regression, its features and ``y_true``."""
    if request.param == "digits":
        frame, _images = load_digits()
        y = frame["digit"]
        features = [c for c in frame.columns if c.startswith("px")]
    else:
        frame = adult.iloc[:3000].reset_index(drop=True)
        income = frame["income"]
        y = {"adult-str": income, "adult-bool": income == ">50K",
             "adult-category": income.astype(INCOME_CATEGORY)}[request.param]
        features = ADULT_NUMERIC
    X = frame[features]
    pred = cross_val_predict(_model(), X, y, cv=3)
    ev = el.Analysis.from_predictions(frame, y_true=y, y_pred=pred, id="id", features=features)
    assert ev.y_true.dtype == y.dtype
    return ev, X, y


def _relabelled(ev: el.Analysis, n: int) -> dict[Any, Any]:
    """The first ``n`` rows the model gets wrong, mapped to the model's prediction."""
    wrong = ev.ids[ev.is_error][:n]
    return {sample: ev.y_pred[sample] for sample in wrong}


def test_labels_keep_the_dtype_of_y_true_through_versions_and_merges(case, tmp_path) -> None:
    ev, X, y = case
    fixes = _relabelled(ev, 30)
    ana_fixes, ben_fixes = dict(list(fixes.items())[:20]), dict(list(fixes.items())[20:])
    ana = LabelStore(ev, tmp_path / "ana.jsonl", author="ana")
    for sample, label in ana_fixes.items():
        ana.relabel(sample, label, note="the model is right here")
    ben = LabelStore(ev, tmp_path / "ben.jsonl", author="ben")
    for sample, label in ben_fixes.items():
        ben.relabel(sample, label)
    assert ana.merge(ben.path) == len(ben_fixes)
    ana.tag("v1")

    for labels in (ana.original, ana.labels(), ana.labels("v1"), ana.labels("original")):
        assert labels.dtype == y.dtype
    v1 = ana.labels("v1")
    assert v1[list(fixes)].tolist() == list(fixes.values())
    assert (v1 != ana.original).sum() == len(fixes)
    diff = ana.diff("original", "v1")
    assert len(diff) == len(fixes)
    assert diff["from"].dtype == y.dtype and diff["to"].dtype == y.dtype

    fitted = _model().fit(X, v1)  # closing the loop is one line, whatever the dtype
    assert fitted.classes_.tolist() == sorted(set(y.tolist()))
    assert set(fitted.predict(X)) <= set(y)

    merged = merge_logs([ana.path, ben.path], tmp_path / "merged.jsonl")
    assert merged is not None
    reopened = LabelStore(ev, tmp_path / "merged.jsonl", author="lead")
    pd.testing.assert_series_equal(reopened.labels("v1"), v1)


def test_a_log_without_its_dataset_gives_the_dtype_its_classes_tell(case, tmp_path) -> None:
    ev, _X, y = case
    fixes = _relabelled(ev, 5)
    store = LabelStore(ev, tmp_path / "l.jsonl", author="ana")
    store.relabel_many(list(fixes), next(iter(fixes.values())))
    # A log records class values (JSON), not whether they were a category: text comes back
    # as pandas' text dtype, integers as int64, booleans as bool.
    expected = pd.Series(ev.classes).dtype
    assert expected == (y.dtype if not isinstance(y.dtype, pd.CategoricalDtype)
                        else pd.Series(["x"]).dtype)
    for log in (Changelog(store.path), LabelStore.from_log(store.path, author="cli")):
        assert log.labels().dtype == expected
        assert log.labels().index.tolist() == list(fixes)


def test_csv_and_label_studio_answers_come_back_as_class_values(case, tmp_path) -> None:
    ev, _X, y = case
    store = LabelStore(ev, tmp_path / "l.jsonl", author="lead")
    fixes = _relabelled(ev, 12)
    by_csv, by_ls = list(fixes)[:6], list(fixes)[6:]

    path = export_csv(store, tmp_path / "batch.csv", by_csv)
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows["label"] = [str(fixes[sample]) for sample in by_csv]  # annotators type text
    rows["annotator"] = "cy"
    rows.to_csv(path, index=False)
    assert len(import_csv(store, path)) == len(by_csv)

    tasks = labelstudio_tasks(store, by_ls)
    export = [dict(task, id=100 + n, annotations=[{
        "id": n + 1, "completed_by": 7, "was_cancelled": False, "lead_time": 4.0,
        "created_at": f"2026-05-01T10:00:{n:02d}.000000Z",
        "result": [{"from_name": "label", "to_name": "text", "type": "choices",
                    "value": {"choices": [str(fixes[task["data"]["sample_id"]])]}}]}])
        for n, task in enumerate(json.loads(json.dumps(tasks, default=str)))]
    assert len(import_labelstudio(store, export, users={7: "dee"})) == len(by_ls)

    labels = store.labels()
    assert labels.dtype == y.dtype
    assert labels[list(fixes)].tolist() == list(fixes.values())


@pytest.mark.parametrize("dtype", [object, "string", "str", "category"])
def test_every_text_dtype_is_kept(adult, dtype, tmp_path) -> None:
    rows = adult.iloc[:1000]
    y = rows["income"].astype(dtype).set_axis(rows["id"])
    _round_trip(y, ">50K", tmp_path)


@pytest.mark.parametrize("dtype", ["int32", "uint8", "Int64", "int64"])
def test_every_integer_dtype_is_kept(dtype, tmp_path) -> None:
    frame, _images = load_digits()
    _round_trip(frame["digit"].astype(dtype).set_axis(frame["id"]), 7, tmp_path)


def _round_trip(y: pd.Series, label: Any, tmp_path: Path) -> None:
    """Relabel by two annotators, merge, tag, reopen: every view keeps ``y``'s dtype."""
    ana = LabelStore(y, tmp_path / "ana.jsonl", author="ana")
    ben = LabelStore(y, tmp_path / "ben.jsonl", author="ben")
    ana.relabel(y.index[0], label)
    ben.relabel_many(list(y.index[1:4]), label)
    ana.merge(ben.path)
    ana.tag("v1")
    again = LabelStore(y, ana.path, author="cy")
    for labels in (again.labels("v1"), again.labels(), again.original, ana.labels("v1")):
        assert labels.dtype == y.dtype
    assert again.labels("v1")[y.index[:4]].tolist() == [label] * 4
    assert again.diff("original", "v1")["to"].dtype == y.dtype


@pytest.fixture
def income(adult) -> pd.Series:
    rows = adult.iloc[:2000]
    return rows["income"].astype(INCOME_CATEGORY).set_axis(rows["id"])


def test_a_category_gains_added_classes_and_keeps_its_order(income, tmp_path) -> None:
    store = LabelStore(income, tmp_path / "l.jsonl", author="ana")
    first, second = income.index[:2]
    store.tag("v1")
    store.add_class("unsure", definition="cannot tell from the census record")
    store.relabel(first, "unsure")
    store.rename_class(">50K", "high")
    store.tag("v2")

    now = store.labels()
    assert now.cat.categories.tolist() == ["high", "<=50K", "unsure"] and now.cat.ordered
    assert now[first] == "unsure"
    assert now[second] == {">50K": "high"}.get(income[second], income[second])
    assert store.labels("v1").dtype == INCOME_CATEGORY  # before the schema changed
    assert store.original.dtype == INCOME_CATEGORY
    diff = store.diff("v1", "v2")
    assert diff["to"].dtype == now.dtype and diff["from"].dtype == INCOME_CATEGORY
    assert store.versions()["n_changed"].tolist() == [0, int((income == ">50K").sum()) + 1]

    store.merge_classes(["high", "<=50K"], "any")
    assert store.labels().cat.categories.tolist() == ["any", "unsure"]


def test_a_class_that_does_not_fit_the_dtype_makes_labels_objects(tmp_path) -> None:
    frame, _images = load_digits()
    digits = pd.Series(frame["digit"].to_numpy(dtype=np.int32), index=frame["id"])
    store = LabelStore(digits, tmp_path / "l.jsonl", author="ana")
    assert store.labels().dtype == np.int32
    store.tag("v1")
    store.add_class("unreadable")
    # the classes decide, not which of them samples carry: one dtype per schema
    assert store.labels().dtype == object
    store.relabel(digits.index[0], "unreadable")
    labels = store.labels()
    assert labels.dtype == object and labels.iloc[0] == "unreadable"
    assert labels.iloc[1:].tolist() == digits.iloc[1:].tolist()
    assert store.labels("v1").dtype == np.int32


def test_conflicts_show_labels_in_the_dtype_of_y_true(income, tmp_path) -> None:
    ana = LabelStore(income, tmp_path / "ana.jsonl", author="ana")
    ben = LabelStore(income, tmp_path / "ben.jsonl", author="ben")
    ben.add_class("unsure")
    sample = income.index[0]
    mine = ">50K" if income[sample] == "<=50K" else "<=50K"
    ana.relabel(sample, mine)
    ben.relabel(sample, "unsure")
    ana.merge(Path(ben.path))
    conflicts = ana.conflicts()
    assert sorted(conflicts["labels"].iloc[0]) == sorted([mine, "unsure"])
    assert conflicts["original"].dtype == INCOME_CATEGORY
    assert conflicts["current"].dtype == pd.CategoricalDtype([">50K", "<=50K", "unsure"],
                                                             ordered=True)
    assert conflicts["current"].iloc[0] == income[sample]  # what both sides had seen


SOURCES = {
    "category": lambda: pd.Series(["b", "a", "c", "a", "b", "b"],
                                  dtype=pd.CategoricalDtype(["c", "unused", "a", "b"],
                                                            ordered=True)),
    "str": lambda: pd.Series(["b", "a", "c", "a", "b", "b"], dtype="str"),
    "int32": lambda: pd.Series([2, 0, 1, 0, 2, 2], dtype="int32"),
    "bool": lambda: pd.Series([True, False, True, False, False, True]),
}
schema_op = st.one_of(
    st.tuples(st.just("relabel"), st.integers(0, 5), st.integers(0, 9)),
    st.tuples(st.just("add_class"), st.sampled_from(["text", "int"]), st.none()),
    st.tuples(st.just("rename_class"), st.integers(0, 9), st.sampled_from(["text", "int"])),
    st.tuples(st.just("merge_classes"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("tag"), st.none(), st.none()),
)


@settings(max_examples=60, deadline=None)
@given(source=st.sampled_from(sorted(SOURCES)), ops=st.lists(schema_op, max_size=8))
def test_typed_labels_are_the_plain_labels_whatever_the_schema_does(source, ops) -> None:
    """Property: at every version, the typed labels hold exactly the plain values the log
    replays (no NaN, True never read as 1), a category stays a category, and any other
    dtype is y_true's or object."""
    y = SOURCES[source]()
    with tempfile.TemporaryDirectory() as folder:
        store = LabelStore(y, Path(folder) / "l.jsonl", author="ana")
        for k, (kind, a, b) in enumerate(ops):
            classes = store.classes
            new = f"new{k}" if (b if kind == "rename_class" else a) == "text" else 100 + k
            if kind == "relabel":
                store.relabel(y.index[a], classes[b % len(classes)])
            elif kind == "add_class":
                store.add_class(new)
            elif kind == "rename_class":
                store.rename_class(classes[a % len(classes)], new)
            elif kind == "merge_classes" and len(classes) > 2:
                pair = [classes[a % len(classes)], classes[(a + 1) % len(classes)]]
                store.merge_classes(pair, pair[0] if b else f"merged{k}")
            elif kind == "tag":
                store.tag(f"v{k}")
        for version in [*store.versions()["version"], "original", None]:
            typed, plain = store.labels(version), store._labels(version, plain=True)[0]
            assert not typed.isna().any()
            assert [(type(v), v) for v in typed.astype(object)] == \
                [(type(v), v) for v in plain]
            if isinstance(y.dtype, pd.CategoricalDtype):
                assert isinstance(typed.dtype, pd.CategoricalDtype)
                assert typed.cat.ordered
            else:
                assert typed.dtype in (y.dtype, np.dtype(object))
