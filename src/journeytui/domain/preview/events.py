"""Reading the events a preview replays: every contact's in one ordered read (kept
in memory on small stores), or those of a few contacts."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from journeytui.domain.engine import (
    CHANGES_SQL,
    CONTACT_EVENTS_SQL,
    EVENTS_SQL,
    Hwm,
    hwm_params,
)

Row = tuple[Any, ...]

_by_contact = itemgetter(0)
_ROW_ORDER = itemgetter(1, 3, 2)  # within a contact: at, id, src (as the engine orders)


def _contacts_of(
    conn: sqlite3.Connection, hwm: Hwm, skip: bytearray | None,
) -> Iterator[tuple[int, list[Row]]]:
    """Each contact's events in the engine's order, contact by contact (one ordered
    read; the few subscription changes merged in).  *skip*: a byte per contact id,
    non-zero for contacts not wanted (their rows are passed over unread by Python)."""
    params = hwm_params(hwm)
    changes: dict[int, list[Row]] = {}
    for row in conn.execute(CHANGES_SQL, params):
        changes.setdefault(row[0], []).append(row)
    pending = sorted(changes)
    k, end = 0, len(pending)
    n_skip = len(skip) if skip is not None else 0
    for cid, group in groupby(conn.execute(EVENTS_SQL, params), key=_by_contact):
        while k < end and pending[k] < cid:
            c = pending[k]
            k += 1
            if not (c < n_skip and skip[c]):  # type: ignore[index]
                yield c, changes[c]
        if cid < n_skip and skip[cid]:  # type: ignore[index]
            if k < end and pending[k] == cid:
                k += 1
            continue
        if k < end and pending[k] == cid:
            k += 1
            yield cid, sorted([*group, *changes[cid]], key=_ROW_ORDER)
        else:
            yield cid, list(group)
    for c in pending[k:]:
        if not (c < n_skip and skip[c]):  # type: ignore[index]
            yield c, changes[c]


# Small stores: each contact's events, as last read, are kept (per connection, until
# any change), so that the editor's previews pay only for the replay.
CACHE_MAX_ROWS = 100_000
_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def _all_contacts(conn: sqlite3.Connection, hwm: Hwm) -> Iterable[tuple[int, list[Row]]]:
    """Every contact's events (:func:`_contacts_of`), from the cache when it is small."""
    if sum(hwm) > CACHE_MAX_ROWS:
        return _contacts_of(conn, hwm, None)
    key = (id(conn), conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes,
           hwm)
    with _cache_lock:  # the app's worker threads share it
        if _cache.get("key") != key or _cache.get("conn") is not conn:
            _cache.clear()
            _cache.update(key=key, conn=conn, contacts=list(_contacts_of(conn, hwm, None)))
        return _cache["contacts"]  # type: ignore[no-any-return]


def _events_of(conn: sqlite3.Connection, ids: list[int], hwm: Hwm) -> Iterator[tuple[int, list[Row]]]:
    """The events of the contacts *ids* (few), contact by contact in the engine's order."""
    params = hwm_params(hwm)
    sql = CONTACT_EVENTS_SQL.replace("contact_id = :c", "contact_id IN (SELECT value FROM"
                                     " json_each(:ids))")
    if sql.count("json_each") == 3:
        rows = conn.execute(sql, {"ids": json.dumps(ids), **params})
        for cid, group in groupby(rows, key=_by_contact):
            yield cid, list(group)
    else:  # the engine's query changed shape: one contact at a time
        for cid in ids:
            found = conn.execute(CONTACT_EVENTS_SQL, {"c": cid, **params}).fetchall()
            if found:
                yield cid, found
