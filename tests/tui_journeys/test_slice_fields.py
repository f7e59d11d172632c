"""The as-of dialog (Journeys pane, key a): its fields read as fields in every theme —
a background of their own, unlike the dialog's, and the focused one unlike the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input


@pytest.mark.parametrize("theme", ["journey-dark", "journey-ansi"])
async def test_the_fields_have_a_background_of_their_own(
    demo_db: Path, app_factory, settle, theme: str  # type: ignore[no-untyped-def]
) -> None:
    from journeytui.tui.screens.funnel_slice import SliceDialog

    app = app_factory(demo_db, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SliceDialog)
        fields = list(dialog.query(Input))
        focused = [f for f in fields if f.has_focus]
        others = [f for f in fields if not f.has_focus]
        assert len(focused) == 1 and len(others) == 4  # as of, from, to, within, compare
        box = dialog.query_one("#slice").styles.background
        for field in others:
            # the unfocused fields' background is neither the dialog's nor the
            # terminal's default (an ansi theme's panel colour is the default, and a
            # field drawn in it showed only its label)
            assert field.styles.background != box, (theme, field.id)
            assert field.styles.background.a > 0, (theme, field.id)  # not see-through
        assert focused[0].styles.background != others[0].styles.background
