"""The documented home of :class:`Cohort` (``from errlens.slicing.cohort import Cohort``).

The predicate tree lives in :mod:`errlens.data.cohort` (the data layer) and its evaluation over
in-memory rows in :mod:`errlens.slicing.masks`; this module re-exports both, without a
warning, since notebooks and docs import Cohort from here (``el.Cohort`` is the same class).

>>> import errlens as el
>>> Cohort is el.Cohort
True
"""

from errlens.data.cohort import KINDS, MAX_DEPTH, OPS, Cohort
from errlens.slicing.masks import to_cohort

__all__ = ["KINDS", "MAX_DEPTH", "OPS", "Cohort", "to_cohort"]
