"""Wall-clock helpers shared by the benchmark scripts (run as `python benchmarks/<name>.py`)."""

from __future__ import annotations

import importlib
import pkgutil
import statistics
import time
import warnings
from collections.abc import Callable


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeat`` calls, in milliseconds.

    >>> timed(lambda: None, 3) < 1.0
    True
    """
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def preload(package: str = "errlens") -> float:
    """Import every module of ``package`` (and so what they import: scikit-learn, SciPy,
    cleanlab, anywidget...), so that no timer counts a first-use import; the seconds it took.

    Without cached bytecode these imports take ~2.8 s, more than most steps they would hide in.

    >>> preload("json") >= 0
    True
    """
    start = time.perf_counter()
    root = importlib.import_module(package)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moved modules' shims warn on import
        for info in pkgutil.walk_packages(getattr(root, "__path__", []), f"{package}."):
            try:
                importlib.import_module(info.name)
            except ImportError:  # an optional dependency (Spark, Label Studio) not installed
                continue
    return time.perf_counter() - start
