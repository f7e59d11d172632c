"""A long stage list written by two processes (``funnel --stage S --contacts``: text,
--json, --csv; ``segment export``): the same bytes as one process writes, when the
child does its half, when it dies, and when the store changes between the two
processes' reads; no process and no file left behind.

The lists here are short: the length from which a list is split (and the table's
sample, which the first half must hold) are lowered for each test."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import halves, main
from journeytui.demo import generate
from journeytui.domain import in_stage
from tests.cli.split_support import (
    HEAD,
    commit_between_the_reads,
    left_behind,
    not_ours,
    split_on,
)

LEAD = "Lead nurturing"
BIG = "Dormant"     # the demo journey's largest stage
STALLS = "Browsing"  # a main-line stage before the goal: its contacts can be stalled

HOSTILE = [
    ("\x1b[31mRed", "\u202egpj.exe"),    # ESC, a bidi override
    ("\tTab", "=cmd|' /C calc'!A0"),     # leading tab, a formula
    ("Zoë", "Ng 😀"),                    # non-ASCII
    ("Del\x7f", 'Quote "q", comma'),     # DEL; CSV quoting
    ("", "Solo\u3000"),                  # no first name; trailing ideographic space
    ("-minus", "@at\u200f"),             # formula signs, a right-to-left mark
    ("+plus", "=SUM(A1)"),
]


# every test here: the tables' sample and chunks short (in one process as in two)
pytestmark = pytest.mark.usefixtures("short_tables")


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store whose two stages' contacts (the first of them, some in the
    middle, the last) have hostile names — in both halves of each list."""
    db = tmp_path_factory.mktemp("split") / "d.db"
    generate(db, contacts=400)
    conn = sqlite3.connect(db)
    for stage in (BIG, STALLS):
        ids = [r[0] for r in conn.execute(
            "SELECT p.contact_id FROM journey_positions p JOIN journeys j"
            " ON j.id = p.journey_id WHERE j.name = ? AND p.stage = ?"
            " ORDER BY p.since, p.contact_id", (LEAD, stage))]
        assert len(ids) >= 9, (stage, len(ids))
        picked = [ids[0], ids[len(ids) // 2 - 1], ids[len(ids) // 2], ids[len(ids) // 2 + 1],
                  ids[-3], ids[-2], ids[-1]]
        for cid, (first, last) in zip(picked, HOSTILE, strict=True):
            conn.execute("UPDATE contacts SET first_name = ?, last_name = ? WHERE id = ?",
                         (first, last, cid))
    # the same journey with a segment of its largest stage (segments are read from
    # the stored definition)
    definition = json.loads(conn.execute("SELECT definition FROM journeys WHERE name = ?",
                                         (LEAD,)).fetchone()[0])
    definition["segments"] = [{"name": "Whole stage", "stage": BIG}]
    conn.execute("UPDATE journeys SET definition = ? WHERE name = ?",
                 (json.dumps(definition, ensure_ascii=False), LEAD))
    conn.commit()
    conn.close()
    return db


FORMS: list[tuple[str, ...]] = [
    ("--contacts",),
    ("--contacts", "--json"),
    ("--csv", "FILE"),
    ("--contacts", "--stalled"),
    ("--contacts", "--stalled", "--json"),
    ("--csv", "FILE", "--stalled"),
]


def _run(db: Path, tmp: Path, capsys: pytest.CaptureFixture[str], stage: str,
         flags: tuple[str, ...]) -> tuple[bytes, str]:
    """The command's output (the CSV file, then standard output) and standard error."""
    out = tmp / "out.csv"
    argv = ["funnel", LEAD, "--stage", stage,
            *[str(out) if f == "FILE" else f for f in flags], "--db", str(db)]
    capsys.readouterr()
    assert main(argv) == 0
    said = capsys.readouterr()
    body = out.read_bytes() if "FILE" in flags else b""
    return body + said.out.encode("utf-8"), said.err


def _segment(db: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> tuple[bytes, str]:
    out = tmp / "seg.csv"
    capsys.readouterr()
    assert main(["segment", "export", "Whole stage", str(out), "--format", "sendgrid",
                 "--db", str(db)]) == 0
    said = capsys.readouterr()
    return out.read_bytes() + said.out.encode("utf-8"), said.err


CASES = [(BIG, f) for f in FORMS[:3]] + [(STALLS, f) for f in FORMS]


@pytest.mark.parametrize("stage, flags", CASES)
def test_split_writes_the_same_bytes(store_file: Path, tmp_path: Path, temp: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch,
                                     stage: str, flags: tuple[str, ...]) -> None:
    alone = _run(store_file, tmp_path, capsys, stage, flags)
    forks = split_on(monkeypatch, tmp_path)
    assert _run(store_file, tmp_path, capsys, stage, flags) == alone
    assert len(forks) == 1  # written by two processes
    assert left_behind(temp) == []
    # the hostile names are in the list, made safe (a check that the lists compared
    # hold them: the text shows ESC as a visible escape, JSON escapes non-ASCII)
    text = alone[0].decode("utf-8")
    if "--stalled" not in flags:
        assert "\x1b" not in text and "Zo" in text


def _child_only(parent: int, then: Callable[[], None]) -> Callable[..., Any]:
    """in_stage.stage_cells (the rows the command reads) that, in the child, gives
    three rows of its list, then calls *then* (which ends the child)."""
    real = in_stage.stage_cells

    def rows(*args: Any, **kwargs: Any) -> Iterator[Any]:
        it = real(*args, **kwargs)
        if os.getpid() == parent:
            return it

        def dying() -> Iterator[Any]:
            for k, row in enumerate(it):
                if k == 3:
                    then()
                yield row

        return dying()

    return rows


@pytest.mark.parametrize("how", ["exit 1", "killed"])
@pytest.mark.parametrize("stage, flags", [(BIG, f) for f in FORMS[:3]])
def test_a_child_that_dies_changes_nothing(store_file: Path, tmp_path: Path, temp: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, how: str,
                                           stage: str, flags: tuple[str, ...]) -> None:
    alone = _run(store_file, tmp_path, capsys, stage, flags)
    forks = split_on(monkeypatch, tmp_path)

    def end() -> None:
        if how == "exit 1":
            os._exit(1)
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(in_stage, "stage_cells", _child_only(os.getpid(), end))
    assert _run(store_file, tmp_path, capsys, stage, flags) == alone
    assert len(forks) == 1
    assert left_behind(temp) == []


@pytest.mark.parametrize("stage, flags", [(BIG, f) for f in FORMS[:3]])
def test_a_store_changed_between_the_reads_gives_the_parents_snapshot(
    store_file: Path, tmp_path: Path, temp: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, stage: str, flags: tuple[str, ...],
) -> None:
    """Another writer commits after the parent started its read and before the child
    starts its own (a pipe orders the two): the child would read the change (a
    contact of the second half renamed); the output is the parent's snapshot, the
    one a single process would have written."""
    db = tmp_path / "changing.db"
    db.write_bytes(store_file.read_bytes())
    alone = _run(db, tmp_path, capsys, stage, flags)
    conn = sqlite3.connect(db)
    last = conn.execute(
        "SELECT p.contact_id FROM journey_positions p JOIN journeys j ON j.id = p.journey_id"
        " WHERE j.name = ? AND p.stage = ? ORDER BY p.since DESC, p.contact_id DESC LIMIT 1",
        (LEAD, stage)).fetchone()[0]
    conn.close()
    forks = split_on(monkeypatch, tmp_path)
    with commit_between_the_reads(
        monkeypatch, db, ("UPDATE contacts SET first_name = 'Changed' WHERE id = ?", (last,)),
    ):
        got = _run(db, tmp_path, capsys, stage, flags)
    assert len(forks) == 1
    assert b"Changed" not in got[0]
    assert got == alone
    assert left_behind(temp) == []
    # (and a list read afresh shows the change: the rename did reach the store)
    assert b"Changed" in _run(db, tmp_path, capsys, stage, flags)[0]


def test_segment_export_split_writes_the_same_bytes(
    store_file: Path, tmp_path: Path, temp: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone = _segment(store_file, tmp_path, capsys)
    forks = split_on(monkeypatch, tmp_path)
    assert _segment(store_file, tmp_path, capsys) == alone
    assert len(forks) == 1
    assert left_behind(temp) == []


@pytest.mark.parametrize("flags", [("--contacts",), ("--contacts", "--json")])
def test_a_closed_pipe_leaves_nothing_behind(store_file: Path, tmp_path: Path,
                                             flags: tuple[str, ...]) -> None:
    """``… | head -0``: the reader is gone before the first write; the command ends
    as one process ends (same status, same words), the child killed and reaped, no
    file left."""
    pids = tmp_path / "pids"
    env = {**os.environ, "TMPDIR": str(tmp_path), halves.PROCESSES_ENV: "2"}
    ended = []
    for split_from in (10**9, 4):
        proc = subprocess.Popen(
            [sys.executable, "-c", HEAD, str(pids), str(split_from), "funnel", LEAD,
             "--stage", BIG, *flags, "--db", str(store_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        ended.append((proc.wait(timeout=60), err))
    assert ended[1] == ended[0]
    forked = [int(p) for p in pids.read_text().split()]
    assert len(forked) == 1  # the second run only
    assert not Path(f"/proc/{forked[0]}").exists() or not_ours(forked[0], proc.pid)
    assert sorted(os.listdir(tmp_path)) == ["pids"]


@pytest.mark.parametrize("processes, forked", [("1", 0), ("2", 1)])
def test_the_environment_says_how_many_processes(
    store_file: Path, tmp_path: Path, temp: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, processes: str, forked: int,
) -> None:
    """JOURNEYTUI_LIST_PROCESSES=1: one process whatever the list; 2: two for a long
    list whatever the machine's load (the check that a CPU is free is skipped)."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: never two processes")
    alone = _run(store_file, tmp_path, capsys, BIG, ("--contacts",))
    forks = split_on(monkeypatch, tmp_path, always=False)
    monkeypatch.setattr(halves, "free_cpu", lambda cpus: False)  # a busy machine
    monkeypatch.setenv(halves.PROCESSES_ENV, processes)
    assert _run(store_file, tmp_path, capsys, BIG, ("--contacts",)) == alone
    assert len(forks) == forked
    assert left_behind(temp) == []


@pytest.mark.parametrize("lacking", ["temporary folder", "process"])
@pytest.mark.parametrize("stage, flags", [(BIG, f) for f in FORMS[:3]])
def test_no_temporary_file_or_no_process_is_one_process(
    store_file: Path, tmp_path: Path, temp: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, lacking: str, stage: str, flags: tuple[str, ...],
) -> None:
    """Where no temporary file can be made or no process forked, the list is
    written by one process: the same bytes, no error."""
    alone = _run(store_file, tmp_path, capsys, stage, flags)
    forks = split_on(monkeypatch, tmp_path)
    if lacking == "process":
        def fork() -> int:
            raise BlockingIOError(11, "Resource temporarily unavailable")

        monkeypatch.setattr(os, "fork", fork)
    else:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    assert _run(store_file, tmp_path, capsys, stage, flags) == alone
    assert forks == []
    assert left_behind(temp) == []


def test_children_reaped_for_the_process_change_nothing(
    store_file: Path, tmp_path: Path, temp: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process started with SIGCHLD ignored (inherited from whatever started it)
    has its children reaped by the system, their status lost: the list is still
    whole, written as one process writes it."""
    flags = ("--contacts", "--json")
    alone = _run(store_file, tmp_path, capsys, BIG, flags)
    forks = split_on(monkeypatch, tmp_path)
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        got = _run(store_file, tmp_path, capsys, BIG, flags)
    finally:
        signal.signal(signal.SIGCHLD, before)
    assert got == alone
    assert len(forks) == 1
    assert left_behind(temp) == []
