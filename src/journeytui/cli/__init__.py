"""The command line: `journeytui [--db PATH] [COMMAND …]`.

Each command lives in its own module with a ``register(subparsers, common)``
function; a module that adds ``func`` to its parser gets called with the parsed
args and returns the exit code.  No subcommand starts the TUI.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from journeytui.errors import UserError
from journeytui.store import DEFAULT_DB
from journeytui.store.db import explain_failure, set_wait_notice

# Modules that register commands, in help order.  A module that is not there is
# skipped, so a feature can be added without touching this file again.
COMMAND_MODULES = [
    "journeytui.cli.demo_cmd",
    "journeytui.cli.import_cmd",
    "journeytui.cli.stats_cmd",
    "journeytui.cli.explain_cmd",
    "journeytui.cli.journey_cmd",
    "journeytui.cli.insights_cmd",
    "journeytui.cli.ssh_cmd",
    "journeytui.cli.webhook_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=f"the store (default ./{DEFAULT_DB})",
    )
    parser = argparse.ArgumentParser(
        prog="journeytui",
        description="Email activity turned into customer-journey progress. "
        "With no command, opens the terminal app.",
        parents=[common],
    )
    parser.add_argument("--theme", metavar="NAME", help="theme for the app (e.g. journey-dark)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub, common)
    return parser


def db_path(args: argparse.Namespace) -> str:
    return getattr(args, "db", None) or DEFAULT_DB


def _say_waiting(store: object, waiting: bool) -> None:
    if waiting:
        from journeytui.store.db import WRITE_WAIT

        path = getattr(store, "path", "the store")
        print(f"journeytui: waiting for another program writing to {path} to finish "
              f"(up to {WRITE_WAIT:.0f} s)…", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    set_wait_notice(_say_waiting)
    try:
        if args.command is None:
            from journeytui.cli.app_cmd import run_app

            code = run_app(args)
        else:
            code = args.func(args)
    except UserError as exc:
        print(f"journeytui: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:  # never a traceback for a user
        if os.environ.get("JOURNEYTUI_DEBUG"):
            raise
        known = explain_failure(exc, db_path(args))
        if known is not None:
            print(f"journeytui: {known}", file=sys.stderr)
            return 2
        print(
            f"journeytui: unexpected error: {type(exc).__name__}: {exc}\n"
            "(set JOURNEYTUI_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        code = 1
    return code
