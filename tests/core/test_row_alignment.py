"""pandas inputs are matched on their index, as pandas matches them: Series of labels or
predictions, boolean masks over the source frame, per-row columns for suspect rates. What
matches nothing is refused, never silently read by position or as an empty selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import errlens as el


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    out = pd.DataFrame({"id": [f"s{i:02d}" for i in range(40)], "x": rng.normal(size=40),
                        "y": rng.integers(0, 2, 40)})
    out["p"] = np.where(rng.random(40) < 0.7, out["y"], 1 - out["y"])
    return out.sample(frac=1, random_state=3)  # a shuffled, non-default row index


def test_a_boolean_series_over_the_source_frame_selects_its_rows(frame: pd.DataFrame) -> None:
    by_column = el.Analysis.from_predictions(frame, y_true="y", y_pred="p", id="id")
    expected = (frame["x"] > 0).to_numpy()
    assert (by_column.mask(frame["x"] > 0) == expected).all()
    assert by_column.confusion(frame["x"] > 0).table.to_numpy().sum() == expected.sum()
    indexed = frame.set_index("id")  # the index itself as sample ids
    by_index = el.Analysis.from_predictions(indexed, y_true="y", y_pred="p")
    assert list(by_index.ids) == list(indexed.index)
    assert (by_index.mask(indexed["x"] > 0) == expected).all()


def test_series_of_labels_and_predictions_are_matched_on_their_index(
        frame: pd.DataFrame) -> None:
    truth = frame.set_index("id")["y"].sort_index()  # by sample id, in another order
    pred = frame["p"].sort_index()  # by the frame's row labels, in another order
    ev = el.Analysis.from_predictions(frame.drop(columns=["y", "p"]), y_true=truth,
                                      y_pred=pred, id="id")
    reference = el.Analysis.from_predictions(frame, y_true="y", y_pred="p", id="id")
    assert ev.error_rate == reference.error_rate
    assert (ev.y_true.to_numpy() == reference.y_true.to_numpy()).all()


def test_series_that_match_nothing_are_refused(frame: pd.DataFrame) -> None:
    stranger = pd.Series(frame["y"].to_numpy(), index=[f"t{i}" for i in range(40)])
    with pytest.raises(ValueError, match="matches neither the data's rows nor the sample ids"):
        el.Analysis.from_predictions(frame, y_true=stranger, y_pred="p", id="id")
    ev = el.Analysis.from_predictions(frame, y_true="y", y_pred="p", id="id")
    with pytest.raises(KeyError, match="names none of the sample ids"):
        ev.mask(pd.Series(True, index=[f"t{i}" for i in range(40)]))
    plain = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=pd.Series([0, 1, 1]),
                                         y_pred=pd.Series([0, 0, 1], index=[7, 8, 9]))
    assert plain.error_rate == pytest.approx(1 / 3)  # data without row labels: row order


def test_suspect_rates_match_a_series_on_sample_ids() -> None:
    proba = [[.9, .1], [.2, .8], [.3, .7], [.2, .8], [.1, .9], [.85, .15]]
    ev = el.Analysis.from_predictions({"x": range(6)}, y_true=[0, 0, 1, 1, 1, 1], proba=proba,
                                      proba_out_of_fold=True, id=[f"r{i}" for i in range(6)])
    assert sorted(ev.suspects("predicted_neq_given").flagged_ids) == ["r1", "r5"]
    who = pd.Series({"r1": "ann", "r5": "ann", "r0": "bob", "r2": "bob", "r3": "bob",
                     "r4": "bob"})
    rates = ev.suspect_rates(who, "predicted_neq_given")
    assert rates.loc["ann", "suspects"] == 2 and rates.loc["bob", "suspects"] == 0
    with pytest.raises(ValueError, match="give one value per row"):
        ev.suspect_rates(["p"], "predicted_neq_given")
