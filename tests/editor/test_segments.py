"""The condition ``in_segment`` in the editor (a leaf like the others: shown, chosen
among the journey's own segments, checked as it is typed with the domain's reasons,
saved) and the journey's segments following the stages dialog (README, "Time, cohorts
and segments"; the condition editor)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from journeytui.domain.journey_model import parse_journey
from journeytui.editor import ENTRY, CachedNames, EditorState, StagesEdit
from journeytui.editor.draft import LEAF_KINDS, node_label, render_draft

from .conftest import JOURNEY

STALLED = {"in_segment": {"segment": "Stalled interest"}}


@pytest.fixture
def journey() -> dict[str, Any]:
    """Lead nurturing with two segments, a Dormant exit only a segment uses, and a
    transition Interested → Engaged that also moves the stalled-interest segment."""
    j = copy.deepcopy(JOURNEY)
    j["stages"].append({"name": "Dormant", "exit": True})
    j["segments"] = [
        {"name": "Stalled interest", "stage": "Interested", "in_stage_days": 7},
        {"name": "Gone quiet", "stage": "Dormant", "entered_within_days": 30},
    ]
    j["transitions"][1]["when"] = {"any": [j["transitions"][1]["when"], STALLED]}
    return j


@pytest.fixture
def state(journey: dict[str, Any], names: CachedNames) -> EditorState:
    s = EditorState(names)
    s.open("Lead nurturing", journey, 1, 1)  # t2 Interested → Engaged
    s.check()
    return s


def test_a_journey_using_in_segment_opens_valid_and_reads_well(state: EditorState) -> None:
    # (before: "unknown kind 'in_segment'" for any such journey, so it could not be saved)
    assert state.errors == {} and state.problem is None
    assert "in_segment" in LEAF_KINDS
    assert node_label(STALLED) == "in the segment 'Stalled interest'"
    assert render_draft(state.condition).endswith("or in the segment 'Stalled interest'")
    assert state.segment_names == ["Stalled interest", "Gone quiet"]


def test_adding_in_segment_is_checked_as_it_is_typed(state: EditorState) -> None:
    state.move_cursor((1,))
    state.add_leaf("in_segment")
    assert state.path == (2,) and state.node == {"in_segment": {}}
    state.check()
    assert state.errors[(2,)] == ("Segment: choose one of this journey's segments "
                                  "('Stalled interest', 'Gone quiet')")
    assert state.problem == "any[3].in_segment: " + state.errors[(2,)]
    state.set_field((2,), "segment", "Stalled")
    state.check()
    assert state.errors[(2,)] == ("this journey has no segment 'Stalled' (its segments: "
                                  "'Stalled interest', 'Gone quiet')")
    state.set_field((2,), "segment", "Gone quiet")  # holds in Dormant, not in Interested
    state.check()
    assert state.errors[(2,)] == (
        "'Gone quiet' can never hold: it holds contacts in 'Dormant' (a later stage), and "
        "this transition is tried only while in 'Interested'")
    state.set_field((2,), "segment", "Stalled interest")
    state.check()
    assert state.errors == {} and state.problem is None and state.dirty
    # the saved form is the domain's: it reads back as the same journey
    assert state.draft is not None
    saved = parse_journey(state.draft).to_json_dict()
    assert saved["transitions"][1]["when"]["any"][2] == STALLED
    assert len(state.undo_stack) == 2  # the part added, then its field typed (one step)


def test_in_segment_in_the_entry_or_in_a_journey_without_segments(
        state: EditorState, journey: dict[str, Any], names: CachedNames) -> None:
    state.select_transition(ENTRY)
    state.add_leaf("in_segment")
    state.set_field(state.path, "segment", "Stalled interest")
    state.check()
    assert state.errors[state.path] == ("'Stalled interest' can never hold: a contact "
                                        "entering the journey is in no stage yet")
    bare = copy.deepcopy(JOURNEY)
    other = EditorState(names)
    other.open("Lead nurturing", bare, 1, 0)
    other.set_kind("in_segment")
    other.check()
    assert other.condition == {"in_segment": {}}  # the clicked part's url does not fit
    assert other.errors[()].startswith("Segment: this journey defines no segments")


def test_a_stage_rename_carries_into_its_segments(state: EditorState) -> None:
    assert state.draft is not None
    edit = StagesEdit(state.draft)
    edit.rename(1, "Keen")
    edit.rename(4, "Asleep")
    state.set_stages(edit.journey)
    assert state.draft["segments"] == [
        {"name": "Stalled interest", "stage": "Keen", "in_stage_days": 7},
        {"name": "Gone quiet", "stage": "Asleep", "entered_within_days": 30},
    ]
    state.check()  # the condition names the segment: it still holds from Keen
    assert state.errors == {} and state.problem is None
    assert parse_journey(state.draft).segments[0].stage == "Keen"


def test_deleting_a_stage_a_segment_uses_refuses_the_save_and_says_what_to_do(
        state: EditorState) -> None:
    assert state.draft is not None
    edit = StagesEdit(state.draft)
    edit.delete(4)  # Dormant: no transition uses it, the segment Gone quiet does
    state.set_stages(edit.journey)
    state.check()
    assert state.problem == (
        "segment 'Gone quiet' needs the deleted stage 'Dormant': u undoes the delete (or "
        "move the segment in its journey file)")
    # it fits the pane's two lines at 80 columns after "✗ cannot save: " (15 characters):
    # 2 × 78 = 156, less room for longer names and the words the wrapping moves down
    assert 15 + len(state.problem) <= 140
    assert state.errors == {}  # the condition itself is fine
    state.undo()
    state.check()
    assert state.problem is None
