"""Writing the event stream into a store.

:class:`RecorderSink` feeds each event to :class:`~journeytui.store.recorder.Recorder`,
the one way activity is written.  :class:`BulkSink` computes the same rows and
counters in memory and inserts them in batches — needed for 10⁵–10⁶ contacts.  For
the same stream both give identical tables (``tests/demo/test_bulk_equivalence.py``).
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from journeytui.demo.catalog import EMAILS, LISTS
from journeytui.demo.events import (
    BOUNCED_HARD,
    BOUNCED_SOFT,
    CLICK,
    CONFIRM,
    CONSENT,
    DROPPED,
    END,
    FORM,
    OPEN,
    SEND,
    SEND_PROOFS,
    SEND_STATUS,
    SPAM,
    SUBSCRIBE,
    UNSUB,
    VISIT,
    Event,
)
from journeytui.demo.people import People
from journeytui.store.db import Store
from journeytui.store.recorder import (
    BOT_AFTER_DELIVERY_S,
    BOT_BURST_S,
    ContactRef,
    Recorder,
)


@dataclass
class _Ids:
    lists: list[int]
    emails: list[int]
    links: dict[tuple[int, str], int]


def _write_reference(rec: Recorder) -> _Ids:
    """Lists, emails (in send order: drafts last) and their links, via the Recorder."""
    lists = [rec.ensure_list(name) for name in LISTS]
    order = sorted(range(len(EMAILS)), key=lambda i: (EMAILS[i].send_at is None,
                                                     EMAILS[i].send_at or 0, i))
    emails = [0] * len(EMAILS)
    links: dict[tuple[int, str], int] = {}
    for i in order:
        e = EMAILS[i]
        emails[i] = rec.ensure_email(
            e.name, subject=e.subject, list_id=lists[e.list_index], status=e.status,
            send_at=e.send_at,
        )
        for url, _ in e.links:
            links[(i, url)] = rec.ensure_link(emails[i], url)
    return _Ids(lists, emails, links)


class RecorderSink:
    """Feeds every event to the Recorder, one by one (the reference behaviour)."""

    def __init__(self, store: Store, people: People) -> None:
        self.rec = Recorder(store)
        self.people = people
        self.ids = _write_reference(self.rec)
        self.refs: list[ContactRef] = []
        p = people
        by_contact: dict[int, list[tuple[int, str, int]]] = {}
        for c, li, status, at in p.subscriptions:
            by_contact.setdefault(c, []).append((li, status, at))
        for c in range(len(p.address)):
            ref = self.rec.contact(
                p.address[c], first_name=p.first[c], last_name=p.last[c],
                consent=bool(p.consent[c]), at=p.created_at[c],
            )
            assert ref is not None and ref.id == c + 1
            self.refs.append(ref)
            for li, status, at in by_contact.get(c, ()):
                self.rec.subscribe(ref, self.ids.lists[li], status, at)

    def handle(self, ev: Event) -> None:
        at, kind, k, c, x = ev
        rec, ids = self.rec, self.ids
        if kind == END:
            return
        email_id = ids.emails[k] if k >= 0 else None
        if kind == SEND:
            assert email_id is not None
            for c_, t_, code in zip(x.contacts, x.times, x.statuses, strict=True):
                ref = self.refs[c_]
                rec.send(email_id, ref, t_, dropped=code == DROPPED)
                if code in (BOUNCED_HARD, BOUNCED_SOFT):
                    rec.bounce(email_id, ref, t_, hard=code == BOUNCED_HARD)
            return
        ref = self.refs[c]
        if kind == OPEN:
            assert email_id is not None
            rec.open(email_id, ref, at, machine=x)
        elif kind == CLICK:
            assert email_id is not None
            rec.click(email_id, ref, x, at)
        elif kind == UNSUB:
            rec.unsubscribe(
                ref, at, email_id=email_id, list_id=None if x is None else ids.lists[x]
            )
        elif kind == SPAM:
            assert email_id is not None
            rec.spam_report(email_id, ref, at)
        elif kind == CONFIRM:
            rec.confirm(ref, ids.lists[x], at, email_id=email_id)
        elif kind == SUBSCRIBE:
            rec.subscribe(ref, ids.lists[x], "subscribed", at)
        elif kind == FORM:
            rec.form(ref, x, at)
        elif kind == VISIT:
            rec.visit(ref, x, at)
        elif kind == CONSENT:
            self.refs[c] = rec.set_consent(ref, True, at)
        else:  # pragma: no cover - a programming error
            raise ValueError(f"unknown event kind {kind!r}")

    def write(self, events: Iterable[Event], counts: Counter[str], tick: Tick | None) -> None:
        """:meth:`handle` every event (see :func:`write_each`)."""
        write_each(self.handle, events, counts, tick)

    def finish(self) -> None:
        pass


Tick = Callable[[int], None]  # told an event's time every TICK events
TICK = 8192


def write_each(
    handle: Callable[[Event], None], events: Iterable[Event], counts: Counter[str],
    tick: Tick | None,
) -> None:
    """*handle* each event, counting them by kind into *counts* (a send log counts as
    its rows), telling *tick* the time of the first event and then every TICK-th."""
    for i, ev in enumerate(events):
        counts[ev[1]] += 1 if ev[1] != SEND else len(ev[4].statuses)
        handle(ev)
        if tick is not None and not i % TICK:
            tick(ev[0])


# email_stats columns, in the order BulkSink keeps them
_STAT_COLUMNS = (
    "sent", "bounced_hard", "bounced_soft", "dropped", "opened", "opens_total",
    "machine_opens", "clicked", "clicks_total", "bot_clicks", "unsubscribed",
    "spam_reports", "anonymous_opens", "anonymous_clicks",
)
(S_SENT, S_HARD, S_SOFT, S_DROPPED, S_OPENED, S_OPENS, S_MACHINE, S_CLICKED, S_CLICKS,
 S_BOT, S_UNSUB, S_SPAM, S_ANON_OPENS, S_ANON_CLICKS) = range(len(_STAT_COLUMNS))
# recipient_engagement fields kept per (email, contact)
E_TOKEN, E_OPENS, E_MACHINE, E_CLICKS, E_BOT, E_LAST, E_UNSUB, E_SPAM = range(8)

_BATCH = 50_000


class _EmailState:
    __slots__ = ("email_id", "engagement", "link_clicks", "sent_at", "stats", "token_hash")

    def __init__(self, email_id: int, n: int, key: bytes, stats: list[int]) -> None:
        self.email_id = email_id
        self.stats = stats  # the email's row of BulkSink.stats
        # recipient_token's keyed hash with this email's part fed in: a copy of it per
        # recipient costs less than a new keyed hash (the same tokens: the equivalence
        # test compares them with the Recorder's)
        self.token_hash = hashlib.blake2b(key=key, digest_size=8)
        self.token_hash.update(f"{email_id}\x00".encode())
        self.sent_at = array("q", bytes(8 * n))  # send time per contact (0: none)
        self.engagement: dict[int, list[Any]] = {}
        self.link_clicks: dict[tuple[int, int], int] = {}  # (link_id, contact) -> clicks


class BulkSink:
    """Computes exactly what the Recorder would write, and inserts it in batches.

    Mirrors ``Recorder`` rule for rule (consent, unique counts, bot clicks, bounces);
    ``tests/demo/test_bulk_equivalence.py`` proves the tables come out identical.
    """

    def __init__(self, store: Store, people: People) -> None:
        self.c = store.conn
        self.key = store.token_key
        self.people = people
        self.n = len(people.address)
        self.ids = _write_reference(Recorder(store))
        self.consent = bytearray(people.consent)
        self.acts: list[tuple[Any, ...]] = []
        self.anon: list[tuple[Any, ...]] = []
        self.subs: list[tuple[int, int, str, int]] = []  # upserts, in event order
        self.unsub_all: dict[int, int] = {}
        self.spam_reported: dict[int, int] = {}
        # subscription_changes rows (contact, kind, list, email, at), in event order
        self.changes: list[tuple[int, str, int | None, int | None, int]] = []
        self.consent_at: dict[int, int] = {}
        self.stats: dict[int, list[int]] = {
            eid: [0] * len(_STAT_COLUMNS)
            for i, eid in enumerate(self.ids.emails) if EMAILS[i].status != "draft"
        }
        self.link_stats: dict[int, list[int]] = {lid: [0, 0, 0] for lid in self.ids.links.values()}
        self.open_emails: dict[int, _EmailState] = {}
        self.closed: set[int] = set()
        p = people
        self.c.executemany(
            "INSERT INTO contacts(id, email, first_name, last_name, consent, consent_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            zip(range(1, self.n + 1), p.address, p.first, p.last, p.consent,
                [at if given else None
                 for given, at in zip(p.consent, p.created_at, strict=True)],
                p.created_at, strict=True),
        )
        self.c.executemany(
            "INSERT INTO subscriptions(contact_id, list_id, status, changed_at) VALUES (?, ?, ?, ?)",
            p.subscriptions.rows(self.ids.lists),
        )

    def _email(self, k: int) -> _EmailState:
        st = self.open_emails.get(k)
        if st is None:
            if k in self.closed:
                raise AssertionError(f"event for email {k} after its end")
            eid = self.ids.emails[k]
            st = self.open_emails[k] = _EmailState(eid, self.n, self.key, self.stats[eid])
        return st

    def _eng(self, st: _EmailState, c: int) -> list[Any]:
        e = st.engagement.get(c)
        if e is None:
            h = st.token_hash.copy()  # recipient_token(key, email_id, address)
            h.update(self.people.address[c].lower().encode())
            token = h.hexdigest()
            e = st.engagement[c] = [token, 0, 0, 0, 0, None, 0, 0]
        return e

    def write(self, events: Iterable[Event], counts: Counter[str], tick: Tick | None) -> None:
        """Every event of the stream, counted by kind into *counts* (a send log counts
        as its rows), *tick* told the time of the first and then every TICK-th.

        Opens and clicks (nine events in ten) are handled here, in one loop with
        what they touch in local names; every other kind by :meth:`_handle`.  The
        batches are written when full, checked every TICK events."""
        consent, open_emails, email_state, engagement_of = (
            self.consent, self.open_emails, self._email, self._eng)
        link_ids, link_stats = self.ids.links, self.link_stats
        add_act, add_anon = self.acts.append, self.anon.append
        other = self._handle
        opens = clicks = 0
        i = -1
        for ev in events:
            i += 1
            if not i % TICK:
                if tick is not None:
                    tick(ev[0])
                if max(len(self.acts), len(self.anon), len(self.subs)) >= _BATCH:
                    self._flush()
            at, kind, k, c, x = ev
            if kind == OPEN:
                opens += 1
                st = open_emails.get(k) or email_state(k)
                e = st.engagement.get(c) or engagement_of(st, c)
                s = st.stats
                if x:
                    e[E_MACHINE] += 1
                    s[S_MACHINE] += 1
                else:
                    if e[E_OPENS] == 0:
                        s[S_OPENED] += 1
                    e[E_OPENS] += 1
                    s[S_OPENS] += 1
                    if not consent[c]:
                        s[S_ANON_OPENS] += 1
                machine = 1 if x else 0
                if consent[c]:
                    add_act((c + 1, "open", st.email_id, None, None, None, at, machine, 0))
                else:
                    add_anon((st.email_id, e[E_TOKEN], "open", None, at, machine, 0))
            elif kind == CLICK:
                clicks += 1
                st = open_emails.get(k) or email_state(k)
                e = st.engagement.get(c) or engagement_of(st, c)
                s = st.stats
                link_id = link_ids[(k, x)]
                ls = link_stats[link_id]
                last = e[E_LAST]
                sa = st.sent_at[c]
                bot = (last is not None and 0 <= at - last < BOT_BURST_S) or (
                    sa != 0 and sa <= at and at - sa < BOT_AFTER_DELIVERY_S
                )
                e[E_LAST] = at
                if bot:
                    e[E_BOT] += 1
                    s[S_BOT] += 1
                    ls[2] += 1
                else:
                    if e[E_CLICKS] == 0:
                        s[S_CLICKED] += 1
                    e[E_CLICKS] += 1
                    s[S_CLICKS] += 1
                    if not consent[c]:
                        s[S_ANON_CLICKS] += 1
                    key = (link_id, c)
                    n = st.link_clicks.get(key, 0) + 1
                    st.link_clicks[key] = n
                    ls[1] += 1
                    if n == 1:
                        ls[0] += 1
                if consent[c]:
                    add_act((c + 1, "click", st.email_id, link_id, None, x, at, 0,
                             1 if bot else 0))
                else:
                    add_anon((st.email_id, e[E_TOKEN], "click", link_id, at, 0,
                              1 if bot else 0))
            else:
                counts[kind] += 1 if kind != SEND else len(x.statuses)
                other(ev)
        counts[OPEN] += opens
        counts[CLICK] += clicks

    def _handle(self, ev: Event) -> None:
        """Any event but an open or a click (those: :meth:`write`)."""
        at, kind, k, c, x = ev
        if kind == SEND:
            st = self._email(k)
            sent_at = st.sent_at
            for c_, t_ in zip(x.contacts, x.times, strict=True):
                if sent_at[c_]:
                    raise AssertionError("the demo sends an email at most once per contact")
                sent_at[c_] = t_
            s = self.stats[st.email_id]
            codes = x.statuses
            s[S_SENT] += len(codes) - codes.count(DROPPED)  # a drop is not a send
            s[S_HARD] += codes.count(BOUNCED_HARD)
            s[S_SOFT] += codes.count(BOUNCED_SOFT)
            s[S_DROPPED] += codes.count(DROPPED)
            # rows made by zip and map (no Python code per row)
            self.c.executemany(
                "INSERT INTO sends(email_id, contact_id, status, at, proofs)"
                " VALUES (?, ?, ?, ?, ?)",
                zip(repeat(st.email_id), map((1).__add__, x.contacts),
                    map(SEND_STATUS.__getitem__, codes), x.times,
                    map(SEND_PROOFS.__getitem__, codes)),  # noqa: B905 (repeat: endless)
            )
        elif kind == UNSUB:
            list_id = None if x is None else self.ids.lists[x]
            if list_id is None:
                self.unsub_all.setdefault(c, at)  # the first one counts (events in time order)
            else:
                self.subs.append((c + 1, list_id, "unsubscribed", at))
            email_id = None
            if k >= 0:
                st = self._email(k)
                email_id = st.email_id
                e = self._eng(st, c)
                if not e[E_UNSUB]:
                    e[E_UNSUB] = 1
                    self.stats[email_id][S_UNSUB] += 1
            self.changes.append((
                c + 1, "unsubscribe", list_id, email_id if self.consent[c] else None, at
            ))
            if self.consent[c]:
                self.acts.append((
                    c + 1, "unsubscribe", email_id, None, list_id,
                    "all" if list_id is None else None, at, 0, 0,
                ))
        elif kind == SPAM:
            self.spam_reported.setdefault(c, at)
            st = self._email(k)
            self.changes.append(
                (c + 1, "spam", None, st.email_id if self.consent[c] else None, at)
            )
            e = self._eng(st, c)
            if not e[E_SPAM]:
                e[E_SPAM] = 1
                self.stats[st.email_id][S_SPAM] += 1
            if self.consent[c]:
                self.acts.append((c + 1, "spam", st.email_id, None, None, None, at, 0, 0))
        elif kind == CONFIRM:
            list_id = self.ids.lists[x]
            self.subs.append((c + 1, list_id, "subscribed", at))
            if self.consent[c]:
                email_id = self.ids.emails[k] if k >= 0 else None
                self.acts.append((c + 1, "confirm", email_id, None, list_id, None, at, 0, 0))
        elif kind == SUBSCRIBE:
            self.subs.append((c + 1, self.ids.lists[x], "subscribed", at))
        elif kind in (FORM, VISIT):
            if self.consent[c]:
                self.acts.append((c + 1, kind, None, None, None, x, at, 0, 0))
        elif kind == CONSENT:
            if not self.consent[c]:
                self.consent[c] = 1
                self.consent_at[c] = at
        elif kind == END:
            self._close(k)
        else:  # pragma: no cover - a programming error
            raise ValueError(f"unknown event kind {kind!r}")

    def _flush(self) -> None:
        c = self.c
        if self.acts:
            c.executemany(
                "INSERT INTO activities(contact_id, kind, email_id, link_id, list_id, value, at,"
                " machine, bot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self.acts,
            )
            self.acts.clear()
        if self.anon:
            c.executemany(
                "INSERT INTO anonymous_events(email_id, token, kind, link_id, at, machine, bot)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                self.anon,
            )
            self.anon.clear()
        if self.changes:
            c.executemany(
                "INSERT INTO subscription_changes(contact_id, kind, list_id, email_id, at)"
                " VALUES (?, ?, ?, ?, ?)",
                self.changes,
            )
            self.changes.clear()
        if self.subs:  # in event order: the last change of a subscription wins
            c.executemany(
                "INSERT INTO subscriptions(contact_id, list_id, status, changed_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(contact_id, list_id)"
                " DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at",
                self.subs,
            )
            self.subs.clear()

    def _close(self, k: int) -> None:
        st = self.open_emails.pop(k, None)
        self.closed.add(k)
        if st is None:
            return
        eid = st.email_id
        # in key order: appending to these WITHOUT ROWID trees beats random inserts
        # (the email's rows are its engagement lists, token first, sorted as they are)
        self.c.executemany(
            "INSERT INTO recipient_engagement(email_id, token, opens, machine_opens, clicks,"
            f" bot_clicks, last_click_at, unsubscribed, spam) VALUES ({int(eid)}, ?, ?, ?, ?,"
            " ?, ?, ?, ?)",
            sorted(st.engagement.values()),
        )
        engagement = st.engagement
        self.c.executemany(
            "INSERT INTO link_recipients(link_id, token, clicks) VALUES (?, ?, ?)",
            sorted((link_id, engagement[c][E_TOKEN], n)
                   for (link_id, c), n in st.link_clicks.items()),
        )

    def finish(self) -> None:
        for k in list(self.open_emails):
            self._close(k)
        self._flush()
        c = self.c
        c.executemany(
            "UPDATE contacts SET consent = 1, consent_at = ? WHERE id = ?",
            ((at, cc + 1) for cc, at in self.consent_at.items()),
        )
        c.executemany(
            "UPDATE contacts SET unsubscribed_all = 1, unsubscribed_all_at = ? WHERE id = ?",
            ((at, cc + 1) for cc, at in self.unsub_all.items()),
        )
        c.executemany(
            "UPDATE contacts SET spam_reported_at = ? WHERE id = ?",
            ((at, cc + 1) for cc, at in self.spam_reported.items()),
        )
        sets = ", ".join(f"{col} = ?" for col in _STAT_COLUMNS)
        c.executemany(
            f"UPDATE email_stats SET {sets} WHERE email_id = ?",
            ((*v, eid) for eid, v in self.stats.items()),
        )
        c.executemany(
            "UPDATE link_stats SET clicked = ?, clicks_total = ?, bot_clicks = ? WHERE link_id = ?",
            ((*v, lid) for lid, v in self.link_stats.items()),
        )
