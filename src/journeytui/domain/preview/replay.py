"""The exact funnel of a draft: every contact replayed with the engine's own runner,
only running totals kept, a cancel flag checked between contacts."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from typing import Any, cast

from journeytui.domain.compiler import compile_journey
from journeytui.domain.engine import Runner, default_now, high_water
from journeytui.domain.funnel import DEFAULT_STALL_DAYS, FunnelData, compute
from journeytui.domain.journey_model import Journey
from journeytui.domain.preview.cancel import Cancel, PreviewCancelled, Progress
from journeytui.domain.preview.events import Row, _all_contacts, _contacts_of
from journeytui.domain.preview.stored import (
    _Positions,
    _reuse,
    _Stored,
    affected_stages,
    stored_current,
)
from journeytui.errors import UserError
from journeytui.store import Store


def exact(
    store: Store, j: Journey, *, now: int | None = None,
    stall_days: int = DEFAULT_STALL_DAYS, validate: bool = True, saved: str | None = None,
    cancel: threading.Event | None = None, progress: Progress | None = None,
    report: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The exact funnel of draft *j* (``funnel.compute``'s dict), replaying contact by
    contact with only running totals kept.  *saved*: the name of the saved journey
    the draft was edited from (its stored results are reused where sound).  Raises
    :class:`PreviewCancelled` soon after *cancel* is set.  *report* gets how many
    contacts were ``replayed`` and whether stored results were ``reused`` (0/1)."""
    if stall_days < 1:
        raise UserError(f"--stall-days {stall_days}: must be at least 1")
    if validate:
        from journeytui.domain.journeys import validate_for_store

        validate_for_store(store, j)
    conn = store.conn
    if isinstance(cancel, Cancel):
        with cancel.watching(conn):
            return _exact(conn, j, now, stall_days, saved, cancel, progress, report)
    return _exact(conn, j, now, stall_days, saved, cancel, progress, report)


def _exact(
    conn: sqlite3.Connection, j: Journey, now: int | None, stall_days: int,
    saved: str | None, cancel: threading.Event | None, progress: Progress | None,
    report: dict[str, int] | None,
) -> dict[str, Any]:
    hwm = high_water(conn)
    if now is None:
        now = default_now(conn)
    stored = stored_current(conn, saved)
    reuse: tuple[_Stored, set[int]] | None = None
    if stored is not None and stored.now == now:
        stages = affected_stages(stored.journey, j)
        if stages is not None:
            reuse = (stored, stages)
    c = compile_journey(j, conn)
    runner = Runner(c, now, keep_states=False)
    out = runner.out
    positions = _Positions(now - stall_days * 86_400)
    max_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0]) or 1
    skip: bytearray | None = None
    reused: Iterable[tuple[int, int, int, int, int, int | None]] = ()
    contacts: Iterable[tuple[int, list[Row]]] | None = None
    if reuse is not None:
        taken = _reuse(conn, reuse[0], j, reuse[1], positions, out.clicks)
        if taken is not None:
            skip, reused, contacts = taken
    if contacts is None:
        contacts = _contacts_of(conn, hwm, skip) if skip is not None else _all_contacts(
            conn, hwm)
    if report is not None:
        report.update(replayed=0, reused=int(skip is not None))

    def moves() -> Iterator[tuple[int, int, int, int, int, int | None]]:
        new_state = c.new_state
        n = 0
        for cid, rows in contacts:
            if cancel is not None and cancel.is_set():
                raise PreviewCancelled
            st = new_state()
            runner.feed(cid, st, rows)
            runner.finish(cid, st)
            pos = out.positions.pop(cid)
            if pos[0] >= 0:
                positions.add(pos[0], pos[1])
            if out.moves:
                for m in out.moves:
                    yield m[0], m[1], m[2], m[3], m[4], m[7]
                out.moves.clear()
            n += 1
            if report is not None:
                report["replayed"] = n
            if progress is not None and n % 2048 == 0:
                progress(min(cid / max_id, 1.0))
        yield from reused
        if progress is not None:
            progress(1.0)

    names = dict(conn.execute("SELECT id, name FROM emails").fetchall())
    data = FunnelData(j, now, cast(dict[int, tuple[int, int | None]], positions),
                      cast(list[tuple[int, int, int, int, int, int | None]], moves()),
                      out.clicks, names)
    return compute(data, stall_days=stall_days)
