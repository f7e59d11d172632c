"""Panels carry a title with their count, and the focused one is marked with ▸."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from journeytui.tui.panes.activities import ActivitiesPane
from journeytui.tui.panes.contacts import ContactsPane
from journeytui.tui.panes.emails import EmailsPane


def scalar(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def title(widget) -> str:  # type: ignore[no-untyped-def]
    return str(widget.border_title)


async def test_titles_count_what_the_lists_hold_and_mark_the_focus(
    demo_db: Path, app_factory, settle
) -> None:
    emails_total = scalar(demo_db, "SELECT count(*) FROM emails")
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        emails = app.main.query_one(EmailsPane)
        assert title(emails.table) == f"▸ Emails ({emails_total})"
        await pilot.press("slash", *"newsletter")
        await settle(pilot)
        newsletters = scalar(demo_db, "SELECT count(*) FROM emails"
                                      " WHERE lower(name) LIKE '%newsletter%'")
        # the filter field has the focus now: the list's title is not marked
        assert title(emails.table) == (
            f"  Emails ({newsletters} of {emails_total} match “newsletter”)")
        await pilot.press("escape")
        await settle(pilot)
        assert title(emails.table) == f"▸ Emails ({emails_total})"

        await pilot.press("enter")  # the highlighted email's activities
        await settle(pilot)
        pane = app.main.query_one(ActivitiesPane)
        count = scalar(demo_db, f"SELECT count(*) FROM activities WHERE email_id = "
                                f"{pane.email_id}")
        assert title(pane.table) == f"▸ Contact activities ({count:,})"

        await pilot.press("3", *"[b]smith")
        await settle(pilot)
        contacts = app.main.query_one(ContactsPane)
        # what the user typed is quoted literally (markup escaped), with the count
        assert title(contacts.matches_table) == (
            f"  Matches ({len(contacts.matches)}) for “\\[b]smith”")
        await pilot.press("down")
        assert title(contacts.matches_table).startswith("▸ Matches (")
