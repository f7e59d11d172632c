"""The footer: the keys of the focused pane and the palette, as one line of text.

Textual's ``Footer`` mounts a widget per key and recomposes on every focus change;
it cost about 50 ms of the first paint here.  This bar draws the same information
(the shown, active bindings — after the user's keymap — and the palette key) as a
single ``Text`` and redraws when the screen's bindings change.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import RenderResult
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    KeyBar > .key-bar--disabled {
        color: $text-disabled;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--disabled"}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def render(self) -> RenderResult:
        """The focused pane's keys, then ``? Help`` and the palette key, which always
        show: when the line is too narrow, whole keys drop from the end of the pane's
        keys (and ``…`` says so), never help or the palette."""
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        off_style = self.get_component_rich_style("key-bar--disabled", partial=True)
        seen: set[str] = set()
        palette = None
        entries: list[Text] = []
        pinned: list[Text] = []
        active = self.screen.active_bindings
        for key, (_node, binding, enabled, _tooltip) in active.items():
            if key == self.app.COMMAND_PALETTE_BINDING:
                palette = binding
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            entry = Text.assemble(
                (f" {self.app.get_key_display(binding)} ", key_style),
                (binding.description + " ", "" if enabled else off_style),
            )
            (pinned if binding.id in PINNED else entries).append(entry)
        tail = Text(no_wrap=True, end="")
        for entry in pinned:
            tail.append_text(entry)
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            tail.append_text(Text.assemble(
                (f" {self.app.get_key_display(palette)} ", key_style), "palette "
            ))
        room = self.size.width - tail.cell_len
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for i, entry in enumerate(entries):
            last = i == len(entries) - 1
            if line.cell_len + entry.cell_len > room - (0 if last else 2):
                line.append(" …")
                break
            line.append_text(entry)
        line.truncate(max(0, room), overflow="ellipsis")
        line.append(" " * max(0, room - line.cell_len))
        line.append_text(tail)
        return line


#: Binding ids whose key always shows (at the right, beside the palette key).
PINNED = frozenset({"help"})
