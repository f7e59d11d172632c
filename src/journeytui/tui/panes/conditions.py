"""The Conditions pane: the transition conditions of a journey, edited by keyboard,
validated as you type, previewed in a worker, saved with versions.

The draft is the whole journey as its JSON form (``Journey.to_json_dict()``); the
tree on the left edits the condition of one transition (or the entry condition);
every edit goes through :mod:`journeytui.tui.widgets.condition_draft` and pushes
the previous draft on the undo stack.  Validation is the domain's (pydantic model,
structure, names in the store) and runs on every edit; the preview replays the
draft in a worker thread, debounced, and is shown beside the saved funnel.  Saving
uses ``save_journey(expected_version=…)`` so a save over someone else's newer
version is refused (:class:`ConflictError`) and the user chooses: reload, or save
the draft as a copy.
"""

from __future__ import annotations

import copy
import json
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from journeytui.domain.journey_diff import version_changes
from journeytui.domain.journey_model import (
    JourneyError,
    check_against_store,
    parse_journey,
)
from journeytui.domain.journeys import (
    ConflictError,
    JourneyInfo,
    get_journey,
    get_version,
    list_journeys,
    list_versions,
    restore_version,
    save_journey,
)
from journeytui.editor import draft as draft_ops
from journeytui.editor.draft import (
    GROUPS,
    LEAF_KINDS,
    CachedNames,
    Node,
    key_of,
    render_draft,
)
from journeytui.tui import fmt
from journeytui.tui.journey_data import (
    DEFAULT_STALL_DAYS,
    WORKER_ERRORS,
    FunnelFigures,
    StoreChoices,
    preview_figures,
    store_choices,
    stored_figures,
)
from journeytui.tui.panes.base import PaletteCommand, Pane
from journeytui.tui.text import clean
from journeytui.tui.widgets.condition_fields import ConditionFields, FieldInput
from journeytui.tui.widgets.condition_preview import ConditionPreview
from journeytui.tui.widgets.condition_tree import ConditionTree

ENTRY = -1  # the "transition" index of the entry condition
PREVIEW_DELAY = 0.35  # seconds of quiet before the preview is recomputed
UNDO_LIMIT = 200

Snapshot = tuple[dict[str, Any], int | None, tuple[int, ...]]


def preview_summary(saved: FunnelFigures | None, draft: FunnelFigures | None,
                    transition: int | None) -> str:
    """``preview: t3 moved 1,063 → 3 (−1,060)`` — or "" when there is nothing to say."""
    if saved is None or draft is None or transition is None:
        return ""
    was = next((t.moved for t in saved.transitions if t.number == transition), None)
    now = next((t.moved for t in draft.transitions if t.number == transition), None)
    if now is None:
        return ""
    if was is None:
        return f"preview: new t{transition} would move {now:,}"
    if was == now:
        return f"preview: t{transition} moves {now:,} (unchanged)"
    return f"preview: t{transition} moved {was:,} → {now:,} ({now - was:+,})".replace("-", "−")


class ConditionsPane(Pane):
    PANE_ID = "conditions"
    TITLE = "Conditions"
    KEY = "5"
    SUMMARY = ("The transition conditions of a journey, edited by keyboard, checked as you "
               "type, previewed beside the saved funnel, saved with versions.")

    DEFAULT_CSS = (Path(__file__).resolve().parent.parent / "conditions.tcss").read_text(
        encoding="utf-8")
    preview_delay: ClassVar[float] = PREVIEW_DELAY  # tests that need no preview raise it

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="conditions.save"),
        Binding("a", "add_leaf", "Add part", id="conditions.add"),
        Binding("g", "add_group", "Add group", id="conditions.group"),
        Binding("K", "kind", "Kind", id="conditions.kind"),
        Binding("n", "not", "Not", id="conditions.not"),
        Binding("d,delete", "delete", "Delete", id="conditions.delete"),
        Binding("e", "edit_fields", "Fields", id="conditions.fields"),
        Binding("u,ctrl+z", "undo", "Undo", id="conditions.undo"),
        Binding("U,ctrl+y", "redo", "Redo", show=False, id="conditions.redo"),
        Binding("shift+up,left_square_bracket", "move(-1)", "Move up", show=False,
                key_display="[", id="conditions.move-up"),
        Binding("shift+down,right_square_bracket", "move(1)", "Move down", show=False,
                key_display="]", id="conditions.move-down"),
        Binding("t", "pick_transition", "Transition", id="conditions.transition"),
        Binding("o", "pick_journey", "Journey", show=False, id="conditions.journey"),
        Binding("N", "new_transition", "New transition", show=False,
                id="conditions.new-transition"),
        Binding("X", "delete_transition", "Delete transition", show=False,
                id="conditions.delete-transition"),
        Binding("p", "priority", "Priority", show=False, id="conditions.priority"),
        Binding("S", "stages", "Stages", show=False, id="conditions.stages"),
        Binding("V", "versions", "Versions", show=False, id="conditions.versions"),
        Binding("ctrl+n", "new_journey", "New journey", show=False,
                id="conditions.new-journey"),
        Binding("R", "revert", "Revert draft", show=False, id="conditions.revert"),
    ]

    # -- messages from the workers ---------------------------------------------------
    class JourneysLoaded(Message):
        def __init__(self, journeys: list[JourneyInfo], choices: StoreChoices | None,
                     error: str = "") -> None:
            super().__init__()
            self.journeys = journeys
            self.choices = choices
            self.error = error

    class JourneyOpened(Message):
        def __init__(self, name: str, definition: dict[str, Any] | None, version: int,
                     figures: FunnelFigures | None, transition: int | None,
                     error: str = "") -> None:
            super().__init__()
            self.journey_name = name
            self.definition = definition
            self.version = version
            self.figures = figures
            self.transition = transition
            self.error = error

    class PreviewReady(Message):
        def __init__(self, generation: int, figures: FunnelFigures | None, error: str) -> None:
            super().__init__()
            self.generation = generation
            self.figures = figures
            self.error = error

    class SaveDone(Message):
        def __init__(self, name: str, version: int | None, error: str = "",
                     conflict: bool = False, as_copy: bool = False) -> None:
            super().__init__()
            self.journey_name = name
            self.version = version
            self.error = error
            self.conflict = conflict
            self.as_copy = as_copy

    class VersionsLoaded(Message):
        def __init__(self, name: str, versions: list[tuple[int, int, list[str]]],
                     error: str = "") -> None:
            super().__init__()
            self.journey_name = name
            self.versions = versions
            self.error = error

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.journeys: list[JourneyInfo] = []
        self.choices = StoreChoices()
        self.names: CachedNames | None = None
        self.journey_name: str | None = None  # the journey's name as saved (None: a new one)
        self.version = 0  # the saved version the draft started from (0: new)
        self.saved: dict[str, Any] | None = None
        self.draft: dict[str, Any] | None = None
        self.t: int | None = None  # transition index, ENTRY, or None
        self.path: tuple[int, ...] = ()
        self.undo_stack: list[Snapshot] = []
        self.redo_stack: list[Snapshot] = []
        self._coalesce: tuple[Any, ...] | None = None
        self.errors: dict[tuple[int, ...], str] = {}
        self.problem: str | None = None  # why the draft cannot be saved (None: it can)
        self.saved_figures: FunnelFigures | None = None
        self.draft_figures: FunnelFigures | None = None
        self._preview_generation = 0
        self._preview_timer: Timer | None = None
        self._pending: tuple[str, int | None] | None = None
        self._leave_ok = False
        self.saving = False
        self._fields_wanted = 0
        self._fields_shown = 0
        self._focus_fields_when_shown = False
        self._shown: dict[str, object] = {}
        self._keep_history = False  # the next JourneyOpened follows our own save
        self._after_save: Any = None  # what to do once a save asked for on leaving is done

    def compose(self) -> ComposeResult:
        yield Static("Loading journeys…", id="cond-head", markup=False)
        yield Static("", id="cond-render", markup=False)
        yield Static("", id="cond-check", markup=False)
        with Horizontal(id="cond-main"):
            with Vertical(id="cond-left"):
                yield ConditionTree(id="cond-tree")
                yield ConditionFields(id="cond-fields")
            with Vertical(id="cond-right"):
                yield ConditionPreview(id="cond-preview")

    @property
    def ctree(self) -> ConditionTree:
        return self.query_one("#cond-tree", ConditionTree)

    @property
    def fields(self) -> ConditionFields:
        return self.query_one("#cond-fields", ConditionFields)

    def focus_target(self) -> Widget | None:
        return self.ctree

    def on_pane_shown(self) -> None:
        self._leave_ok = False
        if self.draft is None or not self.dirty:
            self._load_journeys()

    # -- state -----------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.draft is not None and self.draft != self.saved

    @property
    def condition(self) -> Node | None:
        if self.draft is None or self.t is None:
            return None
        if self.t == ENTRY:
            return self.draft.get("entry")  # type: ignore[no-any-return]
        return self.draft["transitions"][self.t].get("when")  # type: ignore[no-any-return]

    def _with_condition(self, root: Node | None) -> dict[str, Any]:
        assert self.draft is not None and self.t is not None
        new = copy.deepcopy(self.draft)
        if self.t == ENTRY:
            new["entry"] = root
        else:
            new["transitions"][self.t]["when"] = root
        return new

    def _snapshot(self) -> Snapshot:
        assert self.draft is not None
        return (copy.deepcopy(self.draft), self.t, self.path)

    def _apply(self, journey: dict[str, Any], t: int | None, path: tuple[int, ...],
               *, coalesce: tuple[Any, ...] | None = None) -> None:
        """Make *journey* the draft (the previous one goes on the undo stack)."""
        if self.draft is None:
            return
        if coalesce is None or coalesce != self._coalesce:
            self.undo_stack.append(self._snapshot())
            del self.undo_stack[:-UNDO_LIMIT]
        self._coalesce = coalesce
        self.redo_stack.clear()
        self.draft, self.t, self.path = journey, t, path
        self._changed()

    def _edit(self, root: Node | None, path: tuple[int, ...]) -> None:
        if self.t is None:
            self.notify("Choose a transition first (t), or add one (N).", markup=False)
            return
        self._apply(self._with_condition(root), self.t, path)

    # -- loading ---------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="conditions-list", exit_on_error=False)
    def _load_journeys(self) -> None:
        try:
            with self.japp.pool.store() as store:
                journeys = list_journeys(store)
                choices = store_choices(store)
        except WORKER_ERRORS as exc:
            self.post_message(self.JourneysLoaded([], None, str(exc)))
            return
        self.post_message(self.JourneysLoaded(journeys, choices))

    def on_conditions_pane_journeys_loaded(self, message: JourneysLoaded) -> None:
        self.journeys = message.journeys
        if message.choices is not None:
            self.choices = message.choices
            self.names = CachedNames(message.choices)
            self.fields.choices = message.choices
        if message.error:
            self._head(Text(clean(message.error)))
            return
        if self._pending is not None:
            name, transition = self._pending
            self._pending = None
            self._open(name, transition)
        elif self.draft is None or not self.dirty:
            names = [j.name for j in self.journeys]
            if self.journey_name in names:
                self._open(self.journey_name, self.t)  # type: ignore[arg-type]
            elif names:
                self._open(names[0], None)
            else:
                self._head(Text(" No journeys yet: ctrl+n starts a new one."))
                self._changed()

    def open_journey(self, name: str, *, transition: int | None = None) -> None:
        """Open *name* (from another pane); *transition* is 1-based."""
        index = transition - 1 if transition is not None else None
        if self.dirty and name != self.journey_name:
            self.notify("You have unsaved changes here; save (ctrl+s) or revert (R) first.",
                        severity="warning", markup=False)
            return
        if self.dirty:
            if index is not None:
                self._select_transition(index)
            return
        self._pending = (name, index)
        self._load_journeys()

    def _open(self, name: str, transition: int | None) -> None:
        self.japp.status_begin("conditions", f"Opening {clean(name)}…")
        self._open_worker(name, transition)

    @work(thread=True, exclusive=True, group="conditions-open", exit_on_error=False)
    def _open_worker(self, name: str, transition: int | None) -> None:
        try:
            with self.japp.pool.store() as store:
                j, version = get_journey(store, name)
                figures = stored_figures(store, name, DEFAULT_STALL_DAYS)
        except WORKER_ERRORS as exc:
            self.post_message(self.JourneyOpened(name, None, 0, None, transition, str(exc)))
            return
        self.post_message(self.JourneyOpened(name, j.to_json_dict(), version, figures,
                                             transition))

    def on_conditions_pane_journey_opened(self, message: JourneyOpened) -> None:
        self.japp.status_end("conditions")
        if message.definition is None:
            self.notify(message.error, severity="error", markup=False)
            return
        keep, self._keep_history = self._keep_history, False
        self._load_definition(message.journey_name, message.definition, message.version,
                              keep_history=keep and message.journey_name == self.journey_name)
        self.saved_figures = message.figures
        n = len(message.definition["transitions"])
        t = message.transition
        if t is None or not (t == ENTRY or 0 <= t < n):
            t = 0 if n else None
        self.t = t
        self.path = ()
        self._changed()

    def _load_definition(self, name: str | None, definition: dict[str, Any], version: int,
                         *, keep_history: bool = False) -> None:
        """Make *definition* the saved journey and the draft.  The undo history is
        kept across a save of this journey (undo can go back past it), else cleared."""
        self.journey_name = name
        self.version = version
        self.saved = copy.deepcopy(definition)
        self.draft = copy.deepcopy(definition)
        if not keep_history:
            self.undo_stack.clear()
            self.redo_stack.clear()
        self._coalesce = None
        self.draft_figures = None

    # -- showing ---------------------------------------------------------------------
    def _head(self, text: Text) -> None:
        self._update("#cond-head", text)

    def _update(self, selector: str, text: Text) -> None:
        """Update a Static only when its text changed (each update lays out the screen)."""
        key = (text.plain, tuple((s.start, s.end, str(s.style)) for s in text.spans))
        if self._shown.get(selector) != key:
            self._shown[selector] = key
            self.query_one(selector, Static).update(text)

    def transition_label(self, t: int | None) -> str:
        if self.draft is None or t is None:
            return "no transition"
        if t == ENTRY:
            first = self.draft["stages"][0]["name"] if self.draft["stages"] else "?"
            return f"entry into {first}"
        tr = self.draft["transitions"][t]
        src = tr.get("from") if tr.get("from") is not None else "any stage"
        return f"t{t + 1} {src} → {tr.get('to')}"

    def _changed(self) -> None:
        """Validate the draft and redraw everything that shows it."""
        d = self.draft
        if d is None:
            return
        root = self.condition
        self.errors = (draft_ops.node_errors(root, self.names) if self.t is not None else {})
        self.problem = self._problem()
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(" " + clean(d.get("name", "")), style="bold")
        head.append(f" v{self.version}" if self.version else " (new)")
        head.append(" · ")
        head.append(clean(self.transition_label(self.t)), style="bold")
        if self.t is not None and self.t != ENTRY:
            n = len(d["transitions"])
            head.append(f" of {n} · priority {d['transitions'][self.t].get('priority', 100)}")
        if self.dirty:
            head.append(" · ● unsaved", style="bold")
        else:
            head.append(" · saved")
        self._head(head)
        render = Text(overflow="fold")
        render.append("When ", style="bold")
        render.append(clean(render_draft(root)) if self.t is not None
                      else "— choose a transition (t) or add one (N)")
        self._update("#cond-render", render)
        check = Text(overflow="fold")
        if self.problem is None:
            check.append("✓ valid", style="bold")
            check.append(" · ctrl+s saves" if self.dirty else " · nothing to save")
        else:
            check.append("✗ cannot save: ", style="bold")
            check.append(clean(self.problem))
        status = self.query_one("#cond-check", Static)
        status.set_class(self.problem is not None, "-invalid")
        self._update("#cond-check", check)
        self.ctree.show(root, self.errors, self.path)
        self.path = self.ctree.path
        self._fields_wanted += 1
        self.call_later(self._show_fields, self._fields_wanted,
                        self.path if root is not None else None,
                        draft_ops.get(root, self.path) if root is not None else None)
        self._schedule_preview()

    def _problem(self) -> str | None:
        """Why the draft cannot be saved: the cursor's node first, then any node, then
        the whole journey (other transitions, stages)."""
        d = self.draft
        if d is None:
            return "no journey"
        if self.path in self.errors:
            return self._where(self.path) + self.errors[self.path]
        if self.errors:
            path = min(self.errors)
            return self._where(path) + self.errors[path]
        try:
            j = parse_journey(d, source=clean(d.get("name", "journey")))
            if self.names is not None:
                check_against_store(j, self.names, source=clean(j.name))  # type: ignore[arg-type]
        except JourneyError as exc:
            return str(exc)
        return None

    def _where(self, path: tuple[int, ...]) -> str:
        """``any[2].clicked: `` — the part of the condition, as the domain names it."""
        root = self.condition
        parts: list[str] = []
        node = root
        for i in path:
            key = key_of(node) if node is not None else "?"
            if key in GROUPS:
                parts.append(f"{key}[{i + 1}]")
            else:
                parts.append(key)
            node = draft_ops.children(node)[i] if node is not None else None
        if node is not None:
            parts.append(key_of(node))
        return ".".join(parts) + ": "

    # -- preview ---------------------------------------------------------------------
    def _schedule_preview(self) -> None:
        preview = self.query_one(ConditionPreview)
        if self._preview_timer is not None:
            self._preview_timer.stop()
            self._preview_timer = None
        self._preview_generation += 1
        if self.draft is None:
            return
        if not self.dirty:
            self.draft_figures = self.saved_figures
            preview.show(self.saved_figures, self.saved_figures,
                         "The draft is the saved journey; edit to see the difference.",
                         self._preview_transition())
            return
        if self.problem is not None:
            preview.show(self.saved_figures, None,
                         "No preview while the draft cannot be used (see ✗ above).",
                         self._preview_transition())
            return
        preview.show(self.saved_figures, self.draft_figures, "Computing the draft's funnel…",
                     self._preview_transition())
        generation = self._preview_generation
        self._preview_timer = self.set_timer(self.preview_delay, partial(self._start_preview,
                                                                    generation))

    def _preview_transition(self) -> int | None:
        """The edited transition's number when the saved journey has the same one
        (same place, same stages), so its moves compare; else None."""
        if self.t is None or self.t == ENTRY or self.saved is None or self.draft is None:
            return None
        saved, draft = self.saved["transitions"], self.draft["transitions"]
        if self.t >= len(saved):
            return None
        a, b = saved[self.t], draft[self.t]
        if (a.get("from"), a.get("to")) != (b.get("from"), b.get("to")):
            return None
        return self.t + 1

    def _start_preview(self, generation: int) -> None:
        if generation != self._preview_generation or self.draft is None:
            return
        self._preview(generation, copy.deepcopy(self.draft))

    @work(thread=True, exclusive=True, group="conditions-preview", exit_on_error=False)
    def _preview(self, generation: int, definition: dict[str, Any]) -> None:
        try:
            j = parse_journey(definition)
            with self.japp.pool.store() as store:
                figures = preview_figures(store, j, DEFAULT_STALL_DAYS)
        except WORKER_ERRORS as exc:
            self.post_message(self.PreviewReady(generation, None, str(exc)))
            return
        self.post_message(self.PreviewReady(generation, figures, ""))

    def on_conditions_pane_preview_ready(self, message: PreviewReady) -> None:
        if message.generation != self._preview_generation:
            return
        self.draft_figures = message.figures
        note = message.error or "Draft computed (not saved); Δ = draft − saved reached."
        self.query_one(ConditionPreview).show(self.saved_figures, message.figures, note,
                                              self._preview_transition())
        # say it where the eye is when the preview is off screen or folded: the edited
        # transition's moves, saved → draft
        summary = preview_summary(self.saved_figures, message.figures,
                                  self._preview_transition())
        if summary:
            self.japp.main.status.note(summary)

    # -- tree and fields -------------------------------------------------------------
    def on_condition_tree_moved(self, event: ConditionTree.Moved) -> None:
        event.stop()
        self.path = event.path
        self._coalesce = None
        self._changed()

    def on_condition_fields_changed(self, event: ConditionFields.Changed) -> None:
        event.stop()
        root = self.condition
        if self.t is None or event.path != self.path:
            return
        node = draft_ops.get(root, event.path)
        if node is None or draft_ops.field_text(node, event.name) == event.value.strip():
            return
        new = draft_ops.set_field(root, event.path, event.name, event.value)
        self._apply(self._with_condition(new), self.t, self.path,
                    coalesce=("field", self.t, event.path, event.name))

    def on_condition_fields_done(self, event: ConditionFields.Done) -> None:
        event.stop()
        self._coalesce = None
        self.ctree.focus()

    def action_edit_fields(self) -> None:
        # The fields follow the tree's cursor; if they are being redrawn, focus them after.
        if self.ctree.path != self.path or self._fields_shown != self._fields_wanted:
            self._focus_fields_when_shown = True
        else:
            self._focus_first_field()

    async def _show_fields(self, generation: int, path: Any, node: Node | None) -> None:
        await self.fields.show(path, node)
        self._fields_shown = generation
        if self._focus_fields_when_shown and generation == self._fields_wanted:
            self._focus_fields_when_shown = False
            self._focus_first_field()

    def _focus_first_field(self) -> None:
        first = self.fields.first_input()
        if first is None:
            self.notify("A group has no fields: k switches all/any, a adds a part.",
                        markup=False)
            return
        first.focus()

    def on_key(self, event: Any) -> None:
        # Enter on the tree edits the fields; Esc in a field goes back to the tree.
        focused = self.screen.focused
        if event.key == "enter" and focused is self.ctree:
            event.stop()
            self.action_edit_fields()
        elif event.key == "escape" and isinstance(focused, FieldInput):
            event.stop()
            event.prevent_default()
            self._coalesce = None
            self.ctree.focus()

    # -- tree edits ------------------------------------------------------------------
    def _tree_edit_allowed(self) -> bool:
        if self.draft is None:
            self.notify("No journey open.", markup=False)
            return False
        if self.t is None:
            self.notify("Choose a transition first (t), or add one (N).", markup=False)
            return False
        return True

    def action_add_leaf(self) -> None:
        if self._tree_edit_allowed():
            root, path = draft_ops.add(self.condition, self.path, draft_ops.leaf("clicked"))
            self._edit(root, path)

    def action_add_group(self) -> None:
        if self._tree_edit_allowed():
            root, path = draft_ops.add_group(self.condition, self.path, "any")
            self._edit(root, path)

    def action_not(self) -> None:
        if self._tree_edit_allowed() and self.condition is not None:
            root, path = draft_ops.wrap_not(self.condition, self.path)
            self._edit(root, path)

    def action_delete(self) -> None:
        if self._tree_edit_allowed() and self.condition is not None:
            root, path = draft_ops.delete(self.condition, self.path)
            self._edit(root, path)

    def action_move(self, delta: int) -> None:
        if self._tree_edit_allowed() and self.condition is not None:
            root, path = draft_ops.move(self.condition, self.path, delta)
            if path != self.path:
                self._edit(root, path)

    def action_kind(self) -> None:
        if not self._tree_edit_allowed():
            return
        node = draft_ops.get(self.condition, self.path)
        if node is None:
            return
        key = key_of(node)
        if key in GROUPS:
            self._edit(draft_ops.set_kind(self.condition, self.path,
                                          "any" if key == "all" else "all"), self.path)
            return
        if key not in LEAF_KINDS:
            self.notify("n unwraps a not; choose the kind of the part inside it.",
                        markup=False)
            return
        from journeytui.tui.screens.journey_pick import PickDialog

        path, t = self.path, self.t

        def chosen(kind: str | None) -> None:
            if kind and kind != key and self.t == t:
                self._edit(draft_ops.set_kind(self.condition, path, kind), path)

        choices = [(k, f"{label}  ({k})") for k, label in LEAF_KINDS.items()]
        self.app.push_screen(PickDialog("Kind of this part", choices, key), chosen)

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("Nothing to undo.", markup=False)
            return
        self.redo_stack.append(self._snapshot())
        self.draft, self.t, self.path = self.undo_stack.pop()
        self._coalesce = None
        self._changed()

    def action_redo(self) -> None:
        if not self.redo_stack:
            self.notify("Nothing to redo.", markup=False)
            return
        self.undo_stack.append(self._snapshot())
        self.draft, self.t, self.path = self.redo_stack.pop()
        self._coalesce = None
        self._changed()

    # -- transitions and stages ------------------------------------------------------
    def _select_transition(self, t: int | None) -> None:
        self.t = t
        self.path = ()
        self._coalesce = None
        self._changed()

    def action_pick_transition(self) -> None:
        d = self.draft
        if d is None:
            return
        from journeytui.tui.screens.journey_pick import PickDialog

        first = d["stages"][0]["name"] if d["stages"] else "the first stage"
        choices = [(str(ENTRY), (f"entry into {first}: "
                    f"{render_draft(d.get('entry'))}"))]
        for i, tr in enumerate(d["transitions"]):
            choices.append((str(i), (f"{self.transition_label(i)} (priority "
                            f"{tr.get('priority', 100)}): {render_draft(tr.get('when'))}")))

        def chosen(value: str | None) -> None:
            if value is not None:
                self._select_transition(int(value))

        self.app.push_screen(PickDialog(
            "Edit the condition of", choices, str(self.t) if self.t is not None else None,
            hint="↑↓ choose · Enter edits · Esc cancels · N adds a transition"), chosen)

    def action_new_transition(self) -> None:
        d = self.draft
        if d is None:
            return
        from journeytui.tui.screens.condition_dialogs import TextPrompt
        from journeytui.tui.screens.journey_pick import PickDialog

        stages = [s["name"] for s in d["stages"]]
        answers: dict[str, Any] = {}

        def got_priority(text: str | None) -> None:
            if text is None:
                return
            if not text.isdigit():
                self.notify(f"Priority {clean(text)!r}: type a whole number (lower is tried "
                            "first).", severity="error", markup=False)
                return
            new = copy.deepcopy(d)
            new["transitions"].append({"from": answers["from"], "to": answers["to"],
                                       "priority": int(text), "when": None})
            self._apply(new, len(new["transitions"]) - 1, ())

        def got_to(to: str | None) -> None:
            if to is None:
                return
            answers["to"] = to
            self.app.push_screen(TextPrompt(
                "Priority (transitions out of a stage are tried lowest first)", "10"),
                got_priority)

        def got_from(source: str | None) -> None:
            if source is None:
                return
            answers["from"] = None if source == "\0any" else source
            targets = [(s, s) for s in stages if s != answers["from"]]
            self.app.push_screen(PickDialog("…to stage", targets), got_to)

        choices = [("\0any", "any stage (an exit such as At-risk)")] + [(s, s) for s in stages]
        self.app.push_screen(PickDialog("New transition from stage", choices), got_from)

    def action_delete_transition(self) -> None:
        d = self.draft
        if d is None or self.t is None or self.t == ENTRY:
            self.notify("Choose a transition to delete first (t).", markup=False)
            return
        new = copy.deepcopy(d)
        del new["transitions"][self.t]
        n = len(new["transitions"])
        self._apply(new, min(self.t, n - 1) if n else None, ())

    def action_priority(self) -> None:
        d = self.draft
        if d is None or self.t is None or self.t == ENTRY:
            self.notify("Choose a transition first (t).", markup=False)
            return
        from journeytui.tui.screens.condition_dialogs import TextPrompt

        t = self.t

        def got(text: str | None) -> None:
            if text is None or self.draft is None:
                return
            if not text.isdigit():
                self.notify(f"Priority {clean(text)!r}: type a whole number.",
                            severity="error", markup=False)
                return
            new = copy.deepcopy(self.draft)
            new["transitions"][t]["priority"] = int(text)
            self._apply(new, t, self.path)

        current = str(d["transitions"][t].get("priority", 100))
        self.app.push_screen(TextPrompt("Priority (lower is tried first)", current), got)

    def action_stages(self) -> None:
        d = self.draft
        if d is None:
            return
        from journeytui.tui.screens.condition_dialogs import StagesDialog

        def done(new: dict[str, Any] | None) -> None:
            if new is not None and self.draft is not None and new != self.draft:
                self._apply(new, self.t, self.path)

        self.app.push_screen(StagesDialog(copy.deepcopy(d)), done)

    # -- journeys --------------------------------------------------------------------
    def action_pick_journey(self) -> None:
        if self.dirty:
            self.notify("Unsaved changes: save (ctrl+s) or revert (R) before opening "
                        "another journey.", severity="warning", markup=False)
            return
        from journeytui.tui.screens.journey_pick import PickDialog

        def chosen(name: str | None) -> None:
            if name:
                self._open(name, None)

        choices = [(j.name, f"{j.name} — {', '.join(j.stages)}") for j in self.journeys]
        self.app.push_screen(PickDialog("Edit the journey", choices, self.journey_name), chosen)

    def action_new_journey(self) -> None:
        if self.dirty:
            self.notify("Unsaved changes: save (ctrl+s) or revert (R) first.",
                        severity="warning", markup=False)
            return
        from journeytui.tui.screens.condition_dialogs import TextPrompt

        def named(name: str | None) -> None:
            if not name:
                return
            if any(j.name == name for j in self.journeys):
                self.notify(f"A journey named '{clean(name)}' exists; o opens it.",
                            severity="error", markup=False)
                return
            self.app.push_screen(
                TextPrompt(f"Goal of {name}: what it leads to (e.g. books a demo)"),
                lambda goal: self._new_journey(name, (goal or "").strip()))

        self.app.push_screen(TextPrompt("Name of the new journey"), named)

    def _new_journey(self, name: str, goal: str) -> None:
        definition = {"name": name, "goal": goal, "stages": [{"name": "Browsing"}],
                      "entry": {"any": [{"opened": {}}, {"clicked": {}}]},
                      "transitions": []}
        self._load_definition(None, definition, 0)
        self.saved = None  # nothing saved yet: the draft is unsaved
        self.saved_figures = None
        self.t = ENTRY
        self.path = ()
        self._changed()
        self.notify("New journey: S edits the stages (the last main stage is the goal), "
                    "N adds a transition, ctrl+s saves.", markup=False)

    def action_revert(self) -> None:
        if not self.dirty:
            self.notify("Nothing to revert.", markup=False)
            return
        if self.saved is None:
            self.draft = None
            self.journey_name = None
            self._load_journeys()
            return
        self.undo_stack.append(self._snapshot())
        self.draft = copy.deepcopy(self.saved)
        n = len(self.draft["transitions"])
        if self.t is not None and self.t != ENTRY and self.t >= n:
            self.t = n - 1 if n else None
        self.path = ()
        self._changed()

    # -- saving ----------------------------------------------------------------------
    def action_save(self) -> None:
        d = self.draft
        if d is None:
            return
        if self.problem is not None:
            self.notify(f"Not saved: {self.problem}", severity="error", markup=False)
            return
        if not self.dirty:
            self.notify("Nothing to save: the draft is the saved version.", markup=False)
            return
        if self.japp.readonly:
            self.notify("This store is open read-only; nothing can be saved.",
                        severity="error", markup=False)
            return
        self.saving = True
        self.japp.status_begin("conditions-save", "Saving and re-evaluating the journey…")
        self._save(copy.deepcopy(d), self.version, self.journey_name, as_copy=False)

    @work(thread=True, exclusive=True, group="conditions-save", exit_on_error=False)
    def _save(self, definition: dict[str, Any], version: int, original: str | None,
              *, as_copy: bool) -> None:
        name = definition.get("name", "")
        try:
            j = parse_journey(definition, source=clean(name))
            with self.japp.pool.store() as store:
                new_version = save_journey(
                    store, j, expected_version=version,
                    original_name=original if original is not None else None,
                )
        except ConflictError as exc:
            self.post_message(self.SaveDone(name, None, str(exc), conflict=True))
            return
        except WORKER_ERRORS as exc:
            self.post_message(self.SaveDone(name, None, str(exc), as_copy=as_copy))
            return
        self.post_message(self.SaveDone(j.name, new_version, as_copy=as_copy))

    def on_conditions_pane_save_done(self, message: SaveDone) -> None:
        self.japp.status_end("conditions-save")
        self.saving = False
        after, self._after_save = self._after_save, None
        if message.conflict:
            self._conflict(message.error)
            return
        if message.version is None:
            self.notify(f"Not saved: {message.error}", severity="error", markup=False)
            return
        assert self.draft is not None
        t = self.t
        self._load_definition(message.journey_name, copy.deepcopy(self.draft), message.version,
                              keep_history=True)
        self._keep_history = True  # the reload that follows keeps it too
        self.t = t
        self.notify(f"Saved {clean(message.journey_name)} as version {message.version}; the journey "
                    "was re-evaluated.", markup=False)
        self._pending = (message.journey_name, t)
        self._load_journeys()
        if after is not None:
            after()

    def _conflict(self, error: str) -> None:
        from journeytui.tui.screens.journey_pick import PickDialog

        def chosen(choice: str | None) -> None:
            if choice == "reload" and self.journey_name is not None:
                self._load_definition(self.journey_name, copy.deepcopy(self.draft or {}), self.version)
                self._pending = (self.journey_name, self.t)
                self._load_journeys()
            elif choice == "copy" and self.draft is not None:
                copy_def = copy.deepcopy(self.draft)
                existing = {j.name for j in self.journeys}
                base = f"{copy_def['name']} (copy)"
                name, n = base, 2
                while name in existing:
                    name, n = f"{base} {n}", n + 1
                copy_def["name"] = name
                self.draft = copy_def
                self.saving = True
                self.japp.status_begin("conditions-save", f"Saving as {clean(name)}…")
                self._save(copy.deepcopy(copy_def), 0, None, as_copy=True)

        self.app.push_screen(PickDialog(
            f"Not saved: {error}",
            [("cancel", "Keep editing (nothing saved, your draft stays)"),
             ("copy", "Save your draft as a copy (a new journey)"),
             ("reload", "Reload their version (your draft is discarded)")],
            "cancel"), chosen)

    # -- versions --------------------------------------------------------------------
    def action_versions(self) -> None:
        if self.journey_name is None:
            self.notify("This journey has not been saved yet.", markup=False)
            return
        self._load_versions(self.journey_name)

    @work(thread=True, exclusive=True, group="conditions-versions", exit_on_error=False)
    def _load_versions(self, name: str) -> None:
        try:
            with self.japp.pool.store() as store:
                infos = list_versions(store, name)
                definitions = [get_version(store, name, v.version) for v in infos]
            versions = []
            for i, v in enumerate(infos):
                changes = (version_changes(definitions[i - 1], definitions[i]) if i
                           else ["first version"])
                versions.append((v.version, v.saved_at, changes or ["no change"]))
        except WORKER_ERRORS as exc:
            self.post_message(self.VersionsLoaded(name, [], str(exc)))
            return
        self.post_message(self.VersionsLoaded(name, versions))

    def on_conditions_pane_versions_loaded(self, message: VersionsLoaded) -> None:
        if message.error:
            self.notify(message.error, severity="error", markup=False)
            return
        from journeytui.tui.screens.journey_pick import PickDialog

        name = message.journey_name
        choices = [
            (str(v), (f"version {v}{' (current)' if v == self.version else ''} · saved "
                     f"{fmt.when(at)} · {'; '.join(changes)}"))
            for v, at, changes in reversed(message.versions)
        ]

        def chosen(value: str | None) -> None:
            if value is None or int(value) == self.version:
                return
            if self.dirty:
                self.notify("Unsaved changes: save (ctrl+s) or revert (R) before restoring "
                            "a version.", severity="warning", markup=False)
                return
            if self.japp.readonly:
                self.notify("This store is open read-only; nothing can be restored.",
                            severity="error", markup=False)
                return
            self.japp.status_begin("conditions-save", f"Restoring version {value}…")
            self._restore(name, int(value), self.version)

        self.app.push_screen(PickDialog(
            "Restore an earlier version (saved again as the newest)", choices,
            str(self.version)), chosen)

    @work(thread=True, exclusive=True, group="conditions-save", exit_on_error=False)
    def _restore(self, name: str, version: int, expected: int) -> None:
        try:
            with self.japp.pool.store() as store:
                new = restore_version(store, name, version, expected_version=expected)
        except ConflictError as exc:
            self.post_message(self.SaveDone(name, None, str(exc), conflict=True))
            return
        except WORKER_ERRORS as exc:
            self.post_message(self.SaveDone(name, None, str(exc)))
            return
        self.post_message(self.SaveDone(name, new))
        self.app.call_from_thread(
            self.notify, f"Restored version {version} of {clean(name)} as version {new}.",
            markup=False)

    # -- leaving with unsaved changes ------------------------------------------------
    def unsaved_changes(self) -> str | None:
        """What would be lost by leaving (None: nothing)."""
        if self.dirty and not self._leave_ok:
            name = clean((self.draft or {}).get("name", "the journey"))
            return f"Unsaved changes to {name}."
        return None

    def allow_leave(self, proceed: Any) -> bool:
        """The shell asks before it leaves this pane or quits: True = go ahead now;
        False = it asked the user and calls *proceed* if they agree."""
        what = self.unsaved_changes()
        if what is None:
            return True
        from journeytui.tui.screens.journey_pick import PickDialog

        def chosen(choice: str | None) -> None:
            if choice == "save":
                if self.problem is not None:
                    self.notify(f"Not saved: {self.problem}", severity="error", markup=False)
                    return
                self._after_save = proceed
                self.action_save()
            elif choice == "discard":
                self._leave_ok = True
                if self.saved is not None:
                    self.draft = copy.deepcopy(self.saved)
                    self.undo_stack.clear()
                    self._changed()
                proceed()
            elif choice == "keep":
                self._leave_ok = True
                proceed()

        self.app.push_screen(PickDialog(
            f"{what} What now?",
            [("stay", "Stay here"),
             ("save", "Save, then go on"),
             ("keep", "Go on, keeping the draft in this pane (lost when the app quits)"),
             ("discard", "Discard the changes and go on")],
            "stay"), chosen)
        return False

    # -- shell hooks -----------------------------------------------------------------
    def palette_commands(self) -> list[PaletteCommand]:
        commands = [
            PaletteCommand("Save the journey", "Conditions pane (ctrl+s)", self.action_save),
            PaletteCommand("Add a transition", "Conditions pane (N)",
                           self.action_new_transition),
            PaletteCommand("Edit stages", "Conditions pane (S)", self.action_stages),
            PaletteCommand("Restore an earlier version", "Conditions pane (V)",
                           self.action_versions),
            PaletteCommand("New journey", "Conditions pane (ctrl+n)", self.action_new_journey),
            PaletteCommand("Revert the draft", "Conditions pane (R)", self.action_revert),
        ]
        commands += [
            PaletteCommand(f"Edit journey {j.name}", "Conditions pane (o)",
                           partial(self._open, j.name, None))
            for j in self.journeys
        ]
        return commands

    def help_extra(self) -> list[tuple[str, str]]:
        return [
            ("↑ ↓", "move in the condition tree (✗ marks a part that cannot be used)"),
            ("Enter, e", "edit the highlighted part's fields; Enter in a field: next field"),
            ("↓ ↑ in a field", "choose among the matching names; Enter takes it; → completes"),
            ("Esc in a field", "back to the tree"),
            ("a, g", "add a part / an any-group under the cursor (a lone part gets a group)"),
            ("K", "change the kind of a part (a group: all ↔ any)"),
            ("n, d, [ ]", "wrap in not (again: unwrap), delete, move up/down"),
            ("t, N, X, p", "choose / add / delete a transition, its priority"),
            ("S, V, ctrl+n", "edit stages, restore an earlier version, new journey"),
            ("u, U", "undo, redo (also ctrl+z, ctrl+y)"),
            ("ctrl+s", "save: validates, keeps a version, re-evaluates the journey"),
        ]


def definition_json(definition: dict[str, Any]) -> str:
    """The draft as JSON text (tests compare it with the store)."""
    return json.dumps(definition, ensure_ascii=False, sort_keys=True)
