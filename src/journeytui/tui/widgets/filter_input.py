"""A one-line filter field shown by ``/`` above a list; Esc clears and hides it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Clear filter", id="filter.clear"),
        Binding("down", "done", "To the list", show=False, id="filter.done"),
    ]

    DEFAULT_CSS = """
    FilterInput { display: none; }
    FilterInput.-open { display: block; }
    """

    @dataclass
    class Closed(Message):
        field: FilterInput

        @property
        def control(self) -> FilterInput:
            return self.field

    @dataclass
    class Done(Message):
        field: FilterInput

        @property
        def control(self) -> FilterInput:
            return self.field

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id, compact=True)

    def on_mount(self) -> None:
        self.cursor_blink = getattr(self.app, "blink", True)
        self.can_focus = self.is_open  # hidden: never takes the focus (nor typed keys)

    def open(self) -> None:
        self.add_class("-open")
        self.can_focus = True
        self.focus()

    def reveal(self, value: str) -> None:
        """Show the field holding *value* without moving the focus."""
        self.add_class("-open")
        self.can_focus = True
        self.value = value

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def action_close(self) -> None:
        self.value = ""
        self.remove_class("-open")
        self.can_focus = False
        self.post_message(self.Closed(self))

    def action_done(self) -> None:
        self.post_message(self.Done(self))

    async def action_submit(self) -> None:
        self.post_message(self.Done(self))
