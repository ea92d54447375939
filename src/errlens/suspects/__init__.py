"""Suspect samples: rows whose given label is probably wrong, with the cause of each flag."""

from __future__ import annotations

from errlens.suspects.health import LabelHealth
from errlens.suspects.table import Suspects

__all__ = ["LabelHealth", "Suspects"]
