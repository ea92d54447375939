"""`errlens changelog ...`: output a person can act on, and exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from errlens.changelog import LabelStore
from errlens.cli import main

LABELS = pd.Series(["cat", "dog", "dog", "cat", "fox"],
                   index=pd.Index([f"img-{i}" for i in range(5)], name="id"))


@pytest.fixture
def logs(tmp_path: Path) -> tuple[Path, Path]:
    ana = LabelStore(LABELS, tmp_path / "ana.jsonl", author="ana")
    ana.tag("v1")
    shutil.copy(ana.path, tmp_path / "ben.jsonl")
    ben = LabelStore(LABELS, tmp_path / "ben.jsonl", author="ben")
    ana.relabel("img-1", "cat", note="pointy ears")
    ana.relabel("img-4", "dog")
    ana.tag("v2")
    ben.confirm("img-1")
    return tmp_path / "ana.jsonl", tmp_path / "ben.jsonl"


def test_help_lists_every_verb(capsys):
    with pytest.raises(SystemExit) as info:
        main(["changelog", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for verb in ("verify", "show", "diff", "merge", "tag", "export", "import"):
        assert verb in out


def test_verify_ok_then_damaged(logs, capsys):
    ana, _ = logs
    assert main(["changelog", "verify", str(ana)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK:") and "Head hash:" in out
    head = out.split("Head hash: ")[1].split()[0]
    text = ana.read_text().replace("pointy ears", "round ears")
    ana.write_text(text)
    assert main(["changelog", "verify", str(ana)]) == 1
    out = capsys.readouterr().out
    assert "DAMAGED" in out and "line 3: the hash chain is broken" in out
    assert "restore the file" in out
    ana.write_text(text.replace("round ears", "pointy ears"))
    lines = ana.read_text().splitlines(keepends=True)
    ana.write_text("".join(lines[:-1]))
    assert main(["changelog", "verify", str(ana), "--head", head]) == 1
    assert "removed from or added at the end" in capsys.readouterr().out


def test_verify_repairs_a_torn_tail(logs, capsys):
    ana, _ = logs
    with open(ana, "a") as fh:
        fh.write('{"op":"se')
    assert main(["changelog", "verify", str(ana)]) == 1
    assert "--repair" in capsys.readouterr().out
    assert main(["changelog", "verify", str(ana), "--repair"]) == 0
    assert "Removed an incomplete last line" in capsys.readouterr().out


def test_show_diff_merge_tag(logs, tmp_path, capsys):
    ana, ben = logs
    assert main(["changelog", "show", str(ana)]) == 0
    out = capsys.readouterr().out
    assert "4 events" in out and "Versions:" in out and "pointy ears" in out
    assert main(["changelog", "show", str(ana), "--sample", "img-1"]) == 0
    assert "History of sample img-1 (1 events)" in capsys.readouterr().out
    assert main(["changelog", "diff", str(ana), "v1", "v2", "--csv",
                 str(tmp_path / "d.csv")]) == 0
    assert "2 sample(s) changed from v1 to v2" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "d.csv")["to"].tolist() == ["cat", "dog"]
    merged = tmp_path / "m.jsonl"
    assert main(["changelog", "merge", str(ana), str(ben), "-o", str(merged)]) == 0
    out = capsys.readouterr().out
    assert "1 sample(s) have conflicting labels: img-1" in out
    assert main(["changelog", "merge", str(ana), str(ben), "-o", str(merged)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["changelog", "tag", str(merged), "v3", "--author", "lead"]) == 0
    assert LabelStore(LABELS, merged, author="x").versions()["version"].tolist() == [
        "v1", "v2", "v3"]


def test_errors_are_plain_messages_with_exit_code_2(tmp_path, capsys):
    assert main(["changelog", "show", str(tmp_path / "missing.jsonl")]) == 2
    assert "does not exist; check the path" in capsys.readouterr().err
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["changelog", "show", str(tmp_path / "empty.jsonl")]) == 2
    assert "is empty (0 bytes)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["changelog", "merge", "a.jsonl"])
    assert info.value.code == 2


def test_export_then_import_csv_round_trip(logs, tmp_path, capsys):
    ana, _ = logs
    data = tmp_path / "data.csv"
    LABELS.rename("label").reset_index().to_csv(data, index=False)
    out = tmp_path / "batch.csv"
    assert main(["changelog", "export", str(ana), str(out), "--data", str(data),
                 "--ids", "img-0,img-2"]) == 0
    batch = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert batch["sample_id"].tolist() == ["img-0", "img-2"]
    batch["label"] = ["fox", "dog"]
    batch.to_csv(out, index=False)
    capsys.readouterr()
    assert main(["changelog", "import", str(ana), str(out), "--data", str(data),
                 "--author", "carl"]) == 0
    assert "Recorded 2 events" in capsys.readouterr().out
    assert main(["changelog", "import", str(ana), str(out), "--data", str(data),
                 "--author", "carl"]) == 0
    assert "Nothing new" in capsys.readouterr().out
    store = LabelStore(LABELS, ana, author="x")
    assert store.labels()[["img-0", "img-2"]].tolist() == ["fox", "dog"]
    assert store.events()["cause"].iloc[-1]["import"] == "csv"
    assert main(["changelog", "export", str(ana), str(out), "--data", str(data),
                 "--ids", "img-9"]) == 2
    assert "unknown sample id(s) ['img-9']" in capsys.readouterr().err
