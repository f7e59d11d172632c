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


def stage_dicts(journey: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(s) for s in journey.get("stages", [])]


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
    StagesDialog > #stages { width: 64; max-width: 95%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1; }
    StagesDialog OptionList { height: auto; max-height: 12; }
    StagesDialog .hint { color: $text-muted; }
    """

    def __init__(self, journey: dict[str, Any]) -> None:
        super().__init__()
        self.journey = {**journey, "stages": stage_dicts(journey),
                        "transitions": [dict(t) for t in journey.get("transitions", [])]}

    def compose(self) -> ComposeResult:
        with Vertical(id="stages"):
            yield Label(Text("Stages, in order (exits are shown beside the main line)",
                             style="bold"))
            yield OptionList(id="stages-list")
            yield Label(Text("a add · r rename · d delete · x exit on/off · [ ] move · "
                             "Esc done"), classes="hint")

    def on_mount(self) -> None:
        self._fill(0)
        self.query_one(OptionList).focus()

    def _fill(self, highlight: int) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        for i, s in enumerate(self.journey["stages"]):
            label = f"{i + 1}. {s['name']}" + ("  (exit)" if s.get("exit") else "")
            options.add_option(Option(Text(clean(label)), id=str(i)))
        if self.journey["stages"]:
            options.highlighted = max(0, min(highlight, len(self.journey["stages"]) - 1))

    @property
    def index(self) -> int:
        return self.query_one(OptionList).highlighted or 0

    def _names(self) -> list[str]:
        return [s["name"] for s in self.journey["stages"]]

    def action_add(self) -> None:
        def added(name: str | None) -> None:
            if not name:
                return
            if name.casefold() in (n.casefold() for n in self._names()):
                self.notify(f"A stage named '{clean(name)}' already exists.", severity="error",
                            markup=False)
                return
            at = self.index + 1 if self.journey["stages"] else 0
            self.journey["stages"].insert(at, {"name": name})
            self._fill(at)

        self.app.push_screen(TextPrompt("New stage name (added after the highlighted one)"),
                             added)

    def action_rename(self) -> None:
        if not self.journey["stages"]:
            return
        i = self.index
        old = self.journey["stages"][i]["name"]

        def renamed(name: str | None) -> None:
            if not name or name == old:
                return
            if name.casefold() in (n.casefold() for j, n in enumerate(self._names()) if j != i):
                self.notify(f"A stage named '{clean(name)}' already exists.", severity="error",
                            markup=False)
                return
            self.journey["stages"][i]["name"] = name
            for t in self.journey["transitions"]:
                if t.get("from") == old:
                    t["from"] = name
                if t.get("to") == old:
                    t["to"] = name
            self._fill(i)

        self.app.push_screen(TextPrompt(f"Rename stage '{old}' to", old), renamed)

    def action_delete(self) -> None:
        if not self.journey["stages"]:
            return
        i = self.index
        name = self.journey["stages"][i]["name"]
        users = [n for n, t in enumerate(self.journey["transitions"], start=1)
                 if name in (t.get("from"), t.get("to"))]
        if users:
            self.notify(
                f"Stage '{clean(name)}' is used by transition"
                f"{'s' if len(users) > 1 else ''} {', '.join(f't{u}' for u in users)}; "
                "delete or change those first.", severity="error", markup=False)
            return
        del self.journey["stages"][i]
        self._fill(i)

    def action_exit(self) -> None:
        if not self.journey["stages"]:
            return
        s = self.journey["stages"][self.index]
        if s.get("exit"):
            s.pop("exit")
        else:
            s["exit"] = True
        self._fill(self.index)

    def action_move(self, delta: int) -> None:
        stages = self.journey["stages"]
        i, j = self.index, self.index + delta
        if 0 <= j < len(stages):
            stages[i], stages[j] = stages[j], stages[i]
            self._fill(j)

    def action_done(self) -> None:
        self.dismiss(self.journey)
