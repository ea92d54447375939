"""Moved to :mod:`errlens.views.source`; this alias warns and will be removed."""

import warnings

from errlens.views.source import *  # noqa: F403

warnings.warn(
    "errlens.widgets.source moved to errlens.views.source: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
