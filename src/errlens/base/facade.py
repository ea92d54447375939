"""The interface both analyses offer: :class:`errlens.Analysis` (rows in memory) and
:class:`errlens.engines.LazyAnalysis` (rows in DuckDB / Spark).

Code that takes "an analysis" types against :class:`Facade` and asks
:meth:`Facade.unavailable` what it cannot do instead of testing which class it holds; the
answer is the message to show (the operation itself raises :class:`ScaleOutError` with the
same text; ``errlens.engines.ScaleOutError`` is this class).

>>> import errlens as el
>>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
>>> isinstance(ev, Facade), ev.unavailable("mask")
(True, None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable


class ScaleOutError(NotImplementedError):
    """The operation would need every row on the driver; the message says what to do instead
    (the text of :meth:`Facade.unavailable`)."""


Operation = Literal["mask", "frame", "error_tree"]
"""What an analysis may be unable to do: a positional row mask, the rows of a cohort as one
DataFrame, the error tree (each needs every row on the driver)."""


@runtime_checkable
class Facade(Protocol):
    """What :class:`errlens.Analysis` and :class:`errlens.engines.LazyAnalysis` share."""

    @property
    def n(self) -> int: ...

    @property
    def task(self) -> str: ...

    @property
    def classes(self) -> list[Any]: ...

    @property
    def error_rate(self) -> float: ...

    def unavailable(self, operation: Operation) -> str | None:
        """Why ``operation`` cannot be done on this analysis (what to use instead), or None."""
        ...

    def mask(self, cohort: Any = None) -> Any:
        """Boolean row mask of ``cohort`` (see :meth:`unavailable`)."""
        ...

    # The result methods take the facades' keyword options; a Callable keeps them exact.
    @property
    def slices(self) -> Callable[..., Any]: ...

    @property
    def heatmap(self) -> Callable[..., Any]: ...

    @property
    def confusion(self) -> Callable[..., Any]: ...

    @property
    def discover(self) -> Callable[..., Any]: ...

    @property
    def suspects(self) -> Callable[..., Any]: ...
