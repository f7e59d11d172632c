"""Idle timeout (with a warning first) and session TTL."""

from __future__ import annotations

import logging

from tests.ssh.conftest import connect, open_terminal, pid_alive, screen_value, wait_until


async def test_idle_session_is_warned_then_closed(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server(idle_timeout=1.0, session_ttl=0)
    conn = await connect(server)
    term = await open_terminal(conn)
    pid = int(screen_value(await term.wait_text("STANDIN"), "pid"))
    text = await term.wait_text("Press any key to stay")
    assert "idle, closing in 1 second" in term.screen.display[23]  # on the bottom line
    assert "STANDIN" in text  # over the app, not instead of it
    await term.wait_text("session closed after 1 second without input")
    assert await term.wait_closed() == 0
    await wait_until(lambda: not server.sessions, "the session to end")
    assert not pid_alive(pid)
    assert any("ended=idle" in r.getMessage() for r in caplog.records)


async def test_a_key_during_the_warning_keeps_the_session(make_server) -> None:
    # the warning comes a quarter of the idle timeout ahead at most (warn_ahead is capped
    # there): it shows 2.25 s in and leaves 0.75 s to answer.  The answer is this
    # process's own (the server runs in it): a key sent the moment the warning is read.
    server = await make_server(idle_timeout=3.0, session_ttl=0, warn_ahead=3.0)
    conn = await connect(server)
    term = await open_terminal(conn)
    await term.wait_text("STANDIN")
    await term.wait_text("Press any key to stay")
    term.press("z")  # dismisses the warning; not passed to the app
    # the app repaints its whole screen (it is resized a row and back)
    await term.wait_for(lambda t: "Press any key" not in t and "BOTTOM row 24" in t, "a repaint")
    assert "keys=z" not in term.text
    term.press("k")
    await term.wait_text("keys=k")
    assert server.sessions  # still there
    term.press("q")
    assert await term.wait_closed() == 0
    conn.close()


async def test_session_ttl_closes_even_a_busy_session(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server(idle_timeout=0, session_ttl=1.0, warn_ahead=0.3)
    conn = await connect(server)
    term = await open_terminal(conn)
    pid = int(screen_value(await term.wait_text("STANDIN"), "pid"))
    await term.wait_text("this demo session ends in 1 second")
    for _ in range(3):
        term.press("k")
    await term.wait_text("has reached its 1 second limit")
    assert await term.wait_closed() == 0
    await wait_until(lambda: not server.sessions, "the session to end")
    assert not pid_alive(pid)
    assert any("ended=ttl" in r.getMessage() for r in caplog.records)
