"""The Activities pane: who did what with the selected email (consented contacts only),
with the line that explains the gap to the statistics.  Enter opens the contact."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from journeytui.domain.activities import (
    ActivityFilter,
    EmailActivity,
    anonymous_line,
    count_email_activities,
    email_activities,
    email_activities_before,
    email_heading,
)
from journeytui.domain.stats import EmailStats
from journeytui.store import Store
from journeytui.tui import fmt
from journeytui.tui.panes.base import ExportJob, PaletteCommand, Pane, set_panel_title
from journeytui.tui.text import clean
from journeytui.tui.widgets.filter_input import FilterInput
from journeytui.tui.widgets.paged_table import Column, FuncSource, PagedTable, Row

COLUMNS = [
    Column("Time (UTC)", 16),
    Column("Activity", 12),
    Column("Contact", None, min_width=16),
    Column("Value", None, min_width=10, ratio=2),
]


def activity_row(a: EmailActivity) -> Row:
    contact = a.contact or a.address
    return Row(
        a.key,
        (fmt.when(a.at), fmt.activity_label(a.activity, bot=a.bot, machine=a.machine), contact,
         a.value or ""),
        payload=a,
        dim=a.bot or a.machine,
    )


class ActivitiesPane(Pane):
    PANE_ID = "activities"
    TITLE = "Activities"
    SUMMARY = (
        "The contact activities of the selected email: consented contacts only, newest first."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter by link", key_display="/", id="activities.filter"),
        Binding("c", "filter_who", "By contact", id="activities.filter-contact"),
        Binding("K", "clicks_only", "Clicks only", id="activities.clicks-only"),
        Binding("l", "next_link", "Next link", id="activities.next-link"),
        Binding("e", "show_email", "Email", id="activities.email"),
    ]

    @dataclass
    class StatsLoaded(Message):
        email_id: int
        stats: EmailStats | None
        name: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.email_id: int | None = None
        self.stats: EmailStats | None = None
        self.email_name = ""
        self.heading_error = ""  # why the heading could not be read (said in its place)
        self._heading_read = False
        self.url_filter = ""
        self.who_filter = ""
        self.clicks_only = False
        self._link_index = -1
        self._keep_row: int | None = None  # the cursor's row, kept over a refresh

    @property
    def activity_filter(self) -> ActivityFilter:
        return ActivityFilter(url=self.url_filter or None, who=self.who_filter or None,
                              clicks_only=self.clicks_only)

    def compose(self) -> ComposeResult:
        yield Static("", id="activities-title", markup=False)
        yield Static("", id="activities-gap", markup=False)
        yield FilterInput("filter by link (part of the URL)…", id="activities-filter")
        yield FilterInput("filter by contact (part of a name or address)…",
                          id="activities-who")
        yield PagedTable(COLUMNS, id="activities-table", classes="panel",
                         empty_text="Select an email in the Emails pane (key 1), then Enter.")
        yield Static("", id="activities-current", markup=False)

    @property
    def table(self) -> PagedTable:
        return self.query_one("#activities-table", PagedTable)

    def focus_target(self) -> Widget | None:
        return self.table

    def on_pane_shown(self) -> None:
        wanted = self.japp.selection.email_id
        if wanted is not None and wanted != self.email_id:
            self.show_email(wanted)

    # -- loading ---------------------------------------------------------------------
    def show_email(self, email_id: int) -> None:
        self.email_id = email_id
        self.stats = None
        self.heading_error = ""
        self._heading_read = False  # until then the title says Loading… (the rows may come first)
        self.url_filter = ""
        self.who_filter = ""
        self.clicks_only = False
        self._link_index = -1
        for field in self.query(FilterInput):
            if field.is_open:
                with field.prevent(FilterInput.Changed):
                    field.value = ""
                field.remove_class("-open")
                field.can_focus = False
        self.query_one("#activities-title", Static).update(Text("Loading…"))
        self.query_one("#activities-gap", Static).update("")
        self.query_one("#activities-current", Static).update("")
        self._load_stats(email_id)
        self._reload_rows()

    @work(thread=True, exclusive=True, group="activities-stats", exit_on_error=False)
    def _load_stats(self, email_id: int) -> None:
        with self.japp.pool.store() as store:
            heading = email_heading(store, email_id)
        name, stats = heading if heading is not None else ("?", None)
        self.post_message(self.StatsLoaded(email_id, stats, name))

    def worker_failed(self, group: str, said: str) -> bool:
        if group == "activities-stats":  # the heading says it instead of "Loading…"
            self.heading_error = said
            self._heading_read = True
            self._show_title()
            return True
        return False

    def on_activities_pane_stats_loaded(self, message: StatsLoaded) -> None:
        if message.email_id != self.email_id:
            return
        self.stats = message.stats
        self.email_name = message.name
        self.heading_error = ""
        self._heading_read = True
        self._show_title()

    def _show_title(self) -> None:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(clean(self.email_name), style="bold")
        count = self.table.row_count
        if count is not None:
            what = self.activity_filter.describe()
            what = what[:1].upper() + what[1:] if what else "Contact activities"
            set_panel_title(self.table, f"{what} ({count:,})")
        if not self._heading_read:  # the count came first: the heading is still loading
            return
        self.query_one("#activities-title", Static).update(title)
        gap = self.query_one("#activities-gap", Static)
        if self.heading_error:
            self.query_one("#activities-title", Static).update(
                Text("Could not load this email", style="bold"))
            gap.update(Text(clean(self.heading_error), style="italic"))
        elif self.stats is None:
            gap.update(Text("Draft: no statistics and no activities.", style="italic"))
        else:
            gap.update(Text(clean(anonymous_line(self.stats)), style="italic"))

    def on_store_changed(self) -> None:
        if self.email_id is None:
            return
        self._keep_row = self.table.cursor_row
        self._load_stats(self.email_id)
        self._reload_rows()

    def _reload_rows(self) -> None:
        email_id = self.email_id
        if email_id is None:
            return
        flt = self.activity_filter

        def count(store: Store) -> int:
            return count_email_activities(store, email_id, flt=flt)

        def page(store: Store, after: Any, limit: int) -> list[Row]:
            return [activity_row(a) for a in email_activities(store, email_id, after=after,
                                                              limit=limit, flt=flt)]

        def before(store: Store, key: Any, limit: int) -> list[Row]:
            return [activity_row(a) for a in email_activities_before(
                store, email_id, before=key, limit=limit, flt=flt)]

        self.japp.status_begin("activities", "Loading activities…")
        what = flt.describe()
        self.table.set_source(FuncSource(count, page, before), empty_text=(
            f"No {what}." if what else
            "No contact activity for this email (only consented contacts are listed)."
        ))

    def on_paged_table_counted(self, event: PagedTable.Counted) -> None:
        self.call_after_refresh(self._show_title)

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        if event.page == 0:
            self.japp.status_end("activities")
            keep, self._keep_row = self._keep_row, None
            if keep:
                self.table.move_cursor(keep)

    def on_paged_table_highlighted(self, event: PagedTable.Highlighted) -> None:
        event.stop()
        a: EmailActivity = event.row.payload
        line = Text(overflow="fold")
        line.append(clean(a.contact or a.address), style="bold")
        line.append(" <" + clean(a.address) + "> "
                    + fmt.activity_label(a.activity, bot=a.bot, machine=a.machine))
        if a.value:
            line.append(" " + clean(a.value))
        self.query_one("#activities-current", Static).update(line)

    # -- actions ---------------------------------------------------------------------
    def on_paged_table_selected(self, event: PagedTable.Selected) -> None:
        event.stop()
        activity: EmailActivity = event.row.payload
        self.japp.main.open_contact(activity.contact_id)

    def action_filter(self) -> None:
        self.query_one("#activities-filter", FilterInput).open()

    def action_filter_who(self) -> None:
        self.query_one("#activities-who", FilterInput).open()

    def action_clicks_only(self) -> None:
        self.clicks_only = not self.clicks_only
        self._reload_rows()
        self._show_title()

    def show_clicks(self, email_id: int) -> None:
        """The clicks of *email_id* only (the palette's "who clicked in …")."""
        self.show_email(email_id)
        self.clicks_only = True
        self._reload_rows()

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        event.stop()
        if event.input.id == "activities-who":
            self.who_filter = event.value.strip()
        else:
            self.url_filter = event.value.strip()
        self._reload_rows()
        self._show_title()

    def on_filter_input_closed(self, event: FilterInput.Closed) -> None:
        event.stop()
        self.table.focus()

    def on_filter_input_done(self, event: FilterInput.Done) -> None:
        event.stop()
        self.table.focus()

    def action_next_link(self) -> None:
        """Filter by the email's links in turn (most clicked first), then none."""
        links = self.stats.links if self.stats else []
        if not links:
            self.notify("This email has no tracked links.", markup=False)
            return
        self._link_index += 1
        field = self.query_one("#activities-filter", FilterInput)
        if self._link_index >= len(links):
            self._link_index = -1
            field.action_close()
            return
        field.reveal(links[self._link_index].url)
        self.table.focus()

    def action_show_email(self) -> None:
        if self.email_id is not None:
            self.japp.main.open_email(self.email_id)

    # -- shell hooks -----------------------------------------------------------------
    def palette_commands(self) -> list[PaletteCommand]:
        commands = [
            PaletteCommand("Filter activities by link", "Activities pane (key /)",
                           self.action_filter),
            PaletteCommand("Filter activities by contact", "Activities pane (key c)",
                           self.action_filter_who),
        ]
        for link in self.stats.links if self.stats else []:
            url = link.url

            def choose(url: str = url) -> None:
                self.query_one("#activities-filter", FilterInput).reveal(url)

            commands.append(PaletteCommand(f"Only clicks on {url}", "Activities pane", choose))
        return commands

    def export_job(self) -> ExportJob | None:
        email_id = self.email_id
        if email_id is None:
            return None
        flt = self.activity_filter

        def produce(store: Store) -> Iterable[Sequence[object]]:
            after = None
            while True:
                chunk = email_activities(store, email_id, after=after, limit=5000, flt=flt)
                for a in chunk:
                    yield [fmt.when(a.at), a.activity, a.contact, a.address, a.value or "",
                           int(a.bot), int(a.machine)]
                if len(chunk) < 5000:
                    return
                after = chunk[-1].key

        return ExportJob(
            "activities",
            ["time_utc", "activity", "contact", "address", "value", "suspected_bot",
             "machine_open"],
            produce,
        )

    def help_extra(self) -> list[tuple[str, str]]:
        return [
            ("↑ ↓ j k", "move in the list"),
            ("PgUp PgDn g G", "page, first, last"),
            ("Enter", "open the contact of the highlighted row"),
            ("/ c K", "filter by link / by contact (typos are fine) / clicks only"),
        ]
