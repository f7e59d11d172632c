"""The demo's contacts: names, addresses, consent, lists and habits (names: ``names``)."""

from __future__ import annotations

import random
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from journeytui.demo.catalog import (
    CONSENT_SHARE,
    CUSTOMERS,
    DATA_END,
    DAY,
    DOMAINS,
    EPOCH,
    HISTORY_START,
    JOINER_SHARE,
    LATE,
    LATE_SCANNER_SHARE,
    LIST_SHARE,
    LISTS,
    MPP_SHARE,
    NEWSLETTER,
    OLD_UNSUB_SHARE,
    ON_DELIVERY,
    QUIET_SHARE,
    SCANNER_SHARE,
    TIER_SHARE,
    ts,
)
from journeytui.demo.names import FIRST_NAMES, LAST_NAMES, NamePicker

_FOLD = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "ı": "i", "œ": "oe"})


def _ascii(name: str) -> str:
    """Lower-case ASCII for an address: 'Søren' → 'soren', "O'Brien" → 'obrien'."""
    s = unicodedata.normalize("NFKD", name.lower().translate(_FOLD))
    return "".join(ch for ch in s if "a" <= ch <= "z" or "0" <= ch <= "9")




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

    def rows(self, list_ids: list[int]) -> Iterator[tuple[int, int, str, int]]:
        """The rows as the store has them: (contact id, list id, status, changed_at),
        made by zip and map (no Python code per row)."""
        return zip(map((1).__add__, self.contacts), map(list_ids.__getitem__, self.lists),
                   map(_SUB_STATUS.__getitem__, self.statuses), self.times, strict=True)

    def __len__(self) -> int:
        return len(self.contacts)

    def clear(self) -> None:
        self.contacts, self.lists = array("i"), bytearray()
        self.statuses, self.times = bytearray(), array("q")


def make_people(
    rng: random.Random, n: int, names: NamePicker,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> People:
    """Who the *n* contacts are: names, addresses, consent, lists, habits.

    Every draw but the long-tail names comes from *rng* (the simulation's stream).
    """
    span_old = EPOCH - HISTORY_START
    span_new = DATA_END - 3 * DAY - EPOCH
    # below(m) is rng.randrange(m), rand() rng.random(): the same draws (see below_of)
    rand, below = rng.random, below_of(rng)
    created = sorted(
        EPOCH + below(span_new) if rand() < JOINER_SHARE
        else HISTORY_START + below(span_old)
        for _ in range(n)
    )
    domains = [d for d, _ in DOMAINS]
    dom_w = list(cumulative([w for _, w in DOMAINS]))
    # rng.choices(domains, cum_weights=dom_w)[0], as choices computes it: one random()
    # scaled by the total, bisected over all but the last weight
    dom_total, dom_hi = dom_w[-1] + 0.0, len(dom_w) - 1
    ascii_of: dict[str, str] = {}
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
    tier_cum = list(cumulative(TIER_SHARE))
    quiet_lo, quiet_hi = ts(2026, 6, 10), ts(2026, 8, 20)
    nf, nl = len(FIRST_NAMES), len(LAST_NAMES)
    for c in range(n):
        if progress is not None and not c % 16384:
            progress("choosing the contacts", c, n)
        fi, li = below(nf), below(nl)
        first_name, last_name = names(FIRST_NAMES[fi], LAST_NAMES[li])
        f = ascii_of.get(first_name) or ascii_of.setdefault(first_name, _ascii(first_name))
        lname = ascii_of.get(last_name) or ascii_of.setdefault(last_name, _ascii(last_name))
        style = below(7)
        if style == 0:
            local = f"{f}.{lname}"
        elif style == 1:
            local = f"{f[0]}{lname}"
        elif style == 2:
            local = f"{f}{lname[0]}"
        elif style == 3:
            local = f"{f}_{lname}"
        elif style == 4:
            local = f"{f}.{lname}{60 + below(40):02d}"  # randrange(60, 100)
        elif style == 5:
            local = f"{lname}.{f}"
        else:
            local = f"{f}.{lname}"
        domain = domains[bisect_right(dom_w, rand() * dom_total, 0, dom_hi)]
        addr = f"{local}@{domain}"
        k = 2
        while addr in used:
            addr = f"{local}{k}@{domain}"
            k += 1
        used.add(addr)
        address.append(addr)
        first.append(first_name)
        last.append(last_name)
        t = pick(tier_cum, rand())
        consent[c] = rand() < CONSENT_SHARE
        mpp[c] = rand() < MPP_SHARE
        if rand() < SCANNER_SHARE:
            scanner[c] = LATE if rand() < LATE_SCANNER_SHARE else ON_DELIVERY
        if t < 3 and rand() < QUIET_SHARE:
            quiet_after[c] = quiet_lo + below(quiet_hi - quiet_lo)
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
            left = lists[below(len(lists))] if rand() < OLD_UNSUB_SHARE else -1
            for li_ in lists:
                if li_ == left:
                    gone = created_at + below(max(1, EPOCH - created_at))
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
    if progress is not None:
        progress("choosing the contacts", n, n)
    return People(
        address, first, last, array("q", created), consent, tier, mpp, scanner,
        quiet_after, eligible, subs,
    )



def below_of(rng: random.Random) -> Callable[[int], int]:
    """*rng*'s own ``randrange`` core: ``below(n)`` is ``rng.randrange(n)`` for n > 0,
    and ``a + below(b - a + 1)`` is ``rng.randint(a, b)`` — the same draws, the same
    numbers (both return ``start + self._randbelow(width)``), without the two Python
    calls and argument checks around it on every draw of the simulation."""
    return rng._randbelow  # type: ignore[attr-defined,no-any-return]


def cumulative(weights: Any) -> Iterator[float]:
    """Running totals of *weights* (for :func:`pick`)."""
    total = 0.0
    for w in weights:
        total += w
        yield total


def pick(cum: list[float], x: float) -> int:
    """Index for *x* in cumulative weights *cum* (x in [0, cum[-1]))."""
    return min(bisect_left(cum, x), len(cum) - 1)
