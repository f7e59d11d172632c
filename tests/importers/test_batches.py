"""Issue 9 item 3: removing the events of an import batch.  Import file A then file B
and remove B: every figure, send and journey position equals importing A alone;
remove A as well: A's emails have empty figures.  Expectations worked out by hand."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.domain.batches import list_batches, remove_batch
from journeytui.domain.journeys import load_file
from journeytui.errors import UserError
from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Recorder, Store
from tests.blank_store import blank_store

T0 = 1_767_600_000  # 2026-01-05 08:00 UTC
NOW = T0 + 30 * 86_400
KEY = b"k" * 16
JOURNEY = {
    "name": "Mini",
    "goal": "blog",
    "stages": [{"name": "Seen"}, {"name": "Keen"}],
    "entry": {"opened": {}},
    "transitions": [
        {"from": "Seen", "to": "Keen", "priority": 1,
         "when": {"clicked": {"email": "Spring sale", "url": "blog"}}},
    ],
}


def _ev(event: str, who: str, at: int, eid: str, **fields: Any) -> dict[str, Any]:
    msg = hashlib.blake2b(who.encode(), digest_size=6).hexdigest()
    return {"email": who, "timestamp": at, "event": event, "sg_event_id": eid,
            "sg_message_id": f"m{msg}.filter0001.1.0",
            "marketing_campaign_name": "Spring sale", **fields}


def _file(tmp: Path, name: str, events: list[dict[str, Any]]) -> Path:
    p = tmp / name
    p.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return p


PRICING, BLOG = "https://example.com/pricing", "https://example.com/blog"
# A: ann (consent) and bob (none) delivered, open and click pricing; carl bounces
A = [
    _ev("processed", "ann@example.com", T0, "a1"),
    _ev("delivered", "ann@example.com", T0 + 5, "a2"),
    _ev("processed", "bob@example.com", T0, "a3"),
    _ev("delivered", "bob@example.com", T0 + 5, "a4"),
    _ev("processed", "carl@example.com", T0, "a5"),
    _ev("bounce", "carl@example.com", T0 + 5, "a6", type="bounce"),
    _ev("open", "ann@example.com", T0 + 600, "a7"),
    _ev("click", "ann@example.com", T0 + 700, "a8", url=PRICING),
    _ev("open", "bob@example.com", T0 + 600, "a9"),
    _ev("click", "bob@example.com", T0 + 700, "a10", url=PRICING),
]
# B: ann clicks blog (journey: Seen -> Keen) and her message bounces later (a shared
# send); bob clicks pricing again and unsubscribes; carl's message is dropped (shared);
# dan (new) is delivered and opens; one event dated wrongly but plausibly
B = [
    _ev("click", "ann@example.com", T0 + 900, "b1", url=BLOG),
    _ev("bounce", "ann@example.com", T0 + 950, "b2", type="blocked"),
    _ev("click", "bob@example.com", T0 + 900, "b3", url=PRICING),
    _ev("unsubscribe", "bob@example.com", T0 + 1000, "b4"),
    _ev("dropped", "carl@example.com", T0 + 10, "b5", reason="Bounced Address"),
    _ev("processed", "dan@example.com", T0, "b6"),
    _ev("delivered", "dan@example.com", T0 + 5, "b7"),
    _ev("open", "dan@example.com", T0 + 2 * 86_400, "b8"),
]


def _store(tmp: Path, name: str) -> Store:
    store = blank_store(tmp / name, token_key=KEY)
    with store.transaction():
        rec = Recorder(store)
        rec.contact("ann@example.com", consent=True, at=T0 - 86_400)
        rec.ensure_link(rec.ensure_email("Spring sale", send_at=T0), BLOG)
    (tmp / "j.json").write_text(json.dumps(JOURNEY))
    load_file(store, tmp / "j.json")
    return store


def _figures(store: Store) -> dict[str, Any]:
    """Every figure and what it is made of, by name (never by row id)."""
    c = store.conn

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return sorted(map(tuple, c.execute(sql)), key=repr)

    return {
        "email_stats": rows("SELECT e.name, s.* FROM email_stats s JOIN emails e"
                            " ON e.id = s.email_id"),
        "link_stats": rows("SELECT l.url, s.clicked, s.clicks_total, s.bot_clicks"
                           " FROM link_stats s JOIN links l ON l.id = s.link_id"),
        "engagement": rows("SELECT email_id, token, opens, machine_opens, clicks, bot_clicks,"
                           " last_click_at, unsubscribed, spam FROM recipient_engagement"),
        "link_recipients": rows("SELECT l.url, r.token, r.clicks FROM link_recipients r"
                                " JOIN links l ON l.id = r.link_id"),
        "sends": rows("SELECT k.email, s.status, s.at, s.delivered_at, s.proofs, s.reason"
                      " FROM sends s JOIN contacts k ON k.id = s.contact_id"),
        "activities": rows("SELECT k.email, a.kind, a.value, a.at, a.bot FROM activities a"
                           " JOIN contacts k ON k.id = a.contact_id"),
        "anonymous": rows("SELECT token, kind, at, bot FROM anonymous_events"),
        "positions": rows("SELECT j.name, k.email, p.stage, p.since FROM journey_positions p"
                          " JOIN journeys j ON j.id = p.journey_id"
                          " JOIN contacts k ON k.id = p.contact_id"),
        "moves": rows("SELECT k.email, m.from_stage, m.to_stage, m.at FROM journey_moves m"
                      " JOIN contacts k ON k.id = m.contact_id"),
        "subscription": rows("SELECT email, unsubscribed_all, unsubscribed_all_at,"
                             " spam_reported_at FROM contacts"),
        "changes": rows("SELECT k.email, c.kind, c.at FROM subscription_changes c"
                        " JOIN contacts k ON k.id = c.contact_id"),
    }


def _stats(store: Store) -> dict[str, int]:
    c = store.conn
    row = c.execute("SELECT sent, bounced_hard, bounced_soft, dropped, opened, opens_total,"
                    " clicked, clicks_total, unsubscribed, anonymous_opens, anonymous_clicks"
                    " FROM email_stats").fetchone()
    keys = ("sent", "hard", "soft", "dropped", "opened", "opens", "clicked", "clicks",
            "unsubscribed", "anon_opens", "anon_clicks")
    return dict(zip(keys, row, strict=True))


def _stage(store: Store, who: str) -> str | None:
    row = store.conn.execute(
        "SELECT p.stage FROM journey_positions p JOIN contacts k ON k.id = p.contact_id"
        " WHERE k.email = ?", (who,)).fetchone()
    return None if row is None else row[0]


def test_remove_b_equals_a_alone_and_remove_a_empties(tmp_path: Path) -> None:
    fa, fb = _file(tmp_path, "a.ndjson", A), _file(tmp_path, "b.ndjson", B)
    alone = _store(tmp_path, "alone.db")
    import_sendgrid(alone, [fa], now=NOW)
    # by hand, A alone: 3 sent (carl bounced hard), ann and bob opened and clicked
    assert _stats(alone) == {"sent": 3, "hard": 1, "soft": 0, "dropped": 0, "opened": 2,
                             "opens": 2, "clicked": 2, "clicks": 2, "unsubscribed": 0,
                             "anon_opens": 1, "anon_clicks": 1}
    assert _stage(alone, "ann@example.com") == "Seen"

    both = _store(tmp_path, "both.db")
    ra = import_sendgrid(both, [fa], now=NOW)
    rb = import_sendgrid(both, [fb], now=NOW)
    assert (ra.batch_id, rb.batch_id) == (1, 2)
    # by hand, A + B: ann's send bounced (soft), carl's dropped (not a send: no longer
    # a hard bounce either), dan sent;
    # bob's pricing click is his second (unique clickers stay 2), ann's blog click a third
    assert _stats(both) == {"sent": 3, "hard": 0, "soft": 1, "dropped": 1, "opened": 3,
                            "opens": 3, "clicked": 2, "clicks": 4, "unsubscribed": 1,
                            "anon_opens": 2, "anon_clicks": 2}
    assert _stage(both, "ann@example.com") == "Keen"
    assert [(b.id, b.events) for b in list_batches(both)] == [(1, 10), (2, 8)]

    r = remove_batch(both, 2, now=NOW)
    assert (r.activities, r.anonymous, r.sends_deleted, r.sends_changed) == (1, 2, 1, 2)
    assert r.figures["Spring sale"]["dropped"] == [1, 0]
    assert r.stages == {"Mini / Keen": [1, 0], "Mini / Seen": [0, 1]}
    assert _figures(both) == _figures(alone)
    assert _stage(both, "ann@example.com") == "Seen"
    assert [b.id for b in list_batches(both)] == [1]

    remove_batch(both, 1, now=NOW)
    assert _stats(both) == dict.fromkeys(_stats(both), 0)
    assert both.conn.execute("SELECT count(*) FROM sends").fetchone()[0] == 0
    assert both.conn.execute("SELECT clicked, clicks_total, bot_clicks FROM link_stats"
                             ).fetchall() == [(0, 0, 0), (0, 0, 0)]
    assert _stage(both, "ann@example.com") is None
    assert both.conn.execute("SELECT count(*) FROM journey_moves").fetchone()[0] == 0
    # the file can be imported again (its event ids were forgotten): A alone once more
    import_sendgrid(both, [fa], now=NOW)
    assert _stats(both) == _stats(alone)


def test_a_batch_whose_future_dated_event_was_skipped(tmp_path: Path) -> None:
    """A file with a date far in the future (skipped with a reason) and a wrong but
    plausible date (applied): the batch is removed and the journey goes back."""
    fa = _file(tmp_path, "a.ndjson", A)
    wrong = [
        _ev("click", "ann@example.com", NOW + 400 * 86_400, "w1", url=BLOG),  # skipped
        _ev("click", "ann@example.com", T0 + 20 * 86_400, "w2", url=BLOG),    # applied
    ]
    fw = _file(tmp_path, "wrong.ndjson", wrong)
    alone = _store(tmp_path, "alone.db")
    import_sendgrid(alone, [fa], now=NOW)
    store = _store(tmp_path, "s.db")
    import_sendgrid(store, [fa], now=NOW)
    rw = import_sendgrid(store, [fw], now=NOW)
    assert rw.skipped and rw.added["clicks"] == 1
    assert _stage(store, "ann@example.com") == "Keen"
    assert store.conn.execute("SELECT events FROM import_batches WHERE id = ?",
                              (rw.batch_id,)).fetchone() == (1,)
    remove_batch(store, rw.batch_id, now=NOW)
    assert _figures(store) == _figures(alone)
    assert _stage(store, "ann@example.com") == "Seen"


def test_dry_run_leaves_the_store_byte_identical(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    store = _store(tmp_path, "s.db")
    import_sendgrid(store, [_file(tmp_path, "a.ndjson", A)], now=NOW)
    import_sendgrid(store, [_file(tmp_path, "b.ndjson", B)], now=NOW)
    store.close()
    db = tmp_path / "s.db"
    before = db.read_bytes()
    assert main(["--db", str(db), "batches", "remove", "2", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Would remove batch 2" in out and "dropped 1 → 0" in out
    assert "Mini / Keen: 1 → 0" in out and "nothing was changed" in out
    assert db.read_bytes() == before
    assert main(["--db", str(db), "batches", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(b["id"], b["kind"], b["events"]) for b in listed] == [(1, "file", 10),
                                                                  (2, "file", 8)]
    assert main(["--db", str(db), "batches", "remove", "2"]) == 0
    assert "Removed batch 2" in capsys.readouterr().out
    assert main(["--db", str(db), "batches", "remove", "2"]) == 2
    err = capsys.readouterr().err
    assert "no import batch 2" in err and "known batches: 1" in err and "Traceback" not in err


def test_unknown_batch_is_a_user_error(tmp_path: Path) -> None:
    store = _store(tmp_path, "s.db")
    with pytest.raises(UserError, match="no import batches"):
        remove_batch(store, 7)
