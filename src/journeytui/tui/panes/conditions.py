"""The Conditions pane: the transition conditions of a journey, edited by keyboard,
validated as you type, previewed in a worker, saved with versions.

What is edited lives in :class:`journeytui.editor.EditorState` (the draft, the saved
journey, the cursor, undo and redo); this pane shows it, turns keys into its methods,
asks the user through :mod:`conditions_flows` and runs the store work in workers: the
live preview of the draft is :mod:`conditions_preview`, saving and versions
:mod:`conditions_saving` (both mixed into the pane).

Workers raise; :meth:`ConditionsPane.on_worker_state_changed` alone decides what a
failure shows.  What they find comes back as small messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from journeytui.domain.engine import high_water
from journeytui.domain.funnel import funnel
from journeytui.domain.journeys import ConflictError, JourneyInfo, get_journey, list_journeys
from journeytui.editor import ENTRY, CachedNames, EditorState
from journeytui.editor.draft import LEAF_KINDS, Node, key_of, render_draft
from journeytui.tui.journey_data import (
    DEFAULT_STALL_DAYS,
    WORKER_ERRORS,
    FunnelFigures,
    StoreChoices,
    from_domain,
    store_choices,
)
from journeytui.tui.panes import conditions_flows as flows
from journeytui.tui.panes.base import PaletteCommand, Pane
from journeytui.tui.panes.conditions_preview import PREVIEW_GROUP, SAMPLE_GROUP, PreviewMixin
from journeytui.tui.panes.conditions_saving import SAVE_GROUP, VERSIONS_GROUP, SavingMixin
from journeytui.tui.text import clean
from journeytui.tui.widgets.condition_fields import ConditionFields, FieldInput
from journeytui.tui.widgets.condition_preview import ConditionPreview
from journeytui.tui.widgets.condition_tree import ConditionTree

GROUPS = {
    "list": "conditions-list", "open": "conditions-open", "preview": PREVIEW_GROUP,
    "save": SAVE_GROUP, "versions": VERSIONS_GROUP, "sample": SAMPLE_GROUP,
}


@dataclass
class JourneysLoaded(Message):
    journeys: list[JourneyInfo]
    choices: StoreChoices


@dataclass
class JourneyOpened(Message):
    journey_name: str
    definition: dict[str, Any]
    version: int
    figures: FunnelFigures | None
    transition: int | None
    # the saved funnel as the domain gives it, and the store's high-water marks then
    funnel: tuple[Any, dict[str, Any]] | None = None




class ConditionsPane(PreviewMixin, SavingMixin, Pane):
    PANE_ID = "conditions"
    TITLE = "Conditions"
    SUMMARY = ("The transition conditions of a journey, edited by keyboard, checked as you "
               "type, previewed beside the saved funnel, saved with versions.")

    DEFAULT_CSS = (Path(__file__).resolve().parent.parent / "conditions.tcss").read_text(
        encoding="utf-8")

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

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = EditorState()
        self.journeys: list[JourneyInfo] = []
        self.choices = StoreChoices()
        self.leave_ok = False
        self._pending: tuple[str, int | None] | None = None
        # the journey and transition an open worker is reading (until it is shown)
        self._opening: tuple[str, int | None] | None = None
        self._fields_wanted = 0
        self._fields_shown = 0
        self._focus_fields_when_shown = False
        self._shown: dict[str, object] = {}

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
        self.leave_ok = False
        if self.state.draft is None or not self.state.dirty:
            self.load_journeys()

    # -- the editor's state, as the shell and the tests read it ----------------------
    @property
    def journey_name(self) -> str | None:
        return self.state.journey_name

    @property
    def version(self) -> int:
        return self.state.version

    @property
    def draft(self) -> dict[str, Any] | None:
        return self.state.draft

    @property
    def t(self) -> int | None:
        return self.state.t

    @property
    def condition(self) -> Node | None:
        return self.state.condition

    @property
    def dirty(self) -> bool:
        return self.state.dirty

    @property
    def problem(self) -> str | None:
        return self.state.problem

    @property
    def errors(self) -> dict[tuple[int, ...], str]:
        return self.state.errors

    def transition_label(self, t: int | None) -> str:
        return self.state.transition_label(t)

    # -- workers: they raise, and one handler says what failed -----------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if event.state != WorkerState.ERROR or group not in GROUPS.values():
            super().on_worker_state_changed(event)
            return
        error = event.worker.error
        said = clean(str(error)) if isinstance(error, WORKER_ERRORS) else None
        if group == GROUPS["open"]:
            self._opening = None
            self.japp.status_end("conditions")
        elif group == GROUPS["save"]:
            self.japp.status_end("conditions-save")
            self.saving = False
            self.after_save = None
            if isinstance(error, ConflictError):
                flows.conflict(self, str(error))
                return
            said = f"Not saved: {said}" if said is not None else None
        elif group == GROUPS["sample"]:
            return  # the preview reads the sample again, and says what failed
        elif group == GROUPS["list"]:
            self.journeys = []
            if said is not None:
                self._head(Text(said))
                return
        elif group == GROUPS["preview"]:
            current = self._preview_worker
            if current is None or current[0] is not event.worker:
                return
            if current[1] != self._preview_generation:
                return
            if said is not None:
                self.draft_figures = None
                self.draft_estimate = None
                self._previewing = None  # (moving the cursor tries again)
                self.query_one(ConditionPreview).show(self.saved_figures, None, said,
                                                      self.state.compared_transition())
                return
        if said is None:  # not an error of the store or the user: the app's own report
            super().on_worker_state_changed(event)
        else:
            self.notify(said, severity="error", markup=False)

    # -- loading ---------------------------------------------------------------------
    @work(thread=True, exclusive=True, group=GROUPS["list"], exit_on_error=False)
    def load_journeys(self) -> None:
        with self.japp.pool.store() as store:
            journeys = list_journeys(store)
            choices = store_choices(store)
        self.post_message(JourneysLoaded(journeys, choices))

    def on_journeys_loaded(self, message: JourneysLoaded) -> None:
        state = self.state
        self.journeys = message.journeys
        self.choices = message.choices
        state.names = CachedNames(message.choices)
        self.fields.choices = message.choices
        if self._pending is not None:
            name, transition = self._pending
            self._pending = None
            self.open_named(name, transition)
        elif state.draft is None or not state.dirty:
            names = [j.name for j in self.journeys]
            # (what an open under way reads, if any: the list read again must not
            # replace it with the journey shown before — e on a stage of the Journeys
            # pane asks for a transition while the pane's own first read is on its way)
            shown, t = self._opening or (state.journey_name, state.t)
            if shown is not None and shown in names:
                self.open_named(shown, t)
            elif names:
                self.open_named(names[0], None)
            else:
                self._head(Text(" No journeys yet: ctrl+n starts a new one."))
                self.show_draft()

    def open_journey(self, name: str, *, transition: int | None = None) -> None:
        """Open *name* (from another pane); *transition* is 1-based."""
        index = transition - 1 if transition is not None else None
        if self.state.dirty and name != self.state.journey_name:
            self.notify("You have unsaved changes here; save (ctrl+s) or revert (R) first.",
                        severity="warning", markup=False)
            return
        if self.state.dirty:
            if index is not None:
                self.select_transition(index)
            return
        self.reopen(name, index)

    def reopen(self, name: str, transition: int | None) -> None:
        """Read the journeys again, then open *name* on *transition* (0-based)."""
        self.draft_figures = None
        self._pending = (name, transition)
        self.load_journeys()

    def open_named(self, name: str, transition: int | None) -> None:
        self._opening = (name, transition)
        self.japp.status_begin("conditions", f"Opening {clean(name)}…")
        self._open_worker(name, transition)

    @work(thread=True, exclusive=True, group=GROUPS["open"], exit_on_error=False)
    def _open_worker(self, name: str, transition: int | None) -> None:
        with self.japp.pool.store() as store:
            j, version = get_journey(store, name)
            marks = high_water(store.conn)
            saved = funnel(store, name, stall_days=DEFAULT_STALL_DAYS)
        self.post_message(JourneyOpened(name, j.to_json_dict(), version,
                                        from_domain(j, saved, version), transition,
                                        (marks, saved)))

    def on_journey_opened(self, message: JourneyOpened) -> None:
        self._opening = None
        self.japp.status_end("conditions")
        keep, self._keep_history = self._keep_history, False
        self.state.open(message.journey_name, message.definition, message.version,
                        message.transition, keep_history=keep)
        self.draft_figures = None
        self.saved_figures = message.figures
        self._saved_funnel = message.funnel
        self.show_draft()
        self._prepare_sample(message.journey_name, message.version)

    def start_new_journey(self, name: str, goal: str) -> None:
        self.state.new_journey(name, goal)
        self.draft_figures = None
        self.saved_figures = None
        self.show_draft()
        self.notify("New journey: S edits the stages (the last main stage is the goal), "
                    "N adds a transition, ctrl+s saves.", markup=False)

    # -- showing ---------------------------------------------------------------------
    def _head(self, text: Text) -> None:
        self._update("#cond-head", text)

    def _update(self, selector: str, text: Text) -> None:
        """Update a Static only when its text changed (each update lays out the screen)."""
        key = (text.plain, tuple((s.start, s.end, str(s.style)) for s in text.spans))
        if self._shown.get(selector) != key:
            self._shown[selector] = key
            self.query_one(selector, Static).update(text)

    def show_draft(self) -> None:
        """Check the draft and redraw everything that shows it."""
        state = self.state
        d = state.draft
        if d is None:
            return
        state.check()
        root = state.condition
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(" " + clean(d.get("name", "")), style="bold")
        head.append(f" v{state.version}" if state.version else " (new)")
        head.append(" · ")
        head.append(clean(state.transition_label(state.t)), style="bold")
        if state.t is not None and state.t != ENTRY:
            head.append(f" of {len(d['transitions'])} · priority {state.priority(state.t)}")
        head.append(" · ● unsaved" if state.dirty else " · saved",
                    style="bold" if state.dirty else "")
        self._head(head)
        render = Text(overflow="fold")
        render.append("When ", style="bold")
        render.append(clean(render_draft(root)) if state.t is not None
                      else "— choose a transition (t) or add one (N)")
        self._update("#cond-render", render)
        check = Text(overflow="fold")
        if state.problem is None:
            check.append("✓ valid", style="bold")
            check.append(" · ctrl+s saves" if state.dirty else " · nothing to save")
        else:
            check.append("✗ cannot save: ", style="bold")
            check.append(clean(state.problem))
        self.query_one("#cond-check", Static).set_class(state.problem is not None, "-invalid")
        self._update("#cond-check", check)
        self.ctree.show(root, state.errors, state.path)
        state.path = self.ctree.path
        self._fields_wanted += 1
        self.call_later(self._show_fields, self._fields_wanted,
                        state.path if root is not None else None,
                        state.node if root is not None else None)
        self._schedule_preview()

    def on_unmount(self) -> None:
        self._stop_preview()


    # -- tree and fields -------------------------------------------------------------
    def on_condition_tree_moved(self, event: ConditionTree.Moved) -> None:
        event.stop()
        self._follow_tree()

    def _follow_tree(self) -> bool:
        """The editor's cursor where the tree shows it (and the draft shown again);
        whether it moved.  Keys read in one burst (``jjn``, a quick typist, an SSH
        packet) reach an edit before the tree's Moved messages: the edit follows the
        tree first, and a Moved message that comes after says nothing new."""
        path = self.ctree.path
        if not self.ctree.paths or path == self.state.path:
            return False
        self.state.move_cursor(path)
        self.show_draft()
        return True

    def on_condition_fields_changed(self, event: ConditionFields.Changed) -> None:
        event.stop()
        if self.state.set_field(event.path, event.name, event.value):
            self.show_draft()

    def on_condition_fields_done(self, event: ConditionFields.Done) -> None:
        event.stop()
        self.state.end_typing()
        self.ctree.focus()

    def action_edit_fields(self) -> None:
        # The fields follow the tree's cursor; if they are being redrawn, focus them after.
        if self.ctree.path != self.state.path or self._fields_shown != self._fields_wanted:
            self._focus_fields_when_shown = True
        else:
            self._focus_first_field()

    async def _show_fields(self, generation: int, path: Any, node: Node | None) -> None:
        self.fields.segments = self.state.segment_names
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
            self.state.end_typing()
            self.ctree.focus()

    # -- tree edits ------------------------------------------------------------------
    def _tree_edit(self, edit: Callable[[], object]) -> None:
        """Run an edit of the condition tree at its cursor; redraw when it changed the
        draft."""
        state = self.state
        self._follow_tree()
        if state.draft is None:
            self.notify("No journey open.", markup=False)
            return
        if state.t is None:
            self.notify("Choose a transition first (t), or add one (N).", markup=False)
            return
        before = state.draft
        edit()
        if state.draft is not before:
            self.show_draft()

    def action_add_leaf(self) -> None:
        self._tree_edit(self.state.add_leaf)

    def action_add_group(self) -> None:
        self._tree_edit(self.state.add_group)

    def action_not(self) -> None:
        self._tree_edit(self.state.toggle_not)

    def action_delete(self) -> None:
        self._tree_edit(self.state.delete)

    def action_move(self, delta: int) -> None:
        self._tree_edit(partial(self.state.move, delta))

    def action_kind(self) -> None:
        self._follow_tree()
        node = self.state.node if self.state.t is not None else None
        self._tree_edit(self.state.flip_group)
        if node is None or key_of(node) in ("all", "any"):
            return
        if key_of(node) not in LEAF_KINDS:
            self.notify("n unwraps a not; choose the kind of the part inside it.",
                        markup=False)
            return
        flows.pick_kind(self, key_of(node))

    def action_undo(self) -> None:
        if self.state.undo():
            self.show_draft()
        else:
            self.notify("Nothing to undo.", markup=False)

    def action_redo(self) -> None:
        if self.state.redo():
            self.show_draft()
        else:
            self.notify("Nothing to redo.", markup=False)

    def action_revert(self) -> None:
        if not self.state.dirty:
            self.notify("Nothing to revert.", markup=False)
            return
        self.state.revert()
        if self.state.draft is None:  # a new journey, never saved: nothing left to edit
            self.load_journeys()
        else:
            self.show_draft()

    # -- transitions, stages, journeys: dialogs --------------------------------------
    def select_transition(self, t: int | None) -> None:
        self.state.select_transition(t)
        self.show_draft()

    def action_pick_transition(self) -> None:
        flows.pick_transition(self)

    def action_new_transition(self) -> None:
        flows.new_transition(self)

    def action_delete_transition(self) -> None:
        state = self.state
        if state.draft is None or state.t is None or state.t == ENTRY:
            self.notify("Choose a transition to delete first (t).", markup=False)
            return
        state.delete_transition()
        self.show_draft()

    def action_priority(self) -> None:
        flows.priority(self)

    def action_stages(self) -> None:
        flows.stages(self)

    def action_pick_journey(self) -> None:
        flows.pick_journey(self)

    def action_new_journey(self) -> None:
        flows.new_journey(self)

    # -- leaving with unsaved changes ------------------------------------------------
    def unsaved_changes(self) -> str | None:
        """What would be lost by leaving (None: nothing)."""
        if self.state.dirty and not self.leave_ok:
            name = clean((self.state.draft or {}).get("name", "the journey"))
            return f"Unsaved changes to {name}."
        return None

    def allow_leave(self, proceed: Any) -> bool:
        """The shell asks before it leaves this pane or quits: True = go ahead now;
        False = it asked the user and calls *proceed* if they agree."""
        what = self.unsaved_changes()
        if what is None:
            return True
        flows.leave(self, what, proceed)
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
                           partial(self.open_named, j.name, None))
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
