"""The main screen: header, tab line, the panes, status line and footer."""

from __future__ import annotations

import csv
import gc
import io
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input, Static
from textual.worker import Worker

from journeytui.export_target import ExportPolicy, ExportRefused
from journeytui.store.watch import StoreWatcher
from journeytui.textsafe import csv_cell
from journeytui.tui import fmt
from journeytui.tui._textual_private import bindings_of, keymap_of
from journeytui.tui.panes import PANES, spec
from journeytui.tui.panes.base import ExportJob, Pane
from journeytui.tui.text import clean
from journeytui.tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from journeytui.tui.app import JourneyApp


WHEN_READY_TRIES = 1000
WATCH_SECONDS = 1.0  # how often the store is asked whether someone else changed it


class StatusLine(Static):
    """Says what is loading; "Ready" when nothing is."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Ready", markup=False, **kwargs)  # type: ignore[arg-type]
        self._active: dict[str, str] = {}
        self._note = ""  # shown after "Ready", e.g. "updated 12:03:04 UTC: +35 events"

    def note(self, text: str) -> None:
        self._note = text
        self._show()

    def withdraw(self, text: str) -> None:
        """Take back the note *text* if it is still the one shown (a later one stays)."""
        if text and self._note == text:
            self.note("")

    def begin(self, tag: str, text: str) -> None:
        self._active.pop(tag, None)
        self._active[tag] = text
        self._show()

    def end(self, tag: str) -> None:
        self._active.pop(tag, None)
        self._show()
        if not self._active and isinstance(self.parent, MainScreen):
            self.parent.import_rest_when_idle()

    def clear(self) -> None:
        self._active.clear()
        self._show()

    @property
    def text(self) -> str:
        if not self._active:
            return "Ready"
        return "⏳ " + list(self._active.values())[-1]

    def _show(self) -> None:
        text = self.text
        if text == "Ready" and self._note:
            text += " · " + self._note
        # one line high whatever it says: a repaint, no layout of the whole screen
        self.update(Text(clean(text)), layout=False)


class TabLine(Static):
    """The panes and their keys; the current one marked (not only by colour)."""

    def show(self, current: str) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        keymap = keymap_of(self.app)
        for pane in PANES:
            keys = keymap.get(f"pane.{pane.pane_id}", pane.key).split(",")[0]
            key = self.app.get_key_display(Binding(keys, ""))
            label = f" {key} {pane.title} "
            if pane.pane_id == current:
                line.append(f"▸{label.strip()}◂", style="bold reverse")
                line.append(" ")
            else:
                line.append(label + " ")
        self.update(line, layout=False)  # one line high: a repaint, no layout


class MainScreen(Screen[None]):
    AUTO_FOCUS = None  # each pane says what takes the focus (Pane.focus_target)
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                pane.key,
                f"show_pane('{pane.pane_id}')",
                pane.title,
                show=False,
                id=f"pane.{pane.pane_id}",
                # checked when the key is read, before the keys after it: letters
                # typed in the same burst (a quick typist, an SSH session's packet)
                # go to the field of the pane it shows, not to the pane left
                priority=True,
            )
            for pane in PANES
        ),
        Binding("tab", "app.focus_next", "Next field", show=False, id="focus.next"),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False,
                id="focus.previous"),
        Binding("escape", "back", "Back", id="back"),
        Binding("question_mark,f1", "help", "Help", key_display="?", id="help"),
        Binding("x", "export", "Export", id="export"),
    ]

    @dataclass
    class StoreChanged(Message):
        """Another connection committed to the store; *events* arrived with it."""
        events: int

    @dataclass
    class SizeLoaded(Message):
        text: str

    def __init__(self) -> None:
        super().__init__()
        self.history: list[str] = []
        self.current = PANES[0].pane_id
        self._rest_requested = False
        self._painted = False
        self._after_paint: list[Callable[[], object]] = []
        self._watcher: StoreWatcher | None = None
        self._frozen = False  # the objects of start-up are out of the collector's way
        self.keymap_checked = False  # keymap.toml's ids checked (once the panes are imported)

    def on_unmount(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
        if self._frozen:
            gc.unfreeze()  # what start-up made is collected again with the rest

    @property
    def japp(self) -> JourneyApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        name = clean(self.japp.db_path.name)
        yield Static(Text(f" journeytui · {name}", no_wrap=True), id="header", markup=False)
        yield TabLine(id="tabs")
        # Empty in the first frame (the shell, and the status line saying what loads);
        # the first pane is imported and mounted right after it, the others once that
        # pane has its data (import_rest_when_idle).
        yield ContentSwitcher(id="panes")
        yield StatusLine(id="status")
        yield KeyBar(id="keys")
        with Vertical(id="too-small"):
            yield Static(
                "Terminal too small: journeytui needs 60×20 (80×24 for the full layout).\n"
                "Make the window bigger (q quits).",
                id="too-small-text",
                markup=False,
            )

    def on_resize(self) -> None:
        self.japp.check_size()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.japp.worker_changed(event)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def pane(self) -> Pane:
        return self.pane_by_id(self.current)

    def on_mount(self) -> None:
        self.query_one(TabLine).show(self.current)
        self.status.begin("pane", f"Opening {spec(self.current).title}…")
        self._load_size()
        self.call_after_refresh(self._first_paint_done)

    async def _first_paint_done(self) -> None:
        """After the first frame: mount the current pane (unless a key did already)."""
        if not self.is_attached:  # the app quit before its first frame was done
            return
        if self._watcher is None:
            # The watcher's baseline before the first pane reads its data: a change
            # committed elsewhere from now on is noticed at the first look.
            self._watcher = StoreWatcher(self.japp.db_path)
            self._watcher.start()
        switcher = self.query_one(ContentSwitcher)
        try:
            pane = switcher.get_child_by_id(self.current, Pane)
        except NoMatches:
            pane = spec(self.current).load()(id=self.current)
            await switcher.mount(pane)
        switcher.current = self.current
        self._focus_pane()
        self._painted = True
        self.set_interval(WATCH_SECONDS, self._watch_store)
        waiting, self._after_paint = self._after_paint, []
        for callback in waiting:
            callback()
        self.status.end("pane")  # then import_rest_when_idle, once the data is in

    def after_first_paint(self, callback: Callable[[], object]) -> None:
        """Run *callback* once the shell has been drawn and the first pane mounted
        (now, if that is done).

        Data that comes back before then waits: the shell and the status line appear
        first, then the pane, then its rows.
        """
        if self._painted:
            callback()
        else:
            self._after_paint.append(callback)

    # -- panes mounted after the first paint -----------------------------------------
    @dataclass
    class PanesImported(Message):
        classes: list[type[Pane]]

    def import_rest_when_idle(self) -> None:
        """Once nothing is loading (the first pane has its data), import the others."""
        if not self._painted or self._rest_requested or not self.is_attached:
            return
        if self.query_one(StatusLine).text != "Ready":
            return
        self._rest_requested = True
        # after the frame that shows the first pane's data (the import holds the GIL)
        self.call_after_refresh(self._import_rest)

    @work(thread=True, exit_on_error=False, group="import-panes")
    def _import_rest(self) -> None:
        """Import the other panes' modules off the event loop (some are heavy)."""
        self.post_message(self.PanesImported([s.load() for s in PANES]))

    def on_main_screen_panes_imported(self, message: PanesImported) -> None:
        if not getattr(self.app, "preload_panes", True):
            # nothing is mounted, so no frame may come: not after the next one
            self.call_later(self._check_keymap)
            self.call_later(self._freeze_startup)
            return
        for cls in message.classes:
            self.pane_by_id(cls.PANE_ID)
        self.call_after_refresh(self._check_keymap)
        self.call_after_refresh(self._freeze_startup)

    def _freeze_startup(self) -> None:
        """Take what start-up made (modules, widgets, the panes) out of the garbage
        collector's full passes: they live as long as the app.  Without this, the
        first full pass came during the user's first keys (a pane shown): 40 ms of
        CPU on a free machine for ~80,000 objects, 200 ms on a busy one."""
        gc.freeze()
        self._frozen = True

    def _check_keymap(self) -> None:
        """Name the keymap.toml entries that rebind no key (a typo in an id)."""
        self.keymap_checked = True
        entries = getattr(self.app, "keymap_entries", {})
        if not entries:
            return
        from journeytui.tui.screens.export import ExportDialog
        from journeytui.tui.screens.help import HelpScreen

        known = declared_binding_ids()
        for node in [self.app, self, *self.query("*")]:
            for bindings in bindings_of(node).key_to_bindings.values():
                known.update(b.id for b in bindings if b.id)
        for screen in (HelpScreen, ExportDialog):
            known.update(b.id for b in screen.BINDINGS if isinstance(b, Binding) and b.id)
        unknown = sorted(set(entries) - known)
        if unknown:
            self.notify(
                f"keymap.toml: no key has the id {', '.join(unknown)} "
                "(the help screen, ?, shows each key's id)",
                severity="warning", timeout=10, markup=False,
            )
        for clash in keymap_clashes(entries, type(self)):
            self.notify(f"keymap.toml: {clash}", severity="warning", timeout=10, markup=False)

    def pane_by_id(self, pane_id: str) -> Pane:
        """The pane *pane_id*, mounted now if it was not yet (imported if need be)."""
        switcher = self.query_one(ContentSwitcher)
        try:
            return switcher.get_child_by_id(pane_id, Pane)
        except NoMatches:
            pane = spec(pane_id).load()(id=pane_id)
            pane.display = False  # the switcher shows it when it becomes current
            switcher.mount(pane)
            return pane

    def when_ready(
        self, pane_id: str, action: Callable[[Pane], object], _tries: int = 0
    ) -> None:
        """Run *action* on the pane once it is mounted (now, if it already is).

        It looks again every 10 ms on a timer, not after every refresh: a callback that
        re-queued itself after each refresh kept the app from ever going idle.  After
        about ten seconds it gives up and says so.
        """
        pane = self.pane_by_id(pane_id)
        if pane.is_mounted:
            action(pane)
        elif _tries >= WHEN_READY_TRIES:
            self.notify(f"The {pane_id} pane did not load.", severity="error", markup=False)
        else:
            self.set_timer(0.01, partial(self.when_ready, pane_id, action, _tries + 1))

    # -- following the store ---------------------------------------------------------
    def _watch_store(self) -> None:
        if not any(w.group == "store-watch" and w.is_running for w in self.workers):
            self._poll_store()

    @work(thread=True, exclusive=True, group="store-watch", exit_on_error=False)
    def _poll_store(self) -> None:
        if self._watcher is None:
            self._watcher = StoreWatcher(self.japp.db_path)
        events = self._watcher.poll()
        if events is not None:
            self.post_message(self.StoreChanged(events))

    def on_main_screen_store_changed(self, message: StoreChanged) -> None:
        """Refresh what is on screen (each pane keeps its place) and say so quietly."""
        self._load_size()
        switcher = self.query_one(ContentSwitcher)
        for pane in switcher.query(Pane):
            pane.on_store_changed()
        clock = time.strftime("%H:%M:%S", time.gmtime())
        more = f": +{fmt.plural(message.events, 'event')}" if message.events else ""
        self.status.note(f"updated {clock} UTC{more}")

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
            Text(f" journeytui · {name}{ro} · {message.text}", no_wrap=True, overflow="ellipsis"),
            layout=False,  # one line high: a repaint, no layout
        )

    # -- panes -----------------------------------------------------------------------
    def _focus_pane(self) -> None:
        target = self.pane.focus_target()
        if target is not None:
            # at once (``focus()`` waits for the keys already read: letters typed in
            # the same burst as the pane's key went to the pane left)
            self.set_focus(target)

    def show_pane(self, pane_id: str, *, remember: bool = True) -> Pane:
        if pane_id != self.current and not self.pane.allow_leave(
            lambda: self.show_pane(pane_id, remember=remember)
        ):
            return self.pane  # it asks the user first (unsaved changes)
        pane = self.pane_by_id(pane_id)
        if pane_id != self.current:
            if remember:
                self.history.append(self.current)
                del self.history[:-20]
            self.current = pane_id
            if pane.is_mounted:
                self.query_one(ContentSwitcher).current = pane_id
            # else the switch waits until the pane is mounted (shown, below): hiding
            # the pane in front first sent the focus to a hidden widget of it
            self.query_one(TabLine).show(pane_id)
            self.refresh_bindings()

        def shown(pane: Pane) -> None:
            if pane.id == self.current:
                self.query_one(ContentSwitcher).current = pane.id
            # Focus the pane's widget now, in the same frame as the switch: left to
            # later, the focus of the pane just hidden wandered to a hidden sibling
            # first (restyling a pane nobody sees, a frame or two more).
            self._focus_pane()
            pane.on_pane_shown()
            self.call_after_refresh(self._focus_pane)

        self.when_ready(pane_id, shown)
        return pane

    def open_email(self, email_id: int) -> None:
        """Show the Emails pane with *email_id* highlighted."""
        self.japp.selection.email_id = email_id
        self.show_pane("emails")
        self.when_ready("emails", lambda pane: pane.select_email(email_id))  # type: ignore[attr-defined]

    def open_activities(self, email_id: int) -> None:
        """Show the contact activities of *email_id*."""
        self.japp.selection.email_id = email_id
        self.show_pane("activities")  # on_pane_shown loads the selected email

    def open_clicks(self, email_id: int) -> None:
        """Show who clicked in *email_id* (its activities, clicks only)."""
        self.japp.selection.email_id = email_id
        self.when_ready("activities", lambda pane: pane.show_clicks(email_id))  # type: ignore[attr-defined]
        self.show_pane("activities")

    def open_contact(self, contact_id: int) -> None:
        """Show the card and history of *contact_id*."""
        self.japp.selection.contact_id = contact_id
        self.when_ready("contacts", lambda pane: pane.show_contact(contact_id))  # type: ignore[attr-defined]
        self.show_pane("contacts")

    def action_show_pane(self, pane_id: str) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()  # typed into the field (a digit in a search, say)
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

        policy = ExportPolicy.from_env(self.japp.db_path)

        def chosen(typed: str | None) -> None:
            if not typed:
                return
            try:
                path = policy.target(typed)
            except ExportRefused as refusal:
                self.notify(str(refusal), severity="error", markup=False)
                return
            self.export_csv(job, path, policy)

        def check(typed: str) -> str | None:
            try:
                policy.target(typed)
            except ExportRefused as refusal:
                return str(refusal)
            return None

        self.app.push_screen(ExportDialog(policy.default_name(job.stem), check), chosen)

    @work(thread=True, exit_on_error=False, group="export")
    def export_csv(self, job: ExportJob, path: Path, policy: ExportPolicy) -> None:
        app = self.japp
        app.call_from_thread(app.status_begin, "export", f"Exporting {job.stem} to {path}…")
        try:
            count = write_csv(app, job, path, policy)
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


def _declared_classes() -> list[type]:
    """The classes of the app's modules that declare BINDINGS."""
    out: list[type] = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("journeytui.tui") or module is None:
            continue
        out += [value for value in vars(module).values()
                if isinstance(value, type) and value.__module__ == name
                and getattr(value, "BINDINGS", None)]
    return out


def _keys(binding: Binding, keymap: dict[str, str]) -> set[str]:
    keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
    return {k.strip() for k in keys.split(",") if k.strip()}


def keymap_clashes(keymap: dict[str, str], shell: type) -> list[str]:
    """Rebindings of *keymap* that take a key another binding of the same place uses
    (the same pane, widget or dialog; or the shell's keys, which every pane shares)."""
    shell_bindings = [b for b in getattr(shell, "BINDINGS", []) if isinstance(b, Binding)]
    classes = _declared_classes()
    everywhere = [b for c in classes if c is not shell for b in c.BINDINGS  # type: ignore[attr-defined]
                  if isinstance(b, Binding)]
    out: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for cls in classes:
        own = [b for b in cls.BINDINGS if isinstance(b, Binding)]  # type: ignore[attr-defined]
        for b in own:
            if not b.id or b.id not in keymap:
                continue
            mine = _keys(b, keymap)
            others = [o for o in own if o.id != b.id]
            # a pane's key shares the shell's; a shell key meets every pane's and widget's
            others += shell_bindings if cls is not shell else everywhere
            for other in others:
                for key in sorted(mine & _keys(other, keymap)):
                    pair = (b.id, other.id or other.action, key)
                    if pair in seen or (other.id, b.id, key) in seen:
                        continue
                    seen.add(pair)
                    out.append(f'"{b.id}" = "{keymap[b.id]}": {key} is also '
                               f"{other.description or other.action} ({other.id or '—'})")
    return out


def declared_binding_ids() -> set[str]:
    """Every binding id that a class of the app declares, mounted or not (a list in a
    pane that was never opened still has its keys: ``list.down`` is known from the
    start)."""
    ids: set[str] = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("journeytui.tui") or module is None:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == name:
                for binding in getattr(value, "BINDINGS", ()):
                    if isinstance(binding, Binding) and binding.id:
                        ids.add(binding.id)
    return ids


def write_csv(app: JourneyApp, job: ExportJob, path: Path, policy: ExportPolicy) -> int:
    """Write the rows of *job* to *path* under *policy*; returns the row count."""
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(job.headers)
        with app.pool.store() as store:
            for row in job.rows(store):
                writer.writerow([csv_cell(v) for v in row])
                count += 1
                if buffer.tell() > 65536:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    policy.write_lines(path, lines())
    return count
