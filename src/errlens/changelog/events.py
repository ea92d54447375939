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
import re
import time
from collections.abc import Iterable
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
#: The last bytes of every line, after the hash: checked exactly, so no byte escapes it.
CLOSING = b'"}'
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
    """Append the chained hash to a canonical body; returns ``(line, hash)`` (no newline).

    Refuses (ChangelogError) a body UTF-8 cannot encode or a line longer than
    ``MAX_LINE_BYTES``, which no reader would accept.
    """
    try:
        data = body.encode()
    except UnicodeEncodeError as exc:
        raise ChangelogError(f"text {exc.object[exc.start:exc.end]!r} is not valid Unicode (a "
                             f"lone surrogate); fix the text before writing it") from None
    if len(data) + SUFFIX_LEN > MAX_LINE_BYTES:
        raise ChangelogError(f"a line of {len(data) + SUFFIX_LEN:,} bytes is too long (at most "
                             f"{MAX_LINE_BYTES:,}); shorten its note, cause or guidelines")
    digest = hashlib.sha256(prev.encode() + b"\n" + data).hexdigest()
    return f'{body[:-1]},"hash":"{digest}"}}', digest


def split_line(line: bytes) -> tuple[bytes, bytes] | None:
    """Split a sealed line into ``(body, hash)``; None if it does not end with a hash
    member and the exact closing bytes ``"}``."""
    if len(line) < SUFFIX_LEN + 2 or line[-SUFFIX_LEN:-66] != HASH_SUFFIX or \
            line[-2:] != CLOSING:
        return None
    return line[:-SUFFIX_LEN] + b"}", line[-66:-2]


def new_event_id() -> str:
    """A ULID-like id: 12 hex digits of milliseconds, then 80 random bits (sortable by time)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def utc_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------- rules
# One definition of what a valid event is, for writers (validate) and readers alike: the
# column checks of a bulk read (column_checks.py) use these predicates and bounds, and only
# ever flag more rows, which are then checked here event by event.

#: The integers of a field (``round``, ``oseq``, sample ids, labels): 64 bits, signed.
MIN_INT, MAX_INT = -(1 << 63), (1 << 63) - 1
#: The integers orjson reads exactly, e.g. in a ``cause`` (it reads others as floats).
MAX_JSON_INT = (1 << 64) - 1
#: How deep lists and objects may nest in a ``cause`` or ``change`` a writer writes. Readers
#: refuse lines nested deeper than 1024 levels (the parser's limit), so both are safe.
MAX_DEPTH = 32
#: The longest line (header or event, in bytes) a writer writes and a reader reads.
MAX_LINE_BYTES = 1 << 24
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCALARS = (str, int, float, bool, type(None))


def is_text(value: Any, low: int = 0, high: int | None = None) -> bool:
    """Text of ``low`` to ``high`` characters that UTF-8 can encode (no lone surrogate)."""
    return (isinstance(value, str) and low <= len(value) and (high is None or len(value) <= high)
            and (value.isascii() or _SURROGATE.search(value) is None))


def is_int(value: Any) -> bool:
    """A 64-bit integer (booleans are not integers here)."""
    return type(value) is int and MIN_INT <= value <= MAX_INT


def is_count(value: Any) -> bool:
    """An integer from 1 to ``MAX_INT`` (``round``, ``oseq``)."""
    return type(value) is int and 1 <= value <= MAX_INT


def is_number(value: Any, high: float) -> bool:
    """A finite number from 0 to ``high``."""
    return ((type(value) is float or is_int(value)) and 0 <= value <= high
            and value != math.inf)  # JSON has no infinity


def is_label_value(value: Any) -> bool:
    """Labels are JSON scalars: text, 64-bit integers, finite floats or booleans."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, bool) or is_int(value) or is_text(value)


def is_sample_id(value: Any) -> bool:
    """Sample ids are text or 64-bit integers."""
    return is_int(value) or is_text(value)


def is_time(value: Any) -> bool:
    """UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (years 0001 to 9999), the one form the
    tables of events parse as a column."""
    if not isinstance(value, str) or _TIME.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value[:-1])
    except ValueError:
        return False
    return True


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", re.ASCII)


def json_problem(value: Any, name: str) -> str | None:
    """What keeps ``value`` from being written as JSON and read back the same (None if
    nothing): nesting deeper than ``MAX_DEPTH``, keys that are not text, integers beyond
    64 bits, NaN or infinity, text with a lone surrogate, other types.

    >>> json_problem({"detector": "cleanlab", "scores": [0.5, float("nan")]}, "cause")
    'cause holds nan: JSON has only finite numbers'
    """
    todo: list[tuple[Any, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list | tuple):
            if depth >= MAX_DEPTH:
                return f"{name} nests lists or objects more than {MAX_DEPTH} levels deep"
            if isinstance(item, dict):
                bad = next((k for k in item if not is_text(k)), _OK)
                if bad is not _OK:
                    return f"{name} has the key {bad!r}; keys must be text"
                todo += [(v, depth + 1) for v in item.values()]
            else:
                todo += [(v, depth + 1) for v in item]
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{name} holds {item!r}: JSON has only finite numbers"
        elif isinstance(item, str):
            if not is_text(item):
                return f"{name} holds text that is not valid Unicode ({item!r})"
        elif isinstance(item, int) and not isinstance(item, bool) and \
                not MIN_INT <= item <= MAX_JSON_INT:
            return f"{name} holds the integer {item}, beyond 64 bits; store it as text"
        elif not isinstance(item, _SCALARS):
            return f"{name} holds a {type(item).__name__}; use text, numbers, lists and dicts"
    return None


def id_list(value: Any, name: str) -> tuple[str, ...]:
    """``parents`` or ``refs`` given to a writer, as a tuple of event ids.

    >>> id_list(5, "parents")
    Traceback (most recent call last):
    errlens.changelog.errors.ChangelogError: parents must be a list of event ids, got 5
    """
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ChangelogError(f"{name} must be a list of event ids, got {value!r}")
    return tuple(value)


_OK = object()


def problem(ev: Event) -> str | None:
    """The first thing wrong with the event's fields, or None (messages built only on error)."""
    op = ev.op
    if op not in OPS:
        return f"unknown operation {op!r}; use one of {', '.join(OPS)}"
    if ev.schema_version != SCHEMA_VERSION:
        return (f"event schema version {ev.schema_version!r} is not supported (this errlens "
                f"reads version {SCHEMA_VERSION}); upgrade errlens")
    if not is_text(ev.event_id, 1, 64):
        return "event_id must be a non-empty string of at most 64 characters"
    if not is_text(ev.author) or not ev.author.strip():
        return (f"author must be a non-empty name in valid Unicode, e.g. author='ana', got "
                f"{ev.author!r}")
    if ev.role not in ROLES:
        return f"role {ev.role!r} is unknown; use one of {', '.join(ROLES)}"
    if not is_count(ev.round):
        return f"round must be a positive integer up to {MAX_INT}, got {ev.round!r}"
    if not is_time(ev.timestamp):
        return (f"timestamp {ev.timestamp!r} must be ISO 8601 UTC text like "
                f"'2026-01-31T12:00:00.000000Z'")
    if not is_text(ev.origin, 1):
        return "origin must be a non-empty string"
    if not is_count(ev.oseq):
        return f"oseq must be a positive integer up to {MAX_INT}, got {ev.oseq!r}"
    if not is_text(ev.label_field):
        return "label_field must be a string"
    if ev.note is not None and not is_text(ev.note):
        return f"note must be text (valid Unicode), got {ev.note!r}"
    if ev.confidence is not None and not is_number(ev.confidence, 1.0):
        return f"confidence must be a number between 0 and 1, got {ev.confidence!r}"
    if ev.time_spent is not None and not is_number(ev.time_spent, math.inf):
        return f"time_spent must be a finite number of seconds >= 0, got {ev.time_spent!r}"
    if ev.cause is not None and not isinstance(ev.cause, dict):
        return "cause must be a JSON object, e.g. {'detector': 'cleanlab', 'score': 0.93}"
    for name in ("parents", "refs"):
        value = getattr(ev, name)
        if not isinstance(value, tuple) or not all(is_text(p) for p in value):
            return f"{name} must be a list of event ids"
    for name in ("old_label", "new_label"):
        value = getattr(ev, name)
        if value is not None and not is_label_value(value):
            return f"{name} {value!r} must be a class name (text, integer, number or boolean)"
    return _op_problem(ev)


def _op_problem(ev: Event) -> str | None:
    op = ev.op
    if op in SAMPLE_OPS and not (is_sample_id(ev.sample_id) and type(ev.sample_id) is not bool):
        return (f"a {op!r} event needs a sample_id (text or a 64-bit integer), got "
                f"{ev.sample_id!r}")
    if op in ("set", "adjudicate") and ev.new_label is None:
        return f"a {op!r} event needs new_label"
    if op == "comment" and not ev.note:
        return "a comment needs text: store.comment(id, 'why')"
    if op == "revert" and len(ev.refs) != 1:
        return "a revert event names exactly one event in refs"
    if op == "tag":
        if not is_text(ev.tag) or not str(ev.tag).strip():
            return "a tag needs a name"
        if not isinstance(ev.clock, dict) or not all(
                is_text(k) and is_int(v) for k, v in ev.clock.items()):
            return "a tag needs a clock mapping origin -> count"
    if op == "schema" and (not isinstance(ev.change, dict) or "action" not in ev.change):
        return "a schema event needs a change object with an 'action'"
    return None


def _nested_problem(ev: Event) -> str | None:
    """The cause and a schema change must be JSON every reader reads back the same (readers
    get these values from the parser, whose rules are looser: see ``json_problem``)."""
    for name in ("cause", "change"):
        value = getattr(ev, name)
        if value is not None:
            found = json_problem(value, name)
            if found is not None:
                return found
    return None


def validate(ev: Event) -> Event:
    """Check an event before it is written: the field rules readers apply
    (:func:`problem`), and that its cause or change reads back as written; returns ``ev``
    or raises.

    >>> validate(Event(event_id="e", op="fly", author="a", timestamp="x", origin="s", oseq=1))
    Traceback (most recent call last):
    errlens.changelog.errors.ChangelogError: unknown operation 'fly'; use one of set, confirm, ...
    """
    message = problem(ev) or _nested_problem(ev)
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
    ev = Event(**obj)
    message = problem(ev)
    if message is not None:
        raise ChangelogError(message)
    return ev
