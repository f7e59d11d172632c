"""The editor's live preview in the app: an estimate first, labelled as one (≈, ±),
then the exact funnel in its place; an edit while the exact replay of the previous
draft is under way cancels that replay, and only the newest draft's figures are ever
shown.  The exact replay is held at its start by a gate (the real replay runs once
the gate opens), so the edit lands while it is in flight without any timing.  The
arithmetic of the estimate and the replay are tested on the domain in
tests/editor/test_preview.py."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from journeytui.domain.journey_model import Journey, parse_journey
from journeytui.domain.preview import PreviewCancelled, exact
from journeytui.store import Store
from journeytui.tui.journey_data import from_domain
from journeytui.tui.panes import conditions_preview as preview_module
from journeytui.tui.panes.conditions import ConditionsPane
from journeytui.tui.widgets.condition_preview import ConditionPreview


class GatedReplay:
    """``exact`` held at its start until :meth:`open`; notes each call's outcome."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started: list[Journey] = []
        self.outcomes: list[str] = []

    def __call__(self, store: Store, j: Journey, **options: Any) -> dict[str, Any]:
        self.started.append(j)
        self.gate.wait(200)  # a guard only: the test opens it (or its teardown does)
        try:
            figures = exact(store, j, **options)
        except PreviewCancelled:
            self.outcomes.append("cancelled")
            raise
        self.outcomes.append("done")
        return figures


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> GatedReplay:
    replay = GatedReplay()
    monkeypatch.setattr(preview_module, "exact", replay)
    yield replay  # type: ignore[misc]
    replay.gate.set()


async def open_t4(pilot: Pilot[object], wait_until: Any) -> ConditionsPane:
    """The Conditions pane on "Lead nurturing", t4 Browsing → Interested (any of
    two link clicks), the cursor on its first part."""
    await pilot.press("5")
    pane = pilot.app.main.query_one("#conditions", ConditionsPane)  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: pane.journey_name == "Lead nurturing"
                     and pane.draft is not None, "the journey")
    pane.select_transition(3)
    await wait_until(pilot, lambda: pane.t == 3, "t4")
    await pilot.press("down")
    await wait_until(pilot, lambda: pane.state.path == (0,), "the first part")
    return pane


def exact_figures(db: Path, definition: dict[str, Any]) -> Any:
    store = Store.open(db)
    try:
        j = parse_journey(definition)
        return from_domain(j, exact(store, j), 0)
    finally:
        store.close()


def preview_text(pane: ConditionsPane) -> str:
    """The preview as the user reads it."""
    widget = pane.query_one(ConditionPreview)
    console = widget.app.console
    with console.capture() as capture:
        console.print(widget.drawing(widget.content_region.width))
    return capture.get()


async def test_an_estimate_is_shown_first_then_the_exact_funnel(
        demo_db: Path, app_factory: Any, wait_until: Any, until: Any, gated: GatedReplay,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a sample of 100 of the store's contacts with activities: an estimate
    monkeypatch.setattr(ConditionsPane, "sample_size", 100)
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_t4(pilot, wait_until)
        await pilot.press("d")  # t4: clicked a pricing link only
        await until(pilot, lambda: pane.draft_estimate is not None, "the estimate")
        text = preview_text(pane)
        assert "draft ≈ estimate" in text and "≈ estimated from" in text
        assert "±" in text
        assert pane.draft_figures is None
        gated.gate.set()
        await wait_until(pilot, lambda: pane.draft_figures is not None, "the exact funnel")
        assert pane.draft_estimate is None
        text = preview_text(pane)
        assert "≈" not in text and "Draft computed" in text
        want = exact_figures(demo_db, pane.draft)  # type: ignore[arg-type]
        assert (pane.draft_figures.main, pane.draft_figures.exits) == (want.main, want.exits)
    assert gated.outcomes == ["done"]


async def test_an_edit_during_the_replay_cancels_it(
        demo_db: Path, app_factory: Any, wait_until: Any, until: Any,
        gated: GatedReplay) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_t4(pilot, wait_until)
        await pilot.press("d")  # draft A: t4 on a pricing link only
        await until(pilot, lambda: len(gated.started) == 1, "the replay of draft A")
        first = pane.draft
        await pilot.press("n")  # draft B: t4 on *not* a pricing link
        assert pane.draft != first
        await until(pilot, lambda: len(gated.started) == 2, "the replay of draft B")
        assert pane.draft_figures is None  # A's figures are never shown
        gated.gate.set()
        await wait_until(pilot, lambda: pane.draft_figures is not None, "B's funnel")
        want = exact_figures(demo_db, pane.draft)  # type: ignore[arg-type]
        assert (pane.draft_figures.main, pane.draft_figures.exits) == (want.main, want.exits)
        assert want != exact_figures(demo_db, first)  # type: ignore[arg-type]
    # A's replay stopped at its first contact (its flag was set by the edit)
    assert sorted(gated.outcomes) == ["cancelled", "done"]


async def test_undoing_back_to_the_saved_journey_takes_the_status_note_back(
        demo_db: Path, app_factory: Any, wait_until: Any) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_t4(pilot, wait_until)
        await pilot.press("d")  # t4: clicked a pricing link only
        status = app.main.status

        def shown() -> str:  # the status line as the user reads it
            return str(status.render())

        await wait_until(pilot, lambda: "preview: t4" in shown(), "the preview's note")
        await pilot.press("u")  # back to the saved journey
        await wait_until(pilot, lambda: not pane.state.dirty, "the saved draft")
        # what the note said of the edited draft no longer holds
        assert "preview:" not in shown()
