"""The pydantic model of a theme file (format: see ``themes.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError

from journeytui.tui.themes import STAGE_SLOTS

if TYPE_CHECKING:
    from textual.theme import Theme


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
        return {k: c if c.startswith("$") else _check_colour(c) for k, c in v.items()}


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "file"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def resolve_references(theme: Theme, path: Path, extra: Mapping[str, str] = {}) -> None:
    """Replace each ``$name`` in the theme's variables by the colour it names.

    Textual (8.2.8) puts a variable's value into its CSS as written, so a ``$name``
    there fails to parse the moment the theme is picked — and ends the app.  Here a
    reference may name a colour Textual derives from the theme (``$primary``,
    ``$surface``, …), another variable of the theme, or one of the app's own
    (*extra*, e.g. ``$stage-2``); it is resolved now.  An unknown name, a loop, or
    a name whose value is not a colour raises ValueError naming file and variable.
    """
    derived = {**extra, **theme.to_color_system().generate()}
    resolved: dict[str, str] = {}
    for name, value in theme.variables.items():
        seen = {name}
        while isinstance(value, str) and value.startswith("$"):
            ref = value[1:].strip()
            if ref in seen:
                raise ValueError(f"{path}: variables.{name}: '${ref}' refers back to itself")
            seen.add(ref)
            if ref in theme.variables:
                value = theme.variables[ref]
            elif ref in derived:
                value = derived[ref]
            else:
                raise ValueError(
                    f"{path}: variables.{name}: '${ref}' is not a variable of Textual or "
                    "journeytui (a colour, or $primary, $surface, … )"
                )
        try:
            _check_colour(str(value))
        except ValueError:
            raise ValueError(
                f"{path}: variables.{name}: {theme.variables[name]!r} is {value!r}, not a colour"
            ) from None
        resolved[name] = str(value)
    theme.variables.update(resolved)


def validate_theme(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """*data* checked against :class:`ThemeFile`; ValueError naming file and field."""
    try:
        return ThemeFile.model_validate(data).model_dump()
    except ValidationError as exc:
        raise ValueError(f"{path}: {_describe(exc)}") from None
