"""`errlens changelog ...`: output a person can act on, and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from errlens.changelog import LabelStore
from errlens.changelog.events import canonical, seal
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
    for force in ([], ["--force"]):  # a merged log is a changelog: never written over
        assert main(["changelog", "merge", str(ana), str(ben), "-o", str(merged), *force]) == 2
        assert "is an errlens changelog; errlens never writes over" in capsys.readouterr().err
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
                 "--ids", "img-9", "--force"]) == 2
    assert "unknown sample id(s) ['img-9']" in capsys.readouterr().err


def _data_csv(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    LABELS.rename("label").reset_index().to_csv(path, index=False)
    return path


def test_outputs_never_overwrite_the_log_or_an_existing_file(logs, tmp_path, capsys):
    ana, _ = logs
    data, before = _data_csv(tmp_path), ana.read_bytes()
    odd = tmp_path / "log.csv"  # a changelog under an unusual name
    shutil.copy(ana, odd)
    for argv in (["export", str(odd), str(odd), "--data", str(data), "--force"],
                 ["diff", str(ana), "v1", "v2", "--csv", str(ana)],
                 ["diff", str(ana), "v1", "v2", "--csv", str(ana), "--force"]):
        assert main(["changelog", *argv]) == 2
        assert "is the changelog itself" in capsys.readouterr().err
    assert main(["changelog", "export", str(ana), str(ana), "--data", str(data)]) == 2
    assert ana.read_bytes() == odd.read_bytes() == before
    batch = tmp_path / "batch.csv"
    assert main(["changelog", "export", str(ana), str(batch), "--data", str(data)]) == 0
    batch.write_text("answered by hand")
    assert main(["changelog", "export", str(ana), str(batch), "--data", str(data)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert batch.read_text() == "answered by hand"
    assert main(["changelog", "export", str(ana), str(batch), "--data", str(data),
                 "--force"]) == 0


def test_file_kinds_follow_the_extension_in_any_case(logs, tmp_path, capsys):
    ana, _ = logs
    data = _data_csv(tmp_path)
    assert main(["changelog", "export", str(ana), str(tmp_path / "TASKS.JSON"),
                 "--data", str(data)]) == 0
    assert (tmp_path / "TASKS.JSON").read_text().lstrip().startswith("[")
    assert main(["changelog", "export", str(ana), str(tmp_path / "batch.xlsx"),
                 "--data", str(data)]) == 2
    assert "must be a .csv file or a Label Studio .json file" in capsys.readouterr().err
    assert not (tmp_path / "batch.xlsx").exists()


def test_verify_head_prefix_bad_head_and_wrong_dataset(logs, tmp_path, capsys):
    ana, _ = logs
    assert main(["changelog", "verify", str(ana)]) == 0
    head = capsys.readouterr().out.split("Head hash: ")[1].split()[0]
    assert main(["changelog", "verify", str(ana), "--head", head[:16].upper()]) == 0
    assert main(["changelog", "verify", str(ana), "--head", "garbage"]) == 2
    assert "is not a head hash" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    pd.DataFrame({"id": LABELS.index, "label": ["cat"] * 5}).to_csv(other, index=False)
    assert main(["changelog", "verify", str(ana), "--data", str(other)]) == 2
    err = capsys.readouterr().err
    assert "belongs to another dataset" in err and "not judged" in err


def test_verify_refuses_a_header_of_another_format(logs, capsys):
    """A header re-hashed with another "format" passes the chain but not the header check."""
    ana, _ = logs
    lines = ana.read_text().splitlines()
    header = json.loads(lines[0])
    header.pop("hash")
    header["format"] = "something-else"
    line, digest = seal(canonical(header), "")
    rest = []
    for old in lines[1:]:
        body = json.loads(old)
        body.pop("hash")
        new, digest = seal(canonical(body), digest)
        rest.append(new)
    ana.write_text("\n".join([line, *rest]) + "\n")
    assert main(["changelog", "verify", str(ana)]) == 1
    assert "line 1: it is not an errlens changelog header" in capsys.readouterr().out


def test_merge_output_in_a_folder_or_a_missing_folder(logs, tmp_path, capsys):
    ana, ben = logs
    assert main(["changelog", "merge", str(ana), str(ben), "-o", str(tmp_path), "--force"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["changelog", "merge", str(ana), str(ben), "-o",
                 str(tmp_path / "nowhere" / "m.jsonl")]) == 2
    assert "does not exist; create it first" in capsys.readouterr().err
    assert not list(tmp_path.parent.glob("*.tmp-*")) and not list(tmp_path.glob("*.tmp-*"))


def test_an_infinite_time_spent_names_its_line(logs, tmp_path, capsys):
    ana, _ = logs
    answers = tmp_path / "answers.csv"
    answers.write_text("sample_id,label,annotator,time_spent\nimg-0,cat,ivy,inf\n")
    assert main(["changelog", "import", str(ana), str(answers), "--data",
                 str(_data_csv(tmp_path))]) == 2
    assert "line 2: time_spent 'inf' must be a finite number" in capsys.readouterr().err


def test_show_and_diff_against_the_dataset(logs, tmp_path, capsys):
    ana, _ = logs
    data = _data_csv(tmp_path)
    assert main(["changelog", "show", str(ana), "--data", str(data)]) == 0
    assert "Open conflicts: 0" in capsys.readouterr().out
    assert main(["changelog", "diff", str(ana), "--data", str(data)]) == 0
    assert "2 sample(s) changed from original to current" in capsys.readouterr().out


def test_resolve_settles_conflicts_from_the_command_line(logs, tmp_path, capsys):
    ana, ben = logs
    merged = tmp_path / "merged.jsonl"
    assert main(["changelog", "merge", str(ana), str(ben), "-o", str(merged)]) == 0
    assert "changelog resolve" in capsys.readouterr().out
    assert main(["changelog", "resolve", str(merged), "--policy", "reviewer"]) == 2
    assert "--reviewer NAME" in capsys.readouterr().err
    assert main(["changelog", "resolve", str(merged), "--policy", "reviewer", "--reviewer",
                 "ana", "--author", "lead"]) == 0
    out = capsys.readouterr().out
    assert "Settled 1 of 1 conflict(s)" in out and "ana's label" in out
    store = LabelStore.from_log(merged, author="x")
    assert store.conflicts().empty and store.labels()["img-1"] == "cat"
    last = store.events(last=1).iloc[0]
    assert (last["op"], last["author"], last["role"]) == ("adjudicate", "lead", "adjudicator")
    assert main(["changelog", "resolve", str(merged)]) == 0
    assert "No open conflicts" in capsys.readouterr().out


def test_a_new_log_is_announced_and_a_trailing_separator_is_harmless(logs, tmp_path, capsys):
    _, _ = logs
    data = _data_csv(tmp_path)
    answers = tmp_path / "answers.csv"
    answers.write_text("sample_id,label,annotator\nimg-0,dog,ivy,\n")  # one cell too many
    typo = tmp_path / "typo.jsonl"
    assert main(["changelog", "import", str(typo), str(answers), "--data", str(data)]) == 0
    captured = capsys.readouterr()
    assert f"created a new changelog {typo}" in captured.err
    assert "Recorded 1 events" in captured.out
    assert LabelStore.from_log(typo, author="x").labels()["img-0"] == "dog"


def test_diff_csv_is_safe_to_open_in_a_spreadsheet(logs, tmp_path, capsys):
    ana, _ = logs
    LabelStore(LABELS, ana, author="@mallory").relabel(
        "img-0", "dog", note='=HYPERLINK("http://evil.example","click")')
    out = tmp_path / "d.csv"
    assert main(["changelog", "diff", str(ana), "v2", "current", "--csv", str(out)]) == 0
    row = pd.read_csv(out, dtype=str).iloc[0]
    assert row["author"] == "'@mallory"
    assert row["note"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert row["sample_id"] == "img-0" and row["to"] == "dog"
