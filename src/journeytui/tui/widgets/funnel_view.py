"""The funnel drawn as text: one block per stage, top to bottom, with a bar scaled to
*reached* and every figure written out in words (so it reads in 16 colours and
with ``NO_COLOR``), the transitions between the stages, and the exit stages below
the main line.  A cursor moves over stages and transitions (↑/↓); the highlighted
one is marked with ``▸`` as well as by colour.

A Line-API ``ScrollView``: the lines are built once per change (figures, cursor,
width) and ``render_line`` only slices them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from journeytui.tui import fmt
from journeytui.tui.journey_data import NO_EMAIL, FunnelFigures, StageRow, TransitionRow
from journeytui.tui.text import clean
from journeytui.tui.widgets.cursor import cursor_style

BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int) -> str:
    """A bar of *width* cells filled to *fraction* (eighth-cell precision)."""
    fraction = max(0.0, min(1.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (BLOCKS[part] if part else "")
    return text + " " * (width - cell_len(text))


def days(value: float | None) -> str:
    return fmt.DASH if value is None else f"{fmt.days(value)} d"


@dataclass(frozen=True)
class Item:
    kind: str  # "stage" | "transition"
    stage: StageRow | None = None
    transition: TransitionRow | None = None

    @property
    def key(self) -> str:
        if self.stage is not None:
            return f"stage:{self.stage.name}"
        assert self.transition is not None
        return f"transition:{self.transition.number}"


def items_of(f: FunnelFigures) -> list[Item]:
    """Stages in order, each followed by the transitions out of it (a transition from
    any stage into a main-line stage — the goal, say — comes just before that stage: it
    is main line); then the transitions from any stage into an exit, and the exit stages
    with theirs."""
    out: list[Item] = []
    main = {s.name for s in f.main}
    for s in f.main:
        out.extend(Item("transition", transition=t) for t in f.transitions
                   if t.source is None and t.target == s.name)
        out.append(Item("stage", stage=s))
        out.extend(Item("transition", transition=t) for t in f.transitions if t.source == s.name)
    out.extend(Item("transition", transition=t) for t in f.transitions
               if t.source is None and t.target not in main)
    for s in f.exits:
        out.append(Item("stage", stage=s))
        out.extend(Item("transition", transition=t) for t in f.transitions if t.source == s.name)
    return out


def pack(parts: list[str], width: int, indent: int) -> list[str]:
    """*parts* joined by `` · `` into lines of at most *width* cells."""
    lines: list[str] = []
    line = ""
    for part in parts:
        candidate = part if not line else f"{line} · {part}"
        if line and indent + cell_len(candidate) > width:
            lines.append(line)
            line = part
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


class FunnelView(ScrollView, can_focus=True):
    """The funnel of one journey, as text with bars; a cursor over stages/transitions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor(1)", "Next stage/transition", show=False, id="funnel.down"),
        Binding("up,k", "cursor(-1)", "Previous stage/transition", show=False, id="funnel.up"),
        Binding("home,g", "first", "First stage", show=False, id="funnel.first"),
        Binding("end,G", "last", "Last item", show=False, id="funnel.last"),
        Binding("enter", "select", "Open list", id="funnel.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "funnel--title", "funnel--muted", "funnel--cursor", "funnel--exit",
        "funnel--transition", "funnel--heading",
        *(f"funnel--stage-{i}" for i in range(1, 7)),
    }

    DEFAULT_CSS = """
    FunnelView {
        height: 1fr; background: $surface; scrollbar-size-vertical: 1; overflow-x: hidden;
        scrollbar-gutter: stable;  /* lines wrap to the width: a scrollbar that came and
                                      went would change it, and re-layout for ever */
    }
    FunnelView > .funnel--title { text-style: bold; }
    FunnelView > .funnel--heading { text-style: bold underline; }
    FunnelView > .funnel--muted { color: $text-muted; }
    FunnelView > .funnel--transition { color: $text-muted; }
    FunnelView > .funnel--cursor { background: $foreground 8%; }
    FunnelView:focus > .funnel--cursor { background: $block-cursor-background 25%; text-style: bold; }
    FunnelView > .funnel--exit { color: $stage-exit; }
    FunnelView > .funnel--stage-1 { color: $stage-1; }
    FunnelView > .funnel--stage-2 { color: $stage-2; }
    FunnelView > .funnel--stage-3 { color: $stage-3; }
    FunnelView > .funnel--stage-4 { color: $stage-4; }
    FunnelView > .funnel--stage-5 { color: $stage-5; }
    FunnelView > .funnel--stage-6 { color: $stage-6; }
    """

    cursor: reactive[int] = reactive(0, init=False)

    @dataclass
    class Highlighted(Message):
        view: FunnelView
        item: Item

        @property
        def control(self) -> FunnelView:
            return self.view

    @dataclass
    class Selected(Message):
        view: FunnelView
        item: Item

        @property
        def control(self) -> FunnelView:
            return self.view

    def __init__(self, *, empty_text: str = "No journey.", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.figures: FunnelFigures | None = None
        self.items: list[Item] = []
        self.empty_text = empty_text
        self._lines: list[tuple[Text, int]] = []  # (line, item index or -1)
        self._built_for: tuple[int, int] | None = None

    # -- data ------------------------------------------------------------------------
    def show(self, figures: FunnelFigures | None, *, empty_text: str | None = None) -> None:
        """Show *figures*, keeping the cursor on the same stage/transition if it is there."""
        key = self.current_item.key if self.current_item is not None else None
        self.figures = figures
        if empty_text is not None:
            self.empty_text = empty_text
        self.items = items_of(figures) if figures is not None else []
        index = next((i for i, it in enumerate(self.items) if it.key == key), 0)
        self.set_reactive(FunnelView.cursor, min(index, max(0, len(self.items) - 1)))
        self._rebuild()
        if self.current_item is not None:
            self.post_message(self.Highlighted(self, self.current_item))

    @property
    def current_item(self) -> Item | None:
        return self.items[self.cursor] if 0 <= self.cursor < len(self.items) else None

    def select_key(self, key: str) -> None:
        for i, it in enumerate(self.items):
            if it.key == key:
                self.cursor = i
                return

    # -- lines -----------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _rebuild(self) -> None:
        width = max(20, self.scrollable_content_region.width or self.size.width or 80)
        self._lines = self._build(width)
        self._built_for = (width, self.cursor)
        self.virtual_size = Size(width, len(self._lines))
        self._scroll_cursor_into_view()
        self.refresh()

    def _build(self, width: int) -> list[tuple[Text, int]]:
        f = self.figures
        muted = self._style("funnel--muted")
        if f is None or not self.items:
            return [(Text(clean(self.empty_text), style=muted), -1)]
        lines: list[tuple[Text, int]] = []
        top = max((s.reached for s in f.stages), default=0) or 1
        name_w = min(16, max(cell_len(clean(s.name)) for s in f.stages))
        figures_w = max(cell_len(self._figures(s)) for s in f.stages)
        bar_w = max(6, width - (4 + name_w + 1) - 1 - figures_w - 1)
        exits_started = False
        main = {s.name for s in f.main}
        for index, item in enumerate(self.items):
            exit_part = (item.stage is not None and item.stage.exit) or (
                item.transition is not None and item.transition.source is None
                and item.transition.target not in main)
            if exit_part and not exits_started:
                exits_started = True
                lines.append((Text(""), -1))
                lines.append((Text("Exit stages (beside the main line)",
                                   style=self._style("funnel--heading")), -1))
            here = index == self.cursor
            marker = "▸ " if here else "  "
            if item.stage is not None:
                for text in self._stage_lines(item.stage, marker, name_w, bar_w, top, width):
                    lines.append((text, index))
            else:
                assert item.transition is not None
                lines.append((self._transition_line(item.transition, marker), index))
        return lines

    def _stage_lines(
        self, s: StageRow, marker: str, name_w: int, bar_w: int, top: int, width: int
    ) -> list[Text]:
        colour = (self._style("funnel--exit") if s.exit
                  else self._style(f"funnel--stage-{(s.number - 1) % 6 + 1}"))
        title = self._style("funnel--title")
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(marker)
        head.append("↳ " if s.exit else f"{s.number} ", style=title)
        name = clean(s.name)
        if cell_len(name) > name_w:
            name = name[: name_w - 1] + "…"
        head.append(name + " " * (name_w - cell_len(name)) + " ", style=title)
        head.append(bar(s.reached / top, bar_w), style=colour)
        head.append(" " + self._figures(s))
        parts: list[str] = []
        if not s.exit:
            if s.drop_off is not None:
                parts.append(f"next {fmt.pct(s.next_rate)}")
            parts.append(f"of entered {fmt.pct(s.cumulative)}")
            if s.drop_off is not None:
                parts.append(f"drop-off {fmt.num(s.drop_off)}")
                parts.append(f"median {days(s.median_days)} to next")
            else:
                parts.append("the goal")
        out = [head]
        indent = 4
        for line in pack(parts, width, indent):
            out.append(Text(" " * indent + line, no_wrap=True, overflow="ellipsis"))
        return out

    @staticmethod
    def _figures(s: StageRow) -> str:
        text = f"{fmt.num(s.reached)} reached · {fmt.num(s.current)} now"
        if s.stalled is not None:
            text += f" · {fmt.num(s.stalled)} stalled"
        return text

    def _transition_line(self, t: TransitionRow, marker: str) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis", style=self._style("funnel--transition"))
        text.append(marker + "   ")
        text.append("↘ " if t.source is None else "↓ ")
        text.append(f"t{t.number} {clean(t.label)}: {fmt.num(t.moved)} moved")
        emails = [(e, n) for e, n in t.emails if e != NO_EMAIL]
        if emails:
            top_email, n = emails[0]
            text.append(f" · most by {clean(top_email)} ({fmt.num(n)})")
        return text

    # -- rendering -------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self._built_for is None or self._built_for[0] != max(20, width):
            self._lines = self._build(max(20, width))
            self._built_for = (max(20, width), self.cursor)
            self.virtual_size = Size(width, len(self._lines))
        index = round(self.scroll_offset.y) + y
        base = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, base)
        text, item = self._lines[index]
        style = base
        cursor = None
        if item >= 0 and item == self.cursor:
            cursor = cursor_style(self, "funnel--cursor")
            style = base + cursor
        segments = [
            # on the cursor row the cursor's colours win (the 16-colour theme names both)
            Segment(seg.text, (base + seg.style + cursor if cursor else style + seg.style)
                    if seg.style else style)
            for seg in text.render(self.app.console)
            if seg.text != "\n"
        ]
        return Strip(segments).crop_extend(0, width, style)

    def on_resize(self) -> None:
        width = max(20, self.scrollable_content_region.width or self.size.width or 80)
        if self._built_for is not None and self._built_for[0] == width:
            self._scroll_cursor_into_view()  # the lines are built for this width already
            return
        self._rebuild()

    def _scroll_cursor_into_view(self) -> None:
        rows = [i for i, (_, item) in enumerate(self._lines) if item == self.cursor]
        if not rows:
            return
        first, last = rows[0], rows[-1]
        height = max(1, self.scrollable_content_region.height)
        top = round(self.scroll_offset.y)
        if self.cursor == 0:
            self.scroll_to(y=0, animate=False)
        elif first < top:
            self.scroll_to(y=first, animate=False)
        elif last >= top + height:
            self.scroll_to(y=min(first, last - height + 1), animate=False)

    # -- cursor ----------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        self._rebuild()
        item = self.current_item
        if item is not None:
            self.post_message(self.Highlighted(self, item))

    def action_cursor(self, delta: int) -> None:
        if self.items:
            self.cursor = max(0, min(len(self.items) - 1, self.cursor + delta))

    def action_first(self) -> None:
        if self.items:
            self.cursor = 0

    def action_last(self) -> None:
        if self.items:
            self.cursor = len(self.items) - 1

    def action_select(self) -> None:
        item = self.current_item
        if item is not None:
            self.post_message(self.Selected(self, item))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", 0) + round(self.scroll_offset.y)
        if 0 <= y < len(self._lines) and self._lines[y][1] >= 0:
            self.cursor = self._lines[y][1]

    def plain_lines(self) -> list[str]:
        """The lines as plain text (tests read them)."""
        return [text.plain for text, _ in self._lines]
