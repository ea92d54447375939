"""Class-level label health from confident learning's estimated joint of (given, true) labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from errlens.suspects.confident import ConfidentLearning


@dataclass(frozen=True)
class LabelHealth:
    """Per-class estimated noise and the likely confusions (given → probable true label).

    ``classes``: per given class, ``support``, ``estimated_noise_rate`` (share of the class whose
    true label is probably another one), ``estimated_mislabeled`` (count), ``likely_true`` (the
    most likely other true class) and ``likely_true_rate``. ``confusions``: every off-diagonal
    cell with a non-zero estimate, largest first. ``joint``: the estimated joint distribution
    (rows = given, columns = true), as in ``cleanlab.count.estimate_joint``.
    """

    classes: pd.DataFrame
    confusions: pd.DataFrame
    joint: pd.DataFrame
    #: Per annotator / per source (when declared with ``annotator=`` / ``source=``): ``n``,
    #: ``suspects``, ``estimated_errors``, ``noise_rate`` with ``ci_low`` / ``ci_high``,
    #: the shrunk ``prior`` and the top confusion ``given`` → ``likely_true``
    #: (``confusion_count`` rows); see ``errlens.suspects.priors.group_noise``.
    annotators: pd.DataFrame | None = None
    sources: pd.DataFrame | None = None

    def _repr_html_(self) -> str:
        parts = [self.classes.to_html(), self.confusions.head(10).to_html()]
        for title, table in (("Annotators", self.annotators), ("Sources", self.sources)):
            if table is not None:
                parts.append(f"<h4>{title}</h4>" + table.to_html())
        return "".join(parts)


def label_health(cl: ConfidentLearning, class_values: list[Any]) -> LabelHealth:
    """Summarise the calibrated confident joint of ``cl`` per class.

    >>> P = np.array([[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.1, .9], [.85, .15]])
    >>> h = label_health(ConfidentLearning(np.array([0, 0, 0, 1, 1, 1]), P), ["a", "b"])
    >>> h.classes["estimated_noise_rate"].round(3).tolist()
    [0.0, 0.333]
    """
    return joint_health(cl.confident_joint, cl.label_counts, class_values)


def joint_health(confident_joint: np.ndarray, label_counts: np.ndarray,
                 class_values: list[Any]) -> LabelHealth:
    """:func:`label_health` of a calibrated ``confident_joint`` (given x true) and the count of
    rows given each class (what an engine's GROUP BY returns: no row needed).

    >>> joint_health(np.array([[3, 0], [1, 2]]), np.array([3, 3]), ["a", "b"]).confusions[
    ...     ["given", "probable_true", "estimated_count"]].values.tolist()
    [['b', 'a', 1]]
    """
    k = len(class_values)
    counts = np.asarray(confident_joint).astype(np.float64)
    joint = counts / np.clip(counts.sum(), a_min=1e-100, a_max=None)
    per_given = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = counts / per_given[:, None]
    off = rates.copy()
    np.fill_diagonal(off, -1.0)
    likely = off.argmax(axis=1)
    classes = pd.DataFrame(
        {
            "support": np.asarray(label_counts),
            "estimated_noise_rate": 1 - np.diagonal(rates),
            "estimated_mislabeled": (per_given - np.diagonal(counts)).astype(np.int64),
            "likely_true": pd.Series(
                [class_values[j] if off[i, j] > 0 else None for i, j in enumerate(likely)],
                dtype=object,
            ).to_numpy(),
            "likely_true_rate": off[np.arange(k), likely].clip(min=0),
        },
        index=pd.Index(class_values, name="given"),
    )
    given, true = np.nonzero(~np.eye(k, dtype=bool) & (counts > 0))
    order = np.argsort(-counts[given, true], kind="stable")
    given, true = given[order], true[order]
    confusions = pd.DataFrame(
        {
            "given": [class_values[g] for g in given],
            "probable_true": [class_values[t] for t in true],
            "estimated_count": counts[given, true].astype(np.int64),
            "share_of_given": rates[given, true],
            "joint": joint[given, true],
        }
    )
    joint_frame = pd.DataFrame(
        joint,
        index=pd.Index(class_values, name="given"),
        columns=pd.Index(class_values, name="true"),
    )
    return LabelHealth(classes, confusions, joint_frame)
