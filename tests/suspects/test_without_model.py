"""kNN label disagreement (no model) and regression residual suspects."""

from __future__ import annotations

import numpy as np
import pytest
from cleanlab.filter import find_label_issues

import errlens as el
from errlens.suspects.knn import encode_features, vote_proba
from errlens.suspects.regression import robust_z


def two_clusters() -> el.Analysis:
    """Ten points in two clusters; sample 'p3' sits in cluster a but is labelled b."""
    x = [0.0, 0.1, 0.2, 0.3, 0.4, 10.0, 10.1, 10.2, 10.3, 10.4]
    y = ["a", "a", "a", "b", "a", "b", "b", "b", "b", "b"]
    ids = [f"p{i}" for i in range(10)]
    # y_pred == y_true: no model at all, only the labels
    return el.Analysis.from_predictions({"x": x}, y_true=y, y_pred=y, id=ids)


def test_knn_finds_the_planted_label_without_a_model() -> None:
    ev = two_clusters()
    s = ev.suspects("knn", n_neighbors=3)
    assert s.flagged_ids.tolist() == ["p3"]
    # its three neighbours all say 'a', one pseudo-vote spread by the prior (0.4 a / 0.6 b)
    assert s.table.loc["p3", "p_given"] == pytest.approx(0.6 / 4)
    cause = s.cause("p3")
    assert cause["params"]["space"] == "features" and cause["params"]["n_neighbors"] == 3
    assert cause["params"]["filter_by"] == "prune_by_noise_rate"


def test_vote_excludes_the_sample_itself_even_with_duplicates() -> None:
    ev = el.Analysis.from_predictions(
        {"x": [0.0, 0.0, 0.0, 5.0, 5.0, 5.0]}, y_true=[0, 0, 1, 1, 1, 1], y_pred=[0] * 6
    )
    neighbours = el.Analysis.similar(ev, 2, k=2)
    assert 2 not in neighbours.index and set(neighbours.index) == {0, 1}
    proba = vote_proba(np.array([[1, 2], [0, 2], [0, 1]]), np.array([0, 0, 1]), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)


@pytest.mark.parametrize("filter_by", ["both", "confident_learning", "low_self_confidence"])
def test_knn_feeds_the_same_filter(digits_ev: el.Analysis, filter_by: str) -> None:
    s = digits_ev.suspects("knn", filter_by=filter_by, n_neighbors=8)
    cl = next(v for key, v in digits_ev.cache.suspects.items() if key[0] == "knn" and key[2] == 8)
    expected = find_label_issues(cl.labels, cl.pred_probs, filter_by=filter_by, n_jobs=1)
    assert set(s.flagged_ids) == set(digits_ev.ids[expected]) and expected.sum() > 20


def test_knn_on_embeddings_and_wrong_length() -> None:
    ev = two_clusters()
    emb = np.c_[np.r_[np.zeros(5), np.ones(5) * 9], np.zeros(10)]
    emb[3] = [9.0, 0.0]  # in embedding space p3 sits with the b's: nothing to flag
    assert ev.suspects("knn", n_neighbors=3, embeddings=emb).flagged_ids.tolist() == []
    with pytest.raises(ValueError, match="embeddings has 9 rows but the analysis has 10"):
        ev.suspects("knn", embeddings=emb[:9])
    with pytest.raises(ValueError, match="embeddings has 9 rows"):
        ev.similar("p0", embeddings=emb[:9])
    bad = emb.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ev.suspects("knn", embeddings=bad)


def test_encode_features_handles_categories_and_missing() -> None:
    import pandas as pd

    frame = pd.DataFrame({"n": [1.0, np.nan, 3.0], "c": pd.Categorical(["u", None, "u"])})
    matrix = encode_features(frame)
    assert matrix.shape == (3, 3) and np.isfinite(matrix).all()
    assert matrix[1, 0] == pytest.approx(0.0)  # the median fills the gap


def test_residual_suspects_known_answer() -> None:
    truth = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    pred = truth + np.array([0.1, -0.1, 0.2, -0.2, 0.0, 0.1, -0.1, 5.0])
    ev = el.Analysis.from_predictions(
        {"x": range(8)}, y_true=truth, y_pred=pred, id=list("abcdefgh"), task="regression"
    )
    s = ev.suspects("residual")
    assert s.flagged_ids.tolist() == ["h"] and s.table.index[0] == "h"
    assert s.table.loc["h", "residual"] == pytest.approx(-5.0)
    z = robust_z(truth - pred)
    assert s.table.loc["h", "score"] == pytest.approx(abs(z[7]))
    assert (np.diff(s.table["score"].to_numpy()[1:]) <= 0).all()
    assert s.cause("h")["params"]["threshold"] == 3.5 and s.score_kind == "abs_robust_z"
    assert len(ev.suspects("residual", threshold=1000).flagged_ids) == 0


def test_robust_z_fallbacks() -> None:
    # more than half the residuals equal: MAD is 0, mean absolute deviation takes over
    z = robust_z(np.array([0.0, 0.0, 0.0, 0.0, 8.0]))
    assert np.isfinite(z).all() and z[-1] > 3.5
    assert robust_z(np.zeros(4)).tolist() == [0.0] * 4


def test_methods_of_the_other_task_are_refused(digits_ev: el.Analysis) -> None:
    reg = el.Analysis.from_predictions(
        {"x": range(4)}, y_true=[1.0, 2.0, 3.5, 4.0], y_pred=[1.1, 2.0, 3.0, 4.2],
        task="regression",
    )
    with pytest.raises(ValueError, match="use method='residual'"):
        reg.suspects("prune_by_noise_rate")
    with pytest.raises(ValueError, match="label_health needs a classifier"):
        reg.label_health()
    with pytest.raises(ValueError, match="'residual' is for regression"):
        digits_ev.suspects("residual")
    with pytest.raises(ValueError, match="threshold do"):
        digits_ev.suspects("both", threshold=3)
    with pytest.raises(ValueError, match="filter_by do"):
        digits_ev.suspects("both", filter_by="both")
    with pytest.raises(ValueError, match="rank_by must be one of"):
        digits_ev.suspects(rank_by="margin")


def test_tied_scores_keep_row_order(digits_ev: el.Analysis) -> None:
    table = digits_ev.suspects("knn").table  # vote fractions: many exact ties
    positions = digits_ev.ids.get_indexer(table.index)
    same = (table["score"].to_numpy()[1:] == table["score"].to_numpy()[:-1]) & (
        table["flagged"].to_numpy()[1:] == table["flagged"].to_numpy()[:-1]
    )
    assert same.sum() > 100
    assert (np.diff(positions)[same] > 0).all()
