"""The journeytui Textual app.  Build it with :func:`make_app` (the CLI and the tests do)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from journeytui.errors import UserError
from journeytui.export_target import ExportPolicy, ExportRefused
from journeytui.store import Store
from journeytui.store.db import explain_failure
from journeytui.store.pool import StorePool, open_source_readonly
from journeytui.tui import config
from journeytui.tui._textual_private import line_filters, refresh_ansi_filter
from journeytui.tui.commands import PaneCommands
from journeytui.tui.screens.main import MainScreen
from journeytui.tui.themes import (
    APP_VARIABLE_DEFAULTS,
    BUILTIN_DIR,
    DEFAULT_THEME,
    load_themes,
)

if TYPE_CHECKING:
    from textual.screen import Screen

    from journeytui.domain.stats import EmailRow

# The full layout needs 80×24; down to 60×20 a compact one shows one panel at a time
# (the class -compact); below that the app says the terminal is too small.
FULL_WIDTH, FULL_HEIGHT = 80, 24
MIN_WIDTH, MIN_HEIGHT = 60, 20


@dataclass
class Selection:
    """What the user picked last, shared by the panes (ids in the store)."""

    email_id: int | None = None
    contact_id: int | None = None


class JourneyApp(App[int]):
    CSS_PATH: ClassVar[list[str | Path]] = ["app.tcss"]  # type: ignore[assignment]
    TITLE = "journeytui"
    COMMANDS = App.COMMANDS | {PaneCommands}
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, id="app.quit-ctrl-c", priority=True),
    ]

    def __init__(
        self,
        db_path: str | Path,
        *,
        theme: str | None = None,
        config_dir: Path | None = None,
        readonly: bool = False,
        blink: bool = True,
        session_store: Path | None = None,
    ) -> None:
        super().__init__()
        self.blink = blink  # text cursors blink (off in tests, for stable snapshots)
        # The other panes are mounted in the background once the first one has its
        # data (a pane's first key then only switches); off, each is mounted when
        # first shown (tests that never visit a pane do not pay for it).
        self.preload_panes = True
        self.db_path = Path(db_path)
        # session_store (a private serve-ssh session): the store is read through
        # read-only connections; the first save copies it there (see store/pool.py)
        self.pool = StorePool(
            self.db_path, readonly=readonly, on_wait=self._writer_waiting,
            copy_on_write=session_store, on_copy=self._store_copied,
        )
        self.readonly = readonly
        self.selection = Selection()
        self.emails: list[EmailRow] = []  # the Emails pane's last load (palette, lookups)
        self.config_dir = config_dir if config_dir is not None else config.config_dir()
        self.startup_problems: list[str] = []
        self.settings, problem = config.load_settings(self.config_dir)
        if problem:
            self.startup_problems.append(problem)
        themes = load_themes(BUILTIN_DIR, self.config_dir / "themes")
        self.startup_problems.extend(f"Theme skipped: {e}" for e in themes.errors)
        self.journey_themes: dict[str, Theme] = themes.themes
        for item in themes.themes.values():
            self.register_theme(item)
        if DEFAULT_THEME in themes.themes:
            # Only the app's own themes are offered (Textual's ~20 stock themes do
            # not colour the funnel stages): the palette's theme picker lists
            # ``available_themes``.  Kept only if the app's own could not be read.
            from textual.theme import BUILTIN_THEMES

            for name in BUILTIN_THEMES:
                if name not in themes.themes:
                    self.unregister_theme(name)
        self.export_policy = ExportPolicy.from_env(self.db_path)
        wanted = theme or str(self.settings.get("theme") or DEFAULT_THEME)
        if wanted not in self.available_themes:
            if theme is None:
                self.startup_problems.append(
                    f"Theme {wanted!r} (from settings.json) not found; using {DEFAULT_THEME}"
                )
            wanted = DEFAULT_THEME
        if wanted in self.available_themes:
            self._start_theme(wanted)
        keymap, problems = config.load_keymap(self.config_dir)
        self.startup_problems.extend(problems)
        self.keymap_entries = keymap
        if keymap:
            self.set_keymap(keymap)
        self._remember_theme = False

    # -- theme -----------------------------------------------------------------------
    def _start_theme(self, name: str) -> None:
        """Start in theme *name* without the CSS refresh that setting ``theme`` queues.

        Before the app runs, no stylesheet has been parsed yet: the first parse reads
        the variables of the current theme anyway.  Setting the reactive would queue
        a full re-parse and re-style of the screen as the app's first message (about
        25 ms of a ~350 ms start).  This does what Textual's theme watcher does (the
        stylesheet's variables, the ``-theme-``/``-dark-mode`` classes, the ANSI colour
        filter) without the re-parse.
        """
        self.set_reactive(App.theme, name)
        self.stylesheet.set_variables(self.get_css_variables())  # not parsed yet
        dark = self.current_theme.dark
        classes = {c: False for c in self.classes if c.startswith("-theme-")}
        classes.update({f"-theme-{name}": True, "-dark-mode": dark, "-light-mode": not dark})
        self.update_classes(classes, update=False)
        refresh_ansi_filter(self)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **APP_VARIABLE_DEFAULTS}

    def _sync_no_color(self, theme: Theme | None) -> None:
        """Under NO_COLOR, pick the filter that suits the theme.

        Textual 8.2.8 picks it once, from the theme at start-up, so an ``ansi`` theme
        chosen later (journey-ansi) got the Monochrome filter, which turns the
        terminal's default colours into black on black.  An ansi theme needs the
        NoColor filter (the terminal's own default colours); other themes Monochrome.
        """
        if not self.no_color or theme is None:
            return
        from textual.filter import Monochrome, NoColor

        wanted = NoColor if theme.ansi else Monochrome
        filters = line_filters(self)
        filters[:] = [wanted() if isinstance(f, NoColor | Monochrome) else f for f in filters]
        self.refresh(repaint=True)

    def get_default_screen(self) -> MainScreen:
        # The main screen is the bottom of the stack: no blank default screen is
        # composed, styled and drawn before it.
        return MainScreen()

    def on_mount(self) -> None:
        self.set_class(self.no_color, "-no-color")  # cursor rows then underlined too
        self._sync_no_color(self.get_theme(self.theme))
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._remember_theme = True
        for problem in self.startup_problems:
            self.notify(problem, severity="warning", timeout=10, markup=False)
        self.check_size()

    def _theme_changed(self, theme: Theme) -> None:
        self._sync_no_color(theme)
        if not self._remember_theme or self.settings.get("theme") == theme.name:
            return
        self.settings["theme"] = theme.name
        problem = config.save_settings(self.config_dir, self.settings)
        if problem:
            self.notify(problem, severity="warning", markup=False)

    def switch_theme(self, name: str) -> None:
        self.theme = name
        self.notify(f"Theme: {name}", markup=False)

    # -- the command palette's system commands and the files they write -------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's stock commands, curated: what this app supports.

        Kept: Quit and the theme picker (which lists the app's own themes only).
        Dropped: Keys and Maximize (the app's Help, ``?``, lists every key; no pane is
        built to be maximised) and, in a serve-ssh session, Screenshot: a visitor
        writes nothing but CSV exports.  Locally Screenshot saves an SVG in the
        current folder; every screenshot goes through :meth:`save_screenshot`.
        """
        yield SystemCommand("Quit", "Quit journeytui (key q)", self.action_quit)
        yield SystemCommand(
            "Theme", "Pick one of journeytui's themes (remembered)", self.action_change_theme
        )
        if not self.export_policy.confined:
            yield SystemCommand(
                "Screenshot", "Save an SVG picture of the screen in the current folder",
                lambda: self.set_timer(0.1, self.action_screenshot),  # once the palette is gone
            )

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        try:
            saved = self.save_screenshot(filename, path)
        except (ExportRefused, OSError) as exc:
            text = str(exc) if isinstance(exc, ExportRefused) else f"Screenshot failed: {exc}"
            self.notify(text, severity="error", markup=False)
            return
        self.notify(f"Screenshot saved: {saved}", markup=False)

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        # Textual's version writes into the user's Downloads folder; here a
        # screenshot obeys the same folder rule as a CSV export.
        return self.save_screenshot(filename, path, time_format)

    def save_screenshot(
        self, filename: str | None = None, path: str | None = None,
        time_format: str | None = None,
    ) -> str:
        """Save an SVG of the screen.  In a serve-ssh session only as a new file in the
        session's export folder (a plain name; ``path`` is ignored), within its budget;
        otherwise :class:`ExportRefused`."""
        policy = self.export_policy
        if not policy.confined:
            return super().save_screenshot(filename, path, time_format)
        if filename is None and policy.confined_to is not None:
            n = 1
            while True:
                filename = f"screenshot-{n}.svg"
                candidate = policy.confined_to / filename
                if not (candidate.exists() or candidate.is_symlink()):
                    break
                n += 1
        target = policy.target(filename or "")
        policy.write_lines(target, [self.export_screenshot()])
        return str(target)

    def deliver_text(self, *args: object, **kwargs: object) -> str | None:  # type: ignore[override]
        if self.export_policy.confined:
            self.notify("Not in a demo session: files are written only by Export CSV.",
                        severity="error", markup=False)
            return None
        return super().deliver_text(*args, **kwargs)  # type: ignore[arg-type]

    def deliver_binary(self, *args: object, **kwargs: object) -> str | None:  # type: ignore[override]
        if self.export_policy.confined:
            self.notify("Not in a demo session: files are written only by Export CSV.",
                        severity="error", markup=False)
            return None
        return super().deliver_binary(*args, **kwargs)  # type: ignore[arg-type]

    # -- size ------------------------------------------------------------------------
    def check_size(self) -> None:
        small = self.size.width < MIN_WIDTH or self.size.height < MIN_HEIGHT
        self.set_class(small, "-too-small")
        compact = self.size.width < FULL_WIDTH or self.size.height < FULL_HEIGHT
        self.set_class(compact and not small, "-compact")

    # -- shared state ----------------------------------------------------------------
    @property
    def main(self) -> MainScreen:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("main screen not mounted")

    def status_begin(self, tag: str, text: str) -> None:
        try:
            self.main.status.begin(tag, text)
        except (LookupError, NoMatches):  # not mounted yet, or shutting down
            pass

    def status_end(self, tag: str) -> None:
        try:
            self.main.status.end(tag)
        except (LookupError, NoMatches):
            pass

    def _writer_waiting(self, store: Store, waiting: bool) -> None:
        """A save waits its turn behind another program's write: the status line and a
        notification say so (called from the worker's thread)."""
        from journeytui.store.db import WRITE_WAIT

        def show() -> None:
            if waiting:
                text = (f"Waiting for another program writing to {store.path.name} "
                        f"(up to {WRITE_WAIT:.0f} s)…")
                self.status_begin("writer-wait", text)
                self.notify(text, severity="warning", markup=False)
            else:
                self.status_end("writer-wait")

        try:
            self.call_from_thread(show)
        except RuntimeError:  # on the event loop's own thread
            show()

    def _store_copied(self, copy: Path) -> None:
        """The first save of a private demo session made the session's own copy of the
        store (called from the worker's thread): say so once."""
        def show() -> None:
            self.notify("Your own copy of the demo store: your changes stay in this "
                        "session.", timeout=8, markup=False)

        try:
            self.call_from_thread(show)
        except RuntimeError:  # on the event loop's own thread
            show()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.worker_changed(event)

    def worker_changed(self, event: Worker.StateChanged) -> None:
        """A query that failed is said, and no longer shown as loading (never a traceback).

        The one path from a failed worker to what the user sees: workers raise; worker
        messages do not bubble, so the pane base class (which first lets the pane undo
        what the worker left half done, :meth:`Pane.worker_failed`), the main screen and
        the screens hand theirs here.
        """
        if event.state != WorkerState.ERROR:
            return
        self.say_failure(event.worker.group, self.failure_text(event.worker.error))

    def failure_text(self, error: BaseException | None) -> str:
        """What a failed worker's *error* means for the user: a user error's own text, a
        damaged store or a full disk said with what to do, else the error itself."""
        known = explain_failure(error, self.db_path) if error is not None else None
        if isinstance(error, UserError):
            return str(error)
        if known is not None:  # a damaged store, a full disk, …: what to do
            return str(known)
        return f"{type(error).__name__}: {error}"

    def say_failure(self, group: str, said: str) -> None:
        """Tell the user a worker of *group* failed; the status line stops saying loading."""
        self.notify(f"Could not load ({group}): {said}", severity="error", timeout=10,
                    markup=False)
        try:
            self.main.status.clear()
        except (LookupError, NoMatches):
            pass

    def status_text(self) -> str:
        try:
            return self.main.status.text
        except (LookupError, NoMatches):
            return "Ready"

    async def action_quit(self) -> None:
        from journeytui.tui.panes.base import Pane

        try:
            panes = list(self.main.query(Pane))
        except LookupError:
            panes = []
        for pane in panes:  # a pane with unsaved changes asks first
            if not pane.allow_leave(lambda: self.exit(0)):
                return
        self.exit(0)

    def on_unmount(self) -> None:
        self.pool.close()


def make_app(
    db_path: str | Path,
    *,
    theme: str | None = None,
    config_dir: Path | None = None,
    readonly: bool = False,
    blink: bool = True,
    session_store: Path | None = None,
) -> JourneyApp:
    """The app on the store at *db_path* (checked first: a bad store raises StoreError).

    A store nobody can write here (a read-only folder or filesystem) opens read-only:
    the app shows it, says why at start, and saves nothing.  With *session_store* the
    store is only ever opened ``mode=ro``; the first save copies it to *session_store*."""
    if session_store is not None and not readonly:
        open_source_readonly(Path(db_path)).close()
        return JourneyApp(db_path, theme=theme, config_dir=config_dir, blink=blink,
                          session_store=session_store)
    probe = Store.open(db_path, readonly=readonly)
    why = probe.readonly_reason
    readonly = readonly or probe.readonly
    probe.close()
    app = JourneyApp(
        db_path, theme=theme, config_dir=config_dir, readonly=readonly, blink=blink
    )
    if why:
        app.startup_problems.append(
            f"{Path(db_path).name} is open read-only: {why}. Nothing can be saved."
        )
    return app
