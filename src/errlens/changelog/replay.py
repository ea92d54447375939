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

from dataclasses import dataclass, field
from typing import Any

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
    events: list[Event] = field(default_factory=list)
    by_id: dict[str, int] = field(default_factory=dict)
    heads: dict[Any, list[Head]] = field(default_factory=dict)
    reverted_by: dict[str, str] = field(default_factory=dict)
    clock: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)

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
        if ev.op == "tag" and ev.tag in self.tags:
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
            self.tags[ev.tag] = len(self.events) - 1
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
        return ev

    def covers(self, clock: dict[str, int], ev: Event) -> bool:
        """True if a tag's clock includes the event."""
        return ev.oseq <= clock.get(ev.origin, 0)


def _key(label: Any) -> tuple[str, Any]:
    # 1 and True compare equal in Python; classes never mix them, but keep them apart anyway.
    return (type(label).__name__, label)


def replay(schema: LabelSchema, events: list[Event], check: bool = True) -> Replay:
    """Replay ``events`` (in order) onto a copy of ``schema``."""
    state = Replay(schema.copy())
    for ev in events:
        state.apply(ev, check=check)
    return state
