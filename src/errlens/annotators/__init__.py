"""The annotator workflow on top of the changelog: round trips and agreement reports.

- :mod:`~errlens.annotators.exchange`: export a batch to review as CSV, import the answers;
- :mod:`~errlens.annotators.labelstudio`: the same with Label Studio tasks and exports;
- :mod:`~errlens.annotators.agreement`, :mod:`~errlens.annotators.quality`: pure functions
  over a frame of events (kappa, Krippendorff's alpha, majority vote, accuracy, throughput);
- :mod:`~errlens.annotators.reports`: those measures for a LabelStore in one call.

Each writes through the store's public methods (``record_many``) and reads its public views;
the changelog never imports this package. The names below load on first use, so the CSV
round trip does not import scikit-learn.

>>> import pandas as pd, tempfile, os
>>> from errlens.changelog import LabelStore
>>> from errlens.annotators import consensus
>>> store = LabelStore(pd.Series(["a", "b"], index=[1, 2]),
...                    os.path.join(tempfile.mkdtemp(), "l.jsonl"), author="lead")
>>> _ = store.record_many([{"op": "set", "id": 1, "label": "b", "author": "ana"},
...                       {"op": "set", "id": 1, "label": "b", "author": "ben"}])
>>> consensus(store)["label"].to_dict()
{1: 'b'}
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "ImportErrors": "exchange",
    "export_csv": "exchange",
    "import_csv": "exchange",
    "export_labelstudio": "labelstudio",
    "import_labelstudio": "labelstudio",
    "labelstudio_tasks": "labelstudio",
    "AgreementReport": "reports",
    "agreement_report": "reports",
    "consensus": "reports",
    "review_precision": "reports",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"errlens.annotators.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'errlens.annotators' has no attribute {name!r}")
