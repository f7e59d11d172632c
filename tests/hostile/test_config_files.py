"""Hostile config files (settings.json, keymap.toml, themes/*.toml): each is named in
a notification and ignored, and the app starts with its defaults.

The bug: 100,000 nested ``[`` in settings.json raised RecursionError and the app did
not start at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEEP_JSON = "[" * 100_000
DEEP_TOML = "a = " + "[" * 100_000

CASES = {
    "deep-settings": {"settings.json": DEEP_JSON},
    "deep-keymap": {"keymap.toml": DEEP_TOML},
    "deep-theme": {"themes/deep.toml": DEEP_TOML},
    "huge-settings": {"settings.json": '{"theme": "journey-light", "pad": "' + "x" * 400_000 + '"}'},
    "settings-not-an-object": {"settings.json": "[1, 2, 3]"},
    "settings-theme-not-a-string": {"settings.json": '{"theme": {"name": "journey-light"}}'},
    "settings-binary": {"settings.json": "\x00\x01\x02\udcff"},
    "keymap-to-nonsense": {"keymap.toml": '"app.quit" = 5\n"no.such.id" = "ctrl+q"\n'},
    "theme-with-escape-name": {"themes/x.toml": 'name = "\\u001b[2J"\n[colors]\nprimary = "#fff"\n'},
}


def write(config_dir: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = config_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        paths.append(path)
    return paths


@pytest.mark.parametrize("case", list(CASES))
async def test_the_app_starts_and_names_a_hostile_config_file(
    small_db: Path, config_dir: Path, app_factory, settle, case: str
) -> None:
    paths = write(config_dir, CASES[case])
    app = app_factory(small_db, theme=None)  # the theme comes from settings, if any
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.is_running and app.theme == "journey-dark"
        said = " | ".join(n.message for n in app._notifications)
        if case not in ("keymap-to-nonsense",):
            assert any(str(p) in said or p.name in said for p in paths), said
        await pilot.press("3")  # the keys still work
        await settle(pilot)
        assert "\x1b" not in said


def test_a_fifo_as_settings_never_blocks_the_start(small_db: Path, config_dir: Path) -> None:
    from journeytui.tui.config import load_keymap, load_settings

    os.mkfifo(config_dir / "settings.json")
    os.mkfifo(config_dir / "keymap.toml")
    settings, problem = load_settings(config_dir)
    assert settings == {} and problem and "not a regular file" in problem
    keymap, problems = load_keymap(config_dir)
    assert keymap == {} and "not a regular file" in problems[0]
