"""A progress bar while a big log is read line by line (a first open or ``verify`` of 1M
events takes ~10 s here).

It appears only for at least :data:`MIN_BYTES` to read, and only where someone watches:
tqdm's bar in a notebook, a text bar on an interactive terminal's stderr, nothing when
stderr is a file or a pipe. It is removed once the read is done.

>>> with reading("labels.jsonl", 1_000) as advance:  # small: no bar
...     advance(1_000)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Reads shorter than this (~130k events, about a second) show no bar.
MIN_BYTES = 64 << 20


@contextmanager
def reading(path: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(done)``, to call with the bytes read so far out of ``total``."""
    if total < MIN_BYTES:
        yield _ignore
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, leave=False,
              desc=f"reading {os.path.basename(path)}", disable=None) as bar:
        yield lambda done: bar.update(min(done, total) - bar.n)


def _ignore(done: int) -> None:
    """Nothing to show for a small read."""
