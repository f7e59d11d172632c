"""When an email was opened and clicked: two small bar charts (by hour after the send,
the first 24 hours; by day after it) of :func:`journeytui.domain.timing.timing`, and the
screen that shows them for an email (the Emails pane's key w).

Each hour or day is a pair of bars, opens then clicks, in eighths of a character cell;
the tallest bar of a chart is its full height, and the figures it stands for are said
above it.  Only contacts with tracking consent (the domain's rule), said on screen.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Label

from journeytui.domain.timing import DAYS, HOURS, Timing, timing
from journeytui.errors import UserError
from journeytui.tui.text import clean

EIGHTHS = " ▁▂▃▄▅▆▇█"


def column(value: int, top: int, height: int) -> list[str]:
    """One bar, top row first: *height* cells of eighths, the tallest *top* = full."""
    units = round(value / top * height * 8) if top else 0
    if value and not units:
        units = 1  # something is never drawn as nothing
    return [EIGHTHS[max(0, min(8, units - (height - 1 - r) * 8))] for r in range(height)]


def chart_lines(opens: list[int], clicks: list[int], height: int, gap: int,
                styles: tuple[Style, Style]) -> list[Text]:
    top = max(opens + clicks) or 1
    cols = [(column(o, top, height), column(c, top, height))
            for o, c in zip(opens, clicks, strict=True)]
    lines = []
    for r in range(height):
        line = Text(no_wrap=True)
        for o, c in cols:
            line.append(o[r], style=styles[0])
            line.append(c[r], style=styles[1])
            line.append(" " * gap)
        lines.append(line)
    return lines


def axis(labels: list[str], width: int) -> Text:
    """Labels under the columns (each *width* cells), those that fit."""
    text = ""
    for i, label in enumerate(labels):
        start = i * width
        if len(text) <= start:
            text += " " * (start - len(text)) + label
    return Text(text, no_wrap=True)


class TimingChart(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timing--opens", "timing--clicks", "timing--muted", "timing--title",
    }

    DEFAULT_CSS = """
    TimingChart { height: auto; }
    TimingChart > .timing--opens { color: $stage-1; }
    TimingChart > .timing--clicks { color: $stage-3; }
    TimingChart > .timing--muted { color: $text-muted; }
    TimingChart > .timing--title { text-style: bold; }
    """

    HOUR_ROWS = 5
    DAY_ROWS = 4

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timing: Timing | None = None
        self.message = "Reading…"

    def show(self, t: Timing | None, message: str = "") -> None:
        self.timing = t
        self.message = message
        self.refresh(layout=True)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _chart(self, out: Text, title: str, opens: list[int], clicks: list[int], rows: int,
               gap: int, labels: list[str], styles: tuple[Style, Style]) -> None:
        out.append("\n")
        out.append(title, style=self._style("timing--title"))
        out.append(f"  (tallest: {max(opens + clicks):,})", style=self._style("timing--muted"))
        for line in chart_lines(opens, clicks, rows, gap, styles):
            out.append("\n")
            out.append_text(line)
        out.append("\n")
        out.append_text(axis(labels, 2 + gap))

    def render(self) -> Text:
        t = self.timing
        muted = self._style("timing--muted")
        if t is None:
            return Text(self.message, style=muted)
        styles = (self._style("timing--opens"), self._style("timing--clicks"))
        out = Text()
        out.append(f"█ {t.opens:,} opens", style=styles[0])
        out.append("  ")
        out.append(f"█ {t.clicks:,} clicks", style=styles[1])
        out.append(f" · consented only; +{t.anonymous_opens:,}/+{t.anonymous_clicks:,} "
                   "anonymous", style=muted)
        out.append("\n")
        med_o = "—" if t.median_hours_to_first_open is None else \
            f"{t.median_hours_to_first_open} h"
        med_c = "—" if t.median_hours_to_first_click is None else \
            f"{t.median_hours_to_first_click} h"
        out.append(f"{t.openers:,} openers, median {med_o} to the 1st open · "
                   f"{t.clickers:,} clickers, {med_c}", style=muted)
        hours = [f"{h}h" if h % 3 == 0 else "" for h in range(HOURS)]
        self._chart(out, "By hour after the send", t.hour_opens, t.hour_clicks,
                    self.HOUR_ROWS, 1, hours, styles)
        days = [f"d{d}" for d in range(DAYS)] + [f"{DAYS}+"]
        self._chart(out, "By day after the send", t.day_opens, t.day_clicks,
                    self.DAY_ROWS, 2, days, styles)
        if t.before_send:
            out.append(f"\n{t.before_send:,} stamped before the send time: left out",
                       style=muted)
        return out


class TimingScreen(ModalScreen[None]):
    """The timing of one email (from the Emails pane)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,w", "close", "Close", id="timing.close"),
    ]

    DEFAULT_CSS = """
    TimingScreen { align: center middle; }
    TimingScreen > #timing { width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1; }
    TimingScreen .hint { color: $text-muted; }
    """

    def __init__(self, email: str) -> None:
        super().__init__()
        self.email = email

    def compose(self) -> ComposeResult:
        with Vertical(id="timing"):
            yield Label(Text(f"When {clean(self.email)} was opened and clicked",
                             style="bold", no_wrap=True, overflow="ellipsis"))
            yield TimingChart(id="timing-chart")
            yield Label("Esc closes · the same: journeytui timing EMAIL", classes="hint",
                        markup=False)

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="timing", exit_on_error=False)
    def _load(self) -> None:
        try:
            with self.app.pool.store() as store:  # type: ignore[attr-defined]
                t = timing(store, self.email)
        except UserError as exc:
            self.app.call_from_thread(self.query_one(TimingChart).show, None, str(exc))
            return
        self.app.call_from_thread(self.query_one(TimingChart).show, t)

    def action_close(self) -> None:
        self.dismiss(None)
