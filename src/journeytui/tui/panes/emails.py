"""The Emails pane: every email with its statistics, sortable and filterable; the
detail of the highlighted one below.  Enter opens its contact activities."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable

from journeytui.domain.stats import EmailRow, EmailStats, list_emails
from journeytui.store import Store
from journeytui.tui import fmt
from journeytui.tui.panes.base import ExportJob, PaletteCommand, Pane, set_panel_title
from journeytui.tui.text import clean
from journeytui.tui.widgets.email_detail import EmailDetail
from journeytui.tui.widgets.filter_input import FilterInput

STATUS_SHORT = {"draft": "draft", "scheduled": "sched", "sent": "sent"}
# Below this many columns Deliv. and Opened make room (delivery problems still show
# as ⚠, and the open rate stays): every other figure fits in 80 columns, uncut.
WIDE = 100
# Below 80 (the compact layout, down to 60): Stat., Open % and Unsub go too; the sent
# figures, clicks, click rate, spam and ⚠ stay (the detail has every figure).
FULL = 80
NAME_MIN = 16
# Sent emails first, then the scheduled ones, then drafts, whatever the sort.
STATUS_GROUP = {"sent": 0, "scheduled": 1, "draft": 2}


@dataclass(frozen=True)
class EmailColumn:
    key: str
    title: str
    width: int
    sort_value: Callable[[EmailRow], object]  # None sorts last (drafts)
    text: Callable[[EmailRow], str]
    numeric: bool = True
    # shown only when the table is at least this wide (the least needed go first)
    min_width: int = 0


def _stat(fn: Callable[[EmailStats], int | float | None]) -> Callable[[EmailRow], object]:
    return lambda row: None if row.stats is None else fn(row.stats)


def _num(fn: Callable[[EmailStats], int]) -> Callable[[EmailRow], str]:
    return lambda row: fmt.DASH if row.stats is None else f"{fn(row.stats):,}"


def _pct(fn: Callable[[EmailStats], float | None]) -> Callable[[EmailRow], str]:
    return lambda row: fmt.DASH if row.stats is None else fmt.pct(fn(row.stats))


COLUMNS: list[EmailColumn] = [
    EmailColumn("name", "Name", 16, lambda r: r.name.lower(), lambda r: clean(r.name), False),
    EmailColumn("status", "Stat.", 5, lambda r: r.status,
                lambda r: STATUS_SHORT.get(r.status, r.status), False, min_width=FULL),
    EmailColumn("send_at", "Send date", 10, lambda r: r.send_at,
                lambda r: fmt.when(r.send_at)[:10], False),
    EmailColumn("sent", "Sent", 6, _stat(lambda s: s.sent), _num(lambda s: s.sent)),
    EmailColumn("delivered", "Deliv.", 6, _stat(lambda s: s.delivered),
                _num(lambda s: s.delivered), min_width=WIDE),
    EmailColumn("opened", "Opened", 6, _stat(lambda s: s.opened), _num(lambda s: s.opened),
                min_width=WIDE),
    EmailColumn("clicked", "Clicked", 7, _stat(lambda s: s.clicked), _num(lambda s: s.clicked)),
    EmailColumn("open_rate", "Open %", 7, _stat(lambda s: s.open_rate),
                _pct(lambda s: s.open_rate), min_width=FULL),
    EmailColumn("click_rate", "Click %", 7, _stat(lambda s: s.click_rate),
                _pct(lambda s: s.click_rate)),
    EmailColumn("unsubscribed", "Unsub", 5, _stat(lambda s: s.unsubscribed),
                _num(lambda s: s.unsubscribed), min_width=FULL),
    EmailColumn("spam_reports", "Spam", 4, _stat(lambda s: s.spam_reports),
                _num(lambda s: s.spam_reports)),
    EmailColumn("warnings", "!", 1, _stat(lambda s: len(s.warnings)),
                lambda r: "⚠" if r.stats is not None and r.stats.warnings else "", False),
]


def cell(text: str, column: EmailColumn) -> Text:
    """*text* set in its column: numbers right-aligned, words after one space."""
    if column.numeric:
        return Text(text, justify="right", no_wrap=True, overflow="ellipsis")
    return Text(" " + text, no_wrap=True, overflow="ellipsis")


def sort_rows(rows: Sequence[EmailRow], column: EmailColumn, reverse: bool) -> list[EmailRow]:
    """Rows ordered by *column* within their group — sent emails, then scheduled ones,
    then drafts — so the latest *sent* email heads the default view; rows without a
    value for the column come last in their group."""
    out: list[EmailRow] = []
    for group in sorted(set(STATUS_GROUP.values()) | {3}):
        members = [r for r in rows if STATUS_GROUP.get(r.status, 3) == group]
        have = [r for r in members if column.sort_value(r) is not None]
        missing = [r for r in members if column.sort_value(r) is None]
        have.sort(key=lambda r: (column.sort_value(r), r.id), reverse=reverse)  # type: ignore[arg-type,return-value]
        out += have + missing
    return out


def visible_columns(width: int) -> list[EmailColumn]:
    """The columns shown in a table *width* cells wide."""
    return [c for c in COLUMNS if width >= c.min_width]


def name_width(width: int) -> int:
    """The Name column's width: whatever the other shown columns leave (each column is
    one cell wider than its content; one cell for the scrollbar)."""
    others = sum(c.width + 1 for c in visible_columns(width) if c.key != "name")
    return max(NAME_MIN, width - 1 - others - 1)


class EmailTable(DataTable[str | Text]):
    """The emails list (tens of rows: the built-in DataTable is fine), with j/k too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # the same ids as every other list, so one keymap line rebinds them all
        Binding("down,j", "cursor_down", "Next email", show=False, id="list.down"),
        Binding("up,k", "cursor_up", "Previous email", show=False, id="list.up"),
        Binding("home,g", "scroll_top", "First email", show=False, id="list.first"),
        Binding("end,G", "scroll_bottom", "Last email", show=False, id="list.last"),
    ]


class EmailsPane(Pane):
    PANE_ID = "emails"
    TITLE = "Emails"
    SUMMARY = "Every email with its statistics; the highlighted one's detail below."

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_activities", "Activities", id="emails.activities"),
        Binding("s", "pick_sort", "Sort by…", id="emails.sort"),
        Binding("r", "reverse_sort", "Reverse", id="emails.reverse"),
        Binding("slash", "filter", "Filter", key_display="/", id="emails.filter"),
        Binding("d", "focus_detail", "Detail", id="emails.detail"),
        Binding("p", "provenance", "Where from", id="emails.provenance"),
        Binding("w", "timing", "When opened", id="emails.timing"),
        Binding("escape", "leave_detail", "Back", show=False, id="emails.leave-detail"),
    ]

    @dataclass
    class Loaded(Message):
        rows: list[EmailRow]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rows: list[EmailRow] = []
        self.shown: list[EmailRow] = []
        self.sort_index = 2  # send time
        self.sort_reverse = True  # newest first
        self.loaded = False
        self.columns: list[EmailColumn] = list(COLUMNS)  # those shown at this width
        self._layout_for: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield FilterInput("filter emails by name…", id="emails-filter")
        # No cell padding: each column is one cell wider than its content and the
        # text is set in it with a leading space, so 9 columns fit in 80 cells.
        table: DataTable[str | Text] = EmailTable(
            id="emails-table", cursor_type="row", zebra_stripes=True, cell_padding=0,
            classes="panel",
        )
        yield table
        with VerticalScroll(id="email-detail-scroll", can_focus=True):
            yield EmailDetail(id="email-detail")

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one("#emails-table", DataTable)

    def on_mount(self) -> None:
        try:
            self._lay_out(self.size.width or 80)
            set_panel_title(self.table, "Emails")
        except NoMatches:
            return  # the app ended while this pane was being mounted: nothing to load
        self.load()

    def on_resize(self) -> None:
        if self._lay_out(self.size.width) and self.loaded:
            self._refill()

    def _lay_out(self, width: int) -> bool:
        """(Re)make the table's columns for *width*; False when nothing changes."""
        shown = visible_columns(width)
        layout = (len(shown), name_width(width))
        if layout == self._layout_for:
            return False
        self._layout_for = layout
        self.columns = shown
        table = self.table
        table.clear(columns=True)
        for column in shown:
            size = layout[1] if column.key == "name" else column.width
            table.add_column(column.title, width=size + 1, key=column.key)
        return True

    def focus_target(self) -> Widget | None:
        return self.table

    # -- loading ---------------------------------------------------------------------
    def on_store_changed(self) -> None:
        if self.loaded:
            self._load()  # quietly: the rows change in place, the cursor stays on its email

    def load(self) -> None:
        self.japp.status_begin("emails", "Loading emails…")
        self._load()

    @work(thread=True, exclusive=True, group="emails", exit_on_error=False)
    def _load(self) -> None:
        with self.japp.pool.store() as store:
            rows = list_emails(store)
        self.post_message(self.Loaded(rows))

    def on_emails_pane_loaded(self, message: Loaded) -> None:
        self.japp.main.after_first_paint(lambda: self._show_loaded(message.rows))

    def _show_loaded(self, rows: list[EmailRow]) -> None:
        self.japp.status_end("emails")
        self.rows = rows
        self.japp.emails = rows
        self.loaded = True
        self._refill()
        if not self.rows:
            self.query_one(EmailDetail).show(
                None, "No emails in this store yet. Import some with `journeytui import`."
            )

    def worker_failed(self, group: str, said: str) -> bool:
        if group == "emails":
            self.japp.status_end("emails")  # the app says what failed
        return False

    # -- table -----------------------------------------------------------------------
    def _refill(self, keep_id: int | None = None) -> None:
        table = self.table
        if keep_id is None:
            keep_id = self.selected_id
        needle = self.query_one(FilterInput).value.strip().lower()
        rows = [r for r in self.rows if needle in r.name.lower()] if needle else list(self.rows)
        column = COLUMNS[self.sort_index]
        self.shown = sort_rows(rows, column, self.sort_reverse)
        total = len(self.rows)
        set_panel_title(table, f"Emails ({len(self.shown)} of {total} match “{needle[:30]}”)"
                        if needle else f"Emails ({total})")
        table.clear()
        for col in self.columns:
            arrow = ("▼" if self.sort_reverse else "▲") if col is column else ""
            table.columns[col.key].label = cell(col.title + arrow, col)  # type: ignore[index]
        for row in self.shown:
            cells = [cell(col.text(row), col) for col in self.columns]
            table.add_row(*cells, key=str(row.id))
        table.refresh()
        target = 0
        for i, row in enumerate(self.shown):
            if row.id == keep_id:
                target = i
        if self.shown:
            table.move_cursor(row=target, animate=False)
            self._show_detail(self.shown[target])
        else:
            self.query_one(EmailDetail).show(
                None, "No email matches the filter." if needle else "No emails."
            )

    @property
    def selected_id(self) -> int | None:
        table = self.table
        if not self.shown or table.cursor_row >= len(self.shown):
            return self.japp.selection.email_id
        return self.shown[table.cursor_row].id

    @property
    def selected(self) -> EmailRow | None:
        table = self.table
        if not self.shown or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def _show_detail(self, row: EmailRow) -> None:
        self.japp.selection.email_id = row.id
        self.query_one(EmailDetail).show(row)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.shown):
            self._show_detail(self.shown[event.cursor_row])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_activities()

    def select_email(self, email_id: int) -> None:
        """Highlight *email_id* (clearing a filter that hides it)."""
        if not any(r.id == email_id for r in self.shown):
            self.query_one(FilterInput).action_close()
        self._refill(keep_id=email_id)

    # -- actions ---------------------------------------------------------------------
    def action_open_activities(self) -> None:
        row = self.selected
        if row is None:
            return
        self.japp.main.open_activities(row.id)

    def action_timing(self) -> None:
        """Opens and clicks of the highlighted email by hour and day after the send."""
        from journeytui.tui.widgets.timing_chart import TimingScreen

        row = self.selected
        if row is None or row.stats is None:
            self.notify("Drafts have no statistics.", markup=False)
            return
        self.app.push_screen(TimingScreen(row.name))

    def action_provenance(self) -> None:
        """Pick a figure of the highlighted email, then list the events behind it with
        where each came from (anonymous events never name the person)."""
        from journeytui.tui.screens.evidence import EvidenceScreen, figure_choices
        from journeytui.tui.screens.journey_pick import PickDialog

        row = self.selected
        if row is None:
            return
        if row.stats is None:
            self.notify(f"{clean(row.name)} has no figures yet (a draft, or nothing sent)",
                        timeout=3, markup=False)
            return
        name = row.name

        def chosen(key: str | None) -> None:
            if key is None:
                return
            figure, link = ("clicked", key[5:]) if key.startswith("link:") else (key, None)
            self.app.push_screen(EvidenceScreen(self.japp.pool.store, name, figure, link))

        self.app.push_screen(PickDialog(
            f"Events behind a figure of {name}",
            figure_choices([lk.url for lk in row.stats.links]), "clicked",
            hint="↑↓ choose · Enter lists the events · Esc cancels"), chosen)

    def action_pick_sort(self) -> None:
        """Choose the column to sort by (the shown ones), the current one highlighted."""
        from journeytui.tui.screens.journey_pick import PickDialog

        current = COLUMNS[self.sort_index].key

        def chosen(key: str | None) -> None:
            if key is not None:
                self.sort_by(key)

        self.app.push_screen(PickDialog(
            "Sort the emails by", [(c.key, c.title if c.key != "warnings" else "! warnings")
                                   for c in self.columns], current,
            hint="↑↓ choose · Enter sorts (numbers: largest first) · r reverses · Esc"),
            chosen)

    def action_cycle_sort(self) -> None:
        """The next column shown (a column hidden at this width is skipped)."""
        for _ in COLUMNS:
            self.sort_index = (self.sort_index + 1) % len(COLUMNS)
            if COLUMNS[self.sort_index] in self.columns:
                break
        self.sort_reverse = COLUMNS[self.sort_index].numeric
        self._refill()
        self._announce_sort()

    def sort_by(self, key: str) -> None:
        self.sort_index = next(i for i, c in enumerate(COLUMNS) if c.key == key)
        self.sort_reverse = COLUMNS[self.sort_index].numeric
        self._refill()
        self._announce_sort()

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._refill()
        self._announce_sort()

    def _announce_sort(self) -> None:
        order = "descending" if self.sort_reverse else "ascending"
        title = COLUMNS[self.sort_index].title
        self.notify(f"Sorted by {title}, {order}", timeout=2, markup=False)

    def action_filter(self) -> None:
        self.query_one(FilterInput).open()

    def action_focus_detail(self) -> None:
        self.add_class("-detail")  # the compact layout shows the detail in the list's place
        self.call_after_refresh(self.query_one("#email-detail-scroll").focus)

    def action_leave_detail(self) -> None:
        """Esc in the detail goes back to the list; in the list it goes back a pane."""
        if self.has_class("-detail"):
            self.remove_class("-detail")
            self.call_after_refresh(self.table.focus)
        else:
            self.japp.main.action_back()

    def on_descendant_focus(self, event: object) -> None:
        detail = self.query_one("#email-detail-scroll")
        self.set_class(self.screen.focused is detail, "-detail")

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        event.stop()
        if self.loaded:
            self._refill()

    def on_filter_input_closed(self, event: FilterInput.Closed) -> None:
        event.stop()
        self._refill()
        self.table.focus()

    def on_filter_input_done(self, event: FilterInput.Done) -> None:
        event.stop()
        self.table.focus()

    # -- shell hooks -----------------------------------------------------------------
    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand(f"Sort emails by {c.title}", "Emails pane",
                           partial(self.sort_by, c.key))
            for c in COLUMNS
        ] + [PaletteCommand("Filter emails by name", "Emails pane (key /)", self.action_filter)]

    def export_job(self) -> ExportJob:
        rows = list(self.shown)

        def produce(_store: Store) -> Iterable[Sequence[object]]:
            for r in rows:
                s = r.stats
                yield [
                    r.name, r.subject, r.status, fmt.when(r.send_at) if r.send_at else "",
                    r.list_name or "",
                    *(
                        ["" for _ in range(14)] if s is None else [
                            s.sent, s.delivered, s.bounced_hard, s.bounced_soft, s.dropped,
                            s.opened, s.opens_total, s.machine_opens, s.clicked,
                            s.clicks_total, s.bot_clicks, s.unsubscribed, s.spam_reports,
                            "; ".join(s.warnings),
                        ]
                    ),
                ]

        return ExportJob(
            "emails",
            ["name", "subject", "status", "send_time_utc", "list", "sent", "delivered",
             "bounced_hard", "bounced_soft", "dropped", "opened", "opens_total",
             "machine_opens", "clicked", "clicks_total", "bot_clicks", "unsubscribed",
             "spam_reports", "warnings"],
            produce,
        )

    def help_extra(self) -> list[tuple[str, str]]:
        return [
            ("↑ ↓", "move between emails (the detail follows)"),
            ("PgUp PgDn", "page through the list"),
            ("p", "the events behind a figure, with file:line, batch and event id"),
        ]
