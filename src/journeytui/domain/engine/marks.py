"""How far each journey has read: high-water marks, the change sequence, the state format.

A journey's row in ``journey_progress`` says which events its stored results have
seen (the largest id read of each event table, the last ``changed_contacts`` sequence
number) and with which state layout (:data:`STATE_FORMAT`): an advance continues from
there, or replays the journey fully when it cannot trust them.
"""

from __future__ import annotations

import sqlite3

from journeytui.store import Store

# The layout of the stored per-contact states (journeytui.domain.compiler).  Change it
# whenever that layout changes: stores evaluated with another one are replayed fully.
STATE_FORMAT = "4"

# High-water marks: the largest activities.id, sends.id and subscription_changes.id read.
Hwm = tuple[int, int, int]


def hwm_params(hwm: Hwm) -> dict[str, int]:
    return {"ahwm": hwm[0], "shwm": hwm[1], "chwm": hwm[2]}


def high_water(conn: sqlite3.Connection) -> Hwm:
    a = conn.execute("SELECT coalesce(max(id), 0) FROM activities").fetchone()[0]
    s = conn.execute("SELECT coalesce(max(id), 0) FROM sends").fetchone()[0]
    c = conn.execute("SELECT coalesce(max(id), 0) FROM subscription_changes").fetchone()[0]
    return int(a), int(s), int(c)


def change_seq(conn: sqlite3.Connection) -> int:
    """The latest sequence number of ``changed_contacts`` (sends, activities or
    subscription changes changed in place or deleted)."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM changed_contacts").fetchone()[0])


# journey_progress.engine: "STATE_FORMAT chwm seq" — the state format, the high-water
# mark of subscription_changes.id and of changed_contacts.seq (the table has no
# columns of their own for them).
def _engine_text(hwm: Hwm, seq: int) -> str:
    return f"{STATE_FORMAT} {hwm[2]} {seq}"


def _parse_engine(text: str) -> tuple[int, int] | None:
    parts = text.split()
    if len(parts) != 3 or parts[0] != STATE_FORMAT:
        return None
    try:
        return int(parts[1]), int(parts[2])
    except ValueError:
        return None


def _set_progress(
    conn: sqlite3.Connection, jid: int, version: int, hwm: Hwm, now: int, seq: int,
) -> None:
    conn.execute(
        "INSERT INTO journey_progress(journey_id, version, activity_hwm, send_hwm, evaluated_at,"
        " engine) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(journey_id) DO UPDATE SET"
        " version = excluded.version, activity_hwm = excluded.activity_hwm,"
        " send_hwm = excluded.send_hwm, evaluated_at = excluded.evaluated_at,"
        " engine = excluded.engine",
        (jid, version, hwm[0], hwm[1], now, _engine_text(hwm, seq)),
    )


def _ids_freed(conn: sqlite3.Connection, hwm: Hwm, seq: int) -> bool:
    """Whether rows under the high-water marks *hwm* may be new: the newest row of an
    event table was deleted (a forgotten contact) after the journey's last run (a
    deletion is a change: the journey has not seen every change, *seq*), and SQLite
    may have given its id, or a lower one, to a row added since.  The journey is
    replayed fully then."""
    if seq >= change_seq(conn):
        return False
    tops = dict(zip(("activities", "sends", "subscription_changes"), hwm, strict=True))
    return any(below < tops[tbl] for tbl, below in conn.execute(
        "SELECT tbl, below FROM freed_ids"))


def compact_changes(store: Store) -> None:
    """Empty ``changed_contacts`` once every journey has seen all of it (so the table
    stays small, and a store reads the same however its rows were written): its
    sequence starts again at 0, and so does each journey's mark."""
    with store.transaction() as conn:
        seq = change_seq(conn)
        if seq == 0:
            return
        marks = [_parse_engine(r[0]) for r in conn.execute("SELECT engine FROM journey_progress")]
        if any(m is not None and m[1] != seq for m in marks):
            return
        conn.execute("DELETE FROM changed_contacts")
        conn.execute("DELETE FROM freed_ids")  # every journey has run since
        conn.execute("UPDATE journey_progress SET engine = ? || ' ' ||"
                     " substr(engine, length(?) + 2, instr(substr(engine, length(?) + 2), ' ') - 1)"
                     " || ' 0' WHERE engine LIKE ? || ' %'",
                     (STATE_FORMAT, STATE_FORMAT, STATE_FORMAT, STATE_FORMAT))
