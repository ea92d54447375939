"""Moved to :mod:`errlens.views.engine_rows`; this alias warns and will be removed."""

import warnings

from errlens.views.engine_rows import *  # noqa: F403

warnings.warn(
    "errlens.widgets.engine_rows moved to errlens.views.engine_rows: import it from there",
    DeprecationWarning,
    stacklevel=2,
)
