"""`import activities`: form submissions and page visits under the consent rule,
deduplicated, advancing journeys (a form goal is reached from an imported file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journeytui.cli import main
from journeytui.domain.journeys import load_file
from journeytui.errors import UserError
from journeytui.importers.activities import (
    DUPLICATE,
    NO_CONSENT,
    NO_CONTACT,
    import_activities,
)
from journeytui.store import Recorder, Store
from tests.blank_store import blank_store

T0 = 1_767_600_000  # 2026-01-05 08:00 UTC
NOW = T0 + 86_400 * 30


def _store(tmp_path: Path) -> Store:
    store = blank_store(tmp_path / "s.db")
    with store.transaction():
        r = Recorder(store)
        e = r.ensure_email("Webinar invite", send_at=T0)
        ann = r.contact("ann@example.com", consent=True, at=T0)
        r.contact("bob@example.com", consent=False, at=T0)
        seed = r.contact("seed@example.com", consent=True, at=T0)
        r.form(seed, "Webinar registration", T0 - 10)  # the form exists
        r.send(e, ann, T0)
        r.ensure_link(e, "https://x.example/webinar")
        r.open(e, ann, T0 + 60)
    return store


def _journey(store: Store, tmp_path: Path) -> None:
    journey = {
        "name": "Webinar",
        "goal": "Registered",
        "stages": [{"name": "Invited"}, {"name": "Registered"}],
        "entry": {"opened": {}},
        "transitions": [
            {"from": "Invited", "to": "Registered", "priority": 1,
             "when": {"submitted_form": {"form": "Webinar registration"}}},
        ],
    }
    (tmp_path / "j.json").write_text(json.dumps(journey))
    load_file(store, tmp_path / "j.json")


def _stage(store: Store, address: str) -> str | None:
    row = store.conn.execute(
        "SELECT p.stage FROM journey_positions p JOIN contacts c ON c.id = p.contact_id"
        " WHERE c.email = ?", (address,)).fetchone()
    return None if row is None else row[0]


def test_a_form_goal_is_reached_from_an_imported_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _journey(store, tmp_path)
    assert _stage(store, "ann@example.com") == "Invited"
    path = tmp_path / "act.csv"
    path.write_text(
        "email,kind,name,url,time,id\n"
        "ann@example.com,form,Webinar registration,,2026-01-05T09:00:00Z,f1\n"
        "bob@example.com,form,Webinar registration,,1767603600,f2\n"
        "ann@example.com,page,,https://x.example/pricing,1767604000,\n"
        "zed@example.com,page,,https://x.example/,1767604000,\n"
    )
    report = import_activities(store, path, now=NOW)
    assert _stage(store, "ann@example.com") == "Registered"
    assert report.added == {"forms": 1, "visits": 1}
    # bob has no tracking consent; zed is not a contact
    assert {r: s.count for r, s in report.skipped.items()} == {NO_CONSENT: 1, NO_CONTACT: 1}
    assert report.skipped[NO_CONSENT].locations == [f"{path}:3"]
    rows = store.conn.execute(
        "SELECT kind, value, at FROM activities WHERE kind IN ('form', 'visit')"
        " AND contact_id = (SELECT id FROM contacts WHERE email = 'ann@example.com')"
        " ORDER BY at").fetchall()
    assert rows == [("form", "Webinar registration", T0 + 3600),
                    ("visit", "https://x.example/pricing", T0 + 4000)]
    again = import_activities(store, path, now=NOW)
    assert again.added == {"forms": 0, "visits": 0}
    assert again.skipped[DUPLICATE].count == 2


def test_ndjson_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = _store(tmp_path)
    store.close()
    path = tmp_path / "act.ndjson"
    path.write_text(
        '{"email": "ann@example.com", "kind": "page", "url": "https://x.example/a", '
        '"time": "2026-01-05T10:00:00+01:00"}\n'
        '{"email": "ann@example.com", "kind": "form", "name": "Contact sales", "time": 1767600001}\n'
    )
    db = tmp_path / "s.db"
    before = db.read_bytes()
    assert main(["import", "activities", str(path), "--db", str(db), "--dry-run"]) == 0
    assert db.read_bytes() == before
    assert main(["import", "activities", str(path), "--db", str(db), "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{"):])
    assert data["added"] == {"forms": 1, "visits": 1}
    with Store.open(db) as s:
        assert s.conn.execute(
            "SELECT at FROM activities WHERE kind = 'visit'").fetchone()[0] == T0 + 3600


def test_bad_rows_refuse_the_file_with_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _store(tmp_path)
    path = tmp_path / "bad.csv"
    path.write_text(
        "email,kind,name,time\n"
        "ann@example.com,call,x,1767600000\n"
        "ann@example.com,form,,1767600000\n"
        "ann@example.com,form,Sign\x00up,1767600000\n"
        "ann@example.com,form,Sign up,yesterday\n"
    )
    with pytest.raises(UserError) as exc:
        import_activities(store, path, now=NOW)
    text = str(exc.value)
    assert "4 problems" in text
    assert "line 2: field 'kind'" in text and "line 3: field 'name' is empty" in text
    assert "line 4: field 'name' holds a NUL character" in text
    assert "line 5: field 'time'" in text
    store.close()
    assert main(["import", "activities", str(path), "--db", str(tmp_path / "s.db")]) == 2


def test_explain_names_the_file_and_line_and_the_batch_can_be_removed(tmp_path: Path) -> None:
    from journeytui.domain.batches import list_batches, remove_batch
    from journeytui.domain.provenance import explain_moves

    store = _store(tmp_path)
    _journey(store, tmp_path)
    path = tmp_path / "act.csv"
    path.write_text(
        "email,kind,name,url,time,id\n"
        "ann@example.com,page,,https://x.example/pricing,2026-01-05T08:30:00Z,\n"
        "ann@example.com,form,Webinar registration,,2026-01-05T09:00:00Z,f1\n"
    )
    report = import_activities(store, path, now=NOW)
    (batch,) = list_batches(store)
    assert (report.batch_id, batch.kind, batch.files, batch.events) == (
        batch.id, "file", [str(path)], 2)
    # ann's move to Registered came from the form on line 3 of the file
    moves = explain_moves(store, "ann@example.com", "Webinar").moves
    assert [(m.to_stage, m.at) for m in moves] == [("Invited", T0 + 60),
                                                    ("Registered", T0 + 3600)]
    (source,) = moves[1].sources
    assert (source.event, source.source.file, source.source.line) == (
        "form", str(path), 3)
    # removing the batch takes the activities and the move out; importing again
    # records them again (their ids are no longer seen)
    removal = remove_batch(store, batch.id, now=NOW)
    assert removal.activities == 2
    assert _stage(store, "ann@example.com") == "Invited"
    again = import_activities(store, path, now=NOW)
    assert again.added == {"forms": 1, "visits": 1}
    assert _stage(store, "ann@example.com") == "Registered"


def test_a_dry_run_or_an_import_recording_nothing_keeps_no_batch(tmp_path: Path) -> None:
    from journeytui.domain.batches import list_batches

    store = _store(tmp_path)
    path = tmp_path / "act.csv"
    path.write_text("email,kind,name,time\nann@example.com,form,Sign up,1767600000\n"
                    "zed@example.com,form,Sign up,1767600000\n")
    assert import_activities(store, path, now=NOW, dry_run=True).batch_id == 0
    assert list_batches(store) == []
    import_activities(store, path, now=NOW)
    again = import_activities(store, path, now=NOW)  # every row a duplicate or unknown
    assert again.batch_id == 0 and len(list_batches(store)) == 1
