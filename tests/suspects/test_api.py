"""Analysis.suspects / label_health / suspect_rates / similar on realistic data."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from cleanlab.count import estimate_joint
from cleanlab.filter import find_label_issues
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import errlens as el
from errlens.suspects import Suspects

from .conftest import plant_flips


def test_table_columns_order_and_flags(digits_ev: el.Analysis) -> None:
    s = digits_ev.suspects()
    table = s.table
    assert isinstance(s, Suspects) and len(s) == digits_ev.n
    assert table.columns.tolist() == ["given", "predicted", "p_given", "score", "flagged", "rank"]
    assert table.index.equals(table.index.unique()) and set(table.index) == set(digits_ev.ids)
    assert table["rank"].tolist() == list(range(1, digits_ev.n + 1))
    n_flagged = int(table["flagged"].sum())
    assert table["flagged"].iloc[:n_flagged].all() and not table["flagged"].iloc[n_flagged:].any()
    flagged_scores = table["score"].to_numpy()[:n_flagged]
    assert (np.diff(flagged_scores) >= 0).all()
    # given/predicted/p_given line up with the analysis by id
    ids = table.index[:50]
    assert (table.loc[ids, "given"] == digits_ev.y_true.loc[ids]).all()
    assert (table.loc[ids, "predicted"] == digits_ev.y_pred.loc[ids]).all()
    pos = digits_ev.ids.get_indexer(ids)
    np.testing.assert_array_equal(
        table.loc[ids, "p_given"], digits_ev.proba[pos, digits_ev.y_true_codes[pos]]
    )
    expected = find_label_issues(
        digits_ev.y_true_codes, digits_ev.proba, filter_by="prune_by_noise_rate", n_jobs=1
    )
    assert set(s.flagged_ids) == set(digits_ev.ids[expected])


@pytest.mark.parametrize("rank_by", ["normalized_margin", "confidence_weighted_entropy"])
def test_rank_by_orders_flagged_rows_by_that_score(digits_ev: el.Analysis, rank_by: str) -> None:
    s = digits_ev.suspects("confident_learning", rank_by=rank_by)
    flagged = s.table[s.table["flagged"]]
    assert s.score_kind == rank_by and (np.diff(flagged["score"].to_numpy()) >= 0).all()
    assert set(s.flagged_ids) == set(digits_ev.suspects("confident_learning").flagged_ids)


def test_cause_is_json_and_complete(digits_ev: el.Analysis) -> None:
    s = digits_ev.suspects("both", rank_by="normalized_margin")
    first = s.flagged_ids[0]
    cause = json.loads(json.dumps(s.cause(first)))
    assert cause["method"] == "both" and cause["rank"] == 1 and cause["flagged"] is True
    assert cause["score_kind"] == "normalized_margin"
    assert cause["score"] == pytest.approx(float(s.table.loc[first, "score"]))
    assert cause["params"]["filter_by"] == "both"
    assert cause["fingerprint"].startswith("sha256:") and len(cause["fingerprint"]) == 23
    assert "cleanlab" in cause["engine"]
    # the fingerprint changes with the probabilities, not with the method
    assert digits_ev.suspects("confident_learning").fingerprint == s.fingerprint
    with pytest.raises(KeyError, match="not in this suspects table"):
        s.cause("digit-9999")


def test_cohort_restricts_rows_but_not_scores(digits_ev: el.Analysis) -> None:
    everything = digits_ev.suspects()
    cohort = digits_ev.ids[digits_ev.y_true.to_numpy() == 8].tolist()
    within = digits_ev.suspects(cohort=cohort)
    assert set(within.table.index) == set(cohort)
    assert within.table["rank"].tolist() == list(range(1, len(cohort) + 1))
    pd.testing.assert_series_equal(
        within.table["flagged"], everything.table.loc[within.table.index, "flagged"]
    )
    assert within.cause(within.table.index[0])["params"]["cohort_rows"] == len(cohort)
    mask = digits_ev.mask(cohort)
    assert digits_ev.suspects(cohort=mask).table.index.equals(within.table.index)


def test_cohort_object_is_recorded_in_the_cause(digits_ev: el.Analysis) -> None:
    from errlens.slicing.cohort import Cohort

    cohort = Cohort.where("px10", ">=", 8)
    s = digits_ev.suspects(cohort=cohort)
    assert len(s) == int(digits_ev.mask(cohort).sum()) > 0
    cause = json.loads(json.dumps(s.cause(s.table.index[0])))
    assert Cohort.from_json(cause["params"]["cohort"]) == cohort


def test_top_keeps_the_head(digits_ev: el.Analysis) -> None:
    head = digits_ev.suspects(top=7).table
    assert head.equals(digits_ev.suspects().table.head(7))
    with pytest.raises(ValueError, match="top must be a positive integer"):
        digits_ev.suspects(top=0)


def test_in_sample_probabilities_warn_with_the_consequence() -> None:
    proba = [[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.1, .9], [.85, .15]]
    ev = el.Analysis.from_predictions({"x": range(6)}, y_true=[0, 0, 0, 1, 1, 1], proba=proba)
    with pytest.warns(UserWarning, match="memorised their labels"):
        ev.suspects()
    oof = el.Analysis.from_predictions(
        {"x": range(6)}, y_true=[0, 0, 0, 1, 1, 1], proba=proba, proba_out_of_fold=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        oof.suspects()
        oof.suspects("knn", n_neighbors=2)


def test_string_labels_use_their_codes() -> None:
    proba = np.array([[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.1, .9], [.85, .15]])
    labels = ["cat", "cat", "cat", "dog", "dog", "dog"]
    ev = el.Analysis.from_predictions(
        {"x": range(6)}, y_true=labels, proba=proba, id=list("abcdef"), proba_out_of_fold=True
    )
    s = ev.suspects("confident_learning")
    assert s.flagged_ids.tolist() == ["f"]
    assert s.table.loc["f", ["given", "predicted"]].tolist() == ["dog", "cat"]
    health = ev.label_health()
    assert health.classes.loc["dog", "likely_true"] == "cat"
    assert health.classes.loc["dog", "estimated_noise_rate"] == pytest.approx(1 / 3)


def test_label_health_matches_cleanlab_joint(digits_ev: el.Analysis) -> None:
    health = digits_ev.label_health()
    joint = estimate_joint(digits_ev.y_true_codes, digits_ev.proba)
    np.testing.assert_allclose(health.joint.to_numpy(), joint, atol=1e-15)
    expected_noise = 1 - np.diagonal(joint) / joint.sum(axis=1)
    np.testing.assert_allclose(health.classes["estimated_noise_rate"], expected_noise)
    # 10 % flips were planted uniformly: every class' estimate is in a sane band around it
    assert health.classes["estimated_noise_rate"].between(0.03, 0.3).all()
    top = health.confusions.iloc[0]
    assert top["given"] != top["probable_true"]
    assert (np.diff(health.confusions["estimated_count"]) <= 0).all()


def test_suspect_rates_find_the_sloppy_annotator(digits_noisy) -> None:
    frame, _, _ = digits_noisy
    truth = frame["digit"].to_numpy()
    annotator = np.array(["ana", "bo", "cy"])[np.arange(len(truth)) % 3]
    given = truth.copy()
    sloppy = annotator == "cy"
    given[sloppy] = plant_flips(truth[sloppy], 0.25, 10, seed=1)
    given[~sloppy] = plant_flips(truth[~sloppy], 0.03, 10, seed=2)
    pixels = frame.drop(columns=["id", "digit"])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    proba = cross_val_predict(model, pixels, given, cv=3, method="predict_proba")
    data = pixels.assign(id=frame["id"], annotator=annotator, label=given)
    ev = el.Analysis.from_predictions(
        data, y_true="label", proba=proba, id="id", proba_out_of_fold=True
    )
    rates = ev.suspect_rates("annotator")
    assert rates.index[0] == "cy" and rates["n"].sum() == ev.n
    assert rates.loc["cy", "ci_low"] > rates.loc[["ana", "bo"], "ci_high"].max()
    assert rates.loc["cy", "lift"] > 1.5
    by_array = ev.suspect_rates(annotator, "knn")
    assert by_array.index[0] == "cy"
    with pytest.raises(KeyError, match="not a feature column"):
        ev.suspect_rates("reviewer")


def test_similar_returns_nearest_others(digits_ev: el.Analysis) -> None:
    near = digits_ev.similar("digit-0000", k=5)
    assert len(near) == 5 and "digit-0000" not in near.index
    assert near.columns.tolist() == ["distance", "given", "predicted", "error"]
    assert (np.diff(near["distance"]) >= 0).all()
    x = digits_ev.features.to_numpy(dtype=float)
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1)
    brute = np.linalg.norm(x - x[0], axis=1)
    brute[0] = np.inf
    assert set(near.index) == set(digits_ev.ids[np.argsort(brute)[:5]])
    assert near["given"].tolist() == digits_ev.y_true.loc[near.index].tolist()
    with pytest.raises(KeyError, match="is not in the analysis"):
        digits_ev.similar("digit-9999")
    with pytest.raises(ValueError, match="k must be an integer"):
        digits_ev.similar("digit-0000", k=digits_ev.n)


def test_similar_on_embeddings_and_index_cache(digits_ev: el.Analysis) -> None:
    emb = np.zeros((digits_ev.n, 2))
    emb[:, 0] = np.arange(digits_ev.n)
    near = digits_ev.similar(digits_ev.ids[10], k=2, embeddings=emb)
    assert set(near.index) == set(digits_ev.ids[[9, 11]])
    assert near["distance"].tolist() == [1.0, 1.0]
    digits_ev.similar(digits_ev.ids[5], k=2, embeddings=emb.copy())
    cache = digits_ev.cache.suspects
    assert sum(1 for key in cache if key[0] == "embeddings_index") == 1
