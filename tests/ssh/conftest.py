"""Fixtures for serve-ssh tests: a server on 127.0.0.1 (ephemeral port) and a client
that keeps what it sees in a pyte terminal emulator."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import asyncssh
import pyte
import pytest

from journeytui.ssh import DemoServer, ServerConfig, start_server
from tests.blank_store import blank_store_file

STANDIN = Path(__file__).with_name("standin_child.py")
PASSWORD = "demo-pass"
TIMEOUT = 10.0  # seconds any one wait may take before a test fails


def standin_command(db: Path) -> list[str]:
    return [sys.executable, str(STANDIN), "--db", str(db)]


class Terminal:
    """One SSH client session with a PTY, its output fed to a pyte screen."""

    def __init__(self, process: asyncssh.SSHClientProcess[bytes], cols: int, rows: int) -> None:
        self.process = process
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.stderr = bytearray()
        self.changed = asyncio.Event()
        self._readers = [
            asyncio.create_task(self._pump(process.stdout, self.raw, feed=True)),
            asyncio.create_task(self._pump(process.stderr, self.stderr, feed=False)),
        ]

    async def _pump(self, reader: Any, sink: bytearray, feed: bool) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            sink += data
            if feed:
                self.stream.feed(data)
            self.changed.set()

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(
        self, predicate: Callable[[str], bool], what: str, timeout: float = TIMEOUT
    ) -> str:
        """Wait until *predicate* holds for the screen text; fail after *timeout* s."""
        deadline = time.monotonic() + timeout
        while not predicate(self.text):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"screen never showed {what}; it shows:\n{self.text}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
            except TimeoutError:
                pass
        return self.text

    async def wait_text(self, text: str, timeout: float = TIMEOUT) -> str:
        return await self.wait_for(lambda screen: text in screen, repr(text), timeout)

    def press(self, keys: str | bytes) -> None:
        self.process.stdin.write(keys.encode() if isinstance(keys, str) else keys)

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(rows, cols)
        self.process.change_terminal_size(cols, rows)

    async def wait_closed(self) -> int | None:
        await asyncio.wait_for(self.process.wait_closed(), TIMEOUT)
        await asyncio.wait_for(asyncio.gather(*self._readers), TIMEOUT)
        return self.process.exit_status

    def close(self) -> None:
        for task in self._readers:
            task.cancel()


Connect = Callable[..., Awaitable[tuple[asyncssh.SSHClientConnection, Terminal]]]


@pytest.fixture
def source_db(tmp_path: Path) -> Path:
    return blank_store_file(tmp_path / "source.db")


@pytest.fixture
async def make_server(
    tmp_path: Path, source_db: Path
) -> AsyncIterator[Callable[..., Awaitable[DemoServer]]]:
    """Starts servers with the stand-in child; closes them (and their sessions) after."""
    servers: list[DemoServer] = []
    (tmp_path / "sessions").mkdir()

    async def make(**overrides: Any) -> DemoServer:
        settings: dict[str, Any] = {
            "db": source_db,
            "host": "127.0.0.1",
            "port": 0,
            "password": PASSWORD,
            "host_key": tmp_path / "host_key",
            "child_command": standin_command,
            "kill_grace": 0.5,
            "temp_root": tmp_path / "sessions",
            "no_color": False,
        }
        settings.update(overrides)
        server = await start_server(ServerConfig(**settings))
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


async def connect(
    server: DemoServer,
    *,
    username: str = "demo",
    password: str | None = PASSWORD,
    client_keys: Any = None,
    **options: Any,
) -> asyncssh.SSHClientConnection:
    return await asyncio.wait_for(
        asyncssh.connect(
            "127.0.0.1",
            server.port,
            **options,
            username=username,
            password=password,
            client_keys=client_keys,
            known_hosts=None,
            agent_path=None,
            preferred_auth="publickey,password" if client_keys else "password",
        ),
        TIMEOUT,
    )


async def open_terminal(
    conn: asyncssh.SSHClientConnection,
    cols: int = 80,
    rows: int = 24,
    term: str = "xterm-256color",
    env: Mapping[str, str] | None = None,
) -> Terminal:
    process = await conn.create_process(
        term_type=term, term_size=(cols, rows), encoding=None, env=dict(env or {})
    )
    return Terminal(process, cols, rows)


async def wait_until(predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """Poll *predicate* (every 20 ms) until it holds; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def pid_alive(pid: int) -> bool:
    """Whether *pid* is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def screen_value(text: str, key: str) -> str:
    """The value after ``key=`` on the stand-in's screen."""
    match = re.search(rf"\b{key}=(\S*)", text)
    assert match, f"no {key}= on screen:\n{text}"
    return match.group(1)
