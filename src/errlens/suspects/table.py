"""The ranked suspects table and the JSON-able cause of each row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from errlens.suspects.review_slices import ReviewMoves


def fingerprint(array: np.ndarray) -> str:
    """Short content hash of an array (dtype, shape and bytes), to record which scores were used.

    >>> fingerprint(np.array([[0.25, 0.75]]))
    'sha256:9d58fd2263771d17'
    """
    data = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{data.dtype.str}{data.shape}".encode())
    digest.update(data.data)
    return "sha256:" + digest.hexdigest()[:16]


@dataclass(frozen=True)
class Suspects:
    """Ranked suspect samples, most suspicious first, and why each one was looked at.

    ``table`` is indexed by sample id with columns ``given``, ``predicted``, ``p_given``
    (probability of the given label; ``residual`` for regression), ``score``, ``flagged`` and
    ``rank`` (1 = most suspicious). Flagged rows come first, ordered by score. What every row
    shares (method, parameters, score kind, fingerprint of the probabilities used) is stored once;
    :meth:`cause` assembles the JSON-able record a relabel event keeps.

    >>> import errlens as el
    >>> ev = el.Analysis.from_predictions({"x": [0, 1, 2, 3]}, y_true=[0, 0, 1, 1],
    ...     proba=[[.9, .1], [.2, .8], [.3, .7], [.2, .8]], proba_out_of_fold=True)
    >>> s = ev.suspects("predicted_neq_given")
    >>> s.flagged_ids.tolist(), s.cause(1)["score"]
    ([1], 0.2)
    """

    table: pd.DataFrame
    method: str
    params: dict[str, Any]
    score_kind: str
    fingerprint: str
    meta: dict[str, Any] = field(default_factory=dict)
    #: The group priors the ranking used (``suspects.priors.GroupNoise``), for :meth:`cause`.
    priors: tuple[Any, ...] = ()
    #: What else reviews moved (``suspects.review_slices.ReviewMoves``: slices, the detector's
    #: calibration), for :meth:`cause` and :attr:`review_slices`.
    moves: ReviewMoves | None = None

    @property
    def flagged_ids(self) -> pd.Index:
        """Ids of the flagged rows, most suspicious first."""
        return self.table.index[self.table["flagged"].to_numpy()]

    def cause(self, id: Any) -> dict[str, Any]:
        """JSON-able reason row ``id`` was ranked, for a relabel event to record.

        Raises ``KeyError`` if ``id`` is not in this table (e.g. outside the cohort or ``top``).
        """
        if id not in self.table.index:
            raise KeyError(
                f"sample id {id!r} is not in this suspects table ({len(self.table)} rows); "
                "call suspects() without cohort= / top= to rank every row"
            )
        row = self.table.loc[id]
        prior: dict[str, Any] = {}
        if "posterior" in self.table.columns:
            why = [noise.describe(row[noise.name]) for noise in self.priors]
            why += self.moves.why(id) if self.moves is not None else []
            prior = {"prior": float(row["prior"]), "posterior": float(row["posterior"]),
                     "why": "; ".join([*why, f"p(given) {row['p_given']:.2f}"])}
        return {
            "method": self.method,
            "params": dict(self.params),
            "score_kind": self.score_kind,
            "score": float(row["score"]),
            "flagged": bool(row["flagged"]),
            "rank": int(row["rank"]),
            "ranked_rows": len(self.table),
            "fingerprint": self.fingerprint,
            **prior,
            **self.meta,
        }

    @property
    def review_slices(self) -> pd.DataFrame:
        """The segments reviews moved the ranking by (feature, segment, reviews, relabels,
        predicted precision, p-values, ``moved``, ``shift`` in prior log-odds); empty without
        reviews or where none departed from the ranking's prediction."""
        moves = ReviewMoves(self.table.index) if self.moves is None else self.moves
        return moves.table()

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return (
            f"<Suspects {self.method}: {int(self.table['flagged'].sum()):,} flagged of "
            f"{len(self.table):,} rows, score {self.score_kind}>"
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.__repr__()[1:-1]}</p>" + self.table.head(20).to_html()


def ranked_table(
    ids: pd.Index,
    columns: dict[str, np.ndarray],
    score: np.ndarray,
    flagged: np.ndarray,
    *,
    keep: np.ndarray,
    higher_is_worse: bool,
    top: int | None,
    first: np.ndarray | None = None,
    key: np.ndarray | None = None,
) -> pd.DataFrame:
    """Rows in ``keep``, flagged first then by score (ties in row order), cut to ``top``.
    ``first`` puts other rows first instead; ``key`` orders by another array (ascending)."""
    if key is None:
        key = -score if higher_is_worse else score
    ahead = flagged if first is None else first
    parts = [np.flatnonzero(keep & ahead), np.flatnonzero(keep & ~ahead)]
    order = np.concatenate([rows[argsort_ties_in_order(key[rows])] for rows in parts])
    if top is not None:
        if not isinstance(top, (int, np.integer)) or top < 1:
            raise ValueError(f"top must be a positive integer, got {top!r}")
        order = order[:top]
    data = {name: values[order] for name, values in columns.items()}
    data |= {"score": score[order], "flagged": flagged[order]}
    data["rank"] = np.arange(1, len(order) + 1)
    return pd.DataFrame(data, index=ids[order], copy=False)


def argsort_ties_in_order(values: np.ndarray) -> np.ndarray:
    """A stable argsort, fast when there are no ties (SIMD quicksort is ~4× faster than
    the stable merge sort; tied scores, as with kNN votes, fall back to the latter)."""
    order = np.argsort(values)
    ordered = values[order]
    if (ordered[1:] == ordered[:-1]).any():
        return np.argsort(values, kind="stable")
    return order
