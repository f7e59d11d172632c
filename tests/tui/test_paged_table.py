"""PagedTable: pages come in by keyset as the cursor needs them, and only those."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from textual.app import App, ComposeResult

from journeytui.tui.widgets.paged_table import PAGE_SIZE, Column, FuncSource, PagedTable, Row

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
        await pilot.press("home", "j", "j")
        assert table.current_row is not None and table.current_row.payload == 2
        assert len(app.calls) == N // PAGE_SIZE  # nothing fetched twice


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
