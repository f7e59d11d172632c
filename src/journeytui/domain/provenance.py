"""Provenance: the events behind a figure of an email, or behind a contact's journey
moves, with where each came from.

Every event an import applies leaves a row in ``event_sources`` (see the schema,
version 6): its import batch (a file, standard input, a webhook request), file, line
and array index, and the provider's event id.  The listing is driven by the rows the
figure counts (sends, activities, anonymous events), so an event recorded before
sources were kept, or written by the demo generator, is listed too, with "no source
on record".

Anonymous events (recipients without tracking consent) are listed by source and
provider event id only: never an address or a name.  A send is known for every
recipient, so its rows name the recipient's address; a contact activity names the
consented contact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from journeytui.domain.stats import email_stats, find_email
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.evaluation_time import resolved_sql
from journeytui.timefmt import iso_time

FIGURES = ("sent", "delivered", "bounced", "dropped", "opened", "clicked", "unsubscribed",
           "spam")
FIGURE_TITLES = {
    "sent": "Sent", "delivered": "Delivered", "bounced": "Bounced", "dropped": "Not sent",
    "opened": "Opened", "clicked": "Clicked", "unsubscribed": "Unsubscribed",
    "spam": "Spam reports",
}
DEFAULT_LIMIT = 50
_SRC = "es.batch_id, es.kind, es.file_no, es.line, es.idx, es.event_id"
# An event mapped from another provider keeps both names in event_sources.kind:
# SendGrid's type (what removing a batch reads) and the provider's own, after this.
_OWN = ":"


def source_kind(sendgrid: str, own: str) -> str:
    """event_sources.kind of an event another provider names *own* ("Postmark
    Delivery") and journeytui reads as SendGrid's *sendgrid* ("delivered")."""
    return f"{sendgrid}{_OWN}{own}"


def sendgrid_kind(kind: str) -> str:
    """SendGrid's event type of an event_sources.kind (as it is for a SendGrid event)."""
    return kind.partition(_OWN)[0]


def shown_kind(kind: str) -> str:
    """The event type explain shows: the provider's own (SendGrid's for SendGrid)."""
    own = kind.partition(_OWN)[2]
    return own or kind


@dataclass(frozen=True)
class Source:
    """Where one provider event came from."""

    batch_id: int
    batch_kind: str  # file | stdin | webhook | demo
    batch_label: str
    file: str | None
    line: int | None
    index: int | None
    event_id: str | None  # the provider's id (SendGrid sg_event_id), None if it had none

    @property
    def where(self) -> str:
        """``events.json:12 [index 3]``, ``webhook request-2 line 1``, ``<stdin>:4``."""
        if self.line is None:
            return f"{self.batch_label} (batch {self.batch_id}; no line kept)"
        at = f"line {self.line}" + (f" [index {self.index}]" if self.index is not None else "")
        if self.batch_kind == "webhook":
            return f"{self.batch_label} (batch {self.batch_id}), {at}"
        name = self.file or self.batch_label
        return f"{name}:{self.line}" + (f" [index {self.index}]" if self.index is not None
                                         else "") + f" (batch {self.batch_id})"

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id, "batch_kind": self.batch_kind, "batch_label": self.batch_label,
            "file": self.file, "line": self.line, "index": self.index,
            "provider_event_id": self.event_id,
        }


@dataclass(frozen=True)
class EvidenceRow:
    """One event behind a figure: its time and type, whose (None: anonymous), where."""

    at: int
    event: str  # the provider's event type (processed, open, click …) or the row's kind
    who: str | None
    detail: str  # the link of a click, the outcome of a send …
    source: Source | None

    @property
    def where(self) -> str:
        if self.source is None:
            return "no source on record (demo data, or imported before v6)"
        return self.source.where

    def to_json(self) -> dict[str, Any]:
        return {
            "time": iso_time(self.at), "event": self.event,
            "contact": self.who, "anonymous": self.who is None and self.event != "send",
            "detail": self.detail or None, "where": self.where,
            "source": None if self.source is None else self.source.to_json(),
        }


@dataclass
class FigureExplanation:
    email: str
    figure: str
    value: int  # the figure as the statistics show it
    link: str | None
    total: int  # events behind it (all of them)
    rows: list[EvidenceRow] = field(default_factory=list)  # the first *limit*, oldest first
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email, "figure": self.figure, "value": self.value,
            "link": self.link, "events_total": self.total, "events_listed": len(self.rows),
            "note": self.note or None, "events": [r.to_json() for r in self.rows],
        }


class _Batches:
    def __init__(self, store: Store) -> None:
        self.rows = {
            r[0]: (r[1], r[2], json.loads(r[3] or "[]"))
            for r in store.conn.execute("SELECT id, kind, label, files FROM import_batches")
        }

    def source(self, batch: int | None, file_no: int | None, line: int | None,
               idx: int | None, event_id: str | None) -> Source | None:
        if batch is None:
            return None
        kind, label, files = self.rows.get(batch, ("file", f"batch {batch}", []))
        name = files[file_no] if file_no is not None and 0 <= file_no < len(files) else None
        eid = event_id.split("\x1f", 1)[0] if event_id and "\x1f" in event_id else None
        return Source(batch, kind, label, name, line, idx, eid)


def _figure_query(figure: str, link: str | None) -> tuple[str, str]:
    """(count SQL, rows SQL) over ``?`` = email id (then the link text if any)."""
    send = (
        "SELECT coalesce(es.at, s.at) AS at, coalesce(es.kind, 'send') AS ev, c.email AS who, s.status AS detail,"
        f" {_SRC} FROM sends s LEFT JOIN contacts c ON c.id = s.contact_id"
        " LEFT JOIN event_sources es ON es.target = 's' AND es.row_id = s.id"
        " WHERE s.email_id = ? AND {cond}"
    )
    if figure in ("sent", "delivered", "bounced", "dropped"):
        cond = {
            "sent": "s.status != 'dropped'", "delivered": "s.status = 'delivered'",
            "bounced": "s.status IN ('bounced_hard', 'bounced_soft')",
            "dropped": "s.status = 'dropped'",
        }[figure]
        sql = send.format(cond=cond)
        return f"SELECT count(*) FROM ({sql})", sql
    if figure in ("opened", "clicked"):
        kind = "open" if figure == "opened" else "click"
        flag = "machine" if kind == "open" else "bot"
        link_cond = ""
        if link is not None:
            link_cond = (" AND {t}.link_id IN (SELECT id FROM links WHERE email_id = ?"
                         " AND instr(lower(url), lower(?)) > 0)")
        sql = (
            f"SELECT a.at AS at, coalesce(es.kind, a.kind) AS ev, c.email AS who,"
            f" coalesce(l.url, '') AS detail, {_SRC} FROM activities a"
            " JOIN contacts c ON c.id = a.contact_id LEFT JOIN links l ON l.id = a.link_id"
            " LEFT JOIN event_sources es ON es.target = 'a' AND es.row_id = a.id"
            f" WHERE a.email_id = ? AND a.kind = '{kind}' AND a.{flag} = 0"
            + link_cond.format(t="a")
            + " UNION ALL "
            f"SELECT n.at, coalesce(es.kind, n.kind), NULL, coalesce(l.url, ''), {_SRC}"
            " FROM anonymous_events n LEFT JOIN links l ON l.id = n.link_id"
            " LEFT JOIN event_sources es ON es.target = 'n' AND es.row_id = n.id"
            f" WHERE n.email_id = ? AND n.kind = '{kind}' AND n.{flag} = 0"
            + link_cond.format(t="n")
        )
        return f"SELECT count(*) FROM ({sql})", sql
    kind, target = ("unsubscribe", "u") if figure == "unsubscribed" else ("spam", "p")
    sql = (
        f"SELECT a.at AS at, coalesce(es.kind, a.kind) AS ev, c.email AS who, '' AS detail,"
        f" {_SRC} FROM activities a JOIN contacts c ON c.id = a.contact_id"
        " LEFT JOIN event_sources es ON es.target = 'a' AND es.row_id = a.id"
        f" WHERE a.email_id = ? AND a.kind = '{kind}'"
        " UNION ALL "
        f"SELECT es.at, es.kind, NULL, '', {_SRC} FROM event_sources es"
        f" WHERE es.row_id IS NULL AND es.email_id = ? AND es.target = '{target}'"
    )
    return f"SELECT count(*) FROM ({sql})", sql


def explain_figure(
    store: Store, email_name: str, figure: str, *, link: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> FigureExplanation:
    """The events behind *figure* of the email *email_name* (oldest first)."""
    figure = figure.strip().lower()
    if figure == "spam_reports":
        figure = "spam"
    if figure not in FIGURES:
        raise UserError(f"unknown figure {figure!r}; choose one of: {', '.join(FIGURES)}")
    if link is not None and figure != "clicked":
        raise UserError("--link goes with --figure clicked (the clicks on one link)")
    email_id, name, status = find_email(store, email_name)
    if status == "draft":
        raise UserError(f"{name!r} is a draft: drafts have no statistics")
    stats = email_stats(store, name)[0]
    value = {
        "sent": stats.sent, "delivered": stats.delivered, "bounced": stats.bounced,
        "dropped": stats.dropped, "opened": stats.opened, "clicked": stats.clicked,
        "unsubscribed": stats.unsubscribed, "spam": stats.spam_reports,
    }[figure]
    note = ""
    if link is not None:
        found = [lk for lk in stats.links if link.lower() in lk.url.lower()]
        if not found:
            raise UserError(f"no link of {name!r} contains {link!r}")
        value = sum(lk.clicked for lk in found)
    count_sql, rows_sql = _figure_query(figure, link)
    per_part = [email_id] if link is None else [email_id, email_id, link]
    parts = 1 if figure in ("sent", "delivered", "bounced", "dropped") else 2
    params = per_part * parts
    total = int(store.conn.execute(count_sql, params).fetchone()[0])
    sql = rows_sql + " ORDER BY 1, 5, 8, 2"  # time, batch, line
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    batches = _Batches(store)
    rows = [
        EvidenceRow(r[0], shown_kind(r[1]), r[2], _detail(figure, r[3]),
                    batches.source(r[4], r[6], r[7], r[8], r[9]))
        for r in store.conn.execute(sql, params)
    ]
    if figure in ("opened", "clicked"):
        note = (f"{FIGURE_TITLES[figure]} counts unique recipients; every "
                f"{'open' if figure == 'opened' else 'click'} event is listed "
                f"({'machine opens' if figure == 'opened' else 'suspected bot clicks'} left out)")
    elif figure in ("sent", "delivered", "bounced", "dropped"):
        note = "a send is a message: every provider event about it is listed"
    else:
        note = f"{FIGURE_TITLES[figure]} counts unique recipients; every event is listed"
    return FigureExplanation(name, figure, value, link, total, rows, note)


def _detail(figure: str, value: str) -> str:
    if figure in ("sent", "delivered", "bounced", "dropped"):
        return {"bounced_hard": "bounced (hard)", "bounced_soft": "bounced (soft)"}.get(
            value, value)
    return value


# -- journey moves ------------------------------------------------------------------------
@dataclass(frozen=True)
class MoveExplanation:
    journey: str
    from_stage: str | None
    to_stage: str
    at: int
    provisional: bool
    trigger: str  # what moved the contact, in words
    sources: tuple[EvidenceRow, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "journey": self.journey, "from": self.from_stage, "to": self.to_stage,
            "time": iso_time(self.at), "provisional": self.provisional,
            "trigger": self.trigger, "events": [s.to_json() for s in self.sources],
        }


@dataclass
class MovesExplanation:
    contact: str
    journey: str
    moves: list[MoveExplanation] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"contact": self.contact, "journey": self.journey,
                "moves": [m.to_json() for m in self.moves]}


def explain_moves(store: Store, address: str, journey: str) -> MovesExplanation:
    """Every move of the contact in *journey*, oldest first, with the event behind it."""
    c = store.conn
    row = c.execute("SELECT id, email FROM contacts WHERE email = ?",
                    (address.strip().lower(),)).fetchone()
    if row is None:
        raise UserError(f"no contact with address {address!r} in {store.path}")
    contact_id, addr = int(row[0]), str(row[1])
    jrow = c.execute("SELECT id, name FROM journeys WHERE name = ?", (journey,)).fetchone()
    if jrow is None:
        names = [r[0] for r in c.execute("SELECT name FROM journeys ORDER BY name")]
        raise UserError(f"no journey named {journey!r}; journeys: {', '.join(names) or 'none'}")
    batches = _Batches(store)
    out = MovesExplanation(addr, str(jrow[1]))
    at_sql = resolved_sql("m.at", "g.evaluated_at")  # provisional: at the evaluation time
    for src, dst, at, prov, activity_id, send_id, email in c.execute(
        f"SELECT m.from_stage, m.to_stage, {at_sql} AS t, m.provisional, m.activity_id,"
        " m.send_id, e.name FROM journey_moves m LEFT JOIN emails e ON e.id = m.email_id"
        " LEFT JOIN journey_progress g ON g.journey_id = m.journey_id"
        " WHERE m.journey_id = ? AND m.contact_id = ? ORDER BY t, m.provisional, m.id",
        (jrow[0], contact_id),
    ):
        rows: list[EvidenceRow] = []
        if activity_id is not None:
            for r in c.execute(
                f"SELECT a.at, coalesce(es.kind, a.kind), coalesce(a.value, ''), {_SRC}"
                " FROM activities a LEFT JOIN event_sources es ON es.target = 'a'"
                " AND es.row_id = a.id WHERE a.id = ?", (activity_id,)
            ):
                rows.append(EvidenceRow(r[0], shown_kind(r[1]), addr, r[2],
                                        batches.source(r[3], r[5], r[6], r[7], r[8])))
            trigger = f"{rows[0].event if rows else 'an activity'}" + (
                f" of {email}" if email else "")
        elif send_id is not None:
            for r in c.execute(
                f"SELECT s.at, coalesce(es.kind, 'send'), s.status, {_SRC} FROM sends s"
                " LEFT JOIN event_sources es ON es.target = 's' AND es.row_id = s.id"
                " WHERE s.id = ? ORDER BY 1", (send_id,)
            ):
                rows.append(EvidenceRow(r[0], shown_kind(r[1]), addr, _detail("sent", r[2]),
                                        batches.source(r[3], r[5], r[6], r[7], r[8])))
            trigger = "the inactivity check at a send" + (f" of {email}" if email else "")
        else:
            for r in c.execute(
                f"SELECT s.at, s.kind, coalesce(l.name, ''), {_SRC} FROM subscription_changes s"
                " LEFT JOIN lists l ON l.id = s.list_id"
                " LEFT JOIN event_sources es ON es.target = 'c' AND es.row_id = s.id"
                " WHERE s.contact_id = ? AND s.at = ? ORDER BY s.id", (contact_id, at)
            ):
                rows.append(EvidenceRow(r[0], shown_kind(r[1]), addr, r[2],
                                        batches.source(r[3], r[5], r[6], r[7], r[8])))
            trigger = (f"a subscription change ({rows[0].event})" if rows
                       else "the check at evaluation time (inactivity, no event)")
        out.moves.append(MoveExplanation(str(jrow[1]), src, dst, at, bool(prov), trigger,
                                         tuple(rows)))
    return out
