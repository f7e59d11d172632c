"""The events behind one figure of an email (key ``p`` on the email detail): time,
event, contact (never for an anonymous event), detail, where it came from (file:line,
webhook request or stdin, and batch) and the provider's event id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label
from textual.worker import Worker, WorkerState

from journeytui.domain.provenance import FIGURE_TITLES, FigureExplanation, explain_figure
from journeytui.store import Store
from journeytui.timefmt import fmt_time
from journeytui.tui.text import clean

#: events listed at most (the CLI lists them all: journeytui explain … --limit 0)
LIMIT = 500


def figure_choices(links: list[str]) -> list[tuple[str, str]]:
    """(id, label) of every figure the picker offers; a link's id is ``link:URL``."""
    out = [("sent", "Sent"), ("delivered", "Delivered"), ("bounced", "Bounced"),
           ("dropped", "Dropped (not sent)"), ("opened", "Opened"), ("clicked", "Clicked")]
    out += [(f"link:{url}", "  clicked: " + url) for url in links]
    out += [("unsubscribed", "Unsubscribed"), ("spam", "Spam reports")]
    return out


class EvidenceScreen(ModalScreen[None]):
    """A table of the events behind one figure; Esc goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="evidence.close"),
    ]

    DEFAULT_CSS = """
    EvidenceScreen { align: center middle; }
    EvidenceScreen > #evidence { width: 100%; height: 100%; border: round $primary;
                                  background: $surface; padding: 0 1; }
    EvidenceScreen #evidence-table { height: 1fr; }
    EvidenceScreen .hint { color: $text-muted; width: 100%; }
    EvidenceScreen #evidence-row { width: 100%; height: 3; }
    """

    @dataclass
    class Loaded(Message):
        result: FigureExplanation | str

    def __init__(self, open_store: Callable[[], object], email: str, figure: str,
                 link: str | None = None) -> None:
        super().__init__()
        self.open_store = open_store
        self.email = email
        self.figure = figure
        self.link = link
        self.explanation: FigureExplanation | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="evidence"):
            yield Label(Text(f"{clean(self.email)} — loading…"), id="evidence-title")
            yield Label(Text(""), id="evidence-note", classes="hint")
            table: DataTable[str | Text] = DataTable(id="evidence-table", cursor_type="row",
                                                     zebra_stripes=True)
            yield table
            yield Label(Text(""), id="evidence-row")
            yield Label(Text("↑↓ PgUp PgDn move · →← scroll the columns · Esc back"),
                        classes="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # the source first (it is what p is for); the highlighted row in full below
        for title, width in (("Time (UTC)", 16), ("Event", 20), ("Contact", 24),
                             ("From", None), ("Event id", None), ("Detail", None)):
            table.add_column(title, width=width)
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, group="evidence", exit_on_error=False)
    def _load(self) -> None:
        with self.open_store() as store:  # type: ignore[attr-defined]
            assert isinstance(store, Store)
            result = explain_figure(store, self.email, self.figure, link=self.link, limit=LIMIT)
        self.post_message(self.Loaded(result))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The worker raised: the screen says why, in place (the app's one wording)."""
        if event.state == WorkerState.ERROR:
            said = self.app.failure_text(event.worker.error)  # type: ignore[attr-defined]
            self.post_message(self.Loaded(said))

    def on_evidence_screen_loaded(self, message: Loaded) -> None:
        title = self.query_one("#evidence-title", Label)
        note = self.query_one("#evidence-note", Label)
        ex = message.result
        if isinstance(ex, str):
            title.update(Text(f"{clean(self.email)} — could not list the events"))
            note.update(Text(clean(ex)))
            return
        self.explanation = ex
        what = "Clicked: " + clean(self.link) if self.link else FIGURE_TITLES[ex.figure]
        head = Text()
        head.append(clean(ex.email), style="bold")
        head.append(f" — {what}: {ex.value:,}; {ex.total:,} event{'s' if ex.total != 1 else ''}"
                    + (f", the first {len(ex.rows):,} listed" if len(ex.rows) < ex.total
                       else ""))
        title.update(head)
        note.update(Text(clean(ex.note)))
        table = self.query_one(DataTable)
        for r in ex.rows:
            table.add_row(
                fmt_time(r.at), clean(r.event),
                Text(clean(r.who)) if r.who else Text("(anonymous)", style="italic"),
                Text(clean(r.where)),
                Text(clean(r.source.event_id or "")) if r.source else Text(""),
                Text(clean(r.detail)),
            )
        if ex.rows:
            self._show_row(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_row(event.cursor_row)

    def _show_row(self, index: int) -> None:
        ex = self.explanation
        if ex is None or not 0 <= index < len(ex.rows):
            return
        r = ex.rows[index]
        line = Text()
        line.append("From ", style="bold")
        line.append(clean(r.where))
        if r.source is not None and r.source.event_id:
            line.append(" · event id ", style="bold")
            line.append(clean(r.source.event_id))
        if r.detail:
            line.append(" · ", style="bold")
            line.append(clean(r.detail))
        self.query_one("#evidence-row", Label).update(line)

    def action_close(self) -> None:
        self.dismiss(None)

