"""Reviews teach the ranking where it was wrong beyond the declared groups: the slices whose
reviews depart from the ranking's prediction (no declaration needed) and the detector's own
calibration. On Adult with planted flips in one occupation, reviews simulated from the truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

import errlens as el
from errlens.suspects import review_slices
from errlens.suspects.detect import live_rank
from errlens.suspects.live_rank import reviewed_rows
from errlens.suspects.reviews import MIN_REVIEWS, reviewed_methods, reviewed_verdicts

METHOD = "prune_by_noise_rate"
NOISY_JOB = "Craft-repair"


@pytest.fixture(scope="module")
def planted(adult: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """16,000 Adult rows, 30 % of the Craft-repair rows' incomes flipped and 3 % elsewhere, a
    random labeller per row; out-of-fold probabilities of a model on the numeric columns."""
    rng = np.random.default_rng(0)
    data = adult.head(16_000).drop(columns=["split"]).reset_index(drop=True)
    flip = rng.random(len(data)) < np.where(data["occupation"] == NOISY_JOB, 0.30, 0.03)
    truth = data["income"].to_numpy().astype(object)
    classes = np.array(sorted(set(truth)))
    data["income"] = np.where(flip, np.where(truth == classes[0], classes[1], classes[0]),
                              truth)
    data["labeller"] = rng.choice(["ann1", "ann2", "ann3"], len(data))
    numbers = data.drop(columns=["id", "income"]).select_dtypes("number")
    proba = cross_val_predict(LogisticRegression(max_iter=300),
                              (numbers - numbers.mean()) / numbers.std(), data["income"], cv=3,
                              method="predict_proba")
    return data, proba, truth


def analysis(planted: Any, *, sharpen: float = 1.0, **declared: str) -> el.Analysis:
    """The planted data; ``sharpen`` > 1 raises the probabilities to that power (renormalised):
    a detector more confident than the model is."""
    data, proba, _ = planted
    proba = proba ** sharpen
    return el.Analysis.from_predictions(data.drop(columns=["income"]), y_true=data["income"],
                                        proba=proba / proba.sum(axis=1, keepdims=True),
                                        id="id", proba_out_of_fold=True, **declared)


def reviews_of(ev: el.Analysis, truth: np.ndarray, samples: Any,
               method: str | None = METHOD) -> pd.DataFrame:
    """Each sample's truth revealed: a relabel where the label was flipped, else a confirm;
    the causes name ``method`` (None: no detector)."""
    rows = ev.ids.get_indexer(pd.Index(samples))
    wrong = ev.y_true.to_numpy()[rows] != truth[rows]
    return pd.DataFrame({"op": np.where(wrong, "set", "confirm"), "sample_id": ev.ids[rows],
                         "new_label": np.where(wrong, truth[rows], None), "author": "sim",
                         "cause": [None if method is None else {"method": method}] * len(rows),
                         "seq": np.arange(len(rows))})


def test_reviews_find_the_noisy_occupation_with_nothing_declared(planted):
    _, _, truth = planted
    ev = analysis(planted)
    static = ev.suspects().table.index
    events = reviews_of(ev, truth, static[:400], method=None)
    found = ev.suspects(reviews=events)
    moved = found.review_slices
    moved = moved[moved["moved"].to_numpy(dtype=bool)].set_index(["feature", "segment"])
    assert ("occupation", NOISY_JOB) in moved.index
    job = moved.loc[("occupation", NOISY_JOB)]
    assert job["shift"] > 0 and job["reviewed"] >= MIN_REVIEWS
    assert job["relabeled"] / job["reviewed"] > job["predicted_precision"]
    # the Craft-repair rows not yet reviewed now rank higher than their evidence alone says
    table = found.table[found.table["review"].isna()]
    in_job = (ev.features["occupation"] == NOISY_JOB).to_numpy()[ev.ids.get_indexer(table.index)]
    assert table["prior"][in_job].median() > 1.5 * table["prior"][~in_job].median()
    # the next reviews find more flips than the static ranking's next rows
    wrong = pd.Series(ev.y_true.to_numpy() != truth, index=ev.ids)
    assert wrong[table.index[:400]].mean() > wrong[static[400:800]].mean() + 0.03
    # the cause names the slice and what the reviews found there
    sample = table.index[in_job][0]
    assert (f"slice occupation = {NOISY_JOB}: reviews found {int(job['relabeled'])} of "
            f"{int(job['reviewed'])} wrong, predicted {job['predicted_precision']:.0%}"
            ) in found.cause(sample)["why"]
    assert any(s["segment"] == NOISY_JOB for s in found.params["review_slices"])
    assert found.params["review_calibration"] is None  # the reviews named no detector


def test_a_chance_run_of_reviews_in_60_segments_moves_nothing(planted, monkeypatch):
    data, proba, _ = planted
    rng = np.random.default_rng(0)
    batches = pd.DataFrame({f"batch{j}": rng.choice([f"b{i}" for i in range(10)], len(data))
                            for j in range(6)}).assign(id=data["id"])  # 6 × 10 segments
    ev = el.Analysis.from_predictions(batches, y_true=data["income"], proba=proba, id="id",
                                      proba_out_of_fold=True)
    empty = pd.DataFrame(columns=["op", "sample_id", "new_label", "author", "cause"])
    predicted = ev.suspects(reviews=empty).table["posterior"].reindex(ev.ids).to_numpy()
    rows = rng.choice(ev.n, 3000, replace=False)
    # each reviewed label is wrong exactly as often as the ranking predicted: no slice departs
    wrong = rng.random(len(rows)) < predicted[rows]
    other = {a: b for a, b in [ev.classes, ev.classes[::-1]]}
    truth = ev.y_true.to_numpy().astype(object).copy()
    truth[rows[wrong]] = [other[v] for v in truth[rows[wrong]]]
    events = reviews_of(ev, truth, ev.ids[rows], method=None)
    found = ev.suspects(reviews=events)
    assert not found.review_slices["moved"].any() and found.params["review_slices"] == []
    np.testing.assert_array_equal(
        found.table["posterior"].reindex(ev.ids).to_numpy()[~np.isin(np.arange(ev.n), rows)],
        predicted[~np.isin(np.arange(ev.n), rows)])
    # without the correction for testing 60 segments, a chance departure would move one
    monkeypatch.setattr(review_slices, "false_discovery_control", lambda p, method: p)
    uncorrected = ev.suspects(reviews=events).review_slices
    assert uncorrected["moved"].sum() >= 1


def simulated_truth(ev: el.Analysis, rows: np.ndarray, seed: int) -> np.ndarray:
    """Labels whose rows at ``rows`` are wrong exactly as often as ``ev``'s ranking predicts
    (its posterior before reviews), the other rows' labels kept."""
    empty = pd.DataFrame(columns=["op", "sample_id", "new_label", "author", "cause"])
    predicted = ev.suspects(reviews=empty).table["posterior"].reindex(ev.ids).to_numpy()
    wrong = np.random.default_rng(seed).random(len(rows)) < predicted[rows]
    other = {a: b for a, b in [ev.classes, ev.classes[::-1]]}
    truth = ev.y_true.to_numpy().astype(object).copy()
    truth[rows[wrong]] = [other[v] for v in truth[rows[wrong]]]
    return truth


def test_over_confident_evidence_gets_a_slope_below_one_and_other_detectors_do_not_count(
        planted):
    plain = analysis(planted)
    rows = np.random.default_rng(1).choice(
        plain.ids.get_indexer(plain.suspects().table.index[:4000]), 1500, replace=False)
    truth = simulated_truth(plain, rows, seed=2)  # the model's evidence is right
    # a detector twice as sure (its log-odds doubled) than the evidence warrants
    ev = analysis(planted, sharpen=2.0)
    found = ev.suspects(reviews=reviews_of(ev, truth, ev.ids[rows]))
    calibration = found.params["review_calibration"]
    assert calibration["method"] == METHOD and calibration["reviewed"] == len(rows)
    assert 0.3 < calibration["slope"] < 0.75 and calibration["p_value"] < 0.05
    assert (f"detector {METHOD}: reviews say its evidence is {calibration['slope']:.2g}x as "
            "strong as assumed") in found.cause(found.table.index[0])["why"]
    # the right evidence is left alone, and the same reviews under another detector do not
    # calibrate this one
    right = plain.suspects(reviews=reviews_of(plain, truth, plain.ids[rows]))
    assert right.params["review_calibration"] is None
    other = ev.suspects(reviews=reviews_of(ev, truth, ev.ids[rows], method="knn"))
    unnamed = ev.suspects(reviews=reviews_of(ev, truth, ev.ids[rows], method=None))
    assert other.params["review_calibration"] is None
    assert other.table["posterior"].equals(unnamed.table["posterior"])
    # (with one prior for every row a slope moves no row past another: only the posteriors)
    assert (found.table["posterior"] < other.table["posterior"].reindex(found.table.index)
            ).iloc[:100].all()


@pytest.mark.parametrize("declared", [{}, {"annotator": "labeller"}])
def test_the_live_ranking_equals_the_core_with_slice_and_calibration_moves(planted, tmp_path,
                                                                           declared):
    _, _, truth = planted
    ev = analysis(planted, sharpen=2.0, **declared)
    store = el.LabelStore(ev, tmp_path / "labels.jsonl", author="ana")
    before = ev.suspects(METHOD)
    head = before.table.index[:1500]
    rows = ev.ids.get_indexer(head)
    wrong = ev.y_true.to_numpy()[rows] != truth[rows]
    store.record_many([{"op": "set" if w else "confirm", "id": s,
                        "label": truth[r] if w else None, "cause": before.cause(s)}
                       for s, r, w in zip(head, rows, wrong, strict=True)])
    store.skip(before.table.index[1600], cause=before.cause(before.table.index[1600]))
    reference = ev.suspects(METHOD, reviews=store)
    assert reference.params["review_calibration"] is not None
    assert len(reference.params["review_slices"]) >= 1
    live = live_rank(ev, METHOD)
    assert live is not None
    verdicts = reviewed_verdicts(store, analysis=ev)
    ranked = live.rerank(*reviewed_rows(verdicts, ev.ids, reviewed_methods(store)))
    table = reference.table
    flagged = table.index[table["flagged"].to_numpy()]
    assert ev.ids[ranked.flagged_order()].tolist() == flagged.tolist()
    positions = ev.ids.get_indexer(table.index)
    np.testing.assert_array_equal(ranked.posterior[positions], table["posterior"].to_numpy())
    np.testing.assert_array_equal(ranked.prior[positions], table["prior"].to_numpy())
    assert ranked.moves.table().equals(reference.review_slices)
    job = (ev.features["occupation"] == NOISY_JOB).to_numpy()
    samples = [*flagged[:5], *flagged[-3:], *ev.ids[job & ~np.isin(np.arange(ev.n), rows)][:3]]
    for sample in samples:
        position = int(ev.ids.get_loc(sample))
        assert ranked.cause(position, reference.cause(table.index[0])) == \
            reference.cause(sample)
    assert "slice occupation" in " ".join(reference.cause(s)["why"] for s in samples)
