"""Moved to :mod:`errlens.views.store`; this alias warns and will be removed."""

import warnings

from errlens.views.store import *  # noqa: F403

warnings.warn(
    "errlens.widgets.suspect_browser_store moved to errlens.views.store: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
