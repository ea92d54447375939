"""Slice-discovery methods of :class:`errlens.Analysis` (mixed in, so this module owns them)."""

from __future__ import annotations


class DiscoverMethods:
    """Automatic discovery of problem slices on an Analysis."""
