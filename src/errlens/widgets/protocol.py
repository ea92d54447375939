"""Moved to :mod:`errlens.views.protocol`; this alias warns and will be removed."""

import warnings

from errlens.views.protocol import *  # noqa: F403

warnings.warn(
    "errlens.widgets.protocol moved to errlens.views.protocol: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
