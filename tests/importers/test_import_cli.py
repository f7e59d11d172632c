"""`journeytui import …` as a user runs it: what it prints, exit codes, the store it writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.store import Store


def _events(kit: Any) -> Path:
    t = kit.T0
    return kit.ndjson([
        kit.ev("processed", "ann@example.com", t),
        kit.ev("processed", "bob@example.com", t),
        kit.ev("delivered", "ann@example.com", t + 1),
        kit.ev("click", "ann@example.com", t + 300, url="https://www.example.com/pricing"),
        {"timestamp": t, "event": "open", "sg_event_id": "no-address",
         "marketing_campaign_name": "Spring sale"},
        kit.ev("bounce", "bob@example.com", t + 5, type="blocked"),
    ])


def _stats(db: Path) -> tuple[int, ...]:
    with Store.open(db) as s:
        return tuple(s.conn.execute(
            "SELECT sent, bounced_soft, clicks_total FROM email_stats"
        ).fetchone())


def test_import_into_a_missing_store_creates_it_and_says_so(
    kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "new.db"
    path = _events(kit)
    assert main(["import", "sendgrid", str(path), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"Created a new store {db}." in out
    assert "Read 6 events" in out
    assert "Created email 'Spring sale' (status sent)." in out
    lines = out.splitlines()
    assert any(line.split()[:2] == ["sends", "(messages"] and line.split()[-1] == "2"
               for line in lines)
    assert any(line.split() == ["bounced", "(soft)", "1"] for line in lines)
    assert any(line.split() == ["clicks", "1"] for line in lines)
    assert any(line.split() == ["deliveries", "1"] for line in lines)
    assert f"missing field 'email': 1, at {path}:5" in out
    assert _stats(db) == (2, 1, 1)

    # the same file again: nothing added, duplicates reported; --db before the command
    assert main(["--db", str(db), "import", "sendgrid", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Created a new store" not in out
    assert "Added: nothing." in out
    assert "duplicate sg_event_id and event type (already imported): 5" in out
    assert _stats(db) == (2, 1, 1)


def test_json_report(kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "j.db"
    assert main(["import", "sendgrid", str(_events(kit)), "--db", str(db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["created_store"] is True
    assert data["records"] == 6
    assert (data["added"]["sent"], data["added"]["bounced_soft"]) == (2, 1)
    assert data["ignored"] == {}
    assert data["added"]["delivered"] == 1
    assert data["skipped"] == [
        {"reason": "missing field 'email'", "count": 1,
         "locations": [f"{kit.tmp}/events.ndjson:5"]},
    ]


def test_email_option(kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "e.db"
    path = kit.ndjson([kit.ev("processed", campaign=None)])
    assert main(["import", "sendgrid", str(path), "--email", "Launch", "--db", str(db)]) == 0
    with Store.open(db) as s:
        assert s.conn.execute("SELECT name FROM emails").fetchall() == [("Launch",)]


def test_a_malformed_file_fails_names_the_line_and_creates_no_store(
    kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "never.db"
    bad = kit.text('{"event": "open"}\n{"event": \n', "bad.ndjson")
    assert main(["import", "sendgrid", str(_events(kit)), str(bad), "--db", str(db)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"journeytui: {bad}: line 2: not valid JSON")
    assert "Traceback" not in captured.err
    assert f"(No store was created at {db}.)" in captured.err
    assert not any(p.name.startswith("never.db") for p in tmp_path.iterdir())


def test_a_malformed_file_leaves_an_existing_store_as_it_was(
    kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    assert main(["import", "sendgrid", str(_events(kit)), "--db", str(db)]) == 0
    before = _stats(db)
    bad = kit.text("[1]", "bad.json")
    assert main(["import", "sendgrid", str(bad), "--db", str(db)]) == 2
    assert "index 0" in capsys.readouterr().err
    assert _stats(db) == before


def test_contacts(kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.db"
    csv_path = kit.text(
        "email,first_name,last_name,tracking_consent,lists\n"
        "ann@example.com,Ann,Lee,yes,Newsletter\n",
        "c.csv",
    )
    assert main(["import", "contacts", str(csv_path), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"Read 1 row from {csv_path}." in out
    assert any(line.split() == ["new", "contacts", "1"] for line in out.splitlines())
    bad = kit.text("email,tracking_consent\nann@example.com,perhaps\n", "bad.csv")
    assert main(["import", "contacts", str(bad), "--db", str(db), "--json"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: 1 problem; nothing was imported" in err
    assert "line 2: field 'tracking_consent': 'perhaps'" in err
    with Store.open(db) as s:
        assert s.conn.execute("SELECT email, consent FROM contacts").fetchall() == [
            ("ann@example.com", 1)
        ]


def test_control_characters_from_data_never_reach_the_terminal(
    kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    path = kit.ndjson([
        kit.ev("processed", campaign="Evil\x1b[2J\x1b]0;owned\x07"),
        kit.ev("b\x1b[31mad", campaign="x"),
    ])
    assert main(["import", "sendgrid", str(path), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "Created email 'Evil\\x1b[2J\\x1b]0;owned\\x07'" in out
    assert "unknown event type 'b\\x1b[31mad'" in out


def test_import_needs_a_kind(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["import"])
    assert info.value.code == 2
    assert "sendgrid" in capsys.readouterr().err


def test_many_files_are_summed_up_in_one_line(
    kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(kit.ndjson([kit.ev("processed", f"u{i}@example.com")], f"f{i}.ndjson"))
             for i in range(6)]
    assert main(["import", "sendgrid", *paths, "--db", str(tmp_path / "m.db")]) == 0
    out = capsys.readouterr().out
    assert f"Read 6 events from 6 files ({paths[0]}, {paths[1]}, …, {paths[5]})." in out
    assert any(line.split()[:2] == ["sends", "(messages"] and line.split()[-1] == "6"
               for line in out.splitlines())
