"""A full evaluation split over worker processes (by ranges of contacts), or writing
with the moves' and positions' indexes set aside, stores exactly the rows the plain
in-process evaluation stores: the same moves with the same ids, positions, states,
click counters, funnel."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from journeytui.demo import generate
from journeytui.domain import engine, replay_workers
from journeytui.store import Store

LEAD = "Lead nurturing"
TABLES = {
    "journey_moves": "id",
    "journey_positions": "journey_id, contact_id",
    "journey_click_stats": "journey_id, stage, email_id",
    "journey_funnel_steps": "journey_id, level, seconds, contact_id",
    "journey_funnels": "journey_id",
    "journey_progress": "journey_id",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("split") / "demo.db"
    generate(path, contacts=300)
    return path


def _copy(demo: Path, tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copy(demo, dest)
    return dest


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        out = {t: conn.execute(f"SELECT * FROM {t} ORDER BY {order}").fetchall()
               for t, order in TABLES.items()}
        out["indexes"] = conn.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'"
            " ORDER BY name").fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    return out


def _evaluate_all(path: Path, trace: list[str] | None = None) -> list[engine.Evaluation]:
    store = Store.open(path)
    try:
        if trace is not None:
            store.conn.set_trace_callback(trace.append)
        reports = engine.evaluate_all(store)
        # references are checked again once the evaluation is over
        assert store.conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        store.close()
    return reports


@pytest.fixture(scope="module")
def in_process(demo: Path, tmp_path_factory: pytest.TempPathFactory,
               ) -> dict[str, list[tuple[Any, ...]]]:
    """The journey tables as the plain evaluation writes them (one process, indexes
    kept current row by row); once for the module: the tests only compare with them."""
    path = _copy(demo, tmp_path_factory.mktemp("plain"), "plain.db")
    with pytest.MonkeyPatch.context() as m:
        m.setenv(replay_workers.WORKERS_ENV, "0")
        m.setattr(engine.full, "REBUILD_INDEXES_FROM", 10**12)
        reports = _evaluate_all(path)
    assert [r.workers for r in reports] == [0, 0]
    rows = _rows(path)
    assert len(rows["journey_moves"]) > 300 and len(rows["journey_positions"]) > 300
    return rows


def test_split_over_workers_stores_the_same_rows(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    in_process: dict[str, list[tuple[Any, ...]]],
) -> None:
    monkeypatch.setenv(replay_workers.WORKERS_ENV, "2")
    monkeypatch.setattr(replay_workers, "CHUNK_ACTIVITIES", 150)  # many ranges
    path = _copy(demo, tmp_path, "split.db")
    conn = sqlite3.connect(path)
    n_ranges = len(list(replay_workers.chunks(conn)))
    conn.close()
    assert n_ranges > 4
    reports = _evaluate_all(path)
    assert [r.workers for r in reports] == [2, 2]
    assert _rows(path) == in_process


# Workers that fail: real processes that end before answering anything, or after
# answering their start and two ranges (then the next range gets no answer).
_DIES_AT_ONCE = "raise SystemExit(3)"
_DIES_MIDWAY = ("import pickle, sys\n"
                "from journeytui.domain import replay_workers as rw\n"
                "load, seen = pickle.load, []\n"
                "def three(f):\n"
                "    seen.append(1)\n"
                "    if len(seen) > 3:\n"
                "        raise EOFError\n"
                "    return load(f)\n"
                "pickle.load = three\n"
                "rw._serve(sys.stdin.buffer, sys.stdout.buffer)\n")
# A worker that stops reading its requests before it answers its first range, then
# ends: handing it the next range fails (its pipe has no reader) just after its answer
# was received — that answer is still written.
_ENDS_AFTER_ONE_RANGE = ("import os, pickle, sys\n"
                         "from journeytui.domain import replay_workers as rw\n"
                         "dump, answers = pickle.dump, []\n"
                         "def dump_then_end(obj, f, *args):\n"
                         "    answers.append(1)\n"
                         "    if len(answers) == 2:\n"
                         "        os.close(0)\n"
                         "        dump(obj, f, *args)\n"
                         "        f.flush()\n"
                         "        os._exit(0)\n"
                         "    dump(obj, f, *args)\n"
                         "pickle.dump = dump_then_end\n"
                         "rw._serve(sys.stdin.buffer, sys.stdout.buffer)\n")


@pytest.mark.parametrize("script", [_DIES_AT_ONCE, _DIES_MIDWAY, _ENDS_AFTER_ONE_RANGE],
                         ids=["at-once", "midway", "after-one-range"])
def test_a_worker_that_dies_leaves_its_ranges_to_the_evaluation(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    in_process: dict[str, list[tuple[Any, ...]]], script: str,
) -> None:
    monkeypatch.setenv(replay_workers.WORKERS_ENV, "2")
    monkeypatch.setattr(replay_workers, "CHUNK_ACTIVITIES", 150)
    monkeypatch.setattr(replay_workers, "WORKER_ARGS", ["-c", script])
    path = _copy(demo, tmp_path, "dies.db")
    _evaluate_all(path)
    assert _rows(path) == in_process


def test_indexes_set_aside_are_built_again_the_same(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    in_process: dict[str, list[tuple[Any, ...]]],
) -> None:
    monkeypatch.setenv(replay_workers.WORKERS_ENV, "0")
    monkeypatch.setattr(engine.full, "REBUILD_INDEXES_FROM", 1)
    path = _copy(demo, tmp_path, "rebuilt.db")
    trace: list[str] = []
    _evaluate_all(path, trace)
    dropped = sorted(s.split('"')[1] for s in trace if s.startswith("DROP INDEX"))
    # every index of the two tables but their primary keys
    assert dropped == ["journey_moves_activity", "journey_moves_by_contact",
                       "journey_moves_contact", "journey_moves_provisional",
                       "journey_positions_contact", "journey_positions_recheck",
                       "journey_positions_stage"]
    assert _rows(path) == in_process  # (the same index definitions, too)


def test_indexes_stay_when_other_journeys_rows_are_most(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(replay_workers.WORKERS_ENV, "0")
    monkeypatch.setattr(engine.full, "REBUILD_INDEXES_FROM", 1)
    path = _copy(demo, tmp_path, "webinar.db")
    store = Store.open(path)
    try:
        c = store.conn
        lead = c.execute("SELECT id FROM journeys WHERE name = ?", (LEAD,)).fetchone()[0]
        # (the demo's Lead nurturing has more moves than Webinar: evaluating Webinar
        # alone keeps the moves' indexes; positions: one each per contact, equal)
        n = dict(c.execute("SELECT journey_id = ?, count(*) FROM journey_moves"
                           " GROUP BY 1", (lead,)).fetchall())
        assert n[1] > n[0]
        trace: list[str] = []
        c.set_trace_callback(trace.append)
        engine.evaluate(store, "Webinar")
        c.set_trace_callback(None)
    finally:
        store.close()
    dropped = [s for s in trace if s.startswith("DROP INDEX")]
    assert dropped and not [s for s in dropped if "journey_moves" in s]


def test_an_evaluation_inside_another_transaction_stays_in_process(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # (another write of the same transaction, e.g. a batch removal, may have changed
    # events a worker, reading what is committed, would not see)
    monkeypatch.setenv(replay_workers.WORKERS_ENV, "2")
    path = _copy(demo, tmp_path, "nested.db")
    store = Store.open(path)
    try:
        with store.transaction():
            reports = engine.evaluate_all(store)
        assert [r.workers for r in reports] == [0, 0]
        assert store.conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    finally:
        store.close()


def test_ranges_cover_every_contact_once_and_never_split_one(demo: Path) -> None:
    conn = sqlite3.connect(demo)
    try:
        ranges = list(replay_workers.chunks(conn, 100))
        counts = dict(conn.execute(
            "SELECT contact_id, count(*) FROM activities GROUP BY contact_id").fetchall())
    finally:
        conn.close()
    assert all(lo < hi for lo, hi in ranges)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert ranges[-1][1] == max(counts)
    for lo, hi in ranges:
        inside = [n for cid, n in counts.items() if lo < cid <= hi]
        # 100 activities after the range's first contact, up to the contact that
        # holds the 101st (whole): at least 101 unless it is the last range
        assert sum(inside) >= 101 or hi == max(counts)
    assert sum(1 for cid in counts for lo, hi in ranges if lo < cid <= hi) == len(counts)


def test_the_worker_module_runs_as_a_program() -> None:
    # what the evaluation starts: python -m journeytui.domain.replay_workers (its
    # answers unpickle as this module's classes)
    import subprocess

    proc = subprocess.run([sys.executable, *replay_workers.WORKER_ARGS], input=b"",
                          capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout == b""


def _save_a_changed_lead(store: Store) -> int:
    """Saves "Lead nurturing" with its fifth transition tried first (a change, so the
    journey is evaluated again), as the editor's save does."""
    from journeytui.domain.journeys import get_journey, save_journey

    j, version = get_journey(store, LEAD)
    ts = list(j.transitions)
    ts[4] = ts[4].model_copy(update={"priority": 1})
    new = save_journey(store, j.model_copy(update={"transitions": ts}),
                       expected_version=version, at=1_800_000_000)
    assert store.conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    return new


def _saved(path: Path) -> int:
    with Store.open(path) as store:
        return _save_a_changed_lead(store)


@pytest.fixture
def splits_started(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker counts of the split replays started (the real ones, counted)."""
    started: list[int] = []
    real = replay_workers.Split

    class Counted(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            started.append(self.workers)

    monkeypatch.setattr(replay_workers, "Split", Counted)
    monkeypatch.setattr(replay_workers, "CHUNK_ACTIVITIES", 150)
    return started


def test_saving_a_journey_evaluates_it_over_workers_the_same(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, splits_started: list[int],
) -> None:
    monkeypatch.setenv(replay_workers.WORKERS_ENV, "0")
    plain = _copy(demo, tmp_path, "save-plain.db")
    assert _saved(plain) == 2
    assert splits_started == []
    monkeypatch.setenv(replay_workers.WORKERS_ENV, "2")
    split = _copy(demo, tmp_path, "save-split.db")
    assert _saved(split) == 2
    assert splits_started == [2]
    assert _rows(split) == _rows(plain)


def test_a_private_sessions_first_save_is_evaluated_in_its_copy(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, splits_started: list[int],
) -> None:
    # (a private serve-ssh session: its first save moves it to a copy of the shared
    # store; workers would read the shared file, so the copy is evaluated in process)
    from journeytui.store.pool import StorePool

    monkeypatch.setenv(replay_workers.WORKERS_ENV, "0")
    plain = _copy(demo, tmp_path, "cow-plain.db")
    _saved(plain)
    monkeypatch.setenv(replay_workers.WORKERS_ENV, "2")
    source = _copy(demo, tmp_path, "shared.db")
    before = _rows(source)
    dest = tmp_path / "session.db"
    pool = StorePool(source, copy_on_write=dest)
    try:
        with pool.store() as store:
            assert _save_a_changed_lead(store) == 2
    finally:
        pool.close()
    assert splits_started == []
    assert _rows(dest) == _rows(plain)
    assert _rows(source) == before
