"""Opening the Journeys pane: the funnel is read before its key is pressed, the key
draws it at once, the focus goes straight to it, and coming back to the pane keeps
the stage list where the user left it (the read that checks the funnel is still
current draws nothing again when nothing changed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widget import Widget

from journeytui.domain.journey_model import Journey, Stage
from journeytui.domain.journeys import save_journey
from journeytui.store import Store
from journeytui.tui.panes.journeys import JourneysPane
from journeytui.tui.screens import main as main_screen
from journeytui.tui.screens.main import StatusLine


def said_in_status(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Everything the status line begins to say from now on."""
    said: list[str] = []
    status = app.main.query_one(StatusLine)
    begin = status.begin

    def record(tag: str, text: str) -> None:
        said.append(text)
        begin(tag, text)

    status.begin = record  # type: ignore[method-assign]
    return said


async def test_the_funnel_is_read_before_its_key_and_drawn_at_once(
    demo_db: Path, app_factory, settle, wait_until  # type: ignore[no-untyped-def]
) -> None:
    app = app_factory(demo_db, preload_panes=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # the shell mounts the other panes in the background once the Emails pane
        # has its rows; the Journeys pane reads its funnel then, unseen
        await wait_until(pilot, lambda: app.main.query(JourneysPane),
                         "the Journeys pane mounted in the background")
        await settle(pilot)
        pane = app.main.query_one(JourneysPane)
        assert app.main.current == "emails"
        assert pane.figures is not None
        read = pane.figures
        said = said_in_status(app)

        await pilot.press("4")
        await settle(pilot)
        assert app.main.current == "journeys"
        assert any("reached" in line for line in pane.funnel.plain_lines())
        # nothing had changed: the check after the key found the same figures and drew
        # nothing again, and did not say "Computing…" over a funnel already shown
        assert pane.figures is read
        assert pane.funnel.figures is read
        assert said == []


@pytest.mark.parametrize("preload", [True, False], ids=["preloaded", "mounted-by-the-key"])
async def test_the_focus_goes_straight_to_the_pane_shown(
    demo_db: Path, app_factory, settle, preload: bool  # type: ignore[no-untyped-def]
) -> None:
    # the Journeys pane mounted in the background after start-up, or by the key (a
    # key pressed before that: the pane is shown once mounted)
    app = app_factory(demo_db, preload_panes=preload)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.main
        assert screen.focused is not None and screen.focused.id == "emails-table"
        focused: list[Widget | None] = []

        def moved(widget: Widget | None) -> None:
            focused.append(widget)

        screen.watch(screen, "focused", moved, init=False)

        await pilot.press("4")
        await settle(pilot)
        pane = screen.query_one(JourneysPane)
        # one move, from the Emails list to the funnel: the focus did not stop in the
        # hidden Emails pane (its detail panel) on the way
        assert focused == [pane.funnel]
        assert not screen.query_one("#emails").has_class("-detail")


async def test_the_stage_list_keeps_its_place_when_the_pane_is_shown_again(
    demo_db: Path, app_factory, settle  # type: ignore[no-untyped-def]
) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        pane = app.main.query_one(JourneysPane)
        item = pane.funnel.current_item
        assert item is not None and item.stage is not None
        # the first stage of the demo's lead-nurturing journey, Browsing, holds 15
        # contacts in this fixture: room for the cursor to go three rows down
        assert item.stage.current > 3
        await pilot.press("l", "down", "down", "down")
        await settle(pilot)
        assert pane.detail.cursor_row == 3
        row = pane.detail.current_row
        assert row is not None

        await pilot.press("1")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert pane.detail.cursor_row == 3
        again = pane.detail.current_row
        assert again is not None and again.key == row.key


async def test_a_change_by_another_program_is_drawn(
    demo_db: Path, app_factory, settle, wait_until, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(main_screen, "WATCH_SECONDS", 0.1)
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        # the store's watcher reads the store's version at its first look
        await wait_until(pilot, lambda: app.main._watcher is not None, "the store watched")
        pane = app.main.query_one(JourneysPane)
        before = {j.name for j in pane.journeys}
        assert "Later" not in before

        store = Store.open(demo_db)
        try:
            save_journey(store, Journey(name="Later", goal="Saved by another program",
                                        stages=[Stage(name="One"), Stage(name="Two")]))
        finally:
            store.close()
        await wait_until(pilot, lambda: "Later" in {j.name for j in pane.journeys},
                         "the new journey listed")
        assert {j.name for j in pane.journeys} == before | {"Later"}
