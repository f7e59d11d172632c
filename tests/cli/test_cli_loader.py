"""Every command module the CLI names is there: a missing one is an error, never a
command that silently vanishes from the help."""

from __future__ import annotations

import pytest

import journeytui.cli as cli


def test_a_missing_command_module_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "journeytui.cli.gone_cmd"])
    with pytest.raises(ModuleNotFoundError, match="gone_cmd"):
        cli.build_parser()


def test_every_named_module_registers() -> None:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(cli.COMMAND_HOME) <= set(sub.choices)  # type: ignore[arg-type]
