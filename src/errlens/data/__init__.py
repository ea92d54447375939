"""Layer 2, the data contract: the evaluation data (:class:`EvalData`, with its typed
:class:`DataCache`) and :class:`Cohort`, the predicate tree that selects its rows.

Nothing here computes a result or imports the layers above (slicing, suspects, engines, the
facades); those take these objects as their input.
"""

from errlens.data.cohort import Cohort
from errlens.data.evaldata import TASKS, DataCache, EvalData, ProbaSource, Task, class_codes

__all__ = ["TASKS", "Cohort", "DataCache", "EvalData", "ProbaSource", "Task", "class_codes"]
