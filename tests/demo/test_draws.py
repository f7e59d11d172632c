"""The generator's shortcuts around ``random.Random`` draw exactly what the calls they
stand for draw: the same seed keeps giving the same store (the committed journeys.db
among them) only while they do."""

from __future__ import annotations

import random
from bisect import bisect_right

from journeytui.demo.catalog import DOMAINS, EPOCH
from journeytui.demo.events import END, SEND
from journeytui.demo.people import below_of, cumulative
from journeytui.demo.simulation import Simulation


def test_below_draws_what_randrange_and_randint_draw() -> None:
    by_call, by_below = random.Random(7), random.Random(7)
    below = below_of(by_below)
    # widths of one, of a power of two, just above one (rejections), and large
    for n in (1, 2, 7, 60, 64, 65, 586, 129_601, 10**9 + 7, 2**40 + 1):
        assert [by_call.randrange(n) for _ in range(300)] == [below(n) for _ in range(300)]
    for lo, hi in ((1, 60), (0, 1), (3_600, 172_800), (-5, 5)):
        assert ([by_call.randint(lo, hi) for _ in range(300)]
                == [lo + below(hi - lo + 1) for _ in range(300)])
    assert by_call.random() == by_below.random()  # still in step afterwards


def test_the_domain_pick_draws_what_choices_draws() -> None:
    domains = [d for d, _ in DOMAINS]
    cum = list(cumulative([w for _, w in DOMAINS]))
    by_call, inline = random.Random(3), random.Random(3)
    total, hi = cum[-1] + 0.0, len(cum) - 1
    picked = [domains[bisect_right(cum, inline.random() * total, 0, hi)]
              for _ in range(2_000)]
    assert picked == [by_call.choices(domains, cum_weights=cum)[0] for _ in range(2_000)]
    assert set(picked) == set(domains)  # (the check saw every domain)


def test_the_stream_is_in_time_order_and_every_campaign_ends() -> None:
    """Events come out of the campaigns' lists merged in runs; the order is still
    time order, each campaign's send log first and its end marker last."""
    sim = Simulation(600, 5)
    last = EPOCH - 10**9
    started: set[int] = set()
    ended: set[int] = set()
    for at, kind, k, _, _ in sim.activity():
        assert at >= last
        last = at
        if kind == SEND:
            started.add(k)
        elif kind == END:
            assert k in started
            ended.add(k)
        elif k >= 0:
            assert k in started and k not in ended
    assert started == ended and len(started) > 20
