"""`forget` deletes one contact: every table it touches is searched by index, not scanned.

Deleting a contact cascades (ON DELETE CASCADE / SET NULL) to every table that names
it, and deleting its activities sets journey_moves.activity_id to NULL; SQLite looks
each of these up by the referencing column, so each needs an index (schema v4).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.blank_store import blank_store

LOOKUPS = [
    "DELETE FROM journey_positions WHERE contact_id = 1",
    "DELETE FROM journey_moves WHERE contact_id = 1",
    "UPDATE journey_moves SET activity_id = NULL WHERE activity_id = 1",
    "DELETE FROM subscription_changes WHERE contact_id = 1",
    "DELETE FROM subscriptions WHERE contact_id = 1",
    "UPDATE sends SET contact_id = NULL WHERE contact_id = 1",
    "DELETE FROM activities WHERE contact_id = 1",
    "DELETE FROM parked_events WHERE contact_id = 1",
]


@pytest.mark.parametrize("sql", LOOKUPS)
def test_what_forget_deletes_is_found_by_index(tmp_path: Path, sql: str) -> None:
    with blank_store(tmp_path / "f.db") as store:
        plan = [r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
    assert plan and all(step.startswith("SEARCH ") for step in plan), plan


def test_a_message_is_found_by_index(tmp_path: Path) -> None:
    with blank_store(tmp_path / "f.db") as store:
        plan = [r[3] for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM sends WHERE message_id = ? AND contact_id = ?",
            ("m", 1),
        )]
    assert plan == [
        "SEARCH sends USING COVERING INDEX sends_message (message_id=? AND contact_id=?)"
    ]
