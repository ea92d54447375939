"""Thin anywidget views over the errlens core."""
