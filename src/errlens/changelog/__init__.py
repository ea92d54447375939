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

# The annotator reports moved up to errlens.annotators (they need scikit-learn and
# krippendorff); these names, documented here before, load them on first use by module name,
# so the changelog and its command line start without them and import nothing above them.
_LAZY = {name: "errlens.annotators.reports"
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
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'errlens.changelog' has no attribute {name!r}")
