"""The package's shape: a pure core that scripts can use without any widget machinery."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_no_widget_code():
    code = (
        "import sys, errlens as el\n"
        "ev = el.Analysis.from_predictions({'x': [1, 2]}, y_true=[0, 1], y_pred=[0, 0])\n"
        "ev.slices(); ev.confusion(); ev.error_tree()\n"
        "bad = [m for m in ('ipywidgets', 'anywidget', 'IPython') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_widgets_load_on_first_use():
    import errlens as el

    assert el.SummaryWidget.__name__ == "SummaryWidget"
    assert callable(el.explore)
    try:
        el.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no attribute 'no_such_thing'" in str(exc)
    else:
        raise AssertionError("unknown attributes must raise AttributeError")


def test_the_changelog_and_its_command_line_start_without_the_analysis_stack():
    code = (
        "import sys, errlens, errlens.cli\n"
        "print(','.join(m for m in ('sklearn', 'plotly', 'scipy', 'errlens.analysis')\n"
        "               if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
