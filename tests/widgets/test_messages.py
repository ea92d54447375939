"""Every widget answers every request exactly once with ``{"type": "reply", "rid", "error"}``:
malformed messages, unknown types, missing or extra fields and a bug inside a handler included
(the message catalogue in errlens.views.messages and docs/architecture.md agree)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import errlens as el
from errlens.views.dispatch import Dispatcher
from errlens.views.messages import CATALOGUE, markdown
from errlens.widgets.confusion_view import ConfusionView
from errlens.widgets.health_view import HealthView
from errlens.widgets.segments_view import SegmentsView
from errlens.widgets.selection import SelectionBar
from errlens.widgets.summary import SummaryWidget
from errlens.widgets.suspect_browser import SuspectBrowser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ev(adult: pd.DataFrame) -> el.Analysis:
    data = adult.head(3_000).drop(columns=["split"])
    rng = np.random.default_rng(0)
    p_rich = np.clip(0.15 + 0.5 * (data["education_num"] >= 13) + rng.normal(0, 0.1, len(data)),
                     0.01, 0.99)
    data["labeller"] = rng.choice(["ann1", "ann2", "ann3"], len(data))
    return el.Analysis.from_predictions(
        data, y_true="income", proba=np.column_stack([1 - p_rich, p_rich]), id="id",
        proba_out_of_fold=True, annotator="labeller")


def widgets(ev: el.Analysis) -> dict[str, Any]:
    """One widget per catalogue entry, as the Explorer and the user build them."""
    steps: list[str] = []
    return {"segments": SegmentsView(ev), "confusion": ConfusionView(ev),
            "selection": SelectionBar(back=lambda: steps.append("back"),
                                      clear=lambda: steps.append("clear")),
            "summary": SummaryWidget(ev), "suspects": SuspectBrowser(ev),
            "health": HealthView(ev)}


def deliver(widget: Any, msg: Any) -> tuple[dict[str, Any], list[Any]]:
    """``msg`` as the browser delivers it; the one message the kernel sends back."""
    sent: list[tuple[dict[str, Any], list[Any]]] = []
    widget.send = lambda content, buffers=None: sent.append((content, buffers or []))
    widget._on_msg(widget, msg, [])
    assert len(sent) == 1, f"{len(sent)} replies to {msg!r}"
    return sent[0]


MALFORMED = [
    ("a list", ["page", 1], None, "must be a JSON object, got list"),
    ("a string", "page", None, "must be a JSON object, got str"),
    ("null", None, None, "must be a JSON object, got NoneType"),
    ("no type", {"rid": 3}, 3, "unknown message type None"),
    ("a type that is no text", {"type": ["back"], "rid": 3}, 3, "unknown message type ['back']"),
    ("an unknown type", {"type": "drop_table", "rid": 4}, 4, "unknown message type 'drop_table'"),
    ("no rid", {"type": "TYPE"}, None, "needs an integer rid"),
    ("a boolean rid", {"type": "TYPE", "rid": True}, None, "needs an integer rid"),
    ("a negative rid", {"type": "TYPE", "rid": -1}, None, "needs an integer rid"),
    ("a float rid", {"type": "TYPE", "rid": 1.0}, None, "needs an integer rid"),
    ("a rid past 2**53", {"type": "TYPE", "rid": 2**53}, None, "needs an integer rid"),
    ("an extra field", {"type": "TYPE", "rid": 5, "sql": "drop"}, 5, "unknown field(s) sql"),
]


@pytest.mark.parametrize("case, msg, rid, needle", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_every_widget_answers_a_malformed_request(ev, case, msg, rid, needle):
    for name, widget in widgets(ev).items():
        sent = msg
        if isinstance(msg, dict) and msg.get("type") == "TYPE":  # a request of this widget's
            if not CATALOGUE[name]:
                continue  # the summary card has no request type to misuse
            kind, request = next(iter(CATALOGUE[name].items()))
            sent = {**msg, "type": kind, **{k: 0 for k in request.required}}
        before = {k: getattr(widget, k) for k in widget.keys if not k.startswith("_")}
        reply, buffers = deliver(widget, sent)
        assert reply["type"] == "reply" and reply["rid"] == rid and buffers == [], (name, case)
        assert needle in reply["error"], (name, case, reply["error"])
        assert set(reply) == {"type", "rid", "error"}
        assert {k: getattr(widget, k) for k in before} == before, (name, case)


def test_every_request_type_refuses_a_missing_field(ev):
    checked = 0
    for name, widget in widgets(ev).items():
        for kind, request in CATALOGUE[name].items():
            for field in request.required:
                msg = {"type": kind, "rid": 9, **{k: 0 for k in request.required if k != field}}
                reply, _ = deliver(widget, msg)
                assert reply["error"] == f"message {kind!r} lacks {field}", (name, kind)
                checked += 1
    assert checked == 25  # 11 in segments, 5 in confusion, 5 in suspects, 4 in health


def test_a_bug_inside_a_handler_is_answered_and_logged(ev, monkeypatch, caplog):
    found = widgets(ev)
    breakage = {
        "segments": (found["segments"], "_refresh_heatmap", {"type": "pick", "feature": "sex"}),
        "confusion": (found["confusion"], "_refresh", {"type": "normalize", "normalize": "true"}),
        "selection": (found["selection"], "_back", {"type": "back"}),
        "suspects": (found["suspects"]._ctx.rows, "page",
                     {"type": "page", "mode": "all", "page": 0}),
        "health": (found["health"], "_refresh", {"type": "select_cohort", "cohort": {
            "kind": "where", "feature": "labeller", "op": "==", "value": "ann1"}}),
    }
    assert set(breakage) == {name for name in CATALOGUE if CATALOGUE[name]}

    def boom(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    for name, (owner, attribute, msg) in breakage.items():
        monkeypatch.setattr(owner, attribute, boom)
        caplog.clear()
        reply, buffers = deliver(found[name], {"rid": 11, **msg})
        assert reply == {"type": "reply", "rid": 11, "error": f"internal error answering "
                         f"{msg['type']!r}, please report it: RuntimeError: boom"}, name
        assert buffers == []
        assert "RuntimeError: boom" in caplog.text  # the traceback reaches the kernel log


def test_an_os_error_is_answered_with_its_reason(ev, monkeypatch):
    browser = SuspectBrowser(ev)

    def unreadable(*_args: Any, **_kwargs: Any) -> None:
        raise PermissionError(13, "Permission denied", "/data/images/0001.png")

    monkeypatch.setattr(browser._ctx.rows, "page", unreadable)
    reply, _ = deliver(browser, {"type": "page", "rid": 2, "mode": "all", "page": 0})
    assert reply["error"] == ("could not answer 'page': [Errno 13] Permission denied: "
                              "'/data/images/0001.png'")


def test_good_requests_get_their_reply_fields_from_the_catalogue(ev):
    found = widgets(ev)
    reply, buffers = deliver(found["suspects"], {"type": "page", "rid": 1, "mode": "all",
                                                 "page": 0})
    assert reply["error"] is None and len(buffers) == 1
    assert set(reply) - {"type", "rid", "error"} == set(CATALOGUE["suspects"]["page"].reply)
    first = found["suspects"].handle({"type": "detail", "rid": 2, "id": ev.ids[0]})[0]
    assert set(first) - {"type", "rid", "error"} == set(CATALOGUE["suspects"]["detail"].reply)
    assert deliver(found["selection"], {"type": "clear", "rid": 3}) == (
        {"type": "reply", "rid": 3, "error": None}, [])


def test_the_catalogue_and_the_handlers_cannot_drift_apart():
    with pytest.raises(TypeError, match=r"handlers \['back'\] do not match the message "
                       r"catalogue \['back', 'clear'\]"):
        Dispatcher("selection", {"back": lambda msg: None})
    with pytest.raises(TypeError, match="no widget 'grid' in the message catalogue"):
        Dispatcher("grid", {})


def test_the_architecture_doc_prints_the_catalogue():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert markdown() in doc, "docs/architecture.md: paste errlens.views.messages.markdown()"
