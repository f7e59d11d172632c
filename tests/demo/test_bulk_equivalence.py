"""The bulk writer writes exactly what the Recorder writes, event by event.

`journeytui demo` uses the bulk writer for speed; the Recorder is the one way
activity is written everywhere else.  For the same seed, both must give identical
tables — email_stats, link_stats, activities, anonymous_events and all the rest.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeytui.demo import EPOCH, SEND_SPREAD_S, generate
from journeytui.store.recorder import BOT_AFTER_DELIVERY_S

from .conftest import diff_tables, read_tables


def _scalar(path: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute(sql).fetchone()[0] or 0)
    finally:
        conn.close()


@pytest.mark.parametrize(("contacts", "seed"), [(500, 1), (500, 2026), (400, 99)])
def test_bulk_writer_equals_recorder(tmp_path: Path, contacts: int, seed: int) -> None:
    bulk, rec = tmp_path / "bulk.db", tmp_path / "recorder.db"
    generate(bulk, contacts=contacts, seed=seed, writer="bulk")
    generate(rec, contacts=contacts, seed=seed, writer="recorder")

    # The comparison means something only if the stream exercised every rule.
    q = lambda sql: _scalar(bulk, sql)
    assert q("SELECT count(*) FROM sends WHERE status = 'bounced_hard'") > 0
    assert q("SELECT count(*) FROM sends WHERE status = 'bounced_soft'") > 0
    assert q("SELECT count(*) FROM sends WHERE status = 'dropped'") > 0
    assert q("SELECT sum(machine_opens) FROM email_stats") > 0
    assert q("SELECT sum(bot_clicks) FROM email_stats") > 0
    # both bot rules: right after delivery, and a burst later than any delivery
    assert q(
        "SELECT count(*) FROM (SELECT email_id, at FROM activities WHERE kind = 'click'"
        " AND bot = 1 UNION ALL SELECT email_id, at FROM anonymous_events WHERE kind = 'click'"
        " AND bot = 1) b JOIN emails e ON e.id = b.email_id"
        f" WHERE b.at > e.send_at + {SEND_SPREAD_S + BOT_AFTER_DELIVERY_S}"
    ) > 0
    assert q("SELECT count(*) FROM recipient_engagement WHERE clicks > 1") > 0
    assert q("SELECT count(*) FROM link_recipients WHERE clicks > 1") > 0
    assert q("SELECT sum(spam_reports) FROM email_stats") > 0
    assert q("SELECT sum(unsubscribed) FROM email_stats") > 0
    assert q("SELECT count(*) FROM contacts WHERE unsubscribed_all = 1") > 0
    assert q("SELECT count(*) FROM subscriptions WHERE status = 'unsubscribed'") > 0
    assert q("SELECT count(*) FROM activities WHERE kind = 'confirm'") > 0
    assert q("SELECT count(*) FROM activities WHERE kind = 'form'") > 0
    assert q("SELECT count(*) FROM activities WHERE kind = 'visit'") > 0
    # consent given during the year: both writers must switch at the same event
    assert q(f"SELECT count(*) FROM contacts WHERE consent = 1 AND consent_at > {EPOCH}") > 0

    problems = diff_tables(read_tables(bulk), read_tables(rec))
    assert problems == [], "\n".join(problems)


def test_bulk_store_keys_and_integrity(tmp_path: Path) -> None:
    """The bulk path loads with foreign keys off: prove every reference holds."""
    path = tmp_path / "bulk.db"
    generate(path, contacts=300, seed=3)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"sends_contact", "sends_email", "activities_contact"} <= indexes
    finally:
        conn.close()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contacts=st.integers(min_value=1, max_value=120), seed=st.integers(0, 2**32))
def test_bulk_writer_equals_recorder_for_any_seed(
    tmp_path: Path, contacts: int, seed: int
) -> None:
    bulk, rec = tmp_path / f"b{contacts}-{seed}.db", tmp_path / f"r{contacts}-{seed}.db"
    generate(bulk, contacts=contacts, seed=seed, writer="bulk", journeys=False)
    generate(rec, contacts=contacts, seed=seed, writer="recorder", journeys=False)
    assert diff_tables(read_tables(bulk), read_tables(rec)) == []
