"""A question asked of a store written by an older journeytui: the schema is upgraded
(data kept) and the question answered.  (A store that cannot be written still says why:
the upgrade goes through Store.open, whose read-only refusals tests/store and
tests/hostile cover.)"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from journeytui.cli import main
from journeytui.store import SCHEMA_VERSION
from journeytui.store.db import _split_sql
from journeytui.store.schema import MIGRATIONS

T0 = 1_767_600_000  # 2026-01-05 08:00 UTC


def _old_store(path: Path, version: int = 7) -> None:
    """A store as journeytui wrote it at *version*: one email sent to one contact."""
    conn = sqlite3.connect(path)
    for sql in MIGRATIONS[:version]:
        for stmt in _split_sql(sql):
            conn.execute(stmt)
    conn.execute("INSERT INTO meta VALUES ('app', 'journeytui'), ('token_key', '00')")
    conn.execute("INSERT INTO contacts(email, created_at) VALUES ('old@example.com', 1)")
    conn.execute("INSERT INTO emails(name, status) VALUES ('Welcome', 'sent')")
    conn.execute("INSERT INTO email_stats(email_id, sent) VALUES (1, 1)")
    conn.execute("INSERT INTO sends(email_id, contact_id, at, status, proofs)"
                 " VALUES (1, 1, ?, 'delivered', 3)", (T0,))
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_a_question_to_an_older_store_upgrades_it_and_answers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "old.db"
    _old_store(db)
    assert main(["stats", "--db", str(db), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # the one email of the old store, with its one send (set by hand above)
    assert [(e["name"], e["sent"]) for e in out] == [("Welcome", 1)]
    assert _version(db) == SCHEMA_VERSION
