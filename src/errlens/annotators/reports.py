"""Agreement and quality of a LabelStore in one call: thin wrappers over the pure functions.

>>> import pandas as pd, tempfile, os
>>> from errlens.changelog.store import LabelStore
>>> store = LabelStore(pd.Series(["a", "b", "a"], index=[1, 2, 3]),
...                    os.path.join(tempfile.mkdtemp(), "l.jsonl"), author="lead")
>>> _ = store.record_many([{"op": "set", "id": 1, "label": "b", "author": "ana"},
...                       {"op": "confirm", "id": 1, "author": "ben"},
...                       {"op": "confirm", "id": 2, "author": "ana"},
...                       {"op": "confirm", "id": 2, "author": "ben"}])
>>> report = agreement_report(store)
>>> report.consensus["label"].to_dict()
{1: 'a', 2: 'b'}
>>> report.summary["samples_multi"]
2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from errlens.annotators.agreement import (
    TIE_BREAKS,
    adjudicated,
    agreement_summary,
    label_matrix,
    majority_vote,
    pairwise_kappa,
)
from errlens.annotators.quality import annotator_accuracy, detector_precision, throughput


@dataclass(frozen=True)
class AgreementReport:
    """Everything :func:`agreement_report` measured; each field is a plain pandas object.

    - ``matrix``: samples × annotators, each one's latest judgement;
    - ``summary``: annotators, samples, observed agreement, Fleiss' kappa, Krippendorff's alpha;
    - ``pairwise``: Cohen's kappa of each pair of annotators on their shared samples;
    - ``consensus``: majority vote per sample (ties broken by the original label, then overall
      frequency, then class order), with ``adjudicated`` labels where there are any;
    - ``annotators``: accuracy (vs adjudicated, else the others' majority), kappa, throughput.
    """

    matrix: pd.DataFrame
    summary: pd.Series
    pairwise: pd.DataFrame
    consensus: pd.DataFrame
    annotators: pd.DataFrame


def consensus(store: Any, *, tie_break: Sequence[str] = TIE_BREAKS) -> pd.DataFrame:
    """Majority vote of the store's annotators, plus an ``adjudicated`` column (or NaN)."""
    return _consensus(store, store.events_in_current_names(), tie_break)


def _consensus(store: Any, events: pd.DataFrame, tie_break: Sequence[str]) -> pd.DataFrame:
    votes = majority_vote(label_matrix(events), original=store.original_in_current_names(),
                          classes=store.classes, tie_break=tie_break)
    votes["adjudicated"] = adjudicated(events).reindex(votes.index)
    return votes


def agreement_report(store: Any, *, tie_break: Sequence[str] = TIE_BREAKS,
                     idle: float = 300.0) -> AgreementReport:
    """Agreement, consensus and each annotator's quality and speed for a LabelStore."""
    events = store.events_in_current_names()
    matrix = label_matrix(events)
    reference = adjudicated(events)
    accuracy = annotator_accuracy(matrix, reference, original=store.original_in_current_names(),
                                  classes=store.classes)
    speed = throughput(events, idle=idle)[["items_per_hour", "median_seconds", "hours"]]
    return AgreementReport(
        matrix=matrix,
        summary=agreement_summary(matrix, classes=store.classes),
        pairwise=pairwise_kappa(matrix, classes=store.classes),
        consensus=_consensus(store, events, tie_break),
        annotators=accuracy.join(speed, how="left"),
    )


def review_precision(store: Any, *, by: Sequence[str] = ("detector",)) -> pd.DataFrame:
    """Per detector (and slice): suspects reviewed, relabeled, confirmed, skipped, precision.

    A sample counts as relabeled when its label differs from the original under today's
    class names (renaming a class relabels nothing).
    """
    return detector_precision(store, store.original_in_current_names(), store.labels(), by=by)
