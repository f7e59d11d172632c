"""Panels carry a title with their count, and the focused one is marked with ▸."""

from __future__ import annotations

import io
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


async def test_the_card_shows_how_the_contact_got_to_its_stage(
    demo_db: Path, app_factory, settle
) -> None:
    from journeytui.tui.panes.contacts import CardView

    conn = sqlite3.connect(demo_db)
    try:
        # a contact now in an exit stage, with two moves before it
        contact_id, journey = conn.execute(
            "SELECT m.contact_id, j.name FROM journey_moves m JOIN journeys j"
            " ON j.id = m.journey_id JOIN journey_positions p ON p.journey_id = m.journey_id"
            " AND p.contact_id = m.contact_id WHERE p.stage IN ('At-risk', 'Dormant')"
            " GROUP BY m.contact_id, m.journey_id HAVING count(*) = 3 LIMIT 1"
        ).fetchone()
        moves = conn.execute(
            "SELECT m.to_stage, substr(datetime(m.at, 'unixepoch'), 1, 10), e.name"
            " FROM journey_moves m JOIN journeys j ON j.id = m.journey_id"
            " LEFT JOIN emails e ON e.id = m.email_id"
            " WHERE m.contact_id = ? AND j.name = ? ORDER BY m.at, m.id",
            (contact_id, journey),
        ).fetchall()
    finally:
        conn.close()
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.open_contact(contact_id)
        await settle(pilot)
        from rich.console import Console

        console = Console(width=1000, record=True, file=io.StringIO())
        console.print(app.main.query_one(CardView).render())
        text = console.export_text()
        (s1, d1, e1), (s2, d2, e2), (s3, _d3, _e3) = moves
        expected = (f"{journey}: {s1} ({d1}" + (f", {e1}" if e1 else "") + f") → {s2} ({d2}"
                    + (f", {e2}" if e2 else "") + f") → ▸ {s3} (exit stage) since")
        assert expected in text, text
