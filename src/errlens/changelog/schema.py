"""The label schema that travels with a log: classes and their annotation guidelines.

Changing it (adding, renaming, merging classes, editing a guideline) is a ``schema`` event,
so every log says which classes were valid when each label was written.

>>> s = LabelSchema.from_classes(["cat", "dog"])
>>> s.apply({"action": "rename_class", "old": "dog", "new": "canine"})
{'dog': 'canine'}
>>> s.classes, s.resolve("dog")
(['cat', 'canine'], 'canine')
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from errlens.changelog.errors import ChangelogError
from errlens.changelog.events import is_label_value

GUIDELINE_KEYS = ("definition", "example", "edge_cases")
ACTIONS = ("add_class", "rename_class", "merge_classes", "set_guideline")


def make_guideline(definition: str = "", example: str = "",
                   edge_cases: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """A guideline record, validated.

    >>> make_guideline("income above 50K", edge_cases=["exactly 50K is <=50K"])["edge_cases"]
    ['exactly 50K is <=50K']
    """
    if not isinstance(definition, str) or not isinstance(example, str):
        raise ChangelogError("a guideline's definition and example must be text")
    cases = list(edge_cases)
    if not all(isinstance(c, str) for c in cases):
        raise ChangelogError("edge_cases must be a list of short texts")
    return {"definition": definition, "example": example, "edge_cases": cases}


def _guideline_from(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict) or set(obj) - set(GUIDELINE_KEYS):
        raise ChangelogError(f"a guideline is an object with keys {', '.join(GUIDELINE_KEYS)}")
    return make_guideline(obj.get("definition", ""), obj.get("example", ""),
                          obj.get("edge_cases", ()))


@dataclass
class LabelSchema:
    """Current classes (in order), their guidelines and the renames applied so far."""

    classes: list[Any]
    guidelines: dict[Any, dict[str, Any]] = field(default_factory=dict)
    renames: dict[Any, Any] = field(default_factory=dict)
    #: Initial class -> its current name, through every rename and merge so far (unlike
    #: ``renames``, not undone when a later ``add_class`` reuses an old name).
    from_start: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def from_classes(cls, classes: list[Any]) -> LabelSchema:
        """A schema with empty guidelines."""
        values = list(classes)
        for c in values:
            if not is_label_value(c):
                raise ChangelogError(f"class {c!r} must be text, an integer, a number or a bool")
        if len(set(values)) != len(values):
            raise ChangelogError(f"classes {values!r} contain duplicates")
        return cls(values, {c: make_guideline() for c in values})

    # ------------------------------------------------------------- header round trip
    def to_json(self) -> list[dict[str, Any]]:
        """The ``classes`` list of a header line."""
        return [{"name": c, **self.guidelines.get(c, make_guideline())} for c in self.classes]

    @classmethod
    def from_json(cls, items: Any) -> LabelSchema:
        """Parse the ``classes`` list of a header line."""
        if not isinstance(items, list) or not items:
            raise ChangelogError("the header's classes must be a non-empty list")
        names = []
        for item in items:
            if not isinstance(item, dict) or "name" not in item:
                raise ChangelogError("each header class is an object with a 'name'")
            names.append(item["name"])
        schema = cls.from_classes(names)
        for item in items:
            schema.guidelines[item["name"]] = _guideline_from(
                {k: v for k, v in item.items() if k != "name"})
        return schema

    def copy(self) -> LabelSchema:
        """A deep copy (replays of older versions must not change the live schema)."""
        return copy.deepcopy(self)

    # ------------------------------------------------------------------ changes
    def resolve(self, label: Any) -> Any:
        """The current name of a label written under an older name."""
        seen = 0
        while label in self.renames and seen < 1000:
            label, seen = self.renames[label], seen + 1
        return label

    def check_label(self, label: Any) -> None:
        """Raise unless ``label`` is a current class, of the class's own type (``True`` is
        not class ``1``, nor ``2.0`` class ``2``, although Python finds them equal)."""
        if not any(type(c) is type(label) and c == label for c in self.classes):
            raise ChangelogError(
                f"label {label!r} is not one of the classes {self.classes!r}; fix the typo, or "
                f"extend the schema first with store.add_class({label!r}, definition=...)")

    def validate(self, change: dict[str, Any]) -> None:
        """Raise if ``change`` cannot be applied to this schema."""
        trial = self.copy()
        trial.apply(change)

    def apply(self, change: dict[str, Any]) -> dict[Any, Any]:
        """Apply one schema change; returns the label mapping it implies (old -> new)."""
        action = change.get("action")
        if action == "add_class":
            name = change.get("class")
            if not is_label_value(name) or name in self.classes:
                raise ChangelogError(f"cannot add class {name!r}: it exists or is not a label")
            self.classes.append(name)
            self.guidelines[name] = _guideline_from(change.get("guideline", {}))
            self.renames.pop(name, None)
            return {}
        if action == "rename_class":
            old, new = change.get("old"), change.get("new")
            self.check_label(old)
            if not is_label_value(new) or new in self.classes:
                raise ChangelogError(f"cannot rename {old!r} to {new!r}: the new name exists")
            self.classes[self.classes.index(old)] = new
            self.guidelines[new] = self.guidelines.pop(old)
            self.renames[old] = new
            self._carry({old: new})
            return {old: new}
        if action == "merge_classes":
            sources, into = change.get("classes"), change.get("into")
            if not isinstance(sources, list) or len(sources) < 2:
                raise ChangelogError("merge_classes needs a list of at least two classes")
            for c in sources:
                self.check_label(c)
            if not is_label_value(into) or (into in self.classes and into not in sources):
                raise ChangelogError(f"cannot merge into {into!r}: it is another existing class")
            position = min(self.classes.index(c) for c in sources)
            guideline = self.guidelines.get(into) or self.guidelines[sources[0]]
            self.classes = [c for c in self.classes if c not in sources]
            self.classes.insert(position, into)
            for c in sources:
                self.guidelines.pop(c, None)
            self.guidelines[into] = guideline
            mapping = {c: into for c in sources if c != into}
            self.renames.update(mapping)
            self._carry(mapping)
            return mapping
        if action == "set_guideline":
            name = change.get("class")
            self.check_label(name)
            self.guidelines[name] = _guideline_from(change.get("guideline", {}))
            return {}
        raise ChangelogError(f"unknown schema action {action!r}; use one of {', '.join(ACTIONS)}")

    def _carry(self, mapping: dict[Any, Any]) -> None:
        for first, now in self.from_start.items():
            self.from_start[first] = mapping.get(now, now)
        for old, new in mapping.items():
            self.from_start.setdefault(old, new)

    def current_name(self, initial: Any) -> Any:
        """The current name of a class of the initial schema (an original label).

        >>> s = LabelSchema.from_classes(["cat", "dog"])
        >>> _ = s.apply({"action": "rename_class", "old": "dog", "new": "canine"})
        >>> _ = s.apply({"action": "add_class", "class": "dog"})
        >>> s.current_name("dog"), s.resolve("dog")
        ('canine', 'dog')
        """
        return self.from_start.get(initial, initial)

    def to_frame(self) -> pd.DataFrame:
        """One row per class: definition, example, edge cases."""
        rows = [{"class": c, **self.guidelines.get(c, make_guideline())} for c in self.classes]
        return pd.DataFrame(rows, columns=["class", *GUIDELINE_KEYS])
