"""Themes as data: TOML files validated by pydantic, turned into Textual themes.

A theme file (``themes/*.toml`` for the built-ins, ``<config>/themes/*.toml`` for the
user's own) looks like::

    name = "journey-dark"        # unique; a user theme with a built-in's name replaces it
    dark = true
    ansi = false                 # true: colours are the terminal's own (ansi_* names)

    [colors]                     # Textual's base colours; primary is required
    primary = "#5fafff"
    secondary = "#87d7af"
    accent = "#ffaf5f"
    warning = "#ffd75f"
    error = "#ff5f5f"
    success = "#5fd787"
    foreground = "#e4e4e4"
    background = "#1c1c1c"
    surface = "#262626"
    panel = "#303030"

    [stages]                     # one colour per journey stage, in order, and exits
    colors = ["#5fafff", "#5fd7d7", "#87d787", "#d7d75f", "#ffaf5f", "#d787d7"]
    exit = "#ff8787"

    [variables]                  # any other Textual CSS variable
    "block-cursor-background" = "#5fafff"

Colours are anything Textual parses: ``#rrggbb``, ``rgb(…)``, a name, ``ansi_red``.
The app exposes ``$stage-1`` … ``$stage-6``, ``$stage-exit`` and ``$bar`` to CSS.

User theme files are validated by the pydantic model in ``theme_model.py``; the
built-in files are trusted at start-up (a test validates each with the same model),
which keeps pydantic out of the start-up path: the first paint is measured.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.theme import Theme

STAGE_SLOTS = 6
# The built-ins are the files in the repository's top-level themes/; the package's
# tui/themes is a symbolic link to it, so a wheel (package data) carries them too.
BUILTIN_DIR = Path(__file__).resolve().parent / "themes"
DEFAULT_THEME = "journey-dark"

# Defaults for the variables this app adds, so its CSS works under any theme.
APP_VARIABLE_DEFAULTS: dict[str, str] = {
    **{f"stage-{i + 1}": c for i, c in enumerate(
        ["#5fafff", "#5fd7d7", "#87d787", "#d7d75f", "#ffaf5f", "#d787d7"]
    )},
    "stage-exit": "#ff8787",
    "bar": "#5fafff",
}


def build_theme(data: dict[str, Any]) -> Theme:
    """A Textual theme from the (already validated) content of a theme file."""
    colors = {k: v for k, v in dict(data["colors"]).items() if v is not None}
    stages = dict(data.get("stages") or {})
    variables = dict(data.get("variables") or {})
    for i, colour in enumerate(stages.get("colors") or []):
        variables[f"stage-{i + 1}"] = colour
    if stages.get("exit"):
        variables["stage-exit"] = stages["exit"]
    variables.setdefault("bar", colors["primary"])
    return Theme(
        name=data["name"],
        dark=bool(data.get("dark", True)),
        ansi=bool(data.get("ansi", False)),
        variables=variables,
        **colors,
    )


@dataclass
class ThemeSet:
    themes: dict[str, Theme]
    errors: list[str]


def read_theme_data(path: Path) -> dict[str, Any]:
    from journeytui.tui.config import read_config_bytes

    try:
        return tomllib.loads(read_config_bytes(path).decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to be a theme") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None


def load_theme_file(path: Path, *, trusted: bool = False) -> Theme:
    """One theme file as a Textual theme; ValueError naming the file and field if bad.

    *trusted* (the built-ins) skips the pydantic validation.
    """
    data = read_theme_data(path)
    if trusted:
        return build_theme(data)
    from journeytui.tui.theme_model import resolve_references, validate_theme

    theme = build_theme(validate_theme(data, path))
    resolve_references(theme, path, APP_VARIABLE_DEFAULTS)
    return theme


def load_themes(builtin_dir: Path, *user_dirs: Path) -> ThemeSet:
    """The built-in themes, then the users' (a user theme may replace a built-in)."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for directory, trusted in [(builtin_dir, True), *((d, False) for d in user_dirs)]:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path, trusted=trusted)
            except (ValueError, KeyError, TypeError) as exc:
                errors.append(str(exc) if isinstance(exc, ValueError) else f"{path}: {exc!r}")
                continue
            themes[theme.name] = theme
    return ThemeSet(themes, errors)
