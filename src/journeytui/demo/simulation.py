"""The simulation: campaign by campaign, who was sent what and what they did.

It produces one ordered stream of events (``journeytui.demo.events``): every activity
in time order, a campaign's send log as one event at its send time.  Campaigns are
simulated lazily, so only those whose replies are still arriving are held in memory.
"""

from __future__ import annotations

import heapq
import random
from array import array
from collections.abc import Callable, Iterator
from itertools import compress
from operator import itemgetter

from journeytui.demo.catalog import (
    CONFIRM_SHARE,
    CONTACT_SALES,
    CUSTOMERS,
    DATA_END,
    DAY,
    DEMO_PAGE,
    EMAILS,
    EPOCH,
    FORM_CONTACT_SALES,
    FORM_WEBINAR,
    FORM_WHITEPAPER,
    HOUR,
    LAPSED_SINCE,
    LATE_CONSENT_SHARE,
    LISTS,
    ON_DELIVERY,
    PRICING,
    SEND_SPREAD_S,
    TIER_CLICK,
    TIER_OPEN,
    TIER_UNSUB,
    TIER_VISITS,
    VISIT_PAGES,
    WHITEPAPER,
)
from journeytui.demo.events import (
    BOUNCED_HARD,
    BOUNCED_SOFT,
    CLICK,
    CONFIRM,
    CONSENT,
    DELIVERED,
    DROPPED,
    END,
    FORM,
    OPEN,
    SEND,
    SPAM,
    SUBSCRIBE,
    UNSUB,
    VISIT,
    Event,
    SendBatch,
)
from journeytui.demo.names import NamePicker
from journeytui.demo.people import People, below_of, cumulative, make_people, pick


class Simulation:
    """The demo's year: who was sent what and what each recipient did."""

    def __init__(
        self, n: int, seed: int,
        progress: Callable[[str, int, int | None], None] | None = None,
    ) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.people = make_people(self.rng, n, NamePicker(seed), progress)
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


    def _misc_events(self, p: People) -> list[Event]:
        """Confirmations, late consent and organic page visits: known up front."""
        rng = self.rng
        below = below_of(rng)
        events: list[Event] = []
        pending: dict[int, list[int]] = {}
        for c, li, status, _ in p.subscriptions:
            if status == "pending":
                pending.setdefault(c, []).append(li)
        for c in sorted(pending):
            if rng.random() >= CONFIRM_SHARE:
                continue
            at = p.created_at[c] + 120 + below(36 * HOUR - 119)  # randint(120, 36 h)
            if at >= DATA_END:
                continue
            for li in pending[c]:
                events.append((at, CONFIRM, -1, c, li))
                p.eligible[li][c] = at
        for c in range(self.n):
            if p.consent[c]:
                start = max(p.created_at[c], EPOCH)
            elif rng.random() < LATE_CONSENT_SHARE:
                start = max(p.created_at[c], EPOCH) + HOUR + below(120 * DAY - HOUR + 1)
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
                at = start + 60 + below(end - start - 60)
                page = VISIT_PAGES[pick(_VISIT_CUM, rng.random())]
                events.append((at, VISIT, -1, c, page))
        events.sort(key=_at)
        return events

    # -- one campaign ------------------------------------------------------------------
    def email_events(self, k: int) -> list[Event]:
        """Everything email *k* caused, in time order, ending with an END marker."""
        spec = EMAILS[k]
        assert spec.send_at is not None and spec.status == "sent"
        rng, p = self.rng, self.people
        rand, below = rng.random, below_of(rng)
        t0 = spec.send_at
        li = spec.list_index
        elig = p.eligible[li]
        left, gone, spam_at = self.unsub_list[li], self.gone, self.spam_at
        # on the list at t0, and neither left it nor became unreachable before t0
        away = {c for c, at in left.items() if at < t0}
        away.update(c for c, at in gone.items() if at < t0)
        # 0 < elig[c] <= t0, iterated in C: the ids and times of those ever on the
        # list (elig[c] != 0), kept where that time is not after t0
        recipients = list(compress(compress(range(self.n), elig),
                                   map(t0.__ge__, compress(elig, elig))))
        if away:
            recipients = [c for c in recipients if c not in away]
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
        reported = {c for c, at in spam_at.items() if at < t0}
        sendable: list[int] = []
        if reported:
            for i, c in enumerate(recipients):
                if c in reported:
                    codes[i] = DROPPED  # the provider suppresses spam reporters
                else:
                    sendable.append(i)
        else:
            sendable = list(range(nr))
        # bounces: exact shares, so a story email always shows its bad delivery
        n_hard = _share(rng, len(sendable), spec.hard_bounce)
        n_soft = _share(rng, len(sendable), spec.soft_bounce)
        bounced = rng.sample(sendable, min(len(sendable), n_hard + n_soft))
        for j, i in enumerate(bounced):
            codes[i] = BOUNCED_HARD if j < n_hard else BOUNCED_SOFT
        times.extend([t0 + (i * SEND_SPREAD_S) // nr for i in range(nr)])
        sends_count = self.sends_count
        for c in recipients:
            sends_count[c] += 1
        delivered = [(c, s) for c, s, code in zip(recipients, times, codes, strict=True)
                     if code == DELIVERED]
        for i in bounced[:n_hard]:
            gone.setdefault(recipients[i], times[i])
        events.append((t0, SEND, k, -1, batch))

        urls = [u for u, _ in spec.links]
        base_w = [w for _, w in spec.links]
        boost_idx = [i for i, u in enumerate(urls) if _is_sales_link(u)]
        product_idx = {i for i, u in enumerate(urls) if "/products/" in u}
        base_cum = list(cumulative(base_w))
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
        lapsed_only = spec.lapsed_only
        recording = "recording" in urls[0]
        for c, s in delivered:
            if mpp[c]:
                add((s + 1 + below(60), OPEN, k, c, True))
            if scanner[c] and rand() < 0.6:
                # a link scanner: every link within seconds, right on delivery or on a
                # later re-scan (then only the burst gives it away)
                t = s + (2 + below(4) if scanner[c] == ON_DELIVERY else 300 + below(2 * HOUR - 299))
                for url in urls:
                    add((t, CLICK, k, c, url))
                    t += below(2)
            t_ = tier[c]
            q = quiet_after[c]
            quiet = q != 0 and q < s
            opened_at = 0
            awake = not quiet or (lapsed_only and rand() < 0.25)
            if awake and rand() < p_open[t_]:
                opened_at = s + _open_delay(rand, below)
                if opened_at < DATA_END:
                    add((opened_at, OPEN, k, c, False))
                    if rand() < 0.25:
                        again = opened_at + 600 + below(3 * DAY - 599)
                        if again < DATA_END:
                            add((again, OPEN, k, c, False))
                else:
                    opened_at = 0
            if opened_at:
                interest = _count_before(self.interest.get(c), s)
                p_click = TIER_CLICK[t_] * spec.click_appeal * (1.0 + 0.6 * interest)
                reg = self.registered.get(c)
                if reg is not None and reg < s and recording:
                    p_click *= 3.0
                if rand() < min(0.95, p_click):
                    if interest and boost_idx:
                        w = list(base_w)
                        for i in boost_idx:
                            w[i] *= 1.0 + 2.0 * interest
                        cum = list(cumulative(w))
                    else:
                        cum = base_cum
                    n_links = 1 + (rand() < 0.3) + (rand() < 0.1)
                    chosen: list[int] = []
                    for _ in range(n_links):
                        i = pick(cum, rand() * cum[-1])
                        if i not in chosen:
                            chosen.append(i)
                    t = opened_at + 15 + below(586)
                    for i in chosen:
                        if t >= DATA_END:
                            break
                        add((t, CLICK, k, c, urls[i]))
                        if rand() < 0.12:
                            t2 = t + HOUR + below(2 * DAY - HOUR + 1)
                            if t2 < DATA_END:
                                add((t2, CLICK, k, c, urls[i]))
                        self.last_click[c] = max(self.last_click[c], t)
                        if i in product_idx:
                            self.interest.setdefault(c, []).append(t)
                        self._follow_up(c, urls[i], t, interest, add)
                        t += 8 + below(293)
            # leaving: from all, from the list, or reporting spam
            r = rand()
            if r < p_unsub_all[t_]:
                at = (opened_at or s + _open_delay(rand, below)) + 20 + below(381)
                if at < DATA_END and c not in unsub_all:
                    add((at, UNSUB, k, c, None))
                    unsub_all.add(c)
                    gone[c] = min(gone.get(c, at), at)
            elif r < p_unsub_any[t_]:
                at = (opened_at or s + _open_delay(rand, below)) + 20 + below(381)
                if at < DATA_END and c not in left:
                    add((at, UNSUB, k, c, li))
                    left[c] = at
            if rand() < p_spam[t_]:
                at = (opened_at or s + _open_delay(rand, below)) + 10 + below(291)
                if at < DATA_END:
                    add((at, SPAM, k, c, None))
                    spam_set.add(c)
                    spam_count += 1
                    spam_at.setdefault(c, at)
        if spam_count < spec.min_spam:
            rest = [(c, s) for c, s in delivered if c not in spam_set]
            for c, s in rng.sample(rest, min(len(rest), spec.min_spam - spam_count)):
                at = s + _open_delay(rand, below) + 10 + below(291)
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
        below = below_of(rng)
        if "/webinar/signup" in url:
            if rng.random() < 0.65 and c not in self.registered:
                at = t + 60 + below(841)
                if at < DATA_END:
                    self.registered[c] = at
                    if self._consented(c, at):
                        add((at, FORM, -1, c, FORM_WEBINAR))
        elif url == WHITEPAPER:
            if rng.random() < 0.7:
                at = t + 30 + below(271)
                if at < DATA_END and self._consented(c, at):
                    add((at, FORM, -1, c, FORM_WHITEPAPER))
        elif url in (PRICING, CONTACT_SALES):
            at = t + HOUR + below(3 * DAY - HOUR + 1)
            if rng.random() < 0.4 and at < DATA_END and self._consented(c, at):
                add((at, VISIT, -1, c, DEMO_PAGE))
            keen = 0.5 if url == CONTACT_SALES else 0.1 + 0.15 * min(interest, 2)
            if rng.random() < keen:
                at = t + 300 + below(2 * HOUR - 299)
                if at < DATA_END:
                    if self._consented(c, at):
                        add((at, FORM, -1, c, FORM_CONTACT_SALES))
                    # some become customers a few weeks later
                    elig = self.people.eligible[CUSTOMERS]
                    if elig[c] == 0 and rng.random() < 0.4:
                        joined = at + 14 * DAY + below(26 * DAY + 1)
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
        send_times: list[int] = [EMAILS[i].send_at for i in sent]  # type: ignore[misc]
        send_times.append(1 << 62)  # no campaign left: after any time
        nxt = 0
        forms: set[str] = set()
        while heap or nxt < len(sent):
            next_send = send_times[nxt]
            if nxt < len(sent) and (not heap or next_send <= heap[0][0]):
                push(nxt, self.email_events(sent[nxt]))
                nxt += 1
                continue
            # The first list's events in a run, up to the first event another list
            # (or the next campaign) has to come before: in order of (time, rank)
            # as one event at a time through the heap, with one heap step a run.
            _, rank, events = heap[0]
            if len(heap) > 1:
                other_at, other_rank, _ = min(heap[1:3])
            else:
                other_at, other_rank = next_send, rank
            limit = min(other_at, next_send)
            while events:
                ev = events[-1]
                at = ev[0]
                if at > limit or at == limit and (at == next_send or rank > other_rank):
                    break
                events.pop()
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



_at = itemgetter(0)  # an event's time




_VISIT_CUM = list(cumulative((0.4, 0.2, 0.4)))


def _share(rng: random.Random, n: int, rate: float) -> int:
    """n·rate rounded at random: the expected share, with little spread."""
    x = n * rate
    return int(x) + (rng.random() < x - int(x))


def _open_delay(rand: Callable[[], float], below: Callable[[int], int]) -> int:
    """How long after delivery an email is opened (draws: ``rand``, then ``below``)."""
    r = rand()
    if r < 0.35:
        return 60 + below(HOUR - 59)  # randint(60, HOUR)
    if r < 0.75:
        return HOUR + below(11 * HOUR + 1)  # randint(HOUR, 12 * HOUR)
    if r < 0.95:
        return 12 * HOUR + below(36 * HOUR + 1)  # randint(12 * HOUR, 2 * DAY)
    return 2 * DAY + below(4 * DAY + 1)  # randint(2 * DAY, 6 * DAY)


def _count_before(times: list[int] | None, t: int) -> int:
    if not times:
        return 0
    return sum(1 for x in times if x < t)


def _is_sales_link(url: str) -> bool:
    return url in (PRICING, CONTACT_SALES, DEMO_PAGE) or "/webinar/signup" in url

