"""Importing already-parsed events with their own locations (what importers of other
providers and the webhook receiver use): provenance, skips and duplicates name the
location the caller gave, not a file of the importer's own.  Expectations are worked
out by hand from the events written here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from journeytui.domain.provenance import explain_figure
from journeytui.errors import UserError
from journeytui.importers.sendgrid import import_parsed_events

NOW = 1_767_600_000 + 90 * 86_400


def _pairs(kit: Any) -> list[tuple[dict[str, Any], Any]]:
    t = kit.T0
    return [
        # as a Mailgun log would have given them: the user's file, its lines
        (kit.ev("processed", "ann@example.com", t, sg_event_id="p-ann"), ("mailgun.json", 3, 0)),
        (kit.ev("delivered", "ann@example.com", t + 2, sg_event_id="d-ann"),
         ("mailgun.json", 3, 1)),
        (kit.ev("processed", "bob@example.com", t, sg_event_id="p-bob"), ("<stdin>", 7)),
        (kit.ev("bounce", "bob@example.com", t + 3, sg_event_id="b-bob"), ("<stdin>", 9)),
        # no address: skipped, with the caller's location
        ({"event": "open", "timestamp": t + 5}, ("mailgun.json", 12, 4)),
    ]


def test_provenance_names_the_given_file_and_line(kit: Any) -> None:
    report = import_parsed_events(kit.store, iter(_pairs(kit)), now=NOW)
    assert report.batch_id == 1
    assert report.records == 5
    assert report.files == ["mailgun.json", "<stdin>"]  # first appearance order
    # Sent = 2 (ann delivered, bob bounced hard): the 4 message events behind it
    ex = explain_figure(kit.store, "Spring sale", "sent")
    assert (ex.value, ex.total) == (2, 4)
    got = sorted((r.source.file, r.source.line, r.source.index, r.source.event_id)
                 for r in ex.rows)
    assert got == [
        ("<stdin>", 7, None, "p-bob"),
        ("<stdin>", 9, None, "b-bob"),
        ("mailgun.json", 3, 0, "p-ann"),
        ("mailgun.json", 3, 1, "d-ann"),
    ]
    assert [r.source.where for r in ex.rows if r.source.event_id == "d-ann"] == [
        "mailgun.json:3 [index 1] (batch 1)"]
    # the skipped event is located where the caller said
    assert {r: s.locations for r, s in report.skipped.items()} == {
        "missing field 'email'": ["mailgun.json:12 [index 4]"]}
    # a location on stdin makes the batch a stdin batch
    assert kit.store.conn.execute(
        "SELECT kind, files FROM import_batches").fetchall() == [
        ("stdin", '["mailgun.json", "<stdin>"]')]


def test_a_second_import_of_the_same_events_changes_nothing(kit: Any) -> None:
    pairs = _pairs(kit)
    import_parsed_events(kit.store, pairs, now=NOW, source=("webhook", "webhook request-1"))
    again = import_parsed_events(kit.store, pairs, now=NOW)
    # 4 recorded events are duplicates now; the 5th is skipped as before
    dup = [s for r, s in again.skipped.items() if r.startswith("duplicate")]
    assert dup[0].count == 4
    assert dup[0].locations[:2] == ["mailgun.json:3 [index 0]", "<stdin>:7"]
    assert again.batch_id == 0  # nothing applied: no batch kept
    assert kit.store.conn.execute(
        "SELECT kind, label FROM import_batches").fetchall() == [("webhook", "webhook request-1")]


def test_dry_run_changes_nothing_and_an_error_while_reading_writes_nothing(kit: Any) -> None:
    path = kit.store.path
    kit.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.read_bytes()
    report = import_parsed_events(kit.store, _pairs(kit), now=NOW, dry_run=True)
    assert report.preview is not None and report.added["sent"] == 2
    assert kit.store.count("sends") == 0

    def failing() -> Iterator[tuple[dict[str, Any], Any]]:
        yield from _pairs(kit)[:2]
        raise UserError("late.json: line 4: not valid JSON. Nothing was imported.")

    with pytest.raises(UserError, match="late.json"):
        import_parsed_events(kit.store, failing(), now=NOW)
    kit.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert kit.store.count("sends") == 0
    assert kit.store.conn.execute("SELECT count(*) FROM import_batches").fetchone() == (0,)
    assert path.read_bytes() == before


def test_a_named_file_with_no_events_is_noted(kit: Any) -> None:
    report = import_parsed_events(kit.store, _pairs(kit)[:2], now=NOW,
                                  files=["mailgun.json", "empty.json"])
    assert report.files == ["mailgun.json", "empty.json"]
    assert "empty.json: no events in this file." in report.notes
