"""What the suspect browser's message handlers share, so they never reach into the widget.

The browser owns one :class:`BrowserContext` and hands it to its handlers
(:class:`~errlens.widgets.suspect_browser_actions.Actions`,
:class:`~errlens.widgets.suspect_browser_detail.Detail`); none of them imports the browser, so
the three modules form no import cycle.

>>> import errlens as el
>>> from errlens.views.source import source_of
>>> from errlens.slicing.cohort import Cohort
>>> ev = el.Analysis.from_predictions({"x": [1, 2, 3]}, y_true=[0, 1, 1], y_pred=[0, 0, 1])
>>> source = source_of(ev)
>>> ctx = BrowserContext(ev, source, source.row_source(method="residual", text_column=None,
...                      image=None, page_size=10), view=None)
>>> ctx.new_cohort(Cohort.where("x", ">", 1))
>>> ctx.cohort_text, ctx.version, ctx.in_cohort(0), ctx.in_cohort(2)
('x > 1', 1, False, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from errlens.slicing.cohort import Cohort
    from errlens.suspects.table import Suspects
    from errlens.views.source import ViewSource
    from errlens.views.store import StoreView


@dataclass(eq=False)
class BrowserContext:
    """The analysis, its row source, the store view and the selection state of one browser.

    ``rows``: the browser's RowSource (in memory) or engine rows; ``view``: the LabelStore's
    view (None: read-only); ``read_only``: why relabelling is disabled ("" = it is enabled);
    ``checked``: row positions ticked in the grid; ``cohort_text`` and ``version`` mirror the
    browser's traits of the same names (actions carry ``version`` as their token).
    """

    analysis: Any
    source: ViewSource
    rows: Any
    view: StoreView | None
    read_only: str = ""
    checked: set[int] = field(default_factory=set)
    cohort_text: str = "all rows"
    version: int = 0
    _suspects: Suspects | None = field(default=None, repr=False)

    def new_cohort(self, cohort: Cohort | None) -> None:
        """Show ``cohort`` (None = every row): ticks and the cohort's suspects are dropped."""
        self.rows.set_cohort(cohort)
        self.cohort_text = cohort.describe() if cohort is not None else "all rows"
        self.checked.clear()
        self._suspects = None
        self.version += 1

    def rerank(self) -> None:
        """Rank the suspects again (the reviews changed); the pages shown keep their rows."""
        self.rows.rerank()
        self._suspects = None

    def in_cohort(self, position: int) -> bool:
        """Whether the row at ``position`` belongs to the current cohort."""
        mask = self.rows._mask
        return mask is None or bool(mask[position])

    def cause(self, position: int) -> dict[str, Any]:
        """Why the row at ``position`` ranks where it does in the current selection
        (``Suspects.cause``; after a fast re-rank, from the ranking's cached arrays)."""
        self.rows.global_suspects()
        if self.rows.reranked:
            return self.rows.cause(position)
        return self.cohort_suspects().cause(self.analysis.ids[position])

    def cohort_suspects(self) -> Suspects:
        """The suspects of the current selection (cached until it changes)."""
        if self._suspects is None:
            self._suspects = self.rows.cohort_suspects()  # from the cached ranking of all rows
        return self._suspects
