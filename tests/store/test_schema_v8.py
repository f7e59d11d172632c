"""Schema 8: a send's A/B variant and a contact-level permanent bounce (a store of
schema 7 is upgraded to the current schema, which includes 8)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from journeytui.store import SCHEMA_VERSION, Recorder, Store
from journeytui.store.db import _split_sql
from journeytui.store.schema import MIGRATIONS
from tests.blank_store import blank_store

T0 = 1_767_600_000  # 2026-01-05 08:00 UTC


def _v7_store(path: Path) -> None:
    """A store as journeytui wrote it at schema 7, with one contact, email and send."""
    conn = sqlite3.connect(path)
    for sql in MIGRATIONS[:7]:
        for stmt in _split_sql(sql):
            conn.execute(stmt)
    conn.execute("INSERT INTO meta VALUES ('app', 'journeytui'), ('token_key', '00')")
    conn.execute("INSERT INTO contacts(email, created_at) VALUES ('old@example.com', 1)")
    conn.execute("INSERT INTO emails(name, status) VALUES ('Welcome', 'sent')")
    conn.execute("INSERT INTO sends(email_id, contact_id, at, status, proofs)"
                 " VALUES (1, 1, ?, 'delivered', 3)", (T0,))
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()


def test_a_version_7_store_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    p = tmp_path / "v7.db"
    _v7_store(p)
    s = Store.open(p)
    try:
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 8
        assert s.conn.execute(
            "SELECT email, bounced_at, bounce_reason FROM contacts").fetchall() == [
            ("old@example.com", None, None)]
        assert s.conn.execute(
            "SELECT email_id, contact_id, at, status, proofs, variant FROM sends").fetchall() == [
            (1, 1, T0, "delivered", 3, None)]
    finally:
        s.close()
    # opened again: nothing more to migrate, the data is still there
    again = Store.open(p, readonly=True)
    try:
        assert again.conn.execute("SELECT count(*) FROM sends").fetchone()[0] == 1
    finally:
        again.close()


def test_a_contact_level_bounce_keeps_the_earliest_date(tmp_path: Path) -> None:
    s = blank_store(tmp_path / "b.db", token_key=b"k" * 16)
    try:
        with s.transaction():
            r = Recorder(s)
            c = r.contact("ann@example.com", at=T0)
            assert c is not None
            assert r.mark_contact_bounced(c.id, T0 + 100, "cleaned") is True
            # the same again changes nothing
            assert r.mark_contact_bounced(c.id, T0 + 100, "cleaned") is False
            # a later date changes nothing: the earliest is kept
            assert r.mark_contact_bounced(c.id, T0 + 500, "later") is False
            assert s.conn.execute(
                "SELECT bounced_at, bounce_reason FROM contacts WHERE id = ?", (c.id,)
            ).fetchone() == (T0 + 100, "cleaned")
            # an earlier date replaces it, with its reason
            assert r.mark_contact_bounced(c.id, T0 + 10, "cleaned (earlier export)") is True
            assert s.conn.execute(
                "SELECT bounced_at, bounce_reason FROM contacts WHERE id = ?", (c.id,)
            ).fetchone() == (T0 + 10, "cleaned (earlier export)")
            # an unknown contact: nothing changes
            assert r.mark_contact_bounced(c.id + 99, T0, "cleaned") is False
    finally:
        s.close()
