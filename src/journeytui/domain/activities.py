"""The contact activities of one email (PRODUCT.md §2).

Only consented contacts have activities, so this list may hold fewer clicks than the
email's statistics; :func:`anonymous_line` says so with the numbers.  Lists are paged
newest first with a keyset ``(at, id)`` so a pane can page through any length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from journeytui.domain.stats import EmailStats
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


def _where(email_id: int, url_contains: str | None) -> tuple[str, list[Any]]:
    sql = "a.email_id = ?"
    params: list[Any] = [email_id]
    if url_contains:
        sql += " AND a.kind = 'click' AND instr(lower(a.value), lower(?)) > 0"
        params.append(url_contains)
    return sql, params


def email_activities(
    store: Store,
    email_id: int,
    *,
    url_contains: str | None = None,
    after: Key | None = None,
    limit: int | None = 200,
) -> list[EmailActivity]:
    """Activities of *email_id*, newest first, starting after keyset *after*."""
    where, params = _where(email_id, url_contains)
    if after is not None:
        where += " AND (a.at, a.id) < (?, ?)"
        params.extend(after)
    sql = (
        "SELECT a.id, a.contact_id, trim(c.first_name || ' ' || c.last_name), c.email,"
        f" a.kind, a.at, {VALUE_SQL}, a.bot, a.machine"
        " FROM activities a JOIN contacts c ON c.id = a.contact_id"
        " LEFT JOIN lists l ON l.id = a.list_id"
        f" WHERE {where} ORDER BY a.at DESC, a.id DESC"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [
        EmailActivity(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), bool(r[8]))
        for r in store.conn.execute(sql, params)
    ]


def count_email_activities(store: Store, email_id: int, url_contains: str | None = None) -> int:
    where, params = _where(email_id, url_contains)
    return int(
        store.conn.execute(f"SELECT count(*) FROM activities a WHERE {where}", params).fetchone()[0]
    )


def anonymous_line(stats: EmailStats) -> str:
    """The sentence that explains the gap between the statistics and the activity list."""
    line = (
        f"{stats.clicks_total:,} clicks, {stats.anonymous_clicks:,} of them anonymous "
        "(no tracking consent)"
    )
    if stats.bot_clicks:
        line += f"; {stats.bot_clicks:,} suspected bot clicks counted apart"
    return line
