"""Snapshot tests of the Emails, Activities and Contacts panes (and the shell: help,
too-small, text safety) at 80×24 and 120×40 on the fixed demo store.

The Journeys and Conditions panes have their own snapshot tests.

Fixed data (demo store, 300 contacts, seed 7, fixed clock), fixed theme, cursor blink
off, no user config.  Look at a new or changed SVG before accepting it
(``pytest tests/tui --snapshot-update``, then view the files in ``__snapshots__``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def run(settle, *steps):  # type: ignore[no-untyped-def]
    """A run_before that presses *steps* (strings: keys; callables: app actions)."""

    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        for step in steps:
            if callable(step):
                step(pilot.app)
            else:
                await pilot.press(*step.split(" ")) if " " in step else await pilot.press(step)
            await settle(pilot)

    return before


def type_text(text: str):  # type: ignore[no-untyped-def]
    def set_value(app) -> None:  # type: ignore[no-untyped-def]
        app.focused.value = text

    return set_value


@pytest.mark.parametrize("size", SIZES)
def test_emails_pane(snap_compare, demo_db: Path, app_factory, settle, size) -> None:
    assert snap_compare(app_factory(demo_db), terminal_size=size, run_before=run(settle, "j j"))


@pytest.mark.parametrize("theme", ["journey-light", "journey-ansi"])
def test_emails_pane_theme(snap_compare, demo_db: Path, app_factory, settle, theme) -> None:
    app = app_factory(demo_db, theme=theme)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run(settle, "j j"))


@pytest.mark.parametrize("size", SIZES)
def test_email_with_warning(snap_compare, demo_db: Path, app_factory, settle, size) -> None:
    """The detail scrolled to the warnings and the funnel bars."""

    def pick(app) -> None:  # type: ignore[no-untyped-def]
        pane = app.main.query_one("#emails")
        email = next(r for r in pane.rows if r.stats and r.stats.warnings)
        pane.select_email(email.id)

    assert snap_compare(
        app_factory(demo_db), terminal_size=size,
        run_before=run(settle, pick, "d", "pagedown"),
    )


@pytest.mark.parametrize("size", SIZES)
def test_activities_pane(snap_compare, demo_db: Path, app_factory, settle, size) -> None:
    assert snap_compare(
        app_factory(demo_db), terminal_size=size, run_before=run(settle, "j j j", "enter", "j")
    )


@pytest.mark.parametrize("size", SIZES)
def test_contacts_search(snap_compare, demo_db: Path, app_factory, settle, size) -> None:
    assert snap_compare(
        app_factory(demo_db), terminal_size=size,
        run_before=run(settle, "3", type_text("grace"), "down", "j"),
    )


@pytest.mark.parametrize("size", SIZES)
def test_contact_history(snap_compare, demo_db: Path, app_factory, settle, size) -> None:
    assert snap_compare(
        app_factory(demo_db), terminal_size=size,
        run_before=run(settle, "3", type_text("olga wnag"), "enter", "j"),
    )


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, demo_db: Path, app_factory, settle, size) -> None:
    assert snap_compare(
        app_factory(demo_db), terminal_size=size, run_before=run(settle, "question_mark")
    )


def test_too_small(snap_compare, demo_db: Path, app_factory, settle) -> None:
    assert snap_compare(app_factory(demo_db), terminal_size=(60, 20), run_before=run(settle))


def test_markup_and_escapes_shown_literally(
    snap_compare, nasty_db: Path, app_factory, settle
) -> None:
    assert snap_compare(
        app_factory(nasty_db), terminal_size=(80, 24), run_before=run(settle, "enter")
    )
