"""The help screen: every key of the current pane, then the keys that work everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Static

from journeytui.tui._textual_private import bindings_of, keymap_of

if TYPE_CHECKING:
    from journeytui.tui.panes.base import Pane


def node_bindings(node: DOMNode) -> list[Binding]:
    """The bindings of *node* as the keymap left them (one per action)."""
    seen: dict[str, Binding] = {}
    bindings_map = bindings_of(node).copy()
    keymap = keymap_of(node.app)
    if keymap:
        bindings_map.apply_keymap(keymap)  # as Textual does when it checks the keys
    for key, bindings in bindings_map.key_to_bindings.items():
        for binding in bindings:
            ident = binding.id or binding.action
            if ident in seen:
                prev = seen[ident]
                if key not in prev.key.split(","):
                    seen[ident] = Binding(
                        f"{prev.key},{key}", prev.action, prev.description, prev.show,
                        prev.key_display, id=prev.id,
                    )
            else:
                seen[ident] = Binding(
                    key, binding.action, binding.description, binding.show,
                    binding.key_display, id=binding.id,
                )
    return list(seen.values())


def help_rows(pane: Pane) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Sections of (keys, what it does, binding id) for *pane*."""
    app = pane.app
    sections: list[tuple[str, list[tuple[str, str, str]]]] = []

    def rows_of(nodes: list[DOMNode]) -> list[tuple[str, str, str]]:
        # Only the app's own keys (they all have an id); a widget's built-in editing
        # keys (an input's cursor keys…) are left to the widget.
        rows: list[tuple[str, str, str]] = []
        done: set[str] = set()
        for node in nodes:
            for binding in node_bindings(node):
                ident = binding.id or ""
                if not ident or ident in done or not binding.description:
                    continue
                done.add(ident)
                keys = ", ".join(
                    app.get_key_display(Binding(k, "")) for k in binding.key.split(",")
                )
                rows.append((keys, binding.description, binding.id or ""))
        return rows

    shown = [node for node in pane.query("*") if node.display]
    pane_nodes: list[DOMNode] = [pane, *shown]
    own = rows_of(pane_nodes) + [(k, d, "") for k, d in pane.help_extra()]
    sections.append((f"{pane.TITLE} pane", own))
    everywhere = rows_of([pane.screen, app])
    palette = app.get_key_display(Binding(app.COMMAND_PALETTE_BINDING, ""))
    everywhere.append((palette, "command palette: emails, contacts, panes, themes, export", ""))
    sections.append(("Everywhere", everywhere))
    return sections


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close help", id="help.close"),
        Binding("down,j", "scroll(1)", "Scroll down", show=False, id="list.down"),
        Binding("up,k", "scroll(-1)", "Scroll up", show=False, id="list.up"),
    ]

    def __init__(self, pane: Pane) -> None:
        super().__init__()
        self.pane = pane

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(self._render_help(), id="help-text")

    def _render_help(self) -> Group:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="bold", no_wrap=True)
        table.add_column()
        table.add_column(style="dim")
        pane = self.pane
        head = Text(f"Help — {pane.TITLE}", style="bold underline")
        summary = Text(pane.SUMMARY)
        for title, rows in help_rows(pane):
            table.add_row("", "", "")
            table.add_row(Text(title, style="bold"), "", "")
            for keys, description, ident in rows:
                table.add_row(Text(keys), Text(description), Text(ident))
        table.add_row("", "", "")
        table.add_row("", Text("Keys can be rebound in keymap.toml by the id on the right."), "")
        table.add_row(Text("Esc"), Text("close this help"), "")
        return Group(head, summary, table)

    def action_scroll(self, delta: int) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_relative(y=delta, animate=False)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
