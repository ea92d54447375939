"""Annotator quality and detector precision from the changelog's events.

- :func:`annotator_accuracy`: each annotator against adjudicated labels, or, where a sample
  was not adjudicated, against the majority of the *other* annotators (leave-one-out, so an
  annotator's own vote never counts in their favour).
- :func:`annotator_confusion`: what an annotator chose for each reference class.
- :func:`throughput`: items per hour from ``time_spent`` or, failing that, timestamps.
- :func:`detector_precision`: of the suspects a detector put in front of a reviewer, the
  share whose label turned out wrong (relabeled) rather than right (confirmed).
- :func:`crowdlab`: cleanlab's CROWDLAB consensus, which weighs annotators by their estimated
  quality and the model's probabilities.

>>> import pandas as pd
>>> m = pd.DataFrame({"ana": ["a", "b"], "ben": ["a", "a"], "cy": ["a", "b"], "dee": ["a", "b"]})
>>> annotator_accuracy(m)["accuracy"].to_dict()
{'ana': 1.0, 'ben': 0.5, 'cy': 1.0, 'dee': 1.0}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from errlens.annotators.agreement import (
    JUDGEMENTS,
    _class_list,
    cohen_kappa,
    effective,
    events_of,
    label_codes,
    majority_vote,
)
from errlens.base.stats import wilson_interval


def _with_interval(frame: pd.DataFrame, hits: str, n: str, rate: str) -> pd.DataFrame:
    low, high = wilson_interval(frame[hits].to_numpy(), frame[n].to_numpy())
    with np.errstate(invalid="ignore", divide="ignore"):
        frame[rate] = np.where(frame[n] > 0, frame[hits] / frame[n].clip(lower=1), np.nan)
    frame["ci_low"], frame["ci_high"] = low, high
    return frame


def leave_one_out_reference(
    matrix: pd.DataFrame,
    author: Any,
    reference: pd.Series | None = None,
    *,
    original: pd.Series | None = None,
) -> pd.Series:
    """Reference labels for ``author``: ``reference`` where given, else the others' majority.

    Ties among the others are broken as in :func:`majority_vote`; unresolved ties are NaN.
    """
    others = matrix.drop(columns=[author])
    ref = pd.Series(np.nan, index=matrix.index, dtype=object)
    if others.shape[1] and others.notna().any().any():
        classes = _class_list(matrix, None)
        ref = majority_vote(others, original=original, classes=classes)["label"]
    if reference is not None:
        given = reference.reindex(matrix.index)
        ref = given.where(given.notna(), ref)
    return ref.astype(object)


def annotator_accuracy(
    matrix: pd.DataFrame,
    reference: pd.Series | None = None,
    *,
    original: pd.Series | None = None,
    classes: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Per annotator: samples judged, compared, correct, accuracy with a 95 % Wilson interval,
    Cohen's kappa against the reference, and how many comparisons used adjudicated labels.

    ``reference`` is typically :func:`~errlens.annotators.agreement.adjudicated`; samples it
    lacks are compared with the leave-one-out majority of the other annotators.
    """
    rows = []
    for author in matrix.columns:
        ref = leave_one_out_reference(matrix, author, reference, original=original)
        pair = pd.DataFrame({"ref": ref, "label": matrix[author]}).dropna()
        adjudicated_n = 0
        if reference is not None:
            adjudicated_n = int(pair.index.isin(reference.dropna().index).sum())
        kappa = cohen_kappa(pair, "ref", "label", classes=classes) if len(pair) else np.nan
        rows.append(
            {
                "author": author,
                "judged": int(matrix[author].notna().sum()),
                "compared": len(pair),
                "correct": int((pair["ref"] == pair["label"]).sum()),
                "vs_adjudicated": adjudicated_n,
                "kappa": kappa,
            }
        )
    frame = pd.DataFrame(rows, columns=["author", "judged", "compared", "correct",
                                        "vs_adjudicated", "kappa"]).set_index("author")
    return _with_interval(frame, "correct", "compared", "accuracy")


def annotator_confusion(
    matrix: pd.DataFrame,
    author: Any,
    reference: pd.Series | None = None,
    *,
    original: pd.Series | None = None,
    classes: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Counts of (reference class → class ``author`` chose): rows reference, columns chosen.

    >>> m = pd.DataFrame({"ana": ["a", "b", "b"], "ben": ["a", "a", "b"]})
    >>> annotator_confusion(m, "ana", pd.Series(["a", "a", "b"])).to_numpy().tolist()
    [[1, 1], [0, 1]]
    """
    if author not in matrix.columns:
        raise KeyError(f"no annotator {author!r}; annotators are {list(matrix.columns)}")
    cls = _class_list(matrix, classes)
    ref = leave_one_out_reference(matrix, author, reference, original=original)
    pair = pd.DataFrame({"reference": ref, "chosen": matrix[author]}).dropna()
    table = pd.crosstab(pair["reference"], pair["chosen"])
    return table.reindex(index=cls, columns=cls, fill_value=0).astype(int)


def _imported(cause: Any) -> bool:
    if isinstance(cause, str):
        return cause.startswith("import:")
    return isinstance(cause, dict) and "import" in cause


def throughput(source: Any, *, idle: float = 300.0) -> pd.DataFrame:
    """Items per hour of each author, from judgement events (set, confirm, skip, adjudicate).

    An event's duration is its ``time_spent`` when recorded; otherwise the gap since the same
    author's previous event, if shorter than ``idle`` seconds (a longer gap is a break, and
    that event's duration is unknown) and the event was not imported in a batch (whose
    timestamps are the import's). Columns: ``items`` (distinct samples), ``events``,
    ``timed`` (events with a known duration), ``hours`` (their total), ``items_per_hour``
    (timed events per hour), ``median_seconds`` per timed event.
    """
    events = effective(events_of(source))
    judged = events[events["op"].isin((*JUDGEMENTS, "adjudicate"))].copy()
    if "seq" in judged.columns:
        judged = judged.sort_values("seq", kind="stable")
    spent = (pd.to_numeric(judged["time_spent"], errors="coerce")
             if "time_spent" in judged.columns else pd.Series(np.nan, index=judged.index))
    if "timestamp" in judged.columns:
        naive = pd.to_datetime(judged["timestamp"], utc=True).dt.tz_convert(None)
        seconds = naive.to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9
        gap = pd.Series(seconds, index=judged.index).groupby(judged["author"]).diff()
        # An imported batch is stamped when it was imported, not when each item was judged:
        # its gaps say nothing about speed (only its recorded time_spent does).
        live = ~judged["cause"].map(_imported) if "cause" in judged.columns else True
        spent = spent.where(spent.notna(), gap.where((gap < idle) & live))
    judged["seconds"] = spent
    rows = []
    for author, group in judged.groupby("author", sort=True):
        timed = group["seconds"].dropna()
        hours = float(timed.sum()) / 3600.0
        rows.append({
            "author": author,
            "items": int(group["sample_id"].nunique()),
            "events": len(group),
            "timed": len(timed),
            "hours": hours,
            "items_per_hour": len(timed) / hours if hours > 0 else np.nan,
            "median_seconds": float(timed.median()) if len(timed) else np.nan,
        })
    columns = ["author", "items", "events", "timed", "hours", "items_per_hour", "median_seconds"]
    return pd.DataFrame(rows, columns=columns).set_index("author")


def cause_field(cause: Any, *keys: str) -> Any:
    """The first of ``keys`` set in a review's ``cause`` (a dict or its JSON), or in the
    cause an import kept under ``"suspect"``; dicts and lists as sorted JSON; None if absent.

    >>> cause_field('{"suspect": {"method": "knn"}}', "detector", "method")
    'knn'
    """
    if isinstance(cause, str):
        try:
            cause = json.loads(cause)
        except ValueError:
            return None
    if not isinstance(cause, dict):
        return None
    # Imports keep the cause the sample was exported with under "suspect".
    suspect = cause.get("suspect")
    nested: dict[str, Any] = suspect if isinstance(suspect, dict) else {}
    value = next((c[k] for c in (cause, nested) for k in keys if c.get(k) is not None), None)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def detector_precision(
    source: Any,
    original: pd.Series,
    current: pd.Series,
    *,
    by: Sequence[str] = ("detector",),
) -> pd.DataFrame:
    """Review outcomes of the suspects each detector raised, per detector (and slice).

    A reviewed suspect is a sample with a judgement event (set, confirm, skip, adjudicate)
    whose ``cause`` names a ``detector`` (or a suspects ``method``, as
    ``Suspects.cause(id)`` records, also under an import's ``suspect``); ``by`` may add
    ``"slice"`` (the cause's ``slice`` or ``cohort`` description). Its outcome is the
    sample's verdict in ``current`` labels: *relabeled* if it differs from ``original``, else
    *confirmed*, or *skipped* if every review was a skip. An undone review does not count.
    ``precision`` = relabeled / (relabeled + confirmed), with a 95 % Wilson interval.

    >>> ev = pd.DataFrame({"op": ["set", "confirm"], "sample_id": [1, 2], "author": "ana",
    ...     "new_label": ["b", "a"], "cause": [{"detector": "cl"}, {"detector": "cl"}]})
    >>> orig = pd.Series(["a", "a"], index=[1, 2])
    >>> detector_precision(ev, orig, pd.Series(["b", "a"], index=[1, 2]))["precision"].iloc[0]
    np.float64(0.5)
    """
    unknown = set(by) - {"detector", "slice"}
    if unknown:
        raise ValueError(f"cannot group by {sorted(unknown)}; use 'detector' and/or 'slice'")
    per_sample = review_outcomes(source, original, current, by=by)
    outcomes = ["relabeled", "confirmed", "skipped"]
    table: pd.DataFrame = per_sample.groupby(list(by), sort=True)[outcomes].sum().astype(int)
    table.insert(0, "reviewed", table[outcomes].sum(axis=1))
    table["decided"] = table["relabeled"] + table["confirmed"]
    return _with_interval(table, "relabeled", "decided", "precision").drop(columns="decided")


def review_outcomes(
    source: Any, original: pd.Series, current: pd.Series, *, by: Sequence[str] = ()
) -> pd.DataFrame:
    """One row per reviewed sample (per ``by`` group: ``"detector"``, ``"slice"``, whose
    reviews without a detector are left out), with booleans ``relabeled`` (its ``current``
    label differs from ``original``), ``confirmed`` and ``skipped`` (every review a skip).

    >>> ev = pd.DataFrame({"op": ["set", "confirm"], "sample_id": [1, 2], "author": "ana",
    ...     "new_label": ["b", "a"], "cause": [None, None]})
    >>> orig = pd.Series(["a", "a"], index=[1, 2])
    >>> review_outcomes(ev, orig, pd.Series(["b", "a"], index=[1, 2]))["relabeled"].tolist()
    [True, False]
    """
    events = effective(events_of(source))
    if "cause" not in events.columns:
        raise ValueError("events frame lacks the 'cause' column; pass store.events()")
    judged = events[events["op"].isin((*JUDGEMENTS, "adjudicate"))]
    reviews = pd.DataFrame({
        "sample_id": judged["sample_id"],
        "detector": [cause_field(c, "detector", "method") for c in judged["cause"]],
        "slice": [cause_field(c, "slice", "cohort") for c in judged["cause"]],
        "skip": (judged["op"] == "skip").to_numpy(),
    })
    if "detector" in by:
        reviews = reviews[reviews["detector"].notna()]
    keys = [*by, "sample_id"]
    grouped = reviews.fillna({"slice": "(none)"}).groupby(keys, sort=True)["skip"].all()
    per_sample: pd.DataFrame = grouped.reset_index()
    ids = pd.Index(per_sample["sample_id"])
    changed = current.reindex(ids).to_numpy() != original.reindex(ids).to_numpy()
    skipped = per_sample["skip"].to_numpy(dtype=bool)
    per_sample["relabeled"] = changed
    per_sample["confirmed"] = ~changed & ~skipped
    per_sample["skipped"] = ~changed & skipped
    return per_sample


def crowdlab(matrix: pd.DataFrame, analysis: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Consensus and annotator quality by cleanlab's CROWDLAB (needs the model's probabilities).

    Returns ``(samples, annotators)``: per judged sample the ``consensus_label`` (a class
    value), ``consensus_quality_score``, ``annotator_agreement``, ``num_annotations``; per
    annotator ``annotator_quality``, ``agreement_with_consensus``, ``worst_class`` and
    ``num_examples_labeled``. Probabilities should be out-of-fold, as for suspects.
    """
    from cleanlab.multiannotator import get_label_quality_multiannotator

    if analysis.proba is None:
        raise ValueError("crowdlab needs the model's probabilities: build the analysis with "
                         "proba= or from_estimator")
    judged = matrix[matrix.notna().any(axis=1)]
    rows = analysis.ids.get_indexer(judged.index)
    if (rows < 0).any():
        missing = judged.index[rows < 0][:5].tolist()
        raise ValueError(f"samples {missing} are not in the analysis; pass the analysis the "
                         f"store was built from")
    codes = label_codes(judged, analysis.classes).astype(float)
    codes[codes < 0] = np.nan
    labels = pd.DataFrame(codes, index=judged.index, columns=judged.columns)
    out = get_label_quality_multiannotator(labels, analysis.proba[rows], verbose=False,
                                           return_detailed_quality=False)
    samples = out["label_quality"].set_axis(judged.index)
    names = np.asarray(analysis.classes, dtype=object)
    samples["consensus_label"] = names[samples["consensus_label"].to_numpy(dtype=int)]
    annotators = out["annotator_stats"].rename_axis("author")
    annotators["worst_class"] = names[annotators["worst_class"].to_numpy(dtype=int)]
    return samples, annotators
