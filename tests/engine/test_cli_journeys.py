"""`journey …`, `evaluate` and `funnel` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jbuilder import DAY, T0, Builder

from journeytui.cli import main
from journeytui.demo.journeys import install_demo_journeys
from journeytui.store import Store

SPRING = "Spring product teaser"


@pytest.fixture
def db(store: Store, b: Builder) -> str:
    for n in ("ann", "bob", "cara"):
        b.contact(n)
        b("send", n, T0, SPRING)
        b("open", n, T0 + 100, SPRING)
    b("click", "ann", T0 + 700, SPRING, "https://www.example.com/pricing")
    b("form", "ann", T0 + DAY, "Whitepaper download")
    b("visit", "ann", T0 + 2 * DAY, "https://www.example.com/demo")
    install_demo_journeys(store)
    return str(store.path)


def _out(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> str:
    assert main(argv) == code
    captured = capsys.readouterr()
    return captured.out if code == 0 else captured.err


def test_list_json_show_and_export_load(db: str, capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    data = json.loads(_out(capsys, ["journey", "list", "--json", "--db", db]))
    assert data[0] == {
        "name": "Lead nurturing", "goal": "Turn newsletter readers into sales conversations",
        "stages": ["Browsing", "Interested", "Engaged", "Sales-ready", "At-risk", "Dormant"],
    }
    assert [d["name"] for d in data] == ["Lead nurturing", "Webinar"]
    text = _out(capsys, ["journey", "show", "Lead nurturing", "--db", db])
    assert "transition 1 (any stage → At-risk), priority 1:" in text
    assert "no click in the last 3 campaigns received" in text
    out = tmp_path / "lead.json"
    _out(capsys, ["journey", "export", "Lead nurturing", "-o", str(out), "--db", db])
    raw = json.loads(out.read_text(encoding="utf-8"))
    raw["name"] = "Lead copy"
    out.write_text(json.dumps(raw), encoding="utf-8")
    assert "loaded 'Lead copy' (version 1)" in _out(capsys, ["journey", "load", str(out),
                                                             "--db", db])
    assert "deleted" in _out(capsys, ["journey", "delete", "Lead copy", "--db", db])
    err = _out(capsys, ["journey", "show", "Lead copy", "--db", db], code=2)
    assert "no journey named 'Lead copy'" in err and "Traceback" not in err


def test_funnel_json_keys_and_text(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    f = json.loads(_out(capsys, ["funnel", "Lead nurturing", "--json", "--db", db]))
    assert list(f["stages"][0]) == ["stage", "reached", "current", "next_step_conversion",
                                    "cumulative_conversion", "drop_off", "median_days_to_next",
                                    "stalled"]
    assert [s["reached"] for s in f["stages"]] == [3, 1, 1, 1]
    interested = next(t for t in f["transitions"] if t["to"] == "Interested")
    assert interested["emails"] == [{"email": SPRING, "moved": 1}]
    assert set(f) >= {"stages", "exits", "transitions", "clicks_with_no_move"}
    text = _out(capsys, ["funnel", "Lead nurturing", "--db", db])
    assert "Sales-ready" in text and "exits:" in text
    # text shows times as YYYY-MM-DD HH:MM (UTC); ISO 8601 is JSON's form only
    iso = f["evaluated_at"]  # e.g. 2026-01-07T09:00:00Z
    assert f"as of {iso[:10]} {iso[11:16]};" in text and iso not in text


def test_funnel_contacts_and_csv(db: str, capsys: pytest.CaptureFixture[str],
                                 tmp_path: Path) -> None:
    text = _out(capsys, ["funnel", "Lead nurturing", "--stage", "Sales-ready", "--contacts",
                         "--db", db])
    assert "ann@example.com" in text and "bob@example.com" not in text
    csv_path = tmp_path / "c.csv"
    _out(capsys, ["funnel", "Lead nurturing", "--stage", "Browsing", "--contacts", "--csv",
                  str(csv_path), "--db", db])
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and "bob@example.com" in lines[1] + lines[2]
    err = _out(capsys, ["funnel", "Lead nurturing", "--stage", "Nope", "--contacts", "--db", db],
               code=2)
    assert "has no stage 'Nope'" in err
    err = _out(capsys, ["funnel", "Lead nurturing", "--contacts", "--db", db], code=2)
    assert "need --stage" in err


def test_preview_does_not_touch_the_store(db: str, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    _out(capsys, ["journey", "export", "Webinar", "-o", str(out), "--db", db])
    raw = json.loads(out.read_text(encoding="utf-8"))
    raw["entry"] = {"opened": {}}
    out.write_text(json.dumps(raw), encoding="utf-8")
    before = Path(db).read_bytes()
    f = json.loads(_out(capsys, ["journey", "preview", str(out), "--json", "--db", db]))
    assert f["stages"][0]["reached"] == 3
    stored = json.loads(_out(capsys, ["funnel", "Webinar", "--json", "--db", db]))
    assert stored["stages"][0]["reached"] == 0  # nobody opened the invitation
    assert Path(db).read_bytes() == before
    assert "PREVIEW (nothing saved)" in _out(capsys, ["journey", "preview", str(out), "--db", db])


def test_evaluate_all_and_one(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = _out(capsys, ["evaluate", "--db", db])
    assert "Lead nurturing: 3 contacts in the journey" in text and "Webinar:" in text
    text = _out(capsys, ["evaluate", "Webinar", "--now", "2026-03-01", "--db", db])
    assert "as of 2026-03-01 00:00 UTC" in text
    err = _out(capsys, ["evaluate", "Webinar", "--now", "soon", "--db", db], code=2)
    assert "--now soon: not a time" in err


def test_names_from_data_are_not_terminal_escapes(store: Store, b: Builder, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    b.contact("ann")
    b("open", "ann", T0, SPRING)
    p = tmp_path / "e.json"
    p.write_text(json.dumps({
        "name": "Esc", "goal": "red \x1b[31m [bold]x[/]",
        "stages": [{"name": "A"}, {"name": "B"}],
        "transitions": [{"from": "A", "to": "B", "when": {"visited": {"url": "a\x1b]0;t\x07"}}}],
    }), encoding="utf-8")
    _out(capsys, ["journey", "load", str(p), "--db", str(store.path)])
    for argv in (["journey", "show", "Esc"], ["funnel", "Esc"], ["journey", "list"]):
        text = _out(capsys, [*argv, "--db", str(store.path)])
        assert "\x1b" not in text and "\x07" not in text


def test_versions_say_what_changed(db: str, capsys: pytest.CaptureFixture[str],
                                   tmp_path: Path) -> None:
    out = tmp_path / "lead.json"
    _out(capsys, ["journey", "export", "Lead nurturing", "-o", str(out), "--db", db])
    raw = json.loads(out.read_text(encoding="utf-8"))
    kept = [s for s in raw["segments"] if s["name"] != "Pricing, still interested"]
    assert len(kept) == len(raw["segments"]) - 1  # the demo journey has that segment
    raw["segments"] = kept
    out.write_text(json.dumps(raw), encoding="utf-8")
    _out(capsys, ["journey", "load", str(out), "--db", db])
    text = _out(capsys, ["journey", "versions", "Lead nurturing", "--db", db])
    rows = text.splitlines()[2:]  # under the heading and its dashes
    assert len(rows) == 2
    assert rows[0].rstrip().endswith("first version")
    assert rows[1].rstrip().endswith("− segment Pricing, still interested")
