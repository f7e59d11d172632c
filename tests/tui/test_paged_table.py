"""PagedTable: pages come in by keyset as the cursor needs them, and only those."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from textual.app import App, ComposeResult

from journeytui.tui.widgets.paged_table import (
    MAX_PAGES,
    PAGE_SIZE,
    Column,
    FuncSource,
    PagedTable,
    Row,
)

N = 10_000


class FakePool:
    @contextmanager
    def store(self) -> Iterator[None]:
        yield None


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.pool = FakePool()
        self.calls: list[Any] = []

    def compose(self) -> ComposeResult:
        yield PagedTable([Column("n", 8), Column("text", None)], id="t")

    def source(self, total: int = N) -> FuncSource:
        def page(_store: Any, after: Any, limit: int) -> list[Row]:
            self.calls.append(after)
            start = 0 if after is None else after + 1
            return [Row(i, (str(i), f"row {i}"), payload=i) for i in range(start,
                                                                           min(total, start + limit))]

        return FuncSource(lambda _store: total, page)


async def wait(pilot, table: PagedTable) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not table.loading_rows:
            return
    raise AssertionError("table did not finish loading")


async def test_only_the_visible_page_is_fetched_then_keyset_pages_on_demand() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.focus()
        table.set_source(app.source())
        await wait(pilot, table)
        assert table.row_count == N
        assert app.calls == [None]  # one page for the first screen
        assert table.current_row is not None and table.current_row.payload == 0
        await pilot.press("pagedown")
        await wait(pilot, table)
        assert table.cursor_row == table.size.height - 1  # one screen of rows, minus header
        assert app.calls == [None]
        await pilot.press("end")
        await wait(pilot, table)
        assert table.cursor_row == N - 1
        assert table.current_row is not None and table.current_row.cells == (str(N - 1),
                                                                             f"row {N - 1}")
        # every page once, each starting after the previous page's last key
        assert app.calls == [None, *[p * PAGE_SIZE - 1 for p in range(1, N // PAGE_SIZE)]]
        # memory stays flat: only the pages nearest the cursor are kept
        assert len(table.cached_page_numbers) <= MAX_PAGES
        assert table.cached_page_numbers[-1] == N // PAGE_SIZE - 1
        await pilot.press("home", "j", "j")
        await wait(pilot, table)
        assert table.current_row is not None and table.current_row.payload == 2
        # the first page was let go on the way down, so it is read once more
        assert len(app.calls) == N // PAGE_SIZE + 1 and app.calls[-1] is None


class ReverseApp(TableApp):
    """Rows 0…total-1 from a source that pages both ways (as keyset queries do)."""

    def source(self, total: int = N) -> FuncSource:
        def row(i: int) -> Row:
            return Row(i, (str(i), f"row {i}"), payload=i)

        def page(_store: Any, after: Any, limit: int) -> list[Row]:
            self.calls.append(("after", after, limit))
            start = 0 if after is None else after + 1
            return [row(i) for i in range(start, min(total, start + limit))]

        def before(_store: Any, key: Any, limit: int) -> list[Row]:
            self.calls.append(("before", key, limit))
            end = total if key is None else key
            return [row(i) for i in range(max(0, end - limit), end)]

        return FuncSource(lambda _store: total, page, before)


async def test_end_reads_the_last_page_directly_and_pages_back_by_keyset() -> None:
    total = N + 37  # the last page is a short one
    app = ReverseApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.focus()
        table.set_source(app.source(total))
        await wait(pilot, table)
        assert app.calls == [("after", None, PAGE_SIZE)]
        await pilot.press("end")
        await wait(pilot, table)
        assert table.cursor_row == total - 1
        assert table.current_row is not None and table.current_row.payload == total - 1
        # one read: the 37 rows of the last page, from the end; no page in between
        assert app.calls[1:] == [("before", None, 37)]
        # page up twice: the rows before the first cached row, one page at a time
        height = table._body_height
        await pilot.press("pageup", "pageup")
        await wait(pilot, table)
        assert table.current_row is not None
        assert table.current_row.payload == total - 1 - 2 * height
        assert app.calls[2:] == [("before", total - 37, PAGE_SIZE)]
        # and g is the first page again, read from the top
        await pilot.press("g")
        await wait(pilot, table)
        assert table.current_row is not None and table.current_row.payload == 0
        assert table.cached_page_numbers == [0, N // PAGE_SIZE - 1, N // PAGE_SIZE]


async def test_scrolling_the_whole_list_keeps_memory_flat() -> None:
    app = ReverseApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.focus()
        total = PAGE_SIZE * (MAX_PAGES + 8)
        table.set_source(app.source(total))
        await wait(pilot, table)
        while table.cursor_row < total - 1:
            table.move_cursor(table.cursor_row + PAGE_SIZE // 2)  # half a page at a time
            await wait(pilot, table)
            assert len(table.cached_page_numbers) <= MAX_PAGES
        # every page was read exactly once, each after the previous page's last key
        assert [c[1] for c in app.calls] == [None, *[p * PAGE_SIZE - 1
                                                      for p in range(1, total // PAGE_SIZE)]]


class SelectApp(TableApp):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[int] = []

    def on_paged_table_selected(self, event: PagedTable.Selected) -> None:
        self.selected.append(event.row.payload)


async def test_selected_and_empty_text() -> None:
    app = SelectApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.focus()
        table.set_source(app.source(3))
        await wait(pilot, table)
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert table.cursor_row == 2
        assert app.selected == [2]
        table.set_source(app.source(0), empty_text="Nothing here")
        await wait(pilot, table)
        assert table.row_count == 0
        assert "Nothing here" in "".join(s.text for s in table.render_line(1))


def test_columns_fill_the_width_exactly() -> None:
    table = PagedTable([Column("a", 16), Column("b", 12), Column("c", None, min_width=16),
                        Column("d", None, min_width=10, ratio=2)])
    for total in (77, 78, 80, 119, 120):
        widths = table._widths(total)
        assert sum(widths) + len(widths) - 1 == total, (total, widths)
        assert widths[2] >= 16 and widths[3] >= widths[2]
