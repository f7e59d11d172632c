"""The lists a user scrolls page by keyset through an index: no page sorts the whole
list (checked with EXPLAIN QUERY PLAN), and the end of a list is one read."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from journeytui.store import Store
from journeytui.tui.journey_data import stage_contacts


class PlanRecorder:
    """A Store stand-in whose connection records the plan of every query it runs."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.plans: list[str] = []
        outer = self

        class Conn:
            def execute(self, sql: str, args: Any = ()) -> Any:
                rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()
                outer.plans.append(" | ".join(r[-1] for r in rows))
                return conn.execute(sql, args)

        self.conn = Conn()


@pytest.mark.parametrize("sort", ["longest", "newest"])
@pytest.mark.parametrize("backwards", [False, True])
def test_stage_list_pages_use_the_stage_index(demo_db: Path, sort: str, backwards: bool) -> None:
    Store.open(demo_db).close()  # migrated to the current schema
    conn = sqlite3.connect(demo_db)
    try:
        jid, stage = conn.execute(
            "SELECT journey_id, stage FROM journey_positions WHERE stage IS NOT NULL"
            " GROUP BY journey_id, stage ORDER BY count(*) DESC LIMIT 1").fetchone()
        rec = PlanRecorder(conn)
        first = stage_contacts(rec, jid, stage, before=None, sort=sort, after=None,  # type: ignore[arg-type]
                               limit=5, backwards=backwards)
        assert len(first) == 5
        stage_contacts(rec, jid, stage, before=None, sort=sort, after=first[-1][0],  # type: ignore[arg-type]
                       limit=5, backwards=backwards)
    finally:
        conn.close()
    for plan in rec.plans:
        assert "journey_positions_stage" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # no sort of the whole stage


def test_backwards_pages_are_the_forward_list_read_from_its_end(demo_db: Path) -> None:
    store = Store.open(demo_db)
    try:
        jid, stage = store.conn.execute(
            "SELECT journey_id, stage FROM journey_positions WHERE stage IS NOT NULL"
            " GROUP BY journey_id, stage ORDER BY count(*) DESC LIMIT 1").fetchone()
        forward = [c.contact_id for _, c in stage_contacts(
            store, jid, stage, before=None, sort="longest", after=None, limit=10_000)]
        last = stage_contacts(store, jid, stage, before=None, sort="longest", after=None,
                              limit=7, backwards=True)
        before_last = stage_contacts(store, jid, stage, before=None, sort="longest",
                                     after=last[0][0], limit=7, backwards=True)
    finally:
        store.close()
    assert len(forward) > 14
    assert [c.contact_id for _, c in last] == forward[-7:]
    assert [c.contact_id for _, c in before_last] == forward[-14:-7]
