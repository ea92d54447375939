"""SuspectBrowser widget model: messages exactly as the front end sends them, on UCI Adult with a
quick out-of-fold model and a LabelStore in a temporary folder."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import traitlets

import errlens as el
from errlens.changelog import LabelStore
from errlens.datasets import load_digits
from errlens.slicing.cohort import Cohort
from errlens.widgets.suspect_browser import SuspectBrowser


@pytest.fixture(scope="module")
def ev(adult_oof: el.Analysis) -> el.Analysis:
    return adult_oof


@pytest.fixture
def store(ev: el.Analysis, tmp_path: Path) -> LabelStore:
    return LabelStore(ev, tmp_path / "labels.jsonl", author="ana")


@pytest.fixture
def browser(ev: el.Analysis, store: LabelStore) -> SuspectBrowser:
    return SuspectBrowser(ev, store)


def page(b: SuspectBrowser, **fields) -> tuple[dict, pa.Table | None]:
    reply, buffers = b.handle({"type": "page", "rid": 7, "mode": "suspects", "page": 0, **fields})
    assert reply["rid"] == 7 and reply["type"] == "reply"
    return reply, pa.ipc.open_stream(buffers[0]).read_all() if buffers else None


def act(b: SuspectBrowser, action: str, **fields) -> dict:
    msg = {"type": "action", "rid": 9, "action": action, **fields}
    if action in ("relabel", "confirm", "skip"):
        msg = {"token": b.version, "mode": "suspects", "source": "grid", **msg}
    return b.handle(msg)[0]


# ---------------------------------------------------------------------------- paging
def test_first_page_is_the_top_of_the_suspects_table(browser, ev):
    reply, table = page(browser)
    truth = ev.suspects()
    flagged = truth.flagged_ids
    assert reply["error"] is None and reply["total"] == len(flagged)
    assert table["id"].to_pylist() == flagged[:25].tolist()
    assert table["rank"].to_pylist() == list(range(1, 26))
    np.testing.assert_allclose(table["score"].to_numpy(),
                               truth.table.loc[flagged[:25], "score"].to_numpy())
    codes = ev.y_true_codes[ev.ids.get_indexer(flagged[:25])]
    expected = ev.proba[ev.ids.get_indexer(flagged[:25]), codes]
    np.testing.assert_allclose(table["p_given"].to_numpy(), expected)
    assert table["f0"][0].as_py() == str(ev.features.loc[flagged[0], "age"])
    assert reply["pages"] == -(-len(flagged) // 25)


def test_pages_sort_filter_and_search(browser, ev):
    reply, table = page(browser, mode="all", page=2)
    assert reply["offset"] == 50 and table["id"].to_pylist() == ev.ids[50:75].tolist()
    reply, _ = page(browser, mode="all", page=10**6)
    assert reply["page"] == reply["pages"] - 1  # clamped to the last page
    reply, table = page(browser, mode="all", sort="feature:age", descending=True)
    ages = ev.features["age"].sort_values(ascending=False, kind="stable")
    assert table["f0"].to_pylist() == [str(a) for a in ages.iloc[:25]]
    assert table["id"].to_pylist() == ages.index[:25].tolist()
    reply, table = page(browser, mode="all", given=">50K")
    assert reply["total"] == int((ev.y_true == ">50K").sum())
    assert set(table["given"].to_pylist()) == {">50K"}
    reply, table = page(browser, mode="all", search="doctorate")
    assert reply["total"] == int((ev.features["education"] == "Doctorate").sum())
    reply, table = page(browser, mode="all", sort="score")
    scores = table["score"].to_numpy()
    assert (np.diff(scores) >= 0).all()


def test_cohort_trait_restricts_rows_and_ranks_match_the_core(browser, ev):
    cohort = Cohort.where("age", ">=", 60)
    browser.cohort = cohort.to_json()
    assert browser.version == 1 and browser.cohort_text == "age ≥ 60"
    reply, table = page(browser, mode="all")
    assert reply["total"] == int((ev.features["age"] >= 60).sum()) and reply["token"] == 1
    reply, table = page(browser)
    truth = ev.suspects(cohort=cohort)
    assert table["id"].to_pylist() == truth.flagged_ids[:25].tolist()
    assert table["rank"].to_pylist() == truth.table.loc[truth.flagged_ids[:25], "rank"].tolist()
    with pytest.raises(traitlets.TraitError, match="unknown feature"):
        browser.cohort = {"kind": "where", "feature": "nope", "op": "==", "value": 1}
    assert browser.cohort == cohort.to_json()
    browser.cohort = None
    assert browser.cohort_text == "all rows" and browser.version == 2


# ---------------------------------------------------------------------------- relabel
def test_relabel_is_on_disk_with_the_suspect_cause(browser, ev, store):
    _, table = page(browser)
    sid, seen = table["id"][0].as_py(), table["current"][0].as_py()
    target = ">50K" if seen == "<=50K" else "<=50K"
    # with a store the browser ranks as the core does with its reviews (none yet)
    expected = ev.suspects(reviews=store).cause(sid)
    reply = act(browser, "relabel", id=sid, label=target, seen=seen, note="  census form  ")
    assert reply["error"] is None
    assert reply["rows"] == [{"id": sid, "current": target, "n_events": 1, "last_op": "set",
                              "current_code": ev.classes.index(target), "changed": True}]
    reopened = LabelStore(ev, store.path, author="someone")
    assert reopened.labels()[sid] == target
    event = reopened.history(sid).iloc[-1]
    assert event["note"] == "census form" and event["cause"] == expected
    _, table = page(browser)
    assert table["current"][0].as_py() == target and table["last_op"][0].as_py() == "set"


def test_confirm_skip_undo_and_history(browser, ev, store):
    _, table = page(browser, mode="all")
    a, b = table["id"][0].as_py(), table["id"][1].as_py()
    seen_a, seen_b = table["current"][0].as_py(), table["current"][1].as_py()
    assert act(browser, "confirm", id=a, seen=seen_a, mode="all")["error"] is None
    assert act(browser, "skip", id=b, seen=seen_b, mode="all")["error"] is None
    ops = store.events()["op"].tolist()
    assert ops == ["confirm", "skip"]
    assert store.history(a).iloc[0]["cause"] == {"view": "browser", "cohort": "all rows"}
    reply = act(browser, "undo")
    assert reply["error"] is None and reply["rows"][0]["id"] == b
    assert store.events()["op"].tolist() == ["confirm", "skip", "revert"]
    history, _ = browser.handle({"type": "detail", "rid": 3, "id": b})
    assert [e["op"] for e in history["history"]] == ["skip", "revert"]
    assert history["history"][0]["reverted"] is True


def test_bulk_relabel_of_checked_rows(browser, ev, store):
    _, table = page(browser)
    ids = table["id"].to_pylist()[:4]
    reply, _ = browser.handle({"type": "check", "rid": 1, "ids": ids, "on": True})
    assert reply["n_checked"] == 4
    browser.handle({"type": "check", "rid": 2, "ids": ids[:1], "on": False})
    assert browser.selected == sorted(ids[1:], key=lambda i: ev.ids.get_loc(i))
    assert browser.selected_mask.sum() == 3 and len(browser.selected_frame()) == 3
    reply = act(browser, "bulk_relabel", label=">50K", token=browser.version, mode="suspects")
    assert reply["error"] is None and reply["n_checked"] == 0 and len(reply["events"]) == 3
    labels = store.labels()
    assert (labels[ids[1:]] == ">50K").all()
    causes = store.events()["cause"].tolist()
    assert [c["rank"] for c in causes] == [ev.suspects().cause(i)["rank"] for i in browser_order(
        ev, ids[1:])]
    assert browser.selected == []


def browser_order(ev, ids):
    return sorted(ids, key=lambda i: ev.ids.get_loc(i))


def test_similar_panel_and_relabel_from_it(browser, ev, store):
    _, table = page(browser)
    of = table["id"][0].as_py()
    reply, _ = browser.handle({"type": "similar", "rid": 4, "id": of, "k": 5})
    truth = ev.similar(of, k=5)
    assert [r["id"] for r in reply["rows"]] == truth.index.tolist()
    n = reply["rows"][0]
    result = act(browser, "relabel", id=n["id"], label=">50K", seen=n["current"], source="similar",
                 of=of)
    assert result["error"] is None
    cause = store.history(n["id"]).iloc[0]["cause"]
    assert cause["view"] == "similar" and cause["neighbour_of"] == of
    assert cause["distance"] == pytest.approx(truth["distance"].iloc[0])


def test_a_tiny_dataset_relabels_from_the_similar_panel(tmp_path):
    """Twelve rows: fewer than the neighbours the panel can show, and still it works."""
    rng = np.random.default_rng(1)
    proba = rng.dirichlet([1, 1], size=12)
    tiny = el.Analysis.from_predictions({"x": rng.normal(size=12)}, y_true=[0, 1] * 6,
                                        proba=proba, proba_out_of_fold=True,
                                        id=[f"s{i:03d}" for i in range(12)])
    store = LabelStore(tiny, tmp_path / "tiny.jsonl", author="ana")
    b = SuspectBrowser(tiny, store)
    reply, _ = b.handle({"type": "similar", "rid": 2, "id": "s000", "k": 11})
    first = reply["rows"][0]
    result = b.handle({"type": "action", "rid": 3, "action": "confirm", "id": first["id"],
                       "token": b.version, "mode": "all", "source": "similar", "of": "s000",
                       "seen": first["current"]})[0]
    assert result["error"] is None
    assert store.history(first["id"]).iloc[0]["cause"]["neighbour_of"] == "s000"


def test_on_msg_sends_the_reply_with_arrow_buffers(browser, monkeypatch):
    sent = []
    monkeypatch.setattr(browser, "send", lambda content, buffers=None: sent.append((content,
                                                                                      buffers)))
    browser._on_msg(browser, {"type": "page", "rid": 1, "mode": "all", "page": 0}, [])
    content, buffers = sent[0]
    assert content["error"] is None and isinstance(buffers[0], bytes)
    assert pa.ipc.open_stream(buffers[0]).read_all().num_rows == 25


# ---------------------------------------------------------------------------- rejected messages
FORGED = [
    ("not a dict", ["page", 1]),
    ("unknown type", {"type": "drop_table", "rid": 1}),
    ("no rid", {"type": "page", "mode": "all", "page": 0}),
    ("bool rid", {"type": "page", "rid": True, "mode": "all", "page": 0}),
    ("negative page", {"type": "page", "rid": 1, "mode": "all", "page": -1}),
    ("float page", {"type": "page", "rid": 1, "mode": "all", "page": 1.5}),
    ("bad mode", {"type": "page", "rid": 1, "mode": "everything", "page": 0}),
    ("bad sort", {"type": "page", "rid": 1, "mode": "all", "page": 0, "sort": "__class__"}),
    ("unknown feature sort", {"type": "page", "rid": 1, "mode": "all", "page": 0,
                              "sort": "feature:salary"}),
    ("label filter outside classes", {"type": "page", "rid": 1, "mode": "all", "page": 0,
                                      "given": "rich"}),
    ("huge search", {"type": "page", "rid": 1, "mode": "all", "page": 0, "search": "x" * 500}),
    ("extra field", {"type": "page", "rid": 1, "mode": "all", "page": 0, "sql": "drop"}),
    ("check unknown id", {"type": "check", "rid": 1, "ids": ["adult-99999999"], "on": True}),
    ("check no ids", {"type": "check", "rid": 1, "ids": [], "on": True}),
    ("history is part of detail", {"type": "history", "rid": 1, "id": "adult-00001"}),
    ("similar k too large", {"type": "similar", "rid": 1, "id": "adult-00001", "k": 10**6}),
    ("huge page number", {"type": "page", "rid": 1, "mode": "all", "page": 10**12}),
    ("huge page as text", {"type": "page", "rid": 1, "mode": "all", "page": "1e309"}),
    ("detail of unknown id", {"type": "detail", "rid": 1, "id": "adult-99999999"}),
    ("detail of an integer id", {"type": "detail", "rid": 1, "id": 17}),
    ("detail of a list of ids", {"type": "detail", "rid": 1, "id": ["adult-00001"]}),
    ("detail of a float id", {"type": "detail", "rid": 1, "id": 1.0}),
    ("detail of a bool id", {"type": "detail", "rid": 1, "id": True}),
    ("detail without id", {"type": "detail", "rid": 1}),
    ("detail of a page", {"type": "detail", "rid": 1, "id": "adult-00001", "page": 10**12}),
    ("detail with a string rid", {"type": "detail", "rid": "1", "id": "adult-00001"}),
]


@pytest.mark.parametrize(("why", "msg"), FORGED, ids=[f[0] for f in FORGED])
def test_forged_queries_are_answered_with_an_error(browser, store, why, msg):
    before = Path(store.path).read_bytes()
    reply, buffers = browser.handle(msg)
    assert reply["error"] and buffers == []
    assert Path(store.path).read_bytes() == before


def forged_actions(b: SuspectBrowser, sid: str, seen: str, plain: str) -> list[tuple[str, dict]]:
    base = {"type": "action", "rid": 1, "action": "relabel", "id": sid, "label": ">50K",
            "token": b.version, "mode": "suspects", "source": "grid", "seen": seen}
    return [
        ("unknown id", {**base, "id": "adult-x"}),
        ("integer id for text ids", {**base, "id": 5}),
        ("label outside classes", {**base, "label": "<img src=x onerror=alert(1)>"}),
        ("label of the wrong type", {**base, "label": 1}),
        ("stale token", {**base, "token": b.version + 1}),
        ("stale label", {**base, "seen": ">50K" if seen == "<=50K" else "<=50K"}),
        ("not a suspect", {**base, "id": plain}),
        ("unknown action", {**base, "action": "delete"}),
        ("missing seen", {k: v for k, v in base.items() if k != "seen"}),
        ("extra field", {**base, "author": "mallory"}),
        ("note too long", {**base, "note": "n" * 5000}),
        ("note not text", {**base, "note": {"x": 1}}),
        ("similar without of", {**base, "source": "similar"}),
        ("not a neighbour", {**base, "source": "similar", "of": plain}),
        ("bulk with nothing checked", {"type": "action", "rid": 1, "action": "bulk_relabel",
                                       "label": ">50K", "token": b.version, "mode": "all"}),
        ("undo with payload", {"type": "action", "rid": 1, "action": "undo", "id": sid}),
    ]


def test_forged_actions_write_nothing(browser, ev, store):
    _, table = page(browser)
    sid, seen = table["id"][0].as_py(), table["current"][0].as_py()
    plain = ev.ids[~np.isin(ev.ids, ev.suspects().flagged_ids)][0]
    before = Path(store.path).read_bytes()
    for why, msg in forged_actions(browser, sid, seen, plain):
        reply, _ = browser.handle(msg)
        assert reply["error"], why
        assert Path(store.path).read_bytes() == before, why
    browser.cohort = Cohort.where("age", "<", 20).to_json()
    outside = ev.ids[(ev.features["age"] >= 20).to_numpy()][0]
    reply = act(browser, "confirm", id=outside, seen=ev.y_true[outside], mode="all")
    assert "not in the current selection" in reply["error"]
    reply, _ = browser.handle({"type": "check", "rid": 1, "ids": [outside], "on": True})
    assert reply["error"] and browser.selected == []
    assert Path(store.path).read_bytes() == before
    assert act(browser, "undo")["error"].startswith("nothing to undo")


# ---------------------------------------------------------------------------- read-only, samples
def test_without_store_controls_are_disabled_with_a_hint(ev):
    b = SuspectBrowser(ev, mode="all")
    assert not b.editable and "store=" in b.hint
    reply, table = page(b, mode="all")
    assert reply["error"] is None and "current" not in table.column_names
    reply = act(b, "confirm", id=ev.ids[0], seen=ev.y_true.iloc[0], mode="all")
    assert "store=" in reply["error"]
    reply, _ = b.handle({"type": "detail", "rid": 1, "id": ev.ids[0]})
    assert reply["error"] is None and reply["history"] is None


HOSTILE = "<img src=x onerror=alert(1)>"


def test_hostile_strings_travel_as_plain_text(tmp_path):
    frame = pd.DataFrame({"text": [f"{HOSTILE} number {i}" for i in range(40)],
                          "source": [HOSTILE] * 40})
    y = [HOSTILE if i % 2 else "ok" for i in range(40)]
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 40)
    ev = el.Analysis.from_predictions(frame, y_true=y, proba=np.c_[p, 1 - p],
                                      classes=[HOSTILE, "ok"], proba_out_of_fold=True)
    store = LabelStore(ev, tmp_path / "l.jsonl", author="ana")
    b = SuspectBrowser(ev, store, text_column="text")
    assert b.kind == "text" and b.text_column == "text" and HOSTILE in b.class_names
    reply, table = page(b, mode="all", search="NUMBER 3")
    assert reply["total"] == 1 + 10  # "number 3" and "number 30..39"
    assert table["text"][0].as_py() == f"{HOSTILE} number 3"
    assert table["f1"][0].as_py() == HOSTILE
    sid = table["id"][0].as_py()
    reply = act(b, "relabel", id=sid, label=HOSTILE, seen=ev.y_true[sid], mode="all")
    assert reply["error"] is None and store.labels()[sid] == HOSTILE


def test_image_thumbnails_are_small_pngs(tmp_path):
    from io import BytesIO

    from PIL import Image

    frame, images = load_digits()
    digits = frame.iloc[:200]
    y = digits["digit"].to_numpy()
    proba = np.full((200, 10), 0.02)
    proba[np.arange(200), (y + (np.arange(200) % 17 == 0)) % 10] = 0.82
    ev = el.Analysis.from_predictions(digits.drop(columns=["id", "digit"]), y_true=y,
                                      proba=proba, id=digits["id"], proba_out_of_fold=True)
    b = SuspectBrowser(ev, image=images[:200], page_size=5)
    _, table = page(b)
    assert b.kind == "image" and table.num_rows == 5
    url = table["thumb"][0].as_py()
    assert url.startswith("data:image/png;base64,")
    import base64

    png = Image.open(BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert png.size == (64, 64)
    position = ev.ids.get_loc(table["id"][0].as_py())
    original = images[position]
    corner = np.asarray(png)[0, 0]
    assert corner == round(255 * (original[0, 0] - original.min()) / np.ptp(original))
    paths = []
    for i in range(200):
        path = tmp_path / f"{i}.png"
        Image.fromarray((images[i] * 15).astype(np.uint8)).resize((200, 200)).save(path)
        paths.append(str(path))
    b = SuspectBrowser(ev, image=paths, page_size=2)
    _, table = page(b)
    thumb = Image.open(BytesIO(base64.b64decode(table["thumb"][0].as_py().split(",", 1)[1])))
    assert max(thumb.size) == 64


def test_constructor_rejects_bad_arguments(ev):
    with pytest.raises(TypeError, match="Analysis"):
        SuspectBrowser(pd.DataFrame())
    with pytest.raises(KeyError, match="text_column"):
        SuspectBrowser(ev, text_column="essay")
    with pytest.raises(ValueError, match="page_size"):
        SuspectBrowser(ev, page_size=0)
    with pytest.raises(ValueError, match="image array"):
        SuspectBrowser(ev, image=np.zeros((3, 8, 8)))
    with pytest.raises(TypeError, match="unknown arguments"):
        SuspectBrowser(ev, colour="red")


def test_without_probabilities_it_opens_on_all_rows_and_explains_suspects(ev):
    plain = el.Analysis.from_predictions(ev.features.iloc[:500], y_true=ev.y_true.iloc[:500],
                                         y_pred=ev.y_pred.iloc[:500], id=ev.ids[:500])
    b = SuspectBrowser(plain)
    assert b.mode == "all" and not b.has_proba
    reply, table = page(b, mode="all")
    assert reply["total"] == 500 and table["p_given"].null_count == 25
    reply, _ = page(b)
    assert "no probabilities" in reply["error"] and "knn" in reply["error"]
    knn = SuspectBrowser(plain, method="knn")
    reply, table = page(knn)
    assert reply["error"] is None and reply["total"] == int(plain.suspects("knn").table[
        "flagged"].sum())


# ---------------------------------------------------------------------------- detail panel
def detail(b: SuspectBrowser, sid) -> dict:
    reply, buffers = b.handle({"type": "detail", "rid": 5, "id": sid})
    assert reply["rid"] == 5 and reply["type"] == "reply" and buffers == []
    return reply


def test_detail_shows_the_whole_row_every_class_and_why_it_was_flagged(browser, ev, store):
    _, table = page(browser)
    sid = table["id"][0].as_py()
    reply = detail(browser, sid)
    assert reply["error"] is None and reply["id"] == sid
    row = ev.features.loc[sid]
    assert [f["name"] for f in reply["features"]] == list(ev.features.columns)
    assert len(reply["features"]) == 14  # every column, not just those the grid has room for
    values = {f["name"]: f["value"] for f in reply["features"]}
    assert values["native_country"] == row["native_country"]
    assert values["hours_per_week"] == str(row["hours_per_week"])
    position = ev.ids.get_loc(sid)
    assert [p["class"] for p in reply["proba"]] == ["<=50K", ">50K"]
    np.testing.assert_allclose([p["p"] for p in reply["proba"]], ev.proba[position])
    truth = ev.suspects(reviews=store).cause(sid)
    assert reply["cause"] == {"method": "prune_by_noise_rate", "score_kind": truth["score_kind"],
                              "score": truth["score"], "flagged": True, "rank": 1,
                              "ranked_rows": ev.n, "cohort": None, "why": truth["why"]}
    assert reply["given"] == ev.y_true[sid] and reply["predicted"] == ev.y_pred[sid]
    assert reply["history"] == []
    assert reply["text"] is None and reply["image"] is None
    target = ">50K" if ev.y_true[sid] == "<=50K" else "<=50K"
    act(browser, "relabel", id=sid, label=target, seen=ev.y_true[sid], note="pay slip")
    history = detail(browser, sid)["history"]
    assert [(e["op"], e["author"], e["old_label"], e["new_label"], e["note"]) for e in history] \
        == [("set", "ana", ev.y_true[sid], target, "pay slip")]
    assert history[0]["cause"].startswith("prune_by_noise_rate") and "rank 1" in history[0]["cause"]


def test_detail_ranks_within_the_cohort_and_works_without_a_store(ev):
    b = SuspectBrowser(ev)
    cohort = Cohort.where("age", ">=", 60)
    b.cohort = cohort.to_json()
    truth = ev.suspects(cohort=cohort)
    sid = truth.flagged_ids[2]
    reply = detail(b, sid)
    assert reply["cause"]["rank"] == 3 and reply["cause"]["cohort"] == "age ≥ 60"
    assert reply["cause"]["ranked_rows"] == int((ev.features["age"] >= 60).sum())
    assert reply["history"] is None and reply["in_selection"] is True
    outside = ev.ids[(ev.features["age"] < 60).to_numpy()][0]
    reply = detail(b, outside)
    assert reply["error"] is None and reply["in_selection"] is False and reply["cause"] is None


def test_detail_has_the_full_text_and_a_large_image(tmp_path):
    essay = "<b>not bold</b> " + "a long review " * 200
    frame = pd.DataFrame({"text": [essay, "short"] * 10, "stars": [4.123456789, None] * 10})
    text_ev = el.Analysis.from_predictions(frame, y_true=[0, 1] * 10, y_pred=[0, 1, 1, 0] * 5)
    b = SuspectBrowser(text_ev, text_column="text")
    reply = detail(b, 0)
    assert reply["text"] == essay and reply["text_chars"] == len(essay) > 2800
    assert reply["features"][1] == {"name": "stars", "value": "4.123456789"}  # exact here
    assert page(b, mode="all")[1]["f1"][0].as_py() == "4.123"  # short in the grid
    assert detail(b, 1)["features"][1] == {"name": "stars", "value": None}

    from io import BytesIO

    from PIL import Image

    digits, images = load_digits()
    ev = el.Analysis.from_predictions(digits.drop(columns=["id", "digit"]).iloc[:50],
                                      y_true=digits["digit"].iloc[:50],
                                      y_pred=digits["digit"].iloc[:50], id=digits["id"].iloc[:50])
    reply = detail(SuspectBrowser(ev, image=images[:50]), digits["id"].iloc[7])
    assert (reply["image"]["width"], reply["image"]["height"]) == (8, 8)
    png = Image.open(BytesIO(__import__("base64").b64decode(reply["image"]["src"].split(",")[1])))
    assert png.size == (8, 8)  # its own size: the browser scales it up, pixelated
    assert len(reply["proba"]) == 0 and len(reply["features"]) == 64
    big = tmp_path / "big.png"
    Image.new("RGB", (1600, 800), "white").save(big)
    b = SuspectBrowser(ev, image=[str(big)] * 50)
    reply = detail(b, digits["id"].iloc[0])
    assert (reply["image"]["width"], reply["image"]["height"]) == (1600, 800)
    small = Image.open(BytesIO(__import__("base64").b64decode(reply["image"]["src"].split(",")[1])))
    assert small.size == (512, 256)


# ---------------------------------------------------------------------------- failures answer
def test_a_full_disk_is_answered_with_the_error(browser, ev, store, monkeypatch):
    _, table = page(browser)
    sid, seen = table["id"][0].as_py(), table["current"][0].as_py()
    target = ">50K" if seen == "<=50K" else "<=50K"

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store, "record_many", full)
    sent = []
    monkeypatch.setattr(browser, "send", lambda content, buffers=None: sent.append(content))
    browser._on_msg(browser, {"type": "action", "rid": 41, "action": "relabel", "id": sid,
                              "label": target, "seen": seen, "token": browser.version,
                              "mode": "suspects", "source": "grid"}, [])
    assert len(sent) == 1 and sent[0]["rid"] == 41 and sent[0]["type"] == "reply"
    assert "No space left on device" in sent[0]["error"] and str(store.path) in sent[0]["error"]
    monkeypatch.undo()
    assert LabelStore(ev, store.path, author="x").events()["op"].tolist() == []
    reply = act(browser, "relabel", id=sid, label=target, seen=seen)  # space again: it works
    assert reply["error"] is None and store.labels()[sid] == target


def test_an_unexpected_exception_is_answered_too(browser, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(browser._ctx.rows, "page", broken)
    reply, buffers = browser.handle({"type": "page", "rid": 3, "mode": "all", "page": 0})
    assert reply["rid"] == 3 and buffers == []
    assert reply["error"] == "internal error answering 'page', please report it: RuntimeError: boom"


def test_an_engine_analysis_says_why_it_has_no_detail(adult, tmp_path):
    from errlens.engines import LazyAnalysis

    path = tmp_path / "adult.parquet"
    adult.iloc[:2000].drop(columns="split").assign(pred="<=50K").to_parquet(path)
    lazy = LazyAnalysis.from_duckdb(path, y_true="income", y_pred="pred", id="id",
                                    features=["age", "education"])
    b = SuspectBrowser(lazy, mode="all")
    assert "in-memory errlens.Analysis" in b.unavailable["detail"]
    reply, _ = b.handle({"type": "detail", "rid": 1, "id": adult["id"].iloc[0]})
    assert reply["error"] == b.unavailable["detail"]
