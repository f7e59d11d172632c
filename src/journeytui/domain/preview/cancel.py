"""A preview's cancel flag: a newer edit stops the replay of an older one."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any


class PreviewCancelled(Exception):
    """A newer edit asked for another preview: this one stopped between contacts."""


class Cancel(threading.Event):
    """The cancel flag of a preview.  Setting it also interrupts the SQL statement a
    replay is waiting on (the ordered read of every event sorts them all before the
    first contact comes), on the connection the replay registered while it runs."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []

    def set(self) -> None:
        with self._lock:
            super().set()
            for conn in self._conns:
                conn.interrupt()

    def watching(self, conn: sqlite3.Connection) -> _Watch:
        return _Watch(self, conn)


class _Watch:
    """``with cancel.watching(conn):`` — *conn* is interrupted if the flag is set
    meanwhile (and never after: the pool may lend it to someone else)."""

    def __init__(self, cancel: Cancel, conn: sqlite3.Connection) -> None:
        self.cancel, self.conn = cancel, conn

    def __enter__(self) -> None:
        with self.cancel._lock:
            self.cancel._conns.append(self.conn)
            if self.cancel.is_set():
                raise PreviewCancelled

    def __exit__(self, kind: Any, error: BaseException | None, tb: Any) -> None:
        with self.cancel._lock:
            self.cancel._conns.remove(self.conn)
        if isinstance(error, sqlite3.OperationalError) and self.cancel.is_set():
            raise PreviewCancelled from None  # the statement was interrupted

Progress = Callable[[float], None]
