"""The Contacts pane (support lookup): search as you type, the contact's card, and
the full activity history newest first."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from journeytui.domain.contacts import (
    ContactCard,
    ContactMatch,
    TimelineFilter,
    TimelineRow,
    contact_card,
    count_timeline,
    search_contacts,
    timeline,
    timeline_older_first,
)
from journeytui.domain.delivery import DeliveryLog, DeliveryRow, delivery_log
from journeytui.domain.journeys import contact_moves, contact_stages
from journeytui.store import Store
from journeytui.tui import fmt
from journeytui.tui.panes.base import ExportJob, PaletteCommand, Pane, set_panel_title
from journeytui.tui.text import clean
from journeytui.tui.widgets.contact_card import CardView, JourneyPath
from journeytui.tui.widgets.filter_input import FilterInput
from journeytui.tui.widgets.paged_table import Column, FuncSource, ListSource, PagedTable, Row

SEARCH_LIMIT = 50  # matches listed for one query
MATCH_COLUMNS = [Column("Name", 24), Column("Address", None, min_width=20)]
TIMELINE_COLUMNS = [
    Column("Time (UTC)", 16),
    Column("Activity", 12),
    Column("Email", None, min_width=16),
    Column("Value (link, form, page, list)", None, min_width=10, ratio=2),
]

DELIVERY_COLUMNS = [
    Column("Time (UTC)", 16),
    Column("Outcome", 14),
    Column("Email", None, min_width=16, ratio=3),
    Column("Reason", None, min_width=10, ratio=2),
]


def delivery_row(i: int, r: DeliveryRow) -> Row:
    return Row(i, (fmt.when(r.at), r.outcome_word, r.email, r.reason_text), payload=r,
               dim=r.outcome == "dropped")


def timeline_row(r: TimelineRow) -> Row:
    return Row(r.key, (fmt.when(r.at), fmt.activity_label(r.activity, bot=r.bot, machine=r.machine), r.email or "", r.value or ""),
               payload=r, dim=r.bot or r.machine)


def journey_paths(store: Store, contact_id: int) -> list[JourneyPath]:
    moves = contact_moves(store, contact_id)
    return [
        JourneyPath(st, tuple(m for m in moves if m.journey == st.journey))
        for st in contact_stages(store, contact_id)
    ]


class SearchInput(Input):
    """The search field; ↓ moves to the matches; Esc clears it, then leaves it (to the
    matches, where the pane's keys work again) — it never switches panes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "to_matches", "To the matches", show=False, id="contacts.to-matches"),
        Binding("escape", "clear_or_leave", "Clear, then leave", show=False,
                id="contacts.search-leave"),
    ]

    def on_mount(self) -> None:
        self.cursor_blink = getattr(self.app, "blink", True)

    def action_to_matches(self) -> None:
        self.screen.query_one("#contacts-matches").focus()

    def action_clear_or_leave(self) -> None:
        if self.value:
            self.value = ""
            return
        pane = self.parent
        target = (pane.timeline_table if isinstance(pane, ContactsPane)
                  and pane.contact_id is not None else None)
        (target or self.screen.query_one("#contacts-matches")).focus()


class ContactsPane(Pane):
    PANE_ID = "contacts"
    TITLE = "Contacts"
    SUMMARY = "Find a contact by part of a name or address; see the card and every activity."

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/", id="contacts.search"),
        Binding("h", "focus_history", "History", id="contacts.history"),
        Binding("f", "filter_history", "Filter history", id="contacts.filter-history"),
        Binding("d", "toggle_delivery", "Delivery log", id="contacts.delivery"),
        Binding("m", "focus_matches", "Matches", id="contacts.matches"),
    ]

    @dataclass
    class SearchDone(Message):
        query: str
        matches: list[ContactMatch]
        seconds: float

    @dataclass
    class CardLoaded(Message):
        contact_id: int
        card: ContactCard | None
        journeys: list[JourneyPath]
        error: str = ""
        delivery: DeliveryLog | None = None

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.contact_id: int | None = None
        self.query_text = ""
        self.last_search_seconds: float | None = None
        self.matches: list[ContactMatch] = []
        self.history_filter = TimelineFilter()
        #: the lower table shows the delivery log (d) instead of the activity history
        self.showing_delivery = False
        self.delivery: DeliveryLog | None = None

    def compose(self) -> ComposeResult:
        yield SearchInput(placeholder="search contacts: part of a name or address…",
                          id="contacts-search", compact=True)
        yield PagedTable(MATCH_COLUMNS, id="contacts-matches", classes="panel",
                         empty_text="No search yet.")
        yield CardView(id="contact-card")
        yield FilterInput("filter the history: words of an email or link, dates like"
                          " 2026-03 …", id="history-filter")
        yield PagedTable(TIMELINE_COLUMNS, id="contacts-timeline", classes="panel",
                         empty_text="No contact selected.")
        yield Static("", id="timeline-current", markup=False)

    @property
    def search_field(self) -> Input:
        return self.query_one("#contacts-search", Input)

    @property
    def matches_table(self) -> PagedTable:
        return self.query_one("#contacts-matches", PagedTable)

    @property
    def timeline_table(self) -> PagedTable:
        return self.query_one("#contacts-timeline", PagedTable)

    def focus_target(self) -> Widget | None:
        if self.contact_id is not None and not self.query_text:
            return self.timeline_table
        return self.search_field

    # -- search ----------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "history-filter":
            self.history_filter = TimelineFilter.parse(event.value)
            self._load_history()
            return
        self.search(event.value)

    def search(self, text: str) -> None:
        self.query_text = text.strip()
        if not self.query_text:
            self.matches = []
            self.matches_table.set_source(ListSource([]), empty_text="No search yet.")
            set_panel_title(self.matches_table, "Matches")
            self.japp.status_end("contact-search")
            return
        self.japp.status_begin("contact-search", f"Searching contacts for “{self.query_text}”…")
        self._search(self.query_text)

    @work(thread=True, exclusive=True, group="contact-search", exit_on_error=False)
    def _search(self, query: str) -> None:
        started = time.perf_counter()
        with self.japp.pool.store() as store:
            matches = search_contacts(store, query, limit=SEARCH_LIMIT)
        if not get_current_worker().is_cancelled:
            self.post_message(self.SearchDone(query, matches, time.perf_counter() - started))

    def on_contacts_pane_search_done(self, message: SearchDone) -> None:
        if message.query != self.query_text:
            return  # an older query finished after a newer one started
        self.japp.status_end("contact-search")
        self.last_search_seconds = message.seconds
        self.matches = message.matches
        n = len(message.matches)
        set_panel_title(self.matches_table, f"Matches ({n}{'+' if n >= SEARCH_LIMIT else ''})"
                        f" for “{message.query[:30]}”")
        rows = [Row(i, (m.name or "(no name)", m.address), payload=m)
                for i, m in enumerate(message.matches)]
        self.matches_table.set_source(
            ListSource(rows), empty_text=f"No contact matches “{clean(message.query)}”."
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.matches:
            self.open_contact(self.matches[self.matches_table.cursor_row].id)
            self.timeline_table.focus()

    def on_descendant_focus(self, event: Any) -> None:
        # Reading a history: the matches fold away to give it the room (m brings them back).
        self.set_class(event.widget is self.timeline_table
                       or event.widget.id == "history-filter", "-reading")

    # -- card ------------------------------------------------------------------------
    def on_paged_table_highlighted(self, event: PagedTable.Highlighted) -> None:
        event.stop()
        if event.table is self.matches_table:
            match: ContactMatch = event.row.payload
            self.open_contact(match.id)
        elif isinstance(event.row.payload, DeliveryRow):
            d: DeliveryRow = event.row.payload
            line = Text(overflow="fold")
            line.append(f"{fmt.when(d.at)} {d.outcome_word}", style="bold")
            line.append(" · " + clean(d.email))
            if d.reason_text:
                line.append(" · " + clean(d.reason_text))
            line.append(" · events: " + ", ".join(d.evidence))
            self.query_one("#timeline-current", Static).update(line)
        else:
            r: TimelineRow = event.row.payload
            line = Text(overflow="fold")
            line.append(f"{fmt.when(r.at)} {fmt.activity_label(r.activity, bot=r.bot, machine=r.machine)}", style="bold")
            if r.email:
                line.append(" · " + clean(r.email))
            if r.value:
                line.append(" · " + clean(r.value))
            self.query_one("#timeline-current", Static).update(line)

    def on_paged_table_selected(self, event: PagedTable.Selected) -> None:
        event.stop()
        if event.table is self.matches_table:
            self.open_contact(event.row.payload.id)
            self.timeline_table.focus()
        else:
            row: TimelineRow | DeliveryRow = event.row.payload
            if row.email:
                email_id = next(
                    (e.id for e in self.japp.emails if e.name == row.email), None
                )
                if email_id is not None:
                    self.japp.main.open_email(email_id)

    def on_mount(self) -> None:
        set_panel_title(self.matches_table, "Matches")
        set_panel_title(self.timeline_table, "History, newest first")

    def on_paged_table_counted(self, event: PagedTable.Counted) -> None:
        if event.table is self.timeline_table and not self.showing_delivery:
            card = self.query_one(CardView)
            card.activities = event.count
            card.refresh(layout=True)
            shown = fmt.plural(event.count, 'activity')
            set_panel_title(self.timeline_table,
                            f"History, newest first ({shown} matching the filter)"
                            if self.history_filter else f"History, newest first ({shown})")

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        if event.table is self.timeline_table and event.page == 0:
            self.japp.status_end("contact-card")

    def open_contact(self, contact_id: int) -> None:
        if contact_id == self.contact_id:
            return
        self.contact_id = contact_id
        self.delivery = None
        self.japp.selection.contact_id = contact_id
        self.japp.status_begin("contact-card", "Loading contact…")
        self.query_one("#timeline-current", Static).update("")
        self._load_card(contact_id)
        self.history_filter = TimelineFilter()
        field = self.query_one("#history-filter", FilterInput)
        if field.is_open:
            with field.prevent(FilterInput.Changed):
                field.value = ""
            field.remove_class("-open")
            field.can_focus = False
        self._load_history()

    def _load_history(self) -> None:
        contact_id, flt = self.contact_id, self.history_filter
        if contact_id is None:
            return
        if self.showing_delivery:
            self._show_delivery()
            return
        self.timeline_table.columns = list(TIMELINE_COLUMNS)

        def count(store: Store) -> int:
            return count_timeline(store, contact_id, flt)

        def page(store: Store, after: Any, limit: int) -> list[Row]:
            return [timeline_row(r) for r in timeline(store, contact_id, before=after,
                                                      limit=limit, flt=flt)]

        def before(store: Store, key: Any, limit: int) -> list[Row]:
            return [timeline_row(r) for r in timeline_older_first(
                store, contact_id, after=key, limit=limit, flt=flt)]

        self.timeline_table.set_source(
            FuncSource(count, page, before),
            empty_text=("No activity matches the filter." if flt else
                        "No activity recorded (activities exist only with tracking consent)."),
        )

    def _show_delivery(self) -> None:
        """The lower table lists the delivery log (loaded with the card)."""
        table = self.timeline_table
        table.columns = list(DELIVERY_COLUMNS)
        log = self.delivery
        if log is None:
            table.set_source(ListSource([]), empty_text="Loading the delivery log…")
            set_panel_title(table, "Delivery log")
            return
        table.set_source(
            ListSource([delivery_row(i, r) for i, r in enumerate(log.sends)]),
            empty_text="No sends on record for this contact.",
        )
        set_panel_title(table, f"Delivery log, newest first ({fmt.plural(len(log.sends), 'send')};"
                        " d: history)")

    def action_toggle_delivery(self) -> None:
        """d: the lower table shows the delivery log, or back to the activity history."""
        if self.contact_id is None:
            return
        self.showing_delivery = not self.showing_delivery
        self.query_one("#timeline-current", Static).update("")
        if not self.showing_delivery:
            set_panel_title(self.timeline_table, "History, newest first")
        self._load_history()
        self.timeline_table.focus()

    def on_store_changed(self) -> None:
        if self.contact_id is not None:
            self._load_card(self.contact_id)
            self._load_history()

    def action_filter_history(self) -> None:
        if self.contact_id is not None and not self.showing_delivery:
            self.query_one("#history-filter", FilterInput).open()

    def on_filter_input_closed(self, event: FilterInput.Closed) -> None:
        event.stop()
        self.timeline_table.focus()

    def on_filter_input_done(self, event: FilterInput.Done) -> None:
        event.stop()
        self.timeline_table.focus()

    @work(thread=True, exclusive=True, group="contact-card", exit_on_error=False)
    def _load_card(self, contact_id: int) -> None:
        with self.japp.pool.store() as store:
            card = contact_card(store, contact_id)
            journeys = journey_paths(store, contact_id)
            log = delivery_log(store, contact_id)
        self.post_message(self.CardLoaded(contact_id, card, journeys, delivery=log))

    def worker_failed(self, group: str, said: str) -> bool:
        if group == "contact-card" and self.contact_id is not None:
            # the card says why it is empty (e.g. the contact was forgotten meanwhile)
            self.on_contacts_pane_card_loaded(self.CardLoaded(self.contact_id, None, [], said))
            return True
        if group == "contact-search":
            self.japp.status_end("contact-search")
            set_panel_title(self.matches_table, "Matches: the search failed")
        return False

    def on_contacts_pane_card_loaded(self, message: CardLoaded) -> None:
        if message.contact_id != self.contact_id:
            return
        view = self.query_one(CardView)
        count = view.activities
        view.show(message.card, message.journeys, hint=message.error, delivery=message.delivery)
        view.activities = count
        self.delivery = message.delivery
        if self.showing_delivery:
            self._show_delivery()

    # -- actions ---------------------------------------------------------------------
    def action_search(self) -> None:
        self.search_field.focus()

    def action_focus_history(self) -> None:
        self.timeline_table.focus()

    def action_focus_matches(self) -> None:
        self.matches_table.focus()

    def show_contact(self, contact_id: int) -> None:
        """Open *contact_id* from another pane (the search field is left as it was)."""
        self.open_contact(contact_id)

    # -- shell hooks -----------------------------------------------------------------
    def palette_commands(self) -> list[PaletteCommand]:
        commands = [PaletteCommand("Search contacts", "Contacts pane (key /)", self.action_search)]
        if self.contact_id is not None:
            commands.append(PaletteCommand("Contact history", "Contacts pane (key h)",
                                           self.action_focus_history))
        return commands

    def export_job(self) -> ExportJob | None:
        contact_id = self.contact_id
        if contact_id is not None and self.showing_delivery and self.timeline_table.has_focus:
            cid = contact_id

            def deliveries(store: Store) -> Iterable[Sequence[object]]:
                for r in delivery_log(store, cid).sends:
                    yield [fmt.when(r.at), r.email, r.outcome, r.reason or "",
                           r.classification or "", r.smtp_status or ""]

            return ExportJob(
                f"contact-{contact_id}-deliveries",
                ["time_utc", "email", "outcome", "reason", "bounce_classification",
                 "smtp_status"],
                deliveries,
            )
        if self.timeline_table.has_focus or (contact_id is not None and not self.matches):
            if contact_id is None:
                return None

            def history(store: Store) -> Iterable[Sequence[object]]:
                before = None
                while True:
                    chunk = timeline(store, contact_id, before=before, limit=5000)
                    for r in chunk:
                        yield [fmt.when(r.at), r.activity, r.email or "", r.value or "",
                               int(r.bot), int(r.machine)]
                    if len(chunk) < 5000:
                        return
                    before = chunk[-1].key

            return ExportJob(
                f"contact-{contact_id}-history",
                ["time_utc", "activity", "email", "value", "suspected_bot", "machine_open"],
                history,
            )
        matches = list(self.matches)

        def produce(_store: Store) -> Iterable[Sequence[object]]:
            for m in matches:
                yield [m.name, m.address, m.score]

        return ExportJob("contact-matches", ["name", "address", "score"], produce)

    def help_extra(self) -> list[tuple[str, str]]:
        return [
            ("typing", "search as you type (fuzzy: typos and parts of names work)"),
            ("↓", "from the search field to the matches"),
            ("↑ ↓ j k", "move in a list; the card follows the highlighted match"),
            ("Enter", "open the highlighted match's history / a history row's email"),
            ("d", "the delivery log (every send, its outcome and reason) / back to history"),
            ("x", "export: the history when it has focus, otherwise the matches"),
        ]
