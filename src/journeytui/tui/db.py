"""Store connections for worker threads.

SQLite connections must not be shared by two threads at once, and the event loop
must never wait on a query.  :class:`StorePool` hands each worker thread a
connection of its own for the duration of a ``with pool.store() as store:`` block
and keeps it for reuse (connections are opened with ``check_same_thread=False``
but only ever used by one thread at a time).  Each pooled :class:`Store` keeps its
own caches (e.g. the contact search index), so they survive between queries.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from journeytui.store import Store
from journeytui.store.db import WaitNotice, explain_failure


class StorePool:
    def __init__(
        self, path: str | Path, *, readonly: bool = False, max_idle: int = 4,
        on_wait: WaitNotice | None = None,
    ) -> None:
        self.path = Path(path)
        self.on_wait = on_wait  # told when a write waits for another program's
        self.readonly = readonly
        self._idle: list[Store] = []
        self._lock = threading.Lock()
        self._max_idle = max_idle
        self._closed = False

    def _open(self) -> Store:
        store = Store.open(self.path, readonly=self.readonly, check_same_thread=False)
        store.on_wait = self.on_wait
        return store

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A store connection used by this thread alone until the block ends."""
        with self._lock:
            store = self._idle.pop() if self._idle else None
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
                if self._closed or len(self._idle) >= self._max_idle:
                    store.close()
                else:
                    self._idle.append(store)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for store in idle:
            store.close()
