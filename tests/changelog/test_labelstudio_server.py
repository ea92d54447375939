"""Round trip against a real Label Studio (pinned 1.23.2, its own venv, loopback, SQLite).

Set up once with ``scripts/labelstudio-venv.sh`` (venv + migrated template data dir with two
annotators holding legacy tokens). Skipped when absent, except under ``CI=true`` where the
setup is part of the run and its absence fails. Each run copies the template, starts the
server on a free loopback port, creates a project, imports the exported tasks, annotates as
two users (one skip), exports all tasks as JSON and imports them back into the store.
The export is saved under ``test-artifacts/``; ``fixtures/labelstudio_export.json`` is such a
recording, replayed without a server by ``test_labelstudio.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

import errlens as el
from errlens.annotators.agreement import label_matrix
from errlens.annotators.labelstudio import export_labelstudio, import_labelstudio
from errlens.changelog.store import LabelStore
from errlens.datasets import load_tweets

pytestmark = pytest.mark.labelstudio

ROOT = Path(__file__).resolve().parents[2]
LS_VENV = ROOT / ".venv-labelstudio"
TEMPLATE = LS_VENV / "errlens-template"
ARTIFACTS = ROOT / "test-artifacts"


def tweets_store(path: Path) -> tuple[LabelStore, el.Analysis]:
    """300 tweets (fixed sample) with a TF-IDF model's probabilities, and a store over them.

    ``test_labelstudio.py`` builds the same store to replay the recorded export.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    tweets = load_tweets()
    batch = tweets.sample(300, random_state=0)
    train = tweets.drop(batch.index).sample(3000, random_state=1)
    model = make_pipeline(TfidfVectorizer(min_df=2), LogisticRegression(max_iter=500))
    model.fit(train["text"], train["sentiment"])
    ev = el.Analysis.from_predictions(batch, y_true="sentiment", id="id", features=["text"],
                                      proba=model.predict_proba(batch["text"]),
                                      classes=list(model.classes_))
    return LabelStore(ev, path, author="lead"), ev


@dataclass
class Server:
    base: str
    tokens: dict[str, str]
    emails: dict[str, str]

    def call(self, method: str, path: str, user: str = "ana", **kwargs: Any) -> Any:
        reply = requests.request(method, self.base + path, timeout=60,
                                 headers={"Authorization": f"Token {self.tokens[user]}"},
                                 **kwargs)
        assert reply.ok, f"{method} {path} -> {reply.status_code}: {reply.text[:500]}"
        return reply.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def labelstudio(tmp_path: Path) -> Iterator[Server]:
    """A Label Studio on a free loopback port, on a copy of the template data dir."""
    if not (LS_VENV / "bin" / "label-studio").exists() or not (TEMPLATE / "users.json").exists():
        message = "Label Studio is not set up: run scripts/labelstudio-venv.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    data, home = tmp_path / "data", tmp_path / "home"
    shutil.copytree(TEMPLATE, data)
    home.mkdir()
    users = json.loads((TEMPLATE / "users.json").read_text())
    port = _free_port()
    # Explicit minimal environment: LS reads unprefixed HOST, PORT, DEBUG, CI, USERNAME, ...
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONUNBUFFERED": "1", "LABEL_STUDIO_BASE_DATA_DIR": str(data),
           "LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "",
           "FRONTEND_SENTRY_DSN": "", "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true"}
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [str(LS_VENV / "bin" / "label-studio"), "start", "--no-browser", "-d",
         "--internal-host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Label Studio exited ({proc.returncode}):\n"
                            f"{(tmp_path / 'server.log').read_text()[-3000:]}")
            try:
                if requests.get(base + "/health", timeout=2).json().get("status") == "UP":
                    break
            except (requests.ConnectionError, requests.Timeout, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("Label Studio did not report UP on /health within 120 s")
            time.sleep(0.25)
        yield Server(base, {u: v["token"] for u, v in users.items()},
                     {u: v["email"] for u, v in users.items()})
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _choice(label: str) -> dict[str, Any]:
    return {"from_name": "label", "to_name": "text", "type": "choices",
            "value": {"choices": [label]}}


def test_round_trip_through_label_studio(labelstudio: Server, tmp_path: Path) -> None:
    started = time.monotonic()
    store, ev = tweets_store(tmp_path / "labels.jsonl")
    ids = list(ev.ids[:6])
    tasks = export_labelstudio(store, tmp_path / "tasks.json", ids, analysis=ev,
                               text_column="text")
    config = (tmp_path / "tasks.config.xml").read_text()
    project = labelstudio.call("POST", "/api/projects/",
                               json={"title": "errlens round trip", "label_config": config})
    pid = project["id"]
    imported = labelstudio.call("POST", f"/api/projects/{pid}/import", json=tasks)
    assert imported["task_count"] == 6 and imported["prediction_count"] == 6
    listed = labelstudio.call("GET", "/api/tasks/", params={"project": pid, "page_size": 100})
    task_of = {t["data"]["sample_id"]: t["id"] for t in listed["tasks"]}
    assert sorted(task_of) == sorted(ids)

    current = store.labels()
    others = {i: next(c for c in store.classes if c != current[i]) for i in ids}
    plan = [  # (user, sample, label or None for a skip, lead_time, note)
        ("ana", ids[0], others[ids[0]], 4.25, "sarcasm, not praise"),
        ("ana", ids[1], current[ids[1]], 2.5, None),
        ("ana", ids[2], None, 7.0, None),
        ("ben", ids[0], current[ids[0]], 5.5, None),
        ("ben", ids[1], others[ids[1]], 1.75, None),
        ("ben", ids[3], current[ids[3]], 3.0, "clear"),
    ]
    for user, sample, label, lead, note in plan:
        result = [] if label is None else [_choice(str(label))]
        if note:
            result.append({"from_name": "note", "to_name": "text", "type": "textarea",
                           "value": {"text": [note]}})
        labelstudio.call("POST", f"/api/tasks/{task_of[sample]}/annotations/", user=user,
                         json={"result": result, "lead_time": lead,
                               "was_cancelled": label is None})

    export = labelstudio.call("GET", f"/api/projects/{pid}/export",
                              params={"exportType": "JSON", "download_all_tasks": "true"})
    users = labelstudio.call("GET", "/api/users/")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "labelstudio_export.json").write_text(json.dumps(export, indent=1))
    (ARTIFACTS / "labelstudio_users.json").write_text(json.dumps(users, indent=1))
    assert len(export) == 6  # unannotated tasks come back too
    recorded = json.loads((Path(__file__).parent / "fixtures" / "labelstudio_export.json")
                          .read_text())
    assert set(recorded[0]) <= set(export[0])  # the fixture still has the live export's shape
    assert set(recorded[0]["annotations"][0]) <= set(export[0]["annotations"][0])

    events = import_labelstudio(store, export, users=users)
    got = [(e.author, e.sample_id, e.op, e.new_label, e.time_spent, e.note) for e in events]
    email = labelstudio.emails
    want = [(email[u], s, "skip" if lab is None else ("confirm" if lab == current[s] else "set"),
             None if lab is None else lab, lead, note) for u, s, lab, lead, note in plan]
    assert sorted(got, key=str) == sorted(want, key=str)
    created = {(a["completed_by"], t["data"]["sample_id"]): a["created_at"]
               for t in export for a in t["annotations"]}
    by_email = {u["email"]: u["id"] for u in users}
    frame = store.events()
    for e, ts in zip(events, frame["timestamp"].iloc[-len(events):], strict=True):
        assert ts == pd.Timestamp(created[(by_email[e.author], e.sample_id)])
    assert all(e.cause["import"] == "labelstudio" for e in events)
    assert import_labelstudio(store, export, users=users) == []  # each annotation once
    # Both annotators relabeled or confirmed ids[0] and ids[1] differently: conflicts.
    assert set(store.conflicts()["sample_id"]) == {ids[0], ids[1]}
    matrix = label_matrix(store)
    assert list(matrix.columns) == sorted(email.values())
    assert matrix.loc[ids[2], email["ana"]] != matrix.loc[ids[2], email["ana"]]  # skip: NaN
    assert time.monotonic() - started < 60
