"""Small dialogs of the Conditions pane: a line of text, and the stages editor."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from journeytui.editor.stages import StageError, StagesEdit
from journeytui.tui.text import clean


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text (Enter takes it, Esc cancels)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]

    DEFAULT_CSS = """
    TextPrompt { align: center middle; }
    TextPrompt > #prompt { width: 64; max-width: 95%; height: auto; border: round $primary;
        background: $surface; padding: 0 1; }
    TextPrompt .hint { color: $text-muted; }
    """

    def __init__(self, question: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.hint = hint or "Enter takes it · Esc cancels"

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(Text(clean(self.question), style="bold"))
            yield Input(self.value, id="prompt-input", select_on_focus=False)
            yield Label(Text(self.hint), classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


#: The stages dialog edits stages only; the segments a stage feeds are edited elsewhere.
SEGMENTS_HINT = "Segments: edited in the journey file (journeytui journey export, load)"


class StagesDialog(ModalScreen[dict[str, Any] | None]):
    """Add, rename, reorder, delete stages and mark exits, on a copy of the draft
    journey; Enter/Esc returns the changed journey (renames follow into transitions;
    a stage a transition uses cannot be deleted)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add stage", id="stages.add"),
        Binding("r", "rename", "Rename", id="stages.rename"),
        Binding("d,delete", "delete", "Delete", id="stages.delete"),
        Binding("x", "exit", "Exit stage on/off", id="stages.exit"),
        Binding("shift+up,left_square_bracket", "move(-1)", "Move up", key_display="[",
                id="stages.up"),
        Binding("shift+down,right_square_bracket", "move(1)", "Move down", key_display="]",
                id="stages.down"),
        Binding("escape", "done", "Done", id="stages.done"),
    ]

    DEFAULT_CSS = """
    StagesDialog { align: center middle; }
    StagesDialog > #stages { width: 74; max-width: 95%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1; }
    StagesDialog OptionList { height: auto; max-height: 12; }
    StagesDialog .hint { color: $text-muted; }
    """

    def __init__(self, journey: dict[str, Any]) -> None:
        super().__init__()
        self.edit = StagesEdit(journey)  # a copy: the draft changes only when done

    def compose(self) -> ComposeResult:
        with Vertical(id="stages"):
            yield Label(Text("Stages, in order (exits are shown beside the main line)",
                             style="bold"))
            yield OptionList(id="stages-list")
            yield Label(Text("a add · r rename · d delete · x exit on/off · [ ] move · "
                             "Esc done"), classes="hint")
            yield Label(Text(SEGMENTS_HINT), id="stages-segments", classes="hint")

    def on_mount(self) -> None:
        self._fill(0)
        self.query_one(OptionList).focus()

    def _fill(self, highlight: int) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        for i, s in enumerate(self.edit.stages):
            label = f"{i + 1}. {s['name']}" + ("  (exit)" if s.get("exit") else "")
            options.add_option(Option(Text(clean(label)), id=str(i)))
        if self.edit.stages:
            options.highlighted = max(0, min(highlight, len(self.edit.stages) - 1))

    @property
    def index(self) -> int:
        return self.query_one(OptionList).highlighted or 0

    def _refused(self, exc: StageError) -> None:
        self.notify(clean(str(exc)), severity="error", markup=False)

    def action_add(self) -> None:
        def added(name: str | None) -> None:
            if not name:
                return
            try:
                at = self.edit.add(name, self.index)
            except StageError as exc:
                self._refused(exc)
                return
            self._fill(at)

        self.app.push_screen(TextPrompt("New stage name (added after the highlighted one)"),
                             added)

    def action_rename(self) -> None:
        if not self.edit.stages:
            return
        i = self.index
        old = self.edit.stages[i]["name"]

        def renamed(name: str | None) -> None:
            if not name or name == old:
                return
            try:
                self.edit.rename(i, name)
            except StageError as exc:
                self._refused(exc)
                return
            self._fill(i)

        self.app.push_screen(TextPrompt(f"Rename stage '{old}' to", old), renamed)

    def action_delete(self) -> None:
        if not self.edit.stages:
            return
        i = self.index
        try:
            self.edit.delete(i)
        except StageError as exc:
            self._refused(exc)
            return
        self._fill(i)

    def action_exit(self) -> None:
        if self.edit.stages:
            self.edit.toggle_exit(self.index)
            self._fill(self.index)

    def action_move(self, delta: int) -> None:
        self._fill(self.edit.move(self.index, delta))

    def action_done(self) -> None:
        self.dismiss(self.edit.journey)
