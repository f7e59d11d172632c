"""The events a journey replays: their SQL, their reading (cached for small stores),
and each contact's rows in order (the few subscription changes merged in)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from journeytui.domain.engine.marks import Hwm, hwm_params

# The event rows (journeytui.domain.compiler): contact activities without machine
# opens and suspected bot clicks (unsubscribes and spam reports come as subscription
# changes instead, with the activity's id when there is one); delivered sends and
# subscription changes of contacts with activities.
_ACT = ("SELECT contact_id, at, 1, id, kind, email_id, link_id, list_id, value"
        " FROM activities WHERE machine = 0 AND bot = 0"
        " AND kind != 'unsubscribe' AND kind != 'spam'")
_SEND = ("SELECT contact_id, at, 0, id, 'send', email_id, NULL, NULL, NULL"
         " FROM sends WHERE status = 'delivered'")
_CHANGE = ("SELECT s.contact_id, s.at, 2, s.id, s.kind, s.email_id, NULL, s.list_id,"
           " (SELECT min(a.id) FROM activities a WHERE a.contact_id = s.contact_id"
           " AND a.at = s.at AND a.kind = s.kind AND a.list_id IS s.list_id"
           " AND a.email_id IS s.email_id)"
           " FROM subscription_changes s WHERE 1")
_HAS_ACTIVITY = "contact_id IN (SELECT contact_id FROM activities)"
# (few rows: a lookup each is cheaper than the list of every contact with activities)
_CHANGE_HAS_ACTIVITY = "EXISTS (SELECT 1 FROM activities x WHERE x.contact_id = s.contact_id)"
_ORDER = " ORDER BY 1, 2, 4, 3"

# A full replay reads the (few) subscription changes apart and merges them per contact:
# cheaper than a three-way merge of every row in SQL.
EVENTS_SQL = (
    f"{_ACT} AND id <= :ahwm"
    f" UNION ALL {_SEND} AND {_HAS_ACTIVITY} AND id <= :shwm" + _ORDER
)
CHANGES_SQL = f"{_CHANGE} AND {_CHANGE_HAS_ACTIVITY} AND s.id <= :chwm ORDER BY 1, 2, 4"
_ROW_ORDER = itemgetter(1, 3, 2)  # within a contact: at, id, src (as _ORDER)
NEW_EVENTS_SQL = (
    f"{_ACT} AND id > :a0 AND id <= :ahwm"
    f" UNION ALL {_SEND} AND {_HAS_ACTIVITY} AND id > :s0 AND id <= :shwm"
    f" UNION ALL {_CHANGE} AND {_CHANGE_HAS_ACTIVITY} AND s.id > :c0 AND s.id <= :chwm"
    + _ORDER
)
# Few new sends (an import of a webhook batch): look each one's contact up instead of
# listing every contact with activities first.
NEW_EVENTS_FEW_SQL = NEW_EVENTS_SQL.replace(
    f"{_SEND} AND {_HAS_ACTIVITY}",
    f"{_SEND} AND EXISTS (SELECT 1 FROM activities x WHERE x.contact_id = sends.contact_id)",
)
CONTACT_EVENTS_SQL = (
    f"{_ACT} AND contact_id = :c AND id <= :ahwm"
    f" UNION ALL {_SEND} AND contact_id = :c AND id <= :shwm"
    f" UNION ALL {_CHANGE} AND s.contact_id = :c AND s.id <= :chwm" + _ORDER
)


def default_now(conn: sqlite3.Connection) -> int:
    """The evaluation time by default: the latest activity, send or subscription change."""
    row = conn.execute(
        "SELECT max(coalesce((SELECT max(at) FROM activities), 0),"
        " coalesce((SELECT max(at) FROM sends), 0),"
        " coalesce((SELECT max(at) FROM subscription_changes), 0))"
    ).fetchone()
    return int(row[0] or 0)


def _by_contact(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
    return groupby(rows, key=itemgetter(0))  # type: ignore[return-value]


# Small stores: the event rows of the last full read are kept, so that a live preview
# (the TUI editor re-evaluates on every change) only pays for the Python part.  The key
# changes with any commit on this connection or another one.
CACHE_MAX_ROWS = 300_000
_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


Changes = dict[int, list[tuple[Any, ...]]]


def _read(conn: sqlite3.Connection, hwm: Hwm) -> tuple[Iterable[tuple[Any, ...]], Changes]:
    params = hwm_params(hwm)
    changes: Changes = {}
    for row in conn.execute(CHANGES_SQL, params):
        changes.setdefault(row[0], []).append(row)
    return conn.execute(EVENTS_SQL, params), changes


def _events(conn: sqlite3.Connection, hwm: Hwm) -> tuple[Iterable[tuple[Any, ...]], Changes]:
    if sum(hwm) > CACHE_MAX_ROWS:
        return _read(conn, hwm)
    key = (id(conn), conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes,
           hwm)
    with _cache_lock:  # the TUI's worker threads share this cache
        if _cache.get("key") != key or _cache.get("conn") is not conn:
            rows, changes = _read(conn, hwm)
            rows = list(rows)
            _cache.clear()
            _cache.update(key=key, conn=conn, rows=rows, changes=changes)
        return _cache["rows"], _cache["changes"]


def _merged(
    rows: Iterable[tuple[Any, ...]], changes: Changes
) -> Iterator[tuple[int, Iterable[tuple[Any, ...]]]]:
    """Each contact's events in order: *rows* (sorted by contact) with its *changes*."""
    pending = sorted(changes)
    k, end = 0, len(pending)
    for cid, group in _by_contact(rows):
        while k < end and pending[k] < cid:
            yield pending[k], changes[pending[k]]
            k += 1
        if k < end and pending[k] == cid:
            k += 1
            yield cid, sorted([*group, *changes[cid]], key=_ROW_ORDER)
        else:
            yield cid, group
    for cid in pending[k:]:
        yield cid, changes[cid]
