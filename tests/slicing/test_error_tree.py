"""Error tree: rows add up, missing values take an explicit branch, splits match sklearn's."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

import errlens as el
from errlens.slicing.cohort import Cohort


def check_partition(tree, ev) -> None:
    for node in tree.nodes:
        rows = node.cohort.mask(ev)
        assert rows.sum() == node.rows
        assert int(ev.is_error[rows].sum()) == node.errors
        assert node.ci_low <= node.error_rate <= node.ci_high
        if node.children:
            left, right = (tree.nodes[c] for c in node.children)
            assert left.rows + right.rows == node.rows
            assert left.errors + right.errors == node.errors
            assert not (left.cohort.mask(ev) & right.cohort.mask(ev)).any()


def test_adult_tree_partitions_rows_at_every_level(adult_ev):
    tree = adult_ev.error_tree(max_depth=3)
    assert tree.root.rows == adult_ev.n and tree.root.path == "all rows"
    assert tree.min_samples == adult_ev.n // 100
    assert max(n.depth for n in tree.nodes) == 3
    check_partition(tree, adult_ev)
    leaves = tree.leaves()
    assert sum(leaf.rows for leaf in leaves) == adult_ev.n
    assert all(leaf.rows >= tree.min_samples for leaf in leaves)
    assert leaves[0].error_rate == max(leaf.error_rate for leaf in leaves)
    assert leaves[0].lift == pytest.approx(leaves[0].error_rate / adult_ev.error_rate)


def test_missing_values_get_an_explicit_branch():
    rng = np.random.default_rng(0)
    n = 2000
    x = rng.normal(size=n)
    x[:300] = np.nan
    wrong = np.where(np.isnan(x), rng.random(n) < 0.8, rng.random(n) < 0.1)
    y = rng.integers(0, 2, n)
    ev = el.Analysis.from_predictions({"x": x}, y_true=y, y_pred=np.where(wrong, 1 - y, y))
    tree = ev.error_tree(max_depth=1)
    check_partition(tree, ev)
    paths = sorted(tree.nodes[c].path for c in tree.root.children)
    assert paths == ["x is missing", "x is not missing"]
    missing = next(tree.nodes[c] for c in tree.root.children
                   if tree.nodes[c].path == "x is missing")
    assert missing.rows == 300


def test_missing_rows_join_the_better_side_of_a_numeric_split():
    rng = np.random.default_rng(1)
    n = 3000
    x = rng.uniform(0, 10, n)
    x[:200] = np.nan
    wrong = np.where(np.isnan(x) | (x > 7), rng.random(n) < 0.7, rng.random(n) < 0.05)
    y = rng.integers(0, 2, n)
    ev = el.Analysis.from_predictions({"x": x}, y_true=y, y_pred=np.where(wrong, 1 - y, y))
    tree = ev.error_tree(max_depth=1)
    check_partition(tree, ev)
    texts = [tree.nodes[c].path for c in tree.root.children]
    assert any("or x is missing" in t for t in texts)


def sklearn_root_impurity(codes: np.ndarray, errors: np.ndarray, min_samples: int) -> float:
    model = DecisionTreeClassifier(max_depth=1, min_samples_leaf=min_samples, random_state=0)
    model.fit(codes, errors)
    t = model.tree_
    left, right = t.children_left[0], t.children_right[0]
    return float(t.impurity[left] * t.n_node_samples[left]
                 + t.impurity[right] * t.n_node_samples[right])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ordered_splits_equal_sklearn_on_the_codes(seed):
    rng = np.random.default_rng(seed)
    n = 1500
    frame = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(4)})
    risk = 1 / (1 + np.exp(-(frame["f1"] * 2 - frame["f2"])))
    wrong = rng.random(n) < risk * 0.5
    y = rng.integers(0, 2, n)
    ev = el.Analysis.from_predictions(frame, y_true=y, y_pred=np.where(wrong, 1 - y, y))
    tree = ev.error_tree(max_depth=1, min_samples=30)
    left, right = (tree.nodes[c] for c in tree.root.children)
    ours = sum(2 * node.errors * (node.rows - node.errors) / node.rows for node in (left, right))
    theirs = sklearn_root_impurity(ev.segments.codes, ev.is_error, 30)
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_category_splits_are_at_least_as_good_as_sklearn_on_one_hot(adult_ev):
    seg = adult_ev.segments
    cols = [seg.index(f) for f in ("occupation", "workclass", "race")]
    tree = adult_ev.error_tree(max_depth=1, features=["occupation", "workclass", "race"],
                               min_samples=100)
    left, right = (tree.nodes[c] for c in tree.root.children)
    ours = sum(2 * node.errors * (node.rows - node.errors) / node.rows for node in (left, right))
    one_hot = np.concatenate([np.eye(len(seg.labels[j]))[seg.codes[:, j]] for j in cols], axis=1)
    assert ours <= sklearn_root_impurity(one_hot, adult_ev.is_error, 100) + 1e-6
    check_partition(tree, adult_ev)


def test_cohort_depth_and_min_samples():
    ev = el.Analysis.from_predictions({"x": [1, 2] * 30, "g": ["a"] * 30 + ["b"] * 30},
                                      y_true=[0, 1] * 30, y_pred=[0] * 60)
    assert len(ev.error_tree(max_depth=0).nodes) == 1
    assert len(ev.error_tree(min_samples=31).nodes) == 1  # no split leaves 31 rows on both sides
    tree = ev.error_tree(cohort=Cohort.where("g", "==", "b"), min_samples=5)
    assert tree.root.rows == 30 and tree.root.path == "g = b"
    assert [tree.nodes[c].path for c in tree.root.children] == ["g = b and x < 2",
                                                                "g = b and x ≥ 2"]
    check_partition(tree, ev)
    with pytest.raises(ValueError, match="max_depth must be a non-negative integer"):
        ev.error_tree(max_depth=-1)
    with pytest.raises(ValueError, match="min_samples must be a positive integer"):
        ev.error_tree(min_samples=0)
    with pytest.raises(KeyError, match="'nope' is not a segmented feature"):
        ev.error_tree(features=["nope"])


def test_frame_and_json_for_the_dashboard(adult_ev):
    tree = adult_ev.error_tree(max_depth=2)
    frame = tree.to_frame()
    assert list(frame.index) == [n.id for n in tree.nodes]
    assert {"rows", "errors", "error_rate", "ci_low", "ci_high", "lift", "path",
            "split"} <= set(frame.columns)
    data = json.loads(json.dumps(tree.to_dict()))
    root = data["root"]
    assert root["rows"] == adult_ev.n and len(root["children"]) == 2
    child = root["children"][0]
    assert Cohort.from_json(child["cohort"]).mask(adult_ev).sum() == child["rows"]


def test_an_empty_cohort_gives_a_lone_empty_root():
    ev = el.Analysis.from_predictions({"x": [1, 2] * 20}, y_true=[0, 1] * 20, y_pred=[0] * 40)
    tree = ev.error_tree(cohort=Cohort.where("x", ">", 5))
    assert len(tree.nodes) == 1 and tree.root.rows == 0 and np.isnan(tree.root.error_rate)
    assert json.loads(json.dumps(tree.to_dict()))["root"]["error_rate"] is None
