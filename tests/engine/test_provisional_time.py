"""A provisional move (the check at evaluation time) is kept as "at the evaluation
time": an import that moves the evaluation time writes journey rows for the contacts it
brings, not for every provisional move; and every output shows the evaluation time
itself where such a move or position is concerned, never the stored marker."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from jbuilder import DAY, T0, Builder

from journeytui.cli import main
from journeytui.domain.engine import advance_all, evaluate
from journeytui.domain.funnel import full_funnel, funnel, stage_page
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import save_journey
from journeytui.store import Store
from journeytui.store.evaluation_time import AT_EVALUATION
from journeytui.timefmt import iso_time

SPRING = "Spring product teaser"
PRICING_EMAIL = "Pricing update"
PRICING = "https://www.example.com/pricing"
# A → B when the contact has not opened for 3 days (the check at evaluation time moves
# idle contacts: provisional moves to a main-line stage), B → C on a pricing click, any
# stage → X on an unsubscribe.
JOURNEY = {
    "name": "P",
    "stages": [{"name": "A"}, {"name": "B"}, {"name": "C"}, {"name": "X", "exit": True}],
    "transitions": [
        {"from": None, "to": "X", "priority": 1, "when": {"unsubscribed": {}}},
        {"from": "A", "to": "B", "when": {"not": {"opened": {"within_days": 3}}}},
        {"from": "B", "to": "C", "when": {"clicked": {"url": "pricing"}}},
    ],
    "segments": [{"name": "Idle", "stage": "B"}],
}
NOW0 = T0 + 10 * DAY  # c5's open: the latest event when the journey is saved
NOW1 = T0 + 12 * DAY  # the first batch's latest event


def _people(b: Builder) -> None:
    """c1, c2, c3, c4, c8 open at T0 (enter A).  c2 opens again at day 5.  c3 gets a
    send at day 5 (5 days without an open: A → B then, a real move) and clicks pricing
    at day 6 (B → C).  c4 unsubscribes at day 2 (X).  c5 opens at day 10 (the latest
    event: the evaluation time).  At day 10 c1, c2 (5 days without an open) and c8
    move A → B at the check: provisional."""
    for n in ("c1", "c2", "c3", "c4", "c5", "c8"):
        b.contact(n)
    for n in ("c1", "c2", "c3", "c4", "c8"):
        b("send", n, T0 - 600, SPRING)
        b("open", n, T0, SPRING)
    b("open", "c2", T0 + 5 * DAY, SPRING)
    b("send", "c3", T0 + 5 * DAY, PRICING_EMAIL)
    b("click", "c3", T0 + 6 * DAY, SPRING, PRICING)
    b("unsub_all", "c4", T0 + 2 * DAY)
    b("send", "c5", NOW0 - 600, SPRING)
    b("open", "c5", NOW0, SPRING)


def _first_batch(b: Builder) -> None:
    """c6 (new) opens at day 12, the new evaluation time; c8 gets a send then (A → B at
    day 12 by that send: a real move, at the same second as the check)."""
    b.contact("c6")
    b("send", "c6", NOW1 - 600, SPRING)
    b("open", "c6", NOW1, SPRING)
    b("send", "c8", NOW1, PRICING_EMAIL)


def _count_writes(store: Store) -> Counter[tuple[str, str]]:
    """Every row inserted, updated or deleted in journey_moves and journey_positions on
    this connection from now on (temporary triggers), as (table, operation) counts."""
    conn = store.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS written(tbl TEXT, op TEXT)")
    for table in ("journey_moves", "journey_positions"):
        for op in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS w_{table}_{op} AFTER {op} ON main.{table}"
                f" BEGIN INSERT INTO written VALUES ('{table}', '{op.lower()}'); END")
    conn.commit()

    class Writes(Counter[tuple[str, str]]):
        def read(self) -> Counter[tuple[str, str]]:
            got = Counter(conn.execute("SELECT tbl, op FROM written").fetchall())
            conn.execute("DELETE FROM written")
            conn.commit()
            return got

    return Writes()


def test_an_import_that_moves_the_time_writes_only_its_contacts_rows(
        store: Store, b: Builder) -> None:
    _people(b)
    save_journey(store, parse_journey(JOURNEY))
    provisional = store.conn.execute(
        "SELECT count(*) FROM journey_moves WHERE provisional = 1").fetchone()[0]
    assert provisional == 3  # c1, c2, c8: A → B at the check at day 10
    writes = _count_writes(store)
    # First batch (time 10 → 12 days): c6 is new (its entry move and its position are
    # inserted); c8 is read again (its provisional move deleted, its move by the send
    # inserted, its position updated).  c1's and c2's provisional moves stand as they
    # are (before: 2 moves and 2 positions rewritten at the new time).  c5 is not read:
    # its window closes at day 13 (opened at day 10, 3 days).
    _first_batch(b)
    report, = advance_all(store)
    assert not report.full
    assert writes.read() == Counter({
        ("journey_moves", "insert"): 2, ("journey_moves", "delete"): 1,
        ("journey_positions", "insert"): 1, ("journey_positions", "update"): 1})
    # Second batch (time 12 days → 12 days 1 hour): c1 opens.  Its provisional move is
    # deleted; it stays in A (it just opened), so no move; its position is updated.
    # c2's provisional move stands untouched.
    b("open", "c1", NOW1 + 3600, SPRING)
    advance_all(store)
    assert writes.read() == Counter({
        ("journey_moves", "delete"): 1, ("journey_positions", "update"): 1})
    # The rows read as a full evaluation writes them, and the funnels agree.
    kept = funnel(store, "P")
    assert kept == full_funnel(store, "P")
    moves = store.conn.execute(
        "SELECT contact_id, from_stage, to_stage, at, provisional FROM journey_moves"
        " ORDER BY contact_id, provisional, id").fetchall()
    positions = store.conn.execute(
        "SELECT contact_id, stage, since FROM journey_positions ORDER BY 1").fetchall()
    evaluate(store, "P")
    assert store.conn.execute(
        "SELECT contact_id, from_stage, to_stage, at, provisional FROM journey_moves"
        " ORDER BY contact_id, provisional, id").fetchall() == moves
    assert store.conn.execute(
        "SELECT contact_id, stage, since FROM journey_positions ORDER BY 1").fetchall() == positions
    assert funnel(store, "P") == kept
    # c2 alone is in B since the check: its since, and its move's time, are the marker.
    c2 = b.contacts["c2"].id
    assert (c2, "B", AT_EVALUATION) in positions
    assert (c2, "A", "B", AT_EVALUATION, 1) in moves


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    # the stored marker never shows, as a number or as a time
    assert str(AT_EVALUATION) not in out
    assert not re.search(r"\b\d{5,}-\d\d-\d\d", out)
    return json.loads(out)


def test_every_output_shows_the_evaluation_time(
        store: Store, b: Builder, capsys: pytest.CaptureFixture[str]) -> None:
    _people(b)
    save_journey(store, parse_journey(JOURNEY))
    _first_batch(b)
    advance_all(store)
    db = ["--db", str(store.path)]
    now1 = iso_time(NOW1)  # 2026-01-17T08:00:00Z
    # Positions at day 12: A c5 (day 10), c6 (day 12); B c1, c2 (since the check, day
    # 12), c8 (by the send, day 12); C c3 (day 6); X c4 (day 2).
    f = _json(capsys, ["funnel", "P", "--json", *db])
    assert f["evaluated_at"] == now1
    assert [(s["reached"], s["current"]) for s in f["stages"]] == [(7, 2), (4, 3), (1, 1)]
    # A → B: c1 12 days (T0 → the check at day 12), c2 12, c3 5, c8 12: sorted 5, 12,
    # 12, 12 → median 12.0 (the check's time kept at day 10 would give 10.0);
    # B → C: c3 1 day.
    assert [s["median_days_to_next"] for s in f["stages"]] == [12.0, 1.0, None]
    assert [s["stalled"] for s in f["stages"]] == [0, 0, None]
    # --stall-days 1: A c5 (2 days); B nobody (all three since day 12)
    f = _json(capsys, ["funnel", "P", "--json", "--stall-days", "1", *db])
    assert [s["stalled"] for s in f["stages"]] == [1, 0, None]

    # As of day 12 08:00 exactly (the evaluation time): the check's moves count.
    f = _json(capsys, ["funnel", "P", "--json", "--as-of", "2026-01-17 08:00", *db])
    assert [s["reached"] for s in f["stages"]] == [7, 4, 1]
    assert [s["median_days_to_next"] for s in f["stages"]] == [12.0, 1.0, None]
    # As of day 11: only c3 has reached B (day 5); c6 has not entered; reached A:
    # c1, c2, c3, c4, c5, c8 = 6.
    f = _json(capsys, ["funnel", "P", "--json", "--as-of", "2026-01-16 08:00", *db])
    assert [s["reached"] for s in f["stages"]] == [6, 1, 1]
    # The cohort that entered on day 0 (c1, c2, c3, c4, c8): A → B 12, 12, 5, 12 days.
    f = _json(capsys, ["funnel", "P", "--json", "--entered-from", "2026-01-05",
                       "--entered-to", "2026-01-05", *db])
    assert [s["reached"] for s in f["stages"]] == [5, 4, 1]
    assert f["stages"][0]["median_days_to_next"] == 12.0

    # Stage B's contacts: all three there since day 12, 0.0 days; longest first, ties
    # by contact id (c1, c2, c8: c8 by a real move at the same second).
    rows = _json(capsys, ["funnel", "P", "--contacts", "--stage", "B", "--json", *db])
    assert [(r["email"], r["since"], r["days_in_stage"]) for r in rows] == [
        ("c1@example.com", now1, 0.0), ("c2@example.com", now1, 0.0),
        ("c8@example.com", now1, 0.0)]
    jid = store.conn.execute("SELECT id FROM journeys WHERE name = 'P'").fetchone()[0]
    for sort, order in (("longest", ["c1", "c2", "c8"]), ("newest", ["c8", "c2", "c1"])):
        page = stage_page(store, jid, "B", before=None, sort=sort, after=None, limit=2)
        page += stage_page(store, jid, "B", before=None, sort=sort, after=page[-1][0],
                           limit=2)
        assert [m.address.split("@")[0] for _, m in page] == order
        assert {m.since for _, m in page} == {NOW1}
        last = stage_page(store, jid, "B", before=None, sort=sort, after=None, limit=1,
                          backwards=True)
        assert [m.address.split("@")[0] for _, m in last] == order[-1:]

    seg = _json(capsys, ["segment", "show", "Idle", "--json", *db])
    assert (seg["as_of"], seg["members"]) == (now1, 3)
    assert [(m["email"], m["in_stage_since"], m["days_in_stage"])
            for m in seg["contacts"]] == [("c1@example.com", now1, 0.0),
                                          ("c2@example.com", now1, 0.0),
                                          ("c8@example.com", now1, 0.0)]

    card = _json(capsys, ["contact", "c1@example.com", "--json", *db])
    assert card[0]["journeys"] == [
        {"journey": "P", "stage": "B", "since": now1, "exit": False}]

    moves = _json(capsys, ["explain", "--contact", "c1@example.com", "--journey", "P",
                           "--json", *db])["moves"]
    assert [(m["to"], m["time"], m["provisional"]) for m in moves] == [
        ("A", iso_time(T0), False), ("B", now1, True)]

    # Insights read every move in time order: whatever they find, no time is past
    # the evaluation time.
    found = _json(capsys, ["insights", "P", "--json", *db])
    times = re.findall(r'"(\d{4}-\d\d-\d\dT[\d:]+Z)"', json.dumps(found))
    assert times and max(times) <= now1
