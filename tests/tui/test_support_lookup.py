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


def test_history_filter_reads_words_and_dates() -> None:
    from journeytui.domain.contacts import TimelineFilter

    f = TimelineFilter.parse("Spring 2026-03")
    assert f.words == ("spring",)
    assert (f.since, f.until) == (1_772_323_200, 1_775_001_600)  # March 2026, UTC
    f = TimelineFilter.parse("2026-02-28 2026-03-01")
    assert (f.since, f.until) == (1_772_236_800, 1_772_409_600)  # two whole days
    assert TimelineFilter.parse("2026-13").words == ("2026-13",)  # not a date: a word
    assert not TimelineFilter.parse("   ")


async def test_a_contacts_history_filters_by_email_and_date(
    demo_db: Path, app_factory, settle
) -> None:
    from journeytui.tui.panes.contacts import ContactsPane

    conn = sqlite3.connect(demo_db)
    try:
        contact_id, email_name, month = conn.execute(
            "SELECT a.contact_id, e.name, strftime('%Y-%m', a.at, 'unixepoch')"
            " FROM activities a JOIN emails e ON e.id = a.email_id"
            " GROUP BY a.contact_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        word = email_name.split()[0].lower()
        expected = conn.execute(
            "SELECT count(*) FROM activities a LEFT JOIN emails e ON e.id = a.email_id"
            " LEFT JOIN lists l ON l.id = a.list_id WHERE a.contact_id = ?"
            " AND strftime('%Y-%m', a.at, 'unixepoch') = ?"
            " AND (instr(lower(coalesce(e.name, '')), ?) > 0"
            "  OR instr(lower(coalesce(CASE WHEN a.kind IN ('unsubscribe', 'confirm')"
            "   AND a.list_id IS NOT NULL THEN l.name ELSE a.value END, '')), ?) > 0)",
            (contact_id, month, word, word),
        ).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM activities WHERE contact_id = ?",
                             (contact_id,)).fetchone()[0]
    finally:
        conn.close()
    assert 0 < expected < total
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main.open_contact(contact_id)
        await settle(pilot)
        pane = app.main.query_one(ContactsPane)
        assert pane.timeline_table.row_count == total
        pane.timeline_table.focus()
        await pilot.press("f", *f"{word} {month}")
        await settle(pilot)
        assert pane.timeline_table.row_count == expected
        assert f"({expected} " in str(pane.timeline_table.border_title)
        await pilot.press("escape")  # clears the filter, back to the whole history
        await settle(pilot)
        assert pane.timeline_table.row_count == total
