"""What changed between two versions of a journey, in words (for the version picker)."""

from __future__ import annotations

from journeytui.domain.conditions import render
from journeytui.domain.journey_model import Journey, Segment, Transition
from journeytui.textsafe import safe_text


def _label(t: Transition) -> str:
    return f"{t.from_ or 'any stage'} → {t.to}"


def _days(n: int | None) -> str:
    return "—" if n is None else f"{n} day{'s' if n != 1 else ''}"


def _link(url: str | None) -> str:
    return "—" if url is None else f"'{safe_text(url)}'"


def _segment_changes(old: list[Segment], new: list[Segment]) -> list[str]:
    """Segments added, removed, fed by another stage, with another rule (a value or —
    for none), another description, reordered (a segment is known by its name)."""
    changes: list[str] = []
    before = {g.name: g for g in old}
    after = {g.name: g for g in new}
    for name in sorted(after.keys() - before.keys()):
        changes.append(f"+ segment {name} ({after[name].rule()})")
    for name in sorted(before.keys() - after.keys()):
        changes.append(f"− segment {name}")
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
    if [g.name for g in old if g.name in after] != [g.name for g in new if g.name in before]:
        changes.append("segments reordered")
    return changes


def version_changes(old: Journey, new: Journey) -> list[str]:
    """The differences from *old* to *new*: stages added, removed, made exit or main
    line; the goal; the entry condition; transitions added, removed, with another
    condition or priority (a transition is known by its from → to); segments added,
    removed, fed by another stage or with another rule."""
    changes: list[str] = []
    before = {s.name: s for s in old.stages}
    after = {s.name: s for s in new.stages}
    for name in sorted(after.keys() - before.keys()):
        changes.append(f"+ stage {name}" + (" (exit)" if after[name].exit else ""))
    for name in sorted(before.keys() - after.keys()):
        changes.append(f"− stage {name}")
    for name in sorted(before.keys() & after.keys()):
        if before[name].exit != after[name].exit:
            now = "now an exit" if after[name].exit else "back on the main line"
            changes.append(f"stage {name} {now}")
    if [s.name for s in old.stages if s.name in after] != [
        s.name for s in new.stages if s.name in before
    ]:
        changes.append("stages reordered")
    if old.goal != new.goal:
        changes.append("goal changed")
    if render(old.entry) != render(new.entry):
        changes.append("entry condition changed")
    olds = {_label(t): t for t in old.transitions}
    news = {_label(t): t for t in new.transitions}
    for label in sorted(news.keys() - olds.keys()):
        changes.append(f"+ transition {label}")
    for label in sorted(olds.keys() - news.keys()):
        changes.append(f"− transition {label}")
    for label in sorted(olds.keys() & news.keys()):
        a, b = olds[label], news[label]
        if render(a.when) != render(b.when):
            changes.append(f"transition {label}: condition changed")
        if a.priority != b.priority:
            changes.append(f"transition {label}: priority {a.priority} → {b.priority}")
    changes.extend(_segment_changes(old.segments, new.segments))
    return changes
