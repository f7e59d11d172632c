"""Store connections for worker threads.

SQLite connections must not be shared by two threads at once, and the event loop
must never wait on a query.  :class:`StorePool` hands each worker thread a
connection of its own for the duration of a ``with pool.store() as store:`` block
and keeps it for reuse (connections are opened with ``check_same_thread=False``
but only ever used by one thread at a time).  Each pooled :class:`Store` keeps its
own caches (e.g. the contact search index), so they survive between queries.

Copy on first write (a private ``serve-ssh`` session): ``StorePool(source,
copy_on_write=dest)`` reads *source* through ``mode=ro`` connections, which cannot
write it, so browsing costs no copy at all.  The first time a pooled store begins a
write (``store.transaction()``), the pool copies *source* to *dest* (consistently: a
file copy under a read transaction, or SQLite's backup API when the write-ahead log
holds frames), switches every connection to the copy, tells ``on_copy`` and lets the
write go on there.  Until then such a store says ``readonly`` (so code that writes
only "when it may", a cache say, leaves the source alone and makes no copy).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from journeytui.store import Store, StoreError
from journeytui.store.db import WaitNotice, explain_failure

#: Set by ``serve-ssh`` for a private session: where the session's own copy of the
#: store goes the first time the visitor saves something (see ``ssh/session.py``).
SESSION_STORE_ENV = "JOURNEYTUI_SESSION_STORE"


def open_source_readonly(path: Path, *, check_same_thread: bool = True) -> Store:
    """*path* opened ``mode=ro``: SQLite itself refuses every write to it."""
    p = Path(path)
    if not p.is_file():
        raise StoreError(f"{p}: no such store")
    uri = f"file:{quote(str(p.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(
            uri, uri=True, check_same_thread=check_same_thread, isolation_level=None
        )
    except sqlite3.Error as exc:
        raise StoreError(f"{p}: cannot open: {exc}") from None
    store = Store(conn, p, readonly=True)
    try:
        store._prepare(new=False)
    except StoreError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{p}: not a journeytui store ({exc}); nothing was changed") from None
    return store


def copy_store_file(source: Store, dest: Path) -> None:
    """Copy the store *source* reads to *dest* (a new file, mode 0600), as of one
    read transaction: a file copy when no WAL frames are pending, else the backup API."""
    conn = source.conn
    tmp = dest.with_name(dest.name + ".part")
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the read lock
        wal = Path(str(source.path) + "-wal")
        if not (wal.exists() and wal.stat().st_size > 0):
            shutil.copyfile(source.path, tmp)
        else:
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.backup(dst)
            finally:
                dst.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        conn.execute("COMMIT")
    os.chmod(tmp, 0o600)
    os.replace(tmp, dest)


class _CopyOnWriteStore(Store):
    """A pooled store on the read-only source that moves to the copy at its first write."""

    pool: StorePool | None = None

    @contextmanager
    def transaction(
        self, *, wait: float | None = None, check: bool = True
    ) -> Iterator[sqlite3.Connection]:
        if self.readonly and self.pool is not None and not self.conn.in_transaction:
            self.pool._move_to_copy(self)
        with super().transaction(wait=wait, check=check) as conn:
            yield conn


class StorePool:
    def __init__(
        self, path: str | Path, *, readonly: bool = False, max_idle: int = 4,
        on_wait: WaitNotice | None = None,
        copy_on_write: Path | None = None,
        on_copy: Callable[[Path], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.source = self.path
        self.on_wait = on_wait  # told when a write waits for another program's
        self.readonly = readonly
        self.copy_on_write = None if readonly else copy_on_write
        self.on_copy = on_copy  # told (from a worker thread) once the copy is made
        self.copied = False
        self._generation = 0  # +1 when the pool moves to the copy
        self._idle: list[tuple[int, Store]] = []
        self._lock = threading.Lock()
        self._copy_lock = threading.Lock()
        self._max_idle = max_idle
        self._closed = False

    def _open(self) -> Store:
        if self.copy_on_write is not None and not self.copied:
            source = open_source_readonly(self.source, check_same_thread=False)
            store: Store = _CopyOnWriteStore(source.conn, source.path, readonly=True)
            store.pool = self  # type: ignore[attr-defined]
        else:
            store = Store.open(self.path, readonly=self.readonly, check_same_thread=False)
        store.on_wait = self.on_wait
        return store

    def _move_to_copy(self, store: Store) -> None:
        """Make the session's copy (once), then point *store* at it, writable."""
        dest = self.copy_on_write
        assert dest is not None
        with self._copy_lock:
            if not self.copied:
                copy_store_file(store, dest)
                with self._lock:
                    self.path = dest
                    self.copied = True
                    self._generation += 1
                    stale, self._idle = self._idle, []
                for _, old in stale:
                    old.close()
                if self.on_copy is not None:
                    self.on_copy(dest)
        fresh = Store.open(dest, check_same_thread=False)
        store.conn.close()
        store.conn, store.path = fresh.conn, fresh.path
        store.readonly, store.readonly_reason = False, None
        store.pool = None  # type: ignore[attr-defined]

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A store connection used by this thread alone until the block ends."""
        with self._lock:
            generation = self._generation
            store = None
            while self._idle and store is None:
                gen, candidate = self._idle.pop()
                if gen == generation:
                    store = candidate
                else:
                    candidate.close()
        if store is None:
            store = self._open()
        try:
            yield store
        except sqlite3.Error as exc:
            # a damaged store, a full disk: the words of the CLI, not SQLite's alone
            known = explain_failure(exc, self.path)
            if known is None:
                raise
            raise known from exc
        finally:
            with self._lock:
                current = self._generation == generation and store.path == self.path
                if self._closed or not current or len(self._idle) >= self._max_idle:
                    store.close()
                else:
                    self._idle.append((generation, store))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for _, store in idle:
            store.close()
