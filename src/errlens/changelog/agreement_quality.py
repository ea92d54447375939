"""Moved to :mod:`errlens.annotators.quality`; this alias warns and will be removed."""

import warnings

from errlens.annotators.quality import *  # noqa: F403

warnings.warn(
    "errlens.changelog.agreement_quality moved to errlens.annotators.quality: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
