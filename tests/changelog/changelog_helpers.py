"""Shared helpers for the changelog tests (no fixtures with side effects)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from errlens.changelog.events import canonical, seal


def small_labels(n: int = 40) -> pd.Series:
    """A realistic small label set: tweet-like ids and three sentiment classes."""
    classes = ["negative", "neutral", "positive"]
    return pd.Series([classes[(i * 7) % 3] for i in range(n)],
                     index=pd.Index([f"tw-{i:04d}" for i in range(n)], name="id"))


def last_hash(path: str | Path) -> str:
    """Hash of the last complete line of a log."""
    lines = Path(path).read_bytes().rstrip(b"\n").split(b"\n")
    return json.loads(lines[-1])["hash"]


def append_sealed(path: str | Path, obj: Any) -> None:
    """Append ``obj`` as a correctly hash-chained line (a well-formed but hostile writer).

    ``obj`` may be a dict (written as canonical JSON) or raw text for the body.
    """
    body = obj if isinstance(obj, str) else canonical(obj)
    line, _ = seal(body, last_hash(path))
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def event_lines(path: str | Path) -> list[dict[str, Any]]:
    """Parsed event lines (header excluded)."""
    return [json.loads(x) for x in Path(path).read_text().splitlines()[1:]]
