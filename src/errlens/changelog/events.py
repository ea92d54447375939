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
_SUFFIX_LEN = len(HASH_SUFFIX) + 64 + 2


@dataclass(frozen=True, slots=True)
class Event:
    """An immutable changelog event (see docs/changelog-format.md for every field)."""

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
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == ():
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def body(self) -> str:
        """Canonical JSON of the event (sorted keys, compact), the input of its hash."""
        return canonical(self.to_dict())

    def content_key(self) -> str:
        """What must be equal for two copies of one event id to be the same event."""
        return self.body()


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
    if len(line) < _SUFFIX_LEN + 2 or line[-_SUFFIX_LEN:-66] != HASH_SUFFIX:
        return None
    return line[:-_SUFFIX_LEN] + b"}", line[-66:-2]


def new_event_id() -> str:
    """A ULID-like id: 12 hex digits of milliseconds, then 80 random bits (sortable by time)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def utc_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------- validation
def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ChangelogError(message)


def is_label_value(value: Any) -> bool:
    """Labels are JSON scalars: strings, integers, finite floats or booleans."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int, bool))


def _parse_time(value: Any) -> None:
    _check(isinstance(value, str) and value.endswith("Z"),
           f"timestamp {value!r} must be UTC text like '2026-01-31T12:00:00.000000Z'")
    try:
        datetime.fromisoformat(value[:-1])
    except ValueError:
        raise ChangelogError(f"timestamp {value!r} is not an ISO 8601 UTC time") from None


def validate(ev: Event) -> Event:
    """Check field types and per-operation requirements; returns ``ev`` or raises.

    >>> validate(Event(event_id="e", op="fly", author="a", timestamp="x", origin="s", oseq=1))
    Traceback (most recent call last):
    errlens.changelog.errors.ChangelogError: unknown operation 'fly'; use one of set, confirm, ...
    """
    _check(ev.op in OPS, f"unknown operation {ev.op!r}; use one of {', '.join(OPS)}")
    _check(ev.schema_version == SCHEMA_VERSION,
           f"event schema version {ev.schema_version!r} is not supported (this errlens reads "
           f"version {SCHEMA_VERSION}); upgrade errlens")
    _check(isinstance(ev.event_id, str) and 0 < len(ev.event_id) <= 64,
           "event_id must be a non-empty string of at most 64 characters")
    _check(isinstance(ev.author, str) and ev.author.strip() != "",
           "author must be a non-empty name, e.g. author='ana'")
    _check(ev.role in ROLES, f"role {ev.role!r} is unknown; use one of {', '.join(ROLES)}")
    _check(isinstance(ev.round, int) and not isinstance(ev.round, bool) and ev.round >= 1,
           f"round must be a positive integer, got {ev.round!r}")
    _parse_time(ev.timestamp)
    _check(isinstance(ev.origin, str) and ev.origin != "", "origin must be a non-empty string")
    _check(isinstance(ev.oseq, int) and not isinstance(ev.oseq, bool) and ev.oseq >= 1,
           f"oseq must be a positive integer, got {ev.oseq!r}")
    _check(isinstance(ev.label_field, str), "label_field must be a string")
    _check(ev.note is None or isinstance(ev.note, str), "note must be text")
    if ev.confidence is not None:
        _check(isinstance(ev.confidence, (int, float)) and not isinstance(ev.confidence, bool)
               and 0 <= ev.confidence <= 1,
               f"confidence must be a number between 0 and 1, got {ev.confidence!r}")
    if ev.time_spent is not None:
        _check(isinstance(ev.time_spent, (int, float)) and not isinstance(ev.time_spent, bool)
               and math.isfinite(ev.time_spent) and ev.time_spent >= 0,
               f"time_spent must be a number of seconds >= 0, got {ev.time_spent!r}")
    _check(ev.cause is None or isinstance(ev.cause, dict),
           "cause must be a JSON object, e.g. {'detector': 'cleanlab', 'score': 0.93}")
    for name in ("parents", "refs"):
        value = getattr(ev, name)
        _check(isinstance(value, tuple) and all(isinstance(p, str) for p in value),
               f"{name} must be a list of event ids")
    for name in ("old_label", "new_label"):
        value = getattr(ev, name)
        _check(value is None or is_label_value(value),
               f"{name} {value!r} must be a class name (text, integer, number or boolean)")
    if ev.op in SAMPLE_OPS:
        _check(isinstance(ev.sample_id, (str, int)) and not isinstance(ev.sample_id, bool),
               f"a {ev.op!r} event needs a sample_id (text or integer), got {ev.sample_id!r}")
    if ev.op in ("set", "adjudicate"):
        _check(ev.new_label is not None, f"a {ev.op!r} event needs new_label")
    if ev.op == "comment":
        _check(bool(ev.note), "a comment needs text: store.comment(id, 'why')")
    if ev.op == "revert":
        _check(len(ev.refs) == 1, "a revert event names exactly one event in refs")
    if ev.op == "tag":
        _check(isinstance(ev.tag, str) and ev.tag.strip() != "", "a tag needs a name")
        _check(isinstance(ev.clock, dict)
               and all(isinstance(k, str) and isinstance(v, int) for k, v in ev.clock.items()),
               "a tag needs a clock mapping origin -> count")
    if ev.op == "schema":
        _check(isinstance(ev.change, dict) and "action" in ev.change,
               "a schema event needs a change object with an 'action'")
    return ev


_FIELDS = {f.name for f in fields(Event)}


def event_from_dict(obj: Any) -> Event:
    """Build and validate an event from its parsed JSON object (``hash`` and ``type`` ignored)."""
    _check(isinstance(obj, dict), "an event line must be a JSON object")
    unknown = set(obj) - _FIELDS - {"type", "hash"}
    _check(not unknown, f"unknown field(s) {sorted(unknown)}; this errlens reads schema "
                        f"version {SCHEMA_VERSION}")
    missing = {"event_id", "op", "author", "timestamp", "origin", "oseq"} - set(obj)
    _check(not missing, f"missing field(s) {sorted(missing)}")
    kwargs = {k: v for k, v in obj.items() if k in _FIELDS}
    for name in ("parents", "refs"):
        if name in kwargs:
            value = kwargs[name]
            _check(isinstance(value, list), f"{name} must be a list of event ids")
            kwargs[name] = tuple(value)
    try:
        ev = Event(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded by the field checks above
        raise ChangelogError(str(exc)) from None
    return validate(ev)
