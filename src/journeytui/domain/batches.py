"""Import batches: list them, and remove the events of one.

Removing a batch undoes what its events wrote, from its ``event_sources`` rows, in
one transaction:

* its contact activities and anonymous events go, and come off the counters per
  recipient token (``recipient_engagement``, ``link_recipients``) and per email and
  link (``email_stats``, ``link_stats``) the way :mod:`journeytui.store.recorder`
  put them on: a unique figure drops only when the recipient has no such event left;
* an unsubscribe or spam report through an email stops counting when no other batch
  (and no remaining activity) says the same of that recipient;
* a send whose events all came from the batch goes; a send shared with other batches
  gets its proofs, status, time and delivery time back from their events;
* its subscription changes go and the contacts' subscription state is re-read from
  the changes that remain (what only the batch said is undone);
* a contact the batch alone knew of (no name, consent, send, activity, subscription
  or change left) goes;
* its event ids are forgotten (so the file can be imported again, e.g. corrected);
* every journey is re-evaluated.

A full recount would not be right: a forgotten contact's activities are gone while
their anonymous counts stay, so counters are only ever taken down by what the batch
itself put on.  What the store cannot know stays as recorded: the bot flag of a
remaining click measured against a removed one, and events the batch parked
(waiting for a message an import names).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from journeytui.domain.provenance import sendgrid_kind
from journeytui.errors import UserError
from journeytui.store.db import Store
from journeytui.store.recorder import DROPPED, INFERRED, PROOF_OF, recipient_token

_COUNTED_IN: dict[str, tuple[str, ...]] = {
    "delivered": ("sent",),
    "bounced_soft": ("sent", "bounced_soft"),
    "bounced_hard": ("sent", "bounced_hard"),
    "dropped": ("dropped",),
}
_FIGURES = ("sent", "bounced_hard", "bounced_soft", "dropped", "opened", "opens_total",
            "machine_opens", "clicked", "clicks_total", "bot_clicks", "unsubscribed",
            "spam_reports")


@dataclass(frozen=True)
class BatchInfo:
    id: int
    started_at: int
    kind: str
    label: str
    files: list[str]
    events: int
    #: event_sources rows (the rows the batch wrote or changed)
    sources: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "started_at": self.started_at, "kind": self.kind,
                "label": self.label, "files": self.files, "events": self.events,
                "sources": self.sources}


@dataclass
class Removal:
    batch: BatchInfo
    dry_run: bool
    activities: int = 0
    anonymous: int = 0
    sends_deleted: int = 0
    sends_changed: int = 0
    subscription_changes: int = 0
    #: contacts deleted: the batch alone knew of them (no name, consent, send, activity,
    #: subscription or change left)
    contacts: int = 0
    #: email name -> {figure: [before, after]} for every figure that changed
    figures: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    #: "journey / stage" -> [before, after] contacts
    stages: dict[str, list[int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"batch": self.batch.to_json(), "dry_run": self.dry_run,
                "removed": {"activities": self.activities, "anonymous_events": self.anonymous,
                            "sends": self.sends_deleted,
                            "subscription_changes": self.subscription_changes,
                            "contacts": self.contacts},
                "sends_changed": self.sends_changed, "figures": self.figures,
                "journey_stages": self.stages}


class _DryRun(Exception):
    pass


def list_batches(store: Store) -> list[BatchInfo]:
    c = store.conn
    counts = dict(c.execute(
        "SELECT batch_id, count(*) FROM event_sources GROUP BY batch_id").fetchall())
    return [_info(row, counts.get(row[0], 0)) for row in c.execute(
        "SELECT id, started_at, kind, label, files, events FROM import_batches ORDER BY id")]


def _info(row: tuple[Any, ...], sources: int) -> BatchInfo:
    try:
        files = [str(f) for f in json.loads(row[4] or "[]")]
    except (ValueError, TypeError):
        files = []
    return BatchInfo(int(row[0]), int(row[1]), str(row[2]), str(row[3]), files,
                     int(row[5]), sources)


def get_batch(store: Store, batch_id: int) -> BatchInfo:
    c = store.conn
    row = c.execute("SELECT id, started_at, kind, label, files, events FROM import_batches"
                    " WHERE id = ?", (batch_id,)).fetchone()
    if row is None:
        known = [str(r[0]) for r in c.execute("SELECT id FROM import_batches ORDER BY id")]
        hint = (f"known batches: {', '.join(known[-10:])}" if known
                else "the store has no import batches")
        raise UserError(f"no import batch {batch_id}; {hint} (journeytui batches list)")
    n = c.execute("SELECT count(*) FROM event_sources WHERE batch_id = ?",
                  (batch_id,)).fetchone()[0]
    return _info(row, n)


def _chunks(ids: Iterable[int], size: int = 500) -> Iterator[list[int]]:
    items = sorted(set(ids))
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _rows(c: sqlite3.Connection, sql: str, ids: Iterable[int]) -> list[tuple[Any, ...]]:
    """*sql* with ``{ids}`` standing for a list of placeholders, run per chunk."""
    out: list[tuple[Any, ...]] = []
    for chunk in _chunks(ids):
        out.extend(c.execute(sql.format(ids=", ".join("?" * len(chunk))), chunk))
    return out


def _figures(c: sqlite3.Connection) -> dict[str, dict[str, int]]:
    return {
        row[0]: dict(zip(_FIGURES, row[1:], strict=True))
        for row in c.execute(
            "SELECT e.name, " + ", ".join(f"s.{f}" for f in _FIGURES)
            + " FROM emails e JOIN email_stats s ON s.email_id = e.id")
    }


def _stages(c: sqlite3.Connection) -> dict[str, int]:
    return {f"{j} / {s}": n for j, s, n in c.execute(
        "SELECT j.name, p.stage, count(*) FROM journey_positions p"
        " JOIN journeys j ON j.id = p.journey_id WHERE p.stage IS NOT NULL"
        " GROUP BY j.name, p.stage")}


def remove_batch(
    store: Store, batch_id: int, *, dry_run: bool = False, now: int | None = None
) -> Removal:
    """Remove the events of import batch *batch_id* (see the module docstring); with
    *dry_run* everything is computed and rolled back (the store is left as it was)."""
    batch = get_batch(store, batch_id)
    if batch.kind == "demo":
        raise UserError(f"batch {batch_id} is the demo generator's: its events have no "
                        "sources to remove by; regenerate the demo store instead")
    out = Removal(batch, dry_run)
    try:
        with store.transaction() as c:
            figures_before, stages_before = _figures(c), _stages(c)
            _remove(store, c, batch_id, out)
            from journeytui.domain.engine import evaluate_all

            evaluate_all(store, now=now)
            after, stages_after = _figures(c), _stages(c)
            for name, figs in after.items():
                old = figures_before.get(name, {})
                changed = {k: [old.get(k, 0), v] for k, v in figs.items() if old.get(k, 0) != v}
                if changed:
                    out.figures[name] = changed
            for key in sorted(set(stages_before) | set(stages_after)):
                a, b = stages_before.get(key, 0), stages_after.get(key, 0)
                if a != b:
                    out.stages[key] = [a, b]
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return out


def _remove(store: Store, c: sqlite3.Connection, bid: int, out: Removal) -> None:
    key = store.token_key
    src = c.execute(
        "SELECT target, row_id, email_id, kind, at, event_id, token FROM event_sources"
        " WHERE batch_id = ?", (bid,)).fetchall()
    acts = {r[1] for r in src if r[0] == "a" and r[1] is not None}
    anon = {r[1] for r in src if r[0] == "n" and r[1] is not None}
    sends = {r[1] for r in src if r[0] == "s" and r[1] is not None}
    changes = {r[1] for r in src if r[0] == "c" and r[1] is not None}
    # (email, token) -> [opens, machine opens, clicks, bot clicks]
    eng: dict[tuple[int, str], list[int]] = {}
    anon_opens: dict[int, int] = {}
    anon_clicks: dict[int, int] = {}
    link_clicks: dict[tuple[int, str], int] = {}
    link_bots: dict[int, int] = {}
    who: dict[tuple[int, str], set[int]] = {}  # (email, token) -> contacts with consent
    said: dict[str, set[tuple[int, str]]] = {"u": set(), "p": set()}

    def engagement(kind: str, email: int | None, link: int | None, machine: int, bot: int,
                   token: str, anonymous: bool) -> None:
        if email is None:
            return
        e = eng.setdefault((email, token), [0, 0, 0, 0])
        if kind == "open":
            e[1 if machine else 0] += 1
            if anonymous and not machine:
                anon_opens[email] = anon_opens.get(email, 0) + 1
        elif kind == "click":
            e[3 if bot else 2] += 1
            if anonymous and not bot:
                anon_clicks[email] = anon_clicks.get(email, 0) + 1
            if link is not None:
                if bot:
                    link_bots[link] = link_bots.get(link, 0) + 1
                else:
                    link_clicks[(link, token)] = link_clicks.get((link, token), 0) + 1

    for _id, kind, email, link, machine, bot, contact, address in _rows(
        c, "SELECT a.id, a.kind, a.email_id, a.link_id, a.machine, a.bot, a.contact_id,"
        " k.email FROM activities a JOIN contacts k ON k.id = a.contact_id"
        " WHERE a.id IN ({ids})", acts,
    ):
        if email is None:
            continue
        token = recipient_token(key, email, address)
        who.setdefault((email, token), set()).add(contact)
        if kind in ("open", "click"):
            engagement(kind, email, link, machine, bot, token, False)
        elif kind == "unsubscribe":
            said["u"].add((email, token))
        elif kind == "spam":
            said["p"].add((email, token))
    for _id, kind, email, link, machine, bot, token in _rows(
        c, "SELECT id, kind, email_id, link_id, machine, bot, token FROM anonymous_events"
        " WHERE id IN ({ids})", anon,
    ):
        engagement(kind, email, link, machine, bot, token, True)
    for target, _row, email, _kind, _at, _eid, token in src:
        if target in ("u", "p") and email is not None and token is not None:
            said[target].add((email, token))

    out.activities = sum(n for (n,) in _rows(
        c, "SELECT count(*) FROM activities WHERE id IN ({ids})", acts))
    out.anonymous = sum(n for (n,) in _rows(
        c, "SELECT count(*) FROM anonymous_events WHERE id IN ({ids})", anon))
    for chunk in _chunks(acts):
        c.execute(f"DELETE FROM activities WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
    for chunk in _chunks(anon):
        c.execute(f"DELETE FROM anonymous_events WHERE id IN ({', '.join('?' * len(chunk))})",
                  chunk)

    # -- opens and clicks off the counters ------------------------------------------
    for (email, token), (d_open, d_machine, d_click, d_bot) in sorted(eng.items()):
        row = c.execute(
            "SELECT opens, machine_opens, clicks, bot_clicks FROM recipient_engagement"
            " WHERE email_id = ? AND token = ?", (email, token)).fetchone()
        if row is None:
            continue
        opens, machine, clicks, bots = row
        n_open, n_click = max(0, opens - d_open), max(0, clicks - d_click)
        n_machine, n_bot = max(0, machine - d_machine), max(0, bots - d_bot)
        last = _last_click(c, email, token, who.get((email, token), set()))
        c.execute(
            "UPDATE recipient_engagement SET opens = ?, machine_opens = ?, clicks = ?,"
            " bot_clicks = ?, last_click_at = ? WHERE email_id = ? AND token = ?",
            (n_open, n_machine, n_click, n_bot, last, email, token))
        c.execute(
            "UPDATE email_stats SET opens_total = opens_total - ?, opened = opened - ?,"
            " machine_opens = machine_opens - ?, clicks_total = clicks_total - ?,"
            " clicked = clicked - ?, bot_clicks = bot_clicks - ?,"
            " anonymous_opens = anonymous_opens - ?, anonymous_clicks = anonymous_clicks - ?"
            " WHERE email_id = ?",
            (opens - n_open, int(opens > 0 and n_open == 0), machine - n_machine,
             clicks - n_click, int(clicks > 0 and n_click == 0), bots - n_bot,
             anon_opens.pop(email, 0), anon_clicks.pop(email, 0), email))
    for (link, token), d in sorted(link_clicks.items()):
        row = c.execute("SELECT clicks FROM link_recipients WHERE link_id = ? AND token = ?",
                        (link, token)).fetchone()
        if row is None:
            continue
        left = max(0, row[0] - d)
        c.execute("UPDATE link_recipients SET clicks = ? WHERE link_id = ? AND token = ?",
                  (left, link, token))
        c.execute("UPDATE link_stats SET clicks_total = clicks_total - ?, clicked = clicked - ?"
                  " WHERE link_id = ?", (row[0] - left, int(row[0] > 0 and left == 0), link))
    for link, d in sorted(link_bots.items()):
        c.execute("UPDATE link_stats SET bot_clicks = max(0, bot_clicks - ?) WHERE link_id = ?",
                  (d, link))

    # -- unsubscribes and spam reports through an email -----------------------------
    for mark, column, stat, kind in (("u", "unsubscribed", "unsubscribed", "unsubscribe"),
                                     ("p", "spam", "spam_reports", "spam")):
        for email, token in sorted(said[mark]):
            if _still_said(c, bid, mark, kind, email, token, who.get((email, token), set())):
                continue
            if c.execute(
                f"UPDATE recipient_engagement SET {column} = 0"
                f" WHERE email_id = ? AND token = ? AND {column} = 1", (email, token)
            ).rowcount:
                c.execute(f"UPDATE email_stats SET {stat} = {stat} - 1 WHERE email_id = ?",
                          (email,))

    # -- sends ------------------------------------------------------------------------
    gone_messages: set[str] = set()
    touched_contacts = {c for group in who.values() for c in group}
    for send_id in sorted(sends):
        row = c.execute("SELECT email_id, status, message_id, contact_id FROM sends"
                        " WHERE id = ?", (send_id,)).fetchone()
        if row is None:
            continue
        email, status, message, contact = row
        if contact is not None:
            touched_contacts.add(contact)
        others = c.execute(
            "SELECT kind, at FROM event_sources WHERE target = 's' AND row_id = ?"
            " AND batch_id != ?", (send_id, bid)).fetchall()
        if not others:
            c.execute("DELETE FROM sends WHERE id = ?", (send_id,))
            _count(c, email, status, -1)
            out.sends_deleted += 1
            if message is not None:
                gone_messages.add(message)
            continue
        proofs = 0
        for kind, _ in others:
            proofs |= PROOF_OF.get(sendgrid_kind(kind), 0)
        if not proofs:
            proofs = INFERRED
        if proofs & DROPPED:
            new = "dropped"
        elif proofs & PROOF_OF["bounce"]:
            new = status if status.startswith("bounced") else "bounced_hard"
        else:
            new = "delivered"
        at = min(a for _, a in others)
        delivered = [a for k, a in others if k == "delivered"]
        sets = "status = ?, at = ?, delivered_at = ?, proofs = ?"
        if new != status:  # the reason on record was the removed outcome's
            sets += ", reason = NULL, bounce_class = NULL, smtp_status = NULL"
        c.execute(f"UPDATE sends SET {sets} WHERE id = ?",
                  (new, at, min(delivered) if delivered else None, proofs, send_id))
        if new != status:
            _count(c, email, status, -1)
            _count(c, email, new, 1)
        out.sends_changed += 1
    for message in sorted(gone_messages):
        c.execute("DELETE FROM messages WHERE message_id = ? AND NOT EXISTS"
                  " (SELECT 1 FROM sends WHERE message_id = ?) AND NOT EXISTS"
                  " (SELECT 1 FROM parked_events WHERE message_id = ?)",
                  (message, message, message))

    # -- subscription changes -----------------------------------------------------------
    removed = _rows(c, "SELECT id, contact_id, kind, list_id, at FROM subscription_changes"
                       " WHERE id IN ({ids})", changes)
    out.subscription_changes = len(removed)
    for chunk in _chunks(changes):
        c.execute(f"DELETE FROM subscription_changes WHERE id IN"
                  f" ({', '.join('?' * len(chunk))})", chunk)
    for contact in sorted({r[1] for r in removed}):
        _reread_subscriptions(c, contact, [r for r in removed if r[1] == contact])

    # -- contacts the batch alone knew of (nothing of theirs left) ------------------
    touched_contacts.update(r[1] for r in removed)
    for chunk in _chunks(touched_contacts):
        out.contacts += c.execute(
            "DELETE FROM contacts WHERE id IN ({ids}) AND consent = 0 AND first_name = ''"
            " AND last_name = '' AND unsubscribed_all = 0 AND spam_reported_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.contact_id = contacts.id)"
            " AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = contacts.id)"
            " AND NOT EXISTS (SELECT 1 FROM subscriptions u WHERE u.contact_id = contacts.id)"
            " AND NOT EXISTS (SELECT 1 FROM subscription_changes x"
            "                 WHERE x.contact_id = contacts.id)"
            " AND NOT EXISTS (SELECT 1 FROM parked_events p WHERE p.contact_id = contacts.id)"
            .format(ids=", ".join("?" * len(chunk))), chunk).rowcount

    # -- the batch itself ---------------------------------------------------------------
    event_ids = sorted({r[5] for r in src if r[5] is not None})
    for i in range(0, len(event_ids), 500):
        chunk = event_ids[i:i + 500]
        c.execute(f"DELETE FROM seen_events WHERE event_id IN ({', '.join('?' * len(chunk))})",
                  chunk)
    c.execute("DELETE FROM recipient_engagement WHERE opens = 0 AND machine_opens = 0"
              " AND clicks = 0 AND bot_clicks = 0 AND unsubscribed = 0 AND spam = 0")
    c.execute("DELETE FROM link_recipients WHERE clicks = 0")
    c.execute("DELETE FROM event_sources WHERE batch_id = ?", (bid,))
    c.execute("DELETE FROM import_batches WHERE id = ?", (bid,))


def _count(c: sqlite3.Connection, email: int, status: str, sign: int) -> None:
    for column in _COUNTED_IN[status]:
        c.execute(f"UPDATE email_stats SET {column} = {column} + ? WHERE email_id = ?",
                  (sign, email))


def _last_click(c: sqlite3.Connection, email: int, token: str, contacts: set[int]) -> int | None:
    """The time of the recipient's latest click left on *email* (bot bursts measure
    from it)."""
    best = c.execute("SELECT max(at) FROM anonymous_events WHERE email_id = ? AND token = ?"
                     " AND kind = 'click'", (email, token)).fetchone()[0]
    for contact in contacts:
        at = c.execute("SELECT max(at) FROM activities WHERE contact_id = ? AND email_id = ?"
                       " AND kind = 'click'", (contact, email)).fetchone()[0]
        if at is not None and (best is None or at > best):
            best = at
    return int(best) if best is not None else None


def _still_said(c: sqlite3.Connection, bid: int, mark: str, kind: str, email: int, token: str,
                contacts: set[int]) -> bool:
    """Whether another batch (or a remaining activity) says the recipient unsubscribed
    (*mark* 'u') or reported spam ('p') through *email*."""
    if c.execute("SELECT EXISTS (SELECT 1 FROM event_sources WHERE target = ? AND"
                 " email_id = ? AND token = ? AND batch_id != ?)",
                 (mark, email, token, bid)).fetchone()[0]:
        return True
    return any(c.execute(
        "SELECT EXISTS (SELECT 1 FROM activities WHERE contact_id = ? AND email_id = ?"
        " AND kind = ?)", (contact, email, kind)).fetchone()[0] for contact in contacts)


def _reread_subscriptions(c: sqlite3.Connection, contact: int,
                          removed: list[tuple[Any, ...]]) -> None:
    """Undo what the removed subscription changes set on *contact*: what remaining
    changes say is set again; what only the removed ones said goes."""
    gone_at: dict[tuple[str, int | None], set[int]] = {}
    for r in removed:
        gone_at.setdefault((r[2], r[3]), set()).add(r[4])
    for kind, column in (("unsubscribe", "unsubscribed_all"), ("spam", None)):
        if (kind, None) not in gone_at:
            continue
        first = c.execute(
            "SELECT min(at) FROM subscription_changes WHERE contact_id = ? AND kind = ?"
            " AND list_id IS NULL", (contact, kind)).fetchone()[0]
        if column is not None:
            if first is not None:
                c.execute("UPDATE contacts SET unsubscribed_all = 1, unsubscribed_all_at = ?"
                          " WHERE id = ?", (first, contact))
            else:
                for at in gone_at[(kind, None)]:
                    c.execute("UPDATE contacts SET unsubscribed_all = 0,"
                              " unsubscribed_all_at = NULL WHERE id = ?"
                              " AND unsubscribed_all_at = ?", (contact, at))
        elif first is not None:
            c.execute("UPDATE contacts SET spam_reported_at = ? WHERE id = ?", (first, contact))
        else:
            for at in gone_at[(kind, None)]:
                c.execute("UPDATE contacts SET spam_reported_at = NULL WHERE id = ?"
                          " AND spam_reported_at = ?", (contact, at))
    for list_id in sorted({r[3] for r in removed if r[3] is not None}):
        latest = c.execute(
            "SELECT kind, at FROM subscription_changes WHERE contact_id = ? AND list_id = ?"
            " AND kind IN ('unsubscribe', 'resubscribe') ORDER BY at DESC, id DESC LIMIT 1",
            (contact, list_id)).fetchone()
        if latest is not None:
            c.execute("UPDATE subscriptions SET status = ?, changed_at = ?"
                      " WHERE contact_id = ? AND list_id = ?",
                      ("unsubscribed" if latest[0] == "unsubscribe" else "subscribed",
                       latest[1], contact, list_id))
            continue
        # only the batch changed it: the row it wrote goes back to what it was before,
        # which the store does not know; an unsubscribe leaves the contact subscribed
        # (the list was theirs), a resubscribe's row is left as it is
        ats = gone_at.get(("unsubscribe", list_id), set())
        for at in ats:
            c.execute("UPDATE subscriptions SET status = 'subscribed' WHERE contact_id = ?"
                      " AND list_id = ? AND status = 'unsubscribed' AND changed_at = ?",
                      (contact, list_id, at))
