"""Annotator / source / segment priors of the suspects ranking, on noisy digits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cleanlab.filter import find_label_issues
from cleanlab.multiannotator import get_label_quality_multiannotator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import errlens as el
from errlens.datasets import load_digits
from errlens.suspects.confident import FILTERS
from errlens.suspects.priors import group_noise, posterior, row_prior
from errlens.suspects.reviews import MIN_REVIEWS
from tests.suspects.conftest import random_proba

RATES = np.array([0.40, 0.03, 0.03, 0.03, 0.03])  # ann0 careless, the others careful


def _structured(seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Digits frame, annotator per row, noisy labels (ann0 flips 40 %), out-of-fold proba."""
    frame, _ = load_digits()
    truth = frame["digit"].to_numpy()
    rng = np.random.default_rng(seed)
    who = rng.integers(0, len(RATES), len(truth))
    flip = rng.random(len(truth)) < RATES[who]
    noisy = truth.copy()
    noisy[flip] = (truth[flip] + rng.integers(1, 10, flip.sum())) % 10
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    proba = cross_val_predict(model, frame.drop(columns=["id", "digit"]), noisy, cv=5,
                              method="predict_proba")
    return frame, np.array([f"ann{w}" for w in who], dtype=object), noisy, proba


@pytest.fixture(scope="module")
def structured() -> list[tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]]:
    return [_structured(seed) for seed in range(3)]


def _analysis(frame: pd.DataFrame, who: np.ndarray, noisy: np.ndarray, proba: np.ndarray,
              **options: object) -> el.Analysis:
    return el.Analysis.from_predictions(
        frame.drop(columns=["digit"]).assign(annotator=who), y_true=noisy, proba=proba,
        id="id", proba_out_of_fold=True, **options)


def test_the_careless_annotator_gets_the_highest_noise_and_a_sound_interval(structured):
    frame, who, noisy, proba = structured[0]
    table = _analysis(frame, who, noisy, proba, annotator="annotator").label_health().annotators
    assert table is not None and table.index.name == "annotator"
    assert table["noise_rate"].idxmax() == "ann0"
    assert table.loc["ann0", "ci_low"] > table.drop(index="ann0")["ci_high"].max()
    assert (table["ci_low"] <= table["noise_rate"]).all()
    assert (table["noise_rate"] <= table["ci_high"]).all()
    assert table["n"].sum() == len(noisy)
    assert {"suspects", "prior", "given", "likely_true", "confusion_count"} <= set(table.columns)


def test_small_groups_are_shrunk_toward_the_overall_rate_and_equal_groups_pooled():
    labels, proba = random_proba(4000, 3, seed=1)
    rng = np.random.default_rng(1)
    noisy = labels.copy()
    big, small = np.arange(4000) < 1000, np.arange(4000) >= 3980  # 1000 rows and 20 rows
    for rows in (big, small):  # both groups flip 60 % of their labels
        flip = rows & (rng.random(4000) < 0.6)
        noisy[flip] = (labels[flip] + 1) % 3
    groups = np.where(big, "big", np.where(small, "small", "rest"))
    noise = group_noise(noisy, proba, groups, name="source")
    t = noise.table
    assert t.loc["big", "noise_rate"] > t.loc["rest", "noise_rate"] + 0.2
    assert t.loc["small", "noise_rate"] > t.loc["rest", "noise_rate"] + 0.2
    pulled = (t["noise_rate"] - t["prior"]) / (t["noise_rate"] - noise.overall)
    assert pulled["small"] > 2 * pulled["big"]  # the 20-row group is trusted far less
    assert t.loc["small", "prior"] < t.loc["big", "prior"]
    # the same rows split at random: the groups differ by chance only, one prior for all
    # (the homogeneity test rejects 5 % of random splits: most of 20 pool)
    pooled = [group_noise(labels, proba, np.random.default_rng(seed).integers(0, 4, 4000),
                          name="batch") for seed in range(20)]
    assert sum(np.isinf(p.strength) for p in pooled) >= 16
    for p in pooled:
        if np.isinf(p.strength):
            np.testing.assert_allclose(p.table["prior"], p.overall)


def test_flags_stay_cleanlabs_with_a_prior(structured):
    frame, who, noisy, proba = structured[0]
    ev = _analysis(frame, who, noisy, proba, annotator="annotator")
    for method in FILTERS:
        table = ev.suspects(method).table
        assert "posterior" in table.columns
        ours = table["flagged"].reindex(ev.ids).to_numpy()
        theirs = find_label_issues(noisy, proba, filter_by=method)
        assert (ours == theirs).all(), method


def test_nothing_declared_or_prior_none_ranks_exactly_as_before(structured):
    frame, who, noisy, proba = structured[0]
    plain = _analysis(frame, who, noisy, proba)
    declared = _analysis(frame, who, noisy, proba, annotator="annotator")
    before = plain.suspects().table
    assert "posterior" not in before.columns
    pd.testing.assert_frame_equal(declared.suspects(prior=None).table, before)
    pd.testing.assert_frame_equal(plain.suspects(prior="auto").table, before)
    ranked = declared.suspects().table
    assert not ranked.index.equals(before.index)


def test_the_prior_finds_more_flips_in_the_top_tenth_on_every_seed(structured):
    gains = []
    frame, _, _ = structured[0][0], None, None
    truth = frame["digit"].to_numpy()
    for frame, who, noisy, proba in structured:
        ev = _analysis(frame, who, noisy, proba, annotator="annotator")
        flips = pd.Series(noisy != truth, index=frame["id"])
        budget = len(noisy) // 10
        ours = flips[ev.suspects().table.index[:budget]].sum()
        order = np.argsort(proba[np.arange(len(noisy)), noisy], kind="stable")
        theirs = flips.iloc[order[:budget]].sum()
        gains.append((ours - theirs) / flips.sum())
    assert min(gains) > 0, gains
    assert np.mean(gains) > 0.02, gains


def test_a_constant_prior_keeps_the_scores_order():
    _, proba = random_proba(500, 4, seed=3)
    score = proba[:, 0]
    post = posterior(score, 0.1, 4)
    assert (np.argsort(-post, kind="stable") == np.argsort(score, kind="stable")).all()


def test_reviews_move_a_groups_prior_and_reviewed_rows_leave_the_head(structured, tmp_path):
    frame, who, noisy, proba = structured[0]
    ev = _analysis(frame, who, noisy, proba, annotator="annotator")
    before = ev.suspects()
    store = el.LabelStore(ev, tmp_path / "labels.jsonl", author="rev")
    head = before.table.index[:300]
    careless = [i for i in head if before.table.loc[i, "annotator"] == "ann0"]
    careful = [i for i in head if before.table.loc[i, "annotator"] != "ann0"]
    # every careless suspect turns out right, every careful one wrong: the opposite of the priors
    for i in careless:
        store.confirm(i, cause=before.cause(i))
    for i in careful:
        wrong = ev.classes[(ev.classes.index(before.table.loc[i, "given"]) + 1) % 10]
        store.relabel(i, wrong, cause=before.cause(i))
    after = ev.suspects(reviews=store)
    t0 = ev.label_health().annotators
    t1 = after.priors[0].table
    assert t1.loc["ann0", "reviewed"] >= MIN_REVIEWS
    assert t1.loc["ann0", "prior"] < t0.loc["ann0", "prior"]
    enough = t1.index[(t1["reviewed"] >= MIN_REVIEWS) & (t1.index != "ann0")]
    assert len(enough) and (t1.loc[enough, "prior"] > t0.loc[enough, "prior"]).all()
    # a group with too few reviews, or none, keeps its prior whatever they said
    few = t1.index[t1["reviewed"] < MIN_REVIEWS]
    np.testing.assert_allclose(t1.loc[few, "prior"], t0.loc[few, "prior"])
    assert t1.loc["ann0", "review_precision"] == 0.0
    assert set(after.table.index[-len(head):]) == set(head)
    assert after.table.loc[careless[0], "review"] == "confirmed"
    assert after.params["reviewed"] == len(head)


def test_several_annotators_judging_an_item_give_crowdlabs_consensus_as_its_verdict(structured):
    frame, who, noisy, proba = structured[0]
    truth = frame["digit"].to_numpy()
    ev = _analysis(frame, who, noisy, proba, annotator="annotator")
    head = ev.suspects().table.index[:60]
    rows = ev.ids.get_indexer(head)
    flipped = noisy[rows] != truth[rows]
    assert flipped.any() and (~flipped).any()
    votes = []
    for sample, given, true, wrong in zip(head, noisy[rows], truth[rows], flipped, strict=True):
        other = (given + 1) % 10
        # a flipped label: three annotators set the truth, a fourth keeps the given label; a
        # right label: three keep it, and the last word is a fourth annotator's wrong relabel
        for author, label in zip(("ana", "ben", "cy", "dee"),
                                 (true, true, true, given) if wrong else
                                 (given, given, given, other), strict=True):
            votes.append({"op": "confirm" if label == given else "set", "sample_id": sample,
                          "new_label": label, "author": author, "role": "annotator",
                          "cause": None})
    events = pd.DataFrame(votes).assign(seq=range(len(votes)))
    found = ev.suspects(reviews=events)
    verdicts = found.table.loc[head, "review"].to_numpy()
    # the verdict is CROWDLAB's consensus (cleanlab's, on the four votes and the model), not
    # the latest event, which reads every right label as relabeled
    votes_frame = pd.DataFrame(votes).pivot(index="sample_id", columns="author",
                                            values="new_label").loc[head].astype(float)
    consensus = get_label_quality_multiannotator(
        votes_frame.reset_index(drop=True), proba[rows], verbose=False,
        return_detailed_quality=False)["label_quality"]["consensus_label"].to_numpy()
    expected = np.where(consensus == noisy[rows], "confirmed", "relabeled")
    assert (verdicts == expected).all()
    assert (verdicts[~flipped] == "confirmed").any()
    assert (verdicts[flipped] == "relabeled").mean() > 0.9
    assert set(found.table.index[-len(head):]) == set(head)
    ann = found.priors[0].table
    assert ann["relabeled"].sum() == (verdicts == "relabeled").sum()


def test_the_cause_says_why_a_row_ranks_where_it_does(structured):
    frame, who, noisy, proba = structured[0]
    ev = _analysis(frame, who, noisy, proba, annotator="annotator")
    found = ev.suspects()
    first = found.table.index[0]
    cause = found.cause(first)
    assert cause["why"].startswith(f"annotator {found.table.loc[first, 'annotator']}: est. ")
    assert "% noise [" in cause["why"] and "p(given) " in cause["why"]
    assert 0 <= cause["prior"] <= 1 and cause["posterior"] == found.table["posterior"].iloc[0]


def test_a_segment_prior_by_feature_name(structured):
    frame, who, noisy, proba = structured[0]
    ev = _analysis(frame, who, noisy, proba)
    found = ev.suspects(prior=["annotator", "px36"])
    assert found.params["prior"] == ["annotator", "px36"]
    assert {"annotator", "px36", "prior", "posterior"} <= set(found.table.columns)


def test_from_estimator_keeps_the_annotator_out_of_the_model(structured):
    frame, who, noisy, _ = structured[0]
    X = frame.drop(columns=["id", "digit"]).iloc[:, :16].assign(annotator=who)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    ev = el.Analysis.from_estimator(model, X, noisy, cv=3, progress=False,
                                    annotator="annotator")
    bare = el.Analysis.from_estimator(model, X.drop(columns="annotator"), noisy, cv=3,
                                      progress=False)
    np.testing.assert_allclose(ev.proba, bare.proba)
    assert "annotator" in ev.features.columns and ev.label_sources == {"annotator": "annotator"}
    assert "posterior" in ev.suspects().table.columns


def test_values_per_row_become_a_feature_and_missing_ones_their_own_group():
    labels, proba = random_proba(300, 3, seed=5)
    who = np.array(["a", "b", None] * 100, dtype=object)
    ev = el.Analysis.from_predictions({"x": np.arange(300)}, y_true=labels, proba=proba,
                                      proba_out_of_fold=True, annotator=who, source="x")
    assert ev.label_sources == {"annotator": "annotator", "source": "x"}
    health = ev.label_health()
    assert health.annotators is not None and health.sources is not None
    assert set(health.annotators.index) == {"a", "b", "(missing)"}
    assert "<h4>Annotators</h4>" in health._repr_html_()


def test_bad_declarations_say_what_to_fix():
    labels, proba = random_proba(30, 2, seed=6)
    with pytest.raises(KeyError, match="annotator='who' is not a column"):
        el.Analysis.from_predictions({"x": range(30)}, y_true=labels, proba=proba,
                                     annotator="who")
    with pytest.raises(ValueError, match="source has 3 rows but data has 30"):
        el.Analysis.from_predictions({"x": range(30)}, y_true=labels, proba=proba,
                                     source=["a", "b", "c"])
    with pytest.raises(ValueError, match="already named 'annotator'"):
        el.Analysis.from_predictions({"annotator": range(30)}, y_true=labels, proba=proba,
                                     annotator=["a"] * 30)
    ev = el.Analysis.from_predictions({"x": range(30)}, y_true=labels, proba=proba,
                                      proba_out_of_fold=True)
    with pytest.raises(KeyError, match="prior='nope' is not a feature column"):
        ev.suspects(prior="nope")
    reg = el.Analysis.from_predictions({"x": range(30)}, y_true=np.arange(30.0),
                                       y_pred=np.arange(30.0) + 1, task="regression")
    with pytest.raises(ValueError, match="prior do"):
        reg.suspects("residual", prior=["x"])
    assert row_prior([], 0.1).size == 0
