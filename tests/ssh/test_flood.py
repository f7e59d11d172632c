"""A pre-authentication flood: silent TCP connections cannot lock visitors out, and
the server holds a bounded number of sockets for them (like OpenSSH's MaxStartups).

The bug: 1,100 silent connections held 1,107 file descriptors until the 60 s login
timeout, and the per-address rate limit only spoke once a client got to log in.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from tests.ssh.conftest import connect, open_terminal, wait_until

FLOOD = 200


def server_side_sockets(port: int, host: str = "127.0.0.1") -> int:
    """Sockets this process holds whose local address is the server's, *host*:*port*
    (accepted connections). Not the port alone: a flood's own socket, bound to
    another loopback address, may be given the same port number by the system."""
    # /proc/net/tcp writes an IPv4 address as the hex of its 32-bit number in the
    # machine's byte order
    want = (int.from_bytes(socket.inet_aton(host), sys.byteorder), port)
    inodes: set[str] = set()
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        lines = []
    for line in lines:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        address, _, local_port = local.partition(":")
        if (int(address, 16), int(local_port, 16)) == want and state != "0A":  # not LISTEN
            inodes.add(inode)
    held = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held += 1
    return held


def silent(port: int, source: str) -> socket.socket:
    """A TCP connection to the server that never says anything."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.setblocking(False)
    try:
        sock.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    return sock


WAVE = 50  # connections opened at once: under the listen backlog (100)


async def flood_from(server, sources: list[str]) -> list[socket.socket]:  # type: ignore[no-untyped-def]
    """Silent connections from each of *sources*, all held open, opened in waves the
    listen backlog takes whole: a connection beyond it is not refused but left to its
    client's SYN retry, a second later, which would only make the test wait."""
    preauth = server.preauth
    flood: list[socket.socket] = []
    for start in range(0, len(sources), WAVE):
        flood += [silent(server.port, source) for source in sources[start:start + WAVE]]
        sent = len(flood)
        await wait_until(
            lambda sent=sent: preauth.dropped + preauth.evicted + len(preauth.waiting) >= sent,
            "the server to see every connection",
        )
    return flood


async def visitor_logs_in(server) -> None:  # type: ignore[no-untyped-def]
    conn = await connect(server)
    term = await open_terminal(conn)
    await term.wait_text("STANDIN size=80x24")
    term.press("q")
    await term.wait_closed()
    conn.close()


async def test_a_flood_from_one_address_is_cut_at_once_and_a_visitor_gets_in(
    make_server,
) -> None:
    server = await make_server(max_startups=32)
    flood = await flood_from(server, ["127.0.0.2"] * FLOOD)
    try:
        preauth = server.preauth
        burst = server.config.rate_burst
        assert len(preauth.waiting) == burst and preauth.dropped == FLOOD - burst
        await wait_until(lambda: server_side_sockets(server.port) <= burst,
                         "the dropped connections to be closed")
        await visitor_logs_in(server)  # from 127.0.0.1: not held back by 127.0.0.2
        assert server_side_sockets(server.port) <= burst + 1
    finally:
        for sock in flood:
            sock.close()
    await wait_until(lambda: not preauth.waiting, "the flood's connections to be forgotten")


async def test_a_flood_from_many_addresses_cannot_fill_the_server(make_server) -> None:
    server = await make_server(max_startups=32)
    flood = await flood_from(server, [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(FLOOD)])
    try:
        preauth = server.preauth
        assert len(preauth.waiting) == 32 and preauth.evicted == FLOOD - 32
        await wait_until(lambda: server_side_sockets(server.port) <= 32,
                         "the evicted connections to be closed")
        await visitor_logs_in(server)  # evicts the oldest silent one
        assert server_side_sockets(server.port) <= 33
    finally:
        for sock in flood:
            sock.close()


async def test_a_refused_connection_that_stays_silent_is_not_kept(make_server) -> None:
    """Over the rate limit, a connection waits for its refusal (told at log-in) only
    `refusal_grace` seconds, not the whole login timeout."""
    server = await make_server(max_startups=32, rate_burst=2, rate_per_minute=1.0,
                               refusal_grace=0.2)
    preauth = server.preauth
    first = [silent(server.port, "127.0.0.3") for _ in range(2)]  # the burst
    await wait_until(lambda: len(preauth.waiting) == 2, "two silent connections")
    for sock in first:
        sock.close()
    await wait_until(lambda: not preauth.waiting, "them to be gone")
    refused = [silent(server.port, "127.0.0.3") for _ in range(2)]  # no token left
    try:
        await wait_until(lambda: len(preauth.waiting) == 2, "the refused ones to arrive")
        await wait_until(lambda: not preauth.waiting, "the refused ones to be closed")
        await wait_until(lambda: server_side_sockets(server.port) == 0, "their sockets closed")
        # well before the login timeout, while the clients still hold their ends open
        assert server.config.login_timeout > 0.2 * 10
        assert not preauth.waiting and server_side_sockets(server.port) == 0
    finally:
        for sock in refused:
            sock.close()
