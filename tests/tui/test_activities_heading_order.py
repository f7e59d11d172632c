"""The Activities pane's heading and its rows load in two workers that end in either
order: rows that come first never make the heading say what it has not read yet (it
said "Draft: no statistics and no activities." for an email that has both)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from journeytui.tui.panes import activities as activities_mod
from journeytui.tui.panes.activities import ActivitiesPane


async def test_rows_before_the_heading_leave_it_loading(
    demo_db: Path, app_factory, settle, until, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    real = activities_mod.email_heading

    def held(*args: object, **kwargs: object) -> object:
        gate.wait(timeout=200)  # released by the test once the rows are shown
        return real(*args, **kwargs)

    monkeypatch.setattr(activities_mod, "email_heading", held)
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.open_activities(1)
        pane = app.main.query_one(ActivitiesPane)
        try:
            await until(pilot, lambda: pane.is_mounted and pane.table.row_count,
                        "the rows (the heading held back)")
            await pilot.pause()
            assert str(pane.query_one("#activities-title").render()) == "Loading…"
            assert "Draft" not in str(pane.query_one("#activities-gap").render())
        finally:
            gate.set()  # a failed check must not leave the worker (and the app) waiting
        await until(pilot, lambda: pane.stats is not None, "the heading read")
        await pilot.pause()
        title = str(pane.query_one("#activities-title").render())
        assert title == pane.email_name != ""
        assert "Draft" not in str(pane.query_one("#activities-gap").render())
