"""The confident-learning engine: known answers, and identical flags to cleanlab."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from cleanlab.count import compute_confident_joint, estimate_joint, get_confident_thresholds
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from hypothesis import given, settings
from hypothesis import strategies as st

from errlens.suspects.confident import FILTERS, RANKINGS, ConfidentLearning, check_inputs

from .conftest import random_proba

# Two classes, six rows: thresholds are 0.8 (class 0) and 0.6167 (class 1); row 5 is given 1
# but confidently 0, so it is the one label issue for every filter.
TINY_LABELS = np.array([0, 0, 0, 1, 1, 1])
TINY_PROBA = np.array([[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.1, .9], [.85, .15]])

# Three classes: row 6 (given 2) is confidently class 1, row 7 (given 0) sits between 0 and 1
# but its own class wins by a hair, so only the filters without the 1e-6 guard may take it.
THREE_LABELS = np.array([0, 0, 0, 1, 1, 1, 2, 0, 2, 2])
THREE_PROBA = np.array([
    [.80, .10, .10], [.70, .20, .10], [.90, .05, .05],
    [.10, .80, .10], [.20, .70, .10], [.05, .90, .05],
    [.05, .90, .05],
    [.41, .40, .19],
    [.10, .10, .80], [.20, .10, .70],
])


def cleanlab_mask(labels: np.ndarray, proba: np.ndarray, filter_by: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return find_label_issues(labels, proba, filter_by=filter_by, n_jobs=1)


def test_tiny_known_answer() -> None:
    cl = ConfidentLearning(TINY_LABELS, TINY_PROBA)
    assert cl.thresholds.round(4).tolist() == [0.8, 0.6167]
    assert cl.confident_joint.tolist() == [[3, 0], [1, 2]]
    for filter_by in FILTERS:
        assert np.flatnonzero(cl.issues(filter_by)).tolist() == [5], filter_by


def test_three_class_known_answer() -> None:
    cl = ConfidentLearning(THREE_LABELS, THREE_PROBA)
    # Row 6 is the only confident off-diagonal row; row 7 argmax is its own class (0.41 > 0.40).
    assert np.flatnonzero(cl.off_diagonal).tolist() == [6]
    assert np.flatnonzero(cl.issues("confident_learning")).tolist() == [6]
    assert np.flatnonzero(cl.issues("predicted_neq_given")).tolist() == [6]
    assert cl.scores("self_confidence")[[6, 7]].tolist() == [0.05, 0.41]
    assert cl.scores("normalized_margin")[7] == pytest.approx((0.41 - 0.40 + 1) / 2)


def test_close_to_given_guard_matches_a_nudge() -> None:
    # Given class 1 ties with class 0 exactly: argmax says 0, the +1e-6 nudge says 1.
    proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.1, 0.9], [0.2, 0.8]])
    cl = ConfidentLearning(np.array([1, 0, 1, 1]), proba)
    assert cl.close_to_given.tolist() == [True, True, True, True]
    assert not cl.issues("predicted_neq_given").any()


@pytest.mark.parametrize("filter_by", FILTERS)
@pytest.mark.parametrize("seed", range(6))
def test_flags_equal_cleanlab_on_random_inputs(filter_by: str, seed: int) -> None:
    n, k = (300, 2) if seed % 2 else (2000, 7)
    labels, proba = random_proba(n, k, seed, sharpness=0.5 + seed / 2)
    if seed == 4:  # coarse probabilities create many ties, the hard case for equal flags
        proba = np.round(proba, 1) + 1e-3
        proba /= proba.sum(axis=1, keepdims=True)
    mine = ConfidentLearning(labels, proba).issues(filter_by)
    np.testing.assert_array_equal(mine, cleanlab_mask(labels, proba, filter_by))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(30, 400),
    k=st.integers(2, 6),
    filter_by=st.sampled_from(FILTERS),
)
def test_flags_equal_cleanlab_property(seed: int, n: int, k: int, filter_by: str) -> None:
    labels, proba = random_proba(n, k, seed)
    if np.bincount(labels, minlength=k).min() < 2:
        return
    mine = ConfidentLearning(labels, proba).issues(filter_by)
    np.testing.assert_array_equal(mine, cleanlab_mask(labels, proba, filter_by))


@pytest.mark.parametrize("filter_by", FILTERS)
def test_flags_equal_cleanlab_on_digits(digits_ev, filter_by: str) -> None:
    labels, proba = digits_ev.y_true_codes, digits_ev.proba
    mine = ConfidentLearning(labels, proba).issues(filter_by)
    expected = cleanlab_mask(labels, proba, filter_by)
    assert expected.sum() > 50
    np.testing.assert_array_equal(mine, expected)


def test_joint_thresholds_and_scores_equal_cleanlab(digits_ev) -> None:
    labels, proba = digits_ev.y_true_codes, digits_ev.proba
    cl = ConfidentLearning(labels, proba)
    np.testing.assert_array_equal(cl.thresholds, get_confident_thresholds(labels, proba))
    np.testing.assert_array_equal(cl.confident_joint, compute_confident_joint(labels, proba))
    joint = cl.confident_joint / cl.confident_joint.sum()
    np.testing.assert_allclose(joint, estimate_joint(labels, proba), rtol=0, atol=1e-15)
    for kind in RANKINGS:
        np.testing.assert_array_equal(
            cl.scores(kind), get_label_quality_scores(labels, proba, method=kind), err_msg=kind
        )


def test_calibration_rounding_ties_break_like_cleanlab() -> None:
    # seed 82: a calibrated row [6, 8.4, 1.2, 0, 2.4] must gain one count; 8.4 and 2.4 tie
    # up to the last bits, which depend on the joint's memory order (found by hypothesis).
    labels, proba = random_proba(100, 5, 82)
    cl = ConfidentLearning(labels, proba)
    np.testing.assert_array_equal(cl.confident_joint, compute_confident_joint(labels, proba))
    for filter_by in ("prune_by_class", "prune_by_noise_rate", "both"):
        np.testing.assert_array_equal(
            cl.issues(filter_by), cleanlab_mask(labels, proba, filter_by), err_msg=filter_by
        )


def test_class_missing_from_labels_matches_cleanlab() -> None:
    labels, proba = random_proba(500, 4, 3)
    labels[labels == 3] = 2  # column 3 exists, nobody is given class 3
    for filter_by in FILTERS:
        mine = ConfidentLearning(labels, proba).issues(filter_by)
        np.testing.assert_array_equal(mine, cleanlab_mask(labels, proba, filter_by))


@pytest.mark.parametrize(
    ("labels", "proba", "message"),
    [
        (np.array([0, 1, 1]), np.array([[.5, .5], [.2, .8], [.3, .6]]), "sum to 1"),
        (np.array([0, 0, 1, 1]), np.array([[.5, .5], [np.nan, .5], [.2, .8], [.1, .9]]), "NaN"),
        (np.array([0, 0, 2, 2]), np.full((4, 2), 0.5), "one probability column per class"),
        (np.array([0, 0, 1]), np.full((4, 2), 0.5), "3 labels but 4 rows"),
        (np.array([0, 0, 1]), np.array([[.9, .1], [.8, .2], [.1, .9]]), "single example"),
        (np.array([0, 1]), np.array([[1.0], [1.0]]), r"\(n, k ≥ 2\)"),
    ],
)
def test_bad_input_is_named(labels: np.ndarray, proba: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_inputs(labels, proba)


def test_unknown_filter_and_ranking() -> None:
    cl = ConfidentLearning(TINY_LABELS, TINY_PROBA)
    with pytest.raises(ValueError, match="filter_by must be one of"):
        cl.issues("prune")
    with pytest.raises(ValueError, match="rank_by must be one of"):
        cl.scores("margin")


def test_exact_ties_with_the_nudge_follow_argmax_order() -> None:
    from cleanlab.count import _reduce_issues

    a, b = 0.25, 0.25 + 1e-6  # b is exactly the nudged value of a
    r = (1 - a - b) / 2  # just below a, so the tie decides the argmax
    proba = np.array([[b, a, r, r], [a, b, r, r], [a, r, r, b], [0.6, 0.3, 0.05, 0.05]])
    labels = np.array([1, 0, 0, 0])
    cl = ConfidentLearning(labels, proba)
    assert cl.close_to_given.tolist() == [False, True, True, True]
    np.testing.assert_array_equal(cl.close_to_given, _reduce_issues(proba, labels))
