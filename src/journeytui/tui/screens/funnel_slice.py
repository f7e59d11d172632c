"""The funnel at a past date, for an entry cohort, and compared — from the Journeys
pane (key a): a dialog asks which (:class:`SliceDialog`), a screen shows it
(:class:`SliceScreen`).  The figures are :mod:`journeytui.domain.cohort`'s, as the
command line's ``funnel --as-of / --entered-from / --compare …``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from journeytui.domain.cohort import (
    Slice,
    compare_slices,
    describe,
    parse_range,
    parse_when,
    slice_funnel,
)
from journeytui.errors import UserError
from journeytui.tui import fmt
from journeytui.tui.text import clean

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True)
class SliceRequest:
    journey: str
    shown: Slice
    before: Slice | None  # a comparison: this one before, *shown* after
    texts: tuple[str, ...]  # what was typed, to fill the dialog again


FIELDS = (
    ("as_of", "As of", "YYYY-MM-DD (end of day) or empty: the evaluation"),
    ("from", "Entered from", "YYYY-MM-DD: the entry cohort's first day"),
    ("to", "Entered to", "YYYY-MM-DD: its last day"),
    ("within", "Within days", "N: count moves up to N days after each entry"),
    ("compare", "Compare with", "a date, or FROM..TO (another cohort)"),
)


def _last(app: Any) -> dict[str, tuple[str, ...]]:
    """What was typed last time, per journey — kept by the app (one per session)."""
    kept: dict[str, tuple[str, ...]] | None = getattr(app, "_funnel_slice_last", None)
    if kept is None:
        kept = {}
        app._funnel_slice_last = kept
    return kept


def build_request(journey: str, texts: tuple[str, ...]) -> SliceRequest:
    """The request for what was typed (UserError: what is wrong, in words)."""
    as_of, lo, hi, within, other = (t.strip() for t in texts)
    days = None
    if within:
        if not within.isdigit():
            raise UserError(f"Within days {within}: a whole number of days")
        days = int(within)
    shown = Slice(
        parse_when(as_of, "As of", end_of_day=True) if as_of else None,
        parse_when(lo, "Entered from") if lo else None,
        parse_when(hi, "Entered to", end_of_day=True) if hi else None,
        days,
    )
    shown.check()
    before = None
    if other:
        if ".." in other:
            a, b = parse_range(other, "Compare with")
            before = Slice(shown.as_of, a, b, days)
        else:
            before = Slice(parse_when(other, "Compare with", end_of_day=True),
                           shown.entered_from, shown.entered_to, days)
    return SliceRequest(journey, shown, before, tuple(texts))


class SliceDialog(ModalScreen[SliceRequest | None]):
    """Which funnel: as of, entry cohort, window, comparison (all optional)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="slice.cancel"),
        Binding("down", "app.focus_next", "Next field", show=False, id="slice.next"),
        Binding("up", "app.focus_previous", "Previous field", show=False, id="slice.prev"),
    ]

    DEFAULT_CSS = """
    SliceDialog { align: center middle; }
    SliceDialog > #slice { width: 74; max-width: 98%; height: auto; border: round $primary;
        background: $surface; padding: 0 1; }
    SliceDialog .row { height: 1; }
    SliceDialog .row Label { width: 14; }
    SliceDialog .row Input { width: 1fr; height: 1; border: none; padding: 0 1;
        background: $panel; }
    SliceDialog .row Input:focus { background: $primary 30%; }
    /* a 16-colour theme's panel is the terminal's own background: a field would show
       only its label; it takes the blurred cursor's colours instead (grey, white text) */
    SliceDialog.-ansi .row Input { background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground; }
    SliceDialog.-ansi .row Input:focus { background: $primary; color: $foreground; }
    SliceDialog #slice-help { color: $text-muted; height: 1; }
    SliceDialog #slice-error { color: $error; height: auto; }
    SliceDialog .hint { color: $text-muted; }
    """

    def __init__(self, journey: str, stall_days: int) -> None:
        super().__init__()
        self.journey = journey
        self.stall_days = stall_days

    def compose(self) -> ComposeResult:
        texts = _last(self.app).get(self.journey, ("",) * len(FIELDS))
        with Vertical(id="slice"):
            yield Label(Text(f"The funnel of {clean(self.journey)} at a time, for a cohort",
                             style="bold"))
            for (key, label, _), value in zip(FIELDS, texts, strict=True):
                with Horizontal(classes="row"):
                    yield Label(label, markup=False)
                    yield Input(value, id=f"slice-{key}", select_on_focus=False)
            yield Static("", id="slice-help", markup=False)
            yield Static("", id="slice-error", markup=False)
            yield Label("Tab/↑↓ fields · Enter shows it · Esc cancels · empty = no limit",
                        classes="hint", markup=False)

    def on_mount(self) -> None:
        self.set_class(self.app.current_theme.ansi, "-ansi")
        for field in self.query(Input):
            field.cursor_blink = getattr(self.app, "blink", True)
        self.query_one("#slice-as_of", Input).focus()
        self._show_error(None)

    def on_descendant_focus(self, event: Any) -> None:
        widget = getattr(event, "widget", None)
        for key, _, help_text in FIELDS:
            if widget is not None and widget.id == f"slice-{key}":
                self.query_one("#slice-help", Static).update(help_text)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_error(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        texts = tuple(self.query_one(f"#slice-{k}", Input).value for k, _, _ in FIELDS)
        try:
            request = build_request(self.journey, texts)
        except UserError as exc:
            self._show_error(str(exc))
            return
        _last(self.app)[self.journey] = texts
        self.dismiss(request)

    def _show_error(self, problem: str | None) -> None:
        error = self.query_one("#slice-error", Static)
        error.update(f"✗ {problem}" if problem else "")
        error.display = bool(problem)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _signed(v: int | None) -> str:
    """A change of a count, signed with a minus sign (a change of a rate: fmt.pts)."""
    return "" if v is None else f"{v:+,}".replace("-", "−")


def slice_table(data: dict[str, Any]) -> Table:
    t = Table(box=None, padding=(0, 1), header_style="bold", expand=False)
    for name, right in (("Stage", False), ("Reached", True), ("Current", True),
                        ("Next", True), ("Cumul.", True), ("Med. d", True),
                        ("Stalled", True)):
        t.add_column(name, justify="right" if right else "left", no_wrap=True)
    for s in data["stages"]:
        t.add_row(clean(s["stage"]), fmt.num(s["reached"]), fmt.num(s["current"]),
                  fmt.pct(s["next_step_conversion"]), fmt.pct(s["cumulative_conversion"]),
                  fmt.days(s["median_days_to_next"]),
                  "goal" if s["stalled"] is None else fmt.num(s["stalled"]))
    for e in data["exits"]:
        t.add_row(Text(clean(e["stage"]) + " (exit)", style="dim"), fmt.num(e["reached"]),
                  fmt.num(e["current"]), "", "", "", "")
    return t


def comparison_table(data: dict[str, Any]) -> Table:
    t = Table(box=None, padding=(0, 1), header_style="bold", expand=False)
    for name, right in (("Stage", False), ("Reached", True), ("Δ", True), ("Current", True),
                        ("Δ", True), ("Cumulative", True), ("Δ", True)):
        t.add_column(name, justify="right" if right else "left", no_wrap=True)
    for s in data["stages"]:
        r, c, k = s["reached"], s["current"], s["cumulative_conversion"]
        t.add_row(clean(s["stage"]), fmt.num(r["after"]), _signed(r["delta"]), fmt.num(c["after"]),
                  _signed(c["delta"]), fmt.pct(k["after"]), fmt.pts(k["delta"]))
    for e in data["exits"]:
        r, c = e["reached"], e["current"]
        t.add_row(Text(clean(e["stage"]) + " (exit)", style="dim"), fmt.num(r["after"]),
                  _signed(r["delta"]), fmt.num(c["after"]), _signed(c["delta"]), "", "")
    return t


class SliceScreen(ModalScreen[None]):
    """The funnel of a :class:`SliceRequest` (or the change between two)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="slice-view.close"),
        Binding("a", "again", "Change", id="slice-view.again"),
    ]

    DEFAULT_CSS = """
    SliceScreen { align: center middle; }
    SliceScreen > #slice-view { width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1; }
    SliceScreen #slice-body { height: auto; max-height: 18; }
    SliceScreen .hint { color: $text-muted; }
    """

    def __init__(self, request: SliceRequest, stall_days: int) -> None:
        super().__init__()
        self.request = request
        self.stall_days = stall_days
        self.data: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        r = self.request
        with Vertical(id="slice-view"):
            title = Text(clean(r.journey), style="bold")
            if r.before is not None:
                title.append(" — change per stage")
            yield Static(title, id="slice-title")
            yield Static(self._heading(), id="slice-heading", markup=False)
            with VerticalScroll(id="slice-body"):
                yield Static("Computing…", id="slice-table")
            yield Label("a change · Esc closes · the same: journeytui funnel … --as-of/"
                        "--entered-from/--compare", classes="hint", markup=False)

    def _heading(self) -> str:
        r = self.request
        if r.before is not None:
            return f"before: {describe(r.before)}\nafter:  {describe(r.shown)}"
        return describe(r.shown)

    def on_mount(self) -> None:
        self._compute()

    @work(thread=True, exclusive=True, group="slice", exit_on_error=False)
    def _compute(self) -> None:
        r = self.request
        try:
            with self.app.pool.store() as store:  # type: ignore[attr-defined]
                if r.before is not None:
                    data = compare_slices(store, r.journey, r.before, r.shown,
                                          stall_days=self.stall_days)
                else:
                    data = slice_funnel(store, r.journey, r.shown, stall_days=self.stall_days)
        except UserError as exc:
            self.app.call_from_thread(self._show, None, str(exc))
            return
        self.app.call_from_thread(self._show, data, "")

    def _show(self, data: dict[str, Any] | None, error: str) -> None:
        self.data = data
        body = self.query_one("#slice-table", Static)
        if data is None:
            body.update(Text(f"✗ {error}"))
            return
        r = self.request
        if r.before is not None:
            n = data["in_journey"]
            head = Text(f"contacts: {n['before']:,} → {n['after']:,} "
                        f"({_signed(n['delta'])})")
            body.update(Group(head, comparison_table(data)))
        else:
            head = Text(f"{data['in_journey']:,} contacts · stalled > {self.stall_days} days")
            body.update(Group(head, slice_table(data)))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_again(self) -> None:
        r, stall = self.request, self.stall_days
        app = self.app
        self.dismiss(None)
        open_slice(app, r.journey, stall)


def open_slice(app: App[Any], journey: str, stall_days: int) -> None:
    """Ask which funnel (the dialog), then show it."""

    def chosen(request: SliceRequest | None) -> None:
        if request is not None:
            app.push_screen(SliceScreen(request, stall_days))

    app.push_screen(SliceDialog(journey, stall_days), chosen)
