"""What changed between two versions of a journey, for its segments: added (with the
rule, so the version list says who it holds), removed, fed by another stage, with
another rule or description, reordered.  A segment is known by its name; every
expected line is written out by hand from the two definitions below."""

from __future__ import annotations

from typing import Any

from journeytui.domain.journey_diff import version_changes
from journeytui.domain.journey_model import Journey


def journey(segments: list[dict[str, Any]]) -> Journey:
    return Journey.model_validate({
        "name": "J",
        "stages": [{"name": "Browsing"}, {"name": "Interested"}, {"name": "At-risk"}],
        "transitions": [{"from": "Browsing", "to": "Interested", "when": {"clicked": {}}}],
        "segments": segments,
    })


RISK = {"name": "Recently at risk", "stage": "At-risk", "entered_within_days": 30}
PRICING = {"name": "Pricing", "stage": "Interested", "in_stage_days": 7,
           "clicked": "example.com/pricing"}


def test_a_segment_added_says_its_rule_and_one_removed_its_name() -> None:
    old = journey([RISK])
    new = journey([PRICING])
    assert version_changes(old, new) == [
        # Segment.rule(): stage, then "for at least", then the click
        "+ segment Pricing (in 'Interested' for at least 7 days, clicked a link"
        " containing 'example.com/pricing')",
        "− segment Recently at risk",
    ]


def test_another_stage_and_each_rule_changed_are_said_one_by_one() -> None:
    old = journey([RISK, PRICING])
    new = journey([
        # stage At-risk → Browsing; within 30 → 14; a minimum of 1 day added
        {"name": "Recently at risk", "stage": "Browsing", "entered_within_days": 14,
         "in_stage_days": 1},
        # the minimum dropped, the link changed, a description written
        {"name": "Pricing", "stage": "Interested", "clicked": "example.com/plans",
         "description": "for the sales team"},
    ])
    assert version_changes(old, new) == [
        # names in sorted order: "Pricing" < "Recently at risk"
        "segment Pricing: in the stage at least 7 days → —",
        "segment Pricing: clicked a link containing 'example.com/pricing'"
        " → 'example.com/plans'",
        "segment Pricing: description changed",
        "segment Recently at risk: stage At-risk → Browsing",
        "segment Recently at risk: entered within 30 days → 14 days",
        "segment Recently at risk: in the stage at least — → 1 day",
    ]


def test_reordered_segments_are_a_change_and_the_same_ones_are_none() -> None:
    assert version_changes(journey([RISK, PRICING]), journey([PRICING, RISK])) == [
        "segments reordered"]
    assert version_changes(journey([RISK, PRICING]), journey([RISK, PRICING])) == []
    # a link filter taken away entirely, with the stage's other changes
    no_click = {k: v for k, v in PRICING.items() if k != "clicked"}
    assert version_changes(journey([PRICING]), journey([no_click])) == [
        "segment Pricing: clicked a link containing 'example.com/pricing' → —"]


def test_segments_are_said_after_the_transitions() -> None:
    old = journey([])
    new = Journey.model_validate({
        **old.model_dump(by_alias=True, exclude={"segments"}),
        "transitions": [],
        "segments": [RISK],
    })
    assert version_changes(old, new) == [
        "− transition Browsing → Interested",
        "+ segment Recently at risk (in 'At-risk', entered it in the last 30 days)",
    ]
