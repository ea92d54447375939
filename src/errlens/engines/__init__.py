"""Scale-out engines: the slice statistics of an analysis counted in DuckDB or PySpark.

>>> from errlens.engines import LazyAnalysis, ScaleOutError
"""

from errlens.base.facade import ScaleOutError
from errlens.engines.lazy_analysis import LazyAnalysis

__all__ = ["LazyAnalysis", "ScaleOutError"]
