"""The main screen: header, tab line, the panes, status line and footer."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Static

from journeytui.tui import fmt
from journeytui.tui.panes import PANES
from journeytui.tui.panes.base import ExportJob, Pane
from journeytui.tui.text import clean

if TYPE_CHECKING:
    from journeytui.tui.app import JourneyApp


class StatusLine(Static):
    """Says what is loading; "Ready" when nothing is."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Ready", markup=False, **kwargs)  # type: ignore[arg-type]
        self._active: dict[str, str] = {}

    def begin(self, tag: str, text: str) -> None:
        self._active.pop(tag, None)
        self._active[tag] = text
        self._show()

    def end(self, tag: str) -> None:
        self._active.pop(tag, None)
        self._show()

    @property
    def text(self) -> str:
        if not self._active:
            return "Ready"
        return "⏳ " + list(self._active.values())[-1]

    def _show(self) -> None:
        self.update(Text(clean(self.text)))


class TabLine(Static):
    """The panes and their keys; the current one marked (not only by colour)."""

    def show(self, current: str) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        for pane in PANES:
            key = self.app.get_key_display(Binding(pane.KEY, ""))  # type: ignore[arg-type]
            label = f" {key} {pane.TITLE} "
            if pane.PANE_ID == current:
                line.append(f"▸{label.strip()}◂", style="bold reverse")
                line.append(" ")
            else:
                line.append(label + " ")
        self.update(line)


class MainScreen(Screen[None]):
    AUTO_FOCUS = None  # each pane says what takes the focus (Pane.focus_target)
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                pane.KEY,
                f"show_pane('{pane.PANE_ID}')",
                pane.TITLE,
                show=False,
                id=f"pane.{pane.PANE_ID}",
            )
            for pane in PANES
        ),
        Binding("tab", "app.focus_next", "Next field", show=False, id="focus.next"),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False,
                id="focus.previous"),
        Binding("escape", "back", "Back", id="back"),
        Binding("question_mark,f1", "help", "Help", key_display="?", id="help"),
        Binding("x", "export", "Export CSV", id="export"),
    ]

    class SizeLoaded(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self) -> None:
        super().__init__()
        self.history: list[str] = []
        self.current = PANES[0].PANE_ID

    @property
    def japp(self) -> JourneyApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        name = clean(self.japp.db_path.name)
        yield Static(Text(f" journeytui · {name}", no_wrap=True), id="header", markup=False)
        yield TabLine(id="tabs")
        with ContentSwitcher(initial=self.current, id="panes"):
            for pane in PANES:
                yield pane(id=pane.PANE_ID)
        yield StatusLine(id="status")
        yield Footer()
        with Vertical(id="too-small"):
            yield Static(
                f"Terminal too small: journeytui needs {80}×{24}.\n"
                "Make the window bigger (q quits).",
                id="too-small-text",
                markup=False,
            )

    def on_resize(self) -> None:
        self.japp._check_size()

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def pane(self) -> Pane:
        return self.query_one(f"#{self.current}", Pane)

    def on_mount(self) -> None:
        self.query_one(TabLine).show(self.current)
        self._load_size()
        self.call_after_refresh(self._focus_pane)

    # -- header ----------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="header")
    def _load_size(self) -> None:
        app = self.japp
        with app.pool.store() as store:
            contacts = store.count("contacts")
            emails = store.count("emails")
            size = Path(app.db_path).stat().st_size
        self.post_message(
            self.SizeLoaded(
                f"{fmt.size(size)} · {fmt.plural(contacts, 'contact')} · "
                f"{fmt.plural(emails, 'email')}"
            )
        )

    def on_main_screen_size_loaded(self, message: SizeLoaded) -> None:
        name = clean(self.japp.db_path.name)
        ro = " (read-only)" if self.japp.readonly else ""
        self.query_one("#header", Static).update(
            Text(f" journeytui · {name}{ro} · {message.text}", no_wrap=True, overflow="ellipsis")
        )

    # -- panes -----------------------------------------------------------------------
    def _focus_pane(self) -> None:
        target = self.pane.focus_target()
        if target is not None:
            target.focus()

    def show_pane(self, pane_id: str, *, remember: bool = True) -> Pane:
        if pane_id != self.current and not self.pane.allow_leave(
            lambda: self.show_pane(pane_id, remember=remember)
        ):
            return self.pane  # it asks the user first (unsaved changes)
        if pane_id != self.current:
            if remember:
                self.history.append(self.current)
                del self.history[:-20]
            self.current = pane_id
            self.query_one(ContentSwitcher).current = pane_id
            self.query_one(TabLine).show(pane_id)
            self.refresh_bindings()
        pane = self.pane
        pane.on_pane_shown()
        self.call_after_refresh(self._focus_pane)
        return pane

    def open_email(self, email_id: int) -> None:
        from journeytui.tui.panes.emails import EmailsPane

        self.japp.selection.email_id = email_id
        pane = self.show_pane(EmailsPane.PANE_ID)
        assert isinstance(pane, EmailsPane)
        pane.select_email(email_id)

    def open_activities(self, email_id: int) -> None:
        from journeytui.tui.panes.activities import ActivitiesPane

        self.japp.selection.email_id = email_id
        pane = self.show_pane(ActivitiesPane.PANE_ID)
        assert isinstance(pane, ActivitiesPane)
        if pane.email_id != email_id:
            pane.show_email(email_id)

    def open_contact(self, contact_id: int) -> None:
        from journeytui.tui.panes.contacts import ContactsPane

        self.japp.selection.contact_id = contact_id
        pane = self.query_one(f"#{ContactsPane.PANE_ID}", ContactsPane)
        pane.show_contact(contact_id)
        self.show_pane(ContactsPane.PANE_ID)

    def action_show_pane(self, pane_id: str) -> None:
        self.show_pane(pane_id)

    def action_back(self) -> None:
        if self.history:
            self.show_pane(self.history.pop(), remember=False)

    def action_help(self) -> None:
        from journeytui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.pane))

    # -- export ----------------------------------------------------------------------
    def action_export(self) -> None:
        job = self.pane.export_job()
        if job is None:
            self.notify(f"The {self.pane.TITLE} pane has no list to export.", markup=False)
            return
        from journeytui.tui.screens.export import ExportDialog

        def chosen(path: str | None) -> None:
            if path:
                self.export_csv(job, Path(path))

        self.app.push_screen(ExportDialog(default_export_path(job.stem)), chosen)

    @work(thread=True, exit_on_error=False, group="export")
    def export_csv(self, job: ExportJob, path: Path) -> None:
        app = self.japp
        app.call_from_thread(app.status_begin, "export", f"Exporting {job.stem} to {path}…")
        try:
            count = write_csv(app, job, path)
        except OSError as exc:
            app.call_from_thread(
                app.notify, f"Export failed: {path}: {exc.strerror or exc}",
                severity="error", markup=False,
            )
        else:
            app.call_from_thread(
                app.notify, f"Exported {count:,} rows to {path.resolve()}", markup=False
            )
        finally:
            app.call_from_thread(app.status_end, "export")


def default_export_path(stem: str) -> str:
    """``<stem>.csv`` in the current directory, numbered if it exists."""
    candidate = Path(f"{stem}.csv")
    n = 2
    while candidate.exists():
        candidate = Path(f"{stem}-{n}.csv")
        n += 1
    return str(candidate)


def csv_cell(value: object) -> object:
    """A cell safe to open in a spreadsheet: text starting with = + - @ gets a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(app: JourneyApp, job: ExportJob, path: Path) -> int:
    """Write the rows of *job* to *path* (through a temporary file); returns the count."""
    tmp = path.with_name(path.name + ".part")
    count = 0
    with app.pool.store() as store, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(job.headers)
        for row in job.rows(store):
            writer.writerow([csv_cell(v) for v in row])
            count += 1
    tmp.replace(path)
    return count
