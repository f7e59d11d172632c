"""The Emails pane at 80 and 120 columns: the figures that matter are never cut, the
name takes the room that is left, and the latest *sent* email comes first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from journeytui.tui.panes.emails import COLUMNS, EmailsPane


def q(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_at_80_columns_every_key_figure_shows_and_sent_emails_come_first(
    demo_db: Path, app_factory, settle
) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        emails = app.main.query_one(EmailsPane)
        titles = [c.title for c in emails.columns]
        # Deliv. and Opened make room; every other figure is there, uncut
        assert titles == ["Name", "Stat.", "Send date", "Sent", "Clicked", "Open %",
                          "Click %", "Unsub", "Spam", "!"]
        assert sum(c.width for c in emails.table.columns.values()) <= 80 - 1
        # newest sent email first; scheduled after all sent ones; drafts last
        (latest_sent,) = q(demo_db, "SELECT name FROM emails WHERE status = 'sent'"
                                    " ORDER BY send_at DESC, id DESC LIMIT 1")[0]
        assert emails.selected is not None and emails.selected.name == latest_sent
        statuses = [r.status for r in emails.shown]
        n_sent, n_sched = statuses.count("sent"), statuses.count("scheduled")
        assert n_sent and n_sched
        assert statuses == ["sent"] * n_sent + ["scheduled"] * n_sched + ["draft"] * (
            len(statuses) - n_sent - n_sched)
        # the sort picker offers the shown columns only, the current one highlighted
        from textual.widgets import OptionList

        from journeytui.tui.screens.journey_pick import PickDialog

        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PickDialog)
        assert [k for k, _ in dialog.choices] == [c.key for c in emails.columns]
        highlighted = dialog.query_one(OptionList).highlighted
        assert dialog.choices[highlighted or 0][0] == COLUMNS[emails.sort_index].key


async def test_at_120_columns_names_are_whole_and_every_column_shows(
    demo_db: Path, app_factory, settle
) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        emails = app.main.query_one(EmailsPane)
        assert "Deliv." in [c.title for c in emails.columns]
        longest = max(len(r.name) for r in emails.rows)
        name_column = emails.table.columns["name"]  # type: ignore[index]
        assert name_column.width - 1 >= longest  # not cut: "Newsletter — June" ≠ "— July"
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "Deliv." not in [c.title for c in emails.columns]


async def test_a_compact_layout_down_to_60_by_20_one_panel_at_a_time(
    demo_db: Path, app_factory, settle
) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        assert app.has_class("-compact") and not app.has_class("-too-small")
        emails = app.main.query_one(EmailsPane)
        assert [c.title for c in emails.columns] == [
            "Name", "Send date", "Sent", "Clicked", "Click %", "Spam", "!"]
        assert sum(c.width for c in emails.table.columns.values()) <= 60 - 1
        detail = app.main.query_one("#email-detail-scroll")
        assert not detail.display or detail.size.height == 0
        await pilot.press("d")  # the detail takes the list's place
        await settle(pilot)
        assert app.focused is detail and detail.size.height > 10
        assert not emails.table.display or emails.table.size.height == 0
        await pilot.press("escape")  # and back to the list, same pane
        await settle(pilot)
        assert app.focused is emails.table and app.main.current == "emails"
        await pilot.resize_terminal(59, 20)
        await settle(pilot)
        assert app.has_class("-too-small")
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert not app.has_class("-compact") and not app.has_class("-too-small")
