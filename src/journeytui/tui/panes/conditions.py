"""The Conditions pane: the transition conditions of a journey, edited by keyboard,
validated as you type, previewed in a worker, saved with versions.

What is edited lives in :class:`journeytui.editor.EditorState` (the draft, the saved
journey, the cursor, undo and redo); this pane shows it, turns keys into its methods,
asks the user through :mod:`conditions_flows` and runs the store work in workers.
The preview (``journeytui.domain.preview``) runs in a worker thread beside the saved
funnel: first an estimate from a fixed sample of contacts (shown ``≈ … ±…``), then the
exact funnel from a full replay that replaces it (its progress in the note).  A new
edit sets the cancel flag of the work in flight, which stops between two contacts;
every message carries the edit's generation, so a late answer is never shown.  Typing
in a field waits ``preview_delay`` of quiet first; other edits ``edit_delay``.
Saving uses ``save_journey(expected_version=…)``, so a save over someone else's newer
version is refused (:class:`ConflictError`) and the user chooses what to do.

Workers raise; :meth:`ConditionsPane.on_worker_state_changed` alone decides what a
failure shows.  What they find comes back as the small messages below.
"""

from __future__ import annotations

import copy
import threading
import time
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
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from journeytui.domain.engine import high_water
from journeytui.domain.funnel import funnel
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import (
    ConflictError,
    JourneyInfo,
    get_journey,
    list_journeys,
    restore_version,
    save_journey,
    version_history,
)
from journeytui.domain.preview import (
    SAMPLE_CONTACTS,
    Cancel,
    Estimate,
    PreviewCancelled,
    Sample,
    exact,
)
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
from journeytui.tui.text import clean
from journeytui.tui.widgets.condition_fields import ConditionFields, FieldInput
from journeytui.tui.widgets.condition_preview import ConditionPreview
from journeytui.tui.widgets.condition_tree import ConditionTree

PREVIEW_DELAY = 0.35  # seconds of quiet typing in a field before the preview starts
EDIT_DELAY = 0.02  # after any other edit (a part added, deleted, undone…)
PROGRESS_EVERY = 0.5  # seconds between two progress notes of the exact replay
GROUPS = {
    "list": "conditions-list", "open": "conditions-open", "preview": "conditions-preview",
    "save": "conditions-save", "versions": "conditions-versions",
    "sample": "conditions-sample",
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


@dataclass
class PreviewReady(Message):
    generation: int
    figures: FunnelFigures


@dataclass
class PreviewEstimated(Message):
    generation: int
    figures: FunnelFigures
    estimate: Estimate


@dataclass
class PreviewProgress(Message):
    generation: int
    done: float  # share of the exact replay done


@dataclass
class SaveProgress(Message):
    doing: str  # what the status line says
    done: int  # contacts evaluated
    total: int


@dataclass
class SaveDone(Message):
    journey_name: str
    version: int


@dataclass
class VersionsLoaded(Message):
    journey_name: str
    versions: list[tuple[int, int, list[str]]]


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
    SUMMARY = ("The transition conditions of a journey, edited by keyboard, checked as you "
               "type, previewed beside the saved funnel, saved with versions.")

    DEFAULT_CSS = (Path(__file__).resolve().parent.parent / "conditions.tcss").read_text(
        encoding="utf-8")
    preview_delay: ClassVar[float] = PREVIEW_DELAY  # tests that need no preview raise it
    edit_delay: ClassVar[float] = EDIT_DELAY  # (both)
    sample_size: ClassVar[int] = SAMPLE_CONTACTS  # contacts an estimate replays

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
        self.saved_figures: FunnelFigures | None = None
        self.draft_figures: FunnelFigures | None = None  # the draft's exact funnel
        # the draft's estimated funnel, until the exact one is known
        self.draft_estimate: tuple[FunnelFigures, Estimate] | None = None
        self.saving = False
        self.leave_ok = False
        self.after_save: Callable[[], Any] | None = None  # once a save asked on leaving is done
        self._preview_generation = 0
        self._preview_said = ""  # the preview's note on the status line, while it holds
        self._preview_timer: Timer | None = None
        self._preview_worker: tuple[Worker[None], int] | None = None
        self._cancel: Cancel | None = None  # the preview in flight's
        self._previewing: dict[str, Any] | None = None  # the draft it is for
        self._exact_done = 0.0
        self._sample: tuple[tuple[Any, ...], Sample] | None = None
        self._sample_lock = threading.Lock()
        self._saved_funnel: tuple[Any, dict[str, Any]] | None = None
        self._pending: tuple[str, int | None] | None = None
        self._keep_history = False  # the next JourneyOpened follows our own save
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
            if state.journey_name in names:
                self.open_named(state.journey_name, state.t)  # type: ignore[arg-type]
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

    # -- preview ---------------------------------------------------------------------
    def _stop_preview(self) -> None:
        """Stop the preview in flight (its replay checks the flag between contacts)."""
        if self._preview_timer is not None:
            self._preview_timer.stop()
            self._preview_timer = None
        if self._cancel is not None:
            self._cancel.set()
            self._cancel = None
        self._previewing = None
        self._preview_generation += 1

    def on_unmount(self) -> None:
        self._stop_preview()

    def _schedule_preview(self) -> None:
        state = self.state
        preview = self.query_one(ConditionPreview)
        compared = state.compared_transition()
        if state.draft is not None and state.dirty and state.problem is None and (
                state.draft == self._previewing):
            self._show_preview(compared)  # the same draft (the cursor moved): redraw only
            return
        self._stop_preview()
        self.draft_figures = None  # never the figures of another draft
        self.draft_estimate = None
        # the status line's word on the previous draft is no longer true
        self.japp.main.status.withdraw(self._preview_said)
        self._preview_said = ""
        if state.draft is None:
            return
        if not state.dirty:
            self.draft_figures = self.saved_figures
            preview.show(self.saved_figures, self.saved_figures,
                         "The draft is the saved journey; edit to see the difference.", compared)
            return
        if state.problem is not None:
            preview.show(self.saved_figures, None,
                         "No preview while the draft cannot be used (see ✗ above).", compared)
            return
        self._previewing = copy.deepcopy(state.draft)
        preview.show(self.saved_figures, None, "Computing the draft's funnel…", compared)
        typing = state.typing
        self._preview_timer = self.set_timer(
            self.preview_delay if typing else self.edit_delay,
            partial(self._start_preview, self._preview_generation))

    def _start_preview(self, generation: int) -> None:
        if generation != self._preview_generation or self._previewing is None:
            return
        self._preview_timer = None
        self._cancel = cancel = Cancel()
        self._exact_done = 0.0
        worker = self._preview(generation, copy.deepcopy(self._previewing), cancel,
                               self.state.journey_name, self.state.version)
        self._preview_worker = (worker, generation)

    def _sample_for(self, store: Any, name: str | None, version: int,
                    cancel: threading.Event | None = None) -> Sample:
        """The fixed sample of contacts for estimates (read again when the store's
        data or the saved journey changed); one thread reads it at a time."""
        marks = high_water(store.conn)
        key = (name, version, marks)
        with self._sample_lock:
            if self._sample is None or self._sample[0] != key:
                saved = self._saved_funnel
                funnel_dict = saved[1] if saved is not None and saved[0] == marks else None
                self._sample = (key, Sample.prepare(store, name, saved_funnel=funnel_dict,
                                                    cancel=cancel, size=self.sample_size))
            return self._sample[1]

    @work(thread=True, exclusive=True, group=GROUPS["sample"], exit_on_error=False)
    def _prepare_sample(self, name: str, version: int) -> None:
        """Read the sample as soon as a journey is opened, so the first edit's estimate
        does not wait for it."""
        with self.japp.pool.store() as store:
            self._sample_for(store, name, version)

    @work(thread=True, exclusive=True, group=GROUPS["preview"], exit_on_error=False)
    def _preview(self, generation: int, definition: dict[str, Any], cancel: Cancel,
                 name: str | None, version: int) -> None:
        j = parse_journey(definition)
        try:
            with self.japp.pool.store() as store:
                sample = self._sample_for(store, name, version, cancel)
                if not sample.whole:
                    est = sample.estimate(store.conn, j, cancel=cancel)
                    self.post_message(PreviewEstimated(
                        generation, from_domain(j, est.figures, 0), est))
                said = [time.monotonic()]

                def progress(done: float) -> None:
                    # at most twice a second: each redraw lays the screen out again,
                    # on the thread the replay shares the interpreter with
                    if time.monotonic() - said[0] >= PROGRESS_EVERY:
                        said[0] = time.monotonic()
                        self.post_message(PreviewProgress(generation, done))

                figures = exact(store, j, saved=name, cancel=cancel, progress=progress,
                                stall_days=DEFAULT_STALL_DAYS)
        except PreviewCancelled:
            return
        if not cancel.is_set():
            self.post_message(PreviewReady(generation, from_domain(j, figures, 0)))

    def _show_preview(self, compared: int | None) -> None:
        """Redraw the preview with what is known of the draft's funnel."""
        preview = self.query_one(ConditionPreview)
        if self.draft_figures is not None:
            preview.show(self.saved_figures, self.draft_figures,
                         "Draft computed (not saved); Δ = draft − saved reached.", compared)
        elif self.draft_estimate is not None:
            figures, est = self.draft_estimate
            preview.show(self.saved_figures, figures, (
                f"≈ estimated from {est.sampled:,} sampled contacts (± 3 standard errors); "
                f"exact figures {self._exact_done:.0%} replayed…"), compared, est.margins)
        else:
            preview.show(self.saved_figures, None, "Computing the draft's funnel…"
                         + (f" {self._exact_done:.0%}" if self._exact_done else ""), compared)

    def on_preview_estimated(self, message: PreviewEstimated) -> None:
        if message.generation != self._preview_generation or self.draft_figures is not None:
            return
        self.draft_estimate = (message.figures, message.estimate)
        self._show_preview(self.state.compared_transition())

    def on_preview_progress(self, message: PreviewProgress) -> None:
        if message.generation != self._preview_generation:
            return
        self._exact_done = message.done
        self._show_preview(self.state.compared_transition())

    def on_preview_ready(self, message: PreviewReady) -> None:
        if message.generation != self._preview_generation:
            return
        self.draft_figures = message.figures
        self.draft_estimate = None
        self._cancel = None
        compared = self.state.compared_transition()
        self._show_preview(compared)
        # say it where the eye is when the preview is off screen or folded: the edited
        # transition's moves, saved → draft
        summary = preview_summary(self.saved_figures, message.figures, compared)
        if summary:
            self.japp.main.status.note(summary)
            self._preview_said = summary

    # -- tree and fields -------------------------------------------------------------
    def on_condition_tree_moved(self, event: ConditionTree.Moved) -> None:
        event.stop()
        self.state.move_cursor(event.path)
        self.show_draft()

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
        """Run an edit of the condition tree; redraw when it changed the draft."""
        state = self.state
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

    # -- saving and versions ---------------------------------------------------------
    def action_save(self) -> None:
        state = self.state
        if state.draft is None:
            return
        if state.problem is not None:
            self.notify(f"Not saved: {state.problem}", severity="error", markup=False)
            return
        if not state.dirty:
            self.notify("Nothing to save: the draft is the saved version.", markup=False)
            return
        if self.japp.readonly:
            self.notify("This store is open read-only; nothing can be saved.",
                        severity="error", markup=False)
            return
        self.save_draft(copy.deepcopy(state.draft), state.version, state.journey_name,
                        as_copy=False, doing="Saving and re-evaluating the journey…")

    def save_draft(self, definition: dict[str, Any], version: int, original: str | None,
                   *, as_copy: bool, doing: str) -> None:
        self.saving = True
        self.japp.status_begin("conditions-save", doing)
        self._save(definition, version, original, doing)

    @work(thread=True, exclusive=True, group=GROUPS["save"], exit_on_error=False)
    def _save(self, definition: dict[str, Any], version: int, original: str | None,
              doing: str) -> None:
        j = parse_journey(definition, source=clean(definition.get("name", "")))
        said = [0.0]

        def progress(done: int, total: int) -> None:
            share = done / total if total else 1.0
            if share - said[0] >= 0.01:  # a message per percent at most
                said[0] = share
                self.post_message(SaveProgress(doing, done, total))

        with self.japp.pool.store() as store:
            new_version = save_journey(store, j, expected_version=version,
                                       original_name=original, progress=progress)
        self.post_message(SaveDone(j.name, new_version))

    def on_save_progress(self, message: SaveProgress) -> None:
        """The status line follows the evaluation a save runs."""
        if self.saving:
            self.japp.status_begin(
                "conditions-save", f"{message.doing.rstrip('…')}: {message.done:,} of "
                f"{message.total:,} contacts ({message.done / max(message.total, 1):.0%})")

    def on_save_done(self, message: SaveDone) -> None:
        self.japp.status_end("conditions-save")
        self.saving = False
        after, self.after_save = self.after_save, None
        self.state.saved_as(message.journey_name, message.version)
        self.draft_figures = None
        self._keep_history = True  # the reload that follows keeps it too
        self.notify(f"Saved {clean(message.journey_name)} as version {message.version}; the "
                    "journey was re-evaluated.", markup=False)
        self.reopen(message.journey_name, self.state.t)
        if after is not None:
            after()

    def action_versions(self) -> None:
        if self.state.journey_name is None:
            self.notify("This journey has not been saved yet.", markup=False)
            return
        self._load_versions(self.state.journey_name)

    @work(thread=True, exclusive=True, group=GROUPS["versions"], exit_on_error=False)
    def _load_versions(self, name: str) -> None:
        with self.japp.pool.store() as store:
            history = version_history(store, name)
        self.post_message(VersionsLoaded(
            name, [(v.version, v.saved_at, changes) for v, changes in history]))

    def on_versions_loaded(self, message: VersionsLoaded) -> None:
        flows.versions(self, message.journey_name, message.versions)

    @work(thread=True, exclusive=True, group=GROUPS["save"], exit_on_error=False)
    def restore(self, name: str, version: int, expected: int) -> None:
        with self.japp.pool.store() as store:
            new = restore_version(store, name, version, expected_version=expected)
        self.post_message(SaveDone(name, new))
        self.app.call_from_thread(
            self.notify, f"Restored version {version} of {clean(name)} as version {new}.",
            markup=False)

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
