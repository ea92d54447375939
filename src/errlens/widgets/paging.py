"""Moved to :mod:`errlens.views.paging`; this alias warns and will be removed."""

import warnings

from errlens.views.paging import *  # noqa: F403

warnings.warn(
    "errlens.widgets.paging moved to errlens.views.paging: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
