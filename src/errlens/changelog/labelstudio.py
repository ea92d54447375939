"""Moved to :mod:`errlens.annotators.labelstudio`; this alias warns and will be removed."""

import warnings

from errlens.annotators.labelstudio import *  # noqa: F403

warnings.warn(
    "errlens.changelog.labelstudio moved to errlens.annotators.labelstudio: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
