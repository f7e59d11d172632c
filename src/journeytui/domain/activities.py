"""The contact activities of one email (PRODUCT.md §2).

Only consented contacts have activities, so this list may hold fewer clicks than the
email's statistics; :func:`anonymous_line` says so with the numbers.  Lists are paged
newest first with a keyset ``(at, id)`` so a pane can page through any length.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from journeytui.domain.stats import EmailStats, email_stats
from journeytui.present import activity_label_sql
from journeytui.store import Store
from journeytui.timefmt import iso_time

Key = tuple[int, int]

# An activity's value, the same everywhere (the contact's timeline says the same): the
# list's name for an unsubscribe from a list and for a confirmation, "all" for an
# unsubscribe from all lists, the URL of a click or visit, the form's name.
VALUE_SQL = (
    "CASE WHEN a.kind = 'unsubscribe' AND a.list_id IS NOT NULL THEN l.name"
    " WHEN a.kind = 'confirm' THEN l.name ELSE a.value END"
)


@dataclass(frozen=True)
class EmailActivity:
    id: int
    contact_id: int
    contact: str
    address: str
    activity: str
    at: int
    value: str | None
    bot: bool
    machine: bool

    @property
    def key(self) -> Key:
        return (self.at, self.id)

    def to_json(self) -> dict[str, Any]:
        return {
            "contact": self.contact,
            "address": self.address,
            "activity": self.activity,
            "time": iso_time(self.at),
            "value": self.value,
            "suspected_bot": self.bot,
            "machine_open": self.machine,
        }


#: How many of the best name/address matches a contact filter considers.
WHO_MATCHES = 2000


@dataclass(frozen=True)
class ActivityFilter:
    """Which of an email's activities to list: clicks on links containing *url*; those
    of contacts matching *who* (part of a name or address, typo-tolerant — the contact
    search's best :data:`WHO_MATCHES` matches); clicks only."""

    url: str | None = None
    who: str | None = None
    clicks_only: bool = False

    def describe(self) -> str:
        parts = []
        if self.url:
            parts.append(f"clicks on links containing “{self.url}”")
        elif self.clicks_only:
            parts.append("clicks")
        if self.who:
            parts.append(f"by contacts matching “{self.who}”")
        return " ".join(parts)


def _where(
    store: Store, email_id: int, url_contains: str | None, flt: ActivityFilter | None = None
) -> tuple[str, list[Any]]:
    sql = "a.email_id = ?"
    params: list[Any] = [email_id]
    url = url_contains or (flt.url if flt else None)
    if url:
        sql += " AND a.kind = 'click' AND instr(lower(a.value), lower(?)) > 0"
        params.append(url)
    elif flt is not None and flt.clicks_only:
        sql += " AND a.kind = 'click'"
    if flt is not None and flt.who:
        from journeytui.domain.contacts import search_contacts

        ids = [m.id for m in search_contacts(store, flt.who, limit=WHO_MATCHES)]
        sql += f" AND a.contact_id IN ({','.join('?' * len(ids)) or 'NULL'})"
        params.extend(ids)
    return sql, params


_ACTIVITY_SELECT = (
    "SELECT a.id, a.contact_id, trim(c.first_name || ' ' || c.last_name), c.email,"
    f" a.kind, a.at, {VALUE_SQL}, a.bot, a.machine"
    " FROM activities a JOIN contacts c ON c.id = a.contact_id"
    " LEFT JOIN lists l ON l.id = a.list_id"
)


def email_activities(
    store: Store,
    email_id: int,
    *,
    url_contains: str | None = None,
    after: Key | None = None,
    limit: int | None = 200,
    flt: ActivityFilter | None = None,
) -> list[EmailActivity]:
    """Activities of *email_id*, newest first, starting after keyset *after*."""
    where, params = _where(store, email_id, url_contains, flt)
    if after is not None:
        where += " AND (a.at, a.id) < (?, ?)"
        params.extend(after)
    sql = f"{_ACTIVITY_SELECT} WHERE {where} ORDER BY a.at DESC, a.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_activity(r) for r in store.conn.execute(sql, params)]


class Cut(NamedTuple):
    """One of two parts of an email's activity list (newest first), cut before the
    activity with this time and id (:func:`split_key`): the activities newer than it
    (*second* False) or it and every older one (*second* True)."""

    second: bool
    at: int
    id: int


def split_key(conn: sqlite3.Connection, email_id: int, total: int) -> Cut:
    """Where to cut the activity list of *email_id* (*total* activities in all) in two
    parts of about the same length (the first :class:`Cut`): the activity at half
    the list, found on the ``activities_email`` index alone (no row read).  A list
    with a link filter holds fewer rows, not always as many in each part."""
    row = conn.execute("SELECT at, id FROM activities WHERE email_id = ?"
                       " ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?",
                       (email_id, total // 2)).fetchone()
    return Cut(False, int(row[0]), int(row[1]))


def _in_half(where: str, params: list[Any], half: Cut | None) -> str:
    """*where* with only the part *half* of the list (a range of the index)."""
    if half is None:
        return where
    params.extend((half.at, half.id))
    return where + (" AND (a.at, a.id) <= (?, ?)" if half.second
                    else " AND (a.at, a.id) > (?, ?)")


# (id, contact_id, contact, address, kind, at, value, bot, machine), as EmailActivity
ActivityRow = tuple[int, int, str | None, str | None, str, int, str | None, int, int]


def iter_email_activity_rows(
    store: Store, email_id: int, *, url_contains: str | None = None, half: Cut | None = None,
) -> Iterator[ActivityRow]:
    """Every activity of *email_id*, newest first (as :func:`email_activities`), as
    plain rows read from one cursor while the caller consumes them: constant memory
    whatever the email's size (the order is the ``activities_email`` index's, no
    sort), no object built per row.  *half*: only that part of the list
    (:func:`split_key`)."""
    where, params = _where(store, email_id, url_contains)
    where = _in_half(where, params, half)
    yield from _unclosed(store.conn.execute(
        f"{_ACTIVITY_SELECT} WHERE {where} ORDER BY a.at DESC, a.id DESC", params))


def _unclosed(cursor: sqlite3.Cursor) -> Iterator[Any]:
    """*cursor*'s rows, for a generator to ``yield from``: a generator dropped before
    its end would close the cursor itself, which fails once the store is closed (a
    list cut short — ``… | head`` — whose rows are dropped after the command closed
    the store: "Exception ignored … closed database" on the terminal)."""
    return itertools.chain(cursor)


# (minute, contact, address, activity label, value or ""), as a text list shows them
ActivityCells = tuple[int, str, str, str, str]


def iter_email_activity_cells(
    store: Store, email_id: int, *, url_contains: str | None = None, half: Cut | None = None,
) -> Iterator[ActivityCells]:
    """The rows of :func:`iter_email_activity_rows` (same order, one cursor, read as
    consumed) as a text list shows them, shaped by SQLite as it reads: the time cut
    to its minute (the list shows minutes), the activity's label
    (:func:`~journeytui.present.activity_label`), no value as "" — only the text of
    each cell is left to the caller (every cell but the minute is a str).  *half*:
    only that part of the list (:func:`split_key`)."""
    where, params = _where(store, email_id, url_contains)
    where = _in_half(where, params, half)
    yield from _unclosed(store.conn.execute(
        # the minute as Python floors it (SQLite's % keeps the sign of a time before 1970)
        "SELECT a.at - (a.at % 60 + 60) % 60, trim(c.first_name || ' ' || c.last_name), c.email,"
        f" {activity_label_sql('a.kind', 'a.bot', 'a.machine')}, coalesce({VALUE_SQL}, '')"
        " FROM activities a JOIN contacts c ON c.id = a.contact_id"
        f" LEFT JOIN lists l ON l.id = a.list_id WHERE {where}"
        " ORDER BY a.at DESC, a.id DESC", params))


def email_activities_before(
    store: Store,
    email_id: int,
    *,
    before: Key | None,
    limit: int,
    flt: ActivityFilter | None = None,
) -> list[EmailActivity]:
    """The *limit* activities just before keyset *before* in the newest-first order
    (the oldest ones when *before* is None), in that order: the list read backwards."""
    where, params = _where(store, email_id, None, flt)
    if before is not None:
        where += " AND (a.at, a.id) > (?, ?)"
        params.extend(before)
    sql = f"{_ACTIVITY_SELECT} WHERE {where} ORDER BY a.at ASC, a.id ASC LIMIT ?"
    params.append(limit)
    return [_activity(r) for r in store.conn.execute(sql, params)][::-1]


def _activity(r: Any) -> EmailActivity:
    return EmailActivity(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), bool(r[8]))


def count_email_activities(
    store: Store, email_id: int, url_contains: str | None = None,
    flt: ActivityFilter | None = None,
) -> int:
    where, params = _where(store, email_id, url_contains, flt)
    return int(
        store.conn.execute(f"SELECT count(*) FROM activities a WHERE {where}", params).fetchone()[0]
    )


def email_heading(store: Store, email_id: int) -> tuple[str, EmailStats | None] | None:
    """What heads the activity list of email *email_id*: its name and its statistics
    (None for a draft); None when there is no such email."""
    row = store.conn.execute(
        "SELECT name, status FROM emails WHERE id = ?", (email_id,)
    ).fetchone()
    if row is None:
        return None
    name, status = row
    if status == "draft":
        return name, None
    return name, next((s for s in email_stats(store, name) if s.id == email_id), None)


def anonymous_line(stats: EmailStats) -> str:
    """The sentence that explains the gap between the statistics and the activity list."""
    line = (
        f"{stats.clicks_total:,} clicks, {stats.anonymous_clicks:,} of them anonymous "
        "(no tracking consent)"
    )
    if stats.bot_clicks:
        line += f"; {stats.bot_clicks:,} suspected bot clicks counted apart"
    return line
