"""Concept slices: terms whose rows fail together, merged into one readable OR-slice.

A single term is often too narrow to name a failure (a sentiment model that fails on tweets
about self-driving cars fails on "driverless", "autonomous", "google car"... each in a few
rows). A concept is a group of candidate terms, each significantly worse than the rest, that
are about the same thing, and its slice is the rows containing **any** of them:
``text mentions driverless, autonomous, cars``, a :class:`~errlens.data.cohort.Cohort` (an
``|`` of :meth:`~errlens.data.cohort.Cohort.contains`) like every slice.

1. Candidates: the terms of :func:`~errlens.slicing.text.table.term_table` whose error rate is
   above the searched rows' with a one-sided Fisher test, Benjamini-Hochberg adjusted at
   ``fdr`` (at most ``max_candidates``, most errors first).
2. Similarity of two candidates: by default the cosine of their **contexts**, the idf-weighted
   counts of the other terms in their rows (second-order co-occurrence: two words of one topic
   seldom share a short text, but share its other words); with ``embeddings`` (one vector per
   row, from the user's model or any encoder) the cosine of their rows' mean vectors, centred.
3. Groups: average-linkage agglomerative clustering (scipy) cut at ``1 - similarity``.
4. Each group of at least ``min_terms`` terms is a slice tested like the term slices (Fisher,
   BH over the groups at ``fdr``); the significant ones are ranked by SliceLine score.

Counting stays sparse (the vocabulary's rows × terms matrix): memory is the candidates'
contexts (candidates × vocabulary), never documents × vocabulary dense.

>>> import errlens as el
>>> texts = ["the sequel was dull", "a remake again", "great cast"] * 30
>>> ev = el.Analysis.from_predictions({"review": texts}, y_true=[1] * 90,
...     y_pred=[0, 0, 1] * 30, text="review")
>>> found = concepts(ev, similarity=0.0)
>>> found.to_frame()[["concept", "n", "errors", "lift"]].values.tolist()
[['review mentions dull, remake', 60, 60, 1.5]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from scipy.stats import hypergeom

from errlens.base.jsonvalue import plain
from errlens.base.stats import wilson_interval
from errlens.data.cohort import Cohort
from errlens.data.evaldata import EvalData
from errlens.slicing import masks
from errlens.slicing.discovery.lattice import score
from errlens.slicing.tables import add_tests
from errlens.slicing.text.table import term_table, text_columns
from errlens.slicing.text.vocabulary import vocabulary

COLUMNS = [
    "concept", "column", "terms", "n_terms", "n", "support", "errors", "error_rate", "ci_low",
    "ci_high", "lift", "score", "p_value", "p_adjusted",
]
MAX_CANDIDATES = 200
"""Candidate terms grouped per text column (the most errors first)."""


@dataclass(frozen=True)
class Concepts:
    """Concept slices found by :func:`concepts`, best (highest SliceLine score) first.

    ``table``: one row per concept: readable ``concept`` text, its text ``column``, its
    ``terms`` (most errors first), ``n`` rows (containing any term) and ``support`` (share of
    the searched rows), ``errors``, ``error_rate`` with a Wilson 95% CI, ``lift`` over the
    searched rows' error rate, SliceLine ``score`` (alpha 0.95), one-sided Fisher ``p_value``
    and its Benjamini-Hochberg ``p_adjusted`` over every group tested.
    """

    table: pd.DataFrame
    base: Cohort | None
    params: dict[str, Any]

    def __len__(self) -> int:
        return len(self.table)

    def to_frame(self) -> pd.DataFrame:
        """The ranked concepts as a DataFrame (a copy), indexed by rank."""
        return self.table.copy()

    def cohort(self, i: int) -> Cohort:
        """The rows of concept ``i`` (rank): an ``|`` of ``contains``, within the searched
        cohort if any."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"concept {i} does not exist: {len(self)} concepts were found")
        row = self.table.iloc[i]
        parts = [Cohort.contains(row["column"], term) for term in row["terms"]]
        cohort = parts[0]
        for part in parts[1:]:
            cohort = cohort | part
        return cohort if self.base is None else self.base & cohort

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data, shaped as ``DiscoveredSlices.to_json()``: each concept is a
        ``slice`` row (``level`` its number of terms, ``group`` its rank) with its cohort."""
        rows = []
        for i, record in enumerate(self.table.to_dict(orient="records")):
            row = {key: plain(value) for key, value in record.items()}
            row.update(rank=i, slice=record["concept"], level=int(record["n_terms"]), group=i,
                       kind="concept", cohort=self.cohort(i).to_json())
            rows.append(row)
        return {"params": {k: plain(v) for k, v in self.params.items()}, "slices": rows}

    def __repr__(self) -> str:
        head = f"Concepts({len(self)} concepts over {self.params['n']:,} rows)"
        shown = self.table[["concept", "n", "error_rate", "lift", "p_adjusted"]]
        return head if not len(self) else f"{head}\n{shown.to_string()}"


def concepts(
    data: EvalData,
    *,
    k: int = 10,
    text: str | Sequence[str] | None = None,
    cohort: Any = None,
    min_df: int | None = None,
    fdr: float = 0.05,
    similarity: float = 0.3,
    min_terms: int = 2,
    embeddings: Any = None,
    max_candidates: int = MAX_CANDIDATES,
) -> Concepts:
    """The top-``k`` concept slices of the text columns ``text`` (all by default) over the
    rows of ``cohort`` (the module docstring says how; ``Analysis.concepts`` documents it)."""
    _check(k=k, fdr=fdr, similarity=similarity, min_terms=min_terms, max_candidates=max_candidates)
    mask = masks.mask(data, cohort)
    if not mask.any():
        raise ValueError("the cohort selects no rows: concepts need rows to search; check it "
                         "with analysis.mask(cohort).sum()")
    vectors = _embeddings(embeddings, data.n)
    errors = data.is_error[mask]
    groups: list[dict[str, Any]] = []
    for column in text_columns(data, text):
        voc = vocabulary(data, column, min_df)
        table = term_table(data, column, cohort=cohort, min_df=min_df, fdr=fdr, sort=None)
        picked = table[table["significant"] & (table["lift"] > 1)]
        picked = picked.sort_values(["errors", "code"], ascending=[False, True])
        codes = picked["code"].to_numpy()[:max_candidates]
        if len(codes) < min_terms:
            continue
        matrix = sp.csc_array(voc.matrix[np.flatnonzero(mask)])
        close = (_context_similarity(matrix, codes) if vectors is None
                 else _vector_similarity(matrix, codes, vectors[mask]))
        for members in _groups(close, similarity, min_terms):
            kept, inside = _pruned(matrix, codes[members], errors, fdr)
            if len(kept) >= min_terms:
                groups.append({"column": column, "terms": [voc.terms[c] for c in kept],
                               "n": int(inside.sum()), "errors": int(errors[inside].sum())})
    return _ranked(groups, k=k, n=int(mask.sum()), total=int(errors.sum()), fdr=fdr,
                   base=masks.to_cohort(data, cohort),
                   params={"k": k, "fdr": fdr, "similarity": similarity,
                           "min_terms": min_terms,
                           "by": "context" if vectors is None else "embeddings"})


def _context_similarity(matrix: sp.csc_array, codes: np.ndarray) -> np.ndarray:
    """Cosine of the candidates' idf-weighted context counts (their own term left out)."""
    n = matrix.shape[0]
    df = np.asarray(matrix.sum(axis=0)).ravel()
    idf = np.log((1 + n) / (1 + df)) + 1
    candidates = sp.csc_array(matrix[:, codes]).astype(np.float64)
    context = sp.csr_array(candidates.T @ matrix.astype(np.float64)).tolil()
    for i, code in enumerate(codes):
        context[i, code] = 0.0
    profiles = sp.csr_array(context) @ sp.diags_array(idf)
    norms = np.sqrt(np.asarray(profiles.multiply(profiles).sum(axis=1)).ravel())
    unit = sp.diags_array(1 / np.maximum(norms, 1e-12)) @ profiles
    return np.asarray((unit @ unit.T).todense())


def _vector_similarity(matrix: sp.csc_array, codes: np.ndarray, vectors: np.ndarray
                       ) -> np.ndarray:
    """Cosine of the candidates' mean row vectors, centred on the searched rows' mean."""
    candidates = sp.csc_array(matrix[:, codes]).astype(np.float64)
    df = np.asarray(candidates.sum(axis=0)).ravel()
    means = np.asarray(candidates.T @ vectors) / np.maximum(df, 1)[:, None]
    means -= vectors.mean(axis=0)
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    unit = means / np.maximum(norms, 1e-12)
    return np.asarray(unit @ unit.T)


def _groups(close: np.ndarray, similarity: float, min_terms: int) -> list[np.ndarray]:
    """Average-linkage clusters of the candidates at cosine ≥ ``similarity``."""
    if len(close) < 2:
        return [np.arange(len(close))] if len(close) >= min_terms else []
    distance = np.clip(1.0 - close, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform((distance + distance.T) / 2, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - similarity, criterion="distance")
    found = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    return [members for members in found if len(members) >= min_terms]


def _pruned(matrix: sp.csc_array, codes: np.ndarray, errors: np.ndarray, fdr: float
            ) -> tuple[list[int], np.ndarray]:
    """A group's terms that each add failing rows: taken by error rate (then errors), a term
    is kept when the rows it adds to those already covered are significantly worse than all
    rows (one-sided Fisher at ``fdr``), so a frequent word that merely co-occurs with the
    topic ("google" beside "driverless") does not dilute the slice. Returns the kept codes
    and the rows they cover."""
    n, total = len(errors), int(errors.sum())
    stats = []
    for code in codes:
        rows = matrix.indices[matrix.indptr[code]:matrix.indptr[code + 1]]
        stats.append((-errors[rows].mean(), -int(errors[rows].sum()), int(code), rows))
    covered = np.zeros(n, dtype=bool)
    kept: list[int] = []
    for *_, code, rows in sorted(stats, key=lambda item: item[:3]):
        new = rows[~covered[rows]]
        if len(new) and hypergeom.sf(int(errors[new].sum()) - 1, n, total, len(new)) <= fdr:
            kept.append(code)
            covered[new] = True
    hits = {code: int(errors[rows].sum()) for *_, code, rows in stats}
    return sorted(kept, key=lambda code: (-hits[code], code)), covered


def _ranked(groups: list[dict[str, Any]], *, k: int, n: int, total: int, fdr: float,
            base: Cohort | None, params: dict[str, Any]) -> Concepts:
    table = pd.DataFrame(groups, columns=["column", "terms", "n", "errors"])
    add_tests(table, n, total, fdr)
    average = total / n if n else 0.0
    size, errs = table["n"].to_numpy(), table["errors"].to_numpy().astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = errs / np.maximum(size, 1)
        low, high = wilson_interval(errs, size)
        lift = rate / average if average else rate * np.nan
    table = table.assign(
        concept=[f"{c} mentions {', '.join(t)}" for c, t in zip(table["column"], table["terms"],
                                                                 strict=True)],
        n_terms=[len(t) for t in table["terms"]], support=size / max(n, 1),
        error_rate=rate, ci_low=low, ci_high=high, lift=lift,
        score=score(size, errs, n=n, average=average, alpha=0.95) if average else rate * np.nan,
    )
    kept = table[table["significant"] & (table["lift"] > 1)]
    kept = kept.sort_values(["score", "n"], ascending=[False, False], kind="stable").head(k)
    kept = kept[COLUMNS].reset_index(drop=True)
    kept.index.name = "rank"
    return Concepts(kept, base, {**params, "n": n, "error_rate": average, "tested": len(table)})


def _embeddings(embeddings: Any, n: int) -> np.ndarray | None:
    if embeddings is None:
        return None
    vectors = np.asarray(embeddings, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != n:
        raise ValueError(f"embeddings must be one vector per row, an ({n}, d) array; got shape "
                         f"{vectors.shape}")
    if not np.isfinite(vectors).all():
        raise ValueError("embeddings hold NaN or infinite values: impute or drop them first")
    return vectors


def _check(*, k: int, fdr: float, similarity: float, min_terms: int, max_candidates: int
           ) -> None:
    for name, value in (("k", k), ("min_terms", min_terms), ("max_candidates", max_candidates)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not 0 < fdr < 1:
        raise ValueError(f"fdr must be in (0, 1), e.g. 0.05; got {fdr!r}")
    if not -1 <= similarity <= 1:
        raise ValueError(f"similarity is a cosine in [-1, 1] (0.3 by default); got {similarity!r}")
