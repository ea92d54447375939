"""Relabel actions and the similar-samples panel of the suspect browser.

Every action is validated (known sample, shown in the current selection, label among the
classes, fresh token, label unchanged since it was shown) before one LabelStore call writes it;
the event carries the cause the row was shown for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from errlens.views import protocol as P
from errlens.views.paging import MODES
from errlens.views.samples import display_values
from errlens.views.store import StoreView, plain

if TYPE_CHECKING:
    from errlens.changelog.events import Event
    from errlens.widgets.suspect_browser_context import BrowserContext

ACTIONS = ("relabel", "confirm", "skip", "undo", "bulk_relabel")
SOURCES = ("grid", "similar")
MAX_NEIGHBOURS = 20
_ROW_FIELDS = {"id", "token", "mode", "source", "seen"}


class Actions:
    """Request handlers ``act`` and ``similar`` of one browser, over its context."""

    def __init__(self, context: BrowserContext) -> None:
        self.ctx = context

    def _view(self) -> StoreView:
        if self.ctx.read_only or self.ctx.view is None:
            raise P.ProtocolError(self.ctx.read_only or "relabelling is disabled")
        return self.ctx.view

    # ------------------------------------------------------------------ causes
    def _cause(self, position: int, mode: str) -> dict[str, Any]:
        sample = plain(self.ctx.analysis.ids[position])
        if not self.ctx.in_cohort(position):
            raise P.ProtocolError(f"sample {sample!r} is not in the current selection "
                                  f"({self.ctx.cohort_text}); reload the page")
        if mode == "suspects":
            flagged = self.ctx.rows._flagged
            if flagged is None or not flagged[position]:
                raise P.ProtocolError(f"sample {sample!r} is not a suspect of this selection")
            return self.ctx.cause(position)
        return {"view": "browser", "cohort": self.ctx.cohort_text}

    def _most_neighbours(self) -> int:
        """At most ``MAX_NEIGHBOURS``, and never more than the other rows (a tiny dataset)."""
        return max(1, min(MAX_NEIGHBOURS, self.ctx.analysis.n - 1))

    def _similar_cause(self, position: int, of: Any) -> dict[str, Any]:
        of_position = P.sample_id(of, self.ctx.analysis.ids)
        of_id = plain(self.ctx.analysis.ids[of_position])
        near = self.ctx.analysis.similar(of_id, k=self._most_neighbours())
        sample = plain(self.ctx.analysis.ids[position])
        if sample not in near.index:
            raise P.ProtocolError(f"sample {sample!r} is not among the neighbours of {of_id!r}")
        return {"view": "similar", "neighbour_of": of_id,
                "distance": float(near.loc[sample, "distance"])}

    # ------------------------------------------------------------------ act
    def act(self, msg: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """Relabel / confirm / skip one sample, bulk-relabel the checked ones, or undo."""
        if not isinstance(msg, dict):
            raise P.ProtocolError("a message must be a JSON object")
        action = P.choice(msg.get("action"), "action", ACTIONS)
        view = self._view()
        store = view.store
        if action == "undo":
            P.fields(msg, required={"type", "rid", "action"})
            events = view.write(lambda: [store.undo()])
        elif action == "bulk_relabel":
            P.fields(msg, required={"type", "rid", "action", "label", "token", "mode"},
                     optional={"note"})
            events = self._bulk(msg, view)
        else:
            needed = {"type", "rid", "action", *_ROW_FIELDS} | (
                {"label"} if action == "relabel" else set())
            P.fields(msg, required=needed, optional={"note", "of"})
            events = self._one(action, msg, view)
        samples = list(dict.fromkeys(e.sample_id for e in events if e.sample_id is not None))
        return {"action": action, "rows": [self._state(s) for s in samples],
                "events": [e.event_id for e in events],
                "n_checked": len(self.ctx.checked)}, []

    def _fresh(self, msg: dict[str, Any]) -> str:
        token = P.integer(msg["token"], "token")
        if token != self.ctx.version:
            raise P.ProtocolError(f"stale view (token {token}, now {self.ctx.version}): the "
                                  f"selection changed since these rows were shown; reloaded")
        return P.choice(msg["mode"], "mode", MODES)

    def _one(self, action: str, msg: dict[str, Any], view: StoreView) -> list[Event]:
        mode = self._fresh(msg)
        ids = self.ctx.analysis.ids
        position = P.sample_id(msg["id"], ids)
        sample = plain(ids[position])
        source = P.choice(msg["source"], "source", SOURCES)
        if source == "similar":
            if "of" not in msg:
                raise P.ProtocolError("an action from the similar panel needs 'of'")
            cause = self._similar_cause(position, msg["of"])
        else:
            cause = self._cause(position, mode)
        current = view.label_of(sample)
        seen = msg["seen"]
        if type(seen) is not type(current) or seen != current:
            raise P.ProtocolError(f"stale row: sample {sample!r} is now labelled {current!r}, "
                                  f"not {seen!r} as shown; reloaded")
        note = (P.text(msg.get("note"), "note") or "").strip() or None
        store = view.store
        if action == "relabel":
            label = P.label_value(msg["label"], view.classes)
            return view.write(lambda: [store.relabel(sample, label, note=note, cause=cause)])
        if action == "confirm":
            return view.write(lambda: [store.confirm(sample, note=note, cause=cause)])
        return view.write(lambda: [store.skip(sample, note=note, cause=cause)])

    def _bulk(self, msg: dict[str, Any], view: StoreView) -> list[Event]:
        mode = self._fresh(msg)
        label = P.label_value(msg["label"], view.classes)
        note = (P.text(msg.get("note"), "note") or "").strip() or None
        positions = sorted(self.ctx.checked)
        if not positions:
            raise P.ProtocolError("no rows are checked: tick the rows to relabel first")
        ids = self.ctx.analysis.ids
        specs = [{"op": "set", "id": plain(ids[p]), "label": label, "note": note,
                  "cause": self._cause(p, mode)} for p in positions]
        events = view.write(lambda: view.store.record_many(specs))
        self.ctx.checked.clear()
        return events

    def _state(self, sample: Any) -> dict[str, Any]:
        view = self._view()
        original = plain(self.ctx.analysis.y_true.loc[sample])
        return view.row_state(sample, original)

    # ------------------------------------------------------------------ similar
    def similar(self, msg: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """The nearest neighbours of one sample with their labels and a glimpse of the sample."""
        P.fields(msg, required={"type", "rid", "id"}, optional={"k"})
        ev = self.ctx.analysis
        position = P.sample_id(msg["id"], ev.ids)
        k = P.integer(msg.get("k", 8), "k", low=1, high=self._most_neighbours())
        sample = plain(ev.ids[position])
        near = ev.similar(sample, k=k)
        positions = ev.ids.get_indexer(near.index)
        glimpses = self._glimpses(positions)
        view = self.ctx.view
        rows = []
        for i, (nid, row) in enumerate(near.iterrows()):
            nid = plain(nid)
            state = (view.row_state(nid, plain(row["given"])) if view is not None
                     else {"id": nid, "current": None, "current_code": None, "n_events": 0,
                           "last_op": None, "changed": False})
            rows.append({**state, "distance": float(row["distance"]),
                         "given": str(row["given"]), "predicted": str(row["predicted"]),
                         "error": bool(row["error"]), "glimpse": glimpses[i]})
        return {"of": sample, "rows": rows}, []

    def _glimpses(self, positions: np.ndarray) -> list[dict[str, str | None]]:
        rows = self.ctx.rows
        if rows.images is not None:
            return [{"thumb": t} for t in rows.images.thumbnails(positions)]
        if rows.text is not None:
            return [{"text": None if t is None else str(t)[:280]}
                    for t in rows.text[positions].tolist()]
        frame = self.ctx.analysis.features.iloc[positions]
        shown = list(frame.columns[:6])
        values = {c: display_values(frame[c]) for c in shown}
        return [{"text": ", ".join(f"{c}={values[c][i] if values[c][i] is not None else '–'}"
                                   for c in shown)} for i in range(len(positions))]

