"""The in-memory analysis: one evaluation set and every question errlens asks of it.

:class:`Analysis` is the facade over the layers below: an ``EvalData`` (the validated arrays
and their cache, built by :mod:`errlens.build`) whose methods, with those over content
(:mod:`errlens.content`) and labels (:mod:`errlens.label_methods`), call pure functions of
:mod:`errlens.slicing` / :mod:`errlens.suspects`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from errlens import build
from errlens.base.facade import Operation
from errlens.base.jsonvalue import plain
from errlens.base.stats import wilson_interval
from errlens.content import ContentMethods
from errlens.data.cohort import Cohort
from errlens.data.evaldata import TASKS, ProbaSource, Task
from errlens.label_methods import LabelMethods
from errlens.slicing import masks
from errlens.slicing import segments as _segments
from errlens.slicing.confusion import ConfusionResult, confusion_result
from errlens.slicing.discovery.result import DiscoveredSlices
from errlens.slicing.discovery.run import discover
from errlens.slicing.discovery.search import Progress
from errlens.slicing.error_tree import ErrorTree, build_error_tree
from errlens.slicing.heatmap import HeatmapTable, heatmap_table
from errlens.slicing.segment_cache import DEFAULT_BINS, DEFAULT_TOP_K, segments_at
from errlens.slicing.segments import Segments
from errlens.slicing.tables import slice_table
from errlens.slicing.text.table import with_terms

__all__ = ["TASKS", "Analysis", "ProbaSource", "Task"]


@dataclass(eq=False, repr=False)
class Analysis(ContentMethods, LabelMethods):
    """Features, given labels, predictions and probabilities of one evaluation set.

    Build it with :meth:`from_predictions` or :meth:`from_estimator`, never by hand; rows are
    addressed by stable sample ids (``ids``), never by position.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions(
    ...     {"x": [1, 2, 3, 4]}, y_true=["a", "b", "a", "b"], y_pred=["a", "a", "a", "b"])
    >>> ev.task, ev.error_rate
    ('binary', 0.25)
    """

    @classmethod
    def from_predictions(
        cls,
        data: Any,
        *,
        y_true: Any,
        y_pred: Any = None,
        proba: Any = None,
        id: Any = None,
        classes: Sequence[Any] | None = None,
        features: Sequence[str] | None = None,
        task: Task | None = None,
        error_threshold: float | None = None,
        proba_out_of_fold: bool = False,
        annotator: Any = None,
        source: Any = None,
        text: str | Sequence[str] | None = None,
        images: Any = None,
    ) -> Analysis:
        """Build an analysis from labels and a model's predictions.

        ``y_true``, ``y_pred`` and ``id`` are column names of ``data`` or arrays; ``proba`` is an
        (n, k) array or a list of k column names, in the order of ``classes`` (default: the sorted
        labels). ``y_pred`` is derived from ``proba`` when absent. Set ``proba_out_of_fold=True``
        when the probabilities come from cross-validation, so suspect detection trusts them.
        ``annotator`` / ``source`` declare who or what labelled each row (a column name or one
        value per row, kept as a feature): :meth:`suspects` ranks with their noise priors and
        :meth:`label_health` reports them.
        ``text`` names text columns of ``data``: kept out of the features, their words and
        phrases become "contains" features of :meth:`slices`, :meth:`discover`,
        :meth:`error_tree` and :meth:`concepts` (README "Text slices"). ``images``: one image
        per row, kept out of the features (a column of ``data``, a sequence of arrays / paths /
        bytes, or an (n, h, w[, c]) array), for the suspect browser and :meth:`with_clusters`.

        >>> ev = Analysis.from_predictions(
        ...     {"age": [20, 40]}, y_true=[0, 1], proba=[[.9, .1], [.6, .4]])
        >>> ev.y_pred.tolist()
        [0, 0]
        """
        return build.from_predictions(
            cls, data, y_true=y_true, y_pred=y_pred, proba=proba, id=id, classes=classes,
            features=features, task=task, error_threshold=error_threshold,
            proba_out_of_fold=proba_out_of_fold, annotator=annotator, source=source,
            text=text, images=images,
        )

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        cv: int = 5,
        id: Any = None,
        classes: Sequence[Any] | None = None,
        features: Sequence[str] | None = None,
        task: Task | None = None,
        error_threshold: float | None = None,
        random_state: int = 0,
        progress: bool = True,
        annotator: Any = None,
        source: Any = None,
        text: str | Sequence[str] | None = None,
        images: Any = None,
    ) -> Analysis:
        """Build an analysis from an unfitted scikit-learn estimator with out-of-fold predictions.

        Each row's prediction and probabilities come from a model that never saw it (``cv``-fold
        cross-validation, stratified for classifiers), which is what suspect detection needs.
        ``annotator`` / ``source`` as in :meth:`from_predictions` (the model never sees them).
        ``text`` names text columns of ``X`` (the estimator reads them, the analysis keeps them
        apart); ``images`` as in :meth:`from_predictions` (a column of ``X`` is left out).

        >>> from sklearn.linear_model import LogisticRegression
        >>> from errlens.datasets import load_adult
        >>> adult = load_adult().sample(2000, random_state=0)
        >>> ev = Analysis.from_estimator(LogisticRegression(max_iter=500),
        ...     adult[["age", "hours_per_week"]], adult["income"], cv=3, progress=False)
        >>> ev.proba_source
        'out_of_fold'
        """
        return build.from_estimator(
            cls, estimator, X, y, cv=cv, id=id, classes=classes, features=features, task=task,
            error_threshold=error_threshold, random_state=random_state, progress=progress,
            annotator=annotator, source=source,
            text=text, images=images,
        )

    # ------------------------------------------------------------------ rows
    def unavailable(self, operation: Operation) -> str | None:
        """Nothing: every row is in memory (an engine's analysis names what it cannot do).

        >>> ev = Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
        >>> ev.unavailable("frame") is None
        True
        """
        return None

    def mask(self, cohort: Any = None) -> np.ndarray:
        """Boolean row mask for ``cohort``: None (all rows), a boolean array / Series, a list of
        sample ids, or any object with a ``mask(analysis)`` method (such as a Cohort).

        >>> ev = Analysis.from_predictions(
        ...     {"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0], id=["a", "b"])
        >>> ev.mask(["b"]).tolist()
        [False, True]
        """
        return masks.mask(self, cohort)

    def frame(self, cohort: Any = None) -> pd.DataFrame:
        """The rows of ``cohort`` as a DataFrame: features, text columns, given and predicted
        label, error (``errlens_y_true`` etc. when a feature already has that name).

        >>> ev = Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
        >>> ev.frame().columns.tolist()
        ['x', 'y_true', 'y_pred', 'error']
        """
        keep = self.mask(cohort)
        out = self.features.loc[keep].copy()
        if self.text is not None:
            out = out.join(self.text.loc[keep])
        added = {"y_true": self.y_true.to_numpy()[keep], "y_pred": self.y_pred.to_numpy()[keep],
                 "error": self.error[keep] if self.task == "regression" else self.is_error[keep]}
        for name, values in added.items():  # a feature of the same name keeps its column
            out[name if name not in self.features.columns else f"errlens_{name}"] = values
        return out

    def summary(self) -> dict[str, Any]:
        """Headline figures: rows, errors, error rate with its 95 % Wilson interval, per-class
        support / errors / predicted counts (classifiers), as plain JSON-ready values."""
        errors = int(self.is_error.sum())
        low, high = wilson_interval([errors], [self.n])
        out: dict[str, Any] = {
            "task": self.task,
            "rows": self.n,
            "features": len(self.features.columns),
            "errors": errors,
            "error_rate": errors / self.n,
            "ci_low": float(low[0]),
            "ci_high": float(high[0]),
            "proba_source": self.proba_source,
            "classes": [],
        }
        if self.task == "regression":
            out["mae"] = float(self.error.mean())
            out["error_threshold"] = self.error_threshold
            return out
        k = len(self.classes)
        true_codes, pred_codes = self.y_true_codes, self.y_pred_codes
        support = np.bincount(true_codes, minlength=k)
        wrong = np.bincount(true_codes, weights=self.is_error, minlength=k).astype(int)
        predicted = np.bincount(pred_codes, minlength=k)
        out["classes"] = [
            {
                "label": plain(c),
                "support": int(support[i]),
                "errors": int(wrong[i]),
                "error_rate": float(wrong[i] / support[i]) if support[i] else None,
                "predicted": int(predicted[i]),
            }
            for i, c in enumerate(self.classes)
        ]
        return out

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<Analysis {s['task']}: {s['rows']:,} rows × {s['features']} features, "
            f"error rate {s['error_rate']:.2%} [{s['ci_low']:.2%}, {s['ci_high']:.2%}]>"
        )

    # ------------------------------------------------------------------ slicing
    @property
    def segments(self) -> Segments:
        """Every feature encoded into segments with the defaults (5 quantile bins, top 10
        categories), computed once and cached.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [1, 2, 3, 4]}, y_true=[0, 1, 0, 1],
        ...                                   y_pred=[0, 0, 0, 1])
        >>> ev.segments.labels
        [['= 1', '= 2', '= 3', '= 4']]
        """
        return segments_at(self)

    def segment(
        self, *, bins: int = DEFAULT_BINS, top_k: int = DEFAULT_TOP_K,
        features: list[str] | None = None,
    ) -> Segments:
        """Segments with other settings (cached per setting when all features are encoded).

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": range(10)}, y_true=[0, 1] * 5, y_pred=[0] * 10)
        >>> ev.segment(bins=2).labels
        [['< 4', '≥ 4']]
        """
        if features is not None:
            return _segments.encode(self, bins=bins, top_k=top_k, features=features)
        return segments_at(self, bins, top_k)

    def slices(
        self,
        features: Sequence[str] | None = None,
        *,
        cohort: Any = None,
        metric: str = "error_rate",
        label: Any = None,
        min_size: int = 1,
        sort: str | None = "lift",
        fdr: float | None = None,
        confidence: float = 0.95,
        segments: Segments | None = None,
        terms: bool | None = None,
    ) -> pd.DataFrame:
        """One row per feature segment: ``n``, ``errors``, ``error_rate``, Wilson ``ci_low`` /
        ``ci_high``, ``lift`` (over the cohort's error rate) and ``error_share``; sorted by
        ``sort`` (descending, except p-values). ``metric`` adds a column (accuracy, precision,
        recall, f1 for ``label`` — default the positive class of a binary task —, fpr / fnr,
        mae / rmse) with its CI when it is a proportion and ``<metric>_delta`` from the cohort's
        value. ``fdr=0.05`` adds one-sided Fisher ``p_value``, Benjamini-Hochberg ``p_adjusted``
        and ``significant``. ``segments`` defaults to :attr:`segments`. ``terms`` (default:
        when text columns are declared and ``features`` is None) adds one row per term of the
        text columns (``feature`` the column, ``segment`` the term: the rows containing it),
        tested and sorted with the segments (the metric's columns are left empty for terms).

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"g": ["a", "b", "b"]}, y_true=[0, 1, 1],
        ...                                   y_pred=[0, 0, 1])
        >>> ev.slices()[["segment", "n", "errors", "error_rate"]].values.tolist()
        [['b', 2, 1, 0.5], ['a', 1, 0, 0.0]]
        """
        terms = bool(self.text_columns) and features is None if terms is None else terms
        table = slice_table(self, features, cohort=cohort, metric=metric, label=label,
                            min_size=min_size, sort=None if terms else sort,
                            fdr=None if terms else fdr, confidence=confidence, segments=segments)
        return with_terms(self, table, cohort=cohort, min_size=min_size, confidence=confidence,
                          sort=sort, fdr=fdr) if terms else table

    def heatmap(
        self,
        feature_a: str,
        feature_b: str,
        *,
        metric: str = "error_rate",
        label: Any = None,
        cohort: Any = None,
        confidence: float = 0.95,
        segments: Segments | None = None,
    ) -> HeatmapTable:
        """Statistics of every pair of segments of two features (long ``.table``, ``.pivot()``;
        draw it with ``errlens.slicing.heatmap.heatmap_figure``).

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"a": [1, 2], "b": ["u", "v"]}, y_true=[0, 1],
        ...                                   y_pred=[0, 0])
        >>> ev.heatmap("a", "b").pivot("n").values.tolist()
        [[1, 0], [0, 1]]
        """
        return heatmap_table(self, feature_a, feature_b, metric=metric, label=label,
                             cohort=cohort, confidence=confidence, segments=segments)

    def confusion(
        self, cohort: Any = None, *, normalize: str | None = None, top: int = 10
    ) -> ConfusionResult:
        """Confusion table of ``cohort``: counts, ``normalized("true" | "pred" | "all")``,
        per-class ``report``, ``top_pairs``, ``comparison`` with the rest, ``cell_cohort()``.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=["a", "b"], y_pred=["a", "a"])
        >>> ev.confusion().counts.values.tolist()
        [[1, 0], [1, 0]]
        """
        return confusion_result(self, cohort, normalize=normalize, top=top)

    def error_tree(
        self,
        *,
        max_depth: int = 3,
        min_samples: int | None = None,
        features: Sequence[str] | None = None,
        cohort: Any = None,
        confidence: float = 0.95,
        segments: Segments | None = None,
        text: bool = True,
    ) -> ErrorTree:
        """A shallow tree splitting the rows where errors concentrate (Gini on ``is_error`` over
        the segments; missing values an explicit branch). ``min_samples``: least rows per node
        (default 1 % of the rows, at least 20). With text columns and ``text``, the tree also
        splits on the best screened terms (``review contains "sequel"`` or not).

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [1, 2] * 30}, y_true=[0, 1] * 30,
        ...                                   y_pred=[0] * 60)
        >>> [node.path for node in ev.error_tree().leaves()]
        ['x ≥ 2', 'x < 2']
        """
        return build_error_tree(self, max_depth=max_depth, min_samples=min_samples,
                                features=features, cohort=cohort, confidence=confidence,
                                segments=segments, text=text)

    def discover(
        self,
        *,
        k: int = 10,
        max_level: int = 3,
        min_support: int | float | None = None,
        alpha: float = 0.95,
        features: Sequence[str] | None = None,
        cohort: Any = None,
        progress: Callable[[Progress], None] | None = None,
        text: bool | str | Sequence[str] = True,
        min_df: int | None = None,
        max_terms: int = 50,
        distinct: bool = True,
    ) -> DiscoveredSlices:
        """The top-``k`` problem slices (SliceLine, Sagadeeva & Boehm, SIGMOD 2021).

        Slices are conjunctions of up to ``max_level`` segments of different features (from
        ``analysis.segments``), scored ``alpha * (slice error rate / error rate - 1) -
        (1 - alpha) * (rows / slice rows - 1)``; only slices with at least ``min_support`` rows
        (a count, a fraction of rows, or None for 1% of the rows but at least 32), some errors
        and a positive score qualify. ``features`` limits the search to some features,
        ``cohort`` to some rows (the error rate and row count are then the cohort's).
        ``progress`` is called with a :class:`~errlens.slicing.discovery.search.Progress` after each
        feature set examined.

        With text columns (``text=`` at construction), their terms join the search as
        ``column contains "term"`` predicates (``text``: True for every text column, some
        names, or False for none): terms in at least ``min_df`` rows (default 0.1 % of the
        rows, at least 20), screened to the ``max_terms`` best by level-1 score among those
        significantly worse than the searched rows (``params["terms"]`` lists them).

        ``distinct`` (default) leaves out a slice that nearly repeats a better one: nested in
        it or containing it (a phrase term counts as inside its words' terms) and sharing at
        least 90 % of the larger one's rows, as ``"driving" and "self driving"`` repeats
        ``"self driving"``; ``params["folded"]`` counts them. ``distinct=False`` gives
        SliceLine's exact top-``k``, near duplicates included (the ``group`` column then
        names the better slice each one repeats).

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions(
        ...     {"color": ["red", "blue"] * 50, "size": ["S", "S", "L", "L"] * 25},
        ...     y_true=[0] * 100, y_pred=[1, 0, 0, 0] * 25)
        >>> found = ev.discover(k=1, min_support=10)
        >>> top = found.to_frame().iloc[0]
        >>> top["slice"], int(top["n"]), float(top["error_rate"])
        ('color = red and size = S', 25, 1.0)
        """
        return discover(self, k=k, max_level=max_level, min_support=min_support, alpha=alpha,
                        features=features, cohort=cohort, progress=progress, text=text,
                        min_df=min_df, max_terms=max_terms, distinct=distinct)

    def save_cohort(self, name: str, cohort: Cohort) -> Cohort:
        """Store ``cohort`` under ``name`` in ``analysis.cohorts`` (checked against the features).

        >>> import errlens as el
        >>> from errlens.slicing.cohort import Cohort
        >>> ev = el.Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
        >>> _ = ev.save_cohort("big x", Cohort.where("x", ">", 1))
        >>> ev.cohorts["big x"].describe()
        'x > 1'
        """
        if not isinstance(cohort, Cohort):
            raise TypeError(f"save_cohort needs a Cohort, got {type(cohort).__name__}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"a cohort name must be a non-empty string, got {name!r}")
        cohort.validate(self)
        self.cohorts[name] = cohort
        return cohort
