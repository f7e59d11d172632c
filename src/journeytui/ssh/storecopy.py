"""A private copy of the store for one session, made fast and consistently.

The source is opened read-only and a read transaction is held while copying, so no
writer can change what is copied.  When the source has no write-ahead log with
frames in it, the database file alone is the whole store and is copied by the
kernel (``shutil.copyfile``); otherwise SQLite's backup API copies the pages as of
that transaction, WAL frames included.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Mapping
from pathlib import Path

from journeytui.store import Store, StoreError

COPY_NAME = "journeys.db"
PREFIX = "journeytui-ssh-"
OWNER_FILE = "server.pid"  # the server that made the directory
EXPORTS = "exports"  # where a session may write (its working directory)


def check_source(path: Path) -> None:
    """Raise :class:`StoreError` unless *path* is a journeytui store we can read."""
    store = Store.open(path, readonly=True)
    store.close()


def make_session_dir(temp_root: Path | None = None) -> Path:
    """A new private (0700) folder for one session, marked with this server's pid.

    Every session has one, shared or private: its config, its exports (the
    :data:`EXPORTS` sub-folder, the app's working directory) and, in a private
    session, its copy of the store.  :func:`remove_session_dir` removes it.
    """
    workdir = Path(tempfile.mkdtemp(prefix=PREFIX, dir=temp_root))
    try:
        (workdir / OWNER_FILE).write_text(f"{os.getpid()}\n")
        (workdir / EXPORTS).mkdir(mode=0o700)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return workdir


def copy_store(source: Path, temp_root: Path | None = None) -> Path:
    """Copy *source* into a new session folder and return the copy's path.

    The caller removes the folder (``remove_copy``) when the session ends.
    """
    workdir = make_session_dir(temp_root)
    dest = workdir / COPY_NAME
    try:
        _copy(source, dest)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return dest


def remove_session_dir(workdir: Path) -> None:
    """Remove a folder that :func:`make_session_dir` made (and nothing else)."""
    if workdir.name.startswith(PREFIX):
        shutil.rmtree(workdir, ignore_errors=True)


def remove_copy(copy: Path) -> None:
    """Remove the session folder that :func:`copy_store` made for *copy*."""
    remove_session_dir(copy.parent)


def remove_stale_copies(temp_root: Path | None = None) -> int:
    """Remove session directories left by a server that is gone (killed, say).

    Only directories with this module's name and an owner file naming a process
    that no longer runs are touched.  Returns how many were removed.
    """
    root = Path(temp_root) if temp_root is not None else Path(tempfile.gettempdir())
    removed = 0
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
    except OSError:
        return 0
    for workdir in candidates:
        try:
            pid = int((workdir / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if pid == os.getpid() or _running(pid):
            continue
        shutil.rmtree(workdir, ignore_errors=True)
        removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _copy(source: Path, dest: Path) -> None:
    uri = f"file:{source.resolve()}?mode=ro"
    try:
        src = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{source}: cannot open for a session copy: {exc}") from None
    try:
        src.execute("PRAGMA busy_timeout = 5000")
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the read lock
        wal = Path(str(source) + "-wal")
        wal_frames = wal.exists() and wal.stat().st_size > 0
        if not wal_frames:
            shutil.copyfile(source, dest)
        else:
            dst = sqlite3.connect(dest, isolation_level=None)
            try:
                src.backup(dst)
            finally:
                dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StoreError(f"{source}: cannot copy for a session: {exc}") from None
    finally:
        src.close()
    os.chmod(dest, 0o600)


CONFIG_ENV = "JOURNEYTUI_CONFIG_DIR"  # the app's own override of its config directory


def operator_config_dir(env: Mapping[str, str]) -> Path:
    """The app's config directory as the server's user has it (see tui/config.py)."""
    explicit = env.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "journeytui"


def seed_config(private_dir: Path, env: Mapping[str, str]) -> Path:
    """Give a private session its own copy of the operator's app settings.

    Themes, keymap and settings then look as the operator set them up, and what a
    visitor changes (a theme choice, say) stays in the session's temp directory.
    Returns the session's config directory (made even when there is nothing to copy).
    """
    dest = private_dir / "config" / "journeytui"
    source = operator_config_dir(env)
    if source.is_dir():
        shutil.copytree(source, dest, symlinks=False, ignore_dangling_symlinks=True)
    else:
        dest.mkdir(parents=True)
    return dest
