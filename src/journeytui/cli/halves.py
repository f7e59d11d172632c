"""A long list written by two processes: the first half by this one, the second half
at the same time by a forked child, which formats it into an unlinked temporary file;
this process then copies the child's text after its own.  The same bytes as one
process writes (the same rows, read from the same snapshot of the store, formatted
by the same code), in a little over half the time on a machine with two cores or
more.

A list is split when it holds at least :data:`SPLIT_FROM` rows (a shorter one is
written by this process alone: the fork, the connections, the child's start and
the copy cost about 50 ms, about what two processes gain on 40,000 rows), the
process can fork safely (POSIX, no other thread) and a CPU is free for the child
(:func:`can_split`).

The store is never inherited by the child: the process forks holding no connection
(the caller closes the one that found the cut), then each opens its own.  Both
processes must read the same snapshot: the parent notes ``PRAGMA data_version`` on a
connection of its own before either starts reading, lets both start (each holds one
read transaction for the whole list), and asks again once the child says it has
started; a different answer means another connection committed in between, and the
parent writes the second half itself.  So it does when the child fails, dies or
says nothing: the user never sees a difference except time.  The child never writes
to the user's terminal (its standard streams are ``/dev/null``), ends with
``os._exit`` (no exit handlers, no buffers flushed twice), and is killed and reaped
whatever ends the parent's writing (a closed pipe, Ctrl-C, an error): no process
and no file is left behind (the temporary file never has a name).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Generic, TypeVar

from journeytui.store import Store

#: Lists of at least this many rows are written by two processes.
SPLIT_FROM = 40_000
#: The environment variable that says how many processes write a long list: 1
#: (never two), 2 (two whatever the machine's load); unset: two when a CPU is free.
PROCESSES_ENV = "JOURNEYTUI_LIST_PROCESSES"

#: How much of the child's text is copied at a time (characters).
COPY_CHARS = 1 << 20

K = TypeVar("K")


def can_split() -> bool:
    """Whether this process can hand half a list to a forked child: POSIX, more
    than one CPU for it, no thread but this one (a fork copies none of them), and a
    CPU free for the child right now (:func:`free_cpu`) — or the environment
    variable ``JOURNEYTUI_LIST_PROCESSES`` says 1 (never) or 2 (whatever the load)."""
    wanted = os.environ.get(PROCESSES_ENV, "").strip()
    if wanted == "1":
        return False
    threading = sys.modules.get("threading")  # (never imported: no thread was started)
    if not hasattr(os, "fork") or (threading is not None and threading.active_count() != 1):
        return False
    cpus = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1)
    return cpus > 1 and (wanted == "2" or free_cpu(cpus))


def free_cpu(cpus: int) -> bool:
    """Whether a CPU is free for a second process: no more than *cpus* − 2 others
    runnable now besides this one (Linux's ``/proc/loadavg``; elsewhere, assumed).
    When other work keeps the CPUs busy, a second process only shares this one's
    time (each login session's processes share a scheduler group) and costs more
    CPU in all: the list is then written by this process alone."""
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            running = int(fh.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return True
    return running < cpus


class Spool:
    """The child's text (UTF-8, in an unlinked temporary file), as it comes after the
    parent's own in a list's text: copied to a text stream's bytes as they are."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.size = os.fstat(file.fileno()).st_size

    def __bool__(self) -> bool:
        return self.size > 0

    def texts(self) -> Iterator[str]:
        """The text, a piece at a time (for a writer of str)."""
        self.file.seek(0)
        with open(self.file.fileno(), encoding="utf-8", newline="", closefd=False) as text:
            while piece := text.read(COPY_CHARS):
                yield piece

    def copy_to(self, out: IO[str]) -> None:
        """Write the text to *out*: its bytes straight to the stream's buffer when it
        writes UTF-8 (after what it holds), else as text."""
        import codecs

        raw = getattr(out, "buffer", None)
        encoding = getattr(out, "encoding", None) or ""
        if raw is None or codecs.lookup(encoding).name != "utf-8":
            for piece in self.texts():
                out.write(piece)
            return
        out.flush()
        self.file.seek(0)
        buf = bytearray(COPY_CHARS)
        view = memoryview(buf)
        while n := self.file.readinto(buf):  # type: ignore[attr-defined]
            raw.write(view[:n])
        raw.flush()


class Sink:
    """A text stream for a list's text given by :func:`in_halves` (its ``write``
    takes the child's :class:`Spool` too)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, piece: str | Spool) -> None:
        if isinstance(piece, Spool):
            piece.copy_to(self.out)
        else:
            self.out.write(piece)


def write_all(text: Iterable[str | Spool], out: IO[str]) -> None:
    """Write a list's text (:func:`in_halves`) to *out*."""
    sink = Sink(out)
    for piece in text:
        sink.write(piece)


def texts(text: Iterable[str | Spool]) -> Iterator[str]:
    """A list's text (:func:`in_halves`) as str, the child's too."""
    for piece in text:
        if isinstance(piece, Spool):
            yield from piece.texts()
        else:
            yield piece


@contextmanager
def in_halves(store: Store, cut: tuple[K, K] | None, reopen: Callable[[], Store],
              part: Callable[[Store, K | None], tuple[Iterator[str], list[int]]],
              ) -> Iterator[tuple[Iterator[str | Spool], list[int]]]:
    """The text of a list and its counts (final once the text is consumed): str
    pieces, and the child's as a :class:`Spool` after some of the parent's (write
    it with :func:`write_all` or a :class:`Sink`, or read :func:`texts`).

    *part* gives the text of the list (None) or of one of its halves (*cut*: the
    first and the second) read from a store, and its counts (numbers that grow as
    the text is consumed: rows written, rows left out …).  Without *cut*, the whole list is read
    from *store*; with it, *store* is closed and the list is written by two
    processes, each reading from a store of its own opened by *reopen*."""
    split = None
    if cut is not None:
        try:
            split = _Split(cut, part)
        except OSError:  # no temporary file (a full or missing folder): one process
            split = None
    if split is None:
        text, counts = part(store, None)
        yield text, counts
        return
    store.close()
    try:
        split.start(reopen)
        yield split.text(), split.counts
    finally:
        split.end()


class _Split(Generic[K]):
    """The parent's side: the child forked, both snapshots checked, the first half
    formatted here, then the child's text (or, should anything be wrong with it,
    the second half formatted here)."""

    def __init__(self, cut: tuple[K, K],
                 part: Callable[[Store, K | None], tuple[Iterator[str], list[int]]]) -> None:
        """The temporary file and the pipes (OSError: none could be made)."""
        import tempfile

        self.part, self.cut = part, cut
        self.counts: list[int] = []
        self.store: Store | None = None
        self.pid: int | None = None
        self.alone = False  # (no child could be forked)
        self.same = False
        self.fds: list[int] = []
        self.file: IO[bytes] = tempfile.TemporaryFile()
        try:
            go_r, self.go = os.pipe()
            self.fds += [go_r, self.go]
            self.said, said_w = os.pipe()
            self.fds += [self.said, said_w]
        except OSError:
            self.end()
            raise

    def start(self, reopen: Callable[[], Store]) -> None:
        go_r, said_w = self.fds[0], self.fds[3]
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # (nothing of this process's output is copied into the child)
        try:
            pid = os.fork()
        except OSError:  # (no process to be had: this one writes it all)
            self.alone = True
            self.store = reopen()
            return
        if pid == 0:  # the child: never returns
            _child(reopen, self.cut[1], self.part, go_r, said_w, self.file.fileno(),
                   (self.go, self.said))
        self.pid = pid
        for fd in (go_r, said_w):
            self.fds.remove(fd)
            os.close(fd)
        self.store = reopen()
        self.same = self._start_both(reopen)

    def _start_both(self, reopen: Callable[[], Store]) -> bool:
        """Start this process's read and let the child start its own; whether both
        read the same snapshot (no other connection committed in between)."""
        assert self.store is not None
        watch = _watch(self.store, reopen)
        try:
            before = _data_version(watch)
            try:
                os.write(self.go, b"g")
            except OSError:  # the child has ended already
                return False
            _pin(self.store)
            started = os.read(self.said, 1) == b"s"
            return started and _data_version(watch) == before
        finally:
            watch.close()

    def text(self) -> Iterator[str | Spool]:
        assert self.store is not None
        if self.alone:
            whole, counts = self.part(self.store, None)
            yield from whole
            self.counts[:] = counts
            return
        first, counts = self.part(self.store, self.cut[0])
        wrote = False
        for piece in first:
            wrote = wrote or bool(piece)
            yield piece
        theirs = self._childs_counts() if self.same else None
        if theirs is not None and len(theirs) == len(counts):
            spool = Spool(self.file)
            if wrote:
                yield spool
            else:  # (text, for a writer that treats the list's first text apart)
                yield from spool.texts()
        else:
            self._stop_child()
            second, theirs = self.part(self.store, self.cut[1])
            yield from second
        self.counts[:] = [a + b for a, b in zip(counts, theirs, strict=True)]

    def _childs_counts(self) -> list[int] | None:
        """The child's counts once it has ended well, None otherwise."""
        assert self.pid is not None
        status = _reap(self.pid)
        self.pid = None
        said = b""
        while chunk := os.read(self.said, 4096):
            said += chunk
        if status != 0 or not said.endswith(b"\n"):
            return None
        try:
            return [int(n) for n in said.split()]
        except ValueError:
            return None

    def _stop_child(self) -> None:
        import signal

        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _reap(self.pid)
            self.pid = None

    def end(self) -> None:
        self._stop_child()
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        self.file.close()
        if self.store is not None:
            self.store.close()


def _watch(store: Store, reopen: Callable[[], Store]) -> sqlite3.Connection:
    """A connection of its own to *store*'s file that only asks whether another
    connection committed: a plain read-only one (no schema read), or where SQLite
    cannot open one so (a read-only folder), the store opened again."""
    try:
        conn = sqlite3.connect(f"{Path(store.path).absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return reopen().conn
    try:
        _data_version(conn)
    except sqlite3.Error:
        conn.close()
        return reopen().conn
    return conn


def _reap(pid: int) -> int | None:
    """Wait for the child *pid* to end: its exit status (a negative number: the
    signal that ended it), or None when it was reaped already (a process that
    ignores SIGCHLD has its children reaped for it)."""
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:
        return None


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchall()[0][0])


def _pin(store: Store) -> None:
    """Start a read transaction on *store* (its snapshot: the store as it is now),
    held until the store is closed."""
    store.conn.execute("BEGIN")
    store.conn.execute("SELECT count(*) FROM sqlite_master").fetchall()


def _child(reopen: Callable[[], Store], half: K,
           part: Callable[[Store, K | None], tuple[Iterator[str], list[int]]],
           go: int, said: int, fd: int, parents: tuple[int, ...]) -> None:
    """The child: wait for the parent's word, start its read, say so, write the
    second half's text to *fd* (UTF-8) and its counts to *said*; exit 0 only when
    all of that went well.  (*parents*: the parent's ends of the pipes.)"""
    import signal

    code = 1
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it where it is
        for end in parents:
            os.close(end)
        null = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(null, std)
        store = reopen()
        if os.read(go, 1) == b"g":
            _pin(store)
            os.write(said, b"s")
            text, counts = part(store, half)
            with open(fd, "w", encoding="utf-8", newline="", closefd=False) as out:
                for piece in text:
                    out.write(piece)
            store.close()
            os.write(said, (" ".join(map(str, counts)) + "\n").encode())
            code = 0
    except BaseException:  # noqa: BLE001 (the parent writes the half itself)
        code = 1
    finally:
        os._exit(code)
