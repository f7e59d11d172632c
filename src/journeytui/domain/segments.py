"""Follow-up segments: named lists a journey stage feeds (journey_model.Segment).

Membership is computed when asked, from the journey's stored positions (stage and
since, as of its evaluation time) and contact activities — never stored apart.  The
positions are what every evaluation and every import's advance keep current, so the
list is always the one a materialised list updated at each of them would hold, and
an incremental import gives the same members as a full evaluation (tests/segments).
A member is a contact

* in the segment's stage as of the journey's evaluation time;
* with ``entered_within_days`` N: that entered it at most N days before then;
* with ``in_stage_days`` N: that has been in it at least N days ("still … after");
* with ``clicked`` U: that clicked a link whose URL contains U (the conditions' URL
  rule; suspected bot clicks never count; clicks exist only for consented contacts).

The same rule, judged at the moment of a check, is the condition ``in_segment``.

Exports: a CSV in the column layout of a contact upload — SendGrid Marketing
Campaigns (``email,first_name,last_name``, its reserved field names) or Mailchimp
(``Email Address,First Name,Last Name``).  Contacts unsubscribed from all lists are
left out of an export (they are still members: the journey says where they are; an
upload to a sending tool would mail them) and counted.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.evaluation_time import resolved_sql
from journeytui.textsafe import csv_cell, safe_text

if TYPE_CHECKING:
    from journeytui.domain.in_stage import Half, StageRead
    from journeytui.domain.journey_model import Journey, Segment

DAY = 86_400

#: the header row of each upload layout
LAYOUTS: dict[str, tuple[str, str, str]] = {
    "sendgrid": ("email", "first_name", "last_name"),
    "mailchimp": ("Email Address", "First Name", "Last Name"),
}


@dataclass(frozen=True)
class SegmentInfo:
    journey: str
    segment: Segment
    members: int | None  # None: the journey has not been evaluated
    evaluated_at: int | None


@dataclass(frozen=True)
class Member:
    contact_id: int
    email: str
    first_name: str
    last_name: str
    since: int | None
    days_in_stage: float | None
    unsubscribed_all: bool


def _journeys(store: Store) -> list[tuple[Journey, int, int | None]]:
    from journeytui.domain.journeys import _from_definition

    out = []
    for name, jid, definition, at in store.conn.execute(
        "SELECT j.name, j.id, j.definition, p.evaluated_at FROM journeys j"
        " LEFT JOIN journey_progress p ON p.journey_id = j.id ORDER BY j.name"
    ):
        out.append((_from_definition(definition, name), int(jid),
                    None if at is None else int(at)))
    return out


def _conditions(store: Store, seg: Segment | StoredSegment, now: int
                ) -> tuple[str, dict[str, object]]:
    """The segment's rule beyond its stage, as SQL conditions on ``p`` (the position)
    with named parameters."""
    sql = ""
    params: dict[str, object] = {}
    if seg.entered_within_days is not None:
        sql += " AND p.since >= :entered_from"
        params["entered_from"] = now - seg.entered_within_days * DAY
    if seg.in_stage_days is not None:
        sql += " AND p.since <= :entered_by"
        params["entered_by"] = now - seg.in_stage_days * DAY
    if seg.clicked is not None:
        from journeytui.domain.conditions import url_matches

        links = [lid for lid, url in store.conn.execute("SELECT id, url FROM links")
                 if url_matches(seg.clicked, url)]
        sql += (" AND EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = p.contact_id"
                " AND a.kind = 'click' AND a.machine = 0 AND a.bot = 0 AND a.link_id IN"
                " (SELECT value FROM json_each(:links)))")
        params["links"] = json.dumps(links)
    return sql, params


def _members_sql(store: Store, jid: int, seg: Segment, now: int,
                 what: str) -> tuple[str, dict[str, object]]:
    more, params = _conditions(store, seg, now)
    sql = (f"SELECT {what} FROM journey_positions p JOIN contacts c ON c.id = p.contact_id"
           " WHERE p.journey_id = :jid AND p.stage = :stage" + more)
    return sql, {"jid": jid, "stage": seg.stage, **params}


def list_segments(store: Store) -> list[SegmentInfo]:
    """Every journey's segments, with how many contacts each holds now."""
    out = []
    for j, jid, at in _journeys(store):
        for seg in j.segments:
            n = None
            if at is not None:
                sql, params = _members_sql(store, jid, seg, at, "count(*)")
                n = int(store.conn.execute(sql, params).fetchone()[0])
            out.append(SegmentInfo(j.name, seg, n, at))
    return out


@dataclass(frozen=True)
class StoredSegment:
    """A segment's rule as its journey's stored definition holds it (written by the
    journey model, so checked already): what reading its members needs."""

    name: str
    stage: str
    entered_within_days: int | None = None
    in_stage_days: int | None = None
    clicked: str | None = None


@dataclass(frozen=True)
class StoredJourney:
    name: str
    segments: list[StoredSegment]


def _stored_journeys(store: Store) -> list[tuple[Any, int, int | None]]:
    """The journeys and their segments as stored, without building their models
    (none of pydantic's start-up for an export); the models' reading when a
    definition does not read as expected (it then says what is wrong)."""
    out: list[tuple[Any, int, int | None]] = []
    for name, jid, definition, at in store.conn.execute(
        "SELECT j.name, j.id, j.definition, p.evaluated_at FROM journeys j"
        " LEFT JOIN journey_progress p ON p.journey_id = j.id ORDER BY j.name"
    ):
        try:
            segs = [StoredSegment(**s) for s in json.loads(definition).get("segments", [])
                    for s in [{k: s[k] for k in s if k != "description"}]]
        except (ValueError, TypeError, AttributeError):
            return _journeys(store)
        if not all(isinstance(x.name, str) and isinstance(x.stage, str) for x in segs):
            return _journeys(store)
        out.append((StoredJourney(name, segs), int(jid), None if at is None else int(at)))
    return out


def find(store: Store, name: str, journey: str | None = None,
         journeys: Callable[[Store], list[tuple[Any, int, int | None]]] | None = None,
         ) -> tuple[Journey, int, int | None, Segment]:
    """The segment called *name* (in *journey*, when given); a clear error when there is
    none, or when two journeys have one of that name and none was given.  (*journeys*:
    how the journeys are read; :func:`_stored_journeys` gives stored segments.)"""
    found = []
    known = []
    read = journeys or _journeys
    for j, jid, at in read(store):
        if journey is not None and j.name != journey:
            continue
        for seg in j.segments:
            known.append(seg.name)
            if seg.name == name:
                found.append((j, jid, at, seg))
    if journey is not None and not any(j.name == journey for j, _, _ in read(store)):
        from journeytui.domain.journeys import JourneyNotFound

        raise JourneyNotFound(journey, store.conn)
    if not found:
        have = (", ".join(f"'{safe_text(k)}'" for k in sorted(set(known))) if known else
                "none (a journey file defines them under \"segments\")")
        raise UserError(f"no segment named '{safe_text(name)}'; segments: {have}")
    if len(found) > 1:
        raise UserError(
            f"segment '{safe_text(name)}' is in several journeys ("
            + ", ".join(f"'{safe_text(f[0].name)}'" for f in found)
            + "); say which with --journey NAME")
    return found[0]


def members(store: Store, name: str, journey: str | None = None) -> tuple[Journey, Segment,
                                                                          int, list[Member]]:
    """The journey, the segment, its time (the evaluation time) and its members (longest
    in the stage first)."""
    j, jid, at, seg = find(store, name, journey)
    if at is None:
        raise UserError(f"journey '{safe_text(j.name)}' has not been evaluated yet; run "
                        f"`journeytui evaluate \"{safe_text(j.name)}\"`")
    # (in the stage since a provisional move: since the evaluation time)
    since_sql = resolved_sql("p.since", str(int(at)))
    sql, params = _members_sql(
        store, jid, seg, at,
        f"c.id, c.email, c.first_name, c.last_name, {since_sql} AS since_at,"
        " c.unsubscribed_all")
    rows = [
        Member(int(cid), email, first, last, since,
               None if since is None else round((at - since) / DAY, 1), bool(unsub))
        for cid, email, first, last, since, unsub in store.conn.execute(
            sql + " ORDER BY since_at, c.id", params)
    ]
    return j, seg, at, rows


def export_read(store: Store, name: str, journey: str | None, layout: str
                ) -> tuple[Segment | StoredSegment, StageRead]:
    """The segment to export in *layout* and the read of its stage (a wrong name,
    layout or a journey not evaluated yet is said here)."""
    from journeytui.domain.in_stage import StageRead

    if layout not in LAYOUTS:
        raise UserError(f"--format {safe_text(layout)}: one of {', '.join(LAYOUTS)}")
    j, jid, at, seg = find(store, name, journey, _stored_journeys)
    if at is None:
        raise UserError(f"journey '{safe_text(j.name)}' has not been evaluated yet; run "
                        f"`journeytui evaluate \"{safe_text(j.name)}\"`")
    return seg, StageRead(jid, seg.stage, at, None)


def export_stream(store: Store, seg: Segment | StoredSegment, read: StageRead, layout: str,
                  half: Half | None = None) -> tuple[Iterator[str], list[int]]:
    """The CSV text of the upload of *seg* (its stage's read: :func:`export_read`)
    in *layout* (read as it is written, a chunk of members at a time, in the order of
    :func:`members`) and [exported, left out: unsubscribed from all lists] — counted
    as the text is consumed.  *half*: the text of that part of the members only (the
    header with the first)."""
    from journeytui.domain.in_stage import (
        chunked,
        csv_guard_sql,
        csv_text,
        in_stage_order,
        plain_lines,
    )

    more, params = _conditions(store, seg, read.now)
    rows = in_stage_order(
        store.conn, lambda _: [csv_guard_sql("c.email"), csv_guard_sql("c.first_name"),
                               csv_guard_sql("c.last_name"), "c.unsubscribed_all"],
        read, False, params, more, half=half)
    counts = [0, 0]

    def text() -> Iterator[str]:
        if half is None or not half.second:
            yield csv_text([LAYOUTS[layout]])
        for part in chunked(rows):
            # those not unsubscribed from all lists, their cells joined as they are
            # (when the writer would write them so), else through the writer
            found = [f"{e},{f},{last}" for e, f, last, unsubscribed in part
                     if not unsubscribed]
            counts[0] += len(found)
            counts[1] += len(part) - len(found)
            plain = plain_lines(found, 2)
            yield plain if plain is not None else csv_text([r[:3] for r in part if not r[3]])

    return text(), counts


def export_lines(rows: list[Member], layout: str) -> tuple[Iterator[str], int, int]:
    """The CSV lines of an upload in *layout*; (lines, exported, left out: unsubscribed
    from all lists)."""
    if layout not in LAYOUTS:
        raise UserError(f"--format {safe_text(layout)}: one of {', '.join(LAYOUTS)}")
    kept = [r for r in rows if not r.unsubscribed_all]

    def lines() -> Iterator[str]:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(LAYOUTS[layout])
        for r in kept:
            w.writerow([csv_cell(r.email), csv_cell(r.first_name), csv_cell(r.last_name)])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        if not kept:
            yield buf.getvalue()

    return lines(), len(kept), len(rows) - len(kept)
