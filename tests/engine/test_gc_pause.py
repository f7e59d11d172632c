"""A full evaluation pauses Python's cycle collector while it runs, and leaves it as
it found it, also when evaluations in several threads overlap (the app)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from journeytui.domain import engine


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
