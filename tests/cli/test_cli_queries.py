"""`stats`, `contact`, `activities`, `forget` from the command line, as JSON and as text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journeytui.cli import main
from journeytui.store import Recorder
from tests.blank_store import blank_store

T0 = 1_767_600_000


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "cli.db"
    s = blank_store(path, token_key=b"c" * 16)
    with s.transaction():
        r = Recorder(s)
        lst = r.ensure_list("News")
        e = r.ensure_email("Teaser", subject="Hello [bold]you[/]", list_id=lst, send_at=T0)
        r.ensure_email("Draft", status="draft")
        a = r.contact("ann@example.com", first_name="Ann", last_name="Lee", consent=True, at=T0)
        b = r.contact("ben@example.com", first_name="Ben", last_name="Ode", at=T0)
        for c in (a, b):
            r.send(e, c, T0)
        r.click(e, a, "https://x.example/pricing", T0 + 100)
        r.click(e, b, "https://x.example/pricing\x1b]0;pwned\x07", T0 + 200)
    s.close()
    return str(path)


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_stats_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["stats", "--db", db, "--json"])
    assert [d["name"] for d in data] == ["Teaser"]
    d = data[0]
    assert (d["sent"], d["delivered"], d["clicked"], d["clicks_total"]) == (2, 2, 2, 2)
    assert d["anonymous_clicks"] == 1
    assert d["click_rate"] == 1.0
    assert {link["url"] for link in d["links"]} == {
        "https://x.example/pricing", "https://x.example/pricing\x1b]0;pwned\x07"}


def test_db_option_works_before_the_command(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["--db", db, "stats", "--json"])
    assert data[0]["name"] == "Teaser"


def test_activities_json_consented_only(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["activities", "Teaser", "--db", db, "--json"])
    assert data["email"] == "Teaser" and data["anonymous_clicks"] == 1
    assert [(a["address"], a["activity"], a["value"]) for a in data["activities"]] == [
        ("ann@example.com", "click", "https://x.example/pricing")]
    assert data["activities"][0]["contact"] == "Ann Lee"


def test_contact_json_with_history(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["contact", "an lee", "--db", db, "--json"])
    assert data[0]["address"] == "ann@example.com"
    assert data[0]["tracking_consent"] is True
    assert data[0]["activities"][0]["value"] == "https://x.example/pricing"


def test_text_output_never_carries_escape_sequences(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", db, "--email", "Teaser"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out
    assert "Hello [bold]you[/]" in out


def test_forget_keeps_statistics(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = _json(capsys, ["stats", "--db", db, "--json"])
    assert main(["forget", "ann@example.com", "--db", db]) == 0
    assert "Forgot ann@example.com" in capsys.readouterr().out
    assert _json(capsys, ["stats", "--db", db, "--json"]) == before
    data = _json(capsys, ["activities", "Teaser", "--db", db, "--json"])
    assert data["activities"] == []


def test_errors_are_messages_not_tracebacks(db: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", db, "--email", "Teasr"]) == 2
    err = capsys.readouterr().err
    assert "no email named 'Teasr'" in err and "Did you mean: 'Teaser'" in err
    assert "Traceback" not in err
    assert main(["stats", "--db", db, "--email", "Draft"]) == 2
    assert "drafts have no statistics" in capsys.readouterr().err
    assert main(["stats", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no such store" in capsys.readouterr().err
    assert main(["forget", "nobody@example.com", "--db", db]) == 2
    assert "no contact" in capsys.readouterr().err


def test_contact_shows_journey_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from journeytui.domain.journeys import load_file

    path = tmp_path / "j.db"
    s = blank_store(path)
    with s.transaction():
        r = Recorder(s)
        e = r.ensure_email("Teaser", send_at=T0)
        a = r.contact("ann@example.com", first_name="Ann", last_name="Lee", consent=True, at=T0)
        r.send(e, a, T0)
        r.open(e, a, T0 + 60)
    (tmp_path / "j.json").write_text(json.dumps({
        "name": "Mini", "goal": "g", "stages": [{"name": "Seen"}, {"name": "Keen"}],
        "entry": {"opened": {}}, "transitions": [
            {"from": "Seen", "to": "Keen", "priority": 1, "when": {"clicked": {}}}]}))
    load_file(s, tmp_path / "j.json")
    s.close()
    data = _json(capsys, ["contact", "ann lee", "--db", str(path), "--json"])
    assert data[0]["journeys"] == [
        {"journey": "Mini", "stage": "Seen", "since": "2026-01-05T08:01:00Z", "exit": False}]
    assert main(["contact", "ann lee", "--db", str(path)]) == 0
    assert "journey Mini: stage Seen since 2026-01-05 08:01" in capsys.readouterr().out
