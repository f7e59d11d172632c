"""The condition tree being edited: one line per node, indented, a cursor (``▸``),
and ``✗`` on every node that cannot be used (the reason is shown apart)."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from journeytui.editor.draft import Node, Path, flatten, key_of, node_label
from journeytui.tui.text import clean
from journeytui.tui.widgets.cursor import cursor_style


class ConditionTree(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor(1)", "Next part", show=False, id="list.down"),
        Binding("up,k", "cursor(-1)", "Previous part", show=False, id="list.up"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tree--cursor", "tree--error", "tree--group", "tree--muted",
    }

    DEFAULT_CSS = """
    ConditionTree { height: 1fr; background: $surface; overflow-x: hidden; scrollbar-size-vertical: 1; }
    ConditionTree > .tree--cursor { background: $foreground 8%; }
    ConditionTree:focus > .tree--cursor { background: $block-cursor-background 25%; text-style: bold; }
    ConditionTree > .tree--error { color: $error; text-style: bold; }
    ConditionTree > .tree--group { text-style: bold; }
    ConditionTree > .tree--muted { color: $text-muted; }
    """

    class Moved(Message):
        def __init__(self, tree: ConditionTree, path: Path) -> None:
            super().__init__()
            self.tree = tree
            self.path = path

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.root: Node | None = None
        self.errors: dict[Path, str] = {}
        self.paths: list[Path] = []
        self.cursor = 0
        self._lines: list[Text] = []

    @property
    def path(self) -> Path:
        return self.paths[self.cursor] if 0 <= self.cursor < len(self.paths) else ()

    def show(self, root: Node | None, errors: dict[Path, str], path: Path) -> None:
        self.root = root
        self.errors = errors
        nodes = list(flatten(root))
        self.paths = [p for p, _, _ in nodes]
        self.cursor = self.paths.index(path) if path in self.paths else 0
        self._lines = []
        for i, (p, depth, node) in enumerate(nodes):
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append("▸ " if i == self.cursor else "  ")
            line.append("  " * depth)
            bad = p in errors
            line.append("✗ " if bad else "• ",
                        style=self.get_component_rich_style("tree--error") if bad else "")
            group = key_of(node) in ("all", "any", "not")
            line.append(clean(node_label(node)),
                        style=self.get_component_rich_style("tree--group") if group else "")
            self._lines.append(line)
        if not nodes:
            self._lines.append(Text("  (empty: a adds a part, g a group)",
                                    style=self.get_component_rich_style("tree--muted")))
        self.virtual_size = Size(self.size.width, len(self._lines))
        self._scroll_into_view()
        self.refresh()

    def _scroll_into_view(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = round(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = round(self.scroll_offset.y) + y
        base = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, base)
        style = base
        cursor = None
        if index == self.cursor and self.paths:
            cursor = cursor_style(self, "tree--cursor")
            style = base + cursor
        segments = [
            # on the cursor row the cursor's colours win over the part's own
            Segment(seg.text, (base + seg.style + cursor if cursor else style + seg.style)
                    if seg.style else style)
            for seg in self._lines[index].render(self.app.console) if seg.text != "\n"
        ]
        return Strip(segments).crop_extend(0, width, style)

    def action_cursor(self, delta: int) -> None:
        if not self.paths:
            return
        new = max(0, min(len(self.paths) - 1, self.cursor + delta))
        if new != self.cursor:
            self.cursor = new
            self.show(self.root, self.errors, self.paths[new])
            self.post_message(self.Moved(self, self.path))

    def plain_lines(self) -> list[str]:
        return [t.plain for t in self._lines]
