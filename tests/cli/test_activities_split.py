"""A long activity list written by two processes (``activities EMAIL``: text,
--json, --link): the same bytes as one process writes, when the child does its
half, when it dies, and when the store changes between the two processes' reads;
no process and no file left behind.

The lists here are short: the length from which a list is split (and the table's
sample, which the first half must hold) are lowered for each test."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import halves, main, stats_cmd, stream
from journeytui.demo import generate
from tests.cli.split_support import (
    HEAD,
    commit_between_the_reads,
    left_behind,
    not_ours,
    split_on,
)

EMAIL = "Flash sale: 48 hours only"  # the demo's email with the most activities

HOSTILE_NAMES = [
    ("\x1b[31mRed", "\u202egpj.exe"),    # ESC, a bidi override
    ("\tTab", "=cmd|' /C calc'!A0"),     # leading tab, a formula
    ("Zoë", "Ng 😀"),                    # non-ASCII
    ("Del\x7f", 'Quote "q", comma'),     # DEL; JSON quoting
    ("", "Solo\u3000"),                  # no first name; trailing ideographic space
    ("-minus", "@at\u200f"),             # a right-to-left mark
]
#: Clicked URLs: "evil" in both halves, "newer" only in the first (newest) half,
#: "older" only in the second.
URLS = [
    "https://evil.example/newer?q=\x1b[2J",
    "https://evil.example/newer/\u202e\u00e9\t",
    "https://evil.example/x\x07y",
    "https://evil.example/older\"\\",
    "https://evil.example/older/\U0001f600",
]


# every test here: the tables' sample and chunks short (in one process as in two)
pytestmark = pytest.mark.usefixtures("short_tables")


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store whose largest email's activities (the first of them, some in the
    middle, the last) are by contacts with hostile names, and some of its clicks
    (in both halves) on hostile URLs."""
    db = tmp_path_factory.mktemp("split") / "d.db"
    generate(db, contacts=400)
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT a.id, a.contact_id FROM activities a JOIN emails e ON e.id = a.email_id"
        " WHERE e.name = ? ORDER BY a.at DESC, a.id DESC", (EMAIL,)).fetchall()
    assert len(rows) >= 100, len(rows)
    mid = len(rows) // 2
    picked = [rows[0], rows[mid - 1], rows[mid], rows[mid + 1], rows[-2], rows[-1]]
    for (_, cid), (first, last) in zip(picked, HOSTILE_NAMES, strict=True):
        conn.execute("UPDATE contacts SET first_name = ?, last_name = ? WHERE id = ?",
                     (first, last, cid))
    # the clicks: two in the first half, one just before the cut, two in the second
    clicked = [rows[1], rows[mid - 3], rows[mid - 2], rows[mid + 3], rows[-3]]
    for (aid, _), url in zip(clicked, URLS, strict=True):
        conn.execute("UPDATE activities SET kind = 'click', value = ?, list_id = NULL"
                     " WHERE id = ?", (url, aid))
    conn.commit()
    conn.close()
    return db


FORMS: list[tuple[str, ...]] = [
    (),
    ("--json",),
    ("--link", "EVIL"),           # clicks in both halves
    ("--link", "evil", "--json"),
    ("--link", "older"),          # none in the first half: the child writes the headers
    ("--link", "older", "--json"),
    ("--link", "newer"),          # none in the second half
    ("--link", "newer", "--json"),
    ("--link", "nowhere"),        # none at all
    ("--link", "nowhere", "--json"),
]


def _run(db: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...],
         email: str = EMAIL) -> tuple[bytes, str]:
    """The command's standard output (bytes) and standard error."""
    capsys.readouterr()
    assert main(["activities", email, *flags, "--db", str(db)]) == 0
    said = capsys.readouterr()
    return said.out.encode("utf-8"), said.err


@pytest.mark.parametrize("flags", FORMS)
def test_split_writes_the_same_bytes(store_file: Path, tmp_path: Path, temp: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch,
                                     flags: tuple[str, ...]) -> None:
    alone = _run(store_file, capsys, flags)
    forks = split_on(monkeypatch, tmp_path)
    assert _run(store_file, capsys, flags) == alone
    assert len(forks) == 1  # written by two processes
    assert left_behind(temp) == []
    # the lists compared hold what they should: the hostile names made safe (the
    # text shows ESC as a visible escape, JSON escapes it), the links' clicks
    text = alone[0].decode("utf-8")
    assert "\x1b" not in text and "\x07" not in text
    if not flags or flags == ("--json",):
        assert "Zo" in text and "Solo" in text
    shown = {"EVIL": 5, "evil": 5, "older": 2, "newer": 2, "nowhere": 0}
    if "--link" in flags:  # (URLS: five clicks on "evil", two "older", two "newer")
        assert text.count("evil.example") == shown[flags[1]], text


def test_the_first_half_holds_the_sample(store_file: Path, tmp_path: Path, temp: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A table sized by more rows than the first half holds (the sample is only
    ever taken from a list twice as long): one process writes it."""
    monkeypatch.setattr(stream, "SAMPLE", 100)
    alone = _run(store_file, capsys, ())
    forks = split_on(monkeypatch, tmp_path)
    assert _run(store_file, capsys, ()) == alone
    assert forks == []  # 128 activities: fewer than twice the sample


def _child_only(parent: int, name: str, then: Callable[[], None]) -> Callable[..., Any]:
    """stats_cmd's *name* (a reader of the list) that, in the child, gives three
    rows of its list, then calls *then* (which ends the child)."""
    real = getattr(stats_cmd, name)

    def rows(*args: Any, **kwargs: Any) -> Iterator[Any]:
        it = real(*args, **kwargs)
        if os.getpid() == parent:
            return it
        return itertools.chain(itertools.islice(it, 3), iter(then, "never"))

    return rows


@pytest.mark.parametrize("how", ["exit 1", "killed"])
@pytest.mark.parametrize("flags", FORMS[:4])
def test_a_child_that_dies_changes_nothing(store_file: Path, tmp_path: Path, temp: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, how: str,
                                           flags: tuple[str, ...]) -> None:
    alone = _run(store_file, capsys, flags)
    forks = split_on(monkeypatch, tmp_path)

    def end() -> None:
        if how == "exit 1":
            os._exit(1)
        os.kill(os.getpid(), signal.SIGKILL)

    for name in ("iter_email_activity_cells", "iter_email_activity_rows"):
        monkeypatch.setattr(stats_cmd, name, _child_only(os.getpid(), name, end))
    assert _run(store_file, capsys, flags) == alone
    assert len(forks) == 1
    assert left_behind(temp) == []


@pytest.mark.parametrize("flags", FORMS[:4])
def test_a_store_changed_between_the_reads_gives_the_parents_snapshot(
    store_file: Path, tmp_path: Path, temp: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...],
) -> None:
    """Another writer commits after the parent started its read and before the child
    starts its own (a pipe orders the two): the child would read the change (the
    contact of the list's last activity renamed, and a click URL of the second half
    changed); the output is the parent's snapshot, the one a single process would
    have written."""
    db = tmp_path / "changing.db"
    db.write_bytes(store_file.read_bytes())
    alone = _run(db, capsys, flags)
    forks = split_on(monkeypatch, tmp_path)
    with commit_between_the_reads(
        monkeypatch, db,
        ("UPDATE contacts SET first_name = 'Changed' WHERE id = (SELECT a.contact_id"
         " FROM activities a JOIN emails e ON e.id = a.email_id WHERE e.name = ?"
         " ORDER BY a.at, a.id LIMIT 1)", (EMAIL,)),
        ("UPDATE activities SET value = 'https://evil.example/Changed' WHERE value = ?",
         (URLS[-1],)),
    ):
        got = _run(db, capsys, flags)
    assert len(forks) == 1
    assert b"Changed" not in got[0]
    assert got == alone
    assert left_behind(temp) == []
    # (and a list read afresh shows the change: it did reach the store)
    assert b"Changed" in _run(db, capsys, flags)[0]


@pytest.mark.parametrize("flags, forks", [((), 0), (("--json",), 1)])
def test_a_closed_pipe_leaves_nothing_behind(store_file: Path, tmp_path: Path,
                                             flags: tuple[str, ...], forks: int) -> None:
    """``… | head -0``: the reader is gone before the first write; the command ends
    as one process ends (same status, nothing said), the child killed and reaped, no
    file left.  (The text's heading is written before the child would be forked: a
    reader gone already ends the command there, with no child.)"""
    pids = tmp_path / "pids"
    pids.touch()
    env = {**os.environ, "TMPDIR": str(tmp_path), halves.PROCESSES_ENV: "2"}
    ended = []
    for split_from in (10**9, 4):
        proc = subprocess.Popen(
            [sys.executable, "-c", HEAD, str(pids), str(split_from), "activities", EMAIL,
             *flags, "--db", str(store_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        ended.append((proc.wait(timeout=60), err))
    assert ended[1] == ended[0]
    assert ended[0][1] == b""  # nothing said
    forked = [int(p) for p in pids.read_text().split()]
    assert len(forked) == forks  # the second run only
    for pid in forked:
        assert not Path(f"/proc/{pid}").exists() or not_ours(pid, proc.pid)
    assert sorted(os.listdir(tmp_path)) == ["pids"]


@pytest.mark.parametrize("flags", [(), ("--json",)])
def test_a_draft_is_one_process(
    store_file: Path, tmp_path: Path, temp: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...],
) -> None:
    """A draft (no activities: shorter than any split length): one process, the same
    bytes."""
    conn = sqlite3.connect(store_file)
    draft = conn.execute("SELECT name FROM emails WHERE status = 'draft'").fetchone()[0]
    conn.close()
    alone = _run(store_file, capsys, flags, draft)
    forks = split_on(monkeypatch, tmp_path)
    assert _run(store_file, capsys, flags, draft) == alone
    assert forks == []


@pytest.mark.parametrize("reader", ["iter_email_activity_rows", "iter_email_activity_cells"])
def test_a_list_left_half_read_says_nothing(store_file: Path, monkeypatch: pytest.MonkeyPatch,
                                            reader: str) -> None:
    """``activities … | head -3``: the reader goes away mid-list, the command closes
    its store, the rows left unread are dropped when the process ends: nothing is
    said on the terminal (a reader that closed its cursor when dropped, after the
    store, would print "Exception ignored … closed database")."""
    import gc

    from journeytui.domain import activities
    from journeytui.store import Store

    said: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", said.append)
    store = Store.open(store_file, readonly=True)
    eid = store.conn.execute("SELECT id FROM emails WHERE name = ?", (EMAIL,)).fetchone()[0]
    rows = getattr(activities, reader)(store, eid)
    next(rows)
    store.close()
    del rows
    gc.collect()
    assert said == []
