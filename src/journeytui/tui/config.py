"""Where the app keeps user files, and reading/writing them.

The directory is ``$JOURNEYTUI_CONFIG_DIR`` if set (tests set it to a temporary
directory so they never read the user's files), else ``$XDG_CONFIG_HOME/journeytui``,
else ``~/.config/journeytui``.  It holds:

* ``settings.json`` — ``{"theme": "journey-dark"}``: the chosen theme, remembered;
* ``keymap.toml`` — ``binding-id = "key"`` lines that rebind keys (see :func:`load_keymap`);
* ``themes/*.toml`` — the user's own themes (same format as the built-ins).

Nothing here raises for a bad file: problems come back as messages the app shows.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

CONFIG_ENV = "JOURNEYTUI_CONFIG_DIR"


#: A settings, keymap or theme file larger than this is not read (they are a few
#: hundred bytes; a huge one is a mistake or an attack on start-up).
MAX_CONFIG_BYTES = 256 * 1024


def read_config_bytes(path: Path) -> bytes:
    """The bytes of a small config file; OSError if unreadable, ValueError if too big
    or not a regular file (a FIFO would block the start for ever)."""
    if not stat.S_ISREG(path.stat().st_mode):
        raise ValueError("not a regular file")
    with path.open("rb") as handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"larger than {MAX_CONFIG_BYTES // 1024} kB")
    return data


def config_dir() -> Path:
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "journeytui"


def load_settings(directory: Path) -> tuple[dict[str, object], str | None]:
    """The settings and, when the file is broken, a message naming it."""
    path = directory / "settings.json"
    try:
        data = json.loads(read_config_bytes(path).decode("utf-8"))
    except FileNotFoundError:
        return {}, None
    except RecursionError:
        return {}, f"{path}: ignored, nested too deeply to be settings"
    except (OSError, ValueError) as exc:
        return {}, f"{path}: ignored, not valid JSON ({exc})"
    if not isinstance(data, dict):
        return {}, f"{path}: ignored, expected a JSON object"
    return data, None


def save_settings(directory: Path, settings: dict[str, object]) -> str | None:
    """Write settings atomically; returns an error message instead of raising."""
    path = directory / "settings.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        return f"{path}: could not save settings ({exc})"
    return None


def load_keymap(directory: Path) -> tuple[dict[str, str], list[str]]:
    """Read ``keymap.toml``: ``binding-id = "key"`` (comma-separate several keys).

    Entries may sit at the top level or under a ``[keymap]`` table.  Returns the
    keymap and a list of problems (each naming the file and the entry).
    """
    path = directory / "keymap.toml"
    try:
        raw = read_config_bytes(path)
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError) as exc:
        return {}, [f"{path}: ignored, cannot read ({exc})"]
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except RecursionError:
        return {}, [f"{path}: ignored, nested too deeply to be a keymap"]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return {}, [f"{path}: ignored, not valid TOML ({exc})"]
    table = data.get("keymap", data)
    if not isinstance(table, dict):
        return {}, [f"{path}: [keymap] must be a table"]
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in table.items():
        if binding_id == "keymap":
            continue
        if not isinstance(keys, str) or not keys.strip():
            problems.append(f"{path}: {binding_id}: expected a key name string such as \"ctrl+o\"")
            continue
        keymap[binding_id] = keys.replace(" ", "")
    return keymap, problems
