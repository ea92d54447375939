"""A LabelStore as the suspect browser reads it: current labels and edit status per row.

Views are cached and rebuilt whenever the log file changed size (our own writes, another cell,
another process), so the grid always shows what is on disk.

>>> import errlens as el, tempfile, os
>>> from errlens.changelog import LabelStore
>>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=["a", "b"], y_pred=["a", "a"])
>>> store = LabelStore(ev, os.path.join(tempfile.mkdtemp(), "l.jsonl"), author="ana")
>>> view = StoreView(store, ev.ids)
>>> _ = store.relabel(1, "a"); view.row_state(1)["current"], view.row_state(1)["last_op"]
('a', 'set')
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from errlens.changelog import LabelStore
from errlens.changelog.dataset import to_plain

if TYPE_CHECKING:
    from errlens.changelog.events import Event


REVIEW_OPS = frozenset({"set", "confirm", "adjudicate"})
"""Operations that decide a sample's label (a skip or an undo decides nothing)."""


def plain(value: Any) -> Any:
    """A JSON-ready scalar (NumPy scalars as Python values, missing as None)."""
    value = to_plain(value)
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


class StoreView:
    """Current labels (aligned with the analysis' ids) and per-sample status of ``store``."""

    def __init__(self, store: LabelStore, ids: pd.Index) -> None:
        self.store, self.ids = store, ids
        self._size = -1
        self._labels = np.empty(0, dtype=object)
        self._status: dict[Any, tuple[int, str]] = {}

    def _sync(self) -> None:
        size = os.path.getsize(self.store.path)
        if size == self._size:
            return
        self.store.refresh()
        self._labels = np.array(self.store.labels().reindex(self.ids).tolist(), dtype=object)
        events = self.store.event_ops()  # sample and op only: cheap at a million events
        events = events[events["sample_id"].notna() & (events["op"] != "comment")]
        counts = events.groupby("sample_id", sort=False)["op"].agg(["size", "last"])
        self._status = {to_plain(k): (int(n), str(op))
                        for k, n, op in zip(counts.index, counts["size"], counts["last"],
                                            strict=True)}
        self._size = size

    def write(self, events: Callable[[], list[Event]]) -> list[Event]:
        """Run ``events()`` (one store write) and fold its events into the cached views, so a
        1M-row store is not replayed after every click; a write by anyone else since the last
        look still triggers a full re-read."""
        self._sync()
        try:
            written = events()
        except BaseException:
            self._size = -1  # e.g. a full disk mid-write: re-read what is really on disk
            raise
        for event in written:
            if event.sample_id is None:
                continue
            if event.new_label is not None:
                self._labels[self.ids.get_loc(event.sample_id)] = event.new_label
            n_events, _ = self._status.get(event.sample_id, (0, None))
            self._status[event.sample_id] = (n_events + 1, event.op)
        self._size = os.path.getsize(self.store.path)
        return written

    @property
    def classes(self) -> list[Any]:
        """The store's current classes (its schema may have added some)."""
        return [plain(c) for c in self.store.classes]

    def current(self, positions: np.ndarray) -> list[Any]:
        """Current labels of the rows at ``positions``."""
        self._sync()
        return [plain(v) for v in self._labels[positions]]

    def label_of(self, sample: Any) -> Any:
        """Current label of one sample id."""
        return self.current(np.array([self.ids.get_loc(sample)]))[0]

    def status(self, sample: Any) -> tuple[int, str | None]:
        """(number of events, last operation) on one sample."""
        self._sync()
        return self._status.get(plain(sample), (0, None))

    def reviewed(self) -> int:
        """Samples whose last decision is a relabel, confirm or adjudication (what the suspect
        ranking learns from)."""
        self._sync()
        return sum(op in REVIEW_OPS for _, op in self._status.values())

    def row_state(self, sample: Any, original: Any = None) -> dict[str, Any]:
        """What the front end shows of one sample's labelling: current label, status."""
        current = self.label_of(sample)
        n_events, last_op = self.status(sample)
        classes = self.classes
        return {"id": plain(sample), "current": current,
                "current_code": classes.index(current) if current in classes else None,
                "n_events": n_events, "last_op": last_op,
                "changed": original is not None and current != original}
