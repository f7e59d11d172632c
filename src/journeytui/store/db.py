"""Opening, creating and migrating the store; transactions."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Self

from journeytui.errors import UserError
from journeytui.store.schema import APP_ID, MIGRATIONS, SCHEMA_VERSION

DEFAULT_DB = "journeys.db"


#: Stores up to this size get a full quick check before their first write in a process
#: (about 10 ms a MB); larger ones rely on SQLite's checks of the pages it reads.
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024


class StoreError(UserError):
    """A problem with the store file that the user can act on (never a traceback)."""


class StoreBusyError(StoreError):
    """Another program held the store's write lock longer than a writer would wait."""

    def __init__(self, path: Path, wait: float) -> None:
        super().__init__(
            f"{path}: another program kept writing to the store for more than {wait:g} s; "
            "nothing was changed. Try again once it has finished."
        )
        self.wait = wait


_SQLITE_BUSY, _SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 5, 10, 11, 13, 26

#: How long a writer waits its turn while another program writes (seconds), and after
#: how long it says that it is waiting (see :func:`set_wait_notice`).
WRITE_WAIT = 60.0
NOTICE_AFTER = 3.0

WaitNotice = Callable[["Store", bool], None]
_wait_notice: WaitNotice | None = None


def set_wait_notice(notice: WaitNotice | None) -> None:
    """Who hears that a writer is waiting for another: called ``(store, True)`` once the
    wait passes :data:`NOTICE_AFTER` seconds and ``(store, False)`` when it ends.  The CLI
    prints a line on stderr; the app puts it in its status line (per store:
    ``store.on_wait``)."""
    global _wait_notice
    _wait_notice = notice
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _why_full(path: Path, full: bool) -> str:
    """Why a write failed: no space left, a file-size limit, or a failing disk."""
    try:
        free: int | None = shutil.disk_usage(path.resolve().parent).free
    except OSError:
        free = None
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        limited = soft != resource.RLIM_INFINITY
    except (ImportError, OSError, ValueError):
        soft, limited = 0, False
    if free is not None and free < 1024 * 1024:
        return f"disk full ({free // 1024:,} kB free in {path.resolve().parent})"
    if limited:
        return f"disk full: this process may write files of at most {soft:,} bytes (ulimit -f)"
    if full:
        return "disk full"
    return "disk I/O error: the disk may be full or failing"


def write_failure(path: Path, exc: BaseException) -> StoreError | None:
    """A clear :class:`StoreError` for a write that failed for want of space (or a
    file-size limit, or an I/O error), or ``None`` when *exc* is something else."""
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        full = True
    elif isinstance(exc, sqlite3.Error):
        code = _code(exc)
        if code not in (_SQLITE_FULL, _SQLITE_IOERR):
            return None
        full = code == _SQLITE_FULL
    else:
        return None
    return StoreError(
        f"{path}: cannot write, {_why_full(Path(path), full)}; nothing was changed. "
        "Free some space (or raise the limit) and run it again."
    )


def _code(exc: sqlite3.Error) -> int:
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def damaged(path: Path, detail: str) -> StoreError:
    """The store's pages are damaged: say so, and how to recover."""
    return StoreError(
        f"{path}: the store is damaged ({detail}); nothing was changed. Restore it from "
        f"a backup, or recover what can be read into a new file with "
        f"`sqlite3 {path} .recover | sqlite3 recovered.db` and use that."
    )


def explain_failure(exc: BaseException, store: str | os.PathLike[str]) -> StoreError | None:
    """What a user should read for an error that escaped a command, or ``None`` for
    an unexpected one: a full disk (store or any other file being written), a damaged
    store, …"""
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return write_failure(Path(exc.filename or store), exc)
    if isinstance(exc, sqlite3.Error):
        if _code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return damaged(Path(store), str(exc))
        return write_failure(Path(store), exc)
    return None


class Store:
    """One SQLite connection to a journeytui store.

    Use :meth:`open` (existing file) or :meth:`create` (new file).  Writes go through
    :meth:`transaction`, which is all-or-nothing.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool = False) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        # why a store asked for read-write is read-only (None: asked for read-only)
        self.readonly_reason: str | None = None
        self.on_wait: WaitNotice | None = None  # else the process-wide notice
        self._token_key: bytes | None = None

    # -- opening ---------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] = DEFAULT_DB,
        *,
        create: bool = False,
        readonly: bool = False,
        check_same_thread: bool = True,
    ) -> Store:
        """Open the store at *path*.

        A missing file is created only when *create* is true.  A file that is not an
        SQLite database, a foreign SQLite database, or one written by a newer
        journeytui raises :class:`StoreError` and is left untouched.  Older stores are
        migrated forward in one transaction.
        """
        p = Path(path)
        if p.is_dir():
            raise StoreError(f"{p}: is a directory, not a journeytui store")
        if p.is_symlink() and not p.exists():
            raise StoreError(f"{p}: a symbolic link to nothing (or a loop), not a store")
        exists = p.exists()
        if not exists and not create:
            raise StoreError(
                f"{p}: no such store. Create one with `journeytui demo --db {p}` "
                "or import data into it."
            )
        if not exists and readonly:
            raise StoreError(f"{p}: no such store")
        if exists and not p.is_file():
            raise StoreError(
                f"{p}: not a regular file (a device, a FIFO or a socket), not a journeytui "
                "store; nothing was read or changed"
            )
        if exists and _empty_file(p):
            raise StoreError(
                f"{p}: an empty file (0 bytes), not a journeytui store; nothing was changed. "
                "Give the path of your store, or remove the file to start a new one."
            )
        folder = p.parent if str(p.parent) else Path(".")
        why_readonly = _why_readonly(p, folder, exists)
        writable = exists and why_readonly is None
        if not exists and why_readonly is not None:
            raise StoreError(f"{p}: cannot create the store: {why_readonly}")
        if exists and not readonly and not writable:
            readonly = True  # a read-only file still opens for reading
        try:
            # A read-only *file* needs mode=ro (or immutable=1, see _connect_readonly).
            # A writable file opened for reading gets an ordinary connection with
            # query_only on: SQLite then removes the -wal and -shm files when it
            # closes, which a mode=ro connection cannot do.
            if readonly and not writable:
                conn = _connect_readonly(p, check_same_thread)
            else:
                conn = sqlite3.connect(
                    p, check_same_thread=check_same_thread, isolation_level=None
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{p}: cannot open: {exc}") from None
        if readonly and writable:
            conn.execute("PRAGMA query_only = ON")
        store = cls(conn, p, readonly=readonly)
        store.readonly_reason = why_readonly if readonly else None
        try:
            store._prepare(new=not exists)
        except StoreError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            if _code(exc) == _SQLITE_CORRUPT:
                raise damaged(p, str(exc)) from None
            raise StoreError(f"{p}: not a journeytui store ({exc}); nothing was changed") from None
        return store

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, token_key: bytes | None = None) -> Store:
        """Create a new, empty store at *path* (which must not exist)."""
        p = Path(path)
        if p.exists():
            raise StoreError(f"{p}: already exists")
        store = cls.open(p, create=True)
        if token_key is not None:
            with store.transaction():
                store.conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'token_key'", (token_key.hex(),)
                )
            store._token_key = token_key
        return store

    def _prepare(self, *, new: bool) -> None:
        c = self.conn
        # Reading the header validates the file: a non-SQLite file fails here.
        version = c.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and tables:
            raise StoreError(
                f"{self.path}: an SQLite database that is not a journeytui store; "
                "nothing was changed"
            )
        if version > 0:
            app = None
            if "meta" in tables:
                row = c.execute("SELECT value FROM meta WHERE key = 'app'").fetchone()
                app = row[0] if row else None
            if app != APP_ID:
                raise StoreError(
                    f"{self.path}: an SQLite database that is not a journeytui store; "
                    "nothing was changed"
                )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer journeytui (schema {version}, this one "
                f"knows up to {SCHEMA_VERSION}); upgrade journeytui. Nothing was changed."
            )
        c.execute("PRAGMA foreign_keys = ON")
        c.execute(f"PRAGMA busy_timeout = {int(NOTICE_AFTER * 1000)}")
        if self.readonly:
            if version < SCHEMA_VERSION:
                why = self.readonly_reason or "it was opened read-only"
                raise StoreError(
                    f"{self.path}: written by an older journeytui (schema {version}); it needs "
                    f"an upgrade to schema {SCHEMA_VERSION}, which writes to it, but {why}. "
                    "Nothing was changed."
                )
            return
        c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA synchronous = NORMAL")
        if version < SCHEMA_VERSION:
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        c = self.conn
        self._begin(None)
        try:
            for i in range(version, SCHEMA_VERSION):
                for stmt in _split_sql(MIGRATIONS[i]):
                    c.execute(stmt)
            if version == 0:
                import secrets  # (here: only a new store needs it, and it loads random)

                c.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [
                        ("app", APP_ID),
                        ("token_key", secrets.token_bytes(16).hex()),
                        ("created_at", str(int(time.time()))),
                    ],
                )
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            c.execute("COMMIT")
        except BaseException as exc:
            self._rollback()
            failure = write_failure(self.path, exc)
            if failure is not None:
                raise failure from None
            raise

    # -- transactions ----------------------------------------------------------------
    @contextmanager
    def transaction(
        self, *, wait: float | None = None, check: bool = True
    ) -> Iterator[sqlite3.Connection]:
        """All-or-nothing write: commits on success, rolls back on any exception.

        *wait*: how long to wait for another program's write lock — None: up to
        :data:`WRITE_WAIT` s, said after :data:`NOTICE_AFTER` s (see
        :func:`set_wait_notice`); a number: quietly, up to that many seconds (a server
        answers "busy, retry" instead) — then :class:`StoreBusyError`, nothing
        written.  *check*: refuse a damaged store before its first write in this
        process (``quick_check``, about 10 ms a MB); a long-lived writer that checked
        when it started passes False, since every checkpoint changes the file and
        would have it checked again.  Both matter only to the outermost transaction:
        a nested one joins it.
        """
        if self.readonly:
            if self.readonly_reason:
                raise StoreError(
                    f"{self.path}: cannot write, {self.readonly_reason}; nothing was changed. "
                    "Copy the store (with its -wal file, if any) to a folder you can write in."
                )
            raise StoreError(f"{self.path}: the store is read-only; nothing was changed")
        c = self.conn
        if c.in_transaction:  # nested: join the outer transaction
            yield c
            return
        self._begin(wait)
        try:
            if check:
                self._check_before_writing()
        except BaseException:
            self._rollback()
            raise
        try:
            yield c
        except BaseException as exc:
            self._rollback()
            failure = write_failure(self.path, exc)
            if failure is not None:
                raise failure from None
            raise
        try:
            c.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            failure = write_failure(self.path, exc)
            raise failure or StoreError(
                f"{self.path}: cannot write ({exc}); nothing was changed"
            ) from None

    # Files (device, inode, size, mtime) a quick check found sound in this process: the check is
    # O(size) (about 10 ms a MB), so a process pays it once per store, at its first write.
    _checked: ClassVar[set[tuple[int, int, int, int]]] = set()

    def _check_before_writing(self) -> None:
        """Refuse to write into a damaged store (``PRAGMA quick_check``), once per file
        and process; writing into damaged pages can spread the damage."""
        try:
            st = os.stat(self.path)
            key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            return
        if key in Store._checked:
            return
        if st.st_size > QUICK_CHECK_MAX_BYTES:
            # O(size): 1.5 s at 100k contacts, for every import of a few events. A large
            # store relies on SQLite's own checks instead: a damaged page it meets fails
            # the statement (mapped to the same "damaged" message), and the transaction
            # rolls back, so nothing is written past it.
            return
        try:
            rows = self.conn.execute("PRAGMA quick_check(3)").fetchall()
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from None
        problems = [str(r[0]) for r in rows if r[0] != "ok"]
        if problems:
            raise damaged(self.path, "; ".join(problems))
        Store._checked.add(key)

    def _begin(self, wait: float | None) -> None:
        """``BEGIN IMMEDIATE``, waiting for another writer instead of failing at once:
        up to :data:`WRITE_WAIT` s, saying so after :data:`NOTICE_AFTER` s (*wait*
        None), or quietly up to *wait* s; then :class:`StoreBusyError`.  The
        connection's busy timeout is :data:`NOTICE_AFTER` s outside this."""
        c = self.conn
        first = NOTICE_AFTER if wait is None else wait
        changed = first != NOTICE_AFTER
        try:
            if changed:
                c.execute(f"PRAGMA busy_timeout = {int(first * 1000)}")
            if self._try_begin():
                return
            if wait is not None:
                raise StoreBusyError(self.path, wait)
            notice = self.on_wait or _wait_notice
            if notice is not None:
                notice(self, True)
            try:
                changed = True
                c.execute(f"PRAGMA busy_timeout = {int((WRITE_WAIT - NOTICE_AFTER) * 1000)}")
                if self._try_begin():
                    return
            finally:
                if notice is not None:
                    notice(self, False)
            raise StoreBusyError(self.path, WRITE_WAIT)
        finally:
            if changed:
                c.execute(f"PRAGMA busy_timeout = {int(NOTICE_AFTER * 1000)}")

    def _try_begin(self) -> bool:
        """``BEGIN IMMEDIATE`` within the connection's busy timeout; False when another
        writer kept the lock all that time."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _code(exc) == _SQLITE_BUSY:
                return False
            raise StoreError(f"{self.path}: cannot write ({exc}); nothing was changed") from None
        return True

    def _rollback(self) -> None:
        """Roll back what is open.  SQLite may have rolled back already (a full disk,
        an I/O error): a second ROLLBACK would then hide the real error."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    # -- small helpers ---------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @property
    def token_key(self) -> bytes:
        if self._token_key is None:
            value = self.meta("token_key")
            if value is None:
                raise StoreError(f"{self.path}: store has no token key")
            self._token_key = bytes.fromhex(value)
        return self._token_key

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _why_readonly(path: Path, folder: Path, exists: bool) -> str | None:
    """Why SQLite could not write *path* (and its -wal/-shm beside it), or None.

    ``os.access`` answers for the process's user and for a read-only mount alike (root
    may write through permission bits, never on a read-only filesystem).
    """
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"the filesystem of {folder} is mounted read-only"
    except OSError:
        pass
    if not os.access(folder, os.W_OK):
        return (f"the folder {folder} is read-only (SQLite needs to create the store's "
                "-wal and -shm files beside it)")
    if exists and not os.access(path, os.W_OK):
        return "the file is read-only"
    return None


_SQLITE_CANTOPEN, _SQLITE_READONLY = 14, 8


def _connect_readonly(path: Path, check_same_thread: bool) -> sqlite3.Connection:
    """A connection that only reads *path*, even where nothing can be created beside it.

    ``mode=ro`` still needs the ``-shm`` file of a store in WAL mode; when it cannot be
    made (a read-only folder or filesystem) the file is opened ``immutable=1``: SQLite
    then reads it without locks or shared memory, which is right for a file nobody
    can write.  A ``-wal`` holding writes not merged yet cannot be read that way: that
    is said rather than showing the store without them.
    """
    resolved = path.resolve()
    conn = sqlite3.connect(f"file:{resolved}?mode=ro", uri=True,
                           check_same_thread=check_same_thread, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if _code(exc) not in (_SQLITE_CANTOPEN, _SQLITE_READONLY):
            raise
    wal = Path(str(path) + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(
            f"{path}: cannot be read here: its {wal.name} holds writes not yet merged into "
            "the store, and SQLite cannot open it in this read-only folder. Copy the store "
            f"and {wal.name} to a folder you can write in."
        )
    return sqlite3.connect(f"file:{resolved}?immutable=1", uri=True,
                           check_same_thread=check_same_thread, isolation_level=None)


def _empty_file(path: Path) -> bool:
    """A 0-byte file with no write-ahead log holding pages: nothing SQLite wrote."""
    try:
        if path.stat().st_size != 0:
            return False
        wal = Path(str(path) + "-wal")
        return not wal.exists() or wal.stat().st_size == 0
    except OSError:
        return False


def _split_sql(script: str) -> list[str]:
    """Split a migration script into whole statements (triggers included)."""
    text = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    out: list[str] = []
    buf = ""
    for part in text.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                out.append(buf.strip())
            buf = ""
    return out
