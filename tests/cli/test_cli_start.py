"""A command loads only what it needs: the map of commands to modules is the truth,
and `stats --json` never imports Textual, aiohttp or pydantic."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

from journeytui.cli import COMMAND_HOME, COMMAND_MODULES, _command_of


def test_every_command_is_found_in_the_module_that_registers_it() -> None:
    registered: dict[str, str] = {}
    for name in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(sub, argparse.ArgumentParser(add_help=False))
        for command in sub.choices:
            registered[command] = name
    # a wrong entry would break its command; a missing one only loads every module
    assert {c: registered.get(c) for c in COMMAND_HOME} == COMMAND_HOME
    core = {"demo", "import", "stats", "contact", "activities", "forget", "journey",
            "evaluate", "funnel", "serve-ssh", "serve-webhook", "insights", "explain"}
    assert core <= set(COMMAND_HOME)


def test_a_command_missing_from_the_map_still_works(tmp_path: Path) -> None:
    from journeytui.cli import build_parser

    parser = build_parser("no-such-command")  # falls back to every module
    args = parser.parse_args(["stats", "--json", "--db", str(tmp_path / "x.db")])
    assert args.command == "stats"


def test_the_command_word_is_found_after_global_options() -> None:
    assert _command_of(["--db", "x.db", "stats", "--json"]) == "stats"
    assert _command_of(["--theme", "journey-ansi"]) is None
    assert _command_of(["contact", "--db", "stats"]) == "contact"
    assert _command_of([]) is None


def test_stats_json_loads_neither_textual_nor_aiohttp_nor_pydantic(tmp_path: Path) -> None:
    from journeytui.store import Store

    db = tmp_path / "s.db"
    Store.create(db).close()
    code = (
        "import sys\n"
        "from journeytui.cli import main\n"
        f"rc = main(['stats', '--json', '--db', {str(db)!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'textual', 'aiohttp', 'pydantic', 'rapidfuzz'})\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout, done.stdout
