"""The confusion view's payload: a counted table, normalised and reported for the browser.

The counts come from the selection once (:meth:`errlens.views.source.MemorySource.confusion`);
a change of normalisation only divides them again, it never recounts the rows.

>>> import numpy as np
>>> payload = confusion_payload(["a", "b"], np.array([[1, 0], [1, 1]]), "true")
>>> payload["values"], payload["accuracy"], payload["report"][0]["precision"]
([[1.0, 0.0], [0.5, 0.5]], 0.6666666666666666, 0.5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from errlens.base.jsonvalue import plain_number
from errlens.slicing.confusion import ConfusionResult

_REPORT = ("precision", "recall", "f1", "support")


def confusion_payload(classes: list[Any], counts: np.ndarray, normalize: str | None
                      ) -> dict[str, Any]:
    """The ``table`` trait of a confusion view: classes, counts, values (the counts normalised
    as ``normalize`` says), per-class precision / recall / F1 / support, accuracy and rows."""
    result = ConfusionResult.from_counts(counts, classes, normalize=normalize)
    report = result.report
    return {
        "classes": [str(c) for c in classes],
        "counts": counts.tolist(),
        "values": [[plain_number(v) for v in row] for row in result.table.to_numpy()],
        "report": [{"label": str(label), **{k: plain_number(report.loc[label, k])
                                            for k in _REPORT}} for label in report.index],
        "accuracy": plain_number(result.accuracy),
        "rows": int(counts.sum()),
    }
