"""Moved to :mod:`errlens.views.samples`; this alias warns and will be removed."""

import warnings

from errlens.views.samples import *  # noqa: F403

warnings.warn(
    "errlens.widgets.suspect_browser_samples moved to errlens.views.samples: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
