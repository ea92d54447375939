"""One changelog event: its fields, validation, canonical JSON and hash chaining.

An event is one JSON object per line. The line's ``hash`` is
``sha256(previous line's hash + "\\n" + canonical body)``, which chains every line to the
one before it, so any edited, deleted or moved line breaks the chain.

>>> ev = Event(event_id="e1", op="set", sample_id=7, old_label="a", new_label="b",
...            author="ana", timestamp="2026-01-01T00:00:00.000000Z", origin="s1", oseq=1)
>>> line, digest = seal(ev.body(), prev="")
>>> split_line(line.encode())[1] == digest.encode()
True
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from errlens.changelog.errors import ChangelogError

SCHEMA_VERSION = 1
OPS = ("set", "confirm", "skip", "revert", "adjudicate", "comment", "tag", "schema")
LABEL_OPS = ("set", "confirm", "adjudicate")
SAMPLE_OPS = ("set", "confirm", "skip", "adjudicate", "comment")
ROLES = ("annotator", "reviewer", "adjudicator")
HASH_SUFFIX = b',"hash":"'
SUFFIX_LEN = len(HASH_SUFFIX) + 64 + 2


@dataclass(slots=True, eq=False)
class Event:
    """A changelog event (see docs/changelog-format.md for every field); never mutate one."""

    event_id: str
    op: str
    author: str
    timestamp: str
    origin: str
    oseq: int
    sample_id: Any = None
    old_label: Any = None
    new_label: Any = None
    label_field: str = "label"
    role: str = "annotator"
    round: int = 1
    note: str | None = None
    confidence: float | None = None
    time_spent: float | None = None
    cause: dict[str, Any] | None = None
    parents: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    change: dict[str, Any] | None = None
    tag: str | None = None
    clock: dict[str, int] | None = None
    schema_version: int = field(default=SCHEMA_VERSION)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this event, without null or empty fields."""
        out: dict[str, Any] = {"type": "event"}
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if value is None or value == ():
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def body(self) -> str:
        """Canonical JSON of the event (sorted keys, compact), the input of its hash."""
        return canonical(self.to_dict())

    def content_key(self) -> str:
        """What must be equal for two copies of one event id to be the same event."""
        return self.body()


_FIELD_NAMES = tuple(f.name for f in fields(Event))


def canonical(obj: Any) -> str:
    """Sorted-key compact JSON, UTF-8 text, NaN refused.

    >>> canonical({"b": 1, "a": "é"})
    '{"a":"é","b":1}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def chain_hash(prev: str, body: str | bytes) -> str:
    """``sha256(prev + "\\n" + body)`` as hex."""
    data = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(prev.encode() + b"\n" + data).hexdigest()


def seal(body: str, prev: str) -> tuple[str, str]:
    """Append the chained hash to a canonical body; returns ``(line, hash)`` (no newline)."""
    digest = chain_hash(prev, body)
    return f'{body[:-1]},"hash":"{digest}"}}', digest


def split_line(line: bytes) -> tuple[bytes, bytes] | None:
    """Split a sealed line into ``(body, hash)``; None if it does not end with a hash."""
    if len(line) < SUFFIX_LEN + 2 or line[-SUFFIX_LEN:-66] != HASH_SUFFIX:
        return None
    return line[:-SUFFIX_LEN] + b"}", line[-66:-2]


def new_event_id() -> str:
    """A ULID-like id: 12 hex digits of milliseconds, then 80 random bits (sortable by time)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def utc_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------- validation
def is_label_value(value: Any) -> bool:
    """Labels are JSON scalars: strings, integers, finite floats or booleans."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int, bool))


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 1


def _is_number(value: Any, high: float) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 <= value <= high and value != math.inf)  # JSON has no infinity


def problem(ev: Event) -> str | None:
    """The first thing wrong with the event's fields, or None (messages built only on error)."""
    op = ev.op
    if op not in OPS:
        return f"unknown operation {op!r}; use one of {', '.join(OPS)}"
    if ev.schema_version != SCHEMA_VERSION:
        return (f"event schema version {ev.schema_version!r} is not supported (this errlens "
                f"reads version {SCHEMA_VERSION}); upgrade errlens")
    if not isinstance(ev.event_id, str) or not 0 < len(ev.event_id) <= 64:
        return "event_id must be a non-empty string of at most 64 characters"
    if not isinstance(ev.author, str) or not ev.author.strip():
        return "author must be a non-empty name, e.g. author='ana'"
    if ev.role not in ROLES:
        return f"role {ev.role!r} is unknown; use one of {', '.join(ROLES)}"
    if not _is_count(ev.round):
        return f"round must be a positive integer, got {ev.round!r}"
    if not _is_time(ev.timestamp):
        return (f"timestamp {ev.timestamp!r} must be ISO 8601 UTC text like "
                f"'2026-01-31T12:00:00.000000Z'")
    if not isinstance(ev.origin, str) or not ev.origin:
        return "origin must be a non-empty string"
    if not _is_count(ev.oseq):
        return f"oseq must be a positive integer, got {ev.oseq!r}"
    if not isinstance(ev.label_field, str):
        return "label_field must be a string"
    if ev.note is not None and not isinstance(ev.note, str):
        return "note must be text"
    if ev.confidence is not None and not _is_number(ev.confidence, 1.0):
        return f"confidence must be a number between 0 and 1, got {ev.confidence!r}"
    if ev.time_spent is not None and not _is_number(ev.time_spent, math.inf):
        return f"time_spent must be a finite number of seconds >= 0, got {ev.time_spent!r}"
    if ev.cause is not None and not isinstance(ev.cause, dict):
        return "cause must be a JSON object, e.g. {'detector': 'cleanlab', 'score': 0.93}"
    for name in ("parents", "refs"):
        value = getattr(ev, name)
        if not isinstance(value, tuple) or not all(isinstance(p, str) for p in value):
            return f"{name} must be a list of event ids"
    for name in ("old_label", "new_label"):
        value = getattr(ev, name)
        if value is not None and not is_label_value(value):
            return f"{name} {value!r} must be a class name (text, integer, number or boolean)"
    return _op_problem(ev)


def _op_problem(ev: Event) -> str | None:
    op = ev.op
    if op in SAMPLE_OPS and (not isinstance(ev.sample_id, (str, int))
                             or isinstance(ev.sample_id, bool)):
        return f"a {op!r} event needs a sample_id (text or integer), got {ev.sample_id!r}"
    if op in ("set", "adjudicate") and ev.new_label is None:
        return f"a {op!r} event needs new_label"
    if op == "comment" and not ev.note:
        return "a comment needs text: store.comment(id, 'why')"
    if op == "revert" and len(ev.refs) != 1:
        return "a revert event names exactly one event in refs"
    if op == "tag":
        if not isinstance(ev.tag, str) or not ev.tag.strip():
            return "a tag needs a name"
        if not isinstance(ev.clock, dict) or not all(
                isinstance(k, str) and type(v) is int for k, v in ev.clock.items()):
            return "a tag needs a clock mapping origin -> count"
    if op == "schema" and (not isinstance(ev.change, dict) or "action" not in ev.change):
        return "a schema event needs a change object with an 'action'"
    return None


def _is_time(value: Any) -> bool:
    if not isinstance(value, str) or not value.endswith("Z"):
        return False
    try:
        datetime.fromisoformat(value[:-1])
    except ValueError:
        return False
    return True


def validate(ev: Event) -> Event:
    """Check field types and per-operation requirements; returns ``ev`` or raises.

    >>> validate(Event(event_id="e", op="fly", author="a", timestamp="x", origin="s", oseq=1))
    Traceback (most recent call last):
    errlens.changelog.errors.ChangelogError: unknown operation 'fly'; use one of set, confirm, ...
    """
    message = problem(ev)
    if message is not None:
        raise ChangelogError(message)
    return ev


_FIELDS = set(_FIELD_NAMES)


_ALLOWED = _FIELDS | {"type", "batch"}  # batch: a line's place in its write, not the event's
_REQUIRED = frozenset({"event_id", "op", "author", "timestamp", "origin", "oseq"})


def event_from_dict(obj: Any) -> Event:
    """Build and validate an event from its parsed JSON object (without ``hash``)."""
    if not isinstance(obj, dict):
        raise ChangelogError("an event line must be a JSON object")
    keys = obj.keys()
    if not keys <= _ALLOWED:
        raise ChangelogError(f"unknown field(s) {sorted(keys - _ALLOWED)}; this errlens reads "
                             f"schema version {SCHEMA_VERSION}")
    if not keys >= _REQUIRED:
        raise ChangelogError(f"missing field(s) {sorted(_REQUIRED - keys)}")
    obj.pop("batch", None)  # [k, n] of a write of several lines (format section 5)
    if obj.pop("type", "event") != "event":
        raise ChangelogError("only the first line may be a header; this line is not an event")
    for name in ("parents", "refs"):
        value = obj.get(name)
        if value is not None:
            if not isinstance(value, list):
                raise ChangelogError(f"{name} must be a list of event ids")
            obj[name] = tuple(value)
    return validate(Event(**obj))
