"""Sample strips: a few rows of a discovered slice, a concept or a cluster, as the dashboard
shows them beside its figures (a text snippet or an image thumbnail each).

Only the slices shown get a strip, and each at most :data:`STRIP` rows: aggregates and a handful
of samples reach the browser, never the dataset. A slice's strip is its first errors in row
order (then its first right rows when it has fewer errors), which is what a reader checks
first and is the same on every run; a cluster's is its most typical rows (nearest its centre,
from :meth:`errlens.Analysis.clusters`). Rows come from an in-memory analysis with declared
``text=`` columns or ``images=``; an engine's analysis (or one without either) gets no strips.

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"review": ["the sequel bored me", "fine", "a dull sequel"]},
...     y_true=[1, 1, 1], y_pred=[0, 1, 0], text="review")
>>> [s["text"] for s in slice_strip(ev, ev.mask(el.Cohort.contains("review", "sequel")))]
['the sequel bored me', 'a dull sequel']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from errlens.analysis import Analysis
from errlens.slicing.cohort import Cohort
from errlens.slicing.concepts import Concepts
from errlens.slicing.discovery.result import DiscoveredSlices
from errlens.views.samples import Images
from errlens.views.segments import slice_row

STRIP = 5
"""Samples per strip."""
SNIPPET = 160
"""Characters of a text snippet (longer texts are cut, with an ellipsis)."""
MATCH = 0.5
"""Jaccard from which a cluster's best matching segment is named beside it ("≈ segment"): below
it the best match shares too few rows to stand for the cluster (text clusters of tweets matched
"≈ annotator = ann3" at Jaccard 0.12), and the dashboard names none."""


def content_of(analysis: Any) -> Analysis | None:
    """``analysis`` when it is in memory and declares text columns or images (what a strip
    shows), else None.

    >>> import errlens as el
    >>> tabular = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
    >>> content_of(tabular) is None
    True
    """
    if not isinstance(analysis, Analysis):
        return None
    return analysis if analysis.text_columns or analysis.images is not None else None


def snippet(text: Any, size: int = SNIPPET) -> str | None:
    """``text`` cut to ``size`` characters (an ellipsis marks the cut); None when missing.

    >>> snippet("a" * 10, 4), snippet(None)
    ('aaa…', None)
    """
    if text is None or (isinstance(text, float) and text != text):
        return None
    text = " ".join(str(text).split())  # one line: newlines and tabs as spaces
    return text if len(text) <= size else text[:size - 1] + "…"


def strip(ev: Analysis, positions: np.ndarray, column: str | None = None) -> list[dict[str, Any]]:
    """The samples at row ``positions`` of ``ev``: ``id``, ``given``, ``predicted``, ``error``
    and the ``text`` snippet of ``column`` (default: the first declared text column) or the
    image's ``thumb`` (a PNG data URL)."""
    positions = np.asarray(positions, dtype=np.int64)[:STRIP]
    if column is None or column not in ev.text_columns:
        column = ev.text_columns[0] if ev.text_columns else None
    texts = ([snippet(ev.text[column].iat[p]) for p in positions.tolist()]
             if column is not None and ev.text is not None else [None] * len(positions))
    thumbs = (Images(ev.images, ev.ids).thumbnails(positions) if ev.images is not None
              else [None] * len(positions))
    given = ev.y_true.iloc[positions].tolist()  # a few rows: never the whole column
    predicted = ev.y_pred.iloc[positions].tolist()
    return [{"id": str(ev.ids[p]), "given": str(g), "predicted": str(y),
             "error": bool(ev.is_error[p]), "text": text, "thumb": thumb}
            for p, g, y, text, thumb in zip(positions.tolist(), given, predicted, texts, thumbs,
                                            strict=True)]


def slice_strip(ev: Analysis, mask: np.ndarray, column: str | None = None
                ) -> list[dict[str, Any]]:
    """The strip of the rows in ``mask``: its first :data:`STRIP` errors in row order, then
    its first right rows if it has fewer errors."""
    rows = np.flatnonzero(mask)
    wrong = ev.is_error[rows]
    picked = rows[wrong][:STRIP]
    if len(picked) < STRIP:
        picked = np.concatenate([picked, rows[~wrong][:STRIP - len(picked)]])
    return strip(ev, picked, column)


def with_strips(ev: Analysis | None, rows: Sequence[dict[str, Any]],
                cohorts: Sequence[Cohort]) -> list[dict[str, Any]]:
    """Slices or concepts (``to_json()`` rows and their cohorts) as the browser draws them
    (:func:`~errlens.views.segments.slice_row`), each with ``samples``: the strip of its
    cohort (of ``column`` for a concept, of the text column its ``contains`` predicate names
    for a text slice); empty strips without content (``ev`` None)."""
    out = []
    for row, cohort in zip(rows, cohorts, strict=True):
        samples: list[dict[str, Any]] = []
        if ev is not None:
            samples = slice_strip(ev, ev.mask(cohort), _text_column(row))
        out.append({**slice_row(row), "samples": samples})
    return out


def _text_column(row: dict[str, Any]) -> str | None:
    if row.get("column"):
        return str(row["column"])
    return next((str(p["feature"]) for p in row.get("predicates", ()) if p.get("contains")),
                None)


def cluster_payload(analysis: Any) -> list[dict[str, Any]]:
    """The ``clusters`` trait: per cluster feature of an in-memory analysis (added by
    ``with_clusters``), its ``feature`` name, ``method``, ``note`` and per cluster (worst
    first) its ``label``, ``n``, ``error_rate``, its region's ``region_error_rate`` (what the
    clusters are ranked by) and ``core`` share, top ``terms``, best matching ``segment`` with
    its ``jaccard`` (both None when that match is under :data:`MATCH`) and the strip of its
    most typical rows (``samples``; empty without text or images).

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions({"x": [0., 5.] * 20},
    ...     y_true=[1, 0] * 20, y_pred=[1, 1] * 20).with_clusters(k=2)
    >>> [(c["label"], c["segment"], c["jaccard"]) for c in cluster_payload(ev)[0]["clusters"]]
    [('c1', 'x = 5', 1.0), ('c2', 'x = 0', 1.0)]
    """
    if not isinstance(analysis, Analysis):
        return []
    ev = content_of(analysis)
    out = []
    for name in analysis.derived_clusters:
        found = analysis.clusters(name)
        rows = []
        for label, row in found.table.iterrows():
            samples: list[dict[str, Any]] = []
            if ev is not None:
                at = ev.ids.get_indexer(pd.Index(row["typical"]))
                samples = strip(ev, at[at >= 0])
            rate, region = row["error_rate"], row["region_error_rate"]
            match = row["segment"] is not None and float(row["jaccard"]) >= MATCH
            rows.append({"label": str(label), "n": int(row["n"]),
                         "error_rate": None if rate != rate else float(rate),
                         "region_error_rate": None if region != region else float(region),
                         "core": float(row["core"]),
                         "terms": [str(t) for t in row["terms"]],
                         "segment": str(row["segment"]) if match else None,
                         "jaccard": round(float(row["jaccard"]), 3) if match else None,
                         "samples": samples})
        out.append({"feature": name, "method": found.method, "note": found.note,
                    "clusters": rows})
    return out



def concept_slices(analysis: Any, k: int) -> Concepts | None:
    """The top-``k`` concept slices of an in-memory analysis with text columns (None for
    any other analysis: no text to group)."""
    if not isinstance(analysis, Analysis) or not analysis.text_columns:
        return None
    return analysis.concepts(k)


def discovered_rows(analysis: Any, found: DiscoveredSlices, concepts: Concepts | None
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``slices`` and ``concepts`` traits of discovered slices and concepts (the widget
    and the report share it), with their strips.

    >>> import errlens as el
    >>> texts = ["the sequel was dull", "a remake again", "great cast", "nice music"] * 30
    >>> ev = el.Analysis.from_predictions({"review": texts, "g": ["a", "b"] * 60},
    ...     y_true=[1] * 120, y_pred=[0, 1, 1, 1] * 30, text="review")
    >>> slices, concepts = discovered_rows(ev, ev.discover(k=2), concept_slices(ev, 2))
    >>> slices[0]["slice"], [s["text"] for s in slices[0]["samples"][:2]], concepts
    ('g = a', ['the sequel was dull', 'the sequel was dull'], [])
    """
    content = content_of(analysis)
    slices = with_strips(content, found.to_json()["slices"],
                         [found.cohort(i) for i in range(len(found))])
    if concepts is None:
        return slices, []
    return slices, with_strips(content, concepts.to_json()["slices"],
                               [concepts.cohort(i) for i in range(len(concepts))])
