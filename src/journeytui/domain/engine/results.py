"""A journey's results as stored: its row read, its moves, click counters and
per-contact states written (provisional times as "at the evaluation time")."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from journeytui.domain.compiler import Compiled
from journeytui.domain.engine.runner import Move
from journeytui.domain.journey_model import Journey
from journeytui.store.evaluation_time import AT_EVALUATION


def _journey_row(conn: sqlite3.Connection, name: str) -> tuple[int, int, Journey]:
    from journeytui.domain.journeys import JourneyNotFound, _from_definition

    row = conn.execute(
        "SELECT id, version, definition FROM journeys WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        raise JourneyNotFound(name, conn)
    return int(row[0]), int(row[1]), _from_definition(row[2], name)


INSERT_MOVES = (
    "INSERT INTO journey_moves(journey_id, contact_id, from_stage, to_stage, transition,"
    " at, activity_id, send_id, email_id, provisional) VALUES (?,?,?,?,?,?,?,?,?,?)")
INSERT_POSITIONS = (
    "INSERT INTO journey_positions(journey_id, contact_id, stage, since, state,"
    " recheck_at) VALUES (?, ?, ?, ?, ?, ?)")
INSERT_STEPS = ("INSERT INTO journey_funnel_steps(journey_id, level, seconds, contact_id)"
                " VALUES (?, ?, ?, ?)")


def move_rows(jid: int, names: list[str], moves: list[Move]) -> list[tuple[Any, ...]]:
    """*moves* as rows of ``journey_moves`` (:data:`INSERT_MOVES`); a provisional one's
    time is stored as "at the evaluation time" (:data:`AT_EVALUATION`), so that a later
    evaluation time changes no move."""
    return [
        (jid, m[0], names[m[1]] if m[1] >= 0 else None, names[m[2]], m[3] or None,
         AT_EVALUATION if m[8] else m[4], m[5], m[6], m[7], m[8])
        for m in moves
    ]


def _write_moves(conn: sqlite3.Connection, jid: int, c: Compiled, moves: list[Move]) -> None:
    """Write *moves* (:func:`move_rows`)."""
    conn.executemany(INSERT_MOVES, move_rows(jid, c.stage_names, moves))


def position_row(
    jid: int, names: list[str], cid: int, position: tuple[int, int | None],
    provisional: bool, stored: tuple[str, int | None],
) -> tuple[Any, ...]:
    """A row of ``journey_positions`` (:data:`INSERT_POSITIONS`): *position* (stage
    index or -1, since), *provisional* when a provisional move put the contact in its
    stage (its ``since`` is then "at the evaluation time"), *stored*: the state's text
    and recheck time."""
    stage, since = position
    return (jid, cid, names[stage] if stage >= 0 else None,
            AT_EVALUATION if provisional else since, *stored)


def _since(cid: int, since: int | None, provisional: set[int]) -> int | None:
    """A position's ``since`` as stored: "at the evaluation time" when a provisional
    move (the check at evaluation time) put the contact in its stage."""
    return AT_EVALUATION if cid in provisional else since


_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _stored_state(
    st: list[Any] | tuple[str, int | None], recheck: Callable[[list[Any], int], int | None],
    now: int,
) -> tuple[str, int | None]:
    """A state's stored text and recheck time; a worker process's replay gives them
    already (a tuple)."""
    if isinstance(st, tuple):
        return st
    return _dump_state(st), recheck(st, now)


def _dump_state(st: list[Any]) -> str:
    """A state as stored: JSON, without its trailing None slots (an advance pads them
    back)."""
    k = len(st)
    while st[k - 1] is None:
        k -= 1
    return _encode(st[:k] if k < len(st) else st)


def _write_clicks(
    conn: sqlite3.Connection, jid: int, c: Compiled, clicks: dict[tuple[int, int], list[int]],
    sign: int = 1,
) -> None:
    names = c.stage_names
    conn.executemany(
        "INSERT INTO journey_click_stats(journey_id, stage, email_id, clicks, moved)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(journey_id, stage, email_id) DO UPDATE SET"
        " clicks = clicks + excluded.clicks, moved = moved + excluded.moved",
        [(jid, names[s], e, sign * v[0], sign * v[1]) for (s, e), v in clicks.items()],
    )
