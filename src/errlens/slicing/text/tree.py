"""Terms as two-way features of the error tree: ``contains "term"`` or not.

The error tree splits on segment codes; the few terms that :func:`~errlens.slicing.text.table.
screen` keeps (at most :data:`TREE_TERMS`) join the segments as binary columns (one byte per row
and term kept, never a column per vocabulary term), so the tree can split
``text contains "sequel"`` from the rest.

>>> import errlens as el
>>> texts = ["the sequel was dull", "a great film", "sequel again", "great cast"] * 10
>>> ev = el.Analysis.from_predictions({"review": texts}, y_true=[0, 1, 0, 1] * 10,
...                                   y_pred=[1, 1, 1, 1] * 10, text="review")
>>> seg = with_terms(ev, ev.segments, min_support=5)
>>> seg.features, seg.labels
(['review contains "sequel"'], [['no', 'yes']])
"""

from __future__ import annotations

import dataclasses

import numpy as np

from errlens.data.evaldata import EvalData
from errlens.slicing.segments import Segments
from errlens.slicing.text.table import screen

TREE_TERMS = 20
"""Screened terms the error tree may split on."""


def with_terms(data: EvalData, segments: Segments, *, min_support: int,
               mask: np.ndarray | None = None) -> Segments:
    """``segments`` plus one ``no`` / ``yes`` feature per screened term of every text column
    (screened over the ``mask`` rows, all by default); ``segments`` itself without text."""
    if not data.text_columns:
        return segments
    mask = np.ones(data.n, dtype=bool) if mask is None else mask
    # kept: the packed keys of the tree are cached per segments object
    key = ("tree", id(segments), min_support, hash(np.packbits(mask).tobytes()))
    hit = data.cache.terms.get(key)
    if hit is not None and hit[0] is segments:
        found: Segments = hit[1]
        return found
    data.cache.terms[key] = (segments, _augmented(data, segments, mask, min_support))
    return with_terms(data, segments, min_support=min_support, mask=mask)


def _augmented(data: EvalData, segments: Segments, mask: np.ndarray,
               min_support: int) -> Segments:
    terms = screen(data, mask, text=None, min_df=None, min_support=min_support, alpha=0.95,
                   max_terms=TREE_TERMS)
    if not terms:
        return segments
    positions = np.flatnonzero(mask)
    extra = np.zeros((data.n, len(terms)), dtype=segments.codes.dtype, order="F")
    for j, (_, _, rows) in enumerate(terms):
        extra[positions[rows], j] = 1
    names = [f'{column} contains "{term}"' for column, term, _ in terms]
    return dataclasses.replace(
        segments,
        features=[*segments.features, *names],
        codes=np.asfortranarray(np.hstack([segments.codes, extra])),
        labels=[*segments.labels, *([["no", "yes"]] * len(terms))],
        definition=[*segments.definition, *(
            {"kind": "contains", "column": column, "term": term, "missing": False,
             "labels": ["no", "yes"]} for column, term, _ in terms)],
    )
