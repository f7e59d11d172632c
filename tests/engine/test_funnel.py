"""The funnel: known answers on a hand-built store, invariants on random ones."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jbuilder import DAY, T0, Builder, new_store
from test_incremental import PEOPLE, SINCE_JOURNEY, _apply, event

from journeytui.demo.journeys import demo_journeys
from journeytui.domain.engine import evaluate
from journeytui.domain.funnel import contacts_csv, funnel, preview, stage_contacts
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import save_journey
from journeytui.store import Store

SPRING = "Spring product teaser"
NOW = T0 + 40 * DAY

JOURNEY = {
    "name": "F", "goal": "test",
    "stages": [{"name": "A"}, {"name": "B"}, {"name": "C"}, {"name": "X", "exit": True}],
    "transitions": [
        {"from": None, "to": "X", "priority": 1, "when": {"unsubscribed": {}}},
        {"from": "A", "to": "C", "priority": 5, "when": {"visited": {"url": "/demo"}}},
        {"from": "A", "to": "B", "when": {"clicked": {"email": SPRING, "url": "pricing"}}},
        {"from": "B", "to": "C", "when": {"submitted_form": {"form": "Contact sales"}}},
    ],
}


def _known(store: Store, b: Builder) -> dict[str, int]:
    ids = {}
    for n in ("c1", "c2", "c3", "c4", "c5"):
        ids[n] = b.contact(n).id
        b("send", n, T0 - 600, SPRING)
        b("open", n, T0, SPRING)
    b("click", "c1", T0 + 2 * DAY, SPRING, "https://www.example.com/pricing")
    b("form", "c1", T0 + 6 * DAY, "Contact sales")
    b("click", "c2", T0 + 4 * DAY, SPRING, "https://www.example.com/pricing")
    b("click", "c3", T0 + 1 * DAY, SPRING, "https://www.example.com/products/tracker")
    b("unsub_all", "c4", T0 + 1 * DAY)
    b("visit", "c5", T0 + 3 * DAY, "https://www.example.com/demo")
    return ids


def test_known_funnel(store: Store, b: Builder) -> None:
    # c5 jumps A → C on day 3: it counts as reaching B then too (A → B: 2, 4, 3 days).
    # B → C: c1 4 days, c5 0 days.
    _known(store, b)
    save_journey(store, parse_journey(JOURNEY), now=NOW)
    f = funnel(store, "F", stall_days=30)
    assert f["stages"] == [
        {"stage": "A", "reached": 5, "current": 1, "next_step_conversion": 0.6,
         "cumulative_conversion": 1.0, "drop_off": 2, "median_days_to_next": 3.0, "stalled": 1},
        {"stage": "B", "reached": 3, "current": 1, "next_step_conversion": 0.6667,
         "cumulative_conversion": 0.6, "drop_off": 1, "median_days_to_next": 2.0, "stalled": 1},
        {"stage": "C", "reached": 2, "current": 2, "next_step_conversion": None,
         "cumulative_conversion": 0.4, "drop_off": None, "median_days_to_next": None,
         "stalled": None},
    ]
    assert f["exits"] == [{"stage": "X", "reached": 1, "current": 1, "stalled": None}]
    assert f["entry"]["entered"] == 5 and f["entry"]["emails"] == [{"email": SPRING, "moved": 5}]
    by_to = {(t["from"], t["to"]): t for t in f["transitions"]}
    assert by_to[("A", "B")]["emails"] == [{"email": SPRING, "moved": 2}]
    assert by_to[("B", "C")]["emails"] == [{"email": None, "moved": 1}]
    assert by_to[("A", "C")]["moved"] == 1 and by_to[(None, "X")]["moved"] == 1
    assert f["clicks_with_no_move"] == [{"stage": "A", "email": SPRING, "clicks": 3, "moved": 2,
                                         "clicks_with_no_move": 1}]
    # A longer threshold: nobody stalled.
    assert [s["stalled"] for s in funnel(store, "F", stall_days=90)["stages"]] == [0, 0, None]
    # The preview of the same definition gives the same funnel, and writes nothing.
    total = store.conn.total_changes
    assert preview(store, parse_journey(JOURNEY), now=NOW, stall_days=30) == f
    assert store.conn.total_changes == total


def test_stage_contacts_and_csv(store: Store, b: Builder) -> None:
    ids = _known(store, b)
    save_journey(store, parse_journey(JOURNEY), now=NOW)
    rows = stage_contacts(store, "F", "C")
    assert sorted(r.contact_id for r in rows) == sorted([ids["c1"], ids["c5"]])
    assert [r.contact_id for r in stage_contacts(store, "F", "A", stalled_only=True)] == [ids["c3"]]
    assert stage_contacts(store, "F", "B", stalled_only=True, stall_days=60) == []
    text = contacts_csv(stage_contacts(store, "F", "A"))
    assert text.splitlines()[0].startswith("email,first_name,last_name,stage,since")
    assert "c3@example.com,c3,,A,2026-01-05T08:00:00Z,40.0,yes" in text


def test_preview_of_a_change_leaves_stored_results_alone(store: Store, b: Builder) -> None:
    _known(store, b)
    save_journey(store, parse_journey(JOURNEY), now=NOW)
    stored = funnel(store, "F")
    strict = dict(JOURNEY, transitions=JOURNEY["transitions"][:1])
    p = preview(store, parse_journey(strict), now=NOW)
    assert [s["reached"] for s in p["stages"]] == [5, 0, 0]
    assert funnel(store, "F") == stored


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(events=st.lists(event, min_size=10, max_size=50), stall=st.integers(1, 60))
def test_funnel_invariants(events: list, stall: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = new_store(Path(tmp))
        try:
            b = Builder(store).catalog()
            for who in PEOPLE:
                b.contact(who, consent=who != "dan")
            at = T0
            for ev in events:
                at += ev[4]
                _apply(b, ev, at)
            for j in (demo_journeys()[0], parse_journey(SINCE_JOURNEY)):
                save_journey(store, j)
                f = funnel(store, j.name, stall_days=stall)
                reached = [s["reached"] for s in f["stages"]]
                assert reached == sorted(reached, reverse=True)  # never grows
                assert sum(s["current"] for s in f["stages"]) + sum(
                    e["current"] for e in f["exits"]) == f["in_journey"]
                for s in f["stages"]:
                    assert 0 <= s["current"] <= s["reached"]
                    if s["stalled"] is not None:
                        assert s["stalled"] <= s["current"]
                for k in range(len(reached) - 1):
                    s = f["stages"][k]
                    assert s["drop_off"] == reached[k] - reached[k + 1]
                    if reached[k]:
                        assert abs(s["next_step_conversion"] - reached[k + 1] / reached[k]) < 1e-4
                assert f["entry"]["entered"] == reached[0]
                moved = sum(t["moved"] for t in f["transitions"])
                assert moved == sum(sum(e["moved"] for e in t["emails"])
                                    for t in f["transitions"])
                assert preview(store, j, stall_days=stall) == f
                # Determinism: evaluating again gives the same moves and the same funnel.
                sql = ("SELECT m.* FROM journey_moves m JOIN journeys j ON j.id = m.journey_id"
                       " WHERE j.name = ? ORDER BY m.id")
                moves = store.conn.execute(sql, (j.name,)).fetchall()
                evaluate(store, j.name)
                assert funnel(store, j.name, stall_days=stall) == f
                again = store.conn.execute(sql, (j.name,)).fetchall()
                assert [m[1:] for m in again] == [m[1:] for m in moves]
        finally:
            store.close()
