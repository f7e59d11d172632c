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

# Modules that register commands, in help order (a new command module is added here
# and in COMMAND_HOME; a module named here that is missing is an error, not skipped).
COMMAND_MODULES = [
    "journeytui.cli.demo_cmd",
    "journeytui.cli.import_cmd",
    "journeytui.cli.stats_cmd",
    "journeytui.cli.explain_cmd",
    "journeytui.cli.batches_cmd",
    "journeytui.cli.journey_cmd",
    "journeytui.cli.insights_cmd",
    "journeytui.cli.segment_cmd",
    "journeytui.cli.series_cmd",
    "journeytui.cli.ssh_cmd",
    "journeytui.cli.webhook_cmd",
]


#: Which module registers each top-level command, so that a command imports only its
#: own module (``stats --json`` never loads Textual, aiohttp or the journey models).
#: tests/cli/test_cli_start.py checks this map against what the modules register.
COMMAND_HOME = {
    "demo": "journeytui.cli.demo_cmd",
    "import": "journeytui.cli.import_cmd",
    "stats": "journeytui.cli.stats_cmd",
    "contact": "journeytui.cli.stats_cmd",
    "activities": "journeytui.cli.stats_cmd",
    "forget": "journeytui.cli.stats_cmd",
    "explain": "journeytui.cli.explain_cmd",
    "batches": "journeytui.cli.batches_cmd",
    "journey": "journeytui.cli.journey_cmd",
    "evaluate": "journeytui.cli.journey_cmd",
    "funnel": "journeytui.cli.journey_cmd",
    "insights": "journeytui.cli.insights_cmd",
    "segment": "journeytui.cli.segment_cmd",
    "timing": "journeytui.cli.series_cmd",
    "series": "journeytui.cli.series_cmd",
    "serve-ssh": "journeytui.cli.ssh_cmd",
    "serve-webhook": "journeytui.cli.webhook_cmd",
}

# options of the top-level parser that take a value (so the command is found after them)
_VALUE_OPTIONS = ("--db", "--theme")


def _command_of(argv: Sequence[str]) -> str | None:
    """The command word of *argv*, or None (no command: the app; or --help)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word in _VALUE_OPTIONS:
            skip = True
            continue
        if word.startswith("-"):
            continue
        return word
    return None


def build_parser(command: str | None = None, *, app: bool = False) -> argparse.ArgumentParser:
    """The parser; with *command* (a known one), only the module that registers it is
    imported — every module otherwise (help, an unknown word).  *app*: no command word
    and no help asked for (the terminal app starts): no command module is imported
    (building them all cost the app's start about half a second: the webhook server's
    HTTP and crypto libraries, the insights)."""
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
    home = COMMAND_HOME.get(command) if command is not None else None
    for name in [home] if home is not None else [] if app else COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
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
    words = list(sys.argv[1:] if argv is None else argv)
    command = _command_of(words)
    helped = "-h" in words or "--help" in words
    parser = build_parser(None if helped else command, app=command is None and not helped)
    args = parser.parse_args(words)
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
