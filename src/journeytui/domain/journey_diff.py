"""What changed between two versions of a journey, in words (for the version picker)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from journeytui.domain.conditions import render
from journeytui.domain.journey_model import Journey, Segment, Transition
from journeytui.textsafe import safe_text

T = TypeVar("T")


def _label(t: Transition) -> str:
    return f"{t.from_ or 'any stage'} → {t.to}"


def _days(n: int | None) -> str:
    return "—" if n is None else f"{n} day{'s' if n != 1 else ''}"


def _link(url: str | None) -> str:
    return "—" if url is None else f"'{safe_text(url)}'"


def _added_removed(kind: str, before: Mapping[str, T], after: Mapping[str, T],
                   note: Callable[[T], str] = lambda _: "") -> list[str]:
    """"+ kind name" (with *note* of the new one) and "− kind name", each by name."""
    return ([f"+ {kind} {name}{note(after[name])}" for name in sorted(after.keys() - before.keys())]
            + [f"− {kind} {name}" for name in sorted(before.keys() - after.keys())])


def _reordered(before: Mapping[str, object], after: Mapping[str, object]) -> bool:
    """The names kept by both are in another order."""
    return [n for n in before if n in after] != [n for n in after if n in before]


def _segment_changes(old: list[Segment], new: list[Segment]) -> list[str]:
    """Segments added, removed, fed by another stage, with another rule (a value or —
    for none), another description, reordered (a segment is known by its name)."""
    before = {g.name: g for g in old}
    after = {g.name: g for g in new}
    changes = _added_removed("segment", before, after, lambda g: f" ({g.rule()})")
    for name in sorted(before.keys() & after.keys()):
        a, b = before[name], after[name]
        if a.stage != b.stage:
            changes.append(f"segment {name}: stage {a.stage} → {b.stage}")
        if a.entered_within_days != b.entered_within_days:
            changes.append(f"segment {name}: entered within {_days(a.entered_within_days)}"
                           f" → {_days(b.entered_within_days)}")
        if a.in_stage_days != b.in_stage_days:
            changes.append(f"segment {name}: in the stage at least {_days(a.in_stage_days)}"
                           f" → {_days(b.in_stage_days)}")
        if a.clicked != b.clicked:
            changes.append(f"segment {name}: clicked a link containing {_link(a.clicked)}"
                           f" → {_link(b.clicked)}")
        if a.description != b.description:
            changes.append(f"segment {name}: description changed")
    if _reordered(before, after):
        changes.append("segments reordered")
    return changes


def version_changes(old: Journey, new: Journey) -> list[str]:
    """The differences from *old* to *new*: stages added, removed, made exit or main
    line; the goal; the entry condition; transitions added, removed, with another
    condition or priority (a transition is known by its from → to); segments added,
    removed, fed by another stage or with another rule."""
    before = {s.name: s for s in old.stages}
    after = {s.name: s for s in new.stages}
    changes = _added_removed("stage", before, after, lambda s: " (exit)" if s.exit else "")
    for name in sorted(before.keys() & after.keys()):
        if before[name].exit != after[name].exit:
            now = "now an exit" if after[name].exit else "back on the main line"
            changes.append(f"stage {name} {now}")
    if _reordered(before, after):
        changes.append("stages reordered")
    if old.goal != new.goal:
        changes.append("goal changed")
    if render(old.entry) != render(new.entry):
        changes.append("entry condition changed")
    olds = {_label(t): t for t in old.transitions}
    news = {_label(t): t for t in new.transitions}
    changes.extend(_added_removed("transition", olds, news))
    for label in sorted(olds.keys() & news.keys()):
        a, b = olds[label], news[label]
        if render(a.when) != render(b.when):
            changes.append(f"transition {label}: condition changed")
        if a.priority != b.priority:
            changes.append(f"transition {label}: priority {a.priority} → {b.priority}")
    changes.extend(_segment_changes(old.segments, new.segments))
    return changes
