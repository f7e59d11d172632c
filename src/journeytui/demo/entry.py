"""``generate``: a new demo store, written in one transaction, its journeys evaluated."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from journeytui.demo.catalog import CREATED_AT, DATA_END, DAY, EMAILS, EPOCH
from journeytui.demo.events import (
    CLICK,
    CONFIRM,
    END,
    FORM,
    OPEN,
    SEND,
    SPAM,
    UNSUB,
    VISIT,
)
from journeytui.demo.simulation import Simulation
from journeytui.demo.writers import BulkSink, RecorderSink
from journeytui.errors import UserError
from journeytui.store.db import Store

DEFAULT_CONTACTS = 2000
DEFAULT_SEED = 2026
MAX_CONTACTS = 5_000_000


def token_key_for(seed: int) -> bytes:
    """The recipient-token key of a demo store: derived from the seed (deterministic)."""
    return hashlib.blake2b(f"journeytui demo {seed}".encode(), digest_size=16).digest()



@dataclass
class DemoSummary:
    path: Path
    contacts: int
    emails: Counter[str]  # by status
    events: Counter[str]  # by kind, as generated
    seconds: float
    journey_seconds: float = 0.0  # of seconds: saving and evaluating the demo journeys

    @property
    def total_events(self) -> int:
        return sum(self.events.values())

    def text(self) -> str:
        e = self.emails
        ev = self.events
        parts = [
            f"{ev[SEND]:,} sends", f"{ev[OPEN]:,} opens", f"{ev[CLICK]:,} clicks",
            f"{ev[UNSUB]:,} unsubscribes", f"{ev[SPAM]:,} spam reports",
            f"{ev[CONFIRM]:,} confirmations", f"{ev[FORM]:,} form submissions",
            f"{ev[VISIT]:,} page visits",
        ]
        return (
            f"Wrote {self.path}: {self.contacts:,} contacts, {sum(e.values())} emails "
            f"({e['sent']} sent, {e['scheduled']} scheduled, {e['draft']} drafts), "
            f"{self.total_events:,} events ({', '.join(parts)}) in {self.seconds:.1f} s"
            + (f" (demo journeys: {self.journey_seconds:.1f} s)" if self.journey_seconds else "")
        )


def validate_contacts(n: int) -> None:
    if not 1 <= n <= MAX_CONTACTS:
        raise UserError(
            f"--contacts {n}: must be between 1 and {MAX_CONTACTS:,}"
        )


_SIMULATING = "simulating the year (days)"


def generate(
    path: str | os.PathLike[str],
    *,
    contacts: int = DEFAULT_CONTACTS,
    seed: int = DEFAULT_SEED,
    writer: str = "bulk",
    journeys: bool = True,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> DemoSummary:
    """Write a new demo store at *path* (which must not exist) and return a summary.

    *writer* is ``"bulk"`` (fast, used by ``journeytui demo``) or ``"recorder"``
    (every event through :class:`Recorder`; the reference the bulk path is tested
    against).  The file is left in WAL mode, with the WAL folded in (no ``-wal`` beside it).
    *progress* (``report(stage, done, total)``, see ``journeytui.cli.progress``) hears
    how far each stage is: the contacts, the simulated days, the indexes, the journeys.
    """
    validate_contacts(contacts)
    if writer not in ("bulk", "recorder"):
        raise ValueError(f"writer must be 'bulk' or 'recorder', not {writer!r}")
    with _collector_paused():
        return _generate(Path(path), contacts, seed, writer, journeys, progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a store is generated: the generator makes
    no reference cycles (plain rows, lists and dicts; reference counting frees them),
    and the collector would keep walking the contacts, campaigns and rows it holds in
    memory — a tenth of the time of a large store.  It runs again, as it did, after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _generate(
    p: Path, contacts: int, seed: int, writer: str, journeys: bool,
    progress: Callable[[str, int, int | None], None] | None,
) -> DemoSummary:
    started = time.perf_counter()
    store = Store.create(p, token_key=token_key_for(seed))
    try:
        conn = store.conn
        deferred_indexes: list[str] = []
        if writer == "bulk":  # a brand-new file nobody else has: trade safety for speed
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA cache_size = -65536")
            # Every reference and value is valid by construction: the equivalence test
            # runs the Recorder path with keys and CHECKs on and finds the same rows, and
            # checks the bulk file's keys.  (A CHECK with an IN list costs ~2 µs a row.)
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("PRAGMA ignore_check_constraints = ON")
            deferred_indexes = _drop_bulk_indexes(conn)
        sim = Simulation(contacts, seed, progress)
        counts: Counter[str] = Counter()
        with store.transaction():
            sink: BulkSink | RecorderSink = (
                BulkSink(store, sim.people) if writer == "bulk"
                else RecorderSink(store, sim.people)
            )
            sim.people.subscriptions.clear()  # written; free the memory
            days = (DATA_END - EPOCH) // DAY
            sink.write(sim.activity(), counts, None if progress is None else (
                lambda at: progress(_SIMULATING, max(0, at - EPOCH) // DAY, days)))
            if progress is not None:
                progress(_SIMULATING, days, days)
            sink.finish()
            for i, sql in enumerate(deferred_indexes):  # rebuilt once, from sorted data
                if progress is not None:
                    progress("building the indexes", i, len(deferred_indexes))
                conn.execute(sql)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'created_at'", (str(CREATED_AT),))
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('demo', ?)",
                (json.dumps({"contacts": contacts, "seed": seed}),),
            )
            # provenance: one batch for everything the generator wrote (its events
            # have no per-event source: explain names the generator)
            conn.execute(
                "INSERT INTO import_batches(started_at, kind, label, events)"
                " VALUES (?, 'demo', ?, ?)",
                (CREATED_AT, f"demo generator (seed {seed}, {contacts:,} contacts)",
                 sum(n for k, n in counts.items() if k != END)),
            )
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA ignore_check_constraints = OFF")
        journey_seconds = 0.0
        if journeys:
            from journeytui.demo.journeys import install_demo_journeys  # pydantic: on use

            t = time.perf_counter()
            # evaluated at the latest event time: reproducible
            install_demo_journeys(store, progress=progress)
            journey_seconds = time.perf_counter() - t
        # WAL, like every store the app opens (so opening the committed demo store
        # never rewrites its header); the WAL is folded back in when the store closes.
        conn.execute("PRAGMA journal_mode = WAL")
    except BaseException:
        store.close()
        _remove_store_files(p)
        raise
    store.close()
    del counts[END]
    emails = Counter(e.status for e in EMAILS)
    return DemoSummary(
        p, contacts, emails, counts, time.perf_counter() - started, journey_seconds
    )


_BULK_TABLES = ("contacts", "sends", "activities", "anonymous_events", "subscriptions")


def _drop_bulk_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the secondary indexes of the big tables; return the SQL that recreates them."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({', '.join('?' * len(_BULK_TABLES))}) ORDER BY name",
        _BULK_TABLES,
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


def _remove_store_files(p: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        f = Path(str(p) + suffix)
        try:
            f.unlink()
        except FileNotFoundError:
            pass


