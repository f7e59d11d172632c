"""Snapshots of the Journeys and Conditions panes at 80×24 and 120×40 on the fixed
demo store (300 contacts, seed 7), fixed theme, no cursor blink, no user config:
the funnel; the funnel with a transition's emails; the editor with a validation
error; the editor's preview with a difference.  Look at a new or changed SVG before
accepting it (``pytest tests/tui_journeys --snapshot-update``)."""

from __future__ import annotations

from pathlib import Path

import pytest

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def conditions(app):  # type: ignore[no-untyped-def]
    return app.main.query_one("#conditions")


def steps(settle, wait_until, *actions):  # type: ignore[no-untyped-def]
    """A run_before: each action is keys (a string, space separated) or a function
    of the app that returns a condition to wait for (or None)."""

    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        for action in actions:
            if callable(action):
                condition = action(pilot.app)
                if condition is not None:
                    await wait_until(pilot, condition, action.__name__)
            else:
                await pilot.press(*action.split(" "))
            await settle(pilot)

    return before


def preview_done(app):  # type: ignore[no-untyped-def]
    pane = conditions(app)
    return lambda: pane.draft_figures is not None and pane.draft_figures is not pane.saved_figures


def opened(app):  # type: ignore[no-untyped-def]
    pane = conditions(app)
    return lambda: pane.journey_name == "Lead nurturing" and pane.draft is not None


@pytest.mark.parametrize("size", SIZES)
def test_funnel(snap_compare, demo_db: Path, app_factory, settle, wait_until, size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_factory(demo_db), terminal_size=size,
                        run_before=steps(settle, wait_until, "4"))


def test_funnel_transition(snap_compare, demo_db: Path, app_factory, settle, wait_until  # type: ignore[no-untyped-def]
                           ) -> None:
    """The cursor on "t4 Browsing → Interested": the emails that moved contacts."""
    assert snap_compare(app_factory(demo_db), terminal_size=(120, 40),
                        run_before=steps(settle, wait_until, "4", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_editor_validation_error(snap_compare, demo_db: Path, app_factory, settle,  # type: ignore[no-untyped-def]
                                 wait_until, size) -> None:
    """t4 (Browsing → Interested) gets a part naming an email that does not exist: ✗ on the part, the reason
    (with a suggestion) above, no preview."""
    assert snap_compare(app_factory(demo_db), terminal_size=size, run_before=steps(
        settle, wait_until, "5", opened, "t", "down down down enter",
        "down enter", "ctrl+u", "S p r i n g space t e a s r", "escape"))


@pytest.mark.parametrize("size", SIZES)
def test_editor_preview_difference(snap_compare, demo_db: Path, app_factory, settle,  # type: ignore[no-untyped-def]
                                   wait_until, size) -> None:
    """t4 loses its pricing part: the draft's funnel beside the saved one, with Δ."""
    assert snap_compare(app_factory(demo_db), terminal_size=size, run_before=steps(
        settle, wait_until, "5", opened, "t", "down down down enter",
        "down down d", preview_done))


# The 16-colour theme (recommended for SSH demos): cursor rows must name both colours.
@pytest.mark.parametrize("size", SIZES)
def test_funnel_ansi(snap_compare, demo_db: Path, app_factory, settle, wait_until, size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_factory(demo_db, theme="journey-ansi"), terminal_size=size,
                        run_before=steps(settle, wait_until, "4", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_editor_ansi(snap_compare, demo_db: Path, app_factory, settle, wait_until,  # type: ignore[no-untyped-def]
                     size) -> None:
    assert snap_compare(app_factory(demo_db, theme="journey-ansi"), terminal_size=size,
                        run_before=steps(settle, wait_until, "5", opened, "t",
                                         "down down down enter", "down"))
