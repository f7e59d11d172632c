"""A stage's list, one keyset page at a time (the Journeys pane): how many are in a
stage, one page of them in the list's order, or all of them a page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from journeytui.store import Store
from journeytui.store.evaluation_time import AT_EVALUATION, resolved


@dataclass(frozen=True)
class StageMember:
    """A contact in a stage, as a list shows it."""

    contact_id: int
    name: str
    address: str
    since: int | None


STAGE_SORTS = ("longest", "newest", "name")


def count_in_stage(store: Store, jid: int, stage: str, before: int | None) -> int:
    """How many contacts are in *stage* of journey *jid* (in it since before *before*
    only, when given: the stalled ones)."""
    sql = "SELECT count(*) FROM journey_positions WHERE journey_id = ? AND stage = ?"
    args: list[Any] = [jid, stage]
    if before is not None:
        sql += " AND since < ?"
        args.append(before)
    return int(store.conn.execute(sql, args).fetchone()[0])


def stage_page(
    store: Store, jid: int, stage: str, *, before: int | None, sort: str,
    after: Any | None, limit: int, backwards: bool = False,
) -> list[tuple[Any, StageMember]]:
    """One keyset page of the contacts now in *stage* (stalled only: *before*);
    returns (key, contact) pairs, the key to pass as *after* for the next page.

    *sort*: one of :data:`STAGE_SORTS`.  *backwards*: the *limit* rows just before key
    *after* (the last rows when it is None), in the list's order — so the end of a
    long list is one read.  Ordered by ``since`` and the contact id as they are, so the
    stage index serves every page (no sort of the whole stage).
    """
    conn = store.conn
    # The evaluation time (what a "since" stored as "at the evaluation time" reads as),
    # and whether anyone is in the stage since then.
    row = conn.execute(
        "SELECT evaluated_at, EXISTS (SELECT 1 FROM journey_positions INDEXED BY"
        " journey_positions_stage WHERE journey_id = ? AND stage = ? AND since = ?)"
        " FROM journey_progress WHERE journey_id = ?",
        (jid, stage, AT_EVALUATION, jid)).fetchone()
    now, any_at_now = (int(row[0]), bool(row[1])) if row else (0, False)
    where = "p.journey_id = ? AND p.stage = ?"
    args: list[Any] = [jid, stage]
    if before is not None:
        where += " AND p.since < ?"
        args.append(before)
    select = ("SELECT {key}, p.contact_id, trim(c.first_name || ' ' || c.last_name),"
              " c.email, p.since FROM journey_positions p JOIN contacts c"
              " ON c.id = p.contact_id WHERE {where} ORDER BY {order} LIMIT ?")
    if sort == "name":
        key = "lower(c.first_name || ' ' || c.last_name)"
        direction = "DESC" if backwards else "ASC"
        if after is not None:
            where += f" AND ({key}, p.contact_id) {'>' if direction == 'ASC' else '<'} (?, ?)"
            args.extend(after)
        found = conn.execute(select.format(
            key=key, where=where, order=f"{key} {direction}, p.contact_id {direction}"),
            [*args, limit]).fetchall()
    else:
        ascending = (sort != "newest") != backwards
        direction = "ASC" if ascending else "DESC"
        op = ">" if ascending else "<"
        # Those in it since the evaluation time (stored as such) sort as "now": a read
        # of each kind in the stage index's order, merged.
        timed_where = where + f" AND p.since < {AT_EVALUATION}"
        timed_args = list(args)
        if after is not None:
            timed_where += f" AND (p.since, p.contact_id) {op} (?, ?)"
            timed_args.extend(after)
        found = conn.execute(select.format(
            key="p.since", where=timed_where,
            order=f"p.since {direction}, p.contact_id {direction}"),
            [*timed_args, limit]).fetchall()
        now_where = where + f" AND p.since = {AT_EVALUATION}"
        now_args = list(args)
        wanted = any_at_now
        if after is not None and wanted:
            k, c = after
            if k == now:
                now_where += f" AND p.contact_id {op} ?"
                now_args.append(c)
            else:
                wanted = (now > k) == ascending
        if wanted:
            found.extend((now, *r[1:]) for r in conn.execute(select.format(
                key="p.since", where=now_where, order=f"p.contact_id {direction}"),
                [*now_args, limit]))
            found.sort(key=itemgetter(0, 1), reverse=not ascending)
            del found[limit:]
    rows = [
        ((k, cid), StageMember(cid, name or "", address or "", resolved(since, now)))
        for k, cid, name, address, since in found
    ]
    return rows[::-1] if backwards else rows


def iter_stage_members(
    store: Store, jid: int, stage: str, *, before: int | None, sort: str, page: int = 2000,
) -> Iterator[StageMember]:
    """Every contact in *stage*, in the list's order, a keyset page at a time."""
    after = None
    while True:
        rows = stage_page(store, jid, stage, before=before, sort=sort, after=after,
                          limit=page)
        for _, c in rows:
            yield c
        if len(rows) < page:
            return
        after = rows[-1][0]
