"""Pickers mark the highlighted choice with a symbol; the conflict dialog's Enter is the
safe choice; the version picker says what changed."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import OptionList

from journeytui.domain.journey_diff import version_changes
from journeytui.domain.journey_model import Journey
from journeytui.domain.journeys import get_journey, save_journey
from journeytui.store import Store
from journeytui.tui.panes.conditions import ConditionsPane
from journeytui.tui.screens.journey_pick import PickDialog


def lines(dialog: PickDialog) -> list[str]:
    options = dialog.query_one(OptionList)
    return [options.get_option_at_index(i).prompt.plain  # type: ignore[union-attr]
            for i in range(options.option_count)]


async def test_the_highlighted_choice_is_marked_by_a_symbol() -> None:
    picked: list[str | None] = []

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(PickDialog("Pick", [("a", "first"), ("b", "second"),
                                                 ("c", "third")], "b"), picked.append)

    app = Host()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert lines(app.screen) == ["  first", "▸ second", "  third"]  # type: ignore[arg-type]
        await pilot.press("down")
        assert lines(app.screen) == ["  first", "  second", "▸ third"]  # type: ignore[arg-type]
        await pilot.press("enter")
    assert picked == ["c"]


def journey(**changes: object) -> Journey:
    base = {
        "name": "J", "goal": "Buy",
        "stages": [{"name": "A"}, {"name": "B"}, {"name": "Gone", "exit": True}],
        "transitions": [
            {"from": "A", "to": "B", "when": {"opened": {}}, "priority": 1},
            {"from": None, "to": "Gone", "when": {"reported_spam": {}}, "priority": 2},
        ],
    }
    base.update(changes)
    return Journey.model_validate(base)


def test_version_changes_say_what_changed() -> None:
    old = journey()
    new = journey(
        stages=[{"name": "A"}, {"name": "B", "exit": True}, {"name": "C"}],
        transitions=[
            {"from": "A", "to": "B", "when": {"clicked": {}}, "priority": 5},
            {"from": "B", "to": "C", "when": {"opened": {}}, "priority": 1},
        ],
    )
    assert version_changes(old, new) == [
        "+ stage C",
        "− stage Gone",
        "stage B now an exit",
        "+ transition B → C",
        "− transition any stage → Gone",
        "transition A → B: condition changed",
        "transition A → B: priority 1 → 5",
    ]
    assert version_changes(old, journey()) == []


async def test_enter_in_the_conflict_dialog_keeps_editing_and_saves_nothing(
    demo_db: Path, app_factory, settle
) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        pane = app.main.query_one("#conditions", ConditionsPane)
        assert pane.journey_name is not None
        name, version = pane.journey_name, pane.version
        store = Store.open(demo_db)
        try:  # someone else saves meanwhile
            j, _ = get_journey(store, name)
            assert save_journey(store, j.model_copy(update={"goal": "Theirs"}),
                                expected_version=version) == version + 1
        finally:
            store.close()
        await pilot.press("down", "d")  # an edit of ours
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PickDialog)
        assert lines(dialog)[0].startswith("▸ Keep editing")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, PickDialog)
        assert pane.dirty  # our draft is still here
        store = Store.open(demo_db)
        try:
            j, now = get_journey(store, name)
        finally:
            store.close()
        assert now == version + 1 and j.goal == "Theirs"  # theirs, untouched


async def test_e_on_a_stage_opens_the_transition_into_it(
    demo_db: Path, app_factory, settle
) -> None:
    from journeytui.tui.panes.journeys import JourneysPane

    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        pane = app.main.query_one(JourneysPane)
        assert pane.journey is not None and pane.figures is not None
        # the second main stage, and the transitions that lead into it (from the definition)
        store = Store.open(demo_db)
        try:
            j, _ = get_journey(store, pane.journey)
        finally:
            store.close()
        target = j.stages[1].name
        into = [i for i, t in enumerate(j.transitions, 1) if t.to == target]
        assert into
        funnel = pane.funnel
        funnel.focus()
        while (funnel.current_item is None or funnel.current_item.stage is None
               or funnel.current_item.stage.name != target):
            await pilot.press("j")
        await pilot.press("e")
        await settle(pilot)
        conditions = app.main.query_one("#conditions", ConditionsPane)
        assert app.main.current == "conditions"
        assert conditions.t == into[0] - 1  # the editor's transitions count from 0


async def test_a_new_journey_asks_for_its_goal(demo_db: Path, app_factory, settle) -> None:
    from journeytui.tui.screens.condition_dialogs import TextPrompt

    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        pane = app.main.query_one("#conditions", ConditionsPane)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"Trial to paid", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TextPrompt)  # the goal, next
        await pilot.press(*"Buys a plan", "enter")
        await settle(pilot)
        assert pane.draft is not None
        assert (pane.draft["name"], pane.draft["goal"]) == ("Trial to paid", "Buys a plan")
        assert pane.dirty


def test_the_preview_summary_says_what_the_edit_changes() -> None:
    from journeytui.tui.journey_data import FunnelFigures, TransitionRow
    from journeytui.tui.panes.conditions_preview import preview_summary

    def figures(*moved: int) -> FunnelFigures:
        f = FunnelFigures("J", 1, None, 30)
        f.transitions = [TransitionRow(i, "A", "B", m, []) for i, m in enumerate(moved, 1)]
        return f

    saved, draft = figures(5, 1063), figures(5, 3)
    assert preview_summary(saved, draft, 2) == "preview: t2 moved 1,063 → 3 (−1,060)"
    assert preview_summary(saved, figures(5, 1100), 2) == "preview: t2 moved 1,063 → 1,100 (+37)"
    assert preview_summary(saved, saved, 1) == "preview: t1 moves 5 (unchanged)"
    assert preview_summary(saved, figures(5, 1063, 8), 3) == "preview: new t3 would move 8"
    assert preview_summary(None, draft, 2) == ""


def test_one_table_per_transition_with_its_columns_defined_once() -> None:
    from journeytui.tui.journey_data import ClickRow, FunnelFigures, TransitionRow
    from journeytui.tui.panes.journeys import transition_effects

    f = FunnelFigures("J", 1, None, 30)
    t = TransitionRow(1, "A", "B", 7, [("Teaser", 5), ("News", 2)])
    f.transitions = [t]
    f.clicks = {"A": [ClickRow("News", 9, 4), ClickRow("Promo", 6, 0),
                      ClickRow("Other", 3, 3)]}
    rows = [(e.email, e.moved, e.clicks, e.idle) for e in transition_effects(t, f)]
    # moved through here, ranked as the funnel ranks them; then clicks with no move;
    # "Other" moved all its clickers on through other transitions: not listed
    assert rows == [("Teaser", 5, 0, 0), ("News", 2, 9, 5), ("Promo", 0, 6, 6)]
    anywhere = TransitionRow(2, None, "Gone", 1, [("Promo", 1)])
    assert [(e.email, e.moved, e.clicks, e.idle) for e in transition_effects(anywhere, f)] \
        == [("Promo", 1, None, None)]  # from any stage: no one stage to count clicks in


def test_a_transition_into_the_goal_from_any_stage_is_main_line() -> None:
    from journeytui.tui.journey_data import FunnelFigures, StageRow, TransitionRow
    from journeytui.tui.widgets.funnel_view import items_of

    def stage(i: int, name: str, exit_: bool = False) -> StageRow:
        return StageRow(i, 0 if exit_ else i + 1, name, exit_, 1, 1, None, None, None, None,
                        None)

    f = FunnelFigures("J", 1, None, 30)
    f.main = [stage(0, "Lead"), stage(1, "Customer")]
    f.exits = [stage(2, "Gone", True)]
    f.transitions = [TransitionRow(1, "Lead", "Customer", 1, []),
                     TransitionRow(2, None, "Customer", 1, []),
                     TransitionRow(3, None, "Gone", 1, [])]
    order = [it.stage.name if it.stage else f"t{it.transition.number}"  # type: ignore[union-attr]
             for it in items_of(f)]
    assert order == ["Lead", "t1", "t2", "Customer", "t3", "Gone"]
