"""What every pane is: one module, one class, registered in ``panes/__init__.py``.

A pane declares its own keys (``BINDINGS``, each with a description and an ``id``
so a user keymap can rebind it), its own command-palette commands
(:meth:`Pane.palette_commands`, :meth:`Pane.palette_search`), what its CSV export
holds (:meth:`Pane.export_job`) and any extra lines for the help screen
(:meth:`Pane.help_extra`).  Its entry in ``panes/__init__.py`` (:data:`PANES`) gives it a key, and the
shell (``screens/main.py``) a place in the tab line, the palette and the help screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual.containers import Vertical
from textual.markup import escape
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from journeytui.store import Store
from journeytui.textsafe import safe_text

if TYPE_CHECKING:
    from journeytui.tui.app import JourneyApp


@dataclass(frozen=True)
class PaletteCommand:
    """One command-palette entry.  *name* may hold data: it is shown literally."""

    name: str
    help: str
    callback: Callable[[], Any]


@dataclass(frozen=True)
class ExportJob:
    """What "export CSV" writes for a pane; *rows* runs in a worker thread."""

    stem: str  # default file name stem, e.g. "emails"
    headers: Sequence[str]
    rows: Callable[[Store], Iterable[Sequence[object]]]


def set_panel_title(widget: Widget, label: str) -> None:
    """Give a panel (a widget with the ``panel`` class) its title, e.g. "Emails (30)".

    The title sits in the panel's top border; the focused panel's title starts with
    ``▸`` (and its border takes the accent colour), so the focus shows without colour.
    *label* is plain text, shown literally (never read as markup, control characters
    made visible), so it may quote what the user typed.
    """
    widget._panel_label = label  # type: ignore[attr-defined]
    _draw_panel_title(widget)


def _draw_panel_title(widget: Widget) -> None:
    label = getattr(widget, "_panel_label", "")
    if not label:
        return
    text = escape(safe_text(label))
    widget.border_title = f"▸ {text}" if widget.has_focus else f"  {text}"


class Pane(Vertical):
    """Base class of the panes."""

    PANE_ID: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    SUMMARY: ClassVar[str] = ""  # one line for the help screen

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    """

    @property
    def japp(self) -> JourneyApp:
        return self.app  # type: ignore[return-value]

    def palette_commands(self) -> list[PaletteCommand]:
        """Commands this pane adds to the palette while it is shown."""
        return []

    async def palette_search(self, query: str) -> list[PaletteCommand]:
        """Commands found by *query* (e.g. contacts by name); may query the store."""
        return []

    def export_job(self) -> ExportJob | None:
        """The current list as CSV, or None when the pane has no list."""
        return None

    def help_extra(self) -> list[tuple[str, str]]:
        """Extra (key, meaning) lines for the help screen (e.g. typing in a field)."""
        return []

    def focus_target(self) -> Widget | None:
        """The widget to focus when the pane is shown."""
        return None

    def on_store_changed(self) -> None:
        """Another connection changed the store: refresh what is shown, keeping the
        user's place (the shell calls this on every mounted pane)."""

    def on_descendant_focus(self, event: object) -> None:
        for panel in self.query(".panel"):
            _draw_panel_title(panel)

    def on_descendant_blur(self, event: object) -> None:
        for panel in self.query(".panel"):
            _draw_panel_title(panel)

    # -- workers: they raise, and one path says what failed --------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker of this pane failed: the pane undoes what it left half done
        (:meth:`worker_failed`), then the app says it (unless the pane showed it in
        place) — a failed query is reported, never left "loading", never a traceback."""
        if event.state != WorkerState.ERROR:
            return
        said = self.japp.failure_text(event.worker.error)
        if not self.worker_failed(event.worker.group, said):
            self.japp.say_failure(event.worker.group, said)

    def worker_failed(self, group: str, said: str) -> bool:
        """A worker of *group* raised; *said* is what it means for the user.  Reset what
        the worker was to fill; return True when the pane has shown *said* itself."""
        return False

    def on_pane_shown(self) -> None:
        """Called each time the pane becomes the current one."""

    def allow_leave(self, proceed: Callable[[], object]) -> bool:
        """Asked before the shell leaves this pane or quits.  True: go ahead now.  A pane
        with unsaved work asks the user and returns False; it calls *proceed* if they
        agree to leave."""
        return True
