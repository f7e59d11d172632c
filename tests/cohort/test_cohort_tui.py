"""The as-of / cohort dialog of the Journeys pane, by keyboard (the hand-built store of
test_cohort_hand: as of T0+11d = 2026-01-16, A 3 reached, B 1; now A 5, B 3, C 1)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_cohort_hand import build  # noqa: E402


async def test_dialog_shows_the_as_of_funnel_and_a_comparison(
    tmp_path: Path, app_factory: Callable[..., object], settle: Callable[..., object],
) -> None:
    from journeytui.tui.screens.funnel_slice import SliceDialog, SliceScreen

    store = build(tmp_path)
    db = store.path
    store.close()
    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("4")
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, SliceDialog)  # type: ignore[attr-defined]
        await pilot.press(*"2026-01-16", "enter")
        await settle(pilot)  # type: ignore[operator]
        screen = app.screen  # type: ignore[attr-defined]
        assert isinstance(screen, SliceScreen) and screen.data is not None
        assert [s["reached"] for s in screen.data["stages"]] == [3, 1, 0]
        assert [s["current"] for s in screen.data["stages"]] == [2, 1, 0]
        # a: change it — the dialog comes back filled; compare with that date instead
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, SliceDialog)  # type: ignore[attr-defined]
        await pilot.press("ctrl+u")  # as of: empty (the evaluation)
        for _ in range(4):
            await pilot.press("down")
            await pilot.pause()
        await pilot.press(*"2026-01-16", "enter")
        await settle(pilot)  # type: ignore[operator]
        screen = app.screen  # type: ignore[attr-defined]
        assert isinstance(screen, SliceScreen) and screen.data is not None
        a = screen.data["stages"][0]["reached"]
        assert a == {"before": 3, "after": 5, "delta": 2}
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SliceScreen)  # type: ignore[attr-defined]


async def test_dialog_says_what_is_wrong(
    tmp_path: Path, app_factory: Callable[..., object], settle: Callable[..., object],
) -> None:
    from textual.widgets import Static

    from journeytui.tui.screens.funnel_slice import SliceDialog

    store = build(tmp_path)
    db = store.path
    store.close()
    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("4")
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("a")
        await pilot.pause()
        for _ in range(3):
            await pilot.press("down")
            await pilot.pause()
        await pilot.press("5", "enter")  # a window without a cohort
        await pilot.pause()
        dialog = app.screen  # type: ignore[attr-defined]
        assert isinstance(dialog, SliceDialog)
        error = str(dialog.query_one("#slice-error", Static).render())
        assert "give the entry cohort too" in error
