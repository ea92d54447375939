"""Exceptions and warnings of the label changelog.

>>> issubclass(DatasetMismatchError, ChangelogError)
True
"""

from __future__ import annotations


class ChangelogError(ValueError):
    """A changelog operation or file is invalid; the message says what to do."""


class DatasetMismatchError(ChangelogError):
    """The log was written for a different dataset (other ids or original labels)."""


class CorruptLogError(ChangelogError):
    """The log file is damaged in a way that cannot be repaired automatically."""


class ChangelogWarning(UserWarning):
    """Something was repaired or needs attention but no acknowledged data was lost."""
