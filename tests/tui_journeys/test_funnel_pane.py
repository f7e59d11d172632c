"""The Journeys pane by keyboard: the funnel's figures in words, a stage's contacts
(sorted, stalled only, Enter opens the contact), a transition's emails, the stall
threshold, CSV export."""

from __future__ import annotations

import csv
from pathlib import Path

from journeytui.store import Store
from journeytui.tui.journey_data import stored_figures
from journeytui.tui.panes.journeys import JourneysPane
from journeytui.tui.screens.export import ExportDialog
from journeytui.tui.screens.journey_pick import PickDialog


def figures_of(db: Path, name: str, stall: int):  # type: ignore[no-untyped-def]
    store = Store.open(db)
    try:
        return stored_figures(store, name, stall)
    finally:
        store.close()


async def show(pilot, settle) -> JourneysPane:  # type: ignore[no-untyped-def]
    await pilot.press("4")
    await settle(pilot)
    return pilot.app.main.query_one("#journeys", JourneysPane)


async def test_funnel_reads_in_words(demo_db: Path, app_factory, settle) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await show(pilot, settle)
        assert pane.journey == "Lead nurturing"
        expected = figures_of(demo_db, "Lead nurturing", 30)
        text = "\n".join(pane.funnel.plain_lines())
        for s in expected.main:
            assert s.name in text
            assert f"{s.reached:,} reached · {s.current:,} now" in text
        first = expected.main[0]
        assert first.next_rate is not None and first.stalled is not None
        assert f"next {first.next_rate * 100:.1f} %" in text
        assert f"{first.stalled:,} stalled" in text
        assert f"drop-off {first.drop_off:,}" in text
        assert "Exit stages" in text and "↳ At-risk" in text
        assert "↘ t1 any stage → At-risk" in text
        # Another journey, chosen with o.
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, PickDialog)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert pane.journey == "Webinar"
        assert "Invited" in "\n".join(pane.funnel.plain_lines())


async def test_stage_contacts_and_open_contact(demo_db: Path, app_factory, settle) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await show(pilot, settle)
        expected = figures_of(demo_db, "Lead nurturing", 30)
        stage = max((s for s in expected.main if s.stalled is not None),
                    key=lambda s: s.current)
        while pane.item is None or pane.item.stage is None or pane.item.stage.name != stage.name:
            await pilot.press("down")
            await settle(pilot)
        assert pane.detail.row_count == stage.current
        rows = pane.detail.cached_rows()
        since = [r.payload.since for r in rows]
        assert since == sorted(since)  # longest in the stage first
        await pilot.press("s")  # newest first
        await settle(pilot)
        assert [r.payload.since for r in pane.detail.cached_rows()] == sorted(since, reverse=True)
        await pilot.press("t")  # stalled only
        await settle(pilot)
        assert pane.detail.row_count == stage.stalled
        await pilot.press("t", "s", "s")  # all again, longest first
        await settle(pilot)
        await pilot.press("enter")  # into the list
        await settle(pilot)
        assert app.focused is pane.detail
        contact = pane.detail.current_row.payload  # type: ignore[union-attr]
        await pilot.press("enter")  # opens the contact
        await settle(pilot)
        assert app.main.current == "contacts"
        assert app.selection.contact_id == contact.contact_id


async def test_transition_emails_and_stall_threshold(
    demo_db: Path, app_factory, settle  # type: ignore[no-untyped-def]
) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await show(pilot, settle)
        await pilot.press("down")  # the first transition under stage 1
        await settle(pilot)
        assert pane.item is not None and pane.item.transition is not None
        t = pane.item.transition
        cells = [r.cells[0] for r in pane.detail.cached_rows()]
        assert cells[: len(t.emails)] == [e for e, _ in t.emails]
        # one table, its columns defined once: after the emails that moved people come
        # those whose clicks in the stage moved nobody through here
        assert [c.title for c in pane.detail.columns] == [
            "Email", "Moved here", "Clicks in stage", "No move"]
        rest = pane.detail.cached_rows()[len(t.emails):]
        assert rest and all(r.cells[1] == "0" and int(r.cells[3]) > 0 for r in rest)
        # Stall threshold: 30 → 45 → 30 → 21 days; the stalled count follows.
        counts = {}
        for key, days in (("plus", 45), ("minus", 30), ("minus", 21)):
            await pilot.press(key)
            await settle(pilot)
            assert pane.stall_days == days
            assert pane.figures is not None and pane.figures.stall_days == days
            counts[days] = pane.figures.main[0].stalled
            assert counts[days] == figures_of(demo_db, "Lead nurturing", days).main[0].stalled
        assert counts[21] >= counts[30] >= counts[45]
        head = str(app.main.query_one("#journeys-head").render())
        assert "21 days" in head


async def test_export_stage_contacts_csv(demo_db: Path, app_factory, settle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await show(pilot, settle)
        assert pane.item is not None and pane.item.stage is not None
        stage = pane.item.stage
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        target = tmp_path / "browsing.csv"
        app.screen.query_one("#export-path").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        with target.open(encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0][:4] == ["contact_id", "name", "address", "stage"]
        assert len(rows) - 1 == stage.current
        assert {r[3] for r in rows[1:]} == {stage.name}


async def test_nobody_is_stalled_in_an_exit_stage(demo_db: Path, app_factory, settle) -> None:  # type: ignore[no-untyped-def]
    """Issue 11, item 2: an exit stage's contacts are never stalled, in the funnel's
    words nor in its "stalled only" list (which then lists everyone in the stage)."""
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await show(pilot, settle)
        lines = pane.funnel.plain_lines()
        exit_lines = [ln for ln in lines if ln.lstrip().startswith("↳")]
        assert exit_lines and not any("stalled" in ln for ln in exit_lines)
        while pane.item is None or pane.item.stage is None or pane.item.stage.name != "Dormant":
            await pilot.press("down")
            await settle(pilot)
        dormant = pane.item.stage
        assert dormant.exit and dormant.stalled is None and dormant.current > 0
        assert pane.detail.row_count == dormant.current
        await pilot.press("t")  # stalled only: nobody is, so everybody stays listed
        await settle(pilot)
        assert pane.detail.row_count == dormant.current
