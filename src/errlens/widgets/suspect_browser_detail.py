"""The whole sample of one row, for the suspect browser's side panel.

One request / response per cursor move, for ONE row (never the dataset): its full text, a large
image, every feature, the probability of every class, why it was flagged, its label history.

>>> import errlens as el
>>> from errlens.widgets.suspect_browser import SuspectBrowser
>>> ev = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=[0, 1, 1], y_pred=[0, 0, 1],
...     proba=[[.9, .1], [.7, .3], [.2, .8]], proba_out_of_fold=True)
>>> reply, _ = SuspectBrowser(ev).handle({"type": "detail", "rid": 1, "id": 1})
>>> reply["error"], reply["features"], [p["p"] for p in reply["proba"]]
(None, [{'name': 'x', 'value': '2'}], [0.7, 0.3])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from errlens.views import protocol as P
from errlens.views.paging import RowSource
from errlens.views.samples import display_values
from errlens.views.store import plain

if TYPE_CHECKING:
    from errlens.changelog import LabelStore
    from errlens.widgets.suspect_browser_context import BrowserContext

#: Longer texts are cut here (the reply says so): a panel is no place for a whole book.
MAX_TEXT_CHARS = 100_000
#: Why an engine's browser has no detail panel.
NEEDS_MEMORY = ("the whole sample (every class probability, why it was flagged) needs an "
                "in-memory errlens.Analysis; the panel shows the row as the grid has it")


def history_events(store: LabelStore, sample: Any) -> list[dict[str, Any]]:
    """Every event on ``sample`` as the panel lists it: who, when, what, note, cause.

    >>> # history_events(store, "adult-00017")[0]["op"]  -> 'set'
    """
    frame = store.history(sample)
    return [{"op": r["op"], "old_label": plain(r["old_label"]),
             "new_label": plain(r["new_label"]), "author": r["author"],
             "timestamp": r["timestamp"].isoformat(timespec="seconds"),
             "note": plain(r["note"]), "reverted": bool(r["reverted"]),
             "cause": cause_text(r["cause"])}
            for r in frame.to_dict("records")]


def cause_text(cause: Any) -> str | None:
    """A recorded cause as one line of text.

    >>> cause_text({"method": "knn", "score_kind": "vote", "score": 0.25, "rank": 3})
    'knn: vote 0.25, rank 3'
    """
    if not isinstance(cause, dict):
        return None
    if "method" in cause:
        return f"{cause['method']}: {cause.get('score_kind')} {cause.get('score', 0):.3g}, " \
               f"rank {cause.get('rank')}"
    if cause.get("view") == "similar":
        return f"similar to {cause.get('neighbour_of')}"
    if cause.get("view") == "browser":
        return f"browsing {cause.get('cohort')}"
    return None


class Detail:
    """The ``detail`` request handler of one browser, over its context."""

    def __init__(self, context: BrowserContext) -> None:
        self.ctx = context

    def detail(self, msg: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """Everything the panel shows of the sample ``msg["id"]``."""
        P.fields(msg, required={"type", "rid", "id"})
        rows = self.ctx.rows
        if not isinstance(rows, RowSource):
            raise P.ProtocolError(NEEDS_MEMORY)
        ev = self.ctx.analysis
        position = P.sample_id(msg["id"], ev.ids)
        sample = plain(ev.ids[position])
        reply: dict[str, Any] = {
            "id": sample, "given": str(ev.y_true.iloc[position]),
            "predicted": str(ev.y_pred.iloc[position]),
            "features": self._features(position), "proba": self._proba(position),
            "cause": self._cause(position), "in_selection": self.ctx.in_cohort(position),
            "text": None, "text_chars": None, "image": None, "history": None,
        }
        if rows.text is not None:
            value = plain(rows.text[position])
            text = None if value is None else str(value)
            reply["text"] = None if text is None else text[:MAX_TEXT_CHARS]
            reply["text_chars"] = None if text is None else len(text)
        if rows.images is not None:
            reply["image"] = rows.images.large(position)
        view = self.ctx.view
        if view is not None:
            reply["history"] = history_events(view.store, sample)
        return reply, []

    def _features(self, position: int) -> list[dict[str, Any]]:
        frame = self.ctx.analysis.features.iloc[[position]]
        return [{"name": str(name), "value": display_values(frame[name], digits=None)[0]}
                for name in frame.columns]

    def _proba(self, position: int) -> list[dict[str, Any]]:
        ev = self.ctx.analysis
        if ev.proba is None:
            return []
        return [{"class": str(c), "p": float(p)}
                for c, p in zip(ev.classes, ev.proba[position], strict=True)]

    def _cause(self, position: int) -> dict[str, Any] | None:
        """Why the row was ranked where it is, in the current selection (None without scores,
        e.g. no probabilities, or for a row outside the selection)."""
        if not self.ctx.in_cohort(position):
            return None
        try:
            cause = self.ctx.cause(position)
        except (ValueError, TypeError):
            return None
        return {"method": cause["method"], "score_kind": cause["score_kind"],
                "score": cause["score"], "flagged": cause["flagged"], "rank": cause["rank"],
                "ranked_rows": cause["ranked_rows"],
                **({"why": cause["why"]} if cause.get("why") else {}),
                "cohort": None if self.ctx.rows.cohort is None else self.ctx.cohort_text}
