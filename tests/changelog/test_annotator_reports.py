"""The annotator reports are reachable as the README shows them: ``el.review_precision(store)``,
``el.agreement_report(store)``, on a store or a read-only log. Real tweets, three
annotators judging the suspects of one detector."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.annotators import reports as agreement_store
from errlens.datasets import load_tweets

CLASSES = ["negative", "neutral", "positive"]


@pytest.fixture(scope="module")
def judged(tmp_path_factory) -> tuple[el.LabelStore, pd.Index]:
    """300 tweets; cy confirms the given label of the top 20 suspects, ana and ben side with
    the model on the first 10 (majority settles those), each event citing the suspect's
    cause."""
    tweets = load_tweets().sample(300, random_state=0)
    ev = el.Analysis.from_predictions(
        tweets, y_true="sentiment", id="id", features=["text"], classes=CLASSES,
        proba=np.random.default_rng(1).dirichlet(np.ones(3) * 0.3, size=len(tweets)),
        proba_out_of_fold=True)
    suspects = ev.suspects("predicted_neq_given", top=20)
    ids = suspects.table.index
    store = el.LabelStore(ev, tmp_path_factory.mktemp("log") / "l.jsonl", author="lead")
    store.record_many(
        [{"op": "set", "id": i, "label": suspects.table.loc[i, "predicted"], "author": who,
          "cause": suspects.cause(i)} for who in ("ana", "ben") for i in ids[:10]]
        + [{"op": "confirm", "id": i, "author": "cy", "cause": suspects.cause(i)} for i in ids])
    store.resolve("majority")
    return store, ids


def test_reports_are_top_level_names(judged) -> None:
    store, ids = judged
    assert el.review_precision is agreement_store.review_precision
    assert el.agreement_report is agreement_store.agreement_report
    assert el.consensus is agreement_store.consensus

    table = el.review_precision(store, by=("detector",))
    assert table.loc["predicted_neq_given", ["reviewed", "relabeled", "confirmed"]].tolist() \
        == [20, 10, 10]
    report = el.agreement_report(store)
    assert report.summary["annotators"] == 3 and report.summary["samples_multi"] == 10
    assert el.consensus(store).loc[ids[:10], "adjudicated"].notna().all()


def test_the_old_changelog_names_still_work_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="moved to errlens.annotators.reports"):
        from errlens.changelog import review_precision
    assert review_precision is agreement_store.review_precision


def test_a_read_only_log_gives_the_same_reports(judged) -> None:
    store, _ids = judged
    log = el.Changelog(store.path)
    pd.testing.assert_frame_equal(el.review_precision(log), el.review_precision(store))
    pd.testing.assert_frame_equal(el.consensus(log), el.consensus(store))


def test_renaming_a_class_relabels_nothing_in_review_precision(judged, tmp_path) -> None:
    store, ids = judged
    assert "neutral" in store.original[ids[10:]].tolist()  # confirmed, under the old name
    copy = tmp_path / "renamed.jsonl"
    shutil.copyfile(store.path, copy)
    renamed = el.LabelStore.from_log(copy, author="lead")
    before = el.review_precision(renamed)
    renamed.rename_class("neutral", "no sentiment")
    pd.testing.assert_frame_equal(el.review_precision(renamed), before)


def test_import_errlens_loads_no_report_dependencies() -> None:
    code = ("import sys, errlens\n"
            "print(','.join(m for m in ('sklearn', 'krippendorff', "
            "'errlens.annotators.reports') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
