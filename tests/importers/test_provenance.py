"""Issue 10 item 7: every figure of an email lists the events behind it with where each
came from (file, line, array index, provider event id); anonymous events never name the
person.  Expectations are worked out by hand from the files written here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.domain.provenance import explain_figure
from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Recorder

NOW = 1_767_600_000 + 90 * 86_400


def _events(kit: Any) -> list[dict[str, Any]]:
    t = kit.T0
    return [
        kit.ev("processed", "ann@example.com", t, sg_event_id="p-ann"),      # line 1
        kit.ev("delivered", "ann@example.com", t + 2, sg_event_id="d-ann"),  # line 2
        kit.ev("processed", "bob@example.com", t, sg_event_id="p-bob"),      # line 3
        kit.ev("bounce", "bob@example.com", t + 3, sg_event_id="b-bob"),     # line 4
        kit.ev("click", "ann@example.com", t + 600, sg_event_id="c-ann",     # line 5
               url="https://example.com/pricing"),
        kit.ev("click", "ann@example.com", t + 900, sg_event_id="c-ann-2",   # line 6
               url="https://example.com/blog"),
        kit.ev("spamreport", "ann@example.com", t + 1000, sg_event_id="s-ann"),  # line 7
    ]


def test_figures_list_their_events_with_file_line_and_id(kit: Any) -> None:
    path = kit.ndjson(_events(kit), "march.ndjson")
    report = import_sendgrid(kit.store, [path], now=NOW)
    assert report.batch_id == 1
    # Sent = 2 (ann delivered, bob bounced): 4 provider events behind it
    ex = explain_figure(kit.store, "Spring sale", "sent")
    assert (ex.value, ex.total) == (2, 4)
    got = sorted((r.event, r.who, r.source.line, r.source.event_id) for r in ex.rows)
    assert got == [
        ("bounce", "bob@example.com", 4, "b-bob"),
        ("delivered", "ann@example.com", 2, "d-ann"),
        ("processed", "ann@example.com", 1, "p-ann"),
        ("processed", "bob@example.com", 3, "p-bob"),
    ]
    assert all(r.source.file == str(path) for r in ex.rows)
    # Delivered = 1 (ann): her processed and delivered events
    ex = explain_figure(kit.store, "Spring sale", "delivered")
    assert (ex.value, ex.total) == (1, 2)
    assert [r.source.event_id for r in ex.rows] == ["p-ann", "d-ann"]
    # Clicked = 1 recipient, 2 clicks (ann has no consent: anonymous, no address)
    ex = explain_figure(kit.store, "Spring sale", "clicked")
    assert (ex.value, ex.total) == (1, 2)
    assert [(r.who, r.source.line, r.source.event_id) for r in ex.rows] == [
        (None, 5, "c-ann"), (None, 6, "c-ann-2")]
    # per link: pricing has 1 clicker, 1 click (line 5)
    ex = explain_figure(kit.store, "Spring sale", "clicked", link="pricing")
    assert (ex.value, ex.total, ex.rows[0].source.line) == (1, 1, 5)
    # Spam reports = 1 (anonymous: source and id only)
    ex = explain_figure(kit.store, "Spring sale", "spam")
    assert (ex.value, ex.total) == (1, 1)
    assert (ex.rows[0].who, ex.rows[0].source.line, ex.rows[0].source.event_id) == (
        None, 7, "s-ann")
    assert explain_figure(kit.store, "Spring sale", "opened").total == 0


def test_anonymous_events_never_name_the_person(
    kit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = Recorder(kit.store)
    with kit.store.transaction():
        rec.contact("ann@example.com", first_name="Annabel", last_name="Quux")
    import_sendgrid(kit.store, [kit.ndjson(_events(kit))], now=NOW)
    db = str(kit.store.path)
    for figure in ("clicked", "spam"):
        assert main(["--db", db, "explain", "Spring sale", "--figure", figure]) == 0
        out = capsys.readouterr().out
        assert main(["--db", db, "explain", "Spring sale", "--figure", figure, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        for text in (out, json.dumps(data)):
            for secret in ("ann@example.com", "Annabel", "Quux", "ann@"):
                assert secret not in text
        assert data["events_total"] == (2 if figure == "clicked" else 1)
        assert all(e["anonymous"] and e["contact"] is None for e in data["events"])
        assert "(anonymous)" in out


def test_consented_activity_names_the_contact_and_sources_survive_a_second_import(
    kit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = Recorder(kit.store)
    with kit.store.transaction():
        rec.contact("ann@example.com", consent=True, at=kit.T0 - 10)
    first = kit.ndjson(_events(kit)[:4], "a.ndjson")
    second = kit.array(_events(kit)[4:5], "b.json")
    import_sendgrid(kit.store, [first], now=NOW)
    import_sendgrid(kit.store, [second], now=NOW)
    ex = explain_figure(kit.store, "Spring sale", "clicked")
    assert [(r.who, r.source.batch_id, r.source.file, r.source.line, r.source.index)
            for r in ex.rows] == [("ann@example.com", 2, str(second), 2, 0)]
    assert main(["--db", str(kit.store.path), "explain", "Spring sale", "--figure",
                 "clicked"]) == 0
    out = capsys.readouterr().out
    assert "Spring sale — Clicked: 1" in out
    assert f"{second}:2 [index 0] (batch 2)" in out


def test_explain_errors_are_one_clear_message(
    kit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import_sendgrid(kit.store, [kit.ndjson(_events(kit))], now=NOW)
    db = str(kit.store.path)
    assert main(["--db", db, "explain", "Spring sale"]) == 2
    assert main(["--db", db, "explain", "Nope", "--figure", "sent"]) == 2
    assert main(["--db", db, "explain", "Spring sale", "--figure", "sent", "--link", "x"]) == 2
    assert main(["--db", db, "explain", "--contact", "ann@example.com"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_moves_name_the_event_behind_them(tmp_path: Any) -> None:
    from journeytui.demo import generate
    from journeytui.domain.provenance import explain_moves
    from journeytui.store import Store

    generate(tmp_path / "d.db", contacts=200, seed=7)
    store = Store.open(tmp_path / "d.db")
    try:
        addr, journey, kind, email, at = store.conn.execute(
            "SELECT c.email, j.name, a.kind, e.name, m.at FROM journey_moves m"
            " JOIN contacts c ON c.id = m.contact_id JOIN journeys j ON j.id = m.journey_id"
            " JOIN activities a ON a.id = m.activity_id JOIN emails e ON e.id = m.email_id"
            " ORDER BY m.id LIMIT 1"
        ).fetchone()
        ex = explain_moves(store, addr, journey)
        move = next(m for m in ex.moves if m.at == at)
        assert move.trigger == f"{kind} of {email}"
        # demo data has no per-event source: the row says so
        assert move.sources[0].source is None
        assert move.sources[0].who == addr
    finally:
        store.close()
