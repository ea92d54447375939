"""Bad input to the suspects API gets an error that names the problem and the fix."""

from __future__ import annotations

import numpy as np
import pytest

import errlens as el


def test_no_probabilities_points_to_knn() -> None:
    ev = el.Analysis.from_predictions({"x": range(4)}, y_true=[0, 1, 0, 1], y_pred=[0, 1, 1, 1])
    with pytest.raises(ValueError, match="method='knn'"):
        ev.suspects()
    with pytest.raises(ValueError, match="method='knn'"):
        ev.label_health()


def test_class_with_a_single_example() -> None:
    proba = np.array([[.8, .1, .1], [.7, .2, .1], [.1, .8, .1], [.2, .7, .1], [.1, .1, .8]])
    ev = el.Analysis.from_predictions(
        {"x": range(5)}, y_true=[0, 0, 1, 1, 2], proba=proba, proba_out_of_fold=True
    )
    with pytest.raises(ValueError, match=r"positions \[2\] have a single example"):
        ev.suspects()
    with pytest.raises(ValueError, match="single example"):
        ev.suspects("knn", n_neighbors=2)


def test_k_mismatch_is_caught_at_construction() -> None:
    with pytest.raises(ValueError, match="proba has 3 columns but there are 2 classes"):
        el.Analysis.from_predictions(
            {"x": range(2)}, y_true=[0, 1], proba=np.full((2, 3), 1 / 3), classes=[0, 1]
        )


def test_too_many_neighbours() -> None:
    ev = el.Analysis.from_predictions({"x": range(4)}, y_true=[0, 1, 0, 1], y_pred=[0, 1, 1, 1])
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 3\]"):
        ev.suspects("knn", n_neighbors=4)


def test_knn_without_features_needs_embeddings() -> None:
    ev = el.Analysis.from_predictions({"label": [0, 1, 0, 1]}, y_true="label", y_pred=[0, 1, 1, 1])
    with pytest.raises(ValueError, match="pass embeddings="):
        ev.suspects("knn", n_neighbors=2)


def test_unknown_method_lists_the_choices() -> None:
    ev = el.Analysis.from_predictions({"x": range(4)}, y_true=[0, 1, 0, 1], y_pred=[0, 1, 1, 1])
    with pytest.raises(ValueError, match=r"method must be one of .*prune_by_noise_rate"):
        ev.suspects("cleanlab")
    with pytest.raises(ValueError, match="filter_by must be one of"):
        ev.suspects("knn", filter_by="nope", n_neighbors=2)
