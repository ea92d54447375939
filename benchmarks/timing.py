"""Wall-clock helper shared by the benchmark scripts (run as `python benchmarks/<name>.py`)."""

from __future__ import annotations

import statistics
import time
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
