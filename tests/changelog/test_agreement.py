"""Agreement statistics: published worked examples, reference libraries, store integration."""

from __future__ import annotations

import cleanlab.multiannotator as cl_multi
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from errlens.annotators.agreement import (
    adjudicated,
    agreement_summary,
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_counts,
    krippendorff_alpha,
    label_matrix,
    majority_vote,
    pairwise_kappa,
    rating_counts,
)
from errlens.changelog.store import LabelStore
from errlens.datasets import load_tweets

NAN = np.nan

# Wikipedia "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories; κ = 0.210.
WIKIPEDIA_FLEISS = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                    [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                    [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers,
# 12 units, missing values; nominal alpha = 0.743.
KRIPPENDORFF_2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
                     [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
                     [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
                     [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]]


def _matrix(rows: list[list[float]], names: str = "ABCD") -> pd.DataFrame:
    """Observers × units (as published) to a units × observers label matrix of class names."""
    data = np.array(rows, dtype=float).T
    frame = pd.DataFrame(data, columns=list(names[: data.shape[1]]))
    return frame.apply(lambda c: c.map(lambda v: NAN if np.isnan(v) else f"c{int(v)}"))


def test_fleiss_kappa_matches_the_published_worked_example() -> None:
    assert fleiss_kappa_counts(WIKIPEDIA_FLEISS) == pytest.approx(0.2099, abs=5e-5)


def test_fleiss_kappa_from_a_label_matrix_equals_the_count_form() -> None:
    counts = np.array(WIKIPEDIA_FLEISS)
    rows = [[f"k{j}" for j in range(5) for _ in range(counts[i, j])] for i in range(10)]
    matrix = pd.DataFrame(rows, columns=[f"r{k}" for k in range(14)])
    assert fleiss_kappa(matrix) == pytest.approx(0.2099, abs=5e-5)
    assert rating_counts(matrix).to_numpy().tolist() == counts.tolist()


def test_krippendorff_alpha_matches_the_published_example_with_missing_values() -> None:
    matrix = _matrix(KRIPPENDORFF_2011)
    assert krippendorff_alpha(matrix) == pytest.approx(0.743, abs=5e-4)
    summary = agreement_summary(matrix)
    assert summary["samples"] == 12 and summary["samples_multi"] == 11
    assert summary["krippendorff_alpha"] == pytest.approx(0.743, abs=5e-4)


def test_cohen_kappa_matches_the_textbook_example_and_sklearn() -> None:
    # Wikipedia "Cohen's kappa": 50 items, yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    matrix = pd.DataFrame({"a": a, "b": b})
    assert cohen_kappa(matrix, "a", "b") == pytest.approx(0.4)
    assert cohen_kappa(matrix, "a", "b") == pytest.approx(cohen_kappa_score(a, b))


def test_pairwise_kappa_uses_only_shared_samples() -> None:
    matrix = _matrix(KRIPPENDORFF_2011)
    table = pairwise_kappa(matrix).set_index(["a", "b"])
    shared = matrix[["A", "C"]].dropna()
    assert table.loc[("A", "C"), "n_shared"] == len(shared) == 8
    assert table.loc[("A", "C"), "kappa"] == pytest.approx(cohen_kappa_score(shared["A"],
                                                                             shared["C"]))


def test_kappa_is_nan_where_undefined() -> None:
    same = pd.DataFrame({"a": ["x", "x"], "b": ["x", "x"]})
    assert np.isnan(cohen_kappa(same, "a", "b"))
    assert np.isnan(fleiss_kappa(same))
    assert np.isnan(krippendorff_alpha(same))
    assert np.isnan(cohen_kappa(pd.DataFrame({"a": ["x", NAN], "b": [NAN, "y"]}), "a", "b"))


label_matrices = st.integers(2, 5).flatmap(lambda m: st.lists(
    st.lists(st.sampled_from(["neg", "neu", "pos"]), min_size=m, max_size=m),
    min_size=3, max_size=30))


@settings(max_examples=40, deadline=None)
@given(label_matrices)
def test_alpha_and_fleiss_agree_on_complete_data(rows: list[list[str]]) -> None:
    """For complete nominal data α = 1 − (nN − 1)/(nN) · (1 − κ_Fleiss): the ``krippendorff``
    package and our Fleiss kappa must satisfy it (a cross-check of two implementations)."""
    matrix = pd.DataFrame(rows)
    kappa, alpha = fleiss_kappa(matrix), krippendorff_alpha(matrix)
    if np.isnan(kappa):
        assert np.isnan(alpha)
        return
    total = matrix.size
    assert alpha == pytest.approx(1 - (total - 1) / total * (1 - kappa), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(label_matrices, st.data())
def test_fleiss_ignores_samples_with_a_single_judgement(rows: list[list[str]],
                                                        data: st.DataObject) -> None:
    matrix = pd.DataFrame(rows, dtype=object)
    lone = pd.DataFrame([[data.draw(st.sampled_from(["neg", "pos"]))] + [NAN] *
                         (matrix.shape[1] - 1)], dtype=object)
    grown = pd.concat([matrix, lone], ignore_index=True)
    before, after = fleiss_kappa(matrix, classes=["neg", "neu", "pos"]), fleiss_kappa(
        grown, classes=["neg", "neu", "pos"])
    assert (np.isnan(before) and np.isnan(after)) or before == pytest.approx(after)


@settings(max_examples=40, deadline=None)
@given(label_matrices)
def test_majority_label_is_a_most_voted_class(rows: list[list[str]]) -> None:
    matrix = pd.DataFrame(rows)
    vote = majority_vote(matrix, tie_break=("frequency", "class_order"))
    counts = rating_counts(matrix)
    for sample, row in vote.iterrows():
        assert counts.loc[sample, row["label"]] == counts.loc[sample].max() == row["votes"]
    assert vote["label"].notna().all()
    assert (vote["agreement"] == vote["votes"] / matrix.shape[1]).all()


def test_majority_vote_tie_breaks_in_documented_order() -> None:
    matrix = pd.DataFrame({"ana": ["a", "a", "b", "c", "a"], "ben": ["b", "b", "c", "b", NAN],
                           "cy": ["a", "c", "a", "a", "a"]}, index=[1, 2, 3, 4, 5])
    original = pd.Series(["x", "b", "c", "b", "a"], index=[1, 2, 3, 4, 5])
    out = majority_vote(matrix, original=original, tie_break=())
    assert out["label"].isna().tolist() == [False, True, True, True, False]
    assert out["tie"].tolist() == [False, True, True, True, False]
    # Sample 2 (a, b, c tied) keeps its original b; 3 keeps c; 4 (c, b, a) keeps b.
    out = majority_vote(matrix, original=original, tie_break=("original",))
    assert out["label"].tolist() == ["a", "b", "c", "b", "a"]
    # The "original" rule is skipped without originals: ties stay unresolved.
    out = majority_vote(matrix, tie_break=("original",))
    assert out["label"].isna().tolist() == [False, True, True, True, False]
    # Without originals, the most chosen class overall (a: 6 votes) wins ties containing it.
    out = majority_vote(matrix, tie_break=("frequency",))
    assert out["label"].tolist() == ["a", "a", "a", "a", "a"]
    pairs = matrix[["ben"]].assign(cy=["c", "c", "b", "c", "a"])  # b/c ties except sample 5
    for order in (["c", "b", "a"], ["b", "c", "a"]):
        out = majority_vote(pairs, tie_break=("class_order",), classes=order)
        assert out["label"].tolist() == [order[0]] * 4 + ["a"]
    with pytest.raises(ValueError, match="unknown tie_break"):
        majority_vote(matrix, tie_break=("latest",))


def test_majority_vote_agrees_with_cleanlab_where_there_is_no_tie() -> None:
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, 400)
    labels = np.where(rng.random((400, 5)) < 0.3, rng.integers(0, 3, (400, 5)), truth[:, None])
    labels = np.where(rng.random((400, 5)) < 0.2, np.nan, labels)
    labels[:, 0] = np.where(np.isnan(labels[:, 0]), truth, labels[:, 0])  # ≥ 1 label per row
    names = np.array(["neg", "neu", "pos"], dtype=object)
    matrix = pd.DataFrame([[NAN if np.isnan(v) else names[int(v)] for v in row]
                           for row in labels])
    ours = majority_vote(matrix, classes=list(names))
    theirs = cl_multi.get_majority_vote_label(pd.DataFrame(labels))
    clear = ~ours["tie"].to_numpy()
    assert clear.sum() > 300
    assert (ours["label"].to_numpy()[clear] == names[theirs[clear]]).all()


@pytest.fixture
def tweets_store(tmp_path):
    tweets = load_tweets().sample(60, random_state=3)
    original = pd.Series(tweets["sentiment"].to_numpy(), index=tweets["id"])
    return LabelStore(original, tmp_path / "labels.jsonl", author="lead")


def test_label_matrix_from_a_store_follows_skips_undos_and_roles(tweets_store) -> None:
    store = tweets_store
    ids = list(store.original.index[:4])
    cur = store.labels()
    other = {i: next(c for c in store.classes if c != cur[i]) for i in ids}
    store.record_many([
        {"op": "set", "id": ids[0], "label": other[ids[0]], "author": "ana"},
        {"op": "confirm", "id": ids[0], "author": "ben"},
        {"op": "set", "id": ids[1], "label": other[ids[1]], "author": "ana"},
        {"op": "skip", "id": ids[2], "author": "ben"},
    ])
    store.record("set", ids[3], other[ids[3]], author="ana")
    withdrawn = store.record("skip", ids[1], author="ana")  # ana withdraws her vote ...
    store.undo(withdrawn.event_id)  # ... and that is undone: her set on ids[1] counts again
    store.record("adjudicate", ids[0], other[ids[0]], author="lead", role="adjudicator")
    matrix = label_matrix(store)
    assert list(matrix.columns) == ["ana", "ben"]
    assert matrix.loc[ids[0]].tolist() == [other[ids[0]], cur[ids[0]]]
    assert matrix.loc[ids[1], "ana"] == other[ids[1]]
    assert pd.isna(matrix.loc[ids[2], "ben"])
    assert adjudicated(store).to_dict() == {ids[0]: other[ids[0]]}
    assert "lead" not in matrix.columns  # an adjudication is the reference, not a vote
    store.record("set", ids[2], other[ids[2]], author="lead", role="adjudicator")
    assert "lead" not in label_matrix(store).columns
    assert label_matrix(store, roles=None).loc[ids[2], "lead"] == other[ids[2]]
