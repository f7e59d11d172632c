"""An import advances every journey in the same transaction (issue 3: import advances)."""

from __future__ import annotations

import json
from pathlib import Path

from journeytui.domain.journeys import load_file
from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Recorder
from tests.blank_store import blank_store

T0 = 1_767_600_000


def test_sendgrid_import_moves_contacts_forward(tmp_path: Path) -> None:
    store = blank_store(tmp_path / "s.db")
    with store.transaction():
        r = Recorder(store)
        e = r.ensure_email("Teaser", send_at=T0)
        ann = r.contact("ann@example.com", consent=True, at=T0)
        r.send(e, ann, T0)
        r.ensure_link(e, "https://x.example/pricing")
    journey = {
        "name": "Mini",
        "goal": "pricing",
        "stages": [{"name": "Seen"}, {"name": "Keen"}],
        "entry": {"opened": {}},
        "transitions": [
            {"from": "Seen", "to": "Keen", "priority": 1,
             "when": {"clicked": {"email": "Teaser", "url": "pricing"}}},
        ],
    }
    (tmp_path / "j.json").write_text(json.dumps(journey))
    load_file(store, tmp_path / "j.json")
    assert store.conn.execute("SELECT count(*) FROM journey_moves").fetchone()[0] == 0

    events = [
        {"email": "ann@example.com", "timestamp": T0 + 100, "event": "open",
         "sg_event_id": "e1", "category": "Teaser"},
        {"email": "ann@example.com", "timestamp": T0 + 200, "event": "click",
         "url": "https://x.example/pricing", "sg_event_id": "e2", "category": "Teaser"},
    ]
    (tmp_path / "ev.json").write_text(json.dumps(events))
    report = import_sendgrid(store, [tmp_path / "ev.json"])
    moves = store.conn.execute(
        "SELECT from_stage, to_stage FROM journey_moves ORDER BY at, id").fetchall()
    assert moves == [(None, "Seen"), ("Seen", "Keen")]
    assert any("journey Mini" in note and "2 new moves" in note for note in report.notes)
