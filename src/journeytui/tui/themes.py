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
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

STAGE_SLOTS = 6
BUILTIN_DIR = Path(__file__).resolve().parents[3] / "themes"
DEFAULT_THEME = "journey-dark"

# Defaults for the variables this app adds, so its CSS works under any theme.
APP_VARIABLE_DEFAULTS: dict[str, str] = {
    **{f"stage-{i + 1}": c for i, c in enumerate(
        ["#5fafff", "#5fd7d7", "#87d787", "#d7d75f", "#ffaf5f", "#d787d7"]
    )},
    "stage-exit": "#ff8787",
    "bar": "#5fafff",
}


def _check_colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ValueError(f"{value!r} is not a colour ({exc})") from None
    return value


class ThemeColors(BaseModel):
    model_config = ConfigDict(extra="forbid")

    primary: str
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None

    @field_validator("*")
    @classmethod
    def _colour(cls, v: str | None) -> str | None:
        return None if v is None else _check_colour(v)


class StageColors(BaseModel):
    model_config = ConfigDict(extra="forbid")

    colors: list[str] = Field(default_factory=list, max_length=STAGE_SLOTS)
    exit: str | None = None

    @field_validator("colors")
    @classmethod
    def _colours(cls, v: list[str]) -> list[str]:
        return [_check_colour(c) for c in v]

    @field_validator("exit")
    @classmethod
    def _exit(cls, v: str | None) -> str | None:
        return None if v is None else _check_colour(v)


class ThemeFile(BaseModel):
    """The validated content of one theme file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    dark: bool = True
    ansi: bool = False
    colors: ThemeColors
    stages: StageColors = Field(default_factory=StageColors)
    variables: dict[str, str] = Field(default_factory=dict)

    @field_validator("variables")
    @classmethod
    def _variables(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: _check_colour(c) if not c.startswith("$") else c for k, c in v.items()}

    def to_textual_theme(self) -> Theme:
        variables = dict(self.variables)
        for i, colour in enumerate(self.stages.colors):
            variables[f"stage-{i + 1}"] = colour
        if self.stages.exit:
            variables["stage-exit"] = self.stages.exit
        variables.setdefault("bar", self.colors.primary)
        return Theme(
            name=self.name,
            dark=self.dark,
            ansi=self.ansi,
            variables=variables,
            **self.colors.model_dump(),
        )


@dataclass
class ThemeSet:
    themes: dict[str, Theme]
    errors: list[str]


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "file"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_theme_file(path: Path) -> Theme:
    """One theme file as a Textual theme; ValueError naming the file and field if bad."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    try:
        return ThemeFile.model_validate(data).to_textual_theme()
    except ValidationError as exc:
        raise ValueError(f"{path}: {_describe(exc)}") from None


def load_themes(*directories: Path) -> ThemeSet:
    """Every ``*.toml`` theme in *directories*, later directories overriding earlier."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    return ThemeSet(themes, errors)
