"""A child process in its own pseudo-terminal, session and process group."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import struct
import termios
from collections.abc import Callable, Mapping, Sequence


def set_winsize(fd: int, cols: int, rows: int, px_width: int = 0, px_height: int = 0) -> None:
    """Size the terminal behind *fd*; the kernel sends SIGWINCH to its foreground group."""
    fcntl.ioctl(
        fd,
        termios.TIOCSWINSZ,
        struct.pack("HHHH", max(rows, 1), max(cols, 1), px_width, px_height),
    )


def _become_tty_owner() -> None:  # runs in the child, after setsid
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyChild:
    """A process whose stdin, stdout and stderr are the slave side of a new PTY.

    The parent keeps the master side: :meth:`write` feeds the child's input,
    *on_output* gets what the child prints, *on_eof* is called once when the
    terminal is closed by every process that had it.
    """

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        master: int,
        on_output: Callable[[bytes], None],
        on_eof: Callable[[], None],
        on_drain: Callable[[], None] | None = None,
    ) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.master = master
        self._on_output = on_output
        self._on_eof = on_eof
        self._on_drain = on_drain
        self._loop = asyncio.get_running_loop()
        self._pending = bytearray()  # input the PTY did not take yet
        self._reading = False
        self._closed = False
        self.eof = asyncio.Event()
        self.resume_reading()

    @classmethod
    async def spawn(
        cls,
        argv: Sequence[str],
        env: Mapping[str, str],
        size: tuple[int, int, int, int],
        on_output: Callable[[bytes], None],
        on_eof: Callable[[], None],
        on_drain: Callable[[], None] | None = None,
        cwd: str | None = None,
    ) -> PtyChild:
        """Start *argv* in a new session whose controlling terminal is a new PTY.

        *size* is (columns, rows, pixel width, pixel height).
        """
        master, slave = pty.openpty()
        try:
            set_winsize(slave, *size)
            os.set_blocking(master, False)
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,  # setsid: own session and process group
                preexec_fn=_become_tty_owner,
                close_fds=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)  # only the child holds it now, so its exit gives EOF
        return cls(proc, master, on_output, on_eof, on_drain)

    # -- output ----------------------------------------------------------------------
    def pause_reading(self) -> None:
        if self._reading and not self._closed:
            self._loop.remove_reader(self.master)
            self._reading = False

    def resume_reading(self) -> None:
        if not self._reading and not self._closed and not self.eof.is_set():
            self._loop.add_reader(self.master, self._readable)
            self._reading = True

    @property
    def output_paused(self) -> bool:
        """Whether the child's output is not being read (the client is behind)."""
        return not self._reading and not self._closed and not self.eof.is_set()

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: every process closed the terminal
            data = b""
        if data:
            self._on_output(data)
            return
        self.pause_reading()
        if not self.eof.is_set():
            self.eof.set()
            self._on_eof()

    # -- input -----------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self._closed or self.eof.is_set():
            return
        if self._pending:
            self._pending += data
            return
        self._pending += data
        self._flush()

    def _flush(self) -> None:
        while self._pending and not self._closed:
            try:
                n = os.write(self.master, self._pending)
            except BlockingIOError:
                self._loop.add_writer(self.master, self._writable)
                return
            except OSError:
                self._pending.clear()
                return
            del self._pending[:n]
        if not self._pending and self._on_drain is not None:
            self._on_drain()

    def _writable(self) -> None:
        self._loop.remove_writer(self.master)
        self._flush()

    @property
    def input_backlog(self) -> int:
        return len(self._pending)

    # -- size and signals --------------------------------------------------------------
    def resize(self, cols: int, rows: int, px_width: int = 0, px_height: int = 0) -> None:
        if not self._closed:
            with contextlib.suppress(OSError):
                set_winsize(self.master, cols, rows, px_width, px_height)

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    async def wait(self) -> int:
        return await self.proc.wait()

    async def stop(self, grace: float) -> None:
        """End the child's process group: SIGHUP, then SIGTERM, then SIGKILL.

        Each signal gets *grace* seconds to work before the next is sent.  Whatever
        is left in the group after the child itself is gone is killed too.
        """
        for sig, wait in (
            (signal.SIGHUP, grace),
            (signal.SIGTERM, grace),
            (signal.SIGKILL, 10.0),
        ):
            if not self.running:
                break
            self.signal_group(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), wait)
        self.reap_group()

    def reap_group(self) -> None:
        """Kill what is left of the child's process group (call right after it exits)."""
        self.signal_group(signal.SIGKILL)

    def close(self) -> None:
        """Release the master side (the child, if still there, gets a hangup)."""
        if self._closed:
            return
        self.pause_reading()
        with contextlib.suppress(Exception):
            self._loop.remove_writer(self.master)
        self._closed = True
        with contextlib.suppress(OSError):
            os.close(self.master)
