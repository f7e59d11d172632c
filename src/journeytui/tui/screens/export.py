"""A small dialog that asks where to write a CSV export.

The name is checked before the dialog closes: a refused name is explained under the
field (what is wrong, what to do) and the dialog stays open to correct it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

#: Returns why the typed name cannot be used, or None when it can.
Check = Callable[[str], "str | None"]


class ExportDialog(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
    ]

    def __init__(self, default_path: str, check: Check | None = None) -> None:
        super().__init__()
        self.default_path = default_path
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Label("Export the current list as CSV to:", markup=False)
            yield Input(self.default_path, id="export-path", select_on_focus=False)
            yield Static("", id="export-error", markup=False)
            yield Label("Enter writes the file · Esc cancels", classes="hint", markup=False)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = getattr(self.app, "blink", True)
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_error(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if not typed:
            self.dismiss(None)
            return
        problem = self.check(typed) if self.check is not None else None
        if problem:
            self._show_error(problem)
            return
        self.dismiss(typed)

    def _show_error(self, problem: str | None) -> None:
        error = self.query_one("#export-error", Static)
        error.update(f"✗ {problem}" if problem else "")
        error.display = bool(problem)

    def action_cancel(self) -> None:
        self.dismiss(None)
