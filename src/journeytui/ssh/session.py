"""One SSH session: the app in its own process and PTY, bridged to the SSH channel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import asyncssh

from journeytui.export_target import EXPORT_DIR_ENV
from journeytui.ssh.ptychild import PtyChild
from journeytui.ssh.storecopy import (
    CONFIG_ENV,
    COPY_NAME,
    EXPORTS,
    check_source,
    make_session_dir,
    remove_session_dir,
    seed_config,
)
from journeytui.store.pool import SESSION_STORE_ENV  # where a private session's copy goes
from journeytui.textsafe import safe_text

if TYPE_CHECKING:
    from journeytui.ssh.server import DemoServer

log = logging.getLogger("journeytui.ssh")

NO_TERMINAL = "journeytui needs a terminal: connect with ssh -t"
STARTING = "journeytui: starting your session…\r\n"

# Undo what a full-screen app may have switched on (kitty keys, mouse reporting,
# bracketed paste, focus events, hidden cursor, alternate screen) when the server
# ends a session the app had no chance to end itself.
TERMINAL_RESET = (
    b"\x1b[<u"
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1016l"
    b"\x1b[?2004l\x1b[?2048l\x1b[?1004l\x1b[?7h"
    b"\x1b[0m\x1b[?25h\x1b[?1049l\r\n"
)

# Variables of the server's own terminal that must not leak into a session's.
_ENV_DROP = {
    "TERM",
    "COLUMNS",
    "LINES",
    "COLORTERM",
    "NO_COLOR",
    "FORCE_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION",
    "TMUX",
    "TMUX_PANE",
    "STY",
    "KITTY_WINDOW_ID",
    "WT_SESSION",
    "VTE_VERSION",
    "ITERM_SESSION_ID",
    "LC_TERMINAL",
    "LC_TERMINAL_VERSION",
    "WEZTERM_PANE",
    "SSH_CONNECTION",
    "SSH_CLIENT",
    "SSH_TTY",
    "SSH_AUTH_SOCK",
    "DISPLAY",
}
_TERM_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_INPUT_HIGH_WATER = 1 << 16


def say_duration(seconds: float) -> str:
    """*seconds* in words, rounded up: "1 minute", "90 seconds", "2 hours"."""
    seconds = math.ceil(seconds - 0.001)
    if seconds >= 3600 and seconds % 3600 == 0:
        n = seconds // 3600
        return f"{n} hour{'s' * (n != 1)}"
    if seconds >= 60 and seconds % 60 == 0:
        n = seconds // 60
        return f"{n} minute{'s' * (n != 1)}"
    return f"{seconds} second{'s' * (seconds != 1)}"


def child_env(
    base: Mapping[str, str],
    term: str,
    client_env: Mapping[str, str],
    no_color: bool,
    session_dir: Path,
    session_store: Path | None = None,
) -> dict[str, str]:
    """The environment of a session's app.

    From the client only its terminal type, ``NO_COLOR`` and a truecolor
    ``COLORTERM`` are taken, never arbitrary variables (its size is the PTY's).  Every
    session, shared or private, gets its own config, data and state directories (the
    config seeded from the operator's, see :func:`seed_config`) and its own export
    folder, the only place the app may write files, so nothing a visitor saves reaches
    another session, the operator's files or the store.  In a private session
    *session_store* is where the app copies the store at the visitor's first save.
    """
    env = {k: v for k, v in base.items() if k not in _ENV_DROP}
    env["TERM"] = term if _TERM_OK.fullmatch(term) else "xterm-256color"
    # No COLUMNS/LINES: shutil.get_terminal_size() (which Textual uses) prefers them
    # to the PTY's size, so the app would never follow a resize.  The PTY is sized.
    if no_color or client_env.get("NO_COLOR"):
        env["NO_COLOR"] = "1"
    if client_env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        env["COLORTERM"] = "truecolor"
    if not any(env.get(k) for k in ("LC_ALL", "LC_CTYPE", "LANG")):
        env["LANG"] = "C.UTF-8"
    env["JOURNEYTUI_SSH"] = "1"
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        path = session_dir / sub
        path.mkdir(mode=0o700, exist_ok=True)
        env[var] = str(path)
    env[CONFIG_ENV] = str(session_dir / "config" / "journeytui")
    env[EXPORT_DIR_ENV] = str(session_dir / EXPORTS)
    env["HOME"] = str(session_dir)
    env.pop(SESSION_STORE_ENV, None)
    if session_store is not None:
        env[SESSION_STORE_ENV] = str(session_store)
    return env


class AppSession(asyncssh.SSHServerSession[bytes]):
    """The app for one SSH session, from the PTY request to the last log line."""

    def __init__(
        self,
        server: DemoServer,
        peer: str,
        user: str,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.server = server
        self._on_end = on_end
        self.config = server.config
        self.peer = peer
        self.user = user
        self.id = server.next_session_id()
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term_type: str | None = None
        self.cols, self.rows, self.px_width, self.px_height = 80, 24, 0, 0
        self.child: PtyChild | None = None
        # where the private copy of the store goes (made by the app at the first save)
        self.copy: Path | None = None
        self.workdir: Path | None = None  # the session's own folder
        self.started = time.monotonic()
        self.last_input = self.started
        self.last_output = 0.0
        self.reason: str | None = None  # how it ended
        self.exit_status: int | None = None
        self.task: asyncio.Task[None] | None = None
        self._end = asyncio.Event()
        self._chan_open = False
        self._warning: str | None = None  # "idle" / "ttl" while a warning is shown
        self._idle_warned_at: float | None = None
        self._ttl_warned = False
        self._input_paused = False

    # -- asyncssh callbacks ------------------------------------------------------------
    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:  # type: ignore[override]
        self.chan = chan
        self._chan_open = True

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object
    ) -> bool:
        self.term_type = term_type or "xterm-256color"
        self._set_size(*term_size)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        # There are no commands: `ssh -t host anything` gets the app like a shell.
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"journeytui-ssh-session-{self.id}")
        self.server.tasks.add(self.task)
        self.task.add_done_callback(self.server.tasks.discard)

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:  # type: ignore[override]
        self.last_input = time.monotonic()
        if self._warning is not None:
            self._dismiss_warning()
            return  # the key that dismissed the warning is not passed on
        if self.child is not None:
            self.child.write(data)
            if self.child.input_backlog > _INPUT_HIGH_WATER and self.chan is not None:
                self.chan.pause_reading()
                self._input_paused = True

    def eof_received(self) -> bool:
        return True  # a terminal has no end of input: keep the session

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._set_size(width, height, pixwidth, pixheight)
        if self.child is not None:
            self.child.resize(self.cols, self.rows, self.px_width, self.px_height)

    def pause_writing(self) -> None:
        if self.child is not None:
            self.child.pause_reading()

    def resume_writing(self) -> None:
        if self.child is not None:
            self.child.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._chan_open = False
        self.finish("disconnect")
        if self._on_end is not None:
            on_end, self._on_end = self._on_end, None
            on_end()

    # -- ending ------------------------------------------------------------------------
    def finish(self, reason: str) -> None:
        """Ask the session to end for *reason* (the first reason given wins)."""
        if self.reason is None:
            self.reason = reason
        self._end.set()

    async def _run(self) -> None:
        seat = False
        watchdog: asyncio.Task[None] | None = None
        waiter: asyncio.Task[None] | None = None
        error: str | None = None
        try:
            if self.term_type is None:
                self.reason = "no-terminal"
                self._refuse(NO_TERMINAL)
                return
            seat = self.server.seats.take()
            if not seat:
                self.reason = "full"
                self._refuse(self.server.seats.message())
                return
            self.server.sessions[self.id] = self
            # Something to read while the app starts (a second or more on a busy server).
            self._write(STARTING.encode())
            # The app opens the one store: --shared for reading and writing, a private
            # session read-only (mode=ro) until the visitor's first save, which copies it
            # into the session's folder (self.copy) and goes on there.
            db = self.config.db.resolve()
            await asyncio.to_thread(check_source, db)  # gone or damaged: said here
            self.workdir = await asyncio.to_thread(make_session_dir, self.config.temp_root)
            if not self.config.shared:
                self.copy = self.workdir / COPY_NAME
            await asyncio.to_thread(seed_config, self.workdir, os.environ)
            if self.reason is not None:  # gone while the folder was made
                return
            env = child_env(
                os.environ,
                self.term_type,
                self.chan.get_environment() if self.chan is not None else {},
                self.config.no_color,
                self.workdir,
                self.copy,
            )
            self.child = await PtyChild.spawn(
                list(self.config.child_command(db)),
                env,
                (self.cols, self.rows, self.px_width, self.px_height),
                on_output=self._on_output,
                on_eof=lambda: None,
                on_drain=self._on_input_drained,
                cwd=str(self.workdir / EXPORTS),
            )
            watchdog = asyncio.create_task(self._watchdog())
            waiter = asyncio.create_task(self._wait_child())
            await self._end.wait()
        except asyncio.CancelledError:
            self.finish("shutdown")
        except Exception as exc:  # noqa: BLE001 - any failure ends this session only
            error = safe_text(f"{type(exc).__name__}: {exc}", 300)
            self.finish("error")
            log.error("ssh session %d from %s: cannot start: %s", self.id, self.peer, error)
        finally:
            for task in (watchdog, waiter):
                if task is not None:
                    task.cancel()
            try:
                await self._cleanup(error)
            finally:
                if seat:
                    self.server.seats.give_back()
                self.server.sessions.pop(self.id, None)
                self._log_end()

    async def _wait_child(self) -> None:
        assert self.child is not None
        status = await self.child.wait()
        with contextlib.suppress(TimeoutError):  # let its last output through
            await asyncio.wait_for(self.child.eof.wait(), 1.0)
        self.exit_status = status
        self.finish("quit" if status == 0 else "error")

    async def _cleanup(self, error: str | None) -> None:
        child = self.child
        if child is not None:
            if child.running:
                await child.stop(self.config.kill_grace)
            else:
                child.reap_group()
            child.close()
            if self.exit_status is None and child.proc.returncode is not None:
                self.exit_status = child.proc.returncode
        if self.workdir is not None:
            await asyncio.to_thread(remove_session_dir, self.workdir)
        if not self._chan_open or self.chan is None:
            return
        reason = self.reason
        if reason in ("quit", "error") and error is None and self.exit_status is not None:
            status = self.exit_status
            if status < 0:  # killed by a signal: the app could not restore the terminal
                self._write(TERMINAL_RESET)
                self._write(b"journeytui: the app was stopped (signal %d).\r\n" % -status)
            self.chan.exit(status if status >= 0 else 128 - status)
            return
        if child is not None:
            self._write(TERMINAL_RESET)
        if reason == "idle":
            text = (
                f"journeytui: session closed after {say_duration(self.config.idle_timeout)} "
                "without input. Reconnect to start a new one."
            )
        elif reason == "ttl":
            text = (
                f"journeytui: this demo session has reached its "
                f"{say_duration(self.config.session_ttl)} limit. Reconnect to start a new one."
            )
        elif reason == "shutdown":
            text = "journeytui: the demo server is shutting down. Thank you for trying journeytui."
        else:
            # the details are in the server's log, not for the visitor
            text = "journeytui: sorry, the session could not start; please try again later."
        self._write(text.encode() + b"\r\n")
        self.chan.exit(0 if reason in ("idle", "ttl", "shutdown") else 1)

    def _refuse(self, message: str) -> None:
        if self.chan is not None and self._chan_open:
            self.chan.write_stderr(message.encode() + b"\r\n")
            self.chan.exit(1)

    def _log_end(self) -> None:
        duration = time.monotonic() - self.started
        status = ""
        if self.reason in ("quit", "error") and self.exit_status is not None:
            status = f" status={self.exit_status}"
        size = f"{self.cols}x{self.rows}" if self.term_type is not None else "-"
        log.info(
            "ssh session %d from %s user=%s term=%s size=%s duration=%.1fs ended=%s%s",
            self.id,
            self.peer,
            safe_text(self.user, 40),
            safe_text(self.term_type or "-", 40),
            size,
            duration,
            self.reason or "unknown",
            status,
        )

    # -- data to the client --------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if self.chan is None or not self._chan_open:
            return
        try:
            self.chan.write(data)
        except (BrokenPipeError, OSError, asyncssh.Error):
            self._chan_open = False

    def _on_output(self, data: bytes) -> None:
        self.last_output = time.monotonic()
        self._write(data)

    def _on_input_drained(self) -> None:
        if self._input_paused and self.chan is not None:
            self._input_paused = False
            self.chan.resume_reading()

    def _set_size(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        # 0 means "unknown" in a PTY request; keep a usable size then.
        self.cols = min(width, 1000) if width > 0 else 80
        self.rows = min(height, 1000) if height > 0 else 24
        self.px_width, self.px_height = max(pixwidth, 0), max(pixheight, 0)

    # -- idle timeout and session TTL ----------------------------------------------------
    async def _watchdog(self) -> None:
        cfg = self.config
        while True:
            now = time.monotonic()
            wake: list[float] = []
            if cfg.idle_timeout > 0:
                ahead = min(cfg.warn_ahead, cfg.idle_timeout / 4)
                end = self.last_input + cfg.idle_timeout
                if now >= end:
                    self.finish("idle")
                    return
                wake.append(end)
                if now >= end - ahead:
                    if self._idle_warned_at != self.last_input and self._warning is None:
                        self._idle_warned_at = self.last_input
                        self._show_warning(
                            "idle",
                            f"journeytui: idle, closing in {say_duration(end - now)}. "
                            "Press any key to stay.",
                        )
                else:
                    wake.append(end - ahead)
            if cfg.session_ttl > 0:
                ahead = min(cfg.warn_ahead, cfg.session_ttl / 4)
                end = self.started + cfg.session_ttl
                if now >= end:
                    self.finish("ttl")
                    return
                wake.append(end)
                if now >= end - ahead:
                    if not self._ttl_warned and self._warning is None:
                        self._ttl_warned = True
                        self._show_warning(
                            "ttl",
                            f"journeytui: this demo session ends in {say_duration(end - now)}.",
                        )
                else:
                    wake.append(end - ahead)
            if not wake:
                return
            await asyncio.sleep(max(0.01, min(wake) - now))

    def _show_warning(self, kind: str, text: str) -> None:
        """Draw *text* in reverse video over the bottom line of the app's screen."""
        self._warning = kind
        line = f" {text} "[: self.cols].ljust(self.cols)
        overlay = (
            b"\x1b7"
            + f"\x1b[{self.rows};1H".encode()
            + b"\x1b[0;1;7m"
            + line.encode()
            + b"\x1b[0m\x1b8\x07"
        )
        self._write_between_frames(overlay, tries=20)

    def _write_between_frames(self, data: bytes, tries: int) -> None:
        """Write *data* once the app has been quiet for 50 ms (so no escape
        sequence of the app's is cut in two), or after ~1 s anyway."""
        quiet = time.monotonic() - self.last_output >= 0.05
        if quiet or tries <= 0:
            if self._warning is not None:
                self._write(data)
            return
        asyncio.get_running_loop().call_later(0.05, self._write_between_frames, data, tries - 1)

    def _dismiss_warning(self) -> None:
        """Make the app repaint over the warning: shrink its terminal a row, then
        restore it (the app redraws everything on a size change)."""
        self._warning = None
        child = self.child
        if child is None or self.rows < 2:
            return
        child.resize(self.cols, self.rows - 1, self.px_width, self.px_height)
        asyncio.get_running_loop().call_later(
            0.2, lambda: child.resize(self.cols, self.rows, self.px_width, self.px_height)
        )
