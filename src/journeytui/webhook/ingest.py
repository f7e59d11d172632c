"""Webhook requests' events into the store: group commit, and never a 2xx before COMMIT.

A request is first *prepared* (:func:`prepare`, off the writer thread): a SendGrid body
is checked to start like a JSON array and counted; another provider's body is mapped
onto SendGrid's event vocabulary (:mod:`journeytui.importers.providers`).  Then the
events go through :func:`journeytui.importers.sendgrid.import_sendgrid`, exactly as
``journeytui import`` does: the same checks, the same Recorder (consent rule,
statistics, dedup by event id), and journeys advanced inside the same transaction.  The
importer reads files, so each request's events are spooled to a private file first;
its path never reaches a message (it is said as "body", or "request N" in a group).

**Group commit.**  :class:`Writer` owns the one connection that writes; its thread
takes every request waiting when it becomes free (up to :data:`MAX_GROUP_REQUESTS`
requests and :data:`MAX_GROUP_BYTES` bytes) and records them in one import, in one
transaction.  A request's answer is released only after the COMMIT of the transaction
that holds its events returned, so:

* every acknowledged event is committed;
* a transaction that fails (the store held by another program past
  :data:`LOCK_WAIT_S`, a full disk, a damaged store, an unexpected error) rolls back
  and fails every request of its group (503/500): none of their events is recorded,
  and the provider retries each (re-posting records nothing twice: event ids);
* a malformed body is refused alone: the importer checks every file before it writes
  anything and names the file it refuses, so that request is answered 400 and the rest
  of the group is recorded without it (a body the preparation already finds doubtful
  is recorded in a transaction of its own).

Why: the fixed costs of an import (its batch row, reading the store's state once per
import, journey advancement, the commit) are paid once per group instead of once per
request, which is what lets the receiver keep up when several senders post at once.
A lone request is a group of one: the answer then gives exactly its own figures.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from journeytui.errors import UserError
from journeytui.importers._report import ImportReport
from journeytui.importers.sendgrid import Location
from journeytui.store import Store
from journeytui.store.db import StoreBusyError, StoreError

#: How long a transaction waits for another program that holds the store's write lock.
LOCK_WAIT_S = 2.0
#: A request still waiting for its turn after this long is answered 503 unwritten.
QUEUE_WAIT_S = 20.0
#: The most requests, and body bytes, recorded in one transaction.
MAX_GROUP_REQUESTS = 32
MAX_GROUP_BYTES = 16 * 1024 * 1024

#: How often the write-ahead log is copied back into the store file, off the
#: requests' path (the writer's own connection never does it in a COMMIT).
CHECKPOINT_EVERY_S = 1.0

class StoreBusy(Exception):
    """The store could not be written now (locked by another program, or the queue is
    too long); nothing was written, the provider should retry."""


class BadBody(Exception):
    """The body is not a webhook payload of its provider; nothing was written."""


@dataclass
class Outcome:
    """What the transaction holding one request did (the log line and the answer).

    With several requests in one transaction (group commit), the figures are the
    transaction's; ``requests`` says how many it held and ``request_events`` how many
    events were this request's."""

    events: int = 0
    recorded: int = 0
    duplicate: int = 0
    skipped: int = 0
    ignored: int = 0
    parked: int = 0
    reasons: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 1
    request_events: int = 0
    number: int = 0
    #: where the request's time went, milliseconds: waiting for the writer ("queue"),
    #: for another program's write lock ("lock"), reading, recording and advancing the
    #: journeys ("import"), "commit"
    timing: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.number,
            "request_events": self.request_events,
            "requests": self.requests,
            "events": self.events,
            "recorded": self.recorded,
            "duplicate": self.duplicate,
            "skipped": self.skipped,
            "ignored": self.ignored,
            "parked": self.parked,
            "skipped_reasons": self.reasons,
        }


@dataclass
class Prepared:
    """A request's events, read and checked, ready for the writer: each event with its
    location (``POST /PROVIDER request N``, line, index), and what reading left out."""

    provider: str
    label: str
    pairs: list[tuple[dict[str, Any], Location]]
    size: int  # the body's bytes (a group's size is capped)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (reason, where)
    ignored: dict[str, int] = field(default_factory=dict)
    lists: dict[int, str] = field(default_factory=dict)  # a provider's own lists

    @property
    def events(self) -> int:
        return len(self.pairs) + len(self.skipped) + sum(self.ignored.values())


def check_array(body: bytes, what: str = "SendGrid events") -> None:
    """Raise :class:`BadBody` unless *body* starts like a JSON array (the importer's
    reader checks the rest, element by element)."""
    head = body[:64].lstrip(b" \t\r\n")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip(b" \t\r\n")
    if not head:
        raise BadBody(f"the body is empty; expected a JSON array of {what}")
    if not head.startswith(b"["):
        shown = head[:1].decode("ascii", "replace") if head[:1].isascii() else "a non-ASCII byte"
        raise BadBody(f"the body starts with '{shown}'; expected a JSON array of {what}")


def _spooled(body: bytes, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="journeytui-webhook-", suffix=suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    return Path(name)


def prepare_sendgrid(body: bytes, label: str) -> Prepared:
    """A SendGrid Event Webhook body read by the importer's own reader (the same
    structural checks as a file: :class:`BadBody` naming the line and index)."""
    from journeytui.importers.sendgrid import read_events

    check_array(body)
    spool = _spooled(body, ".json")
    try:
        pairs: list[tuple[dict[str, Any], Location]] = [
            (ev, (label, line, index)) for ev, (_, line, index) in read_events(spool)]
    except UserError as exc:
        raise BadBody(str(exc).replace(str(spool), "body")) from None
    finally:
        spool.unlink(missing_ok=True)
    return Prepared("sendgrid", label, pairs, len(body))


def parse_object(body: bytes, provider: str) -> dict[str, Any]:
    """The JSON object of a one-body-per-request provider, or :class:`BadBody`."""
    from journeytui.importers.providers import NAMES

    name = NAMES[provider]
    text = body.lstrip(b" \t\r\n")
    if text.startswith(b"\xef\xbb\xbf"):
        text = text[3:]
    if not text.strip():
        raise BadBody(f"the body is empty; expected a {name} body (a JSON object)")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        why = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise BadBody(f"the body is not valid JSON ({why[:120]}); expected a {name} "
                      "body") from None
    if not isinstance(value, dict):
        raise BadBody(f"the body is not a JSON object; expected a {name} body")
    return value


def prepare_mapped(provider: str, value: dict[str, Any], label: str, size: int) -> Prepared:
    """One webhook body of *provider* (Mailgun, Postmark, SES: one JSON object per
    request) mapped onto SendGrid's event vocabulary by the providers' importer."""
    from journeytui.importers.providers import NAMES, read_files, sniff_body

    looks = sniff_body(value)
    if looks != provider:
        seen = f"it looks like {NAMES[looks]}" if looks else "its fields are not"
        raise BadBody(f"not a {NAMES[provider]} body ({seen})")
    spool = _spooled(json.dumps(value, ensure_ascii=False).encode("utf-8"), ".json")
    try:
        got = read_files([spool], provider)
    except UserError as exc:
        raise BadBody(str(exc).replace(str(spool), "body")) from None
    finally:
        spool.unlink(missing_ok=True)
    name = str(spool)
    pairs: list[tuple[dict[str, Any], Location]] = [
        (ev, (label, line, index)) for ev, (_, line, index) in got.pairs]
    return Prepared(
        provider,
        label,
        pairs,
        size,
        skipped=[(reason, where.replace(name, label)) for reason, where in got.skipped],
        ignored=dict(got.ignored),
        lists=dict(got.lists),
    )


def outcome_of(report: ImportReport) -> Outcome:
    """The import's figures (duplicates apart from the other skips)."""
    from journeytui.importers.sendgrid import DUPLICATE

    dup = report.skipped.get(DUPLICATE)
    duplicate = dup.count if dup else 0
    ignored = sum(report.ignored.values())
    parked = report.added.get("parked", 0)
    reasons = [
        {"reason": reason, "count": s.count, "where": list(s.locations)}
        for reason, s in report.skipped.items()
        if reason != DUPLICATE
    ]
    return Outcome(
        events=report.records,
        recorded=report.records - report.skipped_total - ignored - parked,
        duplicate=duplicate,
        skipped=report.skipped_total - duplicate,
        ignored=ignored,
        parked=parked,
        reasons=reasons,
    )


def nothing_to_write(prepared: Prepared) -> Outcome:
    """The outcome of a request whose every event was left out while reading it."""
    report = ImportReport(source="webhook")
    _left_out(report, prepared)
    return replace(outcome_of(report), request_events=prepared.events)


def _left_out(report: ImportReport, prepared: Prepared) -> None:
    for reason, where in prepared.skipped:
        report.skip(reason, where)
        report.records += 1
    for reason, n in prepared.ignored.items():
        report.ignored[reason] = report.ignored.get(reason, 0) + n
        report.records += n


class _Checkpointer:
    """Copies the write-ahead log back into the store file about once a second, in a
    thread and connection of its own (a PASSIVE checkpoint: it waits for nobody and
    nobody waits for it).  SQLite would otherwise do it inside whichever COMMIT
    finds the log over 1,000 pages, and that request would wait for the copy and its
    fsync (up to a few hundred ms on the 100k store)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dirty = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="journeytui-webhook-checkpoint")
        self._thread.start()

    def _run(self) -> None:
        try:
            # mode=rw: never create a file (the store may have been moved away by the
            # time this thread starts; a plain connect would leave an empty file there)
            conn = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=rw", uri=True,
                                   isolation_level=None)
        except sqlite3.Error:
            return  # SQLite's own checkpoint at the last close still happens
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            while not self._stop.wait(CHECKPOINT_EVERY_S):
                if not self.dirty.is_set():
                    continue
                self.dirty.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    self.dirty.set()  # busy for a moment: next time
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class _Job:
    prepared: Prepared
    number: int
    queued: float
    future: Future[Outcome] = field(default_factory=Future)


_STOP = object()


class Writer:
    """The one thread (and connection) that writes requests into the store."""

    def __init__(self, path: Path, *, lock_wait: float = LOCK_WAIT_S,
                 queue_wait: float = QUEUE_WAIT_S) -> None:
        self.path = path
        self.created = False
        self.queue_wait = queue_wait
        self._lock_wait = lock_wait
        self._count = 0
        self._timing: dict[str, float] = {}
        self._checkpointer: _Checkpointer | None = None
        self._store: Store | None = None
        self._queue: deque[Any] = deque()
        self._cond = threading.Condition()
        #: transactions committed (each held one or more requests)
        self.transactions = 0
        opened: Future[None] = Future()
        self._thread = threading.Thread(target=self._loop, args=(opened,), daemon=True,
                                        name="journeytui-webhook-writer")
        self._thread.start()
        try:
            opened.result()
        except BaseException:
            self._thread.join()
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
        conn = self._store.conn
        if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's job
            self._checkpointer = _Checkpointer(self.path)

    # -- the queue ------------------------------------------------------------------
    @property
    def waiting(self) -> int:
        """Requests queued for the next transaction (not the one being written)."""
        with self._cond:
            return sum(1 for job in self._queue if job is not _STOP)

    def submit(self, prepared: Prepared, number: int = 0) -> Future[Outcome]:
        """Queue *prepared* (request *number*); its future is resolved once the
        transaction holding it committed (or failed)."""
        with self._cond:
            self._count += 1
            job = _Job(prepared, number or self._count, time.monotonic())
            self._queue.append(job)
            self._cond.notify()
        return job.future

    def _take(self) -> list[_Job] | None:
        """The next group: the requests waiting, up to the caps (None: stop)."""
        with self._cond:
            while not self._queue:
                self._cond.wait()
            first = self._queue.popleft()
            if first is _STOP:
                return None
            group = [first]
            size = first.prepared.size
            while self._queue and len(group) < MAX_GROUP_REQUESTS:
                nxt = self._queue[0]
                if nxt is _STOP or size + nxt.prepared.size > MAX_GROUP_BYTES:
                    break
                size += nxt.prepared.size
                group.append(self._queue.popleft())
            return group

    def _loop(self, opened: Future[None]) -> None:
        """The writer thread: open the store (its connection lives in this thread),
        then record group after group until told to stop."""
        try:
            self._open()
        except BaseException as exc:
            opened.set_exception(exc)
            return
        opened.set_result(None)
        while True:
            group = self._take()
            if group is None:
                break
            try:
                self._run(group)
            except BaseException as exc:  # never leave a request without an answer
                for job in group:
                    if not job.future.done():
                        job.future.set_exception(exc)
        self._close_store()

    # -- one group -------------------------------------------------------------------
    def _run(self, group: list[_Job]) -> None:
        now = time.monotonic()
        self._timing = {}
        live = []
        for job in group:
            if now - job.queued > self.queue_wait:
                job.future.set_exception(
                    StoreBusy(f"waited more than {self.queue_wait:g} s for its turn"))
            else:
                live.append(job)
        if not live:
            return
        try:
            report = self._write(live)
        except UserError as exc:
            if len(live) > 1 and not isinstance(exc, StoreError):
                # Cannot happen with what preparing checked; if it does, the one
                # request it is about must not take the others down: each alone.
                for job in live:
                    self._run([job])
                return
            for job in live:
                job.future.set_exception(exc)
            return
        except Exception as exc:
            for job in live:
                job.future.set_exception(exc)
            return
        outcome = outcome_of(report)
        for job in live:
            timing = {"queue": (now - job.queued) * 1000, **self._timing}
            job.future.set_result(replace(outcome, reasons=list(outcome.reasons),
                                          requests=len(live), number=job.number,
                                          request_events=job.prepared.events,
                                          timing=timing))

    def _write(self, live: list[_Job]) -> ImportReport:
        """The group in one transaction, committed before anything is acknowledged;
        the importer's own ``store.transaction()`` joins it.  It waits at most the lock
        wait for another program (a busy store gives 503 after a short wait, not the
        CLI's long one), and skips the damage check (``quick_check``, seconds on a large
        store) that would otherwise run whenever the main file changed — after every
        checkpoint: it belongs to the start of a long-lived writer (:meth:`_open`), not
        to every request.
        """
        from journeytui.importers.sendgrid import import_parsed_events
        from journeytui.store import Recorder

        assert self._store is not None
        store = self._store
        clock = time.perf_counter
        labels = [j.prepared.label for j in live]
        label = ", ".join(labels)
        if len(label) > 200:
            label = f"{labels[0]} … {labels[-1]} ({len(labels)} requests)"
        started = clock()
        try:
            with store.transaction(wait=self._lock_wait, check=False):
                begun = clock()
                lists = {g: n for j in live for g, n in j.prepared.lists.items()}
                if lists:  # a provider's own lists, before the importer looks them up
                    rec = Recorder(store)
                    for group, name in sorted(lists.items(), key=lambda item: item[1]):
                        rec.ensure_list(name, group)
                report = import_parsed_events(
                    store, (pair for j in live for pair in j.prepared.pairs),
                    files=labels, source=("webhook", label))
                for job in live:
                    _left_out(report, job.prepared)
                imported = clock()
        except StoreBusyError:
            raise StoreBusy(
                f"another program has held the store's write lock for more than "
                f"{self._lock_wait:g} s"
            ) from None
        except sqlite3.Error as exc:  # (a write failure the store could name, it did)
            raise StoreError(f"{self.path}: cannot write ({exc}); nothing was changed") from None
        self.transactions += 1
        if self._checkpointer is not None:
            self._checkpointer.dirty.set()
        self._timing = {"lock": (begun - started) * 1000, "import": (imported - begun) * 1000,
                        "commit": (clock() - imported) * 1000}
        return report

    # -- closing ---------------------------------------------------------------------
    def _close_store(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def close(self) -> None:
        """Finish what is queued, then close the store (in the writer's thread)."""
        with self._cond:
            self._queue.append(_STOP)
            self._cond.notify()
        self._thread.join()
