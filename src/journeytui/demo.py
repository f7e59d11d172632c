"""Deterministic, realistic demo data of any size (``journeytui demo``).

Plain Python: never imports textual.

Same ``contacts`` and ``seed`` → same store content, always: every random choice comes
from one ``random.Random(seed)``, every time from a fixed clock (the data runs from
2026-01-05 to 2026-11-01 UTC; the store says it was created on 2026-11-01), and the
anonymous recipient tokens use a key derived from the seed.

How it is built
---------------
1. The simulation (:class:`_Simulation`) decides who the contacts are (names,
   consent, lists, habits) and, campaign by campaign in send order, who was sent
   what and what each recipient did.  It produces an ordered stream of events:
   the reference data first (lists, emails, links, contacts, subscriptions), then
   every activity in time order (opens, clicks, unsubscribes, spam reports,
   confirmations, form submissions, page visits, consent given).  A campaign's send
   log is one event at its send time (:class:`SendBatch`, rows in send order).
   Campaigns are simulated lazily, so only those whose replies are still arriving
   are held in memory.
2. A sink writes the stream.  :class:`_RecorderSink` feeds each event to
   :class:`~journeytui.store.recorder.Recorder`, the one way activity is written.
   :class:`_BulkSink` computes the same rows and counters in memory and inserts
   them in batches — needed for 10⁵–10⁶ contacts.  A test proves that, for the
   same stream, both give identical tables (``tests/demo/test_bulk_equivalence.py``).
3. The demo journeys (``journeytui.domain.journeys.install_demo_journeys``) are saved
   and evaluated last, so the store opens with funnels already filled.

The story a marketer should recognise: monthly newsletters and campaigns to four
lists; people who clicked the "Spring product teaser" products later click pricing
and the webinar sign-up, register, fill in "Contact sales" and some become
customers; a share of contacts go quiet in the summer (no clicks in the last
campaigns: the At-risk exit); Apple-Mail-style machine opens; a few link scanners
clicking every link within seconds of delivery (bot clicks); a flash sale that
draws spam reports and unsubscribes; a renewal reminder with a bad delivery rate;
scheduled emails in December and a few drafts with no sends at all.
"""

from __future__ import annotations

import calendar
import hashlib
import heapq
import json
import os
import random
import sqlite3
import time
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeytui.errors import UserError
from journeytui.store.db import Store
from journeytui.store.recorder import (
    BOT_AFTER_DELIVERY_S,
    BOT_BURST_S,
    ContactRef,
    Recorder,
    recipient_token,
)

DEFAULT_CONTACTS = 2000
DEFAULT_SEED = 2026
MAX_CONTACTS = 5_000_000

# The demo journeys (issue 3) are saved and evaluated last; see the single call site
# in generate().
INSTALL_DEMO_JOURNEYS = True


def _ts(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return calendar.timegm((y, mo, d, h, mi, 0))


EPOCH = _ts(2026, 1, 5, 9)  # first day of the simulated year
DATA_END = _ts(2026, 11, 1)  # nothing happens at or after this instant
CREATED_AT = DATA_END  # meta.created_at of a demo store
HISTORY_START = _ts(2024, 3, 1)  # earliest sign-up of the contacts already on file
LAPSED_SINCE = _ts(2026, 8, 1)  # "We miss you" goes to those without a click since

DAY = 86_400
HOUR = 3_600

# -- the catalog (shared with the demo journeys: keep the names exactly) ---------------
LISTS = ("Newsletter", "Product updates", "Webinars", "Customers")
NEWSLETTER, PRODUCT_UPDATES, WEBINARS, CUSTOMERS = range(4)

WWW = "https://www.example.com"
PRICING = f"{WWW}/pricing"
CONTACT_SALES = f"{WWW}/contact-sales"
TRACKER = f"{WWW}/products/tracker"
PLANNER = f"{WWW}/products/planner"
WHITEPAPER = f"{WWW}/whitepaper/email-benchmarks"
WEBINAR_SIGNUP = f"{WWW}/webinar/signup"
DEMO_PAGE = f"{WWW}/demo"

FORM_WEBINAR = "Webinar registration"
FORM_CONTACT_SALES = "Contact sales"
FORM_WHITEPAPER = "Whitepaper download"
VISIT_PAGES = (PRICING, DEMO_PAGE, TRACKER)


@dataclass(frozen=True)
class EmailSpec:
    """One email of the demo calendar and how its audience tends to react."""

    name: str
    subject: str
    list_index: int
    status: str  # draft | scheduled | sent
    send_at: int | None
    links: tuple[tuple[str, float], ...]  # (url, how attractive)
    open_appeal: float = 1.0
    click_appeal: float = 1.0
    hard_bounce: float = 0.003
    soft_bounce: float = 0.007
    unsub: float = 0.002  # from the email's list, per delivered recipient
    unsub_all: float = 0.0006
    spam: float = 0.0002
    min_spam: int = 0  # the story needs at least this many spam reports
    lapsed_only: bool = False  # a re-engagement email to those without recent clicks


def _newsletter(month: int, day: int, subject: str, links: tuple[tuple[str, float], ...]) -> EmailSpec:
    label = calendar.month_name[month]
    return EmailSpec(
        f"Newsletter — {label} 2026", subject, NEWSLETTER, "sent", _ts(2026, month, day, 10), links
    )


def _blog(slug: str) -> str:
    return f"{WWW}/blog/{slug}"


EMAILS: tuple[EmailSpec, ...] = (
    _newsletter(1, 6, "Happy new year: what's coming in 2026",
                ((_blog("2026-roadmap"), 3.0), (TRACKER, 1.5), (PLANNER, 1.0))),
    _newsletter(2, 3, "Five subject lines that worked in 2025",
                ((_blog("subject-lines"), 3.0), (TRACKER, 1.0))),
    EmailSpec("Whitepaper: Email benchmarks 2026", "Email benchmarks 2026: the numbers are in",
              NEWSLETTER, "sent", _ts(2026, 2, 17, 10),
              ((WHITEPAPER, 4.0), (PRICING, 0.8)), open_appeal=1.1, click_appeal=1.4),
    _newsletter(3, 3, "Spring cleaning for your lists",
                ((_blog("list-hygiene"), 3.0), (PLANNER, 1.2), (PRICING, 0.6))),
    EmailSpec("Spring product teaser", "Something new is coming to Tracker and Planner",
              PRODUCT_UPDATES, "sent", _ts(2026, 3, 17, 15),
              ((TRACKER, 3.0), (PLANNER, 2.5), (PRICING, 0.8)), open_appeal=1.15,
              click_appeal=1.4),
    _newsletter(4, 7, "Meet the team behind Tracker",
                ((_blog("meet-the-team"), 2.0), (WEBINAR_SIGNUP, 1.5), (TRACKER, 1.5))),
    EmailSpec("Webinar invitation: Journeys 101", "Live on April 28: Journeys 101",
              WEBINARS, "sent", _ts(2026, 4, 14, 14),
              ((WEBINAR_SIGNUP, 4.0), (TRACKER, 1.0)), open_appeal=1.1, click_appeal=1.3),
    EmailSpec("Webinar reminder: Journeys 101", "One week to go: Journeys 101",
              WEBINARS, "sent", _ts(2026, 4, 21, 9),
              ((WEBINAR_SIGNUP, 1.0),), open_appeal=0.9, click_appeal=0.8),
    EmailSpec("Webinar recording: Journeys 101", "The recording of Journeys 101 is ready",
              WEBINARS, "sent", _ts(2026, 4, 30, 16),
              ((f"{WWW}/webinar/journeys-101/recording", 3.0), (PRICING, 1.0))),
    _newsletter(5, 5, "Journeys that convert: three stories",
                ((_blog("customer-stories"), 3.0), (PLANNER, 1.0), (PRICING, 1.0))),
    EmailSpec("Product update: Planner 2.0", "Planner 2.0 is here",
              PRODUCT_UPDATES, "sent", _ts(2026, 5, 19, 15),
              ((PLANNER, 3.0), (PRICING, 1.0), (DEMO_PAGE, 1.0)), click_appeal=1.1),
    _newsletter(6, 2, "Mid-year check-in",
                ((_blog("mid-year"), 2.0), (WHITEPAPER, 1.5), (PRICING, 0.8))),
    EmailSpec("Pricing update", "Your plan and our new prices",
              CUSTOMERS, "sent", _ts(2026, 6, 9, 9),
              ((PRICING, 3.0), (CONTACT_SALES, 1.5)), open_appeal=1.3, click_appeal=1.2),
    _newsletter(7, 7, "Summer reading list",
                ((_blog("summer-reading"), 3.0), (WHITEPAPER, 1.5))),
    EmailSpec("Flash sale: 48 hours only", "48 hours only: 40 % off every plan",
              NEWSLETTER, "sent", _ts(2026, 7, 14, 8),
              ((f"{WWW}/offers/flash-sale", 3.0), (PRICING, 1.0)), open_appeal=0.9,
              unsub=0.03, unsub_all=0.005, spam=0.006, min_spam=6),
    EmailSpec("Product update: Tracker integrations", "Tracker now talks to your CRM",
              PRODUCT_UPDATES, "sent", _ts(2026, 7, 21, 15),
              ((f"{WWW}/integrations", 3.0), (TRACKER, 2.0))),
    _newsletter(8, 4, "Is your list fit for autumn?",
                ((_blog("deliverability"), 3.0), (TRACKER, 1.0))),
    EmailSpec("Customer survey 2026", "Two minutes to tell us how we're doing",
              CUSTOMERS, "sent", _ts(2026, 8, 18, 9),
              ((f"{WWW}/survey/2026", 3.0),), open_appeal=1.1, click_appeal=0.9),
    _newsletter(9, 1, "New: funnel reports",
                ((_blog("funnel-reports"), 3.0), (TRACKER, 1.5), (WEBINAR_SIGNUP, 1.5))),
    EmailSpec("Webinar invitation: Advanced segmentation", "Live on September 29: Advanced segmentation",
              WEBINARS, "sent", _ts(2026, 9, 15, 14),
              ((f"{WEBINAR_SIGNUP}/advanced-segmentation", 4.0), (PLANNER, 1.0)),
              open_appeal=1.1, click_appeal=1.2),
    EmailSpec("Webinar reminder: Advanced segmentation", "One week to go: Advanced segmentation",
              WEBINARS, "sent", _ts(2026, 9, 22, 9),
              ((f"{WEBINAR_SIGNUP}/advanced-segmentation", 1.0),), open_appeal=0.9,
              click_appeal=0.8),
    EmailSpec("Autumn release notes", "What's new this autumn",
              PRODUCT_UPDATES, "sent", _ts(2026, 9, 29, 15),
              ((TRACKER, 2.0), (PLANNER, 2.0), (PRICING, 1.2))),
    _newsletter(10, 6, "Q4 planning checklist",
                ((_blog("q4-checklist"), 3.0), (PRICING, 1.0), (DEMO_PAGE, 1.0))),
    EmailSpec("Renewal reminder", "Your subscription renews next month",
              CUSTOMERS, "sent", _ts(2026, 10, 13, 9),
              ((PRICING, 2.0), (CONTACT_SALES, 2.0)), open_appeal=1.2,
              hard_bounce=0.05, soft_bounce=0.04),
    EmailSpec("We miss you", "Still interested? Tell us what you'd like to hear about",
              NEWSLETTER, "sent", _ts(2026, 10, 20, 10),
              ((f"{WWW}/preferences", 3.0), (PRICING, 0.5)), open_appeal=0.6,
              click_appeal=0.8, unsub=0.006, lapsed_only=True),
    EmailSpec("Newsletter — December 2026", "The year in review",
              NEWSLETTER, "scheduled", _ts(2026, 12, 1, 10),
              ((_blog("year-in-review"), 3.0), (PRICING, 1.0))),
    EmailSpec("Webinar invitation: Year in review", "Live on December 15: our year in review",
              WEBINARS, "scheduled", _ts(2026, 12, 8, 14),
              ((f"{WEBINAR_SIGNUP}/year-in-review", 3.0),)),
    EmailSpec("Draft: Summer sale", "Summer sale (draft)", NEWSLETTER, "draft", None,
              ((f"{WWW}/offers/summer-sale", 1.0),)),
    EmailSpec("Draft: Customer case study", "How Northfield doubled its webinar sign-ups",
              CUSTOMERS, "draft", None, ((_blog("case-study"), 1.0), (CONTACT_SALES, 1.0))),
    EmailSpec("Draft: Q1 2027 roadmap", "What's coming in early 2027", PRODUCT_UPDATES,
              "draft", None, ((_blog("2027-roadmap"), 1.0), (PRICING, 1.0))),
)

# -- people ----------------------------------------------------------------------------
FIRST_NAMES = (
    "Anna", "Lukas", "Sofía", "Mateo", "Chloé", "Théo", "Zoë", "Noah", "Amélie", "Jonas",
    "Björn", "Søren", "Åsa", "Ingrid", "Matías", "Lucía", "José", "Inés", "Joana", "João",
    "Giulia", "Marco", "Francesca", "Luca", "Agnieszka", "Łukasz", "Zofia", "Jakub",
    "Olga", "Dmitri", "Aiko", "Haruto", "Yuki", "Sakura", "Wei", "Mei", "Jun", "Hana",
    "Min-jun", "Ji-woo", "Priya", "Arjun", "Ananya", "Rohan", "Fatima", "Omar", "Aisha",
    "Youssef", "Leila", "Amir", "Chidi", "Amara", "Kwame", "Ngozi", "Thabo", "Zanele",
    "Liam", "Olivia", "Emma", "Oliver", "Ava", "Ethan", "Mia", "James", "Isabella",
    "Lucas", "Grace", "Daniel", "Emily", "Samuel", "Hannah", "Benjamin", "Charlotte",
    "Henry", "Nora", "Erik", "Freya", "Mikael", "Élodie", "François", "Renée", "Hélène",
    "Jürgen", "Jörg", "Ayşe", "Mehmet", "Emre", "Elif", "Linh", "Minh", "Thảo",
    "Siobhán", "Aoife", "Ciarán", "Seán", "Niamh", "Tomás", "Kalani", "Ana", "Pedro",
    "Camila", "Valentina", "Diego", "Carmen", "Ravi", "Meera", "Kofi", "Esi", "Tariq",
    "Noor", "Dániel", "Réka", "Petra", "Milan", "Katarzyna", "Ivan", "Nadia", "Sven",
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "García", "Martínez", "López",
    "González", "Fernández", "Rodríguez", "Dubois", "Lefèvre", "Moreau", "Girard",
    "Rossi", "Russo", "Bianchi", "Ricci", "Esposito", "Nowak", "Kowalski", "Wiśniewska",
    "Wójcik", "Kowalczyk", "Andersson", "Johansson", "Nilsson", "Lindström", "Sørensen",
    "Jensen", "Nielsen", "Hansen", "Larsen", "Silva", "Santos", "Oliveira", "Pereira",
    "Costa", "Smith", "Johnson", "Williams", "Brown", "Jones", "Taylor", "Wilson",
    "Davies", "Evans", "Thomas", "Walker", "O'Brien", "Murphy", "Kelly", "O'Connor",
    "Tanaka", "Suzuki", "Takahashi", "Watanabe", "Yamamoto", "Kim", "Lee", "Park", "Choi",
    "Chen", "Wang", "Li", "Zhang", "Liu", "Nguyễn", "Trần", "Lê", "Phạm", "Sharma",
    "Patel", "Singh", "Gupta", "Iyer", "Khan", "Haddad", "Al-Sayed", "Mansour", "Okafor",
    "Mensah", "Adeyemi", "Nkosi", "Dlamini", "Yılmaz", "Kaya", "Demir", "Öztürk", "Novák",
    "Dvořák", "Horváth", "Kovács", "Nagy", "Papadopoulos", "Ivanova", "Petrov",
    "van der Berg", "de Vries", "Janssen", "Bakker", "Visser", "Cohen", "Levi", "Fontaine",
    "Beaumont", "Osei", "Boateng", "Rahman", "Hossain", "Ferreira", "Almeida",
)
DOMAINS = (
    ("example.com", 6.0), ("example.org", 3.0), ("example.net", 3.0),
    ("mail.example.com", 2.0), ("mail.example.org", 1.0), ("post.example.net", 1.0),
    ("inbox.example.org", 1.0), ("corp.example.com", 1.5), ("studio.example", 0.7),
    ("agency.example", 0.7), ("shop.example", 0.5), ("uni.example.edu", 0.6),
)
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "ı": "i", "œ": "oe"})


def _ascii(name: str) -> str:
    """Lower-case ASCII for an address: 'Søren' → 'soren', "O'Brien" → 'obrien'."""
    s = unicodedata.normalize("NFKD", name.lower().translate(_FOLD))
    return "".join(ch for ch in s if "a" <= ch <= "z" or "0" <= ch <= "9")


# Engagement tiers: share of contacts, chance to open, chance to click once opened,
# weight for unsubscribing / reporting spam.
TIERS = ("champion", "engaged", "casual", "cold")
TIER_SHARE = (0.06, 0.22, 0.40, 0.32)
TIER_OPEN = (0.80, 0.50, 0.22, 0.04)
TIER_CLICK = (0.50, 0.30, 0.13, 0.08)
TIER_UNSUB = (0.2, 0.5, 1.0, 2.0)
TIER_VISITS = (3.0, 1.5, 0.4, 0.05)  # organic page visits over the year (consented)
LIST_SHARE = (0.72, 0.42, 0.26, 0.10)
CONSENT_SHARE = 0.70
LATE_CONSENT_SHARE = 0.05  # of those without consent: give it later in the year
JOINER_SHARE = 0.38  # sign up during the simulated year (double opt-in)
CONFIRM_SHARE = 0.85  # of those: confirm; the rest stay pending
OLD_UNSUB_SHARE = 0.04  # contacts on file who left one list before the year began
MPP_SHARE = 0.20  # mail clients that open everything (machine opens)
QUIET_SHARE = 0.15  # of non-cold contacts: go quiet in the summer
SCANNER_SHARE = 0.004  # link scanners: click every link within seconds (bot clicks)
LATE_SCANNER_SHARE = 0.3  # of those: a gateway that re-scans later, not on delivery
ON_DELIVERY, LATE = 1, 2  # kinds of scanner
SEND_SPREAD_S = 1800  # a campaign goes out over half an hour

# Event kinds (the first element of every event tuple is the time).
SEND, OPEN, CLICK, UNSUB, SPAM, CONFIRM, FORM, VISIT, CONSENT, SUBSCRIBE, END = (
    "send", "open", "click", "unsubscribe", "spam", "confirm", "form", "visit",
    "consent", "subscribe", "end",
)

Event = tuple[int, str, int, int, Any]  # (at, kind, email index or -1, contact index, extra)

# Send statuses in a SendBatch
DELIVERED, BOUNCED_HARD, BOUNCED_SOFT, DROPPED = range(4)
SEND_STATUS = ("delivered", "bounced_hard", "bounced_soft", "dropped")
# sends.proofs the Recorder writes for each (processed; + bounce; + dropped)
SEND_PROOFS = (1, 9, 9, 17)


@dataclass
class SendBatch:
    """The send log of one campaign, in send order (the extra of a SEND event)."""

    contacts: array[int]
    times: array[int]
    statuses: bytearray  # DELIVERED, BOUNCED_HARD, …


def token_key_for(seed: int) -> bytes:
    """The recipient-token key of a demo store: derived from the seed (deterministic)."""
    return hashlib.blake2b(f"journeytui demo {seed}".encode(), digest_size=16).digest()


# -- the simulation ----------------------------------------------------------------------
@dataclass
class People:
    """The contacts, as parallel arrays indexed by contact index (id − 1)."""

    address: list[str]
    first: list[str]
    last: list[str]
    created_at: array[int]
    consent: bytearray  # at creation
    tier: bytearray
    mpp: bytearray
    scanner: bytearray  # 0, ON_DELIVERY or LATE
    quiet_after: array[int]  # 0: never goes quiet
    # per list: when the subscription became 'subscribed' (0: not subscribed)
    eligible: list[array[int]]
    # initial subscription rows: (contact, list, status, changed_at)
    subscriptions: Subscriptions


_SUB_STATUS = ("pending", "subscribed", "unsubscribed")


class Subscriptions:
    """Subscription rows (contact, list, status, changed_at), stored compactly."""

    def __init__(self) -> None:
        self.contacts = array("i")
        self.lists = bytearray()
        self.statuses = bytearray()
        self.times = array("q")

    def append(self, row: tuple[int, int, str, int]) -> None:
        c, li, status, at = row
        self.contacts.append(c)
        self.lists.append(li)
        self.statuses.append(_SUB_STATUS.index(status))
        self.times.append(at)

    def __iter__(self) -> Iterator[tuple[int, int, str, int]]:
        for c, li, st, at in zip(self.contacts, self.lists, self.statuses, self.times,
                                 strict=True):
            yield c, li, _SUB_STATUS[st], at

    def __len__(self) -> int:
        return len(self.contacts)

    def clear(self) -> None:
        self.contacts, self.lists = array("i"), bytearray()
        self.statuses, self.times = bytearray(), array("q")


class _Simulation:
    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.people = self._make_people()
        p = self.people
        # State that campaigns change, with the time of the change.
        # per list: contact -> when they left it (unsubscribed from it)
        self.unsub_list: list[dict[int, int]] = [{} for _ in LISTS]
        # contact -> when they became unreachable on every list (unsubscribed from
        # all, or a hard bounce)
        self.gone: dict[int, int] = {}
        self.unsub_all: set[int] = set()
        self.spam_at: dict[int, int] = {}
        self.interest: dict[int, list[int]] = {}  # times a product link was clicked
        self.registered: dict[int, int] = {}  # webinar registration time
        self.last_click = array("q", bytes(8 * n))
        self.sends_count = array("i", bytes(4 * n))
        self.consent_at_time: dict[int, int] = {}  # late consent
        self.misc: list[Event] = self._misc_events(p)

    # -- people ------------------------------------------------------------------------
    def _make_people(self) -> People:
        rng, n = self.rng, self.n
        span_old = EPOCH - HISTORY_START
        span_new = DATA_END - 3 * DAY - EPOCH
        created = sorted(
            EPOCH + rng.randrange(span_new) if rng.random() < JOINER_SHARE
            else HISTORY_START + rng.randrange(span_old)
            for _ in range(n)
        )
        domains = [d for d, _ in DOMAINS]
        dom_w = list(_cumulative([w for _, w in DOMAINS]))
        first_ascii = [_ascii(x) for x in FIRST_NAMES]
        last_ascii = [_ascii(x) for x in LAST_NAMES]
        used: set[str] = set()
        address: list[str] = []
        first: list[str] = []
        last: list[str] = []
        consent = bytearray(n)
        tier = bytearray(n)
        mpp = bytearray(n)
        scanner = bytearray(n)
        quiet_after = array("q", bytes(8 * n))
        eligible = [array("q", bytes(8 * n)) for _ in LISTS]
        subs = Subscriptions()
        tier_cum = list(_cumulative(TIER_SHARE))
        quiet_lo, quiet_hi = _ts(2026, 6, 10), _ts(2026, 8, 20)
        nf, nl = len(FIRST_NAMES), len(LAST_NAMES)
        rand, randrange, choices = rng.random, rng.randrange, rng.choices
        for c in range(n):
            fi, li = randrange(nf), randrange(nl)
            f, lname = first_ascii[fi], last_ascii[li]
            style = randrange(7)
            if style == 0:
                local = f"{f}.{lname}"
            elif style == 1:
                local = f"{f[0]}{lname}"
            elif style == 2:
                local = f"{f}{lname[0]}"
            elif style == 3:
                local = f"{f}_{lname}"
            elif style == 4:
                local = f"{f}.{lname}{randrange(60, 100):02d}"
            elif style == 5:
                local = f"{lname}.{f}"
            else:
                local = f"{f}.{lname}"
            domain = choices(domains, cum_weights=dom_w)[0]
            addr = f"{local}@{domain}"
            k = 2
            while addr in used:
                addr = f"{local}{k}@{domain}"
                k += 1
            used.add(addr)
            address.append(addr)
            first.append(FIRST_NAMES[fi])
            last.append(LAST_NAMES[li])
            t = _pick(tier_cum, rand())
            consent[c] = rand() < CONSENT_SHARE
            mpp[c] = rand() < MPP_SHARE
            if rand() < SCANNER_SHARE:
                scanner[c] = LATE if rand() < LATE_SCANNER_SHARE else ON_DELIVERY
            if t < 3 and rand() < QUIET_SHARE:
                quiet_after[c] = quiet_lo + randrange(quiet_hi - quiet_lo)
            created_at = created[c]
            lists = [i for i, share in enumerate(LIST_SHARE) if rand() < share] or [NEWSLETTER]
            if CUSTOMERS in lists and t > 0 and rand() < 0.4:
                t -= 1  # customers are a little more engaged
            tier[c] = t
            joiner = created_at >= EPOCH
            if joiner:
                for li_ in lists:
                    subs.append((c, li_, "pending", created_at))
                # confirmation time (if any) is decided in _misc_events
            else:
                left = lists[randrange(len(lists))] if rand() < OLD_UNSUB_SHARE else -1
                for li_ in lists:
                    if li_ == left:
                        gone = created_at + randrange(max(1, EPOCH - created_at))
                        subs.append((c, li_, "unsubscribed", gone))
                    else:
                        subs.append((c, li_, "subscribed", created_at))
                        eligible[li_][c] = created_at
        if not any(consent):
            consent[0] = 1  # someone's activity must show
        # both kinds of scanner even in a small store, so both bot rules show
        for kind in (ON_DELIVERY, LATE):
            if kind not in scanner:
                scanner[rng.randrange(n)] = kind
        return People(
            address, first, last, array("q", created), consent, tier, mpp, scanner,
            quiet_after, eligible, subs,
        )

    def _misc_events(self, p: People) -> list[Event]:
        """Confirmations, late consent and organic page visits: known up front."""
        rng = self.rng
        events: list[Event] = []
        pending: dict[int, list[int]] = {}
        for c, li, status, _ in p.subscriptions:
            if status == "pending":
                pending.setdefault(c, []).append(li)
        for c in sorted(pending):
            if rng.random() >= CONFIRM_SHARE:
                continue
            at = p.created_at[c] + rng.randint(120, 36 * HOUR)
            if at >= DATA_END:
                continue
            for li in pending[c]:
                events.append((at, CONFIRM, -1, c, li))
                p.eligible[li][c] = at
        for c in range(self.n):
            if p.consent[c]:
                start = max(p.created_at[c], EPOCH)
            elif rng.random() < LATE_CONSENT_SHARE:
                start = max(p.created_at[c], EPOCH) + rng.randint(HOUR, 120 * DAY)
                if start >= DATA_END - DAY:
                    continue
                events.append((start, CONSENT, -1, c, None))
                self.consent_at_time[c] = start
            else:
                continue
            end = p.quiet_after[c] or DATA_END
            rate = TIER_VISITS[p.tier[c]]
            k = int(rate) + (rng.random() < rate - int(rate))
            for _ in range(k):
                if end - start <= 60:
                    break
                at = start + 60 + rng.randrange(end - start - 60)
                page = VISIT_PAGES[_pick(_VISIT_CUM, rng.random())]
                events.append((at, VISIT, -1, c, page))
        events.sort(key=_at)
        return events

    # -- one campaign ------------------------------------------------------------------
    def email_events(self, k: int) -> list[Event]:
        """Everything email *k* caused, in time order, ending with an END marker."""
        spec = EMAILS[k]
        assert spec.send_at is not None and spec.status == "sent"
        rng, p = self.rng, self.people
        rand, randint = rng.random, rng.randint
        t0 = spec.send_at
        li = spec.list_index
        elig = p.eligible[li]
        left, gone, spam_at = self.unsub_list[li], self.gone, self.spam_at
        recipients = [c for c in range(self.n) if 0 < elig[c] <= t0]
        if left or gone:
            recipients = [
                c for c in recipients
                if left.get(c, t0) >= t0 and gone.get(c, t0) >= t0
            ]
        if spec.lapsed_only:
            sends_count, last_click = self.sends_count, self.last_click
            recipients = [
                c for c in recipients
                if sends_count[c] >= 3 and last_click[c] < LAPSED_SINCE
            ]
        nr = len(recipients)
        events: list[Event] = []
        if nr == 0:
            events.append((t0, END, k, -1, None))
            return events
        # The whole send log of the campaign is one event at t0 (rows in send order);
        # each recipient's send time is still its own, spread over SEND_SPREAD_S.
        batch = SendBatch(array("i", recipients), array("q"), bytearray(nr))
        times, codes = batch.times, batch.statuses
        sendable: list[int] = []
        for i, c in enumerate(recipients):
            u = spam_at.get(c)
            if u is not None and u < t0:
                codes[i] = DROPPED  # the provider suppresses spam reporters
            else:
                sendable.append(i)
        # bounces: exact shares, so a story email always shows its bad delivery
        n_hard = _share(rng, len(sendable), spec.hard_bounce)
        n_soft = _share(rng, len(sendable), spec.soft_bounce)
        bounced = rng.sample(sendable, min(len(sendable), n_hard + n_soft))
        for j, i in enumerate(bounced):
            codes[i] = BOUNCED_HARD if j < n_hard else BOUNCED_SOFT
        delivered: list[tuple[int, int]] = []
        sends_count = self.sends_count
        for i, c in enumerate(recipients):
            s = t0 + (i * SEND_SPREAD_S) // nr
            times.append(s)
            sends_count[c] += 1
            code = codes[i]
            if code == DELIVERED:
                delivered.append((c, s))
            elif code == BOUNCED_HARD:
                gone.setdefault(c, s)
        events.append((t0, SEND, k, -1, batch))

        urls = [u for u, _ in spec.links]
        base_w = [w for _, w in spec.links]
        boost_idx = [i for i, u in enumerate(urls) if _is_sales_link(u)]
        product_idx = {i for i, u in enumerate(urls) if "/products/" in u}
        base_cum = list(_cumulative(base_w))
        spam_count = 0
        spam_set: set[int] = set()
        tier, mpp, scanner, quiet_after = p.tier, p.mpp, p.scanner, p.quiet_after
        unsub_all = self.unsub_all
        # chances by engagement tier
        p_open = [x * spec.open_appeal for x in TIER_OPEN]
        p_unsub_all = [spec.unsub_all * x for x in TIER_UNSUB]
        p_unsub_any = [(spec.unsub_all + spec.unsub) * x for x in TIER_UNSUB]
        p_spam = [spec.spam * x for x in TIER_UNSUB]
        add = events.append
        for c, s in delivered:
            if mpp[c]:
                add((s + randint(1, 60), OPEN, k, c, True))
            if scanner[c] and rand() < 0.6:
                # a link scanner: every link within seconds, right on delivery or on a
                # later re-scan (then only the burst gives it away)
                t = s + (randint(2, 5) if scanner[c] == ON_DELIVERY else randint(300, 2 * HOUR))
                for url in urls:
                    add((t, CLICK, k, c, url))
                    t += randint(0, 1)
            t_ = tier[c]
            q = quiet_after[c]
            quiet = q != 0 and q < s
            opened_at = 0
            awake = not quiet or (spec.lapsed_only and rand() < 0.25)
            if awake and rand() < p_open[t_]:
                opened_at = s + _open_delay(rng)
                if opened_at < DATA_END:
                    add((opened_at, OPEN, k, c, False))
                    if rand() < 0.25:
                        again = opened_at + randint(600, 3 * DAY)
                        if again < DATA_END:
                            add((again, OPEN, k, c, False))
                else:
                    opened_at = 0
            if opened_at:
                interest = _count_before(self.interest.get(c), s)
                p_click = TIER_CLICK[t_] * spec.click_appeal * (1.0 + 0.6 * interest)
                reg = self.registered.get(c)
                if reg is not None and reg < s and "recording" in urls[0]:
                    p_click *= 3.0
                if rand() < min(0.95, p_click):
                    if interest and boost_idx:
                        w = list(base_w)
                        for i in boost_idx:
                            w[i] *= 1.0 + 2.0 * interest
                        cum = list(_cumulative(w))
                    else:
                        cum = base_cum
                    n_links = 1 + (rand() < 0.3) + (rand() < 0.1)
                    chosen: list[int] = []
                    for _ in range(n_links):
                        i = _pick(cum, rand() * cum[-1])
                        if i not in chosen:
                            chosen.append(i)
                    t = opened_at + randint(15, 600)
                    for i in chosen:
                        if t >= DATA_END:
                            break
                        add((t, CLICK, k, c, urls[i]))
                        if rand() < 0.12:
                            t2 = t + randint(HOUR, 2 * DAY)
                            if t2 < DATA_END:
                                add((t2, CLICK, k, c, urls[i]))
                        self.last_click[c] = max(self.last_click[c], t)
                        if i in product_idx:
                            self.interest.setdefault(c, []).append(t)
                        self._follow_up(c, urls[i], t, interest, add)
                        t += randint(8, 300)
            # leaving: from all, from the list, or reporting spam
            r = rand()
            if r < p_unsub_all[t_]:
                at = (opened_at or s + _open_delay(rng)) + randint(20, 400)
                if at < DATA_END and c not in unsub_all:
                    add((at, UNSUB, k, c, None))
                    unsub_all.add(c)
                    gone[c] = min(gone.get(c, at), at)
            elif r < p_unsub_any[t_]:
                at = (opened_at or s + _open_delay(rng)) + randint(20, 400)
                if at < DATA_END and c not in left:
                    add((at, UNSUB, k, c, li))
                    left[c] = at
            if rand() < p_spam[t_]:
                at = (opened_at or s + _open_delay(rng)) + randint(10, 300)
                if at < DATA_END:
                    add((at, SPAM, k, c, None))
                    spam_set.add(c)
                    spam_count += 1
                    spam_at.setdefault(c, at)
        if spam_count < spec.min_spam:
            rest = [(c, s) for c, s in delivered if c not in spam_set]
            for c, s in rng.sample(rest, min(len(rest), spec.min_spam - spam_count)):
                at = s + _open_delay(rng) + randint(10, 300)
                if at < DATA_END:
                    add((at, SPAM, k, c, None))
                    spam_at.setdefault(c, at)
        events.sort(key=_at)
        events.append((events[-1][0], END, k, -1, None))
        return events

    def _follow_up(
        self, c: int, url: str, t: int, interest: int, add: Callable[[Event], None]
    ) -> None:
        """What a click leads to on the website: registrations, visits, new customers."""
        rng = self.rng
        if "/webinar/signup" in url:
            if rng.random() < 0.65 and c not in self.registered:
                at = t + rng.randint(60, 900)
                if at < DATA_END:
                    self.registered[c] = at
                    if self._consented(c, at):
                        add((at, FORM, -1, c, FORM_WEBINAR))
        elif url == WHITEPAPER:
            if rng.random() < 0.7:
                at = t + rng.randint(30, 300)
                if at < DATA_END and self._consented(c, at):
                    add((at, FORM, -1, c, FORM_WHITEPAPER))
        elif url in (PRICING, CONTACT_SALES):
            at = t + rng.randint(HOUR, 3 * DAY)
            if rng.random() < 0.4 and at < DATA_END and self._consented(c, at):
                add((at, VISIT, -1, c, DEMO_PAGE))
            keen = 0.5 if url == CONTACT_SALES else 0.1 + 0.15 * min(interest, 2)
            if rng.random() < keen:
                at = t + rng.randint(300, 2 * HOUR)
                if at < DATA_END:
                    if self._consented(c, at):
                        add((at, FORM, -1, c, FORM_CONTACT_SALES))
                    # some become customers a few weeks later
                    elig = self.people.eligible[CUSTOMERS]
                    if elig[c] == 0 and rng.random() < 0.4:
                        joined = at + rng.randint(14 * DAY, 40 * DAY)
                        if joined < DATA_END:
                            add((joined, SUBSCRIBE, -1, c, CUSTOMERS))
                            elig[c] = joined

    def _consented(self, c: int, at: int) -> bool:
        """Whether *c* has tracking consent at *at* (website activity is kept only then)."""
        if self.people.consent[c]:
            return True
        given = self.consent_at_time.get(c)
        return given is not None and given <= at

    # -- the whole stream ----------------------------------------------------------------
    def activity(self) -> Iterator[Event]:
        """Every activity in time order; campaigns are simulated lazily in send order."""
        sent = sorted(
            (i for i, e in enumerate(EMAILS) if e.status == "sent"),
            key=lambda i: (EMAILS[i].send_at, i),
        )
        heap: list[tuple[int, int, list[Event]]] = []

        def push(rank: int, events: list[Event]) -> None:
            events.reverse()  # pop() from the end yields them in order
            if events:
                heapq.heappush(heap, (events[-1][0], rank, events))

        misc, self.misc = self.misc, []  # consumed here (it can be large)
        push(-1, misc)
        nxt = 0
        forms: set[str] = set()
        while heap or nxt < len(sent):
            if nxt < len(sent) and (not heap or EMAILS[sent[nxt]].send_at <= heap[0][0]):  # type: ignore[operator]
                push(nxt, self.email_events(sent[nxt]))
                nxt += 1
                continue
            _, rank, events = heap[0]
            ev = events.pop()
            if ev[1] == FORM:
                forms.add(ev[4])
            yield ev
            if events:
                heapq.heapreplace(heap, (events[-1][0], rank, events))
            else:
                heapq.heappop(heap)
        # A tiny store (a few dozen contacts) may see no submission of some form; the
        # demo journeys name every form, so one consented contact fills it in last.
        last = DATA_END - 1
        for form in (FORM_WEBINAR, FORM_WHITEPAPER, FORM_CONTACT_SALES):
            if form not in forms:
                c = next(c for c in range(self.n) if self._consented(c, last))
                yield (last, FORM, -1, c, form)


def _at(ev: Event) -> int:
    return ev[0]


def _cumulative(weights: Any) -> Iterator[float]:
    total = 0.0
    for w in weights:
        total += w
        yield total


_VISIT_CUM = list(_cumulative((0.4, 0.2, 0.4)))


def _pick(cum: list[float], x: float) -> int:
    """Index for *x* in cumulative weights *cum* (x in [0, cum[-1]))."""
    return min(bisect_left(cum, x), len(cum) - 1)


def _share(rng: random.Random, n: int, rate: float) -> int:
    """n·rate rounded at random: the expected share, with little spread."""
    x = n * rate
    return int(x) + (rng.random() < x - int(x))


def _open_delay(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.35:
        return rng.randint(60, HOUR)
    if r < 0.75:
        return rng.randint(HOUR, 12 * HOUR)
    if r < 0.95:
        return rng.randint(12 * HOUR, 2 * DAY)
    return rng.randint(2 * DAY, 6 * DAY)


def _count_before(times: list[int] | None, t: int) -> int:
    if not times:
        return 0
    return sum(1 for x in times if x < t)


def _is_sales_link(url: str) -> bool:
    return url in (PRICING, CONTACT_SALES, DEMO_PAGE) or "/webinar/signup" in url


# -- writing ---------------------------------------------------------------------------
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


class _RecorderSink:
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

    def finish(self) -> None:
        pass


# email_stats columns, in the order _BulkSink keeps them
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
    __slots__ = ("email_id", "engagement", "link_clicks", "sent_at")

    def __init__(self, email_id: int, n: int) -> None:
        self.email_id = email_id
        self.sent_at = array("q", bytes(8 * n))  # send time per contact (0: none)
        self.engagement: dict[int, list[Any]] = {}
        self.link_clicks: dict[tuple[int, int], int] = {}  # (link_id, contact) -> clicks


class _BulkSink:
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
            (
                (c + 1, p.address[c], p.first[c], p.last[c], p.consent[c],
                 p.created_at[c] if p.consent[c] else None, p.created_at[c])
                for c in range(self.n)
            ),
        )
        lists = self.ids.lists
        self.c.executemany(
            "INSERT INTO subscriptions(contact_id, list_id, status, changed_at) VALUES (?, ?, ?, ?)",
            ((c + 1, lists[li], status, at) for c, li, status, at in p.subscriptions),
        )

    def _email(self, k: int) -> _EmailState:
        st = self.open_emails.get(k)
        if st is None:
            if k in self.closed:
                raise AssertionError(f"event for email {k} after its end")
            st = self.open_emails[k] = _EmailState(self.ids.emails[k], self.n)
        return st

    def _eng(self, st: _EmailState, c: int) -> list[Any]:
        e = st.engagement.get(c)
        if e is None:
            token = recipient_token(self.key, st.email_id, self.people.address[c])
            e = st.engagement[c] = [token, 0, 0, 0, 0, None, 0, 0]
        return e

    def handle(self, ev: Event) -> None:
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
            eid = st.email_id
            self.c.executemany(
                "INSERT INTO sends(email_id, contact_id, status, at, proofs)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    (eid, c_ + 1, SEND_STATUS[code], t_, SEND_PROOFS[code])
                    for c_, t_, code in zip(x.contacts, x.times, codes, strict=True)
                ),
            )
        elif kind == OPEN:
            st = self.open_emails.get(k) or self._email(k)
            e = st.engagement.get(c) or self._eng(st, c)
            s = self.stats[st.email_id]
            consent = self.consent[c]
            if x:
                e[E_MACHINE] += 1
                s[S_MACHINE] += 1
            else:
                if e[E_OPENS] == 0:
                    s[S_OPENED] += 1
                e[E_OPENS] += 1
                s[S_OPENS] += 1
                if not consent:
                    s[S_ANON_OPENS] += 1
            if consent:
                self.acts.append((c + 1, "open", st.email_id, None, None, None, at, int(x), 0))
            else:
                self.anon.append((st.email_id, e[E_TOKEN], "open", None, at, int(x), 0))
        elif kind == CLICK:
            st = self.open_emails.get(k) or self._email(k)
            e = st.engagement.get(c) or self._eng(st, c)
            s = self.stats[st.email_id]
            link_id = self.ids.links[(k, x)]
            ls = self.link_stats[link_id]
            last = e[E_LAST]
            sa = st.sent_at[c]
            bot = (last is not None and 0 <= at - last < BOT_BURST_S) or (
                sa != 0 and sa <= at and at - sa < BOT_AFTER_DELIVERY_S
            )
            consent = self.consent[c]
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
                if not consent:
                    s[S_ANON_CLICKS] += 1
                key = (link_id, c)
                n = st.link_clicks.get(key, 0) + 1
                st.link_clicks[key] = n
                ls[1] += 1
                if n == 1:
                    ls[0] += 1
            if consent:
                self.acts.append(
                    (c + 1, "click", st.email_id, link_id, None, x, at, 0, int(bot))
                )
            else:
                self.anon.append((st.email_id, e[E_TOKEN], "click", link_id, at, 0, int(bot)))
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
        if len(self.acts) >= _BATCH or len(self.anon) >= _BATCH or len(self.subs) >= _BATCH:
            self._flush()

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
        self.c.executemany(
            "INSERT INTO recipient_engagement(email_id, token, opens, machine_opens, clicks,"
            " bot_clicks, last_click_at, unsubscribed, spam) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            sorted((eid, *e) for e in st.engagement.values()),
        )
        tokens = {c: e[E_TOKEN] for c, e in st.engagement.items()}
        self.c.executemany(
            "INSERT INTO link_recipients(link_id, token, clicks) VALUES (?, ?, ?)",
            sorted((link_id, tokens[c], n) for (link_id, c), n in st.link_clicks.items()),
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


# -- the entry point ---------------------------------------------------------------------
@dataclass
class DemoSummary:
    path: Path
    contacts: int
    emails: Counter[str]  # by status
    events: Counter[str]  # by kind, as generated
    seconds: float
    journey_seconds: float = 0.0  # of seconds: saving and evaluating the demo journeys

    @property
    def total_events(self) -> int:
        return sum(self.events.values())

    def text(self) -> str:
        e = self.emails
        ev = self.events
        parts = [
            f"{ev[SEND]:,} sends", f"{ev[OPEN]:,} opens", f"{ev[CLICK]:,} clicks",
            f"{ev[UNSUB]:,} unsubscribes", f"{ev[SPAM]:,} spam reports",
            f"{ev[CONFIRM]:,} confirmations", f"{ev[FORM]:,} form submissions",
            f"{ev[VISIT]:,} page visits",
        ]
        return (
            f"Wrote {self.path}: {self.contacts:,} contacts, {sum(e.values())} emails "
            f"({e['sent']} sent, {e['scheduled']} scheduled, {e['draft']} drafts), "
            f"{self.total_events:,} events ({', '.join(parts)}) in {self.seconds:.1f} s"
            + (f" (demo journeys: {self.journey_seconds:.1f} s)" if self.journey_seconds else "")
        )


def validate_contacts(n: int) -> None:
    if not 1 <= n <= MAX_CONTACTS:
        raise UserError(
            f"--contacts {n}: must be between 1 and {MAX_CONTACTS:,}"
        )


def generate(
    path: str | os.PathLike[str],
    *,
    contacts: int = DEFAULT_CONTACTS,
    seed: int = DEFAULT_SEED,
    writer: str = "bulk",
    journeys: bool = True,
) -> DemoSummary:
    """Write a new demo store at *path* (which must not exist) and return a summary.

    *writer* is ``"bulk"`` (fast, used by ``journeytui demo``) or ``"recorder"``
    (every event through :class:`Recorder`; the reference the bulk path is tested
    against).  The file is left in WAL mode, with the WAL folded in (no ``-wal`` beside it).
    """
    validate_contacts(contacts)
    if writer not in ("bulk", "recorder"):
        raise ValueError(f"writer must be 'bulk' or 'recorder', not {writer!r}")
    started = time.perf_counter()
    p = Path(path)
    store = Store.create(p, token_key=token_key_for(seed))
    try:
        conn = store.conn
        deferred_indexes: list[str] = []
        if writer == "bulk":  # a brand-new file nobody else has: trade safety for speed
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA cache_size = -65536")
            # Every reference and value is valid by construction: the equivalence test
            # runs the Recorder path with keys and CHECKs on and finds the same rows, and
            # checks the bulk file's keys.  (A CHECK with an IN list costs ~2 µs a row.)
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("PRAGMA ignore_check_constraints = ON")
            deferred_indexes = _drop_bulk_indexes(conn)
        sim = _Simulation(contacts, seed)
        counts: Counter[str] = Counter()
        with store.transaction():
            sink: _BulkSink | _RecorderSink = (
                _BulkSink(store, sim.people) if writer == "bulk"
                else _RecorderSink(store, sim.people)
            )
            sim.people.subscriptions.clear()  # written; free the memory
            handle = sink.handle
            for ev in sim.activity():
                counts[ev[1]] += 1 if ev[1] != SEND else len(ev[4].statuses)
                handle(ev)
            sink.finish()
            for sql in deferred_indexes:  # rebuilt once, from sorted data: much faster
                conn.execute(sql)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'created_at'", (str(CREATED_AT),))
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('demo', ?)",
                (json.dumps({"contacts": contacts, "seed": seed}),),
            )
            # provenance: one batch for everything the generator wrote (its events
            # have no per-event source: explain names the generator)
            conn.execute(
                "INSERT INTO import_batches(started_at, kind, label, events)"
                " VALUES (?, 'demo', ?, ?)",
                (CREATED_AT, f"demo generator (seed {seed}, {contacts:,} contacts)",
                 sum(n for k, n in counts.items() if k != END)),
            )
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA ignore_check_constraints = OFF")
        journey_seconds = 0.0
        if journeys and INSTALL_DEMO_JOURNEYS:
            # --- the single call site for the demo journeys (issue 3) ---
            from journeytui.domain.journeys import install_demo_journeys

            t = time.perf_counter()
            install_demo_journeys(store)  # evaluated at the latest event time: reproducible
            journey_seconds = time.perf_counter() - t
        # WAL, like every store the app opens (so opening the committed demo store
        # never rewrites its header); the WAL is folded back in when the store closes.
        conn.execute("PRAGMA journal_mode = WAL")
    except BaseException:
        store.close()
        _remove_store_files(p)
        raise
    store.close()
    del counts[END]
    emails = Counter(e.status for e in EMAILS)
    return DemoSummary(
        p, contacts, emails, counts, time.perf_counter() - started, journey_seconds
    )


_BULK_TABLES = ("contacts", "sends", "activities", "anonymous_events", "subscriptions")


def _drop_bulk_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the secondary indexes of the big tables; return the SQL that recreates them."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({', '.join('?' * len(_BULK_TABLES))}) ORDER BY name",
        _BULK_TABLES,
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


def _remove_store_files(p: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        f = Path(str(p) + suffix)
        try:
            f.unlink()
        except FileNotFoundError:
            pass


__all__ = [
    "CREATED_AT",
    "DATA_END",
    "DEFAULT_CONTACTS",
    "DEFAULT_SEED",
    "EMAILS",
    "EPOCH",
    "LISTS",
    "DemoSummary",
    "EmailSpec",
    "generate",
    "token_key_for",
]
