"""View models of the dashboard, without anywidget: row sources and the selection of a click,
paging, samples, store views, message validators and the payloads the widgets draw (used by
the widgets in :mod:`errlens.widgets` and by the HTML report)."""
