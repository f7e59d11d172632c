"""The Journeys pane: the stage-by-stage funnel of one journey.

Top: which journey, when it was evaluated, the stall threshold.  Middle: the funnel
(:class:`FunnelView`), a cursor over stages and transitions.  Bottom: what the
highlighted item holds — for a stage, who is in it (or only the stalled), paged and
sortable, Enter opens the contact; for a transition, the emails whose events
triggered it and the emails that got clicks from its stage with little progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from journeytui.domain.journeys import JourneyInfo, list_journeys
from journeytui.store import Store
from journeytui.tui import fmt
from journeytui.tui.journey_data import (
    DAY,
    DEFAULT_STALL_DAYS,
    NO_EMAIL,
    SORT_LABELS,
    SORTS,
    STALL_STEPS,
    FunnelFigures,
    StageContact,
    StageRow,
    TransitionRow,
    all_stage_contacts,
    count_stage_contacts,
    journey_id,
    stage_contacts,
    stored_figures,
)
from journeytui.tui.panes.base import ExportJob, PaletteCommand, Pane
from journeytui.tui.text import clean
from journeytui.tui.widgets.funnel_view import FunnelView, Item
from journeytui.tui.widgets.paged_table import Column, FuncSource, ListSource, PagedTable, Row

STAGE_COLUMNS = [
    Column("Name", 22),
    Column("Address", None, min_width=16),
    Column("In stage since", 16),
    Column("Days", 5, justify="right"),
]
TRANSITION_COLUMNS = [
    Column("Email", None, min_width=20),
    Column("Moved here", 10, justify="right"),
    Column("Clicks in stage", 15, justify="right"),
    Column("No move", 7, justify="right"),
]
# One table per transition, its columns defined once (the title line says so):
#   Moved    moves through this transition that the email's event triggered
#   Clicks   clicks on the email by contacts while in the transition's from-stage
#   No move  those clicks after which the contact did not move on


@dataclass(frozen=True)
class EmailEffect:
    """What one email did for one transition (a row of the table above)."""

    email: str
    moved: int
    clicks: int | None  # None: a transition from any stage (no one stage to count in)
    idle: int | None

    def to_json(self) -> dict[str, object]:
        return {"email": self.email, "moved": self.moved, "clicks_in_stage": self.clicks,
                "clicks_without_move": self.idle}


def transition_effects(t: TransitionRow, f: FunnelFigures) -> list[EmailEffect]:
    """Every email that moved someone through *t* or got clicks in its from-stage: the
    ones that moved most first, then those with clicks but no progress."""
    moved = dict(t.emails)
    clicks = {c.email: c for c in f.clicks.get(t.source, [])} if t.source is not None else {}
    out = [
        EmailEffect(email, moved.get(email, 0),
                    clicks[email].clicks if email in clicks else (None if t.source is None
                                                                  else 0),
                    clicks[email].idle if email in clicks else (None if t.source is None
                                                                else 0))
        for email in dict.fromkeys([*moved, *clicks])
    ]
    # the emails that moved people as the funnel ranks them; then clicks without progress
    # (an email whose clicks all moved contacts on through *other* transitions says
    # nothing about this one)
    out = [e for e in out if e.moved or e.idle]
    out.sort(key=lambda e: (0, 0, "") if e.moved else (1, -(e.idle or 0), e.email))
    return out


def step_stall(days: int, direction: int) -> int:
    """The next stall threshold up or down the usual steps."""
    if direction > 0:
        return next((s for s in STALL_STEPS if s > days), days)
    return next((s for s in reversed(STALL_STEPS) if s < days), days)


def transition_rows(t: TransitionRow, f: FunnelFigures) -> list[Row]:
    """The table of :func:`transition_effects`, one row per email."""
    def num(n: int | None) -> str:
        return fmt.DASH if n is None else fmt.num(n)

    rows = [
        Row(i, (e.email, fmt.num(e.moved), num(e.clicks), num(e.idle)),
            payload=("email", e.email), dim=e.moved == 0)
        for i, e in enumerate(transition_effects(t, f))
    ]
    return rows or [Row(0, ("(no contact moved through this transition)", "", "", ""),
                        dim=True)]


class JourneysPane(Pane):
    PANE_ID = "journeys"
    TITLE = "Journeys"
    SUMMARY = ("The funnel of a journey: reached, current, conversion, drop-off, time to "
               "next and stalled contacts per stage; who is in a stage; what moved them.")

    DEFAULT_CSS = (Path(__file__).resolve().parent.parent / "journeys.tcss").read_text(
        encoding="utf-8")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "pick_journey", "Journey", id="journeys.pick"),
        Binding("plus,equals_sign", "stall(1)", "Stall +", key_display="+",
                id="journeys.stall-up"),
        Binding("minus", "stall(-1)", "Stall −", key_display="-", id="journeys.stall-down"),
        Binding("t", "toggle_stalled", "Stalled only", id="journeys.stalled-only"),
        Binding("s", "sort", "Sort", id="journeys.sort"),
        Binding("f", "focus_funnel", "Funnel", show=False, id="journeys.focus-funnel"),
        Binding("l", "focus_list", "List", show=False, id="journeys.focus-list"),
        Binding("e", "edit", "Edit", id="journeys.edit"),
        Binding("a", "time_slice", "As of…", id="journeys.as-of"),
        Binding("r", "reload", "Reload", show=False, id="journeys.reload"),
    ]

    @dataclass
    class Loaded(Message):
        """The journeys, and the funnel of the one to show (read in one worker)."""

        request: int  # the pane's read it answers (a later one wins)
        journeys: list[JourneyInfo]
        name: str | None  # None: the store has no journeys
        figures: FunnelFigures | None
        jid: int | None
        force: bool  # draw it all again even if nothing changed (the store changed)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.journeys: list[JourneyInfo] = []
        self.journey: str | None = None
        self.jid: int | None = None
        self.figures: FunnelFigures | None = None
        self.stall_days = DEFAULT_STALL_DAYS
        self.stalled_only = False
        self.sort = SORTS[0]
        self.item: Item | None = None
        self._detail_key: tuple[Any, ...] | None = None
        self._request = 0  # the latest read asked for
        self._reading = False  # a read is under way
        self._announced = False  # the status line says so
        self._failed = False  # the funnel shows why it could not be read

    def compose(self) -> ComposeResult:
        yield Static("Loading journeys…", id="journeys-head", markup=False)
        yield FunnelView(id="journeys-funnel", empty_text="Loading…")
        yield Static("", id="journeys-detail-title", markup=False)
        yield PagedTable(STAGE_COLUMNS, id="journeys-detail",
                         empty_text="Highlight a stage or a transition above.")

    @property
    def funnel(self) -> FunnelView:
        return self.query_one("#journeys-funnel", FunnelView)

    @property
    def detail(self) -> PagedTable:
        return self.query_one("#journeys-detail", PagedTable)

    def focus_target(self) -> Widget | None:
        return self.funnel

    def on_mount(self) -> None:
        self._show_head()
        # The shell mounts the panes in the background once the first one has its
        # data: the funnel is read then, so the key that shows the pane draws it at once.
        self._read(announce=False)

    def on_pane_shown(self) -> None:
        """What is drawn stays; the pane checks in the background that it is still
        current and draws again only what changed (the stage list keeps its place)."""
        if self._reading:
            if self.figures is None:  # nothing to show until that read is done: say so
                self._announce()
            return
        if self.figures is None:
            self._read(announce=True)
        else:  # after the frame that shows the pane (the read would slow it down)
            self.call_after_refresh(self._check_current)

    def _check_current(self) -> None:
        if not self._reading:
            self._read(announce=False)

    # -- loading ---------------------------------------------------------------------
    def reload(self) -> None:
        self._read(announce=True, force=True)

    def on_store_changed(self) -> None:
        # the funnel keeps its cursor on the same stage or transition
        self._read(announce=False, force=True)

    def show_journey(self, name: str) -> None:
        self.journey = name
        self._read(announce=True, force=True)
        self._show_head()

    def _read(self, *, announce: bool, force: bool = False) -> None:
        """Read the journeys and the funnel of the one shown (the first if it is gone)."""
        self._request += 1
        self._reading = True
        if announce:
            self._announce()
        self._load(self._request, self.journey, self.stall_days, force)

    def _announce(self) -> None:
        self._announced = True
        self.japp.status_begin("funnel", f"Computing the funnel of {clean(self.journey)}…"
                               if self.journey is not None else "Reading the journeys…")

    def _read_done(self) -> None:
        self._reading = False
        if self._announced:
            self._announced = False
            self.japp.status_end("funnel")

    @work(thread=True, exclusive=True, group="funnel", exit_on_error=False)
    def _load(self, request: int, name: str | None, stall_days: int, force: bool) -> None:
        figures: FunnelFigures | None = None
        jid: int | None = None
        with self.japp.pool.store() as store:
            journeys = list_journeys(store)
            names = [j.name for j in journeys]
            if name not in names:
                name = names[0] if names else None
            if name is not None:
                figures = stored_figures(store, name, stall_days)
                jid = journey_id(store, name)
        self.post_message(self.Loaded(request, journeys, name, figures, jid, force))

    def worker_failed(self, group: str, said: str) -> bool:
        """The journeys or the funnel could not be read: the funnel says why, in place."""
        if group != "funnel":
            return False
        self._read_done()
        self._failed = True
        self.figures, self.jid, self._detail_key = None, None, None
        self.funnel.show(None, empty_text=clean(said))
        self.detail.set_source(ListSource([]), empty_text="")
        self._show_head()
        return True

    def on_journeys_pane_loaded(self, message: Loaded) -> None:
        if message.request != self._request:
            return  # a later read is under way (another journey, another threshold)
        self._read_done()
        unchanged = (not message.force and not self._failed and message.name == self.journey
                     and message.jid == self.jid and message.figures == self.figures)
        if message.journeys != self.journeys:
            self.journeys = message.journeys
            self._show_head()  # the version shown beside the name
        if unchanged:
            return  # what is drawn is current: the list below keeps its place
        self._failed = False
        self.journey, self.figures, self.jid = message.name, message.figures, message.jid
        self._detail_key = None
        self._show_head()
        if message.name is None:
            self.funnel.show(None, empty_text=(
                "This store has no journeys yet. Build one in the Conditions pane (key 5) "
                "or load a file: journeytui journey load FILE.json"))
            self.detail.set_source(ListSource([]), empty_text="")
            return
        self.funnel.show(message.figures, empty_text="No stages.")
        if message.figures is None:
            self.detail.set_source(ListSource([]), empty_text="")
        elif self.funnel.current_item is not None:
            self._show_detail(self.funnel.current_item)

    def _show_head(self) -> None:
        head = Text(no_wrap=True, overflow="ellipsis")
        if self.journey is None:
            head.append(" No journey" if self.journeys == [] else " Loading journeys…")
        else:
            head.append(" Journey ", style="bold")
            head.append(clean(self.journey))
            info = next((j for j in self.journeys if j.name == self.journey), None)
            if info is not None:
                head.append(f" v{info.version}")
            # the date first: at 80 columns a cut must not take "as of" away
            if self.figures is not None and self.figures.now is not None:
                head.append(f" · as of {fmt.when(self.figures.now)}")
            head.append(" · stalled > ")
            head.append(f"{self.stall_days} days", style="bold")
            head.append(" (+/-)")
        # one line high whatever it says: a repaint, no layout of the screen
        self.query_one("#journeys-head", Static).update(head, layout=False)

    # -- the detail list -------------------------------------------------------------
    def on_funnel_view_highlighted(self, event: FunnelView.Highlighted) -> None:
        event.stop()
        self._show_detail(event.item)

    def on_funnel_view_selected(self, event: FunnelView.Selected) -> None:
        event.stop()
        self.detail.focus()

    def _show_detail(self, item: Item) -> None:
        self.item = item
        f = self.figures
        if f is None:
            return
        title = Text(no_wrap=True, overflow="ellipsis")
        if item.stage is not None:
            s = item.stage
            key: tuple[Any, ...] = ("stage", s.name, self.jid, self._stall_cutoff(),
                                    self.sort, id(f))
            stalled_only = self.stalled_only and s.stalled is not None
            who = "Stalled in" if stalled_only else "Now in"
            title.append(f" {who} {clean(s.name)}", style="bold")
            count = s.stalled if stalled_only else s.current
            if count is not None:
                title.append(f": {fmt.num(count)}")
            title.append(f" · {SORT_LABELS[self.sort]} (s)")
            if s.stalled is None:
                title.append(" · the goal: nobody stalls" if not s.exit else " · an exit")
            else:
                title.append(" · t: all" if self.stalled_only else " · t: stalled only")
            title.append(" · Enter opens the contact")
            self.query_one("#journeys-detail-title", Static).update(title, layout=False)
            if key != self._detail_key:
                self._detail_key = key
                self._show_stage(s)
        else:
            assert item.transition is not None
            t = item.transition
            title.append(f" t{t.number} {clean(t.label)}", style="bold")
            title.append(f": {fmt.num(t.moved)} moves (re-entries count again) · ⏎ email")
            self.query_one("#journeys-detail-title", Static).update(title, layout=False)
            key = ("transition", t.number, id(f))
            if key != self._detail_key:
                self._detail_key = key
                self.detail.columns = list(TRANSITION_COLUMNS)
                self.detail.set_source(ListSource(transition_rows(t, f)))

    def _stall_cutoff(self) -> int | None:
        """The "in the stage since before" time of the stalled-only list, or None (all;
        the goal and the exit stages have no stalled contacts)."""
        f, item = self.figures, self.item
        if not self.stalled_only or f is None or f.now is None:
            return None
        if item is None or item.stage is None or item.stage.stalled is None:
            return None
        return f.now - self.stall_days * DAY

    def _show_stage(self, s: StageRow) -> None:
        jid = self.jid
        if jid is None or self.figures is None:
            return
        stage, sort, before = s.name, self.sort, self._stall_cutoff()
        now = self.figures.now

        def count(store: Store) -> int:
            return count_stage_contacts(store, jid, stage, before)

        def page(store: Store, after: Any, limit: int) -> list[Row]:
            return [
                Row(key, (c.name or "(no name)", c.address, fmt.when(c.since),
                          _days_in(c, now)), payload=c)
                for key, c in stage_contacts(store, jid, stage, before=before, sort=sort,
                                             after=after, limit=limit)
            ]

        self.detail.columns = list(STAGE_COLUMNS)
        empty = (f"Nobody has been in {clean(stage)} for more than {self.stall_days} days."
                 if before is not None else f"Nobody is in {clean(stage)} now.")
        def backwards(store: Store, first: Any, limit: int) -> list[Row]:
            return [
                Row(key, (c.name or "(no name)", c.address, fmt.when(c.since),
                          _days_in(c, now)), payload=c)
                for key, c in stage_contacts(store, jid, stage, before=before, sort=sort,
                                             after=first, limit=limit, backwards=True)
            ]

        self.detail.set_source(FuncSource(count, page, backwards), empty_text=empty)

    def on_paged_table_selected(self, event: PagedTable.Selected) -> None:
        event.stop()
        payload = event.row.payload
        if isinstance(payload, StageContact):
            self.japp.main.open_contact(payload.contact_id)
        elif isinstance(payload, tuple) and payload[1] != NO_EMAIL:
            email_id = next((e.id for e in self.japp.emails if e.name == payload[1]), None)
            if email_id is not None:
                self.japp.main.open_email(email_id)
            else:
                self.notify("That email is not in the Emails pane's list yet "
                            "(open the Emails pane once with key 1).", markup=False)

    # -- actions ---------------------------------------------------------------------
    def action_pick_journey(self) -> None:
        if not self.journeys:
            self.notify("No journeys in this store yet.", markup=False)
            return
        from journeytui.tui.screens.journey_pick import PickDialog

        def chosen(name: str | None) -> None:
            if name:
                self.show_journey(name)

        choices = [(j.name, f"{j.name} — {', '.join(j.stages)}") for j in self.journeys]
        self.app.push_screen(PickDialog("Show the funnel of", choices, self.journey), chosen)

    def action_stall(self, direction: int) -> None:
        new = step_stall(self.stall_days, direction)
        if new == self.stall_days:
            self.notify(f"The stall threshold is already {new} days.", markup=False)
            return
        self.stall_days = new
        self._show_head()
        if self.journey is not None:
            self.show_journey(self.journey)

    def action_toggle_stalled(self) -> None:
        self.stalled_only = not self.stalled_only
        if self.item is not None:
            self._show_detail(self.item)

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        if self.item is not None:
            self._show_detail(self.item)

    def action_focus_funnel(self) -> None:
        self.funnel.focus()

    def action_focus_list(self) -> None:
        self.detail.focus()

    def action_reload(self) -> None:
        self.reload()

    def action_time_slice(self) -> None:
        """The funnel as of a date, for an entry cohort, or compared (a dialog)."""
        if self.journey is None:
            self.notify("No journey to show.", markup=False)
            return
        from journeytui.tui.screens.funnel_slice import open_slice

        open_slice(self.app, self.journey, self.stall_days)

    def action_edit(self) -> None:
        """Open the highlighted transition — on a stage, the transition into it — (or
        the journey) in the Conditions pane."""
        if self.journey is None:
            return
        from journeytui.tui.panes.conditions import ConditionsPane

        transition = (self.item.transition.number
                      if self.item is not None and self.item.transition is not None else None)
        if transition is None and self.item is not None and self.item.stage is not None:
            # a stage: the (first) transition into it — what decides who reaches it
            into = [t.number for t in (self.figures.transitions if self.figures else [])
                    if t.target == self.item.stage.name]
            transition = min(into) if into else None
        pane = self.japp.main.show_pane(ConditionsPane.PANE_ID)
        if isinstance(pane, ConditionsPane):
            pane.open_journey(self.journey, transition=transition)

    # -- shell hooks -----------------------------------------------------------------
    def palette_commands(self) -> list[PaletteCommand]:
        commands = [
            PaletteCommand(f"Funnel of {j.name}", "Journeys pane (key o)",
                           partial(self.show_journey, j.name))
            for j in self.journeys
        ]
        commands.append(PaletteCommand("Stall threshold up", "Journeys pane (key +)",
                                       partial(self.action_stall, 1)))
        commands.append(PaletteCommand("Stall threshold down", "Journeys pane (key -)",
                                       partial(self.action_stall, -1)))
        return commands

    def export_job(self) -> ExportJob | None:
        item, f, jid = self.item, self.figures, self.jid
        if item is None or f is None or jid is None:
            return None
        if item.stage is not None:
            stage, sort, before, now = item.stage.name, self.sort, self._stall_cutoff(), f.now

            def contacts(store: Store) -> Iterable[Sequence[object]]:
                for c in all_stage_contacts(store, jid, stage, before=before, sort=sort):
                    yield [c.contact_id, c.name, c.address, stage, fmt.when(c.since),
                           _days_in(c, now)]

            stem = f"{f.journey}-{stage}{'-stalled' if before is not None else ''}"
            return ExportJob(_stem(stem), ["contact_id", "name", "address", "stage",
                                           "in_stage_since_utc", "days_in_stage"], contacts)
        assert item.transition is not None
        t = item.transition
        rows = [[t.number, t.label, e.email, e.moved, e.clicks, e.idle]
                for e in transition_effects(t, f)]

        def produce(_store: Store) -> Iterable[Sequence[object]]:
            return rows

        return ExportJob(_stem(f"{f.journey}-t{t.number}"),
                         ["transition", "label", "email", "moved", "clicks_in_stage",
                          "clicks_without_move"], produce)

    def help_extra(self) -> list[tuple[str, str]]:
        return [
            ("Moved here", "a transition's moves that the email's event triggered"),
            ("Clicks in stage", ("clicks on the email while in the from-stage (not the "
                                 "click that brought the contact into it)")),
            ("No move", "of those clicks, the ones after which the contact did not move"),
            ("↑ ↓ j k", "move over stages (▸) and transitions (↓ t1 …) of the funnel"),
            ("Enter", "funnel: into the list below · list: open the contact / the email"),
            ("+ -", "change the stall threshold (days in a stage)"),
            ("t, s", "stage list: stalled only / all · sort order"),
            ("x", "export the list below as CSV"),
            ("", "next step = reached next / reached · of entered = reached / reached stage 1"),
            ("", "drop-off = reached − reached next · median days from entering to the next"),
        ]


def _days_in(c: StageContact, now: int | None) -> str:
    if c.since is None or now is None:
        return fmt.DASH
    return str(max(0, (now - c.since) // DAY))


def _stem(text: str) -> str:
    out = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "journey"
