"""The Insights pane: the four patterns of a journey as findings, and its follow-up
segments.

Top: which journey, D (how long counts as not moving on), when evaluated.  Then the
findings, grouped by pattern (⚠ marks those worth acting on), and the journey's
segments with their sizes; below, the reading of the highlighted one and the contacts
behind it (Enter on a finding or a segment lists them, Enter on a contact opens it).
Every figure comes from :mod:`journeytui.domain.insights` and
:mod:`journeytui.domain.segments`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from journeytui.domain import insights as ins
from journeytui.domain import segments as seg
from journeytui.domain.journeys import JourneyInfo, list_journeys
from journeytui.store import Store
from journeytui.tui import fmt
from journeytui.tui.panes.base import ExportJob, PaletteCommand, Pane, set_panel_title
from journeytui.tui.text import clean
from journeytui.tui.widgets.paged_table import Column, FuncSource, ListSource, PagedTable, Row

DAY_STEPS = [7, 14, 30, 60, 90]
LAYOUT_NAMES = {"sendgrid": "SendGrid", "mailchimp": "Mailchimp"}
FINDING_COLUMNS = [
    Column("", 1),
    Column("Finding", None, min_width=20),
    Column("Figure", 19, justify="right"),
    Column("Who", 6, justify="right"),
]
CONTACT_COLUMNS = [
    Column("Name", 20),
    Column("Address", None, min_width=16),
    Column("When", 16),
]
TITLES = {
    "stall": "Stall after a message",
    "clicks": "Clicks without progress",
    "unsubscribes": "Unsubscribe spikes",
    "dormant": "Dormant re-engaging",
}


def finding_cells(f: ins.Finding) -> tuple[str, str, str, str]:
    """(mark, what, figure, contacts) of one finding row."""
    mark = "⚠" if f.flagged else ""
    if isinstance(f, ins.StallFinding):
        what = f"{f.email} · in {f.stage}"
        fig = f"{fmt.pts(f.difference)} ({fmt.pct(f.share)})"
    elif isinstance(f, ins.ClickFinding):
        url = f.url.split("://", 1)[-1].removeprefix("www.")
        what = f"{url} · {f.email} · {f.stage}"
        fig = f"{f.not_moved:,}/{f.clickers:,} ({fmt.pct(f.share)})"
    elif isinstance(f, ins.UnsubFinding):
        what = f"{f.email} · {f.list}"
        times = "" if f.times_median is None else f" {f.times_median:.1f}×"
        fig = f"{fmt.pct(f.rate)}{times}"
    else:
        what = f"{f.email} · from {f.stage}"
        fig = f"{f.reengaged:,}/{f.recipients:,} ({fmt.pct(f.share)})"
    return mark, clean(what), fig, fmt.num(f.contacts)


def segment_cells(g: seg.SegmentInfo) -> tuple[str, str, str, str]:
    n = fmt.DASH if g.members is None else fmt.num(g.members)
    return "", clean(f"{g.segment.name} · {g.segment.rule()}"), clean(g.segment.stage), n


def finding_rows(result: ins.Insights, segs: Sequence[seg.SegmentInfo] = ()) -> list[Row]:
    rows: list[Row] = []
    for kind in ins.KINDS:
        items: list[ins.Finding] = list(getattr(result, kind))
        flagged = sum(1 for f in items if f.flagged)
        left = result.left_out.get(kind, 0)
        head = f"— {TITLES[kind]}: {len(items)}" + (f", ⚠ {flagged}" if flagged else "")
        if left:
            head += f" ({left} too small)"
        rows.append(Row(len(rows), ("", head + " —", "", ""), dim=True))
        if not items:
            rows.append(Row(len(rows), ("", "(nothing with enough contacts)", "", ""),
                            dim=True))
        for f in items:
            rows.append(Row(len(rows), finding_cells(f), payload=f))
    rows.append(Row(len(rows), ("", f"— Follow-up segments: {len(segs)} —", "", ""),
                    dim=True))
    if not segs:
        rows.append(Row(len(rows), ("", "(none: a journey file defines them under "
                                    "\"segments\")", "", ""), dim=True))
    for g in segs:
        rows.append(Row(len(rows), segment_cells(g), payload=g))
    return rows


class InsightsPane(Pane):
    PANE_ID = "insights"
    TITLE = "Insights"
    SUMMARY = ("What a journey's data says: stalls after a message, clicks without "
               "progress, unsubscribe spikes, dormant contacts re-engaging; who is behind "
               "each finding.")

    DEFAULT_CSS = """
    InsightsPane #insights-head { height: 1; }
    InsightsPane #insights-findings { height: 3fr; }
    InsightsPane #insights-reading { height: 3; padding: 0 1; }
    InsightsPane #insights-contacts { height: 2fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "pick_journey", "Journey", id="insights.pick"),
        Binding("plus,equals_sign", "days(1)", "Days +", key_display="+",
                id="insights.days-up"),
        Binding("minus", "days(-1)", "Days −", key_display="-", id="insights.days-down"),
        Binding("f", "focus_findings", "Findings", show=False, id="insights.focus-findings"),
        Binding("c", "focus_contacts", "Contacts", show=False, id="insights.focus-contacts"),
        Binding("r", "reload", "Reload", show=False, id="insights.reload"),
        Binding("m", "upload_layout", "Upload layout", show=False, id="insights.layout"),
    ]

    @dataclass
    class JourneysLoaded(Message):
        journeys: list[JourneyInfo]

    @dataclass
    class InsightsLoaded(Message):
        name: str
        days: int
        result: ins.Insights
        segs: list[seg.SegmentInfo]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.journeys: list[JourneyInfo] = []
        self.journey: str | None = None
        self.days = ins.DEFAULT_DAYS
        self.result: ins.Insights | None = None
        self.segs: list[seg.SegmentInfo] = []
        self.upload_layout = "sendgrid"  # the layout a segment's export is written in
        # whose contacts are listed
        self.finding: ins.Finding | seg.SegmentInfo | None = None
        self.highlighted: ins.Finding | seg.SegmentInfo | None = None

    def compose(self) -> ComposeResult:
        yield Static("Loading journeys…", id="insights-head", markup=False)
        yield PagedTable(FINDING_COLUMNS, id="insights-findings", classes="panel",
                         empty_text="Loading…")
        yield Static("", id="insights-reading", markup=False)
        yield PagedTable(CONTACT_COLUMNS, id="insights-contacts", classes="panel",
                         empty_text="Enter on a finding lists the contacts behind it.")

    @property
    def findings(self) -> PagedTable:
        return self.query_one("#insights-findings", PagedTable)

    @property
    def contacts(self) -> PagedTable:
        return self.query_one("#insights-contacts", PagedTable)

    def focus_target(self) -> Widget | None:
        return self.findings

    def on_mount(self) -> None:
        set_panel_title(self.findings, "Findings")
        set_panel_title(self.contacts, "Contacts")
        self._show_head()

    def on_pane_shown(self) -> None:
        self.reload()

    # -- loading ---------------------------------------------------------------------
    def reload(self) -> None:
        self._load_journeys()

    @work(thread=True, exclusive=True, group="insights-journeys", exit_on_error=False)
    def _load_journeys(self) -> None:
        with self.japp.pool.store() as store:
            journeys = list_journeys(store)
        self.post_message(self.JourneysLoaded(journeys))

    def on_insights_pane_journeys_loaded(self, message: JourneysLoaded) -> None:
        self.journeys = message.journeys
        if not self.journeys:
            self.journey = None
            self.findings.set_source(ListSource([]), empty_text=(
                "This store has no journeys yet: insights read a journey's results."))
            self._show_head()
            return
        names = [j.name for j in self.journeys]
        if self.journey not in names:
            self.journey = names[0]
        self.show_journey(self.journey)

    def show_journey(self, name: str) -> None:
        self.journey = name
        self.japp.status_begin("insights", f"Reading the insights of {clean(name)}…")
        self._show_head()
        self._load_insights(name, self.days)

    @work(thread=True, exclusive=True, group="insights", exit_on_error=False)
    def _load_insights(self, name: str, days: int) -> None:
        try:
            with self.japp.pool.store() as store:
                result = ins.insights(store, name, days=days)
                segs = [g for g in seg.list_segments(store) if g.journey == name]
        finally:
            self.app.call_from_thread(self.japp.status_end, "insights")
        self.post_message(self.InsightsLoaded(name, days, result, segs))

    def on_insights_pane_insights_loaded(self, message: InsightsLoaded) -> None:
        if message.name != self.journey or message.days != self.days:
            return
        self.result = message.result
        self.segs = message.segs
        self._show_head()
        rows = finding_rows(message.result, message.segs)
        self.findings.set_source(ListSource(rows))
        n = len(message.result.all())
        set_panel_title(self.findings, f"Findings ({n:,})")
        self.finding = None
        self.contacts.set_source(ListSource([]), empty_text=(
            "Enter on a finding lists the contacts behind it."))
        set_panel_title(self.contacts, "Contacts")
        first = next((r.payload for r in rows if r.payload is not None), None)
        self._show_reading(first)

    def _show_head(self) -> None:
        head = Text(no_wrap=True, overflow="ellipsis")
        if self.journey is None:
            head.append(" No journey" if self.journeys == [] else " Loading journeys…")
        else:
            head.append(" Insights ", style="bold")
            head.append(clean(self.journey))
            head.append(" · not moved on after ")
            head.append(f"{self.days} days", style="bold")
            head.append(" (+/-)")
            if self.result is not None:
                head.append(f" · as of {fmt.when(self.result.evaluated_at)}", style="dim")
        self.query_one("#insights-head", Static).update(head)

    def _show_reading(self, f: ins.Finding | seg.SegmentInfo | None) -> None:
        self.highlighted = f
        text = Text()
        if isinstance(f, seg.SegmentInfo):
            text.append(f"Segment {clean(f.segment.name)}: ", style="bold")
            text.append(clean(f.segment.rule()))
            layout = LAYOUT_NAMES[self.upload_layout]
            text.append(f" · Enter: who · x on the list: {layout} CSV (m)", style="dim")
            if f.segment.description:
                text.append(" — " + clean(f.segment.description))
        elif f is None:
            text.append(f"Shares resting on fewer than {ins.MIN_COUNT} contacts are not "
                        "shown.", style="dim")
        else:
            if f.flagged:
                text.append("⚠ ", style="bold")
            text.append(clean(f.reading))
        self.query_one("#insights-reading", Static).update(text)

    # -- lists -------------------------------------------------------------------------
    def on_paged_table_highlighted(self, event: PagedTable.Highlighted) -> None:
        event.stop()
        if event.table is self.findings:
            payload = event.row.payload
            if payload is not None:
                self._show_reading(payload)

    def on_paged_table_selected(self, event: PagedTable.Selected) -> None:
        event.stop()
        payload = event.row.payload
        if event.table is self.findings:
            if payload is not None:
                self.show_contacts(payload)
        elif isinstance(payload, ins.FindingContact | seg.Member):
            self.japp.main.open_contact(payload.contact_id)

    def show_segment(self, g: seg.SegmentInfo) -> None:
        self.finding = g
        seg_name, seg_journey = g.segment.name, g.journey

        def count(store: Store) -> int:
            return len(seg.members(store, seg_name, seg_journey)[3])

        def page(store: Store, after: Any, limit: int) -> list[Row]:
            # (the members in stage-since order; a page is those after the key)
            rows = [m for m in seg.members(store, seg_name, seg_journey)[3]
                    if after is None or (m.since or 0, m.contact_id) > after]
            return [Row((m.since or 0, m.contact_id),
                        (clean(f"{m.first_name} {m.last_name}".strip()) or "(no name)",
                         clean(m.email) + (" (unsubscribed)" if m.unsubscribed_all else ""),
                         fmt.when(m.since)), payload=m)
                    for m in rows[:limit]]

        self.contacts.set_source(FuncSource(count, page),
                                 empty_text="Nobody in this segment now.")
        n = fmt.DASH if g.members is None else fmt.num(g.members)
        set_panel_title(self.contacts, f"Contacts ({n}) · segment {clean(g.segment.name)}"
                        " · When = in the stage since")
        self.contacts.focus()

    def show_contacts(self, f: ins.Finding | seg.SegmentInfo) -> None:
        name, days = self.journey, self.days
        if name is None:
            return
        if isinstance(f, seg.SegmentInfo):
            self.show_segment(f)
            return
        self.finding = f
        fid = f.id

        def count(store: Store) -> int:
            return ins.count_finding_contacts(store, name, fid, days=days)

        def page(store: Store, after: Any, limit: int) -> list[Row]:
            return [
                Row((c.at, c.contact_id),
                    (clean(f"{c.first_name} {c.last_name}".strip()) or "(no name)",
                     clean(c.email), fmt.when(c.at)), payload=c)
                for c in ins.finding_contacts(store, name, fid, days=days, after=after,
                                              limit=limit)
            ]

        self.contacts.set_source(FuncSource(count, page), empty_text=(
            "Nobody to list (unsubscribers without tracking consent are not listed)."
            if f.kind == "unsubscribes" else "Nobody to list."))
        label = ins.TIME_LABELS[f.kind]
        set_panel_title(self.contacts, f"Contacts ({f.contacts:,}) · {f.id} · When = {label}")
        self.contacts.focus()

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
        self.app.push_screen(PickDialog("Show the insights of", choices, self.journey),
                             chosen)

    def action_days(self, direction: int) -> None:
        steps = DAY_STEPS if direction > 0 else list(reversed(DAY_STEPS))
        new = next((s for s in steps if (s > self.days if direction > 0 else s < self.days)),
                   self.days)
        if new == self.days:
            self.notify(f"D is already {new} days.", markup=False)
            return
        self.days = new
        if self.journey is not None:
            self.show_journey(self.journey)

    def action_focus_findings(self) -> None:
        self.findings.focus()

    def action_focus_contacts(self) -> None:
        self.contacts.focus()

    def action_reload(self) -> None:
        self.reload()

    def action_upload_layout(self) -> None:
        self.upload_layout = "mailchimp" if self.upload_layout == "sendgrid" else "sendgrid"
        layout = LAYOUT_NAMES[self.upload_layout]
        self.notify(f"A segment's export is now a {layout} contact upload.", markup=False)
        self._show_reading(self.highlighted)

    # -- shell hooks -----------------------------------------------------------------
    def palette_commands(self) -> list[PaletteCommand]:
        return [PaletteCommand(f"Insights of {j.name}", "Insights pane (key o)",
                               partial(self.show_journey, j.name)) for j in self.journeys]

    def export_job(self) -> ExportJob | None:
        name, days, result = self.journey, self.days, self.result
        if name is None or result is None:
            return None
        f = self.finding
        if isinstance(f, seg.SegmentInfo) and self.contacts.has_focus:
            seg_name, seg_journey = f.segment.name, f.journey

            def upload(store: Store) -> Iterable[Sequence[object]]:
                _, _, _, members = seg.members(store, seg_name, seg_journey)
                for m in members:
                    if not m.unsubscribed_all:
                        yield [m.email, m.first_name, m.last_name]

            return ExportJob(_stem(f"{seg_journey}-{seg_name}-{self.upload_layout}"),
                             list(seg.LAYOUTS[self.upload_layout]), upload)
        if isinstance(f, ins.Finding) and self.contacts.has_focus:
            fid, kind = f.id, f.kind

            def contacts(store: Store) -> Iterable[Sequence[object]]:
                for c in ins.finding_contacts(store, name, fid, days=days, limit=None):
                    yield [c.contact_id, f"{c.first_name} {c.last_name}".strip(), c.email,
                           fid, fmt.when(c.at)]

            return ExportJob(_stem(f"{name}-{fid}"), ["contact_id", "name", "address",
                                                      "finding", f"{kind}_at_utc"], contacts)
        rows = [[x.id, x.kind, "yes" if x.flagged else "", x.reading]
                for x in result.all()]

        def produce(_store: Store) -> Iterable[Sequence[object]]:
            return rows

        return ExportJob(_stem(f"{name}-insights"), ["finding", "pattern", "flagged",
                                                     "reading"], produce)

    def help_extra(self) -> list[tuple[str, str]]:
        return [
            ("↑ ↓ j k", "move over the findings; the reading of the highlighted one below"),
            ("Enter", "findings, segments: list the contacts behind it · contacts: open the "
                      "contact"),
            ("+ -", "change D, how long after a message or click counts as not moving on"),
            ("f, c", "focus the findings / the contacts"),
            ("x", "export the findings, or (contacts focused) the contacts, as CSV; a "
                  "segment's contacts as a contact upload (unsubscribed from all left out)"),
            ("m", "the upload layout of a segment's export: SendGrid (email, first_name, "
                  "last_name) or Mailchimp (Email Address, First Name, Last Name)"),
            ("", (f"⚠ = worth acting on; nothing resting on fewer than {ins.MIN_COUNT} "
                  "contacts is shown")),
        ]


def _stem(text: str) -> str:
    out = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "insights"
