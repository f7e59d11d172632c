"""A session end to end over loopback, with the stand-in child."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from pathlib import Path

import asyncssh
import pytest

from tests.ssh.conftest import (
    Terminal,
    connect,
    open_terminal,
    pid_alive,
    screen_value,
    wait_until,
)


async def test_first_screen_keys_resize_quit(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server()
    conn = await connect(server, username="alice")
    term = await open_terminal(conn, 80, 24)
    text = await term.wait_text("STANDIN size=80x24")
    assert bytes(term.raw).startswith("journeytui: starting your session…\r\n".encode())
    assert "TERM=xterm-256color" in text
    assert "BOTTOM row 24" in term.screen.display[23]
    pid = int(screen_value(text, "pid"))
    assert pid_alive(pid)
    assert [s.child.pid for s in server.sessions.values() if s.child] == [pid]
    assert os.getpgid(pid) == pid  # its own process group, led by the app

    term.press("ab")
    await term.wait_text("keys=ab")

    term.resize(100, 30)
    await term.wait_text("STANDIN size=100x30")
    assert "BOTTOM row 30" in term.screen.display[29]

    term.press("q")
    assert await term.wait_closed() == 0
    conn.close()
    await conn.wait_closed()
    await wait_until(lambda: not server.sessions, "the session to be cleaned up")
    assert not pid_alive(pid)
    assert server.seats.taken == 0
    lines = [r.getMessage() for r in caplog.records if "ssh session" in r.getMessage()]
    assert len(lines) == 1
    assert "user=alice term=xterm-256color size=100x30" in lines[0]
    assert "ended=quit status=0" in lines[0]


async def test_app_exit_status_reaches_the_client(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server()
    conn = await connect(server)
    term = await open_terminal(conn)
    await term.wait_text("STANDIN")
    term.press("x")
    assert await term.wait_closed() == 3
    conn.close()
    await wait_until(lambda: not server.sessions, "the session to be cleaned up")
    assert any("ended=error status=3" in r.getMessage() for r in caplog.records)


async def test_disconnect_kills_the_app_and_its_group(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server()
    conn = await connect(server)
    term = await open_terminal(conn)
    await term.wait_text("STANDIN")
    term.press("s")  # the app starts a grandchild in its process group
    text = await term.wait_for(lambda t: screen_value(t, "grandchild") != "0", "a grandchild")
    pid, grandchild = int(screen_value(text, "pid")), int(screen_value(text, "grandchild"))
    assert pid_alive(pid) and pid_alive(grandchild)

    conn.abort()  # the client vanishes without quitting
    await wait_until(lambda: not pid_alive(pid), "the app to be gone")
    await wait_until(lambda: not pid_alive(grandchild), "the grandchild to be gone")
    await wait_until(lambda: not server.sessions, "the session to be cleaned up")
    assert server.seats.taken == 0
    assert any("ended=disconnect" in r.getMessage() for r in caplog.records)


async def test_an_app_that_ignores_hangup_and_term_is_killed(make_server) -> None:
    server = await make_server(kill_grace=0.1)  # it is killed however long the grace
    conn = await connect(server)
    term = await open_terminal(conn)
    await term.wait_text("STANDIN")
    term.press("h")
    text = await term.wait_text("ignoring SIGHUP and SIGTERM")
    pid = int(screen_value(text, "pid"))
    conn.abort()
    await wait_until(lambda: not server.sessions, "the session to be cleaned up")
    assert not pid_alive(pid)
    await wait_until(lambda: not server.tasks, "no session task left running")


async def test_server_close_ends_every_session(make_server) -> None:
    server = await make_server()
    conn = await connect(server)
    term = await open_terminal(conn)
    pid = int(screen_value(await term.wait_text("STANDIN"), "pid"))
    await server.close()
    assert not pid_alive(pid)
    await term.wait_text("server is shutting down")
    assert await term.wait_closed() == 0


async def test_a_session_without_a_terminal_is_refused(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server()
    conn = await connect(server)
    process = await conn.create_process(encoding=None)  # no term_type: no PTY
    stdout, stderr = await process.stdout.read(), await process.stderr.read()
    await process.wait_closed()
    assert process.exit_status == 1
    assert stdout == b""
    assert b"journeytui needs a terminal: connect with ssh -t" in stderr
    assert server.seats.taken == 0
    conn.close()
    assert any("ended=no-terminal" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("term_type", "client_env", "server_no_color", "expect"),
    [
        ("xterm-256color", {}, False, "TERM=xterm-256color NO_COLOR=- COLORTERM=-"),
        ("screen", {}, False, "TERM=screen NO_COLOR=- COLORTERM=-"),
        ("xterm-256color", {"NO_COLOR": "1"}, False, "NO_COLOR=1 COLORTERM=-"),
        ("xterm-256color", {}, True, "NO_COLOR=1 COLORTERM=-"),
        ("xterm-256color", {"COLORTERM": "truecolor"}, False, "NO_COLOR=- COLORTERM=truecolor"),
        ("xterm-256color", {"COLORTERM": "yes"}, False, "NO_COLOR=- COLORTERM=-"),
        ("bad\x1b[term", {}, False, "TERM=xterm-256color"),
    ],
)
async def test_terminal_type_and_colour_settings_reach_the_app(
    make_server, term_type, client_env, server_no_color, expect, monkeypatch
) -> None:
    # the server's own terminal must not leak into a session
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.setenv("TERM", "tmux-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    server = await make_server(no_color=server_no_color)
    conn = await connect(server)
    term = await open_terminal(conn, term=term_type, env=client_env)
    text = await term.wait_text("STANDIN")
    assert expect in text
    term.press("q")
    await term.wait_closed()
    conn.close()


async def test_client_env_cannot_set_other_variables(make_server) -> None:
    server = await make_server()
    conn = await connect(server)
    term = await open_terminal(conn, env={"PYTHONPATH": "/evil", "NO_COLOR": ""})
    text = await term.wait_text("STANDIN")
    assert "NO_COLOR=-" in text  # an empty NO_COLOR means "not set"
    pid = int(screen_value(text, "pid"))
    environ = Path(f"/proc/{pid}/environ").read_text().split("\0")
    env = dict(item.split("=", 1) for item in environ if "=" in item)
    assert env.get("PYTHONPATH") != "/evil"
    assert "COLUMNS" not in env and "LINES" not in env  # they would pin the size
    assert env["JOURNEYTUI_SSH"] == "1"
    term.press("q")
    await term.wait_closed()
    conn.close()


async def test_an_app_that_cannot_start_is_reported(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server(child_command=lambda db: ["/nonexistent/journeytui-app"])
    conn = await connect(server)
    term = await open_terminal(conn)
    await term.wait_text("the session could not start")
    assert await term.wait_closed() == 1
    conn.close()
    await wait_until(lambda: not server.sessions, "the session to end")
    assert server.seats.taken == 0
    assert not list((server.config.temp_root).iterdir())  # its copy is gone too
    messages = [r.getMessage() for r in caplog.records]
    assert any("cannot start" in m and "nonexistent" in m for m in messages)
    assert any("ended=error" in m for m in messages)


async def test_a_store_gone_after_start_is_reported(make_server, source_db, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server()
    source_db.unlink()
    conn = await connect(server)
    term = await open_terminal(conn)
    await term.wait_text("the session could not start")
    assert await term.wait_closed() == 1
    conn.close()
    assert any(str(source_db) in r.getMessage() for r in caplog.records)


async def test_a_command_gets_the_app_like_a_shell(make_server) -> None:
    server = await make_server()
    conn = await connect(server)
    process = await conn.create_process(
        "cat /etc/passwd", term_type="xterm", term_size=(80, 24), encoding=None
    )
    term = Terminal(process, 80, 24)
    await term.wait_text("STANDIN")
    assert "root:" not in term.text
    term.press("q")
    assert await term.wait_closed() == 0
    conn.close()


async def test_no_sftp_no_forwarding(make_server) -> None:
    server = await make_server()
    conn = await connect(server)
    with pytest.raises((asyncssh.ChannelOpenError, asyncssh.SFTPError)):
        await conn.start_sftp_client()
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn.open_connection("127.0.0.1", server.port)
    with pytest.raises(asyncssh.ChannelListenError):
        await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)
    conn.close()
    assert server.sessions == {}


async def test_an_app_killed_by_a_signal_leaves_a_usable_terminal(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server()
    conn = await connect(server)
    term = await open_terminal(conn)
    pid = int(screen_value(await term.wait_text("STANDIN"), "pid"))
    os.kill(pid, signal.SIGKILL)  # say, the out-of-memory killer
    assert await term.wait_closed() == 128 + signal.SIGKILL
    raw = bytes(term.raw)
    assert raw.rfind(b"\x1b[?1049l") > raw.rfind(b"STANDIN")  # the main screen is back
    assert "the app was stopped (signal 9)" in term.text
    conn.close()
    await wait_until(lambda: not server.sessions, "the session to end")
    assert any("ended=error status=-9" in r.getMessage() for r in caplog.records)


async def test_a_flood_of_output_arrives_whole_and_in_order(make_server) -> None:
    server = await make_server()
    conn = await connect(server, window=16384)  # a small SSH window
    process = await conn.create_process(term_type="xterm", term_size=(80, 24), encoding=None)
    await wait_until(lambda: bool(server.sessions), "the session")
    (session,) = server.sessions.values()
    raw = bytearray()
    while b"BOTTOM" not in raw:  # the app is up (and its terminal in raw mode)
        raw += await asyncio.wait_for(process.stdout.read(65536), 10)
    assert session.child is not None
    process.stdin.write(b"f")
    # the client reads nothing yet: the server must stop reading the app
    await wait_until(lambda: session.child.output_paused, "the server to pause the app's output")
    while b"FLOOD-END" not in raw:
        raw += await asyncio.wait_for(process.stdout.read(65536), 10)
    numbers = [int(n) for n in re.findall(rb"flood (\d{6})\r\n", bytes(raw))]
    assert numbers == list(range(20000))
    process.stdin.write(b"q")  # still responsive afterwards
    await asyncio.wait_for(process.wait_closed(), 10)
    assert process.exit_status == 0
    conn.close()
