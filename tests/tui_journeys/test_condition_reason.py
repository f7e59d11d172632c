"""The Conditions pane at 80×24 says what the user needs in full: why a draft cannot
be saved, and (in the stages dialog) where segments are edited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Label, Static

from journeytui.tui.panes.conditions import ConditionsPane
from journeytui.tui.screens.condition_dialogs import SEGMENTS_HINT, StagesDialog
from journeytui.tui.screens.journey_pick import PickDialog


@asynccontextmanager
async def conditions_pane(app_factory: Callable[..., Any], db: Path,
                          settle: Any) -> AsyncIterator[tuple[Pilot[Any], ConditionsPane]]:
    """The app at 80×24 on the Conditions pane, "Lead nurturing" open."""
    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        pane = app.main.query_one("#conditions", ConditionsPane)
        assert pane.journey_name == "Lead nurturing"
        yield pilot, pane


async def test_a_segment_that_can_never_hold_says_why_in_full(
    demo_db: Path, app_factory, settle, no_preview  # type: ignore[no-untyped-def]
) -> None:
    async with conditions_pane(app_factory, demo_db, settle) as (pilot, pane):
        await pilot.press("t")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, PickDialog)
        ids = [ident for ident, _ in dialog.choices]  # the entry, then t1 (0), t2 (1)…
        steps = ids.index("3") - ids.index(str(pane.state.t))  # to t4 (3), from the cursor
        await pilot.press(*["down"] * steps, "enter")
        await settle(pilot)
        assert pane.transition_label(pane.t) == "t4 Browsing → Interested"
        await pilot.press("a", "K", "end", "enter")  # a new part, of kind in_segment
        await settle(pilot)
        await pilot.press("e", *"Pricing, still interested", "escape")
        await settle(pilot)
        assert pane.problem is not None and "can never hold" in pane.problem
        check = pane.query_one("#cond-check", Static)
        # "✗ cannot save: any[3].in_segment: 'Pricing, still interested' can never
        # hold: it holds contacts in 'Interested' (a later stage), and this transition
        # is tried only while in 'Browsing'" wraps at 78 columns (80 less the padding)
        # into 3 lines: "… can never hold:" / "it holds … transition is" / "tried only
        # while in 'Browsing'" — all three are shown
        assert check.size.width == 78
        assert check.size.height == 3


async def test_the_stages_dialog_says_where_segments_are_edited(
    demo_db: Path, app_factory, settle, no_preview  # type: ignore[no-untyped-def]
) -> None:
    async with conditions_pane(app_factory, demo_db, settle) as (pilot, _pane):
        await pilot.press("S")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, StagesDialog)
        hint = dialog.query_one("#stages-segments", Label)
        assert "journey file" in SEGMENTS_HINT and "journey export" in SEGMENTS_HINT
        assert str(hint.render()) == SEGMENTS_HINT
        # one line, whole, at 80 columns: the dialog is 74 wide, its text 70
        # (74 less 2 border and 2 padding columns), the hint 70 characters
        assert len(SEGMENTS_HINT) == 70
        assert hint.size.height == 1 and hint.size.width == 70
