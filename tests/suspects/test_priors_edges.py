"""Group noise where confident learning finds no disagreement at all."""

from __future__ import annotations

import numpy as np

from errlens.suspects.priors import group_noise


def test_groups_without_any_confident_disagreement_have_no_top_confusion():
    noise = group_noise(np.array([0, 1, 0, 1]), np.array([[.9, .1], [.2, .8], [.8, .2], [.1, .9]]),
                        np.array(["a", "b", "a", "b"]), name="annotator")
    table = noise.table
    assert sorted(table.index) == ["a", "b"]
    assert (table["confusion_count"] == 0).all()
    assert table["given"].isna().all() and table["likely_true"].isna().all()
