"""`tail -f events.ndjson | journeytui import sendgrid -`: each batch of lines that arrives
is committed on its own, while the stream is still open."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

T0 = 1_790_000_000


def event(n: int, kind: str = "processed") -> bytes:
    return json.dumps({
        "email": f"reader{n}@example.com", "timestamp": T0 + n, "event": kind,
        "sg_event_id": f"ev-{n}-{kind}", "sg_message_id": f"msg{n}.filter",
        "singlesend_name": "Live letter",
    }).encode() + b"\n"


def sent(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT s.sent FROM email_stats s JOIN emails e ON e.id = s.email_id"
            " WHERE e.name = 'Live letter'").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def test_each_batch_is_committed_while_the_stream_stays_open(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "journeytui", "import", "sendgrid", "-", "--db", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    said: list[str] = []

    def next_batch() -> str:
        """The next batch's first line of output (its lines, committed or refused)."""
        while True:
            line = proc.stdout.readline().decode()  # type: ignore[union-attr]
            assert line, "the import ended early: " + "".join(said)
            said.append(line)
            if line.startswith("lines "):
                return line

    try:
        proc.stdin.write(event(1) + event(2))
        proc.stdin.flush()
        assert "committed" in next_batch()
        assert sent(db) == 2  # committed while the stream is still open
        proc.stdin.write(event(3) + b"{not json\n")  # a batch with a broken line
        proc.stdin.flush()
        refused = next_batch()
        assert "refused, nothing recorded" in refused and "line 4" in refused
        assert sent(db) == 2  # nothing of that batch
        proc.stdin.write(event(4))
        proc.stdin.flush()
        assert "committed" in next_batch()
        assert sent(db) == 3
    finally:
        proc.stdin.close()
    proc.stdout.read()
    assert proc.wait(timeout=60) == 2  # one batch was refused
