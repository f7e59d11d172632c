"""`journeytui serve-ssh`: demo sessions of the app over SSH."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

PASSWORD_ENV = "JOURNEYTUI_SSH_PASSWORD"


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "serve-ssh",
        parents=[common],
        help="serve the app to SSH clients (demo sessions)",
        description=(
            "Serve journeytui over SSH: each session runs the app in its own process, "
            "sized to the visitor's terminal. It reads the store read-only; a visitor's "
            "first save makes a private copy for that session (or every session writes "
            "the one store with --shared). Give --password and/or --authorized-keys."
        ),
        epilog=(
            f"The password can also come from ${PASSWORD_ENV} (so it is not seen in "
            "`ps`). Connect with: ssh -p 2222 demo@HOST"
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=2222, help="port (default %(default)s)")
    p.add_argument(
        "--max-sessions",
        type=_positive_int,
        default=8,
        metavar="N",
        help="at most N sessions at once (default %(default)s)",
    )
    p.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=600.0,
        metavar="S",
        help="close a session after S seconds without input, 0 = never (default %(default)g)",
    )
    p.add_argument(
        "--session-ttl",
        type=_seconds,
        default=3600.0,
        metavar="S",
        help="close a session after S seconds, 0 = no limit (default %(default)g)",
    )
    p.add_argument(
        "--rate-limit",
        type=_positive_int,
        default=10,
        metavar="N",
        help="connections a minute from one address (default %(default)s)",
    )
    p.add_argument(
        "--max-startups",
        type=_positive_int,
        default=64,
        metavar="N",
        help="connections not logged in yet, in all (the oldest is closed to make room; "
        "from one address at most the --rate-limit burst) (default %(default)s)",
    )
    p.add_argument("--password", metavar="PW", help="password for any user name")
    p.add_argument(
        "--authorized-keys",
        type=Path,
        metavar="FILE",
        help="public keys allowed to log in (authorized_keys format)",
    )
    p.add_argument(
        "--host-key",
        type=Path,
        metavar="FILE",
        help="the server's host key, made on first start "
        "(default $XDG_DATA_HOME/journeytui/ssh_host_ed25519_key)",
    )
    p.add_argument(
        "--shared",
        action="store_true",
        help="all sessions use the one store (edits are seen by all) instead of private copies",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from journeytui.cli import db_path
    from journeytui.ssh import ServerConfig, run_server

    config = ServerConfig(
        db=Path(db_path(args)),
        host=args.host,
        port=args.port,
        max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout,
        session_ttl=args.session_ttl,
        password=args.password or os.environ.get(PASSWORD_ENV) or None,
        authorized_keys=args.authorized_keys,
        host_key=args.host_key,
        shared=args.shared,
        rate_per_minute=float(args.rate_limit),
        rate_burst=args.rate_limit,
        max_startups=args.max_startups,
    )
    return run_server(config)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: must be 0 or more seconds (a finite number)")
    return value
