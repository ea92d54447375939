"""Moved to :mod:`errlens.annotators.reports`; this alias warns and will be removed."""

import warnings

from errlens.annotators.reports import *  # noqa: F403

warnings.warn(
    "errlens.changelog.agreement_store moved to errlens.annotators.reports: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
