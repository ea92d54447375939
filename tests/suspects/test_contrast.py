"""Noise rates of exchangeable label sources by contrast, on real tweets with a weak model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cleanlab.rank import get_label_quality_scores
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline

import errlens as el
from errlens.datasets import load_tweets
from errlens.suspects.contrast import fit_contrast
from errlens.suspects.priors import group_noise, posterior, row_prior

RATES = np.array([0.35, 0.03, 0.03, 0.03, 0.03])  # ann0 careless


@pytest.fixture(scope="module")
def tweets() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """12,000 tweets: frame, annotator, true and noisy label codes, out-of-fold proba of a
    TF-IDF logistic regression (right about 3 times in 4: many confident mistakes)."""
    frame = load_tweets().sample(12_000, random_state=0).reset_index(drop=True)
    truth = pd.factorize(frame["sentiment"], sort=True)[0]
    rng = np.random.default_rng(0)
    who = rng.integers(0, len(RATES), len(truth))
    flip = rng.random(len(truth)) < RATES[who]
    noisy = truth.copy()
    noisy[flip] = (truth[flip] + rng.integers(1, 3, flip.sum())) % 3
    model = make_pipeline(TfidfVectorizer(min_df=2, sublinear_tf=True),
                          LogisticRegression(max_iter=300, C=2.0))
    proba = cross_val_predict(model, frame["text"], noisy, cv=5, method="predict_proba")
    return frame, np.array([f"ann{w}" for w in who], dtype=object), truth, noisy, proba


def _planted(who: np.ndarray, truth: np.ndarray, noisy: np.ndarray) -> pd.Series:
    return pd.Series(truth != noisy).groupby(who).mean()


def test_contrast_finds_each_annotators_rate_where_confident_learning_counts_model_mistakes(
        tweets):
    _frame, who, truth, noisy, proba = tweets
    planted = _planted(who, truth, noisy)
    contrast = group_noise(noisy, proba, who, name="annotator", exchangeable=True)
    joint = group_noise(noisy, proba, who, name="annotator")
    assert contrast.method == "contrast" and joint.method == "confident joint"
    error = (contrast.table["noise_rate"] - planted).abs()
    assert error.max() < 0.04, error
    table = contrast.table
    covered = (table["ci_low"] <= planted) & (planted <= table["ci_high"])
    assert covered["ann0"] and covered.sum() >= 4, table[["noise_rate", "ci_low", "ci_high"]]
    assert table.loc["ann0", "ci_low"] > table.drop(index="ann0")["noise_rate"].max() + 0.2
    # the confident joint puts the model's own mistakes into every annotator's rate
    assert (joint.table["noise_rate"].drop("ann0") > planted.drop("ann0") + 0.1).all()


def test_the_contrast_ranking_finds_more_flips_than_the_confident_joint_and_cleanlab(tweets):
    frame, who, truth, noisy, proba = tweets
    flips = truth != noisy
    top = len(flips) // 10
    ev = el.Analysis.from_predictions(frame[["text"]].assign(annotator=who), y_true=noisy,
                                      proba=proba, proba_out_of_fold=True, annotator="annotator")
    ours = ev.suspects().table.index.to_numpy()[:top]
    p_given = proba[np.arange(len(noisy)), noisy]
    joint = group_noise(noisy, proba, who, name="annotator")
    by_joint = np.argsort(-posterior(p_given, row_prior([joint], joint.overall), 3),
                          kind="stable")[:top]
    by_cleanlab = np.argsort(get_label_quality_scores(noisy, proba), kind="stable")[:top]
    found = {name: flips[rows].sum() / flips.sum()
             for name, rows in (("ours", ours), ("joint", by_joint), ("cleanlab", by_cleanlab))}
    assert found["ours"] > found["joint"] + 0.02 and found["ours"] > found["cleanlab"] + 0.08, \
        found


def test_alike_sources_or_an_unmeasured_evidence_leave_the_fit_unidentified():
    rng = np.random.default_rng(1)
    source = rng.integers(0, 5, 20_000)
    wrong = rng.random(20_000) < 0.1  # every source alike
    evidence = rng.normal(np.where(wrong, 1.5, -1.5), 1.0)
    assert not fit_contrast(evidence, source, 5).identified
    careless = rng.random(20_000) < np.where(source == 0, 0.4, 0.03)
    constant = np.zeros(20_000)  # the evidence tells nothing: no slope to find
    assert not fit_contrast(constant + 1e-9 * careless, source, 5).identified
    assert fit_contrast(rng.normal(np.where(careless, 1.5, -1.5), 1.0), source, 5).identified


def test_annotators_given_alike_rows_share_one_prior_and_rank_as_cleanlab(tweets):
    frame, who, _truth, noisy, proba = tweets
    alike = np.random.default_rng(2).permutation(who)  # annotators no longer tied to the flips
    ev = el.Analysis.from_predictions(frame[["text"]].assign(annotator=alike), y_true=noisy,
                                      proba=proba, proba_out_of_fold=True, annotator="annotator")
    result = ev.suspects()
    assert result.priors[0].table["prior"].nunique() == 1
    by_cleanlab = np.argsort(get_label_quality_scores(noisy, proba), kind="stable")
    assert (result.table.index.to_numpy() == by_cleanlab).all()


def test_a_source_the_model_sees_differently_is_not_taken_as_given_alike(tweets):
    frame, who, _truth, noisy, proba = tweets
    # CrowdFlower's agreement: low-agreement tweets are the hard ones, seen differently
    agreement = pd.qcut(frame["confidence"], 4, duplicates="drop").astype(str).to_numpy()
    assert group_noise(noisy, proba, agreement, name="agreement",
                       exchangeable=True).method == "confident joint"
    assert group_noise(noisy, proba, who, name="annotator",
                       exchangeable=True).method == "contrast"
