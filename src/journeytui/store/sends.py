"""Sends as messages: the part of :class:`journeytui.store.Recorder` that writes sends.

A send is a message (PRODUCT.md §3): every provider event about one message to one
recipient lands on one ``sends`` row, whatever order the events arrive in; its status
is the strongest outcome on record and ``email_stats`` follows every change of status.
Events that carry no message id join the recipient's latest send of the email.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from journeytui.store.db import Store

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


@dataclass(frozen=True)
class ContactRef:
    id: int
    address: str
    consent: bool


class SendRecorder:
    """Writes sends (messages) and keeps their counters in email_stats current."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.c: sqlite3.Connection = store.conn
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
