"""One path from a failed worker to what the user sees: workers raise, the pane resets
what the worker was to fill and the failure is said once, in the app's wording.

A failed worker makes ``settle`` raise, so these tests wait with ``until`` for what the
failure leaves behind (the pane's record of it, the status line), never for a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.errors import UserError
from journeytui.tui.panes import activities as activities_mod
from journeytui.tui.panes import contacts as contacts_mod
from journeytui.tui.panes.activities import ActivitiesPane
from journeytui.tui.panes.contacts import CardView


def _fail(*args: object, **kwargs: object) -> object:
    raise UserError("journeys.db: the disk is full (a fault put in by the test)")


async def test_a_failed_activities_heading_says_why_in_place(
    demo_db: Path, app_factory, settle, until, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activities_mod, "email_heading", _fail)
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.open_activities(1)
        pane = app.main.query_one(ActivitiesPane)
        # the heading's worker and the rows' worker end in either order: wait for both
        # (the failure handled by the pane, the first page shown)
        await until(pilot, lambda: pane.heading_error != "", "the heading's failure handled")
        await until(pilot, lambda: app.status_text() == "Ready" and pane.table.row_count,
                    "the rows")
        assert str(pane.query_one("#activities-title").render()) == "Could not load this email"
        assert str(pane.query_one("#activities-gap").render()) == (
            "journeys.db: the disk is full (a fault put in by the test)")
        assert app.status_text() == "Ready"  # not left "loading"
        # said in place, so no second report as a notification
        assert not [n for n in app._notifications if "disk is full" in n.message]


async def test_a_failed_contact_card_says_why_in_the_card(
    demo_db: Path, app_factory, settle, until, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contacts_mod, "contact_card", _fail)
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.open_contact(1)
        pane = app.main.pane_by_id("contacts")  # mounted when first shown
        await until(pilot, lambda: pane.is_mounted and "disk is full" in pane.query_one(
            CardView).hint, "the card's failure handled")
        await until(pilot, lambda: app.status_text() == "Ready", "the history loaded")
        card = app.main.query_one(CardView)
        assert card.hint == "journeys.db: the disk is full (a fault put in by the test)"
        assert app.status_text() == "Ready"


async def test_a_failed_page_of_rows_says_why_in_the_table(
    demo_db: Path, app_factory, settle, until, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activities_mod, "email_activities", _fail)
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.open_activities(1)
        pane = app.main.query_one(ActivitiesPane)
        await until(pilot, lambda: pane.is_mounted and pane.table._error is not None,
                    "the rows' failure handled")
        # the user error's own text, in place of the rows (not "UserError: …")
        assert pane.table._error == "journeys.db: the disk is full (a fault put in by the test)"
        await until(pilot, lambda: app.status_text() == "Ready", "the status line cleared")
