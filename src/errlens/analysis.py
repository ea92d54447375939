"""The in-memory analysis: one evaluation set and every question errlens asks of it.

:class:`Analysis` is the facade over the layers below. It is an
:class:`~errlens.data.evaldata.EvalData` (the validated arrays and their cache), built by
:mod:`errlens.build`; each method is a thin call to a pure function of :mod:`errlens.slicing`
or :mod:`errlens.suspects` over those data.
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
from errlens.data.cohort import Cohort
from errlens.data.evaldata import TASKS, EvalData, ProbaSource, Task
from errlens.slicing import masks
from errlens.slicing import segments as _segments
from errlens.slicing.clusters import Clusters, with_clusters
from errlens.slicing.confusion import ConfusionResult, confusion_result
from errlens.slicing.discovery.result import DiscoveredSlices
from errlens.slicing.discovery.run import discover
from errlens.slicing.discovery.search import Progress
from errlens.slicing.error_tree import ErrorTree, build_error_tree
from errlens.slicing.heatmap import HeatmapTable, heatmap_table
from errlens.slicing.segment_cache import DEFAULT_BINS, DEFAULT_TOP_K, segments_at
from errlens.slicing.segments import Segments
from errlens.slicing.tables import slice_table
from errlens.suspects import detect
from errlens.suspects.health import LabelHealth
from errlens.suspects.table import Suspects

__all__ = ["TASKS", "Analysis", "ProbaSource", "Task"]


@dataclass(eq=False, repr=False)
class Analysis(EvalData):
    """Features, given labels, predictions and probabilities of one evaluation set.

    Build it with :meth:`from_predictions` or :meth:`from_estimator`; never by hand.
    Rows are addressed by stable sample ids (``ids``), never by position.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions(
    ...     {"x": [1, 2, 3, 4]}, y_true=["a", "b", "a", "b"], y_pred=["a", "a", "a", "b"])
    >>> ev.task, ev.error_rate
    ('binary', 0.25)
    """

    # ------------------------------------------------------------------ constructors
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
        images: Any = None,
    ) -> Analysis:
        """Build an analysis from labels and a model's predictions.

        ``y_true``, ``y_pred`` and ``id`` are column names of ``data`` or arrays; ``proba`` is an
        (n, k) array or a list of k column names, in the order of ``classes`` (default: the sorted
        labels). ``y_pred`` is derived from ``proba`` when absent. Set ``proba_out_of_fold=True``
        when the probabilities come from cross-validation, so suspect detection trusts them.
        ``images``: one per row, out of the features (:mod:`errlens.data.images`).

        >>> ev = Analysis.from_predictions(
        ...     {"age": [20, 40]}, y_true=[0, 1], proba=[[.9, .1], [.6, .4]])
        >>> ev.y_pred.tolist()
        [0, 0]
        """
        return build.from_predictions(
            cls, data, y_true=y_true, y_pred=y_pred, proba=proba, id=id, classes=classes,
            features=features, task=task, error_threshold=error_threshold,
            proba_out_of_fold=proba_out_of_fold, images=images,
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
        images: Any = None,
    ) -> Analysis:
        """Build an analysis from an unfitted scikit-learn estimator with out-of-fold predictions.

        Each row's prediction and probabilities come from a model that never saw it (``cv``-fold
        cross-validation, stratified for classifiers), which is what suspect detection needs.

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
            images=images,
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
        """The rows of ``cohort`` as a DataFrame: features, given and predicted label, error
        (``errlens_y_true`` etc. when a feature already has that name).

        >>> ev = Analysis.from_predictions({"x": [1, 2]}, y_true=[0, 1], y_pred=[0, 0])
        >>> ev.frame().columns.tolist()
        ['x', 'y_true', 'y_pred', 'error']
        """
        keep = self.mask(cohort)
        out = self.features.loc[keep].copy()
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
    ) -> pd.DataFrame:
        """One row per feature segment: ``n``, ``errors``, ``error_rate``, Wilson ``ci_low`` /
        ``ci_high``, ``lift`` (over the cohort's error rate) and ``error_share``; sorted by
        ``sort`` (descending, except p-values). ``metric`` adds a column (accuracy, precision,
        recall, f1 for ``label`` — default the positive class of a binary task —, fpr / fnr,
        mae / rmse) with its CI when it is a proportion and ``<metric>_delta`` from the cohort's
        value. ``fdr=0.05`` adds one-sided Fisher ``p_value``, Benjamini-Hochberg ``p_adjusted``
        and ``significant``. ``segments`` defaults to :attr:`segments`.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"g": ["a", "b", "b"]}, y_true=[0, 1, 1],
        ...                                   y_pred=[0, 0, 1])
        >>> ev.slices()[["segment", "n", "errors", "error_rate"]].values.tolist()
        [['b', 2, 1, 0.5], ['a', 1, 0, 0.0]]
        """
        return slice_table(
            self, features, cohort=cohort, metric=metric, label=label, min_size=min_size,
            sort=sort, fdr=fdr, confidence=confidence, segments=segments,
        )

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
    ) -> ErrorTree:
        """A shallow tree splitting the rows where errors concentrate (Gini on ``is_error`` over
        the segments; missing values an explicit branch). ``min_samples``: least rows per node
        (default 1 % of the rows, at least 20).

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [1, 2] * 30}, y_true=[0, 1] * 30,
        ...                                   y_pred=[0] * 60)
        >>> [node.path for node in ev.error_tree().leaves()]
        ['x ≥ 2', 'x < 2']
        """
        return build_error_tree(self, max_depth=max_depth, min_samples=min_samples,
                                features=features, cohort=cohort, confidence=confidence,
                                segments=segments)

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
    ) -> DiscoveredSlices:
        """The exact top-``k`` problem slices (SliceLine, Sagadeeva & Boehm, SIGMOD 2021).

        Slices are conjunctions of up to ``max_level`` segments of different features (from
        ``analysis.segments``), scored ``alpha * (slice error rate / error rate - 1) -
        (1 - alpha) * (rows / slice rows - 1)``; only slices with at least ``min_support`` rows
        (a count, a fraction of rows, or None for 1% of the rows but at least 32), some errors
        and a positive score qualify. ``features`` limits the search to some features,
        ``cohort`` to some rows (the error rate and row count are then the cohort's).
        ``progress`` is called with a :class:`~errlens.slicing.discovery.search.Progress` after each
        feature set examined.

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
                        features=features, cohort=cohort, progress=progress)

    def with_clusters(
        self, embeddings: Any = None, *, name: str = "cluster", method: str = "domino",
        k: int | None = None, seed: int = 0,
    ) -> Analysis:
        """A NEW analysis (this one unchanged, arrays shared) with the categorical feature
        ``name``: each row's error-aware cluster (``method="domino"``, Domino's mixture over
        embeddings, labels and predictions; or ``"kmeans"``), ``c1`` the worst. ``embeddings``:
        (n, d) or SciPy sparse, one row per sample; a text column's name; or None (the declared
        images, else the features). See :mod:`errlens.slicing.clusters.derive`.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [0., 5.] * 20},
        ...     y_true=[1, 0] * 20, y_pred=[1, 1] * 20).with_clusters(k=2)
        >>> ev.slices(["cluster"])[["segment", "n", "error_rate"]].values.tolist()
        [['c1', 20, 1.0], ['c2', 20, 0.0]]
        >>> ev.clusters().table.loc["c1", "segment"]
        'x = 5'
        """
        return with_clusters(self, embeddings, name=name, method=method, k=k, seed=seed)

    def clusters(self, name: str = "cluster") -> Clusters:
        """The description of the cluster feature ``name`` (:meth:`with_clusters`)."""
        if name not in self.derived_clusters:
            raise KeyError(f"no cluster feature {name!r} (add one: ev.with_clusters()), "
                           f"only {list(self.derived_clusters)}")
        return self.derived_clusters[name]

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

    # ------------------------------------------------------------------ suspects
    def suspects(
        self,
        method: str = "prune_by_noise_rate",
        *,
        cohort: Any = None,
        rank_by: str = "self_confidence",
        top: int | None = None,
        n_jobs: int = 1,
        filter_by: str | None = None,
        embeddings: Any = None,
        n_neighbors: int | None = None,
        threshold: float | None = None,
    ) -> Suspects:
        """Rank the rows whose given label is probably wrong; flag the likely ones.

        Classifiers, ``method`` = a confident-learning filter of cleanlab's ``find_label_issues``
        (``prune_by_noise_rate``, ``prune_by_class``, ``both``, ``confident_learning``,
        ``predicted_neq_given``, ``low_normalized_margin``, ``low_self_confidence``) on the
        analysis' probabilities, which must be out-of-fold (a warning says so otherwise); or
        ``"knn"``: no model needed, the vote of the ``n_neighbors`` (default 10) nearest other rows
        (encoded features, or ``embeddings=``: an (n, d) array, or a SciPy sparse matrix such
        as TF-IDF, searched by cosine distance) becomes pseudo-probabilities fed to the
        ``filter_by`` filter (default ``prune_by_noise_rate``). Rows are ranked by ``rank_by``
        (``self_confidence``, ``normalized_margin``, ``confidence_weighted_entropy``; lower =
        more suspicious), flagged rows first. ``n_jobs`` parallelises the neighbour search
        (the confident-learning pass is vectorised NumPy, already faster than cleanlab's).

        Regression, ``method="residual"``: robust z-score of the residual (median / MAD), flagged
        when ``|z| > threshold`` (default 3.5), ranked by ``|z|``.

        ``cohort`` only restricts the returned rows: scores and flags are always computed on all
        rows, so a row's flag does not depend on the slice it is viewed in (confident learning's
        per-class thresholds need the whole data). ``top`` keeps the first ``top`` rows.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": range(6)}, y_true=[0, 0, 0, 1, 1, 1],
        ...     proba=[[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.1, .9], [.85, .15]],
        ...     proba_out_of_fold=True)
        >>> s = ev.suspects("confident_learning")
        >>> s.flagged_ids.tolist(), s.cause(5)["rank"], s.table.columns.tolist()
        ([5], 1, ['given', 'predicted', 'p_given', 'score', 'flagged', 'rank'])
        """
        return detect.find_suspects(
            self, method, cohort=cohort, rank_by=rank_by, top=top, n_jobs=n_jobs,
            filter_by=filter_by, embeddings=embeddings, n_neighbors=n_neighbors,
            threshold=threshold,
        )

    def label_health(self) -> LabelHealth:
        """Per-class estimated noise rate and most likely confusions (given → probable true),
        from confident learning's estimated joint of the out-of-fold probabilities.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": range(6)}, y_true=[0, 0, 0, 1, 1, 1],
        ...     proba=[[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.1, .9], [.85, .15]],
        ...     proba_out_of_fold=True)
        >>> ev.label_health().classes["likely_true"].tolist()
        [None, 0]
        """
        return detect.health_of(self)

    def suspect_rates(
        self, column: Any, method: str = "prune_by_noise_rate", **options: Any
    ) -> pd.DataFrame:
        """Suspect rate per value of ``column`` (a feature name such as ``"annotator"`` or
        ``"source"``, or an array with one value per row), with counts, 95 % Wilson interval and
        lift over the overall rate; ``method`` and ``options`` as in :meth:`suspects`.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"annotator": ["a", "a", "b", "b"]},
        ...     y_true=[0, 1, 0, 1], proba=[[.9, .1], [.8, .2], [.2, .8], [.1, .9]],
        ...     proba_out_of_fold=True)
        >>> ev.suspect_rates("annotator", "predicted_neq_given")["suspects"].to_dict()
        {'a': 1, 'b': 1}
        """
        return detect.rates_of(self, column, method, **options)

    def similar(self, id: Any, k: int = 10, *, embeddings: Any = None) -> pd.DataFrame:
        """The ``k`` nearest other samples of sample ``id`` (in encoded features, or in
        ``embeddings=`` (n, d), dense or SciPy sparse as for ``suspects("knn")``), nearest
        first, with distance, given and predicted labels and whether the model got them
        wrong. The neighbour index is fitted once and cached.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [0.0, 1.0, 5.0, 1.2]}, y_true=[0, 0, 1, 1],
        ...     y_pred=[0, 1, 1, 1], id=["a", "b", "c", "d"])
        >>> ev.similar("b", k=2).index.tolist()
        ['d', 'a']
        """
        return detect.similar_to(self, id, k, embeddings=embeddings)
