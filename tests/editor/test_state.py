"""The editor's state without any widget: what the keys of the Conditions pane do to
the draft, the undo history, the dirty flag and the saved version (README, "Using the
app", Conditions)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from journeytui.editor import ENTRY, EditorState, NoTransition, StageError, StagesEdit
from journeytui.editor.state import copy_name

from .conftest import PRICING, WEBINAR


def test_opening_chooses_the_first_transition_and_is_clean(state: EditorState) -> None:
    assert (state.journey_name, state.version, state.t, state.path) == ("Lead nurturing", 1,
                                                                        0, ())
    assert state.condition == PRICING and not state.dirty
    assert state.problem is None and state.errors == {}
    assert state.transition_label(0) == "t1 Browsing → Interested"
    assert state.transition_label(2) == "t3 any stage → At-risk"
    assert state.transition_label(ENTRY) == "entry into Browsing"
    s = EditorState()
    s.open("J", copy.deepcopy(state.saved) or {}, 1, 7)  # not there: the first one
    assert s.t == 0
    s.open("J", {**(state.saved or {}), "transitions": []}, 1, None)
    assert s.t is None and s.condition is None


def test_tree_edits_and_their_undo(state: EditorState) -> None:
    state.add_leaf()  # on a lone part: both go in an all-group
    assert state.condition == {"all": [PRICING, {"clicked": {}}]} and state.path == (1,)
    assert state.dirty
    state.toggle_not()
    assert state.condition == {"all": [PRICING, {"not": {"clicked": {}}}]}
    state.move(-1)
    assert state.condition == {"all": [{"not": {"clicked": {}}}, PRICING]}
    assert state.path == (0,)
    depth = len(state.undo_stack)
    state.move(-1)  # already first: nothing, no undo step
    assert len(state.undo_stack) == depth
    state.move_cursor(())
    assert state.flip_group()
    assert state.condition == {"any": [{"not": {"clicked": {}}}, PRICING]}
    state.move_cursor((1,))
    assert not state.flip_group()  # a part is no group
    state.set_kind("opened")
    assert state.condition == {"any": [{"not": {"clicked": {}}}, {"opened": {}}]}
    state.delete()
    assert state.condition == {"any": [{"not": {"clicked": {}}}]} and state.path == (0,)
    assert len(state.undo_stack) == 6
    while state.undo():
        pass
    assert state.condition == PRICING and not state.dirty
    assert not state.undo()
    assert state.redo() and state.redo()
    assert state.condition == {"all": [PRICING, {"not": {"clicked": {}}}]}
    state.add_group()  # a new edit drops what could be redone
    assert state.redo_stack == []
    assert not state.redo()


def test_undo_restores_the_transition_and_the_cursor(state: EditorState) -> None:
    state.select_transition(1)
    state.move_cursor((1,))
    state.delete()
    assert state.condition == {"any": [WEBINAR["any"][0]]}
    state.select_transition(0)
    assert state.undo()
    assert (state.t, state.path) == (1, (1,)) and state.condition == WEBINAR
    state.select_transition(0)
    assert state.redo()  # the edit again, the cursor where the undo left it
    assert state.t == 0 and state.draft is not None
    assert state.draft["transitions"][1]["when"] == {"any": [WEBINAR["any"][0]]}


def test_typing_in_one_field_is_one_undo_step(state: EditorState) -> None:
    for typed in ["p", "pr", "pro", "products/"]:
        assert state.set_field((), "url", typed)
    assert not state.set_field((), "url", "products/ ")  # the same value: no edit
    assert state.condition == {"clicked": {"url": "products/"}}
    assert len(state.undo_stack) == 1
    state.set_field((), "email", "Pricing update")  # another field: another step
    assert len(state.undo_stack) == 2
    state.end_typing()  # the field was left
    state.set_field((), "email", "Spring product teaser")
    assert len(state.undo_stack) == 3
    state.move_cursor(())  # the cursor moved: typing again is a new step
    state.set_field((), "within_days", "3")
    assert len(state.undo_stack) == 4
    assert not state.set_field((0,), "url", "x")  # not the cursor's part
    state.undo()
    state.undo()
    state.undo()
    assert state.condition == {"clicked": {"url": "products/"}}
    state.undo()
    assert state.condition == PRICING and not state.dirty


def test_edits_need_a_transition() -> None:
    s = EditorState()
    s.open("J", {"name": "J", "stages": [{"name": "A"}], "entry": {"opened": {}},
                 "transitions": []}, 1, None)
    with pytest.raises(NoTransition):
        s.add_leaf()
    with pytest.raises(NoTransition):
        s.delete_transition()
    s.select_transition(ENTRY)
    with pytest.raises(NoTransition):
        s.delete_transition()  # the entry is no transition
    s.delete()  # the entry has a condition: its only part goes
    assert s.condition is None and s.dirty


def test_dirty_follows_the_draft_not_the_history(state: EditorState) -> None:
    state.set_field((), "url", "pricing-page")
    assert state.dirty
    state.set_field((), "url", "pricing")  # typed back to what was saved
    assert not state.dirty
    state.add_leaf()
    state.revert()
    assert not state.dirty and state.path == ()
    assert state.undo() and state.dirty  # the revert is an undo step
    state.discard()
    assert not state.dirty and state.undo_stack == []


def test_validation_names_the_part_and_refuses_the_save(state: EditorState) -> None:
    state.set_field((), "email", "Nope")
    state.check()
    assert state.problem is not None and "email 'Nope' does not exist" in state.problem
    assert state.problem.startswith("clicked: ") and set(state.errors) == {()}
    state.set_field((), "email", "Pricing update")
    state.end_typing()
    state.set_field((), "within_days", "0")
    state.check()
    assert state.problem is not None and "within_days" in state.problem
    state.end_typing()
    state.set_field((), "within_days", "30")
    state.check()
    assert state.problem is None and not state.errors
    state.add_group()  # any-group of one default part inside the new all-group
    assert state.path == (1, 0)
    state.delete()  # the part inside: the group stays, empty
    state.check()
    assert state.problem is not None and state.problem.startswith("all[2].any: an empty")
    state.select_transition(None)
    state.check()
    assert state.errors == {}


def test_a_transition_without_condition_or_a_bad_stage_cannot_be_saved(
        state: EditorState) -> None:
    state.add_transition("Engaged", "At-risk", 5)
    assert (state.t, state.path, state.condition) == (3, (), None)
    state.check()
    assert state.problem is not None and "no condition yet" in state.problem


def test_transitions_add_delete_priority(state: EditorState) -> None:
    state.add_transition(None, "At-risk", 2)
    assert state.t == 3 and state.transition_label(3) == "t4 any stage → At-risk"
    assert state.draft is not None and state.draft["transitions"][3] == {
        "from": None, "to": "At-risk", "priority": 2, "when": None}
    assert state.compared_transition() is None  # the saved journey has no t4
    state.add_leaf()
    state.set_kind("no_click_in_last")
    state.set_field((), "campaigns", "3")
    assert state.condition == {"no_click_in_last": {"campaigns": 3}}
    state.set_priority(3, 7)
    assert state.priority(3) == 7
    state.select_transition(1)
    assert state.compared_transition() == 2
    state.delete_transition()
    assert state.t == 1 and state.transition_label(1) == "t2 any stage → At-risk"
    assert state.compared_transition() is None  # the saved t2 goes elsewhere
    state.select_transition(2)
    state.delete_transition()  # the last one: the cursor goes to the one before
    assert state.t == 1
    state.undo()
    state.undo()
    assert state.draft is not None and len(state.draft["transitions"]) == 4


def test_stages_rename_follows_into_the_transitions(journey: dict[str, Any]) -> None:
    edit = StagesEdit(journey)
    edit.rename(0, "Reading")
    assert edit.names()[0] == "Reading"
    froms = [t["from"] for t in edit.journey["transitions"]]
    assert froms == ["Reading", "Interested", None]
    edit.rename(1, "Keen")
    assert [t["to"] for t in edit.journey["transitions"]][:1] == ["Keen"]
    with pytest.raises(StageError, match="already exists"):
        edit.rename(1, "reading")
    assert journey["stages"][0]["name"] == "Browsing"  # the draft is untouched


def test_a_stage_in_use_cannot_be_deleted(journey: dict[str, Any]) -> None:
    edit = StagesEdit(journey)
    with pytest.raises(StageError, match="used by transitions t1, t2"):
        edit.delete(1)
    with pytest.raises(StageError, match="used by transition t3;"):
        edit.delete(3)
    at = edit.add("Customer", 2)
    assert at == 3 and edit.names() == ["Browsing", "Interested", "Engaged", "Customer",
                                        "At-risk"]
    with pytest.raises(StageError):
        edit.add("customer", 0)
    edit.delete(3)
    assert "Customer" not in edit.names()


def test_exits_on_off_and_order(journey: dict[str, Any]) -> None:
    edit = StagesEdit(journey)
    edit.toggle_exit(2)
    assert edit.stages[2] == {"name": "Engaged", "exit": True}
    edit.toggle_exit(2)
    assert edit.stages[2] == {"name": "Engaged"}
    assert edit.move(2, 1) == 3 and edit.names()[3] == "Engaged"
    assert edit.move(3, 1) == 3  # already last
    assert edit.move(0, -1) == 0


def test_the_stages_edit_is_one_undo_step(state: EditorState) -> None:
    assert state.draft is not None
    edit = StagesEdit(state.draft)
    edit.rename(0, "Reading")
    edit.toggle_exit(2)
    state.set_stages(edit.journey)
    assert state.stage_names[0] == "Reading" and len(state.undo_stack) == 1
    state.set_stages(copy.deepcopy(state.draft))  # unchanged: no step
    assert len(state.undo_stack) == 1
    state.undo()
    assert state.stage_names[0] == "Browsing" and not state.dirty


def test_saving_keeps_the_history_and_bumps_the_version(state: EditorState) -> None:
    state.select_transition(1)
    state.delete()
    state.saved_as("Lead nurturing", 2)
    assert (state.version, state.t, state.dirty) == (2, 1, False)
    assert state.saved == state.draft
    state.open("Lead nurturing", copy.deepcopy(state.saved) or {}, 2, 1, keep_history=True)
    assert state.undo()  # back past the save: the draft differs from version 2
    assert state.dirty and state.condition == WEBINAR
    state.open("Webinar", copy.deepcopy(state.saved) or {}, 4, None, keep_history=True)
    assert state.undo_stack == [] and state.version == 4  # another journey: a new history


def test_a_new_journey_is_unsaved_and_a_copy_gets_a_free_name() -> None:
    s = EditorState()
    s.new_journey("Trial to paid", "Buys a plan")
    assert s.draft is not None and (s.draft["name"], s.draft["goal"]) == ("Trial to paid",
                                                                          "Buys a plan")
    assert s.dirty and s.saved is None and s.version == 0 and s.t == ENTRY
    assert s.condition == {"any": [{"opened": {}}, {"clicked": {}}]}
    s.revert()  # nothing saved: nothing open
    assert s.draft is None and s.journey_name is None
    assert copy_name("J", {"J"}) == "J (copy)"
    assert copy_name("J", {"J (copy)", "J (copy) 2"}) == "J (copy) 3"
    s.new_journey("J", "")
    definition = s.as_copy({"J (copy)"})
    assert definition["name"] == s.draft["name"] == "J (copy) 2"


def test_the_undo_history_is_bounded(state: EditorState) -> None:
    for i in range(250):
        state.set_priority(0, i)
    assert len(state.undo_stack) == 200
