"""Start-up order: the shell is drawn first, saying what loads; the first pane follows."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import ContentSwitcher, DataTable

from journeytui.tui.panes.base import Pane
from journeytui.tui.panes.emails import EmailsPane


async def test_first_frame_is_the_shell_then_the_emails_pane(
    demo_db: Path, app_factory, settle
) -> None:
    app = app_factory(demo_db)
    first: list[tuple[str, int, str]] = []
    display = app._display

    def spy(screen, renderable):  # type: ignore[no-untyped-def]
        if renderable is not None and not first and type(screen).__name__ == "MainScreen":
            header = str(screen.query_one("#header").render())
            first.append((app.status_text(), len(screen.query(Pane)), header))
        return display(screen, renderable)

    app._display = spy  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status, panes, header = first[0]
        assert status == "⏳ Opening Emails…"
        assert panes == 0  # the shell alone: header, tabs, status line, keys
        assert "journeytui · journeys.db" in header
        # then the pane, its rows, the focus, and "Ready"
        emails = app.main.query_one(EmailsPane)
        assert app.main.query_one(ContentSwitcher).current == "emails"
        assert emails.loaded and emails.table.row_count == len(emails.rows) > 0
        assert isinstance(app.focused, DataTable) and app.focused is emails.table
        assert app.status_text() == "Ready"


async def test_a_pane_key_pressed_at_once_wins(demo_db: Path, app_factory, settle) -> None:
    """A key that arrives before the first pane is mounted is not lost, and no pane is
    mounted twice."""
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        assert app.main.current == "journeys"
        assert app.main.query_one(ContentSwitcher).current == "journeys"
        ids = [pane.id for pane in app.main.query(Pane)]
        assert sorted(ids) == sorted(set(ids))
        assert "emails" in ids
        await pilot.press("escape")  # back to where it started
        await settle(pilot)
        assert app.main.current == "emails"
