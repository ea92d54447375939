"""Moved to :mod:`errlens.annotators.exchange`; this alias warns and will be removed."""

import warnings

from errlens.annotators.exchange import *  # noqa: F403

warnings.warn(
    "errlens.changelog.exchange moved to errlens.annotators.exchange: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
