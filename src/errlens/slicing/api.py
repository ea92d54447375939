"""Slicing methods of :class:`errlens.Analysis` (mixed in, so this module owns them)."""

from __future__ import annotations


class SliceMethods:
    """Segment tables, heatmaps, confusion tables, error tree and discovery on an Analysis."""
