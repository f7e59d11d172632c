"""New, empty stores for tests: copies of one store made once per test process.

Creating a store runs every schema migration (about 40 ms) and closing it checkpoints
its log into the file (about 15 ms); a copy of a store made that way and closed takes
about 2 ms to make and open.  A copy is the file ``Store.create`` makes: the same
schema, the same meta rows, its log already in the file.  Only two things differ: its
``created_at`` (when the process made its first store; nothing reads it) and, when no
token key is given, the key, which is new for each copy as for each new store.

Tests about creating a store (a missing file, a folder that refuses one) create theirs
with ``Store.create``.
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import sqlite3
import tempfile
from pathlib import Path

from journeytui.store import Store

_TEMPLATES: dict[bytes | None, Path] = {}


def _template(token_key: bytes | None) -> Path:
    path = _TEMPLATES.get(token_key)
    if path is None:
        folder = Path(tempfile.mkdtemp(prefix="blank-store-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "blank.db"
        Store.create(path, token_key=token_key).close()
        _TEMPLATES[token_key] = path
    return path


def blank_store_file(path: Path, *, token_key: bytes | None = None) -> Path:
    """A new store at *path* (which must not exist), closed; *token_key* as
    ``Store.create`` takes it (None: a new random key)."""
    if path.exists():
        raise FileExistsError(path)
    shutil.copyfile(_template(token_key), path)
    if token_key is None:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'token_key'",
                         (secrets.token_bytes(16).hex(),))
        finally:
            conn.close()
    return path


def blank_store(path: Path, *, token_key: bytes | None = None) -> Store:
    """:func:`blank_store_file`, opened: what ``Store.create(path, token_key=…)`` returns."""
    return Store.open(blank_store_file(path, token_key=token_key))
