"""Annotators' judging in a round trip feeds the priors of the rows they labelled: 12,000 real
tweets (TF-IDF + logistic regression, out-of-fold), one careless annotator among five labelling
1.5 % of the rows, an agreement set of 300 other annotators' rows judged by all five."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline

import errlens as el
from errlens.changelog import LabelStore
from errlens.datasets import load_tweets
from errlens.suspects.judges import judge_record
from errlens.views.paging import RowSource

RATES = np.array([0.40, 0.03, 0.03, 0.03, 0.03])  # ann0 careless, as a labeller and a judge
CLASSES = np.array(["negative", "neutral", "positive"], dtype=object)


@pytest.fixture(scope="module")
def tweets() -> tuple[el.Analysis, np.ndarray, np.ndarray, np.ndarray]:
    """(analysis, true codes, labeller code per row, the agreement set's row positions)."""
    data = load_tweets().sample(12_000, random_state=0).reset_index(drop=True)
    truth = pd.Categorical(data["sentiment"], categories=CLASSES).codes.astype(np.int64)
    rng = np.random.default_rng(1)
    who = np.where(rng.random(len(truth)) < 0.015, 0, rng.integers(1, 5, len(truth)))
    flip = rng.random(len(truth)) < RATES[who]
    noisy = truth.copy()
    noisy[flip] = (truth[flip] + rng.integers(1, 3, flip.sum())) % 3
    model = make_pipeline(make_column_transformer(
        (TfidfVectorizer(min_df=2, sublinear_tf=True), "text")), LogisticRegression(max_iter=300))
    proba = cross_val_predict(model, data[["text"]], noisy, cv=5, method="predict_proba")
    frame = data[["id", "text"]].assign(annotator=[f"ann{w}" for w in who])
    ev = el.Analysis.from_predictions(frame, y_true=CLASSES[noisy], proba=proba, id="id",
                                      classes=list(CLASSES), proba_out_of_fold=True,
                                      annotator="annotator")
    agreement = rng.choice(np.flatnonzero(who != 0), 300, replace=False)
    return ev, truth, who, agreement


def judged(ev: el.Analysis, truth: np.ndarray, rows: np.ndarray, rates: np.ndarray,
           names: list[str], seed: int = 2) -> pd.DataFrame:
    """Every annotator judges every row: its true class, or another at its own rate."""
    rng = np.random.default_rng(seed)
    given = ev.y_true.to_numpy()
    votes = []
    for row in rows:
        for judge, rate in zip(names, rates, strict=True):
            label = CLASSES[(truth[row] + rng.integers(1, 3)) % 3 if rng.random() < rate
                            else truth[row]]
            votes.append({"op": "confirm" if label == given[row] else "set",
                          "sample_id": ev.ids[row], "new_label": label, "author": judge,
                          "role": "annotator", "cause": None})
    return pd.DataFrame(votes).assign(seq=range(len(votes)))


def recall(found: el.Suspects, ev: el.Analysis, flips: np.ndarray, left: np.ndarray) -> float:
    """Recall of the flips among the rows not judged, in the top 10 % of those rows."""
    order = ev.ids.get_indexer(found.table.index)
    order = order[left[order]]
    return float(flips[order[: len(ev.ids) // 10]].sum() / flips[left].sum())


def test_judging_corrects_the_priors_the_data_alone_estimate_loosely(tweets):
    ev, truth, who, agreement = tweets
    names = [f"ann{g}" for g in range(5)]
    events = judged(ev, truth, agreement, RATES, names)
    record = judge_record(events, ev)
    assert record["judged"].tolist() == [300] * 5
    share = record["disagreed"] / record["judged"]
    assert share["ann0"] > 0.3 and share.drop("ann0").max() < 0.1
    static = ev.suspects()
    found = ev.suspects(reviews=events)
    # the same votes by authors who labelled nothing: the consensus verdicts, no judging
    strangers = ev.suspects(reviews=events.assign(author="judge " + events["author"]))
    table, before = found.priors[0].table, static.priors[0].table
    assert "judged" not in strangers.priors[0].table
    np.testing.assert_array_equal(table["prior_before_judging"], before["prior"])
    careful = [f"ann{g}" for g in range(1, 5)]
    # the careful annotators judged alike: their priors, loosely apart from the data, close up
    before_spread, after_spread = (float(np.ptp(np.log(t.loc[careful, "prior"])))
                                   for t in (before, table))
    assert after_spread < before_spread / 2
    assert table.loc["ann0", "prior"] > 5 * table.loc[careful, "prior"].max()
    flips = ev.y_true_codes != truth
    left = ~np.isin(np.arange(len(truth)), agreement)
    assert recall(found, ev, flips, left) > recall(strangers, ev, flips, left) + 0.02
    sample = ev.ids[np.flatnonzero((who == 0) & left)[0]]
    assert "ann0: est." in found.cause(sample)["why"]
    assert f"as a judge {share['ann0']:.0%} against consensus (300 votes)" in \
        found.cause(sample)["why"]


def test_judges_who_disagree_alike_move_no_prior(tweets):
    ev, truth, _, agreement = tweets
    names = [f"ann{g}" for g in range(5)]
    alike = ev.suspects(reviews=judged(ev, truth, agreement, np.full(5, 0.05), names))
    strangers = ev.suspects(reviews=judged(ev, truth, agreement, np.full(5, 0.05),
                                           [f"judge {n}" for n in names]))
    pd.testing.assert_series_equal(alike.priors[0].table["prior"],
                                   strangers.priors[0].table["prior"])
    assert alike.table.index.tolist() == strangers.table.index.tolist()


def test_the_browser_reranks_with_the_judges_as_the_core_does(tweets, tmp_path):
    ev, truth, _, agreement = tweets
    store = LabelStore(ev, tmp_path / "labels.jsonl", author="lead")
    votes = judged(ev, truth, agreement[:120], RATES, [f"ann{g}" for g in range(5)])
    store.record_many([{"op": v.op, "id": v.sample_id, "label": v.new_label, "author": v.author,
                        "role": "annotator"} for v in votes.itertuples()])
    reference = ev.suspects("prune_by_noise_rate", reviews=store)
    assert "judged" in reference.priors[0].table
    rows = RowSource(ev)
    rows.reviews = store
    rows.global_suspects()
    rows.rerank()
    assert rows.reranked
    for sample in reference.table.index[[0, 1, 50, 500]]:
        cause = rows.cause(int(ev.ids.get_loc(sample)))
        expected = reference.cause(sample)
        assert (cause["prior"], cause["posterior"], cause["why"]) == (
            expected["prior"], expected["posterior"], expected["why"])
