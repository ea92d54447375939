"""Changelog: a log file opened read-only, without its dataset (for annotators and scripts).

Everything the log answers on its own: ``events()``, ``history(id)``, ``versions()``,
``diff(a, b)``, ``conflicts()``, ``schema`` / ``classes``, ``verify()``, the annotator reports
(``review_precision()``, ``agreement_report()``, ``consensus()``), and ``labels(version)`` of
the samples the log touched, relative to their original labels as the log recorded them (each
sample's first ``old_label``). Without the dataset, labels have the dtype pandas gives the
log's classes: ``int64``, ``bool``, ``float64``, text as ``str`` (``object`` before pandas 3);
a log does not record that ``y_true`` was a ``category`` or ``int32``. It takes no lock and
never writes: a torn last line is reported and left for a writer to repair. To edit, open a
:class:`LabelStore` on the dataset.

>>> import pandas as pd, tempfile, os
>>> from errlens.changelog import LabelStore
>>> path = os.path.join(tempfile.mkdtemp(), "labels.jsonl")
>>> store = LabelStore(pd.Series(["cat", "dog"], index=["a", "b"]), path, author="ana")
>>> _ = store.relabel("b", "cat", note="it meows"); _ = store.tag("v1")
>>> log = Changelog(path)
>>> log.labels().to_dict(), log.diff("original", "v1")["to"].tolist()
({'b': 'cat'}, ['cat'])
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from errlens.changelog import frames
from errlens.changelog.checkpoint import open_columns
from errlens.changelog.dataset import Dataset
from errlens.changelog.errors import ChangelogWarning, CorruptLogError
from errlens.changelog.header import header_schema
from errlens.changelog.logfile import LogFile, gc_paused
from errlens.changelog.replay import load
from errlens.changelog.safe_files import require_regular_file


class Changelog(frames.ViewsMixin):
    """Read-only view of one changelog file; see the module docstring."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._log = LogFile(require_regular_file(path))  # missing, a folder or a FIFO: refused
        with gc_paused():
            self._load()

    @property
    def path(self) -> str:
        """Path of the log file."""
        return self._log.path

    def _load(self) -> None:
        header, cols, block = open_columns(self.path, self._log.read())

        def refuse(lineno: int, message: str) -> None:
            raise CorruptLogError(f"{self.path} line {lineno}: {message}")

        self.header: dict[str, Any] = header
        self._base_schema = header_schema(self.path, header)
        self._state = load(cols, self._base_schema, refuse)
        self.dataset = Dataset.from_log(header, cols.first_old_labels(self._state.events))
        self._lines = 1 + len(cols)
        if block.torn:
            warnings.warn(f"{self.path}: ignoring an incomplete last line ({len(block.torn)} "
                          f"bytes) left by an interrupted write; a LabelStore opening the log "
                          f"removes it", ChangelogWarning, stacklevel=3)

    def __repr__(self) -> str:
        return (f"Changelog({self.path!r}: {len(self._state.events)} events, "
                f"{len(self._state.tags)} versions, {len(self.dataset.original)} samples "
                f"touched)")
