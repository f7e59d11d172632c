"""Group commit: requests that arrive while a transaction is being written are recorded
together in the next one, each answered only after that transaction committed."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from journeytui.domain.stats import email_stats
from journeytui.store import Store

from .conftest import Keys, body_of, dump, events, get, post, wait_for


def stats(db: Path) -> dict[str, tuple[int, int, int]]:
    with Store.open(db, readonly=True) as store:
        return {s.name: (s.sent, s.sent - s.bounced_hard - s.bounced_soft, s.opened)
                for s in email_stats(store)}


class Posting:
    """A POST in a thread (the test goes on while it waits for its answer)."""

    def __init__(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        self.answer: tuple[int, dict[str, Any]] | None = None
        self.thread = threading.Thread(target=self._run, args=(url, body, headers))
        self.thread.start()

    def _run(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        self.answer = post(url, body, headers, timeout=120)

    def result(self) -> tuple[int, dict[str, Any]]:
        self.thread.join(timeout=120)
        assert self.answer is not None
        return self.answer


def hold_write_lock(db: Path) -> sqlite3.Connection:
    """Another program in the middle of a write transaction."""
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE meta SET value = value WHERE key = 'app'")
    return other


def health(url: str) -> dict[str, Any]:
    return get(url + "/health")[1]


def test_waiting_requests_commit_together_and_a_bad_one_is_refused_alone(
        db: Path, keys: Keys, start_server) -> None:
    server = start_server(db, keys, lock_wait=60)
    url = server.url + "/sendgrid"
    bodies = {name: body_of(events(name, n=3)) for name in ("A", "B", "D")}
    other = hold_write_lock(db)
    try:
        a = Posting(url, bodies["A"], keys.headers(bodies["A"]))
        # A is the writer's: it waits for the lock, nothing queued behind it yet
        wait_for(lambda: health(server.url).get("in_flight") == 1
                 and health(server.url).get("queued") == 0, "A taken by the writer")
        b = Posting(url, bodies["B"], keys.headers(bodies["B"]))
        bad_body = b'[{"event": "open", "email": "x@example.com"'  # cut short
        bad = Posting(url, bad_body, keys.headers(bad_body))
        d = Posting(url, bodies["D"], keys.headers(bodies["D"]))
        wait_for(lambda: health(server.url).get("queued") == 2, "B and D queued")
        # the malformed body is refused on its own, while the store is still locked
        status, answer = bad.result()
        assert status == 400 and "not valid JSON" in answer["error"], answer
        assert a.answer is None and b.answer is None and d.answer is None
    finally:
        other.execute("ROLLBACK")
        other.close()
    status, answer = a.result()
    assert status == 200 and answer["requests"] == 1 and answer["recorded"] == 7, answer
    # B and D in one transaction: 7 events each (3 processed, 3 delivered, 1 open), 14
    # in the transaction, all new
    for posting in (b, d):
        status, answer = posting.result()
        assert status == 200, answer
        assert (answer["requests"], answer["request_events"]) == (2, 7), answer
        assert (answer["events"], answer["recorded"], answer["duplicate"]) == (14, 14, 0)
    # each campaign: 3 recipients sent and delivered, 1 opened
    assert stats(db) == {"A": (3, 3, 1), "B": (3, 3, 1), "D": (3, 3, 1)}
    assert health(server.url)["transactions"] == 2


def test_a_failing_transaction_fails_every_request_of_its_group(
        db: Path, keys: Keys, start_server) -> None:
    server = start_server(db, keys, lock_wait=0.5)
    url = server.url + "/sendgrid"
    bodies = [body_of(events(name, n=2)) for name in ("A", "B", "C")]
    before = dump(db)
    other = hold_write_lock(db)
    try:
        first = Posting(url, bodies[0], keys.headers(bodies[0]))
        wait_for(lambda: health(server.url).get("in_flight") == 1
                 and health(server.url).get("queued") == 0, "A taken by the writer")
        rest = [Posting(url, b, keys.headers(b)) for b in bodies[1:]]
        # the lock is held until every request has its answer: A's transaction, then
        # B's and C's (one group, or two if A failed before C was queued) wait in vain
        answers = [p.result() for p in [first, *rest]]
    finally:
        other.execute("ROLLBACK")
        other.close()
    for status, answer in answers:
        assert status == 503 and "retry" in answer["error"], answer
        assert answer["recorded"] == 0
    assert dump(db) == before
    status, answer = post(url, bodies[1], keys.headers(bodies[1]))  # the retry
    assert status == 200 and answer["recorded"] == 5, answer


def test_the_log_is_copied_back_into_the_store_file_while_serving(
        db: Path, keys: Keys, start_server, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits leave the copying of the write-ahead log to a checkpointer thread; it
    still happens while the receiver runs (the store file alone holds the events)."""
    import shutil

    from journeytui.webhook import ingest

    # the checkpointer's period, shorter: the test waits for one copy (any period would do)
    monkeypatch.setattr(ingest, "CHECKPOINT_EVERY_S", 0.05)
    server = start_server(db, keys)
    body = body_of(events("Checkpointed", n=3))
    assert post(server.url + "/sendgrid", body, keys.headers(body))[0] == 200

    def main_file_alone() -> dict[str, tuple[int, int, int]]:
        copy = tmp_path / "main-file-only.db"
        shutil.copy(db, copy)  # without the -wal file
        try:
            return stats(copy)
        finally:
            copy.unlink()

    # 3 recipients sent and delivered, 1 opened, read from the main file alone
    wait_for(lambda: main_file_alone().get("Checkpointed") == (3, 3, 1),
             "the events in the store file itself")
