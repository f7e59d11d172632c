"""Every write of email activity goes through :class:`Recorder`.  Sends (messages) are
written by its base :class:`journeytui.store.sends.SendRecorder`.

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

from journeytui.store.db import Store
from journeytui.store.sends import (
    BOUNCE,
    DEFERRED,
    DELIVERED,
    DROPPED,
    INFERRED,
    PROCESSED,
    PROOF_OF,
    ContactRef,
    SendDetail,
    SendRecorder,
)

__all__ = [
    "BOT_AFTER_DELIVERY_S", "BOT_BURST_S", "BOUNCE", "DEFERRED", "DELIVERED", "DROPPED",
    "INFERRED", "PROCESSED", "PROOF_OF", "ContactRef", "Recorder", "SendDetail",
    "recipient_token",
]

BOT_AFTER_DELIVERY_S = 10
BOT_BURST_S = 2


def recipient_token(key: bytes, email_id: int, address: str) -> str:
    """Opaque per-email recipient token: unique counts without a contact id."""
    h = hashlib.blake2b(f"{email_id}\x00{address.lower()}".encode(), key=key, digest_size=8)
    return h.hexdigest()


class Recorder(SendRecorder):
    """Writes activity, applying consent and keeping per-email statistics current."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.key = store.token_key

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
        """Double opt-in confirmed: the subscription becomes ``subscribed``.

        A confirmation that puts a contact unsubscribed from *list_id* back on it is a
        resubscribe (the subscription state the journeys read changes); one older than
        the unsubscribe on record leaves it (imported out of order).  Unsubscribed from
        all is a contact-level opt-out that a list's confirmation does not end."""
        row = self.c.execute(
            "SELECT status, changed_at FROM subscriptions WHERE contact_id = ? AND list_id = ?",
            (contact.id, list_id),
        ).fetchone()
        if row is not None and row[0] == "unsubscribed":
            if row[1] <= at:
                self.resubscribe(contact, list_id, at, email_id=email_id)
        else:
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
