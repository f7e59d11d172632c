"""Following a pipe: one transaction per batch of lines (the engine of `import sendgrid -`)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from journeytui.domain.stats import email_stats
from journeytui.store import Store
from journeytui.webhook.follow import Batch, follow

from .conftest import events, wait_for


def sent(db: Path) -> dict[str, int]:
    with Store.open(db, readonly=True) as store:
        return {s.name: s.sent for s in email_stats(store)}


def ndjson(evs: list[dict]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in evs)


def test_each_batch_is_committed_as_it_arrives(db: Path) -> None:
    read_fd, write_fd = os.pipe()
    batches: list[Batch] = []
    result: list[int] = []

    def consume() -> None:
        with Store.open(db) as store:
            result.append(follow(store, read_fd, batches.append))

    thread = threading.Thread(target=consume)
    thread.start()
    try:
        os.write(write_fd, ndjson(events("First", n=2)))
        # committed while the pipe is still open (as with tail -f)
        wait_for(lambda: sent(db).get("First") == 2, "the first batch")
        body = json.dumps(events("Second", n=3, start=10)).encode()
        os.write(write_fd, body[:40])  # half a line: nothing yet
        os.write(write_fd, body[40:] + b"\n")
        wait_for(lambda: sent(db).get("Second") == 3, "the second batch")
        os.write(write_fd, b'{"event": "open", oops}\n')
        wait_for(lambda: len(batches) == 3, "the refused batch")
    finally:
        os.close(write_fd)
        thread.join(timeout=60)
        os.close(read_fd)
    assert result == [1]
    assert [b.error is None for b in batches] == [True, True, False]
    assert "line 7" in str(batches[2].error) and "<stdin>" in str(batches[2].error)
    assert sent(db) == {"First": 2, "Second": 3}


def test_a_last_line_without_newline_is_imported_at_the_end(db: Path) -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, ndjson(events("Tail", n=1)).rstrip(b"\n"))
    os.close(write_fd)
    with Store.open(db) as store:
        assert follow(store, read_fd, lambda b: None) == 0
    os.close(read_fd)
    assert sent(db) == {"Tail": 1}
