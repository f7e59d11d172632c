"""Theme files: the built-ins are valid, broken files are named, the app's variables exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.tui.theme_model import validate_theme
from journeytui.tui.themes import (
    APP_VARIABLE_DEFAULTS,
    BUILTIN_DIR,
    load_theme_file,
    load_themes,
    read_theme_data,
)

BUILTINS = sorted(BUILTIN_DIR.glob("*.toml"))


def test_builtins_are_the_repository_themes_and_package_data() -> None:
    """The package's themes/ is the top-level themes/ (a link), so a wheel carries them."""
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    assert BUILTIN_DIR.resolve() == (repo / "themes").resolve()
    assert {p.name for p in BUILTIN_DIR.glob("*.toml")} == {
        p.name for p in (repo / "themes").glob("*.toml")
    }
    with (repo / "pyproject.toml").open("rb") as handle:
        package_data = tomllib.load(handle)["tool"]["setuptools"]["package-data"]
    assert "**/*.toml" in package_data["journeytui"]


def test_at_least_dark_light_and_ansi() -> None:
    names = set(load_themes(BUILTIN_DIR).themes)
    assert {"journey-dark", "journey-light", "journey-ansi"} <= names


@pytest.mark.parametrize("path", BUILTINS, ids=[p.stem for p in BUILTINS])
def test_builtin_theme_is_valid_and_complete(path: Path) -> None:
    data = validate_theme(read_theme_data(path), path)  # the model user themes meet
    theme = load_theme_file(path)
    assert theme.name == path.stem == data["name"]
    for variable in APP_VARIABLE_DEFAULTS:
        assert variable in theme.variables, (path.name, variable)


def test_ansi_theme_uses_only_terminal_colours() -> None:
    data = read_theme_data(BUILTIN_DIR / "journey-ansi.toml")
    assert data["ansi"] is True
    colours = [*data["colors"].values(), *data["stages"]["colors"], data["stages"]["exit"],
               *data["variables"].values()]
    assert colours and all(c.startswith("ansi_") for c in colours)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"\n[colors]\nprimary = "nope"\n', "colors.primary"),
        ('name = "x"\n', "colors"),
        ('name = "Bad Name"\n[colors]\nprimary = "#fff"\n', "name"),
        ('name = "x"\ncolour = 1\n[colors]\nprimary = "#fff"\n', "colour"),
        ("name = \n", "not valid TOML"),
    ],
)
def test_broken_user_theme_is_named_with_its_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "bad.toml").write_text(text)
    (tmp_path / "good.toml").write_text('name = "good"\n[colors]\nprimary = "#123456"\n')
    result = load_themes(BUILTIN_DIR, tmp_path)
    assert "good" in result.themes
    assert len(result.errors) == 1
    assert "bad.toml" in result.errors[0] and expected in result.errors[0]


def test_user_theme_replaces_a_builtin(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'name = "journey-dark"\n[colors]\nprimary = "#ff0000"\n[stages]\nexit = "#00ff00"\n'
    )
    theme = load_themes(BUILTIN_DIR, tmp_path).themes["journey-dark"]
    assert theme.primary == "#ff0000"
    assert theme.variables["stage-exit"] == "#00ff00"


UNDEFINED = 'name = "bad"\n[colors]\nprimary = "#123456"\n[variables]\n"block-cursor-background" = "$nope"\n'
LOOP = 'name = "loop"\n[colors]\nprimary = "#123456"\n[variables]\n"a" = "$b"\n"b" = "$a"\n'
GOOD_REF = (
    'name = "good-ref"\n[colors]\nprimary = "#123456"\n[variables]\n'
    '"block-cursor-background" = "$accent"\n"footer-key-foreground" = "$stage-2"\n'
)


def test_a_theme_referring_to_an_undefined_variable_is_named_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(UNDEFINED)
    (tmp_path / "loop.toml").write_text(LOOP)
    (tmp_path / "good-ref.toml").write_text(GOOD_REF)
    result = load_themes(BUILTIN_DIR, tmp_path)
    assert "good-ref" in result.themes  # $accent (Textual's) and $stage-2 (the app's) exist
    assert "bad" not in result.themes and "loop" not in result.themes
    bad = next(e for e in result.errors if "bad.toml" in e)
    assert "variables.block-cursor-background" in bad and "'$nope'" in bad
    assert any("loop.toml" in e and "refers back" in e for e in result.errors)


async def test_the_app_starts_names_the_bad_theme_and_survives_picking_the_others(
    demo_db: Path, app_factory, config_dir: Path, settle
) -> None:
    themes = config_dir / "themes"
    themes.mkdir()
    (themes / "bad.toml").write_text(UNDEFINED)
    (themes / "good-ref.toml").write_text(GOOD_REF)
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("Theme skipped" in m and "bad.toml" in m and "$nope" in m for m in said)
        assert "bad" not in app.available_themes
        for name in sorted(app.available_themes):
            app.switch_theme(name)
            await pilot.pause()
        assert app.is_running and app.theme == max(app.available_themes)
        assert app.get_css_variables()["block-cursor-background"]


async def test_ansi_cursor_rows_name_both_colours(demo_db, app_factory, settle) -> None:  # type: ignore[no-untyped-def]
    """In journey-ansi the focused cursor rows of the funnel and the condition tree are
    black on white — never the terminal's default text on white (invisible on a dark
    terminal)."""
    from journeytui.tui.widgets.condition_tree import ConditionTree
    from journeytui.tui.widgets.funnel_view import FunnelView

    app = app_factory(demo_db, theme="journey-ansi")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key, cls in (("4", FunnelView), ("5", ConditionTree)):
            await pilot.press(key)
            await settle(pilot)
            widget = app.main.query_one(cls)
            widget.focus()
            await settle(pilot)
            row = next(y for y in range(widget.size.height)
                       if any("▸" in seg.text for seg in widget.render_line(y)))
            styles = [seg.style for seg in widget.render_line(row) if seg.text.strip()]
            assert styles
            for style in styles:
                assert style is not None and style.color is not None
                assert style.color.number == 0 and style.bgcolor is not None  # ANSI black
                assert style.bgcolor.number == 7, (cls.__name__, style)  # ANSI white
