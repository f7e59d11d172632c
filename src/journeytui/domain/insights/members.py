"""The contacts behind a finding: who they are, paged, and as CSV."""

from __future__ import annotations

import bisect
import csv
import io
from dataclasses import dataclass
from typing import Any

from journeytui.domain.insights.analysis import _analyse, _context, parse_finding_id
from journeytui.domain.insights.limits import DEFAULT_DAYS
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.textsafe import csv_cell, safe_text
from journeytui.timefmt import iso_time


@dataclass(frozen=True)
class FindingContact:
    contact_id: int
    email: str
    first_name: str
    last_name: str
    at: int  # stall: in the stage since; clicks/dormant: the click; unsubscribes: when

    def to_json(self) -> dict[str, Any]:
        return {"contact_id": self.contact_id, "email": self.email,
                "first_name": self.first_name, "last_name": self.last_name,
                "at": iso_time(self.at)}


TIME_LABELS = {"stall": "in stage since", "clicks": "clicked at",
               "unsubscribes": "unsubscribed at", "dormant": "clicked at"}

# The last few member lists computed (finding contacts are paged; recomputing the whole
# analysis for every page would be wasteful).  Keyed by what the answer depends on.
_MEMBERS: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
_MEMBERS_KEEP = 8


def _members(store: Store, name: str, finding_id: str, days: int) -> list[tuple[int, int]]:
    want = parse_finding_id(finding_id)
    ctx = _context(store, name, days)
    conn = store.conn
    key = (str(store.path), ctx.jid, ctx.now, days, finding_id,
           conn.execute("SELECT version FROM journeys WHERE id = ?", (ctx.jid,)).fetchone()[0],
           conn.execute("SELECT max(id) FROM activities").fetchone()[0],
           conn.execute("SELECT max(id) FROM sends").fetchone()[0],
           conn.execute("SELECT count(*) FROM contacts").fetchone()[0])
    hit = _MEMBERS.get(key)
    if hit is not None:
        return hit
    if want.kind == "unsubscribes":
        if conn.execute("SELECT 1 FROM emails WHERE id = ?", (want.email,)).fetchone() is None:
            raise UserError(f"finding '{safe_text(finding_id)}': no such email")
        found = sorted((int(t), int(c)) for c, t in conn.execute(
            "SELECT contact_id, min(at) FROM activities WHERE kind = 'unsubscribe'"
            " AND email_id = ? GROUP BY contact_id", (want.email,)))
    else:
        result = _analyse(store, ctx, want)
        if result.find(finding_id) is None:
            raise UserError(
                f"finding '{safe_text(finding_id)}' is not among the insights of "
                f"'{safe_text(name)}' over {days} days (`journeytui insights "
                f"\"{safe_text(name)}\"` lists them)")
        found = sorted(want.found)
    if len(_MEMBERS) >= _MEMBERS_KEEP:
        _MEMBERS.pop(next(iter(_MEMBERS)))
    _MEMBERS[key] = found
    return found


def count_finding_contacts(store: Store, name: str, finding_id: str, *,
                           days: int = DEFAULT_DAYS) -> int:
    return len(_members(store, name, finding_id, days))


def finding_contacts(
    store: Store, name: str, finding_id: str, *, days: int = DEFAULT_DAYS,
    after: tuple[int, int] | None = None, limit: int | None = 200,
) -> list[FindingContact]:
    """The contacts behind a finding, by (time, contact id); keyset-paged: pass the
    (at, contact_id) of the last row seen as *after*.  *limit* None: all of them."""
    rows = _members(store, name, finding_id, days)
    start = 0 if after is None else bisect.bisect_right(rows, (after[0], after[1]))
    page = rows[start:] if limit is None else rows[start:start + limit]
    people: dict[int, tuple[str, str, str]] = {}
    ids = [c for _t, c in page]
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        people.update((int(r[0]), (r[1], r[2], r[3])) for r in store.conn.execute(
            "SELECT id, email, first_name, last_name FROM contacts WHERE id IN ("
            + ",".join("?" * len(chunk)) + ")", chunk))
    return [FindingContact(c, *people[c], t) for t, c in page if c in people]


def contacts_csv(rows: list[FindingContact], kind: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["email", "first_name", "last_name", TIME_LABELS[kind].replace(" ", "_")])
    for r in rows:
        w.writerow([csv_cell(r.email), csv_cell(r.first_name), csv_cell(r.last_name),
                    iso_time(r.at) or ""])
    return buf.getvalue()


def finding_kind(finding_id: str) -> str:
    return parse_finding_id(finding_id).kind
