"""The analysis' methods over labels: suspects, label health, suspect rates, similar samples.

A base class of :class:`errlens.Analysis` (kept apart so the facade stays one short module);
each method is a thin call into :mod:`errlens.suspects.detect`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from errlens.data.evaldata import EvalData
from errlens.suspects import detect
from errlens.suspects.health import LabelHealth
from errlens.suspects.table import Suspects


@dataclass(eq=False, repr=False)
class LabelMethods(EvalData):
    """Suspect detection and label health of an analysis (see :class:`errlens.Analysis`)."""

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
        prior: Any = "auto",
        reviews: Any = None,
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

        Priors (classifiers): ``prior="auto"`` (the default) uses the declared ``annotator=`` /
        ``source=`` columns; a feature name or a list of them adds segment priors; None, or
        nothing declared, ranks exactly as cleanlab. With a prior, each group's noise rate is
        estimated and shrunk (``errlens.suspects.priors``), the table gains the group columns,
        ``prior`` and ``posterior`` (probability the label is wrong) and is ordered by
        ``posterior``; ``flagged`` and ``score`` stay the method's own (cleanlab parity).
        ``reviews=`` a LabelStore (or its events) moves each group's prior by what reviewers
        decided and puts reviewed rows last; unless ``prior=None``, the segments of the other
        features whose reviews depart from the ranking's prediction move it too
        (``.review_slices``), and the reviews made under this ``method`` calibrate its evidence
        (``params["review_calibration"]``; ``errlens.suspects.review_slices``). With reviews
        the table is ordered by ``posterior`` even with nothing declared.
        ``cause(id)["why"]`` says why a row ranks there.

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
            threshold=threshold, prior=prior, reviews=reviews,
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

        With ``annotator=`` / ``source=`` declared, ``.annotators`` / ``.sources`` give each
        one's estimated noise rate with its 95 % interval, suspects and top confusion.
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
