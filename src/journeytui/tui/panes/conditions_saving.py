"""Saving the Conditions pane's draft, and its versions.

A save validates the draft, then ``save_journey(expected_version=…)`` keeps a new
version and re-evaluates the journey in a worker, its progress on the status line; a
save over someone else's newer version is refused (:class:`ConflictError`) and the
pane's worker-error handler lets the user choose what to do.  Restoring an earlier
version saves it again as the newest.

:class:`SavingMixin` is part of :class:`ConditionsPane`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from textual import work
from textual.message import Message

from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import restore_version, save_journey, version_history
from journeytui.editor import EditorState
from journeytui.tui.journey_data import FunnelFigures
from journeytui.tui.panes import conditions_flows as flows
from journeytui.tui.text import clean

if TYPE_CHECKING:
    from journeytui.tui.panes.base import Pane
    from journeytui.tui.panes.conditions import ConditionsPane

    _PaneBase = Pane
else:
    _PaneBase = object

SAVE_GROUP = "conditions-save"  # the workers' groups
VERSIONS_GROUP = "conditions-versions"


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



class SavingMixin(_PaneBase):
    """The saving part of the Conditions pane: save, its progress, versions, restore."""

    state: EditorState  # the pane's
    draft_figures: FunnelFigures | None  # the preview's

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.saving = False
        self.after_save: Callable[[], Any] | None = None  # once a save asked on leaving is done
        self._keep_history = False  # the next JourneyOpened follows our own save

    if TYPE_CHECKING:
        def reopen(self, name: str, transition: int | None) -> None: ...

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

    @work(thread=True, exclusive=True, group=SAVE_GROUP, exit_on_error=False)
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

    @work(thread=True, exclusive=True, group=VERSIONS_GROUP, exit_on_error=False)
    def _load_versions(self, name: str) -> None:
        with self.japp.pool.store() as store:
            history = version_history(store, name)
        self.post_message(VersionsLoaded(
            name, [(v.version, v.saved_at, changes) for v, changes in history]))

    def on_versions_loaded(self, message: VersionsLoaded) -> None:
        flows.versions(cast("ConditionsPane", self), message.journey_name, message.versions)

    @work(thread=True, exclusive=True, group=SAVE_GROUP, exit_on_error=False)
    def restore(self, name: str, version: int, expected: int) -> None:
        with self.japp.pool.store() as store:
            new = restore_version(store, name, version, expected_version=expected)
        self.post_message(SaveDone(name, new))
        self.app.call_from_thread(
            self.notify, f"Restored version {version} of {clean(name)} as version {new}.",
            markup=False)

