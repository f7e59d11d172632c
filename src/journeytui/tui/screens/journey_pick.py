"""A small dialog to pick one of a few names (a journey, a transition, a version)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from journeytui.tui.text import clean


class PickDialog(ModalScreen[str | None]):
    """Choose one of *choices* ((id, label) pairs); dismisses with the id or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pick.cancel"),
    ]

    DEFAULT_CSS = """
    PickDialog { align: center middle; }
    PickDialog > #pick-dialog {
        width: 70; max-width: 95%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    PickDialog OptionList { height: auto; max-height: 16; }
    PickDialog .hint { color: $text-muted; }
    """

    def __init__(
        self, title: str, choices: Sequence[tuple[str, str]], current: str | None = None,
        hint: str = "↑↓ choose · Enter picks · Esc cancels",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-dialog"):
            yield Label(Text(clean(self.title_text), style="bold"))
            yield OptionList(
                *(Option(self._prompt(i, False), id=str(i)) for i in range(len(self.choices))),
                id="pick-options",
            )
            yield Label(Text(self.hint), classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        for i, (ident, _) in enumerate(self.choices):
            if ident == self.current:
                options.highlighted = i
                break
        else:
            if self.choices:
                options.highlighted = 0
        options.focus()

    def _prompt(self, index: int, here: bool) -> Text:
        """An option's line; the highlighted one starts with ▸ (not colour alone)."""
        return Text(("▸ " if here else "  ") + clean(self.choices[index][1]))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        options = event.option_list
        for i in range(len(self.choices)):
            here = i == event.option_index
            if options.get_option_at_index(i).prompt.plain.startswith("▸") != here:  # type: ignore[union-attr]
                options.replace_option_prompt_at_index(i, self._prompt(i, here))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = int(event.option.id or 0)
        self.dismiss(self.choices[index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
