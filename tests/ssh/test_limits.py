"""Seats (at most N sessions) and the per-address connection rate limit."""

from __future__ import annotations

import asyncio
import logging

import asyncssh
import pytest

from journeytui.ssh.limits import RateLimiter, Seats
from tests.ssh.conftest import connect, open_terminal, pid_alive, screen_value, wait_until


async def test_several_sessions_at_once_then_one_too_many(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server(max_sessions=3)
    conns = await asyncio.gather(*(connect(server, username=f"u{i}") for i in range(3)))
    terms = await asyncio.gather(*(open_terminal(c, 80, 24) for c in conns))
    texts = await asyncio.gather(*(t.wait_text("STANDIN") for t in terms))
    pids = {int(screen_value(t, "pid")) for t in texts}
    assert len(pids) == 3  # one process each
    assert server.seats.taken == 3

    with pytest.raises(asyncssh.DisconnectError) as refused:
        await connect(server, username="late")
    assert "all 3 demo seats are taken, try again in a minute" in refused.value.reason

    # each session still works on its own
    for i, term in enumerate(terms):
        term.press(str(i))
    for i, term in enumerate(terms):
        await term.wait_text(f"keys={i}")

    # a seat that is given back can be taken again
    terms[0].press("q")
    assert await terms[0].wait_closed() == 0
    await wait_until(lambda: server.seats.taken == 2, "a seat to be given back")
    conn = await connect(server, username="next")
    term = await open_terminal(conn)
    await term.wait_text("STANDIN")

    for c in [*conns, conn]:
        c.close()
    await wait_until(lambda: not server.sessions, "every session to end")
    assert not any(pid_alive(p) for p in pids)
    assert any("refused: all seats taken" in r.getMessage() for r in caplog.records)


async def test_second_session_on_one_connection_is_told_seats_are_taken(make_server) -> None:
    server = await make_server(max_sessions=1)
    conn = await connect(server)
    first = await open_terminal(conn)
    await first.wait_text("STANDIN")
    second = await conn.create_process(term_type="xterm", term_size=(80, 24), encoding=None)
    stderr = await asyncio.wait_for(second.stderr.read(), 10)
    await second.wait_closed()
    assert second.exit_status == 1
    assert b"journeytui: the one demo seat is taken, try again in a minute" in stderr
    first.press("k")
    await first.wait_text("keys=k")  # the first session is untouched
    conn.close()


async def test_rate_limit_per_address(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server(rate_per_minute=1, rate_burst=2)
    ok = [await connect(server), await connect(server)]
    with pytest.raises(asyncssh.DisconnectError) as refused:
        await connect(server)
    assert "too many connections from 127.0.0.1" in refused.value.reason
    assert any("refused: rate limit" in r.getMessage() for r in caplog.records)
    for c in ok:
        c.close()


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=10, burst=3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # another address has its own bucket
    assert limiter.retry_after("a") == pytest.approx(6.0)
    now[0] = 5.9
    assert not limiter.allow("a")
    now[0] = 6.1
    assert limiter.allow("a")
    assert not limiter.allow("a")
    now[0] = 1000.0  # refills only up to the burst
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]


def test_seats_count_up_to_the_limit() -> None:
    seats = Seats(2)
    assert seats.take() and seats.take()
    assert seats.full and not seats.take()
    seats.give_back()
    assert not seats.full and seats.take()
    assert seats.message() == "journeytui: all 2 demo seats are taken, try again in a minute"
    assert Seats(1).message() == "journeytui: the one demo seat is taken, try again in a minute"


async def test_a_connection_without_a_session_is_closed(make_server) -> None:
    # 0.4 s: time enough, on a busy machine, for the session to be asked for after the
    # login (the timer starts at the login, the session's start stops it)
    server = await make_server(unused_connection_timeout=0.4)
    conn = await connect(server)
    await asyncio.wait_for(conn.wait_closed(), 10)  # closed by the server

    # while a session is open it stays; after the session it is closed again
    conn = await connect(server)
    term = await open_terminal(conn)
    await term.wait_text("STANDIN")
    await asyncio.sleep(0.6)  # longer than the timeout: must not close a busy connection
    term.press("k")
    await term.wait_text("keys=k")
    term.press("q")
    assert await term.wait_closed() == 0
    await asyncio.wait_for(conn.wait_closed(), 10)


async def test_many_sessions_leave_no_descriptors_or_directories(make_server, tmp_path) -> None:
    import os

    server = await make_server(max_sessions=12, rate_burst=100)
    before = len(os.listdir("/proc/self/fd"))
    conns = await asyncio.gather(*(connect(server) for _ in range(12)))
    terms = await asyncio.gather(*(open_terminal(c) for c in conns))
    texts = await asyncio.gather(*(t.wait_text("STANDIN") for t in terms))
    pids = [int(screen_value(t, "pid")) for t in texts]
    for i, term in enumerate(terms):
        if i % 2:
            term.press("q")  # half quit, half just go away
        else:
            conns[i].abort()
    await wait_until(lambda: not server.sessions, "every session to end")
    await wait_until(lambda: not server.tasks, "every session task to finish")
    for c in conns:
        c.close()
        await c.wait_closed()
    assert not any(pid_alive(p) for p in pids)
    assert list((tmp_path / "sessions").iterdir()) == []
    await wait_until(
        lambda: len(os.listdir("/proc/self/fd")) <= before, "the descriptors to be closed"
    )
