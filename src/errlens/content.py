"""The analysis' methods over content (text and embeddings): concept slices and clusters.

A base class of :class:`errlens.Analysis` (kept apart so the facade stays one short module);
each method is a thin call into :mod:`errlens.slicing.concepts` or
:mod:`errlens.slicing.clusters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

from errlens.data.evaldata import EvalData
from errlens.slicing.clusters import Clusters, with_clusters
from errlens.slicing.concepts import Concepts, concepts


@dataclass(eq=False, repr=False)
class ContentMethods(EvalData):
    """Concept slices and embedding clusters of an analysis (see :class:`errlens.Analysis`)."""

    def concepts(
        self, k: int = 10, *, text: str | Sequence[str] | None = None, cohort: Any = None,
        min_df: int | None = None, fdr: float = 0.05, similarity: float = 0.3,
        min_terms: int = 2, embeddings: Any = None,
    ) -> Concepts:
        """The top-``k`` **concept slices** of the text columns (``text=`` at construction):
        terms significantly worse than the rest (Fisher, BH at ``fdr``) grouped when they are
        about the same thing (cosine ≥ ``similarity`` of their contexts, or of their rows'
        mean ``embeddings``: an (n, d) array, one row per sample), each group of at least
        ``min_terms`` terms an OR-slice ``review mentions sequel, remake, reboot`` kept when it
        is significantly worse too; ranked by SliceLine score. ``.cohort(i)`` is a Cohort like
        any other (select it, save it, browse its suspects). See
        :mod:`errlens.slicing.concepts`.

        >>> import errlens as el
        >>> texts = ["the sequel was dull", "a remake again", "great cast"] * 30
        >>> ev = el.Analysis.from_predictions({"review": texts}, y_true=[1] * 90,
        ...     y_pred=[0, 0, 1] * 30, text="review")
        >>> ev.concepts(similarity=0.0).cohort(0).describe()
        'review mentions dull, remake'
        """
        return concepts(self, k=k, text=text, cohort=cohort, min_df=min_df, fdr=fdr,
                        similarity=similarity, min_terms=min_terms, embeddings=embeddings)

    def with_clusters(
        self, embeddings: Any = None, *, name: str = "cluster", method: str = "domino",
        k: int | None = None, seed: int = 0,
    ) -> Self:
        """A NEW analysis (this one unchanged, arrays shared) with the categorical feature
        ``name``: each row's error-aware cluster (``method="domino"``, Domino's mixture over
        embeddings, labels and predictions; or ``"kmeans"``), ``c1`` the worst by the error
        rate of its region of the embedding (so errors gathered from all over it rank low);
        every view slices it like any other feature. ``embeddings``: (n, d) or SciPy
        sparse, one row per sample; a text column's name; or None (the declared images, else
        the first declared text column, else the features). See
        :mod:`errlens.slicing.clusters.derive`.

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
        """The description of the cluster feature ``name`` added by :meth:`with_clusters`:
        ``.table`` (per cluster: size, errors, error rate with CI, lift, its region of the
        embedding that ranks it, typical row ids, top terms, best matching segment),
        ``.note`` (the ranking, which embeddings), ``.cohort(label)``.

        >>> import errlens as el
        >>> ev = el.Analysis.from_predictions({"x": [0., 5.] * 20},
        ...     y_true=[1, 0] * 20, y_pred=[1, 1] * 20).with_clusters(k=2)
        >>> worst = ev.clusters().table.loc["c1"]
        >>> int(worst["n"]), float(worst["error_rate"]), worst["segment"]
        (20, 1.0, 'x = 5')
        """
        if name not in self.derived_clusters:
            raise KeyError(f"no cluster feature {name!r}; add one with ev.with_clusters(); "
                           f"cluster features: {list(self.derived_clusters)}")
        found: Clusters = self.derived_clusters[name]
        return found
