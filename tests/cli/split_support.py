"""What the tests of the two-process lists share (tests/cli/test_stage_split.py,
tests/cli/test_activities_split.py): the split length lowered and the forks counted,
the tables' sample and chunk made short, a temporary folder of the test's own, what a
split left behind, and a command run as its own process that records its forks."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import halves, stream


class Forks(list[int]):
    """The children forked (their pids, in the parent)."""


def short_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables sized by their first 2 rows, written in chunks of 3 rows (in one
    process as in two)."""
    monkeypatch.setattr(stream, "SAMPLE", 2)
    monkeypatch.setattr(stream, "CHUNK", 3)


def split_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, always: bool = True
             ) -> Forks:
    """From here on, lists of 4 rows or more are split (*always*: whatever the
    machine's load and threads); the forks are counted."""
    monkeypatch.setattr(halves, "SPLIT_FROM", 4)
    if always:  # (pytest's own threads, if any, are none of the child's business)
        monkeypatch.setattr(halves, "can_split", lambda: True)
    forks = Forks()
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return forks


def own_temp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The temporary folder, the test's own (to see that nothing is left in it)."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def left_behind(temp: Path) -> list[str]:
    """Files left in the temporary folder, and children not reaped."""
    left = os.listdir(temp)
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        left.append(f"child {pid} not reaped")
    except ChildProcessError:
        pass  # no child at all
    return left


HEAD = """
import os, sys
from journeytui.cli import halves, main, stream
halves.SPLIT_FROM = int(sys.argv[2])
stream.SAMPLE, stream.CHUNK = 2, 3
real = os.fork
def fork():
    pid = real()
    if pid:
        with open(sys.argv[1], "a") as f:
            f.write(f"{pid}\\n")
    return pid
os.fork = fork
sys.exit(main(sys.argv[3:]))
"""


def not_ours(pid: int, parent: int) -> bool:
    """Whether *pid* is some other process now (a number used again)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return int(stat.rsplit(")", 1)[1].split()[1]) not in (parent, 1)


@contextmanager
def commit_between_the_reads(monkeypatch: pytest.MonkeyPatch, db: Path,
                             *statements: tuple[str, tuple[object, ...]]) -> Iterator[None]:
    """While the block runs a split list: another writer runs *statements* and commits
    after the parent started its read and before the child starts its own (a pipe
    orders the two)."""
    parent = os.getpid()
    committed_r, committed_w = os.pipe()
    real_pin = halves._pin

    def pin(store: Any) -> None:
        if os.getpid() == parent:
            real_pin(store)
            other = sqlite3.connect(db)
            for sql, params in statements:
                other.execute(sql, params)
            other.commit()
            other.close()
            os.write(committed_w, b"c")
        else:
            assert os.read(committed_r, 1) == b"c"
            real_pin(store)

    monkeypatch.setattr(halves, "_pin", pin)
    try:
        yield
    finally:
        os.close(committed_r)
        os.close(committed_w)
