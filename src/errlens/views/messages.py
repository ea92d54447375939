"""The catalogue of messages between the browser and the kernel: every widget's requests, their
fields and their replies, in one place.

Envelope (every widget): the browser sends ``{type, rid, ...fields}`` (``rid``: an integer
the front end counts up); the kernel answers once with ``{"type": "reply", "rid", "error",
...reply fields}`` plus buffers. ``error`` is None or the text the widget shows. The
:class:`~errlens.views.dispatch.Dispatcher` refuses a message whose fields are not the
``required`` ones plus some ``optional`` ones before any handler runs; the handler then checks
the values (:mod:`errlens.views.protocol`). State the views draw (tables, bars, the cohort)
arrives as synced traits, not in replies. ``docs/architecture.md`` prints this catalogue.

>>> sorted(CATALOGUE)
['confusion', 'health', 'segments', 'selection', 'summary', 'suspects']
>>> page = CATALOGUE["suspects"]["page"]
>>> sorted(page.required), page.buffers
(['mode', 'page'], 'the page of rows as one Arrow IPC table')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    """One request type: what it does, its fields (name -> meaning) and its reply."""

    type: str
    doc: str
    required: Mapping[str, str] = field(default_factory=dict)
    optional: Mapping[str, str] = field(default_factory=dict)
    reply: Mapping[str, str] = field(default_factory=dict)
    buffers: str = ""


def _table(*requests: Request) -> dict[str, Request]:
    return {r.type: r for r in requests}


_VERSION = {"version": "the view's `version` trait the click was made on (stale clicks are "
            "refused)"}
_SELECT_COHORT = Request(
    "select_cohort", "Select a whole cohort (every dashboard view).",
    required={"cohort": "Cohort.to_json() of the rows to select, or null for every row"})

_SEGMENTS = _table(
    _SELECT_COHORT,
    Request("pick", "Choose the feature whose bars are drawn and the heatmap's second one.",
            optional={"feature": "feature of the bars", "feature_b": "second heatmap feature"}),
    Request("select_segment", "Click on a bar: select (or deselect) one segment.",
            required={"feature": "a feature", "label": "one of its segment labels", **_VERSION}),
    Request("select_cell", "Click on a heatmap cell: select its two segments.",
            required={"row": "index in labels_a", "col": "index in labels_b", **_VERSION}),
    Request("select_node", "Click on an error-tree node: select its rows.",
            required={"node": "index of the node (depth-first)", **_VERSION}),
    Request("select_slice", "Click on a discovered slice or a concept: select its rows.",
            required={"rank": "rank of the slice (or concept)", **_VERSION},
            optional={"kind": '"slice" (a discovered slice, the default) or "concept"'}),
    Request("discover", "Run slice discovery, and find concepts when the analysis has text "
            "columns (progress arrives in the `progress` trait).",
            optional={"k": "slices to find, 1..50 (10)", "max_level": "conditions per slice, "
                      "1..3 (2)"}),
)

_CONFUSION = _table(
    _SELECT_COHORT,
    Request("normalize", "Show counts or shares.",
            required={"normalize": 'null (counts), "true" (rows sum to 1) or "pred"'}),
    Request("select_cell", "Click on a cell: select its rows within the selection.",
            required={"true": "index of the true class", "predicted": "index of the predicted "
                      "class", **_VERSION}),
)

_HEALTH = _table(
    _SELECT_COHORT,
    Request("select_group", "Click on an annotator's (or source's) row: select its rows.",
            required={"group": '"annotator" or "source": the table clicked',
                      "index": "index of the row in that table", **_VERSION}),
)

_SELECTION = _table(
    Request("back", "Step back to the previous selection."),
    Request("clear", "Select every row (a step that back undoes)."),
)

_ROW = {"id": "the sample id", "token": "the `version` the row was shown at",
        "mode": '"suspects" or "all", as shown', "source": '"grid" or "similar"',
        "seen": "the label the row showed (refused if it changed since)"}
_ROW_STATE = "per sample written: id, current, current_code, n_events, last_op, changed"

_SUSPECTS = _table(
    Request("page", "One page of rows (or ranked suspects) of the selection.",
            required={"mode": '"suspects" or "all"', "page": "page number from 0"},
            optional={"sort": 'a column ("score", "id", ...) or "feature:" and a feature\'s '
                              "name",
                      "descending": "sort order", "given": "keep rows given this class",
                      "predicted": "keep rows predicted as this class",
                      "search": "text the row contains (up to 200 characters)"},
            reply={"page": "page number", "pages": "pages in all", "total": "rows in all",
                   "offset": "position of the first row", "score_kind": "what the score is",
                   "token": "the view's version", "mode": "the mode shown",
                   "ranking": 'how the order was last updated ("re-ranked after 12 '
                              'reviews"; null before any review)',
                   "n_checked": "rows checked"},
            buffers="the page of rows as one Arrow IPC table"),
    Request("check", "Tick or untick rows for a bulk relabel, or clear every tick.",
            optional={"ids": "sample ids (at most 4 pages)", "on": "tick (true) or untick",
                      "clear": "true: untick every row (alone)"},
            reply={"n_checked": "rows checked now", "ids": "the ids of the request",
                   "on": "as requested"}),
    Request("detail", "The whole sample of one row for the side panel.",
            required={"id": "the sample id"},
            reply={"id": "sample id", "given": "label given", "predicted": "prediction",
                   "features": "[{name, value}]", "proba": "[{class, p}]",
                   "cause": "why it was ranked (or null; its `why`: the prior's reason)",
                   "in_selection": "bool",
                   "text": "sample text (cut at 100,000 characters)",
                   "text_chars": "its full length", "image": "data: URL of the image",
                   "history": "its label events (null without a store)"}),
    Request("similar", "The nearest neighbours of one sample, with their labels.",
            required={"id": "the sample id"}, optional={"k": "how many (8)"},
            reply={"of": "the sample id", "rows": "neighbours: label state, distance, given, "
                   "predicted, error, glimpse"}),
    Request("action", "Relabel, confirm or skip one row, bulk-relabel the ticked rows, or "
            "undo; written to the changelog before the reply.",
            required={"action": "relabel, confirm, skip, bulk_relabel or undo"},
            optional={**_ROW, "label": "the new class (relabel, bulk_relabel)",
                      "note": "free text", "of": "the sample whose neighbour this is "
                      "(source similar)"},
            reply={"action": "as requested", "rows": _ROW_STATE,
                   "events": "event ids written", "n_checked": "rows checked now"}),
)

CATALOGUE: dict[str, dict[str, Request]] = {
    "segments": _SEGMENTS, "confusion": _CONFUSION, "selection": _SELECTION,
    "suspects": _SUSPECTS, "summary": {}, "health": _HEALTH,
}
"""Widget (its bundle's name) -> request type -> :class:`Request`."""


def markdown() -> str:
    """The catalogue as the Markdown tables of ``docs/architecture.md``.

    >>> markdown().splitlines()[0]
    '### confusion'
    """
    out: list[str] = []
    for widget in sorted(CATALOGUE):
        if not CATALOGUE[widget]:
            out += [f"### {widget}", "", "Takes no messages (draws its traits only).", ""]
            continue
        out += [f"### {widget}", "", "| request | fields | reply |", "|---|---|---|"]
        for r in CATALOGUE[widget].values():
            fields = [f"`{k}`: {v}" for k, v in r.required.items()]
            fields += [f"`{k}` (optional): {v}" for k, v in r.optional.items()]
            reply = [f"`{k}`: {v}" for k, v in r.reply.items()]
            reply += [f"buffers: {r.buffers}"] if r.buffers else []
            out.append(f"| `{r.type}`: {r.doc} | {_cell(fields)} | {_cell(reply)} |")
        out.append("")
    return "\n".join(out)


def _cell(items: list[Any]) -> str:
    return "<br>".join(str(i).replace("|", "\\|") for i in items) or "–"
