"""A full evaluation pauses Python's cycle collector while it runs, and leaves it as
it found it, also when evaluations in several threads overlap (the app)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest
from conftest import run, two_stage
from jbuilder import T0, Builder

from journeytui.domain import engine
from journeytui.store import Store

N1 = "Newsletter — January 2026"


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was:
            gc.disable()


def test_overlapping_pauses_end_with_the_last(collector_on: None) -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with engine.full.paused_gc():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second() -> None:
        first_in.wait(10)
        with engine.full.paused_gc():
            second_in.set()
            first_out.wait(10)
            # the first evaluation ended: this one still runs without the collector
            seen["during"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"during": False}
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with engine.full.paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_the_collector_runs_again_after_a_failed_evaluation(collector_on: None) -> None:
    with pytest.raises(RuntimeError), engine.full.paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("the evaluation failed")
    assert gc.isenabled()


def test_a_replay_makes_no_reference_cycles(store: Store, b: Builder) -> None:
    # the pause's premise: what compiling and replaying make is freed by reference
    # counting alone (a cycle would stay until the collector runs again)
    for who in ("ann", "bob"):
        b.contact(who)
        b("send", who, T0, N1)
        b("open", who, T0 + 60, N1)
    b("form", "ann", T0 + 600, "Contact sales")
    j = two_stage({"all": [{"submitted_form": {"form": "Contact sales"}},
                           {"not": {"clicked": {"within_days": 3}}}]})
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        r = run(store, j)
        assert len(r.moves) == 3  # (two entries, ann's move: worked out above)
        del r
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
