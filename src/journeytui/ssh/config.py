"""Settings of one `serve-ssh` server, checked before anything listens."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from journeytui.errors import UserError

#: Builds the command line of one session's child process from the store it opens.
ChildCommand = Callable[[Path], Sequence[str]]


def app_command(db: Path) -> list[str]:
    """The real app on *db*: what every session runs unless a test says otherwise."""
    return [sys.executable, "-m", "journeytui", "--db", str(db)]


def default_host_key_path() -> Path:
    """``$XDG_DATA_HOME/journeytui/ssh_host_ed25519_key`` (``~/.local/share`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "journeytui" / "ssh_host_ed25519_key"


@dataclass
class ServerConfig:
    """Everything `serve-ssh` needs; the CLI fills it from its flags, tests directly."""

    db: Path
    host: str = "127.0.0.1"
    port: int = 2222
    max_sessions: int = 8
    idle_timeout: float = 600.0  # seconds without input; 0 = never
    session_ttl: float = 3600.0  # seconds a session may last; 0 = no limit
    password: str | None = None
    authorized_keys: Path | None = None
    host_key: Path | None = None  # None: default_host_key_path()
    shared: bool = False
    # per-address connection rate limit: `rate_burst` at once, refilled at
    # `rate_per_minute` connections a minute
    rate_per_minute: float = 10.0
    rate_burst: int = 10
    # Connections not logged in yet (like OpenSSH's MaxStartups): at most this many in
    # all, the oldest closed to make room for a new one; from one address at most
    # `rate_burst`, further ones closed at once.  Each must log in within
    # `login_timeout` seconds; one refused (rate, seats) is closed after `refusal_grace`.
    max_startups: int = 64
    login_timeout: float = 30.0
    refusal_grace: float = 10.0
    no_color: bool = field(default_factory=lambda: bool(os.environ.get("NO_COLOR")))
    # How long a session's child gets after SIGHUP, then after SIGTERM, before the
    # next signal (SIGTERM, then SIGKILL).
    kill_grace: float = 2.0
    # Before an idle or TTL close, the user is warned this long ahead (capped at a
    # quarter of the limit).
    warn_ahead: float = 60.0
    # A logged-in connection with no session open is closed after this long.
    unused_connection_timeout: float = 60.0
    child_command: ChildCommand = app_command
    # Where session copies of the store go (None: the system temp dir).
    temp_root: Path | None = None

    def check(self) -> None:
        """Raise :class:`UserError` for a setting that cannot work, naming the flag."""
        if not self.password and self.authorized_keys is None:
            raise UserError(
                "serve-ssh: no way to log in. Give --password PW (any user name) "
                "and/or --authorized-keys FILE (for example ~/.ssh/authorized_keys)."
            )
        if not 0 <= self.port <= 65535:
            raise UserError(f"serve-ssh: --port {self.port}: must be between 1 and 65535")
        if self.max_sessions < 1:
            raise UserError(f"serve-ssh: --max-sessions {self.max_sessions}: must be at least 1")
        if self.idle_timeout < 0:
            raise UserError(
                f"serve-ssh: --idle-timeout {self.idle_timeout:g}: must be 0 (never) or more"
            )
        if self.session_ttl < 0:
            raise UserError(
                f"serve-ssh: --session-ttl {self.session_ttl:g}: must be 0 (no limit) or more"
            )
        if self.max_startups < 1:
            raise UserError(f"serve-ssh: --max-startups {self.max_startups}: must be at least 1")
        if self.rate_per_minute <= 0 or self.rate_burst < 1:
            raise UserError("serve-ssh: --rate-limit: must allow at least 1 connection a minute")

    @property
    def host_key_path(self) -> Path:
        return self.host_key if self.host_key is not None else default_host_key_path()
