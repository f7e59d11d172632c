"""The SSH server: authentication, limits, and one :class:`AppSession` per session."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import logging
import os
import signal
import sys
from pathlib import Path

import asyncssh

from journeytui.errors import UserError
from journeytui.ssh.config import ServerConfig
from journeytui.ssh.hostkey import load_or_create_host_key
from journeytui.ssh.limits import PreAuth, RateLimiter, Seats
from journeytui.ssh.session import AppSession
from journeytui.ssh.storecopy import check_source, remove_stale_copies
from journeytui.textsafe import safe_text

log = logging.getLogger("journeytui.ssh")

MAX_PASSWORD_TRIES = 6  # per connection, like OpenSSH's MaxAuthTries
FAILED_LOGIN_DELAY = 0.5  # seconds; slows guessing


class _Connection(asyncssh.SSHServer):
    """asyncssh's per-connection callbacks."""

    def __init__(self, demo: DemoServer) -> None:
        self.demo = demo
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = "?"
        self.addr = "?"
        self.user = ""
        self.failures = 0
        self.refusal: str | None = None
        self.open_sessions = 0
        self._unused: asyncio.TimerHandle | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.addr = str(peer[0])
        self.peer = f"{peer[0]}:{peer[1]}" if ":" not in self.addr else f"[{peer[0]}]:{peer[1]}"
        demo = self.demo
        if not demo.preauth.admit(self):
            # closed before a byte is exchanged: a flood costs one accept() each
            asyncio.get_running_loop().call_soon(conn.abort)
            return
        # Decided now, told once the connection is encrypted (in begin_auth): a
        # disconnect sent before the key exchange reaches the client as a bare reset.
        if not demo.rate.allow(self.addr):
            wait = demo.rate.retry_after(self.addr)
            log.info("ssh connection from %s refused: rate limit", self.peer)
            self.refusal = (
                f"journeytui: too many connections from {self.addr}, "
                f"try again in {max(1, round(wait))} seconds"
            )
        elif demo.seats.full:
            log.info("ssh connection from %s refused: all seats taken", self.peer)
            self.refusal = demo.seats.message()
        if self.refusal is not None:  # told at begin_auth; a client that never gets
            # there (a silent socket) is not kept until the login timeout
            self._unused = asyncio.get_running_loop().call_later(
                demo.config.refusal_grace, conn.abort
            )

    def begin_auth(self, username: str) -> bool:
        self.user = username
        if self.refusal is not None and self.conn is not None:
            self.conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS, self.refusal)
        return True  # always ask for a password or key

    def password_auth_supported(self) -> bool:
        return bool(self.demo.config.password)

    async def validate_password(self, username: str, password: str) -> bool:
        expected = self.demo.config.password
        if expected and hmac.compare_digest(password.encode(), expected.encode()):
            return True
        self.failures += 1
        log.info(
            "ssh login from %s user=%s refused: wrong password",
            self.peer,
            safe_text(username, 40),
        )
        await asyncio.sleep(FAILED_LOGIN_DELAY)
        if self.failures >= MAX_PASSWORD_TRIES and self.conn is not None:
            self.conn.disconnect(
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "journeytui: too many wrong passwords"
            )
        return False

    def auth_completed(self) -> None:
        self.demo.preauth.forget(self)
        self._close_if_unused_later()

    def session_requested(self) -> AppSession:
        self.open_sessions += 1
        if self._unused is not None:
            self._unused.cancel()
            self._unused = None
        return AppSession(self.demo, self.peer, self.user, on_end=self._session_ended)

    def _session_ended(self) -> None:
        self.open_sessions -= 1
        if self.open_sessions == 0:
            self._close_if_unused_later()

    def _close_if_unused_later(self) -> None:
        """A logged-in connection with no session for a while is closed."""
        if self._unused is not None:
            self._unused.cancel()
        self._unused = asyncio.get_running_loop().call_later(
            self.demo.config.unused_connection_timeout, self._close_unused
        )

    def _close_unused(self) -> None:
        self._unused = None
        if self.open_sessions == 0 and self.conn is not None:
            self.conn.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.demo.preauth.forget(self)
        if self._unused is not None:
            self._unused.cancel()
            self._unused = None


def _evict(old: _Connection) -> None:
    log.info("ssh connection from %s closed: not logged in, and %d newer connections "
             "wait to (--max-startups)", old.peer, old.demo.config.max_startups)
    if old.conn is not None:
        old.conn.abort()


def _log_drop(conn: _Connection, dropped: int) -> None:
    if dropped == 1 or dropped % 100 == 0:  # one line, not one a connection of a flood
        log.info("ssh connection from %s dropped: %d connections from %s are not logged "
                 "in yet (%d dropped so far)", conn.peer, conn.demo.config.rate_burst,
                 conn.addr, dropped)


class DemoServer:
    """A running `serve-ssh` server: listen with :meth:`start`, stop with :meth:`close`."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.seats = Seats(config.max_sessions)
        self.rate = RateLimiter(config.rate_per_minute, config.rate_burst)
        self.preauth: PreAuth[_Connection] = PreAuth(
            config.max_startups, config.rate_burst,
            addr=lambda c: c.addr, evict=_evict, on_drop=_log_drop,
        )
        self.sessions: dict[int, AppSession] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.host_key: asyncssh.SSHKey | None = None
        self.host_key_created = False
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._next_id = 0

    def next_session_id(self) -> int:
        self._next_id += 1
        return self._next_id

    @property
    def port(self) -> int:
        assert self._acceptor is not None, "not started"
        return int(self._acceptor.get_port())

    @property
    def fingerprint(self) -> str:
        assert self.host_key is not None
        return str(self.host_key.get_fingerprint())

    async def start(self) -> None:
        """Check the settings and the store, load the keys, and listen.

        Every problem a user can fix raises :class:`UserError` before anything listens.
        """
        cfg = self.config
        cfg.check()
        check_source(cfg.db)
        stale = remove_stale_copies(cfg.temp_root)
        if stale:
            log.info("removed %d session copies left by a server that is gone", stale)
        self.host_key, self.host_key_created = load_or_create_host_key(cfg.host_key_path)
        authorized: asyncssh.SSHAuthorizedKeys | None = None
        if cfg.authorized_keys is not None:
            authorized = _read_authorized_keys(cfg.authorized_keys)
        try:
            self._acceptor = await asyncssh.listen(
                cfg.host,
                cfg.port,
                server_factory=lambda: _Connection(self),
                server_host_keys=[self.host_key],
                authorized_client_keys=authorized,
                encoding=None,
                line_editor=False,
                allow_scp=False,
                agent_forwarding=False,
                x11_forwarding=False,
                keepalive_interval=30,
                keepalive_count_max=4,
                login_timeout=cfg.login_timeout,
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                why = (
                    "the port is in use (by another program, or by a server that stopped "
                    "less than a minute ago)"
                )
            else:
                why = os.strerror(exc.errno) if exc.errno else str(exc)
            raise UserError(
                f"serve-ssh: cannot listen on {cfg.host}:{cfg.port}: {why}; "
                "pick another --port or --host"
            ) from None

    async def close(self) -> None:
        """Stop listening, end every session (their apps too), and wait for that."""
        if self._acceptor is not None:
            self._acceptor.close()
        for session in list(self.sessions.values()):
            session.finish("shutdown")
        pending = [t for t in self.tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=self.config.kill_grace * 2 + 15)
        if self._acceptor is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._acceptor.wait_closed(), 5)


def _read_authorized_keys(path: Path) -> asyncssh.SSHAuthorizedKeys:
    try:
        return asyncssh.read_authorized_keys(str(path))
    except OSError as exc:
        raise UserError(f"{path}: cannot read --authorized-keys: {exc.strerror or exc}") from None
    except (ValueError, asyncssh.KeyImportError) as exc:
        raise UserError(
            f"{path}: not an authorized_keys file ({exc}); it needs one public key a "
            "line, as in ~/.ssh/authorized_keys"
        ) from None


async def start_server(config: ServerConfig) -> DemoServer:
    """Start a server for *config* and return it (tests use this with port 0)."""
    server = DemoServer(config)
    await server.start()
    return server


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def setup_logging() -> None:
    """One line a session on stderr; asyncssh's own chatter only for warnings."""
    logger = logging.getLogger("journeytui.ssh")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
        )
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)


def run_server(config: ServerConfig) -> int:
    """Serve until SIGINT, SIGTERM or SIGHUP (then end every session); the `serve-ssh`
    command.  Returns the exit code."""
    return asyncio.run(_serve(config))


async def _serve(config: ServerConfig) -> int:
    server = await start_server(config)
    setup_logging()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    cfg = server.config
    if server.host_key_created:
        log.info("new SSH host key written to %s", cfg.host_key_path)
    mode = (
        "one shared store" if cfg.shared
        else "the store read-only, a private copy for a session that saves"
    )
    limits = [f"{cfg.max_sessions} seats"]
    if cfg.idle_timeout:
        limits.append(f"idle timeout {cfg.idle_timeout:g} s")
    if cfg.session_ttl:
        limits.append(f"session TTL {cfg.session_ttl:g} s")
    log.info(
        "journeytui serve-ssh listening on %s port %d: %s, %s; host key %s",
        cfg.host,
        server.port,
        cfg.db,
        ", ".join([mode, *limits]),
        server.fingerprint,
    )
    host = cfg.host if cfg.host not in ("0.0.0.0", "::", "") else "<this host>"
    log.info("connect with: ssh -p %d demo@%s   (Ctrl+C here stops the server)", server.port, host)
    await stop.wait()
    log.info("stopping: ending %d session(s)", len(server.sessions))
    await server.close()
    return 0
