"""Suspect-detection methods of :class:`errlens.Analysis` (mixed in, so this module owns them)."""

from __future__ import annotations


class SuspectMethods:
    """Label-issue detection and nearest neighbours on an Analysis."""
