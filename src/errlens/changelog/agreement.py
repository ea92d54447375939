"""Moved to :mod:`errlens.annotators.agreement`; this alias warns and will be removed."""

import warnings

from errlens.annotators.agreement import *  # noqa: F403

warnings.warn(
    "errlens.changelog.agreement moved to errlens.annotators.agreement: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
