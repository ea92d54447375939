"""Live re-ranking of the suspect browser: the ranking learns from the reviews so far, and the
rows a reviewer already saw stay where they were.

The core ranks suspects with each row's annotator / source prior, updated by the decisions in
the LabelStore (``analysis.suspects(..., reviews=store)``). The browser asks for that ranking
again on its next page request after a review (a relabel or a confirm) was written: the pages
already served in a view keep their rows in their places (:func:`pin`), so the current page
does not jump under the reviewer's hand (a re-fetch after an error shows the same rows), and
the pages after them follow what the reviewer decided so far.

>>> pin(np.array([7, 3]), np.array([3, 5, 7, 1])).tolist()
[7, 3, 5, 1]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from errlens.views.store import StoreView


def pin(prefix: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``order`` with the rows of ``prefix`` first, in their places (rows shown stay put)."""
    if not len(prefix):
        return order
    rest = order[~np.isin(order, prefix)]
    return np.concatenate([prefix, rest]).astype(order.dtype, copy=False)


class Reranker:
    """When a browser's ranking is due again, and what it says about it.

    ``view``: the browser's LabelStore view; the ranking is due whenever the number of reviewed
    samples (a current relabel or confirm: see :meth:`StoreView.reviewed`) differs from the one
    the ranking was made with.

    >>> import errlens as el, tempfile, os
    >>> from errlens.changelog import LabelStore
    >>> from errlens.views.store import StoreView
    >>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=["a", "b"], y_pred=["a", "a"])
    >>> store = LabelStore(ev, os.path.join(tempfile.mkdtemp(), "l.jsonl"), author="ana")
    >>> ranking = Reranker(StoreView(store, ev.ids))
    >>> ranking.due(), ranking.text()
    (False, None)
    >>> _ = store.confirm(1); ranking.due()
    True
    >>> ranking.done(); ranking.text()
    're-ranked after 1 review'
    """

    def __init__(self, view: StoreView) -> None:
        self.view = view
        self.reviews = view.reviewed()

    def due(self) -> bool:
        """Whether reviews were written (or undone) since the ranking was made."""
        return self.view.reviewed() != self.reviews

    def done(self) -> None:
        """The ranking was made again now."""
        self.reviews = self.view.reviewed()

    def text(self) -> str | None:
        """What the browser says about its order (None: as first ranked, before any review)."""
        if not self.reviews:
            return None
        return f"re-ranked after {self.reviews:,} review{'s' if self.reviews != 1 else ''}"
