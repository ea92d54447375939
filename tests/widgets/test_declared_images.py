"""Images declared on the analysis (``from_predictions(..., images=...)``) are the suspect
browser's and the dashboard's default images."""

from __future__ import annotations

import numpy as np

import errlens as el
from errlens.datasets import load_digits
from errlens.widgets.explorer import explore
from errlens.widgets.suspect_browser import SuspectBrowser


def test_declared_images_are_the_default_thumbnails() -> None:
    frame, images = load_digits()
    head = frame.iloc[:60]
    ev = el.Analysis.from_predictions(head, y_true="digit", y_pred=np.roll(head["digit"], 1),
                                      id="id", images=images[:60], features=["px10"])
    assert SuspectBrowser(ev).kind == "image"
    assert explore(ev).suspects.kind == "image"
    plain = el.Analysis.from_predictions(head, y_true="digit", y_pred=head["digit"],
                                         features=["px10"])
    assert SuspectBrowser(plain).kind == "tabular"
