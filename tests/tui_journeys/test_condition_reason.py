"""The Conditions pane says in full why a draft cannot be saved, at 80×24 too."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from journeytui.tui.panes.conditions import ConditionsPane
from journeytui.tui.screens.journey_pick import PickDialog


async def test_a_segment_that_can_never_hold_says_why_in_full(
    demo_db: Path, app_factory, settle, no_preview  # type: ignore[no-untyped-def]
) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        pane = app.main.query_one("#conditions", ConditionsPane)
        assert pane.journey_name == "Lead nurturing"
        await pilot.press("t")
        await settle(pilot)
        dialog = app.screen
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
