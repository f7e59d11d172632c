"""Deterministic, realistic demo data of any size (``journeytui demo``).

Plain Python: never imports textual.

Same ``contacts`` and ``seed`` → same store content, always: every random choice comes
from one ``random.Random(seed)``, every time from a fixed clock (the data runs from
2026-01-05 to 2026-11-01 UTC; the store says it was created on 2026-11-01), and the
anonymous recipient tokens use a key derived from the seed.

How it is built (one module per step)
-------------------------------------
0. ``catalog``: the calendar, lists, website, emails and audience shares;
   ``people``: who the contacts are (names, addresses, consent, lists, habits).
1. ``simulation`` (:class:`Simulation`) decides, campaign by campaign in send order,
   who was sent what and what each recipient did.  It produces an ordered stream of events:
   the reference data first (lists, emails, links, contacts, subscriptions), then
   every activity in time order (opens, clicks, unsubscribes, spam reports,
   confirmations, form submissions, page visits, consent given).  A campaign's send
   log is one event at its send time (:class:`SendBatch`, rows in send order).
   Campaigns are simulated lazily, so only those whose replies are still arriving
   are held in memory.  The stream's vocabulary is ``events``.
2. ``writers``: a sink writes the stream.  :class:`RecorderSink` feeds each event to
   :class:`~journeytui.store.recorder.Recorder`, the one way activity is written.
   :class:`BulkSink` computes the same rows and counters in memory and inserts
   them in batches — needed for 10⁵–10⁶ contacts.  A test proves that, for the
   same stream, both give identical tables (``tests/demo/test_bulk_equivalence.py``).
3. ``journeys``: the demo journeys are saved and evaluated last (``entry.generate``
   runs the whole), so the store opens with funnels already filled.

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

from journeytui.demo.catalog import (
    CREATED_AT,
    DATA_END,
    EMAILS,
    EPOCH,
    LISTS,
    SEND_SPREAD_S,
    EmailSpec,
)
from journeytui.demo.entry import (
    DEFAULT_CONTACTS,
    DEFAULT_SEED,
    MAX_CONTACTS,
    DemoSummary,
    generate,
    token_key_for,
    validate_contacts,
)

__all__ = [
    "CREATED_AT",
    "DATA_END",
    "DEFAULT_CONTACTS",
    "DEFAULT_SEED",
    "EMAILS",
    "EPOCH",
    "LISTS",
    "MAX_CONTACTS",
    "SEND_SPREAD_S",
    "DemoSummary",
    "EmailSpec",
    "generate",
    "token_key_for",
    "validate_contacts",
]
