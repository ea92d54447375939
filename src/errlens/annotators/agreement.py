"""Agreement between annotators: label matrix, majority vote, Cohen's and Fleiss' kappa, alpha.

Everything works on a *label matrix*: one row per sample, one column per annotator, each
annotator's latest judgement (NaN where they gave none or skipped). Build it from a
:class:`~errlens.changelog.LabelStore` or its events frame with :func:`label_matrix`.

>>> import pandas as pd
>>> m = pd.DataFrame({"ana": ["a", "b", "a"], "ben": ["a", "b", "b"]}, index=[1, 2, 3])
>>> majority_vote(m)["label"].tolist()
['a', 'b', 'a']
>>> round(cohen_kappa(m, "ana", "ben"), 3)
0.4
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

#: Operations that record an annotator's own judgement of a sample's label.
JUDGEMENTS: tuple[str, ...] = ("set", "confirm", "skip")
#: Tie-break rules of :func:`majority_vote`, applied in the order given.
TIE_BREAKS: tuple[str, ...] = ("original", "frequency", "class_order")


def events_of(source: Any) -> pd.DataFrame:
    """The events frame of a LabelStore, or ``source`` itself when it already is one."""
    frame = source.events() if hasattr(source, "events") else source
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a LabelStore or its events() frame, got {type(source).__name__}")
    missing = {"op", "sample_id", "new_label", "author"} - set(frame.columns)
    if missing:
        raise ValueError(f"events frame lacks columns {sorted(missing)}; pass store.events()")
    return frame


def effective(events: pd.DataFrame) -> pd.DataFrame:
    """The events still in force: those undone by a ``revert`` (named in its ``refs``) dropped.

    A revert that is itself reverted puts its target back in force. Uses the store's
    ``reverted`` column when present.
    """
    if "reverted" in events.columns:
        return events[~events["reverted"].astype(bool)]
    if "refs" not in events.columns or not (events["op"] == "revert").any():
        return events
    reverts = events[events["op"] == "revert"]
    pairs = zip(reverts["event_id"], reverts["refs"], strict=True)
    target = {eid: refs[0] for eid, refs in pairs if len(refs)}
    undone: set[str] = set()
    # Later reverts are decided first so a revert of a revert is known before its target.
    for eid in reversed(list(reverts["event_id"])):
        if eid not in undone and eid in target:
            undone.add(target[eid])
    return events[~events["event_id"].isin(undone)]


def judged_label(events: pd.DataFrame) -> pd.Series:
    """The label each judgement event stands for: the new label, the kept label on a confirm."""
    label = events["new_label"].copy()
    confirm = (events["op"] == "confirm") & label.isna()
    if "old_label" in events.columns:
        label[confirm] = events.loc[confirm, "old_label"]
    label[events["op"] == "skip"] = np.nan
    return label


def label_matrix(
    source: Any, *, roles: Sequence[str] | None = ("annotator", "reviewer")
) -> pd.DataFrame:
    """Samples × annotators table of each author's latest judgement (set, confirm or skip).

    A later skip withdraws the author's earlier vote (it becomes NaN), reverted events do not
    count (see :func:`effective`), adjudications are the reference (:func:`adjudicated`),
    never votes, and only authors writing in one of ``roles`` vote (``None``: every role).
    Columns are sorted author names; rows, judged sample ids.

    >>> ev = pd.DataFrame({"op": ["set", "confirm", "set"], "sample_id": [1, 1, 2],
    ...                    "new_label": ["b", "a", "a"], "author": ["ana", "ben", "ana"],
    ...                    "role": "annotator", "seq": [0, 1, 2]})
    >>> label_matrix(ev).to_dict()
    {'ana': {1: 'b', 2: 'a'}, 'ben': {1: 'a', 2: nan}}
    """
    events = effective(events_of(source))
    keep = events["op"].isin(JUDGEMENTS)
    if roles is not None and "role" in events.columns:
        keep &= events["role"].isin(list(roles))
    judged = events[keep]
    if "seq" in judged.columns:
        judged = judged.sort_values("seq", kind="stable")
    votes = pd.DataFrame({"sample_id": judged["sample_id"], "author": judged["author"],
                          "label": judged_label(judged)})
    last = votes.drop_duplicates(["sample_id", "author"], keep="last")
    matrix = last.pivot(index="sample_id", columns="author", values="label")
    matrix = matrix.reindex(columns=sorted(matrix.columns, key=str))
    matrix.columns.name = "author"
    return matrix.astype(object).where(matrix.notna(), np.nan)


def adjudicated(source: Any) -> pd.Series:
    """The latest adjudicated label of each sample that has one (index: sample id)."""
    events = events_of(source)
    adj = events[events["op"] == "adjudicate"]
    if "seq" in adj.columns:
        adj = adj.sort_values("seq", kind="stable")
    last = adj.drop_duplicates("sample_id", keep="last")
    return pd.Series(last["new_label"].to_numpy(), index=pd.Index(last["sample_id"], name="id"),
                     name="adjudicated", dtype=object)


def _class_list(matrix: pd.DataFrame, classes: Sequence[Any] | None) -> list[Any]:
    seen = [v for v in pd.unique(matrix.to_numpy().ravel()) if not pd.isna(v)]
    if classes is None:
        return sorted(seen, key=str)
    unknown = [v for v in seen if v not in set(classes)]
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not among classes {list(classes)}")
    return list(classes)


def label_codes(matrix: pd.DataFrame, classes: Sequence[Any]) -> np.ndarray:
    """Samples × annotators int array of positions in ``classes``; -1 where not judged."""
    cols = [pd.Categorical(matrix[c], categories=list(classes)).codes for c in matrix.columns]
    return np.column_stack(cols) if cols else np.empty((len(matrix), 0), dtype=np.int8)


def rating_counts(matrix: pd.DataFrame, classes: Sequence[Any] | None = None) -> pd.DataFrame:
    """Samples × classes table: how many annotators chose each class for each sample."""
    cls = _class_list(matrix, classes)
    codes = label_codes(matrix, cls)
    counts = np.zeros((len(matrix), len(cls)), dtype=np.int64)  # no class seen: no columns
    for k in range(len(cls)):
        counts[:, k] = (codes == k).sum(axis=1)
    return pd.DataFrame(counts, index=matrix.index,
                        columns=pd.Index(cls, name="label"))


def majority_vote(
    matrix: pd.DataFrame,
    *,
    original: pd.Series | None = None,
    classes: Sequence[Any] | None = None,
    tie_break: Sequence[str] = TIE_BREAKS,
) -> pd.DataFrame:
    """Consensus label of each sample by majority vote, with explicit tie-breaks.

    Ties among the most-voted classes are narrowed by the rules in ``tie_break``, in order:

    - ``"original"``: keep the sample's original label if it is among the tied classes
      (the status quo stands unless a majority wants a change; skipped without ``original``);
    - ``"frequency"``: keep the tied classes most often chosen over the whole matrix;
    - ``"class_order"``: keep the first tied class in ``classes`` order.

    A tie left after the rules (e.g. ``tie_break=()``) gives a missing label and
    ``tie=True``: such samples need adjudication. Samples nobody judged have no label.
    Columns: ``label``, ``votes`` (for the label), ``n_votes``, ``agreement``
    (votes / n_votes), ``tie`` (the top count was shared before tie-breaking).

    >>> m = pd.DataFrame({"ana": ["a", "a"], "ben": ["b", "b"]}, index=[1, 2])
    >>> majority_vote(m, original=pd.Series(["b", "x"], index=[1, 2]),
    ...               classes=["a", "b"])["label"].tolist()
    ['b', 'a']
    """
    unknown = set(tie_break) - set(TIE_BREAKS)
    if unknown:
        raise ValueError(f"unknown tie_break rules {sorted(unknown)}; use some of {TIE_BREAKS}")
    counts = rating_counts(matrix, classes)
    cls = list(counts.columns)
    values = counts.to_numpy()
    overall = values.sum(axis=0)
    top = values.max(axis=1, initial=0)
    is_top = (values == top[:, None]) & (top[:, None] > 0)
    tie = is_top.sum(axis=1) > 1
    labels = np.full(len(values), np.nan, dtype=object)
    clear = is_top.any(axis=1) & ~tie
    if clear.any():
        labels[clear] = np.asarray(cls, dtype=object)[values[clear].argmax(axis=1)]
    for i in np.flatnonzero(tie):  # only tied rows need the rules
        cands = list(np.flatnonzero(is_top[i]))
        for rule in tie_break:
            if len(cands) <= 1:
                break
            if rule == "original" and original is not None:
                given = original.get(counts.index[int(i)], np.nan)
                cands = [j for j in cands if cls[j] == given] or cands
            elif rule == "frequency":
                best = max(overall[j] for j in cands)
                cands = [j for j in cands if overall[j] == best]
            elif rule == "class_order":
                cands = cands[:1]
        if len(cands) == 1:
            labels[i] = cls[cands[0]]
    n_votes = values.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n_votes > 0, top / np.maximum(n_votes, 1), np.nan)
    return pd.DataFrame(
        {
            "label": labels,
            "votes": top,
            "n_votes": n_votes,
            "agreement": agreement,
            "tie": tie,
        },
        index=counts.index,
    )


def _kappa(ya: np.ndarray, yb: np.ndarray, k: int) -> float:
    both = (ya >= 0) & (yb >= 0)
    if not both.any():
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined kappa comes back as NaN
        return float(cohen_kappa_score(ya[both], yb[both], labels=list(range(k))))


def cohen_kappa(
    matrix: pd.DataFrame, a: Any, b: Any, *, classes: Sequence[Any] | None = None
) -> float:
    """Cohen's kappa of annotators ``a`` and ``b`` on the samples both judged (NaN if none).

    Computed by :func:`sklearn.metrics.cohen_kappa_score`; NaN when chance agreement is 1
    (both always chose the same single class), where kappa is undefined.
    """
    cls = _class_list(matrix[[a, b]], classes)
    codes = label_codes(matrix[[a, b]], cls)
    return _kappa(codes[:, 0], codes[:, 1], len(cls))


def pairwise_kappa(matrix: pd.DataFrame, *, classes: Sequence[Any] | None = None) -> pd.DataFrame:
    """Long table of Cohen's kappa for every pair of annotators: a, b, n_shared, kappa."""
    cls = _class_list(matrix, classes)
    codes = label_codes(matrix, cls)
    rows = []
    authors = list(matrix.columns)
    for i, a in enumerate(authors):
        for j in range(i + 1, len(authors)):
            shared = int(((codes[:, i] >= 0) & (codes[:, j] >= 0)).sum())
            rows.append({"a": a, "b": authors[j], "n_shared": shared,
                         "kappa": _kappa(codes[:, i], codes[:, j], len(cls))})
    return pd.DataFrame(rows, columns=["a", "b", "n_shared", "kappa"])


def fleiss_kappa_counts(counts: Any) -> float:
    """Fleiss' kappa from a samples × categories table of rating counts.

    Samples may have different numbers of ratings (missing values): each sample's agreement
    uses its own count n_i, samples with fewer than two ratings are left out, and category
    shares are pooled over the samples kept. With a constant n this is Fleiss (1971) exactly.

    >>> round(fleiss_kappa_counts([[2, 0], [0, 2], [1, 1]]), 3)
    0.333
    """
    table = np.asarray(counts, dtype=float)
    n_i = table.sum(axis=1)
    table, n_i = table[n_i >= 2], n_i[n_i >= 2]
    if table.shape[0] == 0:
        return float("nan")
    p_i = ((table**2).sum(axis=1) - n_i) / (n_i * (n_i - 1))
    p_j = table.sum(axis=0) / n_i.sum()
    p_e = float((p_j**2).sum())
    if np.isclose(p_e, 1.0):
        return float("nan")
    return float((p_i.mean() - p_e) / (1.0 - p_e))


def fleiss_kappa(matrix: pd.DataFrame, *, classes: Sequence[Any] | None = None) -> float:
    """Fleiss' kappa of all annotators in a label matrix (missing judgements allowed)."""
    return fleiss_kappa_counts(rating_counts(matrix, classes).to_numpy())


def krippendorff_alpha(matrix: pd.DataFrame, *, classes: Sequence[Any] | None = None) -> float:
    """Krippendorff's alpha (nominal) via the ``krippendorff`` package; NaN where undefined.

    Missing judgements are allowed; samples with fewer than two judgements do not count.
    """
    cls = _class_list(matrix, classes)
    data = label_codes(matrix, cls).astype(float).T
    data[data < 0] = np.nan
    pairable = data[:, (~np.isnan(data)).sum(axis=0) >= 2]
    if len(np.unique(pairable[~np.isnan(pairable)])) < 2:
        return float("nan")  # nothing to compare, or a single value: alpha is undefined
    return float(
        krippendorff.alpha(
            reliability_data=data,
            level_of_measurement="nominal",
            value_domain=[float(i) for i in range(len(cls))],
        )
    )


def agreement_summary(matrix: pd.DataFrame, *, classes: Sequence[Any] | None = None) -> pd.Series:
    """Headline figures: annotators, samples judged by ≥ 2, observed agreement, kappa, alpha."""
    counts = rating_counts(matrix, classes)
    values = counts.to_numpy()
    n_i = values.sum(axis=1)
    multi = n_i >= 2
    observed = ((values[multi] ** 2).sum(axis=1) - n_i[multi]) / (n_i[multi] * (n_i[multi] - 1))
    return pd.Series(
        {
            "annotators": matrix.shape[1],
            "samples": int((n_i > 0).sum()),
            "samples_multi": int(multi.sum()),
            "observed_agreement": float(observed.mean()) if multi.any() else float("nan"),
            "fleiss_kappa": fleiss_kappa_counts(values),
            "krippendorff_alpha": krippendorff_alpha(matrix, classes=classes),
        },
        dtype=object,
    )
