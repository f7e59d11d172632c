"""The incremental advance: each journey continued from its stored states with the
events added since its last run, only the contacts they (or changed rows, or closing
time windows) touch read and rewritten; a full replay when that cannot be trusted."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from journeytui.domain.compiler import CLICKS, LAST_AT, LAST_ID, LAST_SRC, compile_journey
from journeytui.domain.engine.events import (
    CONTACT_EVENTS_SQL,
    NEW_EVENTS_FEW_SQL,
    NEW_EVENTS_SQL,
    _by_contact,
    default_now,
)
from journeytui.domain.engine.full import _evaluate_full
from journeytui.domain.engine.marks import (
    Hwm,
    _ids_freed,
    _parse_engine,
    _set_progress,
    change_seq,
    compact_changes,
    high_water,
    hwm_params,
)
from journeytui.domain.engine.results import (
    _dump_state,
    _journey_row,
    _since,
    _write_clicks,
    _write_moves,
)
from journeytui.domain.engine.runner import Runner
from journeytui.domain.funnel import load_tally, rebuild_tally, save_tally, stored_moves
from journeytui.domain.journey_model import Journey
from journeytui.store import Store


@dataclass
class AdvanceReport:
    journey: str
    full: bool
    contacts_advanced: int
    contacts_replayed: int
    moves: int
    # stored states read and decoded (the cost an advance should keep to what changed)
    states_read: int = 0


def advance(store: Store, name: str, *, now: int | None = None) -> AdvanceReport:
    """Continue journey *name* with the events added since its last evaluation."""
    with store.transaction() as conn:
        jid, version, j = _journey_row(conn, name)
        prog = conn.execute(
            "SELECT version, activity_hwm, send_hwm, engine, evaluated_at FROM journey_progress"
            " WHERE journey_id = ?", (jid,),
        ).fetchone()
        engine = _parse_engine(prog[3]) if prog is not None else None
        if prog is None or prog[0] != version or engine is None or _ids_freed(
                conn, (prog[1], prog[2], engine[0]), engine[1]):
            r = _evaluate_full(conn, jid, version, j, now)
            return AdvanceReport(j.name, True, r.contacts, r.contacts, r.moves, r.contacts)
        return _advance(conn, jid, version, j, (prog[1], prog[2], engine[0]), engine[1],
                        int(prog[4]), now)


# Above this many contacts to read, one pass over the journey's positions beats a
# lookup each.
FEW_CONTACTS = 2_000
_POSITION = "SELECT contact_id, stage, since, state FROM journey_positions WHERE journey_id = ?"
# Up to this many new sends (an import of a webhook batch), the new events are read with
# NEW_EVENTS_FEW_SQL (a lookup per send's contact).
FEW_SENDS = 5_000


def _advance(
    conn: sqlite3.Connection, jid: int, version: int, j: Journey, old: Hwm,
    old_seq: int, old_now: int, now: int | None,
) -> AdvanceReport:
    hwm = high_water(conn)
    seq = change_seq(conn)
    if now is None:
        now = default_now(conn)
    c = compile_journey(j, conn)
    names = c.stage_names
    runner = Runner(c, now, keep_states=False)
    new_rows = conn.execute(
        NEW_EVENTS_FEW_SQL if hwm[1] - old[1] <= FEW_SENDS else NEW_EVENTS_SQL,
        {"a0": old[0], "s0": old[1], "c0": old[2], **hwm_params(hwm)},
    ).fetchall()
    groups = {cid: list(group) for cid, group in _by_contact(new_rows)}
    del new_rows
    # Contacts one of whose rows changed in place or went away since: replayed.
    changed = {int(r[0]) for r in conn.execute(
        "SELECT contact_id FROM changed_contacts WHERE seq > ?", (old_seq,))}
    # The check at evaluation time decides the same for every other contact unless a
    # window closed in between (recheck_at) or the time went back.
    every = now < old_now
    wanted = set(groups) | changed
    if every or len(wanted) > FEW_CONTACTS:
        rows = [r for r in conn.execute(_POSITION, (jid,)) if every or r[0] in wanted]
    else:
        rows = []
        for cid in sorted(wanted):
            rows.extend(conn.execute(_POSITION + " AND contact_id = ?", (jid, cid)))
    if not every:
        rows.extend(r for r in conn.execute(
            _POSITION + " AND recheck_at IS NOT NULL AND recheck_at < ?", (jid, now))
            if r[0] not in wanted)
    stored: dict[int, tuple[str | None, int | None]] = {}
    states: dict[int, list[Any]] = {}
    size = len(c.new_state())
    # One JSON document for all the states: a decoder call per state costs more.
    for (cid, stage, since, _), st in zip(
        rows, json.loads("[" + ",".join(r[3] for r in rows) + "]"), strict=True
    ):
        stored[cid] = (stage, since)
        if len(st) < size:
            st.extend([None] * (size - len(st)))
        states[cid] = st
    n_read = len(rows)
    del rows
    # Only contacts already in the journey can have changed rows that matter (one
    # without a state had no activity when last seen).
    changed &= set(states)
    for cid in changed:
        groups.setdefault(cid, [])
    # The kept funnel: the share of every contact whose moves or position may change
    # is taken back here and added again once written (the durations that end at the
    # evaluation time are kept as such: a time change touches none of them).  Without
    # a current tally (or when everyone is checked again) it is rebuilt from all moves.
    tally = None if every else load_tally(conn, jid, j)
    taken: set[int] = set()
    if tally is not None:
        taken = set(states) | set(groups)
        for cid, ms in stored_moves(conn, jid, j, taken).items():
            tally.contact(cid, ms, -1)
        index = {n: i for i, n in enumerate(names)}
        for stage, _ in stored.values():
            if stage is not None:
                tally.current[index[stage]] -= 1
    # Provisional moves: redone for the contacts checked again below; the others'
    # moves stand, at the new evaluation time (their time, and the ``since`` of the
    # positions they decide, are stored as "at the evaluation time": nothing to write).
    if every:
        conn.execute("DELETE FROM journey_moves WHERE journey_id = ? AND provisional = 1",
                     (jid,))
    else:
        conn.executemany(
            "DELETE FROM journey_moves WHERE journey_id = ? AND contact_id = ?"
            " AND provisional = 1", [(jid, cid) for cid in sorted(states)])
    touched: dict[int, list[Any]] = {}
    gone: list[int] = []
    replayed = 0
    new_params = hwm_params(hwm)
    for cid in sorted(groups):
        new = groups[cid]
        st = states.get(cid)
        if st is not None and cid not in changed and (new[0][1], new[0][3], new[0][2]) > (
            st[LAST_AT], st[LAST_ID], st[LAST_SRC]
        ):
            runner.feed(cid, st, new)
        else:
            # Late events, changed rows, or a contact new to the journey: replay it
            # from the start (taking back its share of the click counters).
            replayed += 1
            if st is not None:
                _write_clicks(conn, jid, c, {(s, e): [n, m] for s, e, n, m in st[CLICKS]},
                              sign=-1)
                conn.execute(
                    "DELETE FROM journey_moves WHERE journey_id = ? AND contact_id = ?",
                    (jid, cid),
                )
            events = conn.execute(CONTACT_EVENTS_SQL, {"c": cid, **new_params}).fetchall()
            if not events or conn.execute(
                    "SELECT 1 FROM activities WHERE contact_id = ? AND id <= ?",
                    (cid, hwm[0])).fetchone() is None:
                gone.append(cid)  # nothing left to replay: out of the journey
                states.pop(cid, None)
                continue
            st = c.new_state()
            runner.feed(cid, st, events)
        touched[cid] = st
    # The check at the new evaluation time.
    for cid, st in states.items():
        if cid not in touched:
            runner.finish(cid, st)
    for cid, st in touched.items():
        runner.finish(cid, st)
    r = runner.out
    _write_moves(conn, jid, c, r.moves)
    _write_clicks(conn, jid, c, r.clicks)
    conn.executemany("DELETE FROM journey_positions WHERE journey_id = ? AND contact_id = ?",
                     [(jid, cid) for cid in gone])
    upsert = []
    update = []
    recheck = c.recheck_at
    provisional = {m[0] for m in r.moves if m[8]}
    for cid, (stage, since) in r.positions.items():
        stage_name = names[stage] if stage >= 0 else None
        since = _since(cid, since, provisional)
        if cid in touched:
            st = touched[cid]
            upsert.append((jid, cid, stage_name, since, _dump_state(st), recheck(st, now)))
        else:
            update.append((stage_name, since, recheck(states[cid], now), jid, cid))
    conn.executemany(
        "INSERT INTO journey_positions(journey_id, contact_id, stage, since, state, recheck_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(journey_id, contact_id) DO UPDATE SET"
        " stage = excluded.stage, since = excluded.since, state = excluded.state,"
        " recheck_at = excluded.recheck_at",
        upsert,
    )
    conn.executemany(
        "UPDATE journey_positions SET stage = ?, since = ?, recheck_at = ?"
        " WHERE journey_id = ? AND contact_id = ?",
        update,
    )
    _set_progress(conn, jid, version, hwm, now, seq)
    if tally is None:
        rebuild_tally(conn, jid, j)
    else:
        for cid, ms in stored_moves(conn, jid, j, taken).items():
            tally.contact(cid, ms)
        for stage, _ in r.positions.values():
            tally.position(stage)
        save_tally(conn, jid, tally)
    return AdvanceReport(j.name, False, len(touched), replayed, len(r.moves), n_read)


def advance_all(store: Store, *, now: int | None = None) -> list[AdvanceReport]:
    """After any import: advance every journey (one transaction each)."""
    names = [r[0] for r in store.conn.execute("SELECT name FROM journeys ORDER BY name")]
    out = [advance(store, n, now=now) for n in names]
    compact_changes(store)
    return out
