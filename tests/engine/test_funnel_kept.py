"""The funnel is kept current by evaluation and advancement: after each way results
change (evaluate, an import's advance, a journey save, a batch removal, forgetting a
contact) the kept figures equal a fresh computation from every stored move."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from jbuilder import DAY, T0, Builder

from journeytui.demo import generate
from journeytui.domain.batches import remove_batch
from journeytui.domain.contacts import forget_contact
from journeytui.domain.engine import advance_all, evaluate
from journeytui.domain.funnel import full_funnel, funnel, load_tally
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import get_journey, save_journey
from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "importers"))

SPRING = "Spring product teaser"
PRICING = "https://www.example.com/pricing"
# A → B → C with an exit, a jump A → C, and B → C when a window has passed without a
# click (a move the check at evaluation time makes: provisional, and its time is the
# evaluation time, so the B → C duration moves with it).
JOURNEY = {
    "name": "K",
    "stages": [{"name": "A"}, {"name": "B"}, {"name": "C"}, {"name": "X", "exit": True}],
    "transitions": [
        {"from": None, "to": "X", "priority": 1, "when": {"unsubscribed": {}}},
        {"from": "A", "to": "C", "priority": 5, "when": {"visited": {"url": "/demo"}}},
        {"from": "A", "to": "B", "when": {"clicked": {"url": "pricing"}}},
        {"from": "B", "to": "C", "when": {"not": {"clicked": {"within_days": 3}}}},
    ],
}


def _kept(store: Store, name: str, stall_days: int = 30) -> dict[str, Any]:
    """The kept funnel, checked against a full computation (and that it was kept)."""
    jid = store.conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()[0]
    j, _ = get_journey(store, name)
    assert load_tally(store.conn, jid, j) is not None, "the funnel was not kept"
    kept = funnel(store, name, stall_days=stall_days)
    assert kept == full_funnel(store, name, stall_days=stall_days)
    return kept


def _people(b: Builder) -> None:
    for n in ("c1", "c2", "c3", "c4", "c5"):
        b.contact(n)
        b("send", n, T0 - 600, SPRING)
        b("open", n, T0, SPRING)
    b("click", "c1", T0 + 2 * DAY, SPRING, PRICING)
    b("click", "c2", T0 + 4 * DAY, SPRING, PRICING)
    b("unsub_all", "c4", T0 + 1 * DAY)
    b("visit", "c5", T0 + 3 * DAY, "https://www.example.com/demo")


def test_kept_through_evaluate_advance_and_save(store: Store, b: Builder) -> None:
    _people(b)
    save_journey(store, parse_journey(JOURNEY), now=T0 + 10 * DAY)
    f = _kept(store, "K")
    # c1 A→B day 2 and B→C (no click for 3 days) at the check, day 10: provisional;
    # c2 A→B day 4, B→C at day 10; c5 A→C day 3 (reaching B then too); c3 stays in A,
    # c4 leaves for X.  Reached: A 5, B 3 (c1, c2, c5), C 3.
    assert [s["reached"] for s in f["stages"]] == [5, 3, 3]
    # A→B: 2, 4, 3 days → median 3.0; B→C: c1 8, c2 6, c5 0 days → median 6.0
    assert [s["median_days_to_next"] for s in f["stages"]] == [3.0, 6.0, None]
    # An import: c3 clicks pricing on day 12; the check moves to day 12, so c1's and
    # c2's provisional B→C moves move too (B→C: 10, 8, 0 → median 8.0).
    b("click", "c3", T0 + 12 * DAY, SPRING, PRICING)
    advance_all(store)
    f = _kept(store, "K")
    assert [s["reached"] for s in f["stages"]] == [5, 4, 3]
    assert f["stages"][1]["median_days_to_next"] == 8.0
    # New events for a contact already there, and a resubscribe-free unsubscribe.
    b("click", "c1", T0 + 13 * DAY, SPRING, PRICING)
    b("unsub_all", "c2", T0 + 13 * DAY)
    advance_all(store)
    _kept(store, "K")
    # A save with a changed definition evaluates afresh: still kept.
    changed = dict(JOURNEY, transitions=JOURNEY["transitions"][:3])
    save_journey(store, parse_journey(changed), now=T0 + 14 * DAY)
    f = _kept(store, "K", stall_days=1)
    # no B → C any more: B is reached by c1, c2, c3 (clicks) and c5 (the jump), C by c5
    assert [s["reached"] for s in f["stages"]] == [5, 4, 1]


def test_forgetting_a_contact_rebuilds_at_the_next_write(store: Store, b: Builder) -> None:
    _people(b)
    save_journey(store, parse_journey(JOURNEY), now=T0 + 10 * DAY)
    _kept(store, "K")
    forget_contact(store, "c3@example.com")
    jid = store.conn.execute("SELECT id FROM journeys WHERE name = 'K'").fetchone()[0]
    j, _ = get_journey(store, "K")
    # not current any more: the funnel is computed from the moves until the next write
    assert load_tally(store.conn, jid, j) is None
    f = funnel(store, "K")
    assert [s["reached"] for s in f["stages"]] == [4, 3, 3]  # c3 (only in A) is gone
    assert store.conn.execute(
        "SELECT count(*) FROM journey_funnel_steps WHERE contact_id NOT IN"
        " (SELECT id FROM contacts)").fetchone()[0] == 0
    b("click", "c1", T0 + 12 * DAY, SPRING, PRICING)
    report, = advance_all(store)
    assert not report.full  # an advance, which rebuilt the kept funnel
    f = _kept(store, "K")
    # c1 clicked on day 12: the check at day 12 no longer moves it B → C (a click
    # within 3 days); C is reached by c2 (at the check) and c5 (the jump)
    assert [s["reached"] for s in f["stages"]] == [4, 3, 2]


def test_forgetting_the_latest_activity_then_importing(store: Store, b: Builder) -> None:
    """Forgetting the contact whose activity was the newest frees its row ids for the
    next import: the advance sees that and replays, so the new click still counts."""
    _people(b)
    save_journey(store, parse_journey(JOURNEY), now=T0 + 10 * DAY)
    forget_contact(store, "c5@example.com")  # c5's visit was the latest activity
    b("click", "c3", T0 + 12 * DAY, SPRING, PRICING)
    report, = advance_all(store)
    assert report.full
    f = _kept(store, "K")
    # c1, c2 and now c3 reached B (c5 is forgotten); c1 and c2 went on to C
    assert [s["reached"] for s in f["stages"]] == [4, 3, 2]


def _sendgrid(tmp: Path, name: str, events: list[dict[str, Any]]) -> Path:
    p = tmp / name
    p.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return p


def _ev(event: str, who: str, at: int, eid: str, **fields: Any) -> dict[str, Any]:
    return {"email": who, "timestamp": at, "event": event, "sg_event_id": eid,
            "sg_message_id": f"m-{who}.filter0001.1.0",
            "marketing_campaign_name": SPRING, **fields}


def test_kept_through_an_import_and_its_removal(store: Store, b: Builder, tmp_path: Path
                                                ) -> None:
    _people(b)
    save_journey(store, parse_journey(JOURNEY), now=T0 + 10 * DAY)
    f0 = _kept(store, "K")
    path = _sendgrid(tmp_path, "b.json", [
        _ev("click", "c3@example.com", T0 + 11 * DAY, "e1", url=PRICING),
        _ev("click", "c4@example.com", T0 + 11 * DAY, "e2", url=PRICING),
    ])
    import_sendgrid(store, [path], now=T0 + 12 * DAY)
    f1 = _kept(store, "K")
    assert f1["stages"][1]["reached"] == f0["stages"][1]["reached"] + 1  # c3 reached B
    batch = store.conn.execute("SELECT max(id) FROM import_batches").fetchone()[0]
    remove_batch(store, batch, now=T0 + 10 * DAY)
    assert _kept(store, "K")["stages"] == f0["stages"]


def test_kept_on_a_demo_store(tmp_path: Path) -> None:
    generate(tmp_path / "demo.db", contacts=300)
    store = Store.open(tmp_path / "demo.db")
    try:
        names = [r[0] for r in store.conn.execute("SELECT name FROM journeys")]
        assert len(names) == 2
        for name in names:
            _kept(store, name)
            _kept(store, name, stall_days=7)
        evaluate(store, names[0])
        _kept(store, names[0])
    finally:
        store.close()
