"""The support lookup: "I'm <name> something, I clicked a link in your <email>" — from
the palette to the clicks of that person in a handful of keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from journeytui.tui.panes.activities import ActivitiesPane


async def test_who_clicked_in_an_email_then_filter_by_a_misspelt_name(
    demo_db: Path, app_factory, settle
) -> None:
    conn = sqlite3.connect(demo_db)
    try:
        # an email and a consented clicker of it (worked out from the stored rows)
        email_id, email_name, first, last, contact_id = conn.execute(
            "SELECT e.id, e.name, c.first_name, c.last_name, c.id FROM activities a"
            " JOIN emails e ON e.id = a.email_id JOIN contacts c ON c.id = a.contact_id"
            " WHERE a.kind = 'click' AND length(c.first_name) >= 5"
            " GROUP BY e.id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        clicks = conn.execute(
            "SELECT count(*) FROM activities WHERE email_id = ? AND kind = 'click'", (email_id,)
        ).fetchone()[0]
        theirs = conn.execute(
            "SELECT count(*) FROM activities WHERE email_id = ? AND kind = 'click'"
            " AND contact_id = ?", (email_id, contact_id)
        ).fetchone()[0]
    finally:
        conn.close()
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*f"who clicked in {email_name}")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.main.query_one(ActivitiesPane)
        assert app.main.current == "activities" and pane.email_id == email_id
        assert pane.clicks_only and pane.table.row_count == clicks
        # a typo in the first name and only part of the last name still finds them
        typo = first[0] + first[2] + first[1] + first[3:]
        await pilot.press("c", *f"{typo} {last[:3]}")
        await settle(pilot)
        rows = pane.table.cached_rows()
        assert 0 < len(rows) <= clicks
        assert sum(1 for r in rows if r.payload.contact_id == contact_id) == theirs
        assert all(r.payload.activity == "click" for r in rows)
        assert str(pane.table.border_title).endswith(f"({len(rows):,})")


async def test_end_of_a_long_activity_list_is_one_keyset_read(
    demo_db: Path, app_factory, settle, monkeypatch
) -> None:
    from journeytui.tui.widgets import paged_table

    monkeypatch.setattr(paged_table, "PAGE_SIZE", 20)  # pages of 20 rows: a long list
    conn = sqlite3.connect(demo_db)
    try:
        email_id, total, oldest = conn.execute(
            "SELECT email_id, count(*), min(at) FROM activities WHERE email_id IS NOT NULL"
            " GROUP BY email_id"
            " ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    assert total > 3 * 20  # several pages
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main.open_activities(email_id)
        await settle(pilot)
        pane = app.main.query_one(ActivitiesPane)
        pane.table.focus()
        await pilot.pause()
        assert app.focused is pane.table
        await pilot.press("G")
        await settle(pilot)
        assert pane.table.cursor_row == total - 1
        assert pane.table.current_row is not None
        assert pane.table.current_row.payload.at == oldest
        # the first page and the last one only: nothing in between was read
        last = (total - 1) // 20
        assert pane.table.cached_page_numbers == [0, last]
