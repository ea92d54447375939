"""The evaluation data every errlens result is computed from, and its typed cache.

:class:`EvalData` holds one evaluation set as validated arrays: sample ids, features, given and
predicted labels, probabilities, classes, the task and the per-row error. It computes nothing
beyond its label codes; the slicing and suspect functions (layer 3) take it as their input and
keep what is worth reusing in its :class:`DataCache`, one typed field per kind of result
(instead of string keys written into the object's ``__dict__`` by four modules).

>>> import numpy as np, pandas as pd
>>> data = EvalData(ids=pd.RangeIndex(3), features=pd.DataFrame({"x": [1, 2, 3]}),
...                 y_true=pd.Series(["a", "b", "a"]), y_pred=pd.Series(["a", "a", "a"]),
...                 proba=None, classes=["a", "b"], task="binary",
...                 error=np.array([0.0, 1.0, 0.0]), is_error=np.array([False, True, False]))
>>> data.n, round(data.error_rate, 3), data.y_true_codes.tolist()
(3, 0.333, [0, 1, 0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from errlens.base.inputs import preview

Task = Literal["binary", "multiclass", "regression"]
ProbaSource = Literal["out_of_fold", "given", "none"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")


@dataclass(eq=False)
class DataCache:
    """What is computed once per evaluation set and reused. The values are layer-3 objects
    (``Segments``, ``PackedKeys``, neighbour indexes...), typed ``Any`` here because the data
    layer imports nothing above it; the functions that fill a field own its type."""

    y_true_codes: np.ndarray | None = None
    """Given labels as positions in ``classes``."""
    y_pred_codes: np.ndarray | None = None
    """Predicted labels as positions in ``classes``."""
    segments_by_setting: dict[tuple[int, int], Any] = field(default_factory=dict)
    """Every feature's ``Segments`` per ``(bins, top_k)``."""
    segments_by_feature: dict[tuple[str, int, int], Any] = field(default_factory=dict)
    """One feature's ``Segments`` per ``(feature, bins, top_k)`` (a segment cohort's)."""
    packed_keys: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    """``id(segments)`` -> ``(segments, PackedKeys)`` (the segments kept so the id stays theirs)."""
    suspects: dict[Any, Any] = field(default_factory=dict)
    """Confident-learning passes, neighbour indexes and fingerprints, by what they depend on."""
    terms: dict[Any, Any] = field(default_factory=dict)
    """Each text column's term ``Vocabulary`` (sparse binary rows × terms), by column and
    document-frequency floor (``errlens.slicing.text.vocabulary``)."""


@dataclass(eq=False, repr=False)
class EvalData:
    """Features, given labels, predictions and probabilities of one evaluation set, validated.

    Rows are addressed by stable sample ids (``ids``), never by position. ``error`` is 0/1 for
    classifiers and the absolute residual for regression; ``is_error`` says which rows count
    as errors (misclassified, or residual above ``error_threshold``).
    """

    ids: pd.Index
    features: pd.DataFrame
    y_true: pd.Series
    y_pred: pd.Series
    proba: np.ndarray | None
    classes: list[Any]
    task: Task
    error: np.ndarray
    is_error: np.ndarray
    proba_source: ProbaSource = "none"
    error_threshold: float | None = None
    cohorts: dict[str, Any] = field(default_factory=dict)
    #: The row labels of the pandas DataFrame it was built from (None for other data): a
    #: boolean Series over that frame (``df.age > 60``) selects its rows.
    row_labels: pd.Index | None = None
    #: Declared label sources: role (``"annotator"``, ``"source"``) -> the feature column
    #: holding who or what labelled each row (suspect priors group rows by them).
    label_sources: dict[str, str] = field(default_factory=dict)
    #: The declared text columns (``text=``), one ``str`` per row ("" where missing), indexed
    #: by the sample ids; kept out of ``features`` (they are not categories).
    text: pd.DataFrame | None = None
    cache: DataCache = field(default_factory=DataCache)
    #: One image per row, outside the features (``from_predictions(..., images=...)``): an
    #: (n, h, w[, c]) array in row order, or a Series by sample id of arrays / paths / bytes.
    images: np.ndarray | pd.Series | None = None
    #: Descriptions of derived cluster features by feature name (``with_clusters``).
    derived_clusters: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.ids)

    @property
    def text_columns(self) -> list[str]:
        """Names of the declared text columns (empty without ``text=``)."""
        return [] if self.text is None else [str(c) for c in self.text.columns]

    @property
    def error_rate(self) -> float:
        """Share of rows counted as errors (misclassified, or residual above the threshold)."""
        return float(self.is_error.mean())

    @property
    def y_true_codes(self) -> np.ndarray:
        """Given labels as positions in :attr:`classes` (classifiers only), computed once."""
        if self.cache.y_true_codes is None:
            self.cache.y_true_codes = class_codes(self.y_true, self.classes, "y_true")
        return self.cache.y_true_codes

    @property
    def y_pred_codes(self) -> np.ndarray:
        """Predicted labels as positions in :attr:`classes` (classifiers only), computed once."""
        if self.cache.y_pred_codes is None:
            self.cache.y_pred_codes = class_codes(self.y_pred, self.classes, "y_pred")
        return self.cache.y_pred_codes

    def labels_of(self, series: pd.Series) -> pd.Index:
        """The row labels a pandas Series given per row is matched on: the sample ids, or
        the source DataFrame's row labels when the Series names none of the ids."""
        if self.row_labels is None or series.index.isin(self.ids).any():
            return self.ids
        return self.row_labels


def class_codes(labels: pd.Series, classes: Sequence[Any], arg: str,
                factorized: tuple[np.ndarray, Any] | None = None) -> np.ndarray:
    """``labels`` as positions in ``classes``; a label outside them is a ValueError.
    ``factorized`` is ``pd.factorize(labels)`` when the caller has it already.

    >>> class_codes(pd.Series(["b", "a", "b"]), ["a", "b"], "y_true").tolist()
    [1, 0, 1]
    """
    # Factorize first: mapping a handful of distinct values is far cheaper than looking up
    # every row (1M arrow-backed strings take ~0.5 s through Index.get_indexer).
    row_codes, uniques = factorized or pd.factorize(labels, use_na_sentinel=True)
    positions = pd.Index(list(classes)).get_indexer(pd.Index(uniques))
    codes = np.append(positions, -1)[row_codes]
    if (codes < 0).any():
        bad = pd.unique(labels.to_numpy()[codes < 0])
        raise ValueError(
            f"{arg} has {int((codes < 0).sum())} labels outside classes "
            f"{preview(classes)}: {preview(bad)}"
        )
    return codes.astype(np.int64)
