"""The Conditions pane's live preview of the draft: the draft's funnel beside the
saved one, recomputed after every edit.

The preview (``journeytui.domain.preview``) runs in a worker thread: first an estimate
from a fixed sample of contacts (shown ``≈ … ±…``), then the exact funnel from a full
replay that replaces it (its progress in the note).  A new edit sets the cancel flag of
the work in flight, which stops between two contacts; every message carries the edit's
generation, so a late answer is never shown.  Typing in a field waits ``preview_delay``
of quiet first; other edits ``edit_delay``.  The sample is read once a journey is
opened, and again only when the store's data or the saved journey changed.

:class:`PreviewMixin` is part of :class:`ConditionsPane`; a failed preview worker is
said by the pane's one worker-error handler.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.message import Message
from textual.timer import Timer
from textual.worker import Worker

from journeytui.domain.engine import high_water
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.preview import (
    SAMPLE_CONTACTS,
    Cancel,
    Estimate,
    PreviewCancelled,
    Sample,
    exact,
)
from journeytui.editor import EditorState
from journeytui.tui.journey_data import DEFAULT_STALL_DAYS, FunnelFigures, from_domain
from journeytui.tui.widgets.condition_preview import ConditionPreview

if TYPE_CHECKING:
    from journeytui.tui.panes.base import Pane

    _PaneBase = Pane
else:
    _PaneBase = object

PREVIEW_DELAY = 0.35  # seconds of quiet typing in a field before the preview starts
EDIT_DELAY = 0.02  # after any other edit (a part added, deleted, undone…)
PROGRESS_EVERY = 0.5  # seconds between two progress notes of the exact replay
PREVIEW_GROUP = "conditions-preview"  # the workers' groups
SAMPLE_GROUP = "conditions-sample"


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



class PreviewMixin(_PaneBase):
    """The preview's part of the Conditions pane: when to compute, the workers, and
    what the preview panel and the status line say."""

    preview_delay: ClassVar[float] = PREVIEW_DELAY  # tests that need no preview raise it
    edit_delay: ClassVar[float] = EDIT_DELAY  # (both)
    sample_size: ClassVar[int] = SAMPLE_CONTACTS  # contacts an estimate replays
    state: EditorState  # the pane's

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.saved_figures: FunnelFigures | None = None
        self.draft_figures: FunnelFigures | None = None  # the draft's exact funnel
        # the draft's estimated funnel, until the exact one is known
        self.draft_estimate: tuple[FunnelFigures, Estimate] | None = None
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

    @work(thread=True, exclusive=True, group=SAMPLE_GROUP, exit_on_error=False)
    def _prepare_sample(self, name: str, version: int) -> None:
        """Read the sample as soon as a journey is opened, so the first edit's estimate
        does not wait for it."""
        with self.japp.pool.store() as store:
            self._sample_for(store, name, version)

    @work(thread=True, exclusive=True, group=PREVIEW_GROUP, exit_on_error=False)
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

