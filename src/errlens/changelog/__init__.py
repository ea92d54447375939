"""The versioned label changelog: every edit kept, crash-safe and tamper-evident.

>>> import pandas as pd, tempfile, os
>>> from errlens.changelog import LabelStore
>>> store = LabelStore(pd.Series(["cat", "dog"], index=["a", "b"]),
...                    os.path.join(tempfile.mkdtemp(), "labels.jsonl"), author="ana")
>>> _ = store.relabel("b", "cat", note="it meows")
>>> store.verify().ok
True
>>> Changelog(store.path).labels().to_dict()  # read-only, without the dataset
{'b': 'cat'}
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import Any

from errlens.changelog.errors import (
    ChangelogError,
    ChangelogWarning,
    CorruptLogError,
    DatasetMismatchError,
)
from errlens.changelog.events import OPS, ROLES, SCHEMA_VERSION, Event
from errlens.changelog.merge import MergeReport, merge_logs, read_log
from errlens.changelog.readonly import Changelog
from errlens.changelog.schema import LabelSchema
from errlens.changelog.store import LabelStore
from errlens.changelog.verify import Problem, VerifyReport, verify_file

# Deprecated forwards: the annotator reports moved up to errlens.annotators (the layer above:
# they need scikit-learn and krippendorff). These names were documented here before; they still
# resolve, with a DeprecationWarning, until they are removed. Nothing in the changelog itself
# uses them.
_MOVED = {name: "errlens.annotators.reports"
          for name in ("AgreementReport", "agreement_report", "consensus", "review_precision")}

__all__ = [
    "OPS",
    "ROLES",
    "SCHEMA_VERSION",
    "Changelog",
    "ChangelogError",
    "ChangelogWarning",
    "CorruptLogError",
    "DatasetMismatchError",
    "Event",
    "LabelSchema",
    "LabelStore",
    "MergeReport",
    "Problem",
    "VerifyReport",
    "merge_logs",
    "read_log",
    "verify_file",
]


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(f"errlens.changelog.{name} moved to {_MOVED[name]} (also el.{name}); "
                      "the old name will be removed", DeprecationWarning, stacklevel=2)
        return getattr(import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'errlens.changelog' has no attribute {name!r}")
