"""Text slices in the dashboard at ~1M short texts: kernel time of the segments view.

Run: .venv/bin/python benchmarks/text_dashboard.py

The CrowdFlower tweets replicated to 992,108 rows (26×), a planted failure on tweets about
self-driving cars and 30 % random mistakes elsewhere, the text declared with ``text=`` and its
length as a tabular feature. Timed in the kernel, through the widget's message handler as the
front end sends it (no browser): building the segments view (bars, heatmap, error tree), the
"Discover slices" message (discovery at max_level 2, concepts, and the sample strips of every
slice and concept shown), and the strips alone. The peer for the strips is what one writes
without them: pandas ``str.contains`` of each slice's terms over the texts, then the first 5
errors (for the one-term text slices and the concepts, whose rows are an OR of terms).
Imports and a first call on the tweets (38k rows) happen before the timers. The view's build
includes building the text's vocabulary (the error tree splits on terms too), which the
discovery that follows reuses.
Printed: seconds per step, the strips' share, the payload's bytes, peak RSS.
"""

from __future__ import annotations

import json
import re
import resource
import time

import numpy as np
import pandas as pd

import errlens as el
from errlens.datasets import load_tweets
from errlens.views.strips import STRIP, concept_slices, discovered_rows
from errlens.widgets.segments_view import SegmentsView

TOPIC = r"self[- ]?driving|driverless|autonomous|\bcars?\b|vehicles?"
REPS = 26


def planted(reps: int) -> el.Analysis:
    tweets = load_tweets()
    frame = pd.concat([tweets] * reps, ignore_index=True)
    rng = np.random.default_rng(0)
    classes = np.array(sorted(frame["sentiment"].unique()))
    truth = frame["sentiment"].to_numpy()
    topic = frame["text"].str.lower().str.contains(TOPIC).to_numpy()
    codes = np.searchsorted(classes, truth)
    shift = rng.integers(1, len(classes), len(frame))
    pred = np.where((rng.random(len(frame)) < 0.3) | topic,
                    classes[(codes + shift) % len(classes)], truth)
    data = frame[["text"]].assign(length=frame["text"].str.len())
    return el.Analysis.from_predictions(data, y_true=truth, y_pred=pred, text="text")


def pandas_strips(ev: el.Analysis, terms: list[list[str]]) -> list[list[int]]:
    """The peer: per slice, ``str.contains`` of its terms (any), then its first errors."""
    assert ev.text is not None
    texts = ev.text["text"].str.lower()
    out = []
    for group in terms:
        pattern = "|".join(rf"\b{re.escape(t)}\b" for t in group)
        mask = texts.str.contains(pattern, regex=True, na=False).to_numpy()
        out.append(np.flatnonzero(mask & ev.is_error)[:STRIP].tolist())
    return out


def slice_terms(row: dict) -> list[str]:
    """The term of a one-term text slice (the peer's OR of terms fits those and concepts)."""
    preds = row["predicates"]
    return [preds[0]["label"]] if len(preds) == 1 and preds[0]["contains"] else []


def main() -> None:
    warm = planted(1)  # first calls (imports, vocabulary code paths) outside the timers
    SegmentsView(warm).handle({"type": "discover", "rid": 0})
    ev = planted(REPS)
    print(f"{ev.n:,} rows, texts of {ev.text['text'].str.len().mean():.0f} characters on "
          "average")
    t = time.perf_counter()
    view = SegmentsView(ev)
    build = time.perf_counter() - t
    t = time.perf_counter()
    reply = view.handle({"type": "discover", "rid": 1})[0]
    click = time.perf_counter() - t
    assert reply["error"] is None, reply
    found, concepts = ev.discover(k=10, max_level=2), concept_slices(ev, 10)
    t = time.perf_counter()
    slices, concept_rows = discovered_rows(ev, found, concepts)
    strips = time.perf_counter() - t
    terms = [slice_terms(r) for r in found.to_json()["slices"]]
    terms = [g for g in terms if g] + ([list(concepts.table.loc[i, "terms"])
                                        for i in range(len(concepts))] if concepts else [])
    t = time.perf_counter()
    pandas_strips(ev, terms)
    peer = time.perf_counter() - t
    payload = len(json.dumps(view.slices + view.concepts))
    print(f"segments view built (bars, heatmap, error tree): {build:.2f} s")
    print(f"'Discover slices' message (discovery level 2 + concepts + strips): {click:.2f} s "
          f"({len(view.slices)} slices, {len(view.concepts)} concepts)")
    print(f"sample strips alone: {1000 * strips:.0f} ms for {len(slices) + len(concept_rows)} "
          f"slices; pandas str.contains per slice ({len(terms)} one-term slices and concepts): "
          f"{1000 * peer:.0f} ms ({peer / strips:.0f}x)")
    print(f"payload of slices + concepts with strips: {payload:,} bytes")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
