"""What changed between two versions of a journey, in words (for the version picker)."""

from __future__ import annotations

from journeytui.domain.conditions import render
from journeytui.domain.journey_model import Journey, Transition


def _label(t: Transition) -> str:
    return f"{t.from_ or 'any stage'} → {t.to}"


def version_changes(old: Journey, new: Journey) -> list[str]:
    """The differences from *old* to *new*: stages added, removed, made exit or main
    line; the goal; the entry condition; transitions added, removed, with another
    condition or priority (a transition is known by its from → to)."""
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
    return changes
