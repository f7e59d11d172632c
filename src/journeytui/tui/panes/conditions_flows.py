"""The dialogs of the Conditions pane, one function per flow: each asks the user
(pickers and prompts) and hands the answers to the pane's :class:`EditorState`.
The pane calls these from its key actions; they never touch the store."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from journeytui.editor.draft import LEAF_KINDS, render_draft
from journeytui.editor.state import ENTRY
from journeytui.tui import fmt
from journeytui.tui.screens.condition_dialogs import StagesDialog, TextPrompt
from journeytui.tui.screens.journey_pick import PickDialog
from journeytui.tui.text import clean

if TYPE_CHECKING:
    from journeytui.tui.panes.conditions import ConditionsPane

ANY_STAGE = "\0any"  # the picker's id for "from any stage"


def pick_kind(pane: ConditionsPane, current: str) -> None:
    """K on a part: choose its kind (the fields that fit are kept)."""
    state = pane.state
    path, t = state.path, state.t

    def chosen(kind: str | None) -> None:
        if kind and kind != current and state.t == t:
            state.set_kind(kind, path)
            pane.show_draft()

    choices = [(k, f"{label}  ({k})") for k, label in LEAF_KINDS.items()]
    pane.app.push_screen(PickDialog("Kind of this part", choices, current), chosen)


def pick_transition(pane: ConditionsPane) -> None:
    """t: the entry or a transition, each with its condition on one line."""
    state = pane.state
    d = state.draft
    if d is None:
        return
    first = d["stages"][0]["name"] if d["stages"] else "the first stage"
    choices = [(str(ENTRY), f"entry into {first}: {render_draft(d.get('entry'))}")]
    for i, tr in enumerate(d["transitions"]):
        choices.append((str(i), (f"{state.transition_label(i)} (priority "
                                 f"{tr.get('priority', 100)}): {render_draft(tr.get('when'))}")))

    def chosen(value: str | None) -> None:
        if value is not None:
            pane.select_transition(int(value))

    pane.app.push_screen(PickDialog(
        "Edit the condition of", choices, str(state.t) if state.t is not None else None,
        hint="↑↓ choose · Enter edits · Esc cancels · N adds a transition"), chosen)


def _whole_number(pane: ConditionsPane, text: str, more: str = "") -> int | None:
    if text.isdigit():
        return int(text)
    pane.notify(f"Priority {clean(text)!r}: type a whole number{more}.", severity="error",
                markup=False)
    return None


def new_transition(pane: ConditionsPane) -> None:
    """N: from which stage (or any), to which, and its priority."""
    state = pane.state
    if state.draft is None:
        return
    stages = state.stage_names
    answers: dict[str, Any] = {}

    def got_priority(text: str | None) -> None:
        if text is None:
            return
        priority = _whole_number(pane, text, " (lower is tried first)")
        if priority is not None:
            state.add_transition(answers["from"], answers["to"], priority)
            pane.show_draft()

    def got_to(to: str | None) -> None:
        if to is None:
            return
        answers["to"] = to
        pane.app.push_screen(TextPrompt(
            "Priority (transitions out of a stage are tried lowest first)", "10"),
            got_priority)

    def got_from(source: str | None) -> None:
        if source is None:
            return
        answers["from"] = None if source == ANY_STAGE else source
        targets = [(s, s) for s in stages if s != answers["from"]]
        pane.app.push_screen(PickDialog("…to stage", targets), got_to)

    choices = [(ANY_STAGE, "any stage (an exit such as At-risk)")] + [(s, s) for s in stages]
    pane.app.push_screen(PickDialog("New transition from stage", choices), got_from)


def priority(pane: ConditionsPane) -> None:
    """p: the chosen transition's priority."""
    state = pane.state
    t = state.t
    if state.draft is None or t is None or t == ENTRY:
        pane.notify("Choose a transition first (t).", markup=False)
        return

    def got(text: str | None) -> None:
        if text is None or state.draft is None:
            return
        value = _whole_number(pane, text)
        if value is not None:
            state.set_priority(t, value)
            pane.show_draft()

    pane.app.push_screen(TextPrompt("Priority (lower is tried first)", str(state.priority(t))),
                         got)


def stages(pane: ConditionsPane) -> None:
    """S: the stages dialog; its whole edit is one undo step."""
    state = pane.state
    if state.draft is None:
        return

    def done(new: dict[str, Any] | None) -> None:
        if new is not None and state.draft is not None and new != state.draft:
            state.set_stages(new)
            pane.show_draft()

    pane.app.push_screen(StagesDialog(state.draft), done)


def pick_journey(pane: ConditionsPane) -> None:
    """o: another journey (not while the draft holds unsaved changes)."""
    if pane.state.dirty:
        pane.notify("Unsaved changes: save (ctrl+s) or revert (R) before opening "
                    "another journey.", severity="warning", markup=False)
        return

    def chosen(name: str | None) -> None:
        if name:
            pane.open_named(name, None)

    choices = [(j.name, f"{j.name} — {', '.join(j.stages)}") for j in pane.journeys]
    pane.app.push_screen(PickDialog("Edit the journey", choices, pane.state.journey_name),
                         chosen)


def new_journey(pane: ConditionsPane) -> None:
    """ctrl+n: the new journey's name, then its goal."""
    if pane.state.dirty:
        pane.notify("Unsaved changes: save (ctrl+s) or revert (R) first.",
                    severity="warning", markup=False)
        return

    def named(name: str | None) -> None:
        if not name:
            return
        if any(j.name == name for j in pane.journeys):
            pane.notify(f"A journey named '{clean(name)}' exists; o opens it.",
                        severity="error", markup=False)
            return
        pane.app.push_screen(
            TextPrompt(f"Goal of {name}: what it leads to (e.g. books a demo)"),
            lambda goal: pane.start_new_journey(name, (goal or "").strip()))

    pane.app.push_screen(TextPrompt("Name of the new journey"), named)


def conflict(pane: ConditionsPane, error: str) -> None:
    """Someone else saved meanwhile: keep editing (first, so Enter loses nothing),
    save the draft as a copy, or reload theirs."""
    state = pane.state

    def chosen(choice: str | None) -> None:
        if choice == "reload" and state.journey_name is not None:
            state.load(state.journey_name, state.draft or {}, state.version)
            pane.reopen(state.journey_name, state.t)
        elif choice == "copy" and state.draft is not None:
            definition = state.as_copy({j.name for j in pane.journeys})
            pane.save_draft(definition, 0, None, as_copy=True,
                            doing=f"Saving as {clean(definition['name'])}…")

    pane.app.push_screen(PickDialog(
        f"Not saved: {error}",
        [("cancel", "Keep editing (nothing saved, your draft stays)"),
         ("copy", "Save your draft as a copy (a new journey)"),
         ("reload", "Reload their version (your draft is discarded)")],
        "cancel"), chosen)


def versions(pane: ConditionsPane, name: str,
             found: list[tuple[int, int, list[str]]]) -> None:
    """V, once the versions are read: what changed in each; one is restored."""
    state = pane.state
    choices = [
        (str(v), (f"version {v}{' (current)' if v == state.version else ''} · saved "
                  f"{fmt.when(at)} · {'; '.join(changes)}"))
        for v, at, changes in reversed(found)
    ]

    def chosen(value: str | None) -> None:
        if value is None or int(value) == state.version:
            return
        if state.dirty:
            pane.notify("Unsaved changes: save (ctrl+s) or revert (R) before restoring "
                        "a version.", severity="warning", markup=False)
            return
        if pane.japp.readonly:
            pane.notify("This store is open read-only; nothing can be restored.",
                        severity="error", markup=False)
            return
        pane.japp.status_begin("conditions-save", f"Restoring version {value}…")
        pane.restore(name, int(value), state.version)

    pane.app.push_screen(PickDialog(
        "Restore an earlier version (saved again as the newest)", choices,
        str(state.version)), chosen)


def leave(pane: ConditionsPane, what: str, proceed: Callable[[], Any]) -> None:
    """Leaving the pane (or quitting) with unsaved changes: stay, save, keep, discard."""
    state = pane.state

    def chosen(choice: str | None) -> None:
        if choice == "save":
            if state.problem is not None:
                pane.notify(f"Not saved: {state.problem}", severity="error", markup=False)
                return
            pane.after_save = proceed
            pane.action_save()
        elif choice == "discard":
            pane.leave_ok = True
            if state.saved is not None:
                state.discard()
                pane.show_draft()
            proceed()
        elif choice == "keep":
            pane.leave_ok = True
            proceed()

    pane.app.push_screen(PickDialog(
        f"{what} What now?",
        [("stay", "Stay here"),
         ("save", "Save, then go on"),
         ("keep", "Go on, keeping the draft in this pane (lost when the app quits)"),
         ("discard", "Discard the changes and go on")],
        "stay"), chosen)
