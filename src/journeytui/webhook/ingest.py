"""One webhook request's events into the store: one transaction, or nothing.

The events go through :func:`journeytui.importers.sendgrid.import_sendgrid`, exactly as
``journeytui import sendgrid FILE`` does: the same checks, the same Recorder (consent
rule, statistics, dedup by event id), and journeys advanced inside the same
transaction.  The importer reads files, so the body is spooled to a private file
first; its path never reaches a message (it is said as "body").

:class:`Writer` owns the one connection that writes: a single thread runs requests
one after the other (SQLite has one writer at a time anyway), and a store held by
another program past :data:`LOCK_WAIT_S` raises :class:`StoreBusy` rather than
making the provider wait.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from journeytui.errors import UserError
from journeytui.importers._report import ImportReport
from journeytui.store import Store
from journeytui.store.db import StoreError, write_failure

#: How long a request waits for another program that holds the store's write lock.
LOCK_WAIT_S = 2.0
#: A request still waiting for its turn after this long is answered 503 unwritten.
QUEUE_WAIT_S = 20.0

T = TypeVar("T")
_SQLITE_BUSY = 5


def _code(exc: sqlite3.Error) -> int:
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


class StoreBusy(Exception):
    """The store could not be written now (locked by another program, or the queue is
    too long); nothing was written, the provider should retry."""


class BadBody(Exception):
    """The body is not a SendGrid Event Webhook payload; nothing was written."""


@dataclass
class Outcome:
    """What one request did (the log line and the response body)."""

    events: int = 0
    recorded: int = 0
    duplicate: int = 0
    skipped: int = 0
    ignored: int = 0
    parked: int = 0
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "recorded": self.recorded,
            "duplicate": self.duplicate,
            "skipped": self.skipped,
            "ignored": self.ignored,
            "parked": self.parked,
            "skipped_reasons": self.reasons,
        }


def check_array(body: bytes) -> None:
    """Raise :class:`BadBody` unless *body* starts like a JSON array (the importer
    checks the rest, element by element, before anything is written)."""
    head = body[:64].lstrip(b" \t\r\n")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip(b" \t\r\n")
    if not head:
        raise BadBody("the body is empty; expected a JSON array of SendGrid events")
    if not head.startswith(b"["):
        shown = head[:1].decode("ascii", "replace") if head[:1].isascii() else "a non-ASCII byte"
        raise BadBody(f"the body starts with '{shown}'; expected a JSON array of SendGrid events")


def outcome_of(report: ImportReport, shown: str) -> Outcome:
    from journeytui.importers.sendgrid import DUPLICATE

    dup = report.skipped.get(DUPLICATE)
    duplicate = dup.count if dup else 0
    ignored = sum(report.ignored.values())
    parked = report.added.get("parked", 0)
    skipped = report.skipped_total - duplicate
    reasons = [
        {
            "reason": reason,
            "count": s.count,
            "where": [loc.replace(shown, "body") for loc in s.locations],
        }
        for reason, s in report.skipped.items()
        if reason != DUPLICATE
    ]
    return Outcome(
        events=report.records,
        recorded=report.records - report.skipped_total - ignored - parked,
        duplicate=duplicate,
        skipped=skipped,
        ignored=ignored,
        parked=parked,
        reasons=reasons,
    )


def ingest_sendgrid(store: Store, body: bytes, spool: Path) -> Outcome:
    """Import one SendGrid Event Webhook body into *store* in one transaction.

    Raises :class:`BadBody` (nothing written) for a body that is not a payload,
    :class:`StoreBusy` when another program holds the store, :class:`StoreError` for a
    store that cannot be written (full disk, damaged, …).
    """
    from journeytui.importers.sendgrid import import_sendgrid

    check_array(body)
    spool.write_bytes(body)
    shown = str(spool)
    try:
        report = import_sendgrid(store, [spool])
    except (StoreBusy, StoreError):
        raise
    except UserError as exc:
        raise BadBody(str(exc).replace(shown, "body")) from None
    finally:
        spool.unlink(missing_ok=True)
    return outcome_of(report, shown)


class Writer:
    """The one thread (and connection) that writes requests into the store."""

    def __init__(self, path: Path, *, lock_wait: float = LOCK_WAIT_S,
                 queue_wait: float = QUEUE_WAIT_S) -> None:
        self.path = path
        self.created = False
        self.queue_wait = queue_wait
        self._lock_wait = lock_wait
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="journeytui-webhook-writer")
        self._spool_dir = Path(tempfile.mkdtemp(prefix="journeytui-webhook-"))
        self._count = 0
        self._store: Store | None = None
        try:
            self._pool.submit(self._open).result()
        except BaseException:
            self._pool.shutdown(wait=True)
            os.rmdir(self._spool_dir)
            raise

    def _open(self) -> None:
        if not self.path.exists():
            self._store = Store.create(self.path)
            self.created = True
        else:
            self._store = Store.open(self.path)
        if self._store.readonly:
            reason = self._store.readonly_reason or "it is read-only"
            self._store.close()
            raise StoreError(f"{self.path}: cannot write, {reason}; the receiver needs to write")
        # The store's first transaction in this process checks the file (quick_check);
        # pay for it now rather than in the first request.
        with self._store.transaction():
            pass
        self._store.conn.execute(f"PRAGMA busy_timeout = {int(self._lock_wait * 1000)}")

    def _write(self, body: bytes, spool: Path) -> Outcome:
        """One request in one transaction.  The transaction is begun here (waiting at
        most the lock wait for another program), and the importer's own
        ``store.transaction()`` joins it; the commit happens before anything is
        acknowledged.  Begun here rather than by the importer for two reasons: a store
        held by another program must give 503 after a short wait, not the CLI's long
        one; and the damage check (``quick_check``, seconds on a large store) that
        ``Store.transaction`` runs whenever the main file changed — after every
        checkpoint — belongs to the start of a long-lived writer, not to every request.
        """
        assert self._store is not None
        store = self._store
        conn = store.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _code(exc) == _SQLITE_BUSY:
                raise StoreBusy(
                    f"another program has held the store's write lock for more than "
                    f"{self._lock_wait:g} s"
                ) from None
            raise StoreError(f"{self.path}: cannot write ({exc}); nothing was changed") from None
        try:
            outcome = ingest_sendgrid(store, body, spool)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            failure = write_failure(self.path, exc)
            if failure is not None:
                raise failure from None
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"{self.path}: cannot write ({exc}); nothing was changed"
                ) from None
            raise
        return outcome

    def _ingest(self, body: bytes, queued: float) -> Outcome:
        if time.monotonic() - queued > self.queue_wait:
            raise StoreBusy(f"waited more than {self.queue_wait:g} s for its turn")
        assert self._store is not None
        self._count += 1
        spool = self._spool_dir / f"request-{self._count}.json"
        return self._write(body, spool)

    def submit(self, body: bytes) -> Future[Outcome]:
        return self._pool.submit(self._ingest, body, time.monotonic())

    def call(self, fn: Callable[[Store], T]) -> Future[T]:
        """Run *fn(store)* in the writer thread (after the requests queued before it)."""
        assert self._store is not None
        store = self._store
        return self._pool.submit(fn, store)

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def close(self) -> None:
        """Finish what is queued, then close the store (in its own thread)."""
        self._pool.submit(self._close_store).result()
        self._pool.shutdown(wait=True)
        for f in self._spool_dir.iterdir():
            f.unlink(missing_ok=True)
        os.rmdir(self._spool_dir)
