"""Schema changes as logged events, mixed into :class:`~errlens.changelog.LabelStore`:
adding, renaming and merging classes and writing their guidelines.

>>> import pandas as pd, tempfile, os
>>> from errlens.changelog import LabelStore
>>> s = LabelStore(pd.Series(["cat", "dog"], index=[1, 2]),
...                os.path.join(tempfile.mkdtemp(), "l.jsonl"), author="ana")
>>> _ = s.rename_class("dog", "canine"); s.labels().tolist()
['cat', 'canine']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from errlens.changelog.dataset import to_plain
from errlens.changelog.events import Event
from errlens.changelog.schema import make_guideline


class SchemaVerbs:
    """Schema events; each is durable, validated against the current schema, and replayed."""

    _write_special: Callable[..., Event]

    def _schema_event(self, change: dict[str, Any], note: str | None) -> Event:
        return self._write_special("schema", change=change, note=note)

    def add_class(self, name: Any, *, definition: str = "", example: str = "",
                  edge_cases: Iterable[str] = (), note: str | None = None) -> Event:
        """Extend the schema with a new class (an explicit, logged event)."""
        return self._schema_event({"action": "add_class", "class": to_plain(name),
                                   "guideline": make_guideline(definition, example,
                                                               tuple(edge_cases))}, note)

    def rename_class(self, old: Any, new: Any, *, note: str | None = None) -> Event:
        """Rename a class; past labels read under the new name."""
        return self._schema_event({"action": "rename_class", "old": to_plain(old),
                                   "new": to_plain(new)}, note)

    def merge_classes(self, classes: Iterable[Any], into: Any, *,
                      note: str | None = None) -> Event:
        """Merge several classes into one (which may be one of them or a new name)."""
        return self._schema_event({"action": "merge_classes",
                                   "classes": [to_plain(c) for c in classes],
                                   "into": to_plain(into)}, note)

    def set_guideline(self, cls: Any, *, definition: str = "", example: str = "",
                      edge_cases: Iterable[str] = (), note: str | None = None) -> Event:
        """Write the annotation guideline of one class."""
        return self._schema_event({"action": "set_guideline", "class": to_plain(cls),
                                   "guideline": make_guideline(definition, example,
                                                               tuple(edge_cases))}, note)
