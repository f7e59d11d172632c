"""A table of any length that renders only what is visible.

:class:`PagedTable` is a Line-API ``ScrollView``: ``render_line`` reads rows from a
page cache; missing pages are fetched in a worker thread by keyset queries (each
page starts after the key of the previous page's last row), so the event loop
never waits on SQLite and a 1M-row list costs what its visible lines cost.

The rows come from a :class:`RowSource`; :class:`ListSource` wraps an in-memory
list (search results, a few thousand rows at most).  A source that can also page
*backwards* (:class:`ReverseSource`: the rows before a key, or the last rows when the
key is None) makes every jump constant-time: End reads the last page directly, and
PgUp from there reads the page before it — never every page from the top.  Only
:data:`MAX_PAGES` pages are kept, those nearest the cursor, so memory stays flat
however far the user scrolls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from journeytui.store import Store
from journeytui.tui.text import clean

PAGE_SIZE = 200
MAX_PAGES = 12  # pages kept in memory (the ones nearest the cursor)


@dataclass(frozen=True)
class Column:
    title: str
    width: int | None = None  # None: share the remaining width
    justify: str = "left"  # "left" | "right"
    min_width: int = 8
    ratio: int = 1  # flexible columns share the room in proportion to this


@dataclass(frozen=True)
class Row:
    key: Any  # keyset key of this row (opaque to the table)
    cells: tuple[str, ...]
    payload: Any = None
    dim: bool = False  # e.g. a suspected bot click


class RowSource(Protocol):
    """Where a table's rows come from; both methods run in a worker thread."""

    def count(self, store: Store) -> int: ...

    def page(self, store: Store, after: Any | None, limit: int) -> list[Row]: ...


@runtime_checkable
class ReverseSource(RowSource, Protocol):
    """A source that can also read backwards by keyset."""

    def page_before(self, store: Store, before: Any | None, limit: int) -> list[Row]:
        """The *limit* rows just before the row keyed *before* (the last rows when it
        is None), in the table's order."""
        ...


@dataclass
class ListSource:
    """Rows already in memory (keys are positions)."""

    rows: list[Row] = field(default_factory=list)

    def count(self, store: Store) -> int:
        return len(self.rows)

    def page(self, store: Store, after: Any | None, limit: int) -> list[Row]:
        start = 0 if after is None else int(after) + 1
        return [
            Row(i, r.cells, r.payload, r.dim)
            for i, r in enumerate(self.rows[start : start + limit], start)
        ]

    def page_before(self, store: Store, before: Any | None, limit: int) -> list[Row]:
        end = len(self.rows) if before is None else int(before)
        start = max(0, end - limit)
        return [
            Row(i, r.cells, r.payload, r.dim)
            for i, r in enumerate(self.rows[start:end], start)
        ]


@dataclass
class FuncSource:
    """A source from functions of the store (for keyset-paged domain queries); with
    *before_fn* it pages backwards too (see :class:`ReverseSource`)."""

    count_fn: Callable[[Store], int]
    page_fn: Callable[[Store, Any | None, int], list[Row]]
    before_fn: Callable[[Store, Any | None, int], list[Row]] | None = None

    def count(self, store: Store) -> int:
        return self.count_fn(store)

    def page(self, store: Store, after: Any | None, limit: int) -> list[Row]:
        return self.page_fn(store, after, limit)

    def page_before(self, store: Store, before: Any | None, limit: int) -> list[Row]:
        if self.before_fn is None:
            raise NotImplementedError("this source pages forwards only")
        return self.before_fn(store, before, limit)


def can_page_backwards(source: RowSource | None) -> bool:
    if isinstance(source, FuncSource):
        return source.before_fn is not None
    return isinstance(source, ReverseSource)


@dataclass(frozen=True)
class _Plan:
    """One fetch: pages *first*, *first*±1, … up to *last*, walking by keyset."""

    first: int
    last: int
    key: Any  # after (forwards) or before (backwards) this key; None: from an end
    backwards: bool
    first_limit: int | None = None  # None: a whole page


class PagedTable(ScrollView, can_focus=True):
    """A keyboard-driven table whose rows are paged in from the store on demand."""

    INHERIT_BINDINGS = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor(1)", "Next row", show=False, id="list.down"),
        Binding("up,k", "cursor(-1)", "Previous row", show=False, id="list.up"),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False, id="list.page-down"),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False, id="list.page-up"),
        Binding("home,g", "home", "First row", show=False, id="list.first"),
        Binding("end,G", "end", "Last row", show=False, id="list.last"),
        Binding("enter", "select", "Open", id="list.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "paged-table--header",
        "paged-table--cursor",
        "paged-table--loading",
        "paged-table--dim",
    }

    DEFAULT_CSS = """
    PagedTable {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    PagedTable > .paged-table--header { text-style: bold; background: $panel; color: $foreground; }
    PagedTable > .paged-table--cursor { background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground; }
    PagedTable:focus > .paged-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
    PagedTable > .paged-table--loading { color: $text-muted; }
    PagedTable > .paged-table--dim { color: $text-muted; }
    """

    cursor_row: reactive[int] = reactive(0, init=False)

    @dataclass
    class Highlighted(Message):
        table: PagedTable
        row: Row

        @property
        def control(self) -> PagedTable:
            return self.table

    @dataclass
    class Selected(Message):
        table: PagedTable
        row: Row

        @property
        def control(self) -> PagedTable:
            return self.table

    @dataclass
    class Counted(Message):
        """The number of rows is known (posted from the worker)."""
        table: PagedTable
        generation: int
        count: int

        @property
        def control(self) -> PagedTable:
            return self.table

    @dataclass
    class PageLoaded(Message):
        table: PagedTable
        generation: int
        page: int
        rows: list[Row]
        final: bool  # the last page this fetch will post

        @property
        def control(self) -> PagedTable:
            return self.table

    @dataclass
    class LoadFailed(Message):
        table: PagedTable
        generation: int
        error: str

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        empty_text: str = "Nothing to show",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.empty_text = empty_text
        self.source: RowSource | None = None
        self.row_count: int | None = 0  # None: not counted yet
        self._pages: dict[int, list[Row]] = {}
        self._generation = 0
        self._wanted_page = 0
        self._loading = False
        self._error: str | None = None
        self._fetch_worker: Worker[None] | None = None
        self._fetch_generation = 0
        self._highlight_sent: Any = object()

    # -- public API ------------------------------------------------------------------
    def set_source(self, source: RowSource | None, *, empty_text: str | None = None) -> None:
        """Show the rows of *source* (fetched in the background) from the top."""
        self._generation += 1
        self.source = source
        if empty_text is not None:
            self.empty_text = empty_text
        self._pages.clear()
        self._error = None
        self._loading = False
        self.row_count = None if source is not None else 0
        self._wanted_page = 0
        self.set_reactive(PagedTable.cursor_row, 0)
        self._highlight_sent = object()
        self.scroll_to(0, 0, animate=False)
        self._update_virtual_size()
        self.refresh()
        if source is not None:
            self._request(0)

    @property
    def loading_rows(self) -> bool:
        return self.source is not None and (self.row_count is None or self._loading)

    @property
    def current_row(self) -> Row | None:
        return self.row_at(self.cursor_row)

    def row_at(self, index: int) -> Row | None:
        page = self._pages.get(index // PAGE_SIZE)
        if page is None:
            return None
        offset = index % PAGE_SIZE
        return page[offset] if offset < len(page) else None

    def cached_rows(self) -> list[Row]:
        """The rows fetched so far, in order (for tests and small exports)."""
        out: list[Row] = []
        for number in sorted(self._pages):
            out.extend(self._pages[number])
        return out

    # -- loading ---------------------------------------------------------------------
    def _last_page(self) -> int | None:
        if self.row_count is None:
            return None
        return max(0, (self.row_count - 1) // PAGE_SIZE)

    def _plan(self, page: int) -> _Plan | None:
        """How to fetch *page*: from a cached neighbour by keyset, or from an end."""
        pages = self._pages
        last = self._last_page()
        backwards_ok = can_page_backwards(self.source)
        if last is not None:
            page = min(page, last)
        if page in pages:
            return None
        if page == 0:
            return _Plan(0, 0, None, backwards=False)
        below = pages.get(page - 1)
        if below:
            if len(below) < PAGE_SIZE:
                return None  # a short page: nothing follows it
            return _Plan(page, page, below[-1].key, backwards=False)
        above = pages.get(page + 1)
        if above and backwards_ok:
            return _Plan(page, page, above[0].key, backwards=True)
        if backwards_ok and last is not None and self.row_count:
            # walk down from the nearest cached page above, or from the very end
            start = next((p for p in range(page + 1, last + 1) if p in pages), None)
            if start is not None and pages[start]:
                return _Plan(start - 1, page, pages[start][0].key, backwards=True)
            return _Plan(last, page, None, backwards=True,
                         first_limit=self.row_count - last * PAGE_SIZE)
        # forwards only: walk up from the nearest cached page below, or from the top
        start = next((p for p in range(page - 1, -1, -1) if p in pages), None)
        if start is None:
            return _Plan(0, page, None, backwards=False)
        if len(pages[start]) < PAGE_SIZE or not pages[start]:
            return None
        return _Plan(start + 1, page, pages[start][-1].key, backwards=False)

    def _request(self, page: int) -> None:
        if self.source is None:
            return
        last = self._last_page()
        if last is not None:
            page = min(page, last)
        self._wanted_page = page
        if self._loading:
            return
        plan = self._plan(page)
        if plan is None:
            return
        self._loading = True
        self._fetch_generation = self._generation
        self._fetch_worker = self._fetch(self._generation, self.source, plan,
                                         self.row_count is None)

    @work(thread=True, exit_on_error=False, group="paged-table")
    def _fetch(self, generation: int, source: RowSource, plan: _Plan, count: bool) -> None:
        pool = self.app.pool  # type: ignore[attr-defined]
        step = -1 if plan.backwards else 1
        with pool.store() as store:
            if count:
                self.post_message(self.Counted(self, generation, source.count(store)))
            page, key = plan.first, plan.key
            limit = plan.first_limit or PAGE_SIZE
            while True:
                if generation != self._generation:
                    return
                if plan.backwards:
                    rows = source.page_before(store, key, limit)  # type: ignore[attr-defined]
                    final = page == plan.last or page == 0 or not rows
                else:
                    rows = source.page(store, key, limit)
                    final = page == plan.last or len(rows) < PAGE_SIZE
                self.post_message(self.PageLoaded(self, generation, page, rows, final))
                if final:
                    break
                key = rows[0].key if plan.backwards else rows[-1].key
                page += step
                limit = PAGE_SIZE

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A fetch raised: the table says why in place of its rows (the app's one
        wording of a failure), and the app says it once."""
        if event.state != WorkerState.ERROR or event.worker is not self._fetch_worker:
            return
        error = event.worker.error
        failure_text = getattr(self.app, "failure_text", None)
        said = failure_text(error) if failure_text else f"{type(error).__name__}: {error}"
        self.post_message(self.LoadFailed(self, self._fetch_generation, said))

    def _evict(self) -> None:
        """Keep the :data:`MAX_PAGES` pages nearest the cursor (and the screen)."""
        if len(self._pages) <= MAX_PAGES:
            return
        here = self.cursor_row // PAGE_SIZE
        top = round(self.scroll_offset.y) // PAGE_SIZE
        keep = {here, top, top + 1, self._wanted_page}
        for page in sorted(self._pages, key=lambda p: -abs(p - here)):
            if len(self._pages) <= MAX_PAGES:
                break
            if page not in keep:
                del self._pages[page]

    @property
    def cached_page_numbers(self) -> list[int]:
        """The pages held in memory now (for tests)."""
        return sorted(self._pages)

    def on_paged_table_counted(self, message: Counted) -> None:
        if message.table is not self:
            return
        if message.generation != self._generation:
            message.stop()  # a count for rows no longer shown: the pane never hears of it
            return
        self.row_count = message.count
        self._update_virtual_size()
        self.refresh()
        if message.count == 0:
            self._loading = False

    def on_paged_table_page_loaded(self, message: PageLoaded) -> None:
        if message.table is not self:
            return
        if message.generation != self._generation:
            message.stop()
            return
        self._pages[message.page] = message.rows
        self._evict()
        if len(message.rows) < PAGE_SIZE and not (
            message.page > 0 and message.page == self._last_page()
        ):
            # The count may have moved since it was taken: trust the pages.
            total = message.page * PAGE_SIZE + len(message.rows)
            if self.row_count is None or self.row_count != total:
                self.row_count = total
                self._update_virtual_size()
        if message.final:
            self._loading = False
        self.refresh()
        self._clamp_cursor()
        self._post_highlight()
        if not self._loading:
            self._request(self._wanted_page)

    def on_paged_table_load_failed(self, message: LoadFailed) -> None:
        if message.table is not self or message.generation != self._generation:
            return
        self._loading = False
        self._error = message.error
        self.row_count = self.row_count or 0
        self.refresh()
        say_failure = getattr(self.app, "say_failure", None)
        if say_failure is not None:
            say_failure("rows", message.error)
        else:
            self.notify(f"Could not load rows: {message.error}", severity="error", markup=False)

    # -- geometry --------------------------------------------------------------------
    def _update_virtual_size(self) -> None:
        rows = self.row_count or 0
        self.virtual_size = Size(self.size.width, rows + 1)  # + the header line

    def on_resize(self) -> None:
        self._update_virtual_size()

    @property
    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _widths(self, total: int) -> list[int]:
        gaps = len(self.columns) - 1
        fixed = sum(c.width or 0 for c in self.columns)
        flex = [c for c in self.columns if c.width is None]
        room = max(0, total - fixed - gaps)
        parts = sum(c.ratio for c in flex) or 1
        widths: list[int] = []
        given = 0
        seen = 0
        for column in self.columns:
            if column.width is not None:
                widths.append(column.width)
                continue
            seen += 1
            if seen == len(flex):  # the last flexible column takes what is left
                w = max(column.min_width, room - given)
            else:
                w = max(column.min_width, room * column.ratio // parts)
                given += w
            widths.append(w)
        return widths

    # -- rendering -------------------------------------------------------------------
    def _line(self, cells: Sequence[str], widths: list[int], style: Style) -> list[Segment]:
        segments: list[Segment] = []
        for i, (column, width) in enumerate(zip(self.columns, widths, strict=False)):
            text = clean(cells[i]) if i < len(cells) else ""
            if cell_len(text) > width:
                text = set_cell_size(text, max(0, width - 1)) + "…" if width else ""
            elif column.justify == "right":
                text = " " * (width - cell_len(text)) + text
            else:
                text = set_cell_size(text, width)
            if i:
                segments.append(Segment(" ", style))
            segments.append(Segment(text, style))
        return segments

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        widths = self._widths(width)
        if y == 0:
            style = base + self.get_component_rich_style("paged-table--header")
            strip = Strip(self._line([c.title for c in self.columns], widths, style))
            return strip.adjust_cell_length(width, style)
        scroll_y = round(self.scroll_offset.y)
        index = scroll_y + y - 1
        if self.row_count is not None and index >= self.row_count:
            if index == 0:
                muted = base + self.get_component_rich_style("paged-table--loading")
                text = self._error or self.empty_text
                return Strip([Segment(set_cell_size(clean(text), width), muted)])
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            muted = base + self.get_component_rich_style("paged-table--loading")
            self.call_later(self._request, index // PAGE_SIZE)
            return Strip([Segment(set_cell_size("  loading…", width), muted)])
        style = base
        if row.dim:
            style = style + self.get_component_rich_style("paged-table--dim")
        if index == self.cursor_row:
            style = style + self.get_component_rich_style("paged-table--cursor")
        return Strip(self._line(row.cells, widths, style)).adjust_cell_length(width, style)

    # -- cursor ----------------------------------------------------------------------
    def _clamp_cursor(self) -> None:
        count = self.row_count or 0
        if count and self.cursor_row >= count:
            self.cursor_row = count - 1

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        self._post_highlight()

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_offset.y)
        height = self._body_height
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)

    def _post_highlight(self) -> None:
        row = self.current_row
        if row is None:
            if self.row_count is not None and self.row_count > 0:
                self._request(self.cursor_row // PAGE_SIZE)
            return
        if row.key == self._highlight_sent:
            return
        self._highlight_sent = row.key
        self.post_message(self.Highlighted(self, row))

    def move_cursor(self, row: int) -> None:
        count = self.row_count or 0
        if count == 0:
            return
        self.cursor_row = max(0, min(count - 1, row))
        if self.row_at(self.cursor_row) is None:
            self._request(self.cursor_row // PAGE_SIZE)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * self._body_height)

    def action_home(self) -> None:
        self.move_cursor(0)

    def action_end(self) -> None:
        self.move_cursor((self.row_count or 1) - 1)

    def action_select(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    def on_click(self, event: Any) -> None:
        y = getattr(event, "y", 0)
        if y >= 1:
            self.move_cursor(round(self.scroll_offset.y) + y - 1)
