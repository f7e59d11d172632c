"""Noticing that another connection changed the store (an import in another shell, a
webhook receiver, another session of ``serve-ssh --shared``, a save in this app).

SQLite's ``PRAGMA data_version`` changes on a connection whenever *another* connection
has committed; the watcher keeps one read-only connection of its own and asks it about
once a second (microseconds).  When it moved, it also says how many events arrived
(sends, activities and anonymous opens/clicks, by their row ids).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

_EVENTS_SQL = (
    "SELECT (SELECT coalesce(max(id), 0) FROM sends)"
    " + (SELECT coalesce(max(id), 0) FROM activities)"
    " + (SELECT coalesce(max(id), 0) FROM anonymous_events)"
)


class StoreWatcher:
    """``poll()`` → None when nothing changed, else the number of new events (≥ 0)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None
        self._events = 0

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(f"file:{self.path.resolve()}?mode=ro", uri=True,
                                   check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 200")
            self._conn = conn
            self._version = conn.execute("PRAGMA data_version").fetchone()[0]
            self._events = self._count(conn)
        return self._conn

    def start(self) -> None:
        """Take the baseline now: what another connection commits from here on is
        noticed by the next ``poll()`` (call it before the data on screen is read; a
        watcher started later would take a change made in between as its baseline)."""
        try:
            self._connect()
        except sqlite3.Error:
            pass  # busy or gone for a moment: the first poll connects

    @staticmethod
    def _count(conn: sqlite3.Connection) -> int:
        try:
            return int(conn.execute(_EVENTS_SQL).fetchone()[0])
        except sqlite3.Error:
            return 0

    def poll(self) -> int | None:
        try:
            conn = self._connect()
            version = conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return None  # busy or gone for a moment: ask again next time
        if version == self._version:
            return None
        self._version = version
        events = self._count(conn)
        new, self._events = max(0, events - self._events), events
        return new

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
