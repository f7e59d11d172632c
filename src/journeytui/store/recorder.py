"""Every write of email activity goes through :class:`Recorder`.

It applies the consent rule (PRODUCT.md §2) and keeps ``email_stats`` /
``link_stats`` current, so statistics are never recomputed from all events.
Call its methods inside ``store.transaction()``; importers and the demo generator
both use it, so the numbers they produce mean the same thing.

Suspected bot clicks (counted apart from ``clicked`` / ``clicks_total``): a click
less than ``BOT_AFTER_DELIVERY_S`` seconds after the email reached that recipient
(the provider's delivery time where known, else the send time),
or less than ``BOT_BURST_S`` seconds after the same recipient's previous click on
the same email.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from typing import Any

from journeytui.store.db import Store

BOT_AFTER_DELIVERY_S = 10
BOT_BURST_S = 2

# What is on record about a send (sends.proofs, a bit set).
PROCESSED, DELIVERED, DEFERRED, BOUNCE, DROPPED, INFERRED = 1, 2, 4, 8, 16, 32
PROOF_OF = {
    "processed": PROCESSED, "delivered": DELIVERED, "deferred": DEFERRED,
    "bounce": BOUNCE, "dropped": DROPPED,
}
_OUTCOMES = BOUNCE | DROPPED
# The strongest outcome decides a send's status, whatever order events arrive in.
_RANK = {"delivered": 0, "bounced_soft": 1, "bounced_hard": 2, "dropped": 3}
# The email_stats counters a send of each status counts in (a drop is not a send).
_COUNTED_IN: dict[str, tuple[str, ...]] = {
    "delivered": ("sent",),
    "bounced_soft": ("sent", "bounced_soft"),
    "bounced_hard": ("sent", "bounced_hard"),
    "dropped": ("dropped",),
}


# (old status, new status) -> the changes of email_stats counters it needs
_RECOUNT: dict[tuple[str | None, str], dict[str, int]] = {}
# counter names -> the UPDATE of email_stats that adds to them
_ADD_SQL: dict[tuple[str, ...], str] = {}


@dataclass(frozen=True)
class SendDetail:
    """Why a send bounced, was dropped or deferred, as the provider said it."""

    reason: str | None = None
    classification: str | None = None
    status: str | None = None


_NO_DETAIL = SendDetail()


def recipient_token(key: bytes, email_id: int, address: str) -> str:
    """Opaque per-email recipient token: unique counts without a contact id."""
    h = hashlib.blake2b(f"{email_id}\x00{address.lower()}".encode(), key=key, digest_size=8)
    return h.hexdigest()


@dataclass(frozen=True)
class ContactRef:
    id: int
    address: str
    consent: bool


class Recorder:
    """Writes activity, applying consent and keeping per-email statistics current."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.c: sqlite3.Connection = store.conn
        self.key = store.token_key
        # (message id, contact id) -> [send id, email id, status, at, delivered_at, proofs]
        self._messages: dict[tuple[str, int], list[Any]] = {}
        #: message ids the caller knows are not in the store yet (no lookup needed)
        self.new_messages: set[str] = set()
        self._maybe_unnamed: bool | None = None
        self._with_stats: set[int] = set()
        self._remembered: dict[str, int] = {}
        self._with_variant: set[int] = set()  # sends whose variant this Recorder set
        #: when a dict, changes of email_stats counters wait here (email id -> column ->
        #: change) until :meth:`flush_counts` writes them in one go (a big import)
        self.counts: dict[int, dict[str, int]] | None = None
        #: (email id, contact id) -> what _send_on_record found
        self.sent_to: dict[tuple[int, int], list[int] | int] = {}
        #: when a list, every write appends (target, row id, email id, token or mark):
        #: what an importer needs to record each event's source (event_sources)
        self.touched: list[tuple[str, int | None, int | None, str | None]] | None = None

    # -- reference data --------------------------------------------------------------
    def contact(
        self,
        address: str,
        *,
        first_name: str = "",
        last_name: str = "",
        consent: bool = False,
        at: int = 0,
        create: bool = True,
    ) -> ContactRef | None:
        """The contact with *address*, created (without consent unless told) if new."""
        addr = address.strip().lower()
        row = self.c.execute(
            "SELECT id, consent FROM contacts WHERE email = ?", (addr,)
        ).fetchone()
        if row:
            return ContactRef(row[0], addr, bool(row[1]))
        if not create:
            return None
        cur = self.c.execute(
            "INSERT INTO contacts(email, first_name, last_name, consent, consent_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (addr, first_name, last_name, int(consent), at if consent else None, at),
        )
        return ContactRef(int(cur.lastrowid or 0), addr, consent)

    def known_contacts(self, addresses: list[str]) -> dict[str, ContactRef]:
        """The contacts of those of *addresses* (stored form: lower-cased) that exist,
        looked up in chunks."""
        out: dict[str, ContactRef] = {}
        for i in range(0, len(addresses), 500):
            chunk = addresses[i : i + 500]
            for cid, addr, consent in self.c.execute(
                "SELECT id, email, consent FROM contacts WHERE email IN"
                f" ({', '.join('?' * len(chunk))})",
                chunk,
            ):
                out[addr] = ContactRef(cid, addr, bool(consent))
        return out

    def new_contact(self, address: str, at: int) -> ContactRef:
        """A new contact without name or consent for *address* (stored form), which the
        caller knows is not in the store."""
        cur = self.c.execute(
            "INSERT INTO contacts(email, created_at) VALUES (?, ?)", (address, at)
        )
        return ContactRef(int(cur.lastrowid or 0), address, False)

    def set_consent(self, contact: ContactRef, consent: bool, at: int) -> ContactRef:
        if contact.consent != consent:
            self.c.execute(
                "UPDATE contacts SET consent = ?, consent_at = ? WHERE id = ?",
                (int(consent), at, contact.id),
            )
        return ContactRef(contact.id, contact.address, consent)

    def ensure_list(self, name: str, asm_group_id: int | None = None) -> int:
        row = self.c.execute("SELECT id FROM lists WHERE name = ?", (name,)).fetchone()
        if row:
            return int(row[0])
        cur = self.c.execute(
            "INSERT INTO lists(name, asm_group_id) VALUES (?, ?)", (name, asm_group_id)
        )
        return int(cur.lastrowid or 0)

    def list_for_group(self, asm_group_id: int) -> int:
        row = self.c.execute(
            "SELECT id FROM lists WHERE asm_group_id = ?", (asm_group_id,)
        ).fetchone()
        if row:
            return int(row[0])
        return self.ensure_list(f"Unsubscribe group {asm_group_id}", asm_group_id)

    def ensure_email(
        self,
        name: str,
        *,
        subject: str = "",
        list_id: int | None = None,
        status: str = "sent",
        send_at: int | None = None,
        campaign_id: str | None = None,
    ) -> int:
        row = self.c.execute("SELECT id FROM emails WHERE name = ?", (name,)).fetchone()
        if row:
            return int(row[0])
        cur = self.c.execute(
            "INSERT INTO emails(name, subject, list_id, status, send_at, campaign_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (name, subject, list_id, status, send_at, campaign_id),
        )
        email_id = int(cur.lastrowid or 0)
        if status != "draft":
            self.c.execute("INSERT INTO email_stats(email_id) VALUES (?)", (email_id,))
        return email_id

    def mark_sent(self, email_id: int, at: int) -> None:
        """A draft or scheduled email whose events arrive was sent at *at*: it gets its
        statistics row (all zero until the events are recorded)."""
        self.c.execute("UPDATE emails SET status = 'sent', send_at = ? WHERE id = ?", (at, email_id))
        self.c.execute("INSERT OR IGNORE INTO email_stats(email_id) VALUES (?)", (email_id,))

    def fill_send_time(self, email_id: int, at: int) -> None:
        """Give a sent email without a send time the time *at* (a known time is kept)."""
        self.c.execute(
            "UPDATE emails SET send_at = ? WHERE id = ? AND send_at IS NULL", (at, email_id)
        )

    def fill_campaign_id(self, email_id: int, campaign_id: str) -> None:
        """Remember the provider's id of an email that has none (if no other email has it)."""
        self.c.execute(
            "UPDATE emails SET campaign_id = ? WHERE id = ? AND campaign_id IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM emails WHERE campaign_id = ?)",
            (campaign_id, email_id, campaign_id),
        )

    def fill_list(self, email_id: int, list_id: int) -> None:
        """Set the recipient list of an email that has none."""
        self.c.execute(
            "UPDATE emails SET list_id = ? WHERE id = ? AND list_id IS NULL", (list_id, email_id)
        )

    def ensure_link(self, email_id: int, url: str) -> int:
        row = self.c.execute(
            "SELECT id FROM links WHERE email_id = ? AND url = ?", (email_id, url)
        ).fetchone()
        if row:
            return int(row[0])
        cur = self.c.execute("INSERT INTO links(email_id, url) VALUES (?, ?)", (email_id, url))
        link_id = int(cur.lastrowid or 0)
        self.c.execute("INSERT INTO link_stats(link_id) VALUES (?)", (link_id,))
        return link_id

    def subscribe(self, contact: ContactRef, list_id: int, status: str, at: int) -> None:
        self.c.execute(
            "INSERT INTO subscriptions(contact_id, list_id, status, changed_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(contact_id, list_id)"
            " DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at",
            (contact.id, list_id, status, at),
        )

    # -- sending ---------------------------------------------------------------------
    # A send is a message (PRODUCT.md §3).  Its row collects every provider event about
    # it (``proofs``), whatever order they arrive in; its status is the strongest
    # outcome on record (dropped > bounced hard > bounced soft > delivered), its ``at``
    # the earliest event, ``delivered_at`` the earliest delivery.  email_stats follows
    # every change of status: a delivered or bounced send counts in ``sent``, a dropped
    # one only in ``dropped`` (the provider refused to send it).
    def _stats(self, email_id: int) -> None:
        if email_id not in self._with_stats:  # once per email and Recorder
            self.c.execute("INSERT OR IGNORE INTO email_stats(email_id) VALUES (?)", (email_id,))
            self._with_stats.add(email_id)

    def _recount(self, email_id: int, old: str | None, new: str) -> None:
        if old == new:
            return
        delta = _RECOUNT.get((old, new))
        if delta is None:
            delta = {}
            for status, sign in ((old, -1), (new, 1)):
                for column in _COUNTED_IN.get(status, ()):  # type: ignore[arg-type]
                    delta[column] = delta.get(column, 0) + sign
            delta = _RECOUNT[(old, new)] = {col: d for col, d in delta.items() if d}
        if delta:
            self._add(email_id, delta)

    def _add(self, email_id: int, delta: dict[str, int]) -> None:
        """Add *delta* (column -> change) to the email_stats counters of *email_id*."""
        counts = self.counts
        if counts is not None:
            row = counts.get(email_id)
            if row is None:
                counts[email_id] = dict(delta)
                return
            for column, d in delta.items():
                row[column] = row.get(column, 0) + d
            return
        columns = tuple(delta)
        sql = _ADD_SQL.get(columns)
        if sql is None:
            sets = ", ".join(f"{col} = {col} + ?" for col in columns)
            sql = _ADD_SQL[columns] = f"UPDATE email_stats SET {sets} WHERE email_id = ?"
        self.c.execute(sql, (*delta.values(), email_id))

    def flush_counts(self) -> None:
        """Write the counter changes kept in :attr:`counts` (call before committing)."""
        counts = self.counts
        if not counts:
            return
        self.counts = None
        try:
            for email_id in sorted(counts):
                delta = {col: d for col, d in counts[email_id].items() if d}
                if delta:
                    self._add(email_id, delta)
        finally:
            self.counts = {}

    def _new_send(
        self,
        email_id: int,
        contact: ContactRef,
        status: str,
        at: int,
        proofs: int,
        *,
        message_id: str | None = None,
        delivered_at: int | None = None,
        detail: SendDetail | None = None,
    ) -> int:
        self._stats(email_id)
        d = detail or _NO_DETAIL
        cur = self.c.execute(
            "INSERT INTO sends(email_id, contact_id, status, at, message_id, delivered_at,"
            " proofs, reason, bounce_class, smtp_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (email_id, contact.id, status, at, message_id, delivered_at, proofs, d.reason,
             d.classification, d.status),
        )
        self._recount(email_id, None, status)
        return int(cur.lastrowid or 0)

    def send(self, email_id: int, contact: ContactRef, at: int, *, dropped: bool = False) -> int:
        """One send of *email_id* to *contact* (each call is a new message)."""
        status = "dropped" if dropped else "delivered"
        return self._new_send(
            email_id, contact, status, at, PROCESSED | (DROPPED if dropped else 0)
        )

    def bounce(self, email_id: int, contact: ContactRef, at: int, *, hard: bool) -> bool:
        """Mark the recipient's latest delivered send as bounced.

        Returns False when no delivered send was on record: the bounce then stands for
        a send of its own (a bounce proves the attempt), so Delivered never goes below
        zero.
        """
        _, created = self.message_event(
            email_id, contact, "bounce", at, hard=hard
        )
        return not created

    def _find_send(
        self, email_id: int, contact: ContactRef, proof: int, message_id: str | None
    ) -> list[Any] | None:
        """[id, email_id, status, at, delivered_at, proofs] of the send *proof* is about."""
        if message_id is not None:
            key = (message_id, contact.id)
            row = self._messages.get(key)
            if row is not None:
                return row
            if message_id not in self.new_messages:
                found = self.c.execute(
                    "SELECT id, email_id, status, at, delivered_at, proofs FROM sends"
                    " WHERE message_id = ? AND contact_id = ?",
                    (message_id, contact.id),
                ).fetchone()
                if found is not None:
                    row = self._messages[key] = list(found)
                    return row
            # a send inferred from an open or click that named no message is this one
            if not self._unnamed_inferred():
                return None
            found = self.c.execute(
                "SELECT id, email_id, status, at, delivered_at, proofs FROM sends"
                " WHERE email_id = ? AND contact_id = ? AND message_id IS NULL AND proofs = ?"
                " ORDER BY at, id LIMIT 1",
                (email_id, contact.id, INFERRED),
            ).fetchone()
            if found is None:
                return None
            self.c.execute("UPDATE sends SET message_id = ? WHERE id = ?", (message_id, found[0]))
            row = self._messages[key] = list(found)
            return row
        # No message id: the recipient's latest send of this email that has no such
        # event on record yet (a deferral joins any), else a new send.
        found = self.c.execute(
            "SELECT id, email_id, status, at, delivered_at, proofs FROM sends"
            " WHERE email_id = ? AND contact_id = ? AND message_id IS NULL"
            " ORDER BY at DESC, id DESC LIMIT 1",
            (email_id, contact.id),
        ).fetchone()
        if found is None:
            return None
        if proof != DEFERRED and found[5] & (proof | _OUTCOMES if proof in (BOUNCE, DROPPED)
                                             else proof):
            return None
        return list(found)

    def _unnamed_inferred(self) -> bool:
        """Whether the store may hold a send inferred without a message id."""
        if self._maybe_unnamed is None:
            self._maybe_unnamed = self.c.execute(
                "SELECT EXISTS (SELECT 1 FROM sends WHERE message_id IS NULL AND proofs = ?)",
                (INFERRED,),
            ).fetchone()[0] == 1
        return self._maybe_unnamed

    def message_event(
        self,
        email_id: int,
        contact: ContactRef,
        kind: str,
        at: int,
        *,
        message_id: str | None = None,
        hard: bool = True,
        detail: SendDetail | None = None,
    ) -> tuple[int, bool]:
        """Record a provider event that proves a message (processed, delivered,
        deferred, bounce, dropped).  Returns (send id, True if the send is new)."""
        proof = PROOF_OF[kind]
        if kind == "bounce":
            status = "bounced_hard" if hard else "bounced_soft"
        elif kind == "dropped":
            status = "dropped"
        else:
            status = "delivered"
        delivered_at = at if kind == "delivered" else None
        row = self._find_send(email_id, contact, proof, message_id)
        if row is None:
            send_id = self._new_send(
                email_id, contact, status, at, proof, message_id=message_id,
                delivered_at=delivered_at, detail=detail,
            )
            if message_id is not None:
                self._messages[(message_id, contact.id)] = [
                    send_id, email_id, status, at, delivered_at, proof
                ]
            self.sent_to[(email_id, contact.id)] = 0
            if self.touched is not None:
                self.touched.append(("s", send_id, email_id, None))
            return send_id, True
        send_id, send_email, old_status, old_at, old_delivered, old_proofs = row
        if (
            kind == "delivered" and detail is None and old_proofs != INFERRED
            and old_delivered is None and at >= old_at
        ):  # the common case: the delivery of a message on record
            self.c.execute(
                "UPDATE sends SET delivered_at = ?, proofs = ? WHERE id = ?",
                (at, old_proofs | proof, send_id),
            )
            row[4], row[5] = at, old_proofs | proof
            if self.touched is not None:
                self.touched.append(("s", send_id, send_email, None))
            return send_id, False
        new_status = status if _RANK[status] > _RANK[old_status] else old_status
        new_at = min(old_at, at)
        if old_proofs == INFERRED:  # the inferred time was an open's or click's
            new_at = at
        new_delivered = old_delivered
        if delivered_at is not None:
            new_delivered = delivered_at if old_delivered is None else min(old_delivered,
                                                                          delivered_at)
        new_proofs = (old_proofs & ~INFERRED) | proof  # told of now: no longer inferred
        if old_proofs == INFERRED:
            self.sent_to[(send_email, contact.id)] = 0
        sets: list[str] = []
        params: list[Any] = []
        for column, old, new in (
            ("status", old_status, new_status), ("at", old_at, new_at),
            ("delivered_at", old_delivered, new_delivered), ("proofs", old_proofs, new_proofs),
        ):
            if old != new:
                sets.append(f"{column} = ?")
                params.append(new)
        d = detail
        if d is not None and (d.reason or d.classification or d.status) and (
            new_status != old_status or kind == "deferred"
        ):
            # the reason of the outcome that decides the status (a deferral's only
            # while nothing else is said)
            if kind == "deferred":
                sets.append("reason = coalesce(reason, ?)")
                params.append(d.reason)
            else:
                sets.append("reason = ?, bounce_class = ?, smtp_status = ?")
                params.extend((d.reason, d.classification, d.status))
        if sets:
            self.c.execute(f"UPDATE sends SET {', '.join(sets)} WHERE id = ?", (*params, send_id))
        self._recount(send_email, old_status, new_status)
        row[2:6] = [new_status, new_at, new_delivered, new_proofs]
        if self.touched is not None:
            self.touched.append(("s", send_id, send_email, None))
        return send_id, False

    def _send_on_record(self, email_id: int, contact: ContactRef) -> list[int] | int | None:
        """None: no send of *email_id* to *contact*; [id, at]: only a send inferred from
        engagement; 0: a send the provider told of."""
        key = (email_id, contact.id)
        if key in self.sent_to:
            return self.sent_to[key]
        rows = self.c.execute(
            "SELECT id, at, proofs FROM sends WHERE email_id = ? AND contact_id = ? LIMIT 2", key
        ).fetchall()
        if not rows:
            return None
        found: list[int] | int = (
            [rows[0][0], rows[0][1]] if len(rows) == 1 and rows[0][2] == INFERRED else 0
        )
        self.sent_to[key] = found
        return found

    def has_send(self, email_id: int, contact: ContactRef) -> bool:
        """True when a send of *email_id* to *contact* is on record."""
        return self._send_on_record(email_id, contact) is not None

    def infer_send(
        self, email_id: int, contact: ContactRef, at: int, message_id: str | None = None
    ) -> bool:
        """An open or click proves a delivered send when none is on record (PRODUCT.md
        §3): record one, so no rate exceeds 100 %.  Returns True when it did.

        With *message_id* "on record" means a send of that message to this recipient
        (an open of message Y proves Y arrived, even if message X bounced); without, any
        send of the email to this recipient.  An inferred send is dated by the earliest
        engagement; the first provider event about its message makes it that message's
        send and dates it (in whatever order the events arrive)."""
        if message_id is not None:
            row = self._find_send(email_id, contact, INFERRED, message_id)
            if row is not None:
                if row[5] == INFERRED and at < row[3]:
                    row[3] = at
                    self.c.execute("UPDATE sends SET at = ? WHERE id = ?", (at, row[0]))
                return False
            send_id = self._new_send(
                email_id, contact, "delivered", at, INFERRED, message_id=message_id
            )
            self._messages[(message_id, contact.id)] = [
                send_id, email_id, "delivered", at, None, INFERRED
            ]
            self.sent_to.pop((email_id, contact.id), None)
            if self.touched is not None:
                self.touched.append(("s", send_id, email_id, "inferred"))
            return True
        found = self._send_on_record(email_id, contact)
        if isinstance(found, list):
            if at < found[1]:
                found[1] = at
                self.c.execute("UPDATE sends SET at = ? WHERE id = ?", (at, found[0]))
            return False
        if found is not None:
            return False
        send_id = self._new_send(email_id, contact, "delivered", at, INFERRED)
        self.sent_to[(email_id, contact.id)] = [send_id, at]
        self._maybe_unnamed = True
        if self.touched is not None:
            self.touched.append(("s", send_id, email_id, "inferred"))
        return True

    def set_variant(
        self, email_id: int, contact: ContactRef, message_id: str | None, variant: str
    ) -> None:
        """The A/B test variant of the send an event is about: the send of *message_id*
        to *contact* (else the recipient's latest send of *email_id*).  The first variant
        on record stays; call after the event's own write (the send exists then)."""
        if message_id is not None:
            row = self._messages.get((message_id, contact.id))
            if row is None:
                return
            send_id = int(row[0])
            if send_id in self._with_variant:
                return
            self._with_variant.add(send_id)
            self.c.execute(
                "UPDATE sends SET variant = ? WHERE id = ? AND variant IS NULL",
                (variant, send_id),
            )
            return
        self.c.execute(
            "UPDATE sends SET variant = ? WHERE id = (SELECT id FROM sends WHERE email_id = ?"
            " AND contact_id = ? ORDER BY at DESC, id DESC LIMIT 1) AND variant IS NULL",
            (variant, email_id, contact.id),
        )

    def remember_message(self, message_id: str, email_id: int) -> None:
        """Which email *message_id* belongs to (the first answer stays); written by
        :meth:`flush_messages` in one go."""
        self._remembered.setdefault(message_id, email_id)

    def flush_messages(self) -> None:
        """Write what :meth:`remember_message` collected (call before committing)."""
        if self._remembered:
            self.c.executemany(
                "INSERT OR IGNORE INTO messages(message_id, email_id) VALUES (?, ?)",
                sorted(self._remembered.items()),
            )
            self._remembered.clear()

    # -- engagement ------------------------------------------------------------------
    def _engagement(self, email_id: int, token: str) -> tuple[int, int, int | None, int, int]:
        if self.c.execute(
            "INSERT OR IGNORE INTO recipient_engagement(email_id, token) VALUES (?, ?)",
            (email_id, token),
        ).rowcount == 1:
            return 0, 0, None, 0, 0  # a new row: nothing on record yet
        row = self.c.execute(
            "SELECT opens, clicks, last_click_at, unsubscribed, spam"
            " FROM recipient_engagement WHERE email_id = ? AND token = ?",
            (email_id, token),
        ).fetchone()
        return row[0], row[1], row[2], row[3], row[4]

    def open(self, email_id: int, contact: ContactRef, at: int, *, machine: bool = False) -> None:
        self._stats(email_id)
        token = recipient_token(self.key, email_id, contact.address)
        if machine:
            self.c.execute(
                "INSERT INTO recipient_engagement(email_id, token, machine_opens) VALUES (?, ?, 1)"
                " ON CONFLICT DO UPDATE SET machine_opens = machine_opens + 1",
                (email_id, token),
            )
            self._add(email_id, {"machine_opens": 1})
        else:
            opens = self.c.execute(
                "INSERT INTO recipient_engagement(email_id, token, opens) VALUES (?, ?, 1)"
                " ON CONFLICT DO UPDATE SET opens = opens + 1 RETURNING opens",
                (email_id, token),
            ).fetchone()[0]
            self._add(email_id, {"opens_total": 1, "opened": int(opens == 1),
                                 "anonymous_opens": int(not contact.consent)})
        if contact.consent:
            cur = self.c.execute(
                "INSERT INTO activities(contact_id, kind, email_id, at, machine)"
                " VALUES (?, 'open', ?, ?, ?)",
                (contact.id, email_id, at, int(machine)),
            )
            target = "a"
        else:
            cur = self.c.execute(
                "INSERT INTO anonymous_events(email_id, token, kind, at, machine)"
                " VALUES (?, ?, 'open', ?, ?)",
                (email_id, token, at, int(machine)),
            )
            target = "n"
        if self.touched is not None:
            self.touched.append((target, cur.lastrowid, email_id, None))

    def _is_bot(self, email_id: int, contact: ContactRef, at: int, last_click: int | None) -> bool:
        if last_click is not None and 0 <= at - last_click < BOT_BURST_S:
            return True
        # measured from delivery where the provider said when (else from the send);
        # a send inferred from an open or click says nothing about when it arrived
        row = self.c.execute(
            "SELECT max(coalesce(delivered_at, at)) FROM sends"
            " WHERE email_id = ? AND contact_id = ? AND proofs != ?"
            " AND coalesce(delivered_at, at) <= ?",
            (email_id, contact.id, INFERRED, at),
        ).fetchone()
        return row[0] is not None and at - row[0] < BOT_AFTER_DELIVERY_S

    def click(self, email_id: int, contact: ContactRef, url: str, at: int) -> bool:
        """Record a click on *url*; returns True when it is a suspected bot click."""
        self._stats(email_id)
        link_id = self.ensure_link(email_id, url)
        token = recipient_token(self.key, email_id, contact.address)
        _, clicks, last_click, _, _ = self._engagement(email_id, token)
        bot = self._is_bot(email_id, contact, at, last_click)
        if bot:
            self.c.execute(
                "UPDATE recipient_engagement SET bot_clicks = bot_clicks + 1, last_click_at = ?"
                " WHERE email_id = ? AND token = ?",
                (at, email_id, token),
            )
            self._add(email_id, {"bot_clicks": 1})
            self.c.execute(
                "UPDATE link_stats SET bot_clicks = bot_clicks + 1 WHERE link_id = ?", (link_id,)
            )
        else:
            self.c.execute(
                "UPDATE recipient_engagement SET clicks = clicks + 1, last_click_at = ?"
                " WHERE email_id = ? AND token = ?",
                (at, email_id, token),
            )
            self._add(email_id, {"clicks_total": 1, "clicked": int(clicks == 0),
                                 "anonymous_clicks": int(not contact.consent)})
            self.c.execute(
                "INSERT OR IGNORE INTO link_recipients(link_id, token) VALUES (?, ?)",
                (link_id, token),
            )
            first = self.c.execute(
                "UPDATE link_recipients SET clicks = clicks + 1"
                " WHERE link_id = ? AND token = ? RETURNING clicks",
                (link_id, token),
            ).fetchone()[0] == 1
            self.c.execute(
                "UPDATE link_stats SET clicks_total = clicks_total + 1, clicked = clicked + ?"
                " WHERE link_id = ?",
                (int(first), link_id),
            )
        if contact.consent:
            cur = self.c.execute(
                "INSERT INTO activities(contact_id, kind, email_id, link_id, value, at, bot)"
                " VALUES (?, 'click', ?, ?, ?, ?, ?)",
                (contact.id, email_id, link_id, url, at, int(bot)),
            )
            target = "a"
        else:
            cur = self.c.execute(
                "INSERT INTO anonymous_events(email_id, token, kind, link_id, at, bot)"
                " VALUES (?, ?, 'click', ?, ?, ?)",
                (email_id, token, link_id, at, int(bot)),
            )
            target = "n"
        if self.touched is not None:
            self.touched.append((target, cur.lastrowid, email_id, None))
        return bot

    # -- acts that change what may be sent (always act on the contact) ---------------
    def _subscription_change(
        self,
        contact: ContactRef,
        kind: str,
        at: int,
        *,
        list_id: int | None = None,
        email_id: int | None = None,
    ) -> None:
        """A point in time at which the journeys re-read the subscription state
        (with or without consent; the email only with consent)."""
        cur = self.c.execute(
            "INSERT INTO subscription_changes(contact_id, kind, list_id, email_id, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (contact.id, kind, list_id, email_id if contact.consent else None, at),
        )
        if self.touched is not None:
            # without consent a change through an email is traced apart ('u' / 'p', with
            # the email); this row then keeps no time, place or event id ("quiet"), so
            # nothing joins the email to the person
            quiet = not contact.consent and email_id is not None
            self.touched.append(("c", cur.lastrowid, email_id if contact.consent else None,
                                 "quiet" if quiet else None))

    def resubscribe(
        self, contact: ContactRef, list_id: int, at: int, *, email_id: int | None = None
    ) -> None:
        """Back on *list_id* (a provider's group resubscribe)."""
        self.subscribe(contact, list_id, "subscribed", at)
        self._subscription_change(contact, "resubscribe", at, list_id=list_id, email_id=email_id)

    def unsubscribe(
        self,
        contact: ContactRef,
        at: int,
        *,
        email_id: int | None = None,
        list_id: int | None = None,
    ) -> None:
        """Unsubscribe from *list_id*, or from all when *list_id* is None."""
        if list_id is None:
            # the first unsubscribe from all counts (in time, whatever order imported)
            self.c.execute(
                "UPDATE contacts SET unsubscribed_all = 1, unsubscribed_all_at ="
                " CASE WHEN unsubscribed_all = 1 AND unsubscribed_all_at <= ?"
                " THEN unsubscribed_all_at ELSE ? END WHERE id = ?",
                (at, at, contact.id),
            )
        else:
            self.subscribe(contact, list_id, "unsubscribed", at)
        self._subscription_change(contact, "unsubscribe", at, list_id=list_id, email_id=email_id)
        if email_id is not None:
            self._stats(email_id)
            token = recipient_token(self.key, email_id, contact.address)
            _, _, _, unsubscribed, _ = self._engagement(email_id, token)
            if not unsubscribed:
                self.c.execute(
                    "UPDATE recipient_engagement SET unsubscribed = 1"
                    " WHERE email_id = ? AND token = ?",
                    (email_id, token),
                )
                self._add(email_id, {"unsubscribed": 1})
            if self.touched is not None and not contact.consent:
                self.touched.append(("u", None, email_id, token))
        if contact.consent:
            cur = self.c.execute(
                "INSERT INTO activities(contact_id, kind, email_id, list_id, value, at)"
                " VALUES (?, 'unsubscribe', ?, ?, ?, ?)",
                (contact.id, email_id, list_id, "all" if list_id is None else None, at),
            )
            if self.touched is not None:
                self.touched.append(("a", cur.lastrowid, email_id, None))

    def spam_report(self, email_id: int | None, contact: ContactRef, at: int) -> None:
        """A spam report: the contact is suppressed from now on (always), and it counts
        on the email when the email is known."""
        self.c.execute(
            "UPDATE contacts SET spam_reported_at = ? WHERE id = ?"
            " AND (spam_reported_at IS NULL OR spam_reported_at > ?)",
            (at, contact.id, at),
        )
        self._subscription_change(contact, "spam", at, email_id=email_id)
        if email_id is not None:
            self._stats(email_id)
            token = recipient_token(self.key, email_id, contact.address)
            _, _, _, _, spam = self._engagement(email_id, token)
            if not spam:
                self.c.execute(
                    "UPDATE recipient_engagement SET spam = 1 WHERE email_id = ? AND token = ?",
                    (email_id, token),
                )
                self._add(email_id, {"spam_reports": 1})
            if self.touched is not None and not contact.consent:
                self.touched.append(("p", None, email_id, token))
        if contact.consent:
            cur = self.c.execute(
                "INSERT INTO activities(contact_id, kind, email_id, at) VALUES (?, 'spam', ?, ?)",
                (contact.id, email_id, at),
            )
            if self.touched is not None:
                self.touched.append(("a", cur.lastrowid, email_id, None))

    def mark_contact_bounced(self, contact_id: int, at: int, reason: str) -> bool:
        """A permanent bounce known about the contact from outside any one email (an
        export that marks the address "cleaned"): keeps the earliest date and its reason.
        Idempotent; returns whether anything changed."""
        cur = self.c.execute(
            "UPDATE contacts SET bounced_at = ?, bounce_reason = ? WHERE id = ?"
            " AND (bounced_at IS NULL OR bounced_at > ?)",
            (at, reason, contact_id, at),
        )
        return cur.rowcount > 0

    def confirm(
        self, contact: ContactRef, list_id: int, at: int, *, email_id: int | None = None
    ) -> None:
        """Double opt-in confirmed: the subscription becomes ``subscribed``."""
        self.subscribe(contact, list_id, "subscribed", at)
        if contact.consent:
            self.c.execute(
                "INSERT INTO activities(contact_id, kind, email_id, list_id, at)"
                " VALUES (?, 'confirm', ?, ?, ?)",
                (contact.id, email_id, list_id, at),
            )

    # -- other activities (contact activities: consent only) -------------------------
    def form(self, contact: ContactRef, form_name: str, at: int) -> bool:
        if not contact.consent:
            return False
        self.c.execute(
            "INSERT INTO activities(contact_id, kind, value, at) VALUES (?, 'form', ?, ?)",
            (contact.id, form_name, at),
        )
        return True

    def visit(self, contact: ContactRef, url: str, at: int) -> bool:
        if not contact.consent:
            return False
        self.c.execute(
            "INSERT INTO activities(contact_id, kind, value, at) VALUES (?, 'visit', ?, ?)",
            (contact.id, url, at),
        )
        return True

    # -- deduplication ---------------------------------------------------------------
    def already_seen(self, event_ids: list[str]) -> set[str]:
        """Which of *event_ids* were imported before (read in chunks; nothing written)."""
        out: set[str] = set()
        for i in range(0, len(event_ids), 500):
            chunk = event_ids[i : i + 500]
            out.update(r[0] for r in self.c.execute(
                "SELECT event_id FROM seen_events WHERE event_id IN"
                f" ({', '.join('?' * len(chunk))})",
                chunk,
            ))
        return out

    def mark_seen(self, event_ids: set[str]) -> None:
        """Remember *event_ids* as imported (in key order: appending is fastest)."""
        self.c.executemany(
            "INSERT OR IGNORE INTO seen_events(event_id) VALUES (?)", ((e,) for e in sorted(event_ids))
        )

    def seen(self, event_id: str) -> bool:
        """True if *event_id* was imported before; otherwise remembers it."""
        cur = self.c.execute(
            "INSERT OR IGNORE INTO seen_events(event_id) VALUES (?)", (event_id,)
        )
        return cur.rowcount == 0
