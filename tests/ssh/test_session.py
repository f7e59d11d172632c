"""A session end to end over loopback, with the stand-in child."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.ssh.conftest import connect, open_terminal


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive: look at /proc
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def screen_pid(text: str) -> int:
    match = re.search(r"pid=(\d+)", text)
    assert match, text
    return int(match.group(1))


async def test_first_screen_keys_resize_quit(make_server) -> None:
    server = await make_server()
    conn = await connect(server)
    term = await open_terminal(conn, 80, 24)
    text = await term.wait_text("STANDIN size=80x24")
    assert "TERM=xterm-256color" in text
    assert "BOTTOM row 24" in term.screen.display[23]
    pid = screen_pid(text)
    assert pid_alive(pid)
    assert [s.child.pid for s in server.sessions.values() if s.child] == [pid]

    term.press("ab")
    await term.wait_text("keys=ab")

    term.resize(100, 30)
    await term.wait_text("STANDIN size=100x30")
    assert "BOTTOM row 30" in term.screen.display[29]

    term.press("q")
    assert await term.wait_closed() == 0
    conn.close()
    await conn.wait_closed()
    assert not pid_alive(pid)
    assert server.sessions == {}
    assert server.seats.taken == 0
