"""Replaying events into label state: per-sample heads, conflicts, reverts, tags.

Each label-bearing event (set, confirm, adjudicate, or a revert that restores a label) lists
as ``parents`` the label events its author had seen on that sample. The sample's *heads* are
the label events no later event names as a parent. One head, or heads that agree, give the
current label; heads that disagree are a **conflict**: the sample keeps the label of the heads'
latest common ancestor (the last state every side had seen; else its original label) until
an adjudicate event names every head as a parent.

>>> from errlens.changelog.schema import LabelSchema
>>> from errlens.changelog.events import Event
>>> r = Replay(LabelSchema.from_classes(["a", "b", "c"]))
>>> t = "2026-01-01T00:00:00.000000Z"
>>> _ = r.apply(Event("e1", "set", "ana", t, "s1", 1, sample_id=1, old_label="a", new_label="b"))
>>> _ = r.apply(Event("e2", "set", "ben", t, "s2", 1, sample_id=1, old_label="a", new_label="c"))
>>> r.label(1, original="a"), sorted(r.conflicted())
('a', [1])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from errlens.changelog.columns import Columns, EventList
from errlens.changelog.errors import ChangelogError
from errlens.changelog.events import Event
from errlens.changelog.schema import LabelSchema


@dataclass
class Head:
    """A label event that no later event has superseded on its sample."""

    event_id: str
    label: Any


@dataclass
class Replay:
    """Mutable replay state; :meth:`apply` validates one event against it and applies it."""

    schema: LabelSchema
    events: EventList = field(default_factory=EventList)
    by_id: dict[str, int] = field(default_factory=dict)
    heads: dict[Any, list[Head]] = field(default_factory=dict)
    reverted_by: dict[str, str] = field(default_factory=dict)
    clock: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    #: Tag names two writers gave to different states (see :meth:`add_tag`).
    ambiguous: set[str] = field(default_factory=set)

    # ---------------------------------------------------------------- queries
    def label(self, sample: Any, original: Any) -> Any:
        """Current label of ``sample`` (``original`` if no event touched it)."""
        heads = self.heads.get(sample)
        if not heads:
            return original
        first = heads[0].label
        if all(h.label == first for h in heads):
            return first
        return self._last_agreed(heads, original)

    def _ancestors(self, event_id: str) -> set[str]:
        out, todo = set(), [event_id]
        while todo:
            for parent in self.get(todo.pop()).parents:
                if parent not in out and parent in self.by_id:
                    out.add(parent)
                    todo.append(parent)
        return out

    def _last_agreed(self, heads: list[Head], original: Any) -> Any:
        """Label at the heads' latest common ancestors (if those agree), else ``original``."""
        lineages = [self._ancestors(h.event_id) for h in heads]
        common = set.intersection(*lineages)
        below = set().union(*(self._ancestors(c) for c in common)) if common else set()
        latest = {self.schema.resolve(self.get(c).new_label) for c in common - below
                  if self.get(c).new_label is not None}
        return latest.pop() if len(latest) == 1 else original

    def changed(self) -> dict[Any, list[Head]]:
        """Samples with at least one label event, mapped to their heads."""
        return self.heads

    def conflicted(self) -> list[Any]:
        """Samples whose heads disagree."""
        return [s for s, hs in self.heads.items() if len({_key(h.label) for h in hs}) > 1]

    def head_ids(self, sample: Any) -> tuple[str, ...]:
        """Event ids of the sample's current heads (the parents of a new event on it)."""
        return tuple(h.event_id for h in self.heads.get(sample, ()))

    def is_reverted(self, event_id: str) -> bool:
        """True if the event is undone by a revert that is not itself undone."""
        by = self.reverted_by.get(event_id)
        return by is not None and not self.is_reverted(by)

    def get(self, event_id: str) -> Event:
        """The event with this id (KeyError if unknown)."""
        return self.events[self.by_id[event_id]]

    def fork(self) -> Replay:
        """An independent copy to try events on: applying events to it leaves this state as
        it was (a write that fails validation half-way changes nothing)."""
        heads = {s: [Head(h.event_id, h.label) for h in hs] for s, hs in self.heads.items()}
        return Replay(self.schema.copy(), self.events.copy(), dict(self.by_id), heads,
                      dict(self.reverted_by), dict(self.clock), dict(self.tags),
                      set(self.ambiguous))

    # ---------------------------------------------------------------- applying
    def check(self, ev: Event, pending: set[str] | frozenset[str] = frozenset()) -> None:
        """Raise :class:`ChangelogError` if ``ev`` cannot follow the current state.

        ``pending`` holds ids of events written in the same batch, before ``ev``.
        """
        if ev.event_id in self.by_id:
            raise ChangelogError(f"duplicate event id {ev.event_id!r}: every event needs a new id")
        missing = [p for p in (*ev.parents, *ev.refs) if p not in self.by_id and p not in pending]
        if missing:
            raise ChangelogError(f"event {ev.event_id} refers to unknown event(s) {missing}; the "
                                 f"log is incomplete or the events are out of order")
        if ev.oseq <= self.clock.get(ev.origin, 0):
            raise ChangelogError(f"event {ev.event_id}: sequence {ev.oseq} of origin "
                                 f"{ev.origin} repeats or goes backwards")
        if ev.new_label is not None:
            if ev.op not in ("set", "confirm", "adjudicate", "revert"):
                raise ChangelogError(f"a {ev.op!r} event cannot carry a new label")
            self.schema.check_label(self.schema.resolve(ev.new_label))
        if ev.op == "revert":
            target = self.get(ev.refs[0])
            if target.op in ("tag", "schema"):
                raise ChangelogError(f"a {target.op} event cannot be undone; write a new one")
            if target.sample_id != ev.sample_id:
                raise ChangelogError("a revert must name the sample of the event it undoes")
        if ev.op == "tag" and any(self.events[p].tag == ev.tag and
                                  self.events[p].origin == ev.origin for p in self.tags.values()):
            raise ChangelogError(f"version tag {ev.tag!r} already exists; pick a new name")
        if ev.op == "schema" and ev.change is not None:
            self.schema.validate(ev.change)

    def apply(self, ev: Event, check: bool = True) -> Event:
        """Validate (unless ``check`` is False) and apply one event."""
        if check:
            self.check(ev)
        self.by_id[ev.event_id] = len(self.events)
        self.events.append(ev)
        self.clock[ev.origin] = ev.oseq
        if ev.op == "revert":
            self.reverted_by[ev.refs[0]] = ev.event_id
        if ev.op == "tag" and ev.tag is not None:
            self.add_tag(ev, len(self.events) - 1)
        elif ev.op == "schema" and ev.change is not None:
            mapping = self.schema.apply(ev.change)
            if mapping:
                for heads in self.heads.values():
                    for h in heads:
                        h.label = mapping.get(h.label, h.label)
        if ev.new_label is not None:
            parents = set(ev.parents)
            kept = [h for h in self.heads.get(ev.sample_id, ()) if h.event_id not in parents]
            kept.append(Head(ev.event_id, self.schema.resolve(ev.new_label)))
            self.heads[ev.sample_id] = kept
        elif ev.op == "revert" and self._undoes_adjudication(ev):
            self._recount_heads(ev.sample_id)
        return ev

    def add_tag(self, ev: Event, pos: int) -> None:
        """Register the version of a tag event at position ``pos``. Two writers who gave one
        name to different states (each in their own log, then merged) make the name
        ambiguous: each version is then reachable as ``name@author`` (``name@<event id>``
        if one author did both). A second tag of one name for the same state adds nothing."""
        name = ev.tag or ""
        first = self.tags.get(name)
        if first is not None:
            other = self.events[first]
            if (other.clock or {}) == (ev.clock or {}):
                return
            del self.tags[name]
            self.ambiguous.add(name)
            self.tags[self._qualified(name, other)] = first
        if name in self.ambiguous:
            self.tags[self._qualified(name, ev)] = pos
        else:
            self.tags[name] = pos

    def _qualified(self, name: str, ev: Event) -> str:
        by_author = f"{name}@{ev.author}"
        return by_author if by_author not in self.tags else f"{name}@{ev.event_id}"

    def _undoes_adjudication(self, ev: Event) -> bool:
        """True if a label-less revert (or a chain of them) retracts or restores an
        adjudication."""
        target = self.get(ev.refs[0])
        while target.op == "revert" and target.new_label is None:
            target = self.get(target.refs[0])
        return target.op == "adjudicate"

    def retracted(self, ev: Event) -> bool:
        """True for an adjudication undone by a revert that carries no label: it no longer
        counts for heads, so the heads it settled are heads again (format §2)."""
        by = self.reverted_by.get(ev.event_id)
        return (ev.op == "adjudicate" and by is not None and self.is_reverted(ev.event_id)
                and self.get(by).new_label is None)

    def _recount_heads(self, sample: Any) -> None:
        """The sample's heads from its events: label events that no later label event names
        as a parent, retracted adjudications left out."""
        label_events = [e for e in map(self.events.__getitem__, self.events.on_sample(sample))
                        if e.new_label is not None and not self.retracted(e)]
        named = {p for e in label_events for p in e.parents}
        known = {h.event_id: h.label for h in self.heads.get(sample, ())}
        self.heads[sample] = [  # possibly none left: the sample keeps its original label
            Head(e.event_id, known.get(e.event_id, self.schema.resolve(e.new_label)))
            for e in label_events if e.event_id not in named]

    @classmethod
    def bulk(cls, schema: LabelSchema, cols: Columns, stop: int,
             mask: np.ndarray | None = None) -> Replay:
        """The state after applying rows ``[0, stop)`` of ``cols`` (rows that passed every
        check) one by one, computed on whole columns; ``mask`` keeps only some of those rows
        (e.g. the events a version covers)."""
        state = cls(schema.copy(), EventList(cols, stop))
        keep = np.ones(stop, dtype=bool) if mask is None else mask[:stop]
        by_id = cols.by_id
        state.by_id = by_id if stop == len(cols) and mask is None else {
            e: i for e, i in by_id.items() if i < stop and keep[i]}
        rows = np.flatnonzero(keep)
        origin = np.frombuffer(cols.origin, dtype=np.int64)[rows]
        names = list(cols.origins)
        if len(rows):
            codes, first = np.unique(origin, return_index=True)
            _, last_rev = np.unique(origin[::-1], return_index=True)
            oseq = cols.oseq
            for k in np.argsort(first).tolist():
                state.clock[names[codes[k]]] = oseq[int(rows[len(rows) - 1 - last_rev[k]])]
        special = [(i, ev) for i, ev in sorted(cols.exact.items()) if i < stop and keep[i]]
        renames: list[tuple[int, dict[Any, Any], list[dict[Any, Any]]]] = []
        for i, ev in special:
            if ev.op == "revert":
                state.reverted_by[ev.refs[0]] = ev.event_id
            elif ev.op == "tag" and ev.tag is not None:
                state.add_tag(ev, i)
            elif ev.op == "schema" and ev.change is not None:
                renames.append((i, dict(state.schema.renames), []))
                mapping = state.schema.apply(ev.change)
                for _, _, later in renames:
                    later.append(mapping)
        counted = keep.copy()
        for _, ev in special:  # retracted adjudications do not count for heads
            target = state.by_id.get(ev.refs[0], stop) if ev.op == "revert" else stop
            if target < stop and ev.new_label is None and state.retracted(state.events[target]):
                counted[target] = False
        state.heads = _bulk_heads(cols, stop, keep, state.schema, renames, counted)
        return state

    def covers(self, clock: dict[str, int], ev: Event) -> bool:
        """True if a tag's clock includes the event."""
        return ev.oseq <= clock.get(ev.origin, 0)


def _key(label: Any) -> tuple[str, Any]:
    # 1 and True compare equal in Python; classes never mix them, but keep them apart anyway.
    return (type(label).__name__, label)


def _bulk_heads(cols: Columns, stop: int, keep: np.ndarray, schema: LabelSchema,
                segments: list[tuple[int, dict[Any, Any], list[dict[Any, Any]]]],
                counted: np.ndarray) -> dict[Any, list[Head]]:
    """Heads per sample: label rows that no later label row on the same sample names as a
    parent; each head's label resolved under the schema of its time, then mapped by every
    later schema change. Rows outside ``counted`` (retracted adjudications) neither are heads
    nor supersede their parents, but their samples keep their place in the order."""
    label = np.frombuffer(cols.label, dtype=np.int64)[:stop]
    sample = np.frombuffer(cols.sample, dtype=np.int64)[:stop]
    counts = np.frombuffer(cols.n_parents, dtype=np.int64)[:stop]
    parent = np.frombuffer(cols.parent_rows, dtype=np.int64)[: int(counts.sum())]
    is_label = (label >= 0) & keep
    counting = is_label & counted
    child = np.repeat(np.arange(stop), counts)
    links = counting[child] & counting[parent] & (sample[parent] == sample[child])
    superseded = np.zeros(stop, dtype=bool)
    superseded[parent[links]] = True
    rows = np.flatnonzero(counting & ~superseded)
    samples, labels, ids = list(cols.samples), list(cols.labels), cols.event_ids
    segment = np.searchsorted([i for i, _, _ in segments], rows).tolist()
    memo: dict[tuple[int, int], Any] = {}
    first = np.unique(sample[is_label], return_index=True)[1]
    order = np.sort(np.flatnonzero(is_label)[first])
    heads: dict[Any, list[Head]] = {samples[c]: [] for c in sample[order].tolist()}
    for r, s, c, k in zip(rows.tolist(), sample[rows].tolist(), label[rows].tolist(), segment,
                          strict=True):
        value = memo.get((k, c), _NONE)
        if value is _NONE:
            renames, later = segments[k][1:] if k < len(segments) else (schema.renames, [])
            value = _resolve(renames, labels[c])
            for mapping in later:
                value = mapping.get(value, value)
            memo[(k, c)] = value
        heads[samples[s]].append(Head(ids[r], value))
    return heads


_NONE = object()


def _resolve(renames: dict[Any, Any], label: Any) -> Any:
    seen = 0
    while label in renames and seen < 1000:
        label, seen = renames[label], seen + 1
    return label


def load(cols: Columns, schema: LabelSchema, on_error: Callable[[int, str], None],
         check_sample: Callable[[Event], None] | None = None,
         has_sample: Callable[[Any], bool] | None = None) -> Replay:
    """Replay the rows of ``cols`` onto ``schema``: every row before the first one a column
    check flagged at once (:meth:`Replay.bulk`), the rest one by one with the exact checks;
    a refused row is reported as ``on_error(line number, message)`` and skipped.
    ``check_sample`` raises for an event on a sample outside the dataset; ``has_sample``
    is the same test on one sample id."""
    cols.check_state(has_sample)
    cols.check_labels(schema)
    stop = cols.first_flagged()
    state = Replay.bulk(schema, cols, stop)
    for row in range(stop, len(cols)):
        try:
            ev = cols.event(row)
            if check_sample is not None:
                check_sample(ev)
            state.apply(ev)
        except ChangelogError as exc:
            on_error(cols.linenos[row], str(exc))
    return state


def replay(schema: LabelSchema, events: list[Event], check: bool = True) -> Replay:
    """Replay ``events`` (in order) onto a copy of ``schema``."""
    state = Replay(schema.copy())
    for ev in events:
        state.apply(ev, check=check)
    return state
