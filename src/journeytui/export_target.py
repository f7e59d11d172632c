"""Where a CSV export may be written, and writing it without harming anything.

Two modes:

* **Local** (the app in the user's own terminal): any path the user types, except the
  open store and its ``-wal``/``-shm``/``-journal`` files.  The file is written
  through a ``.part`` file and renamed, so a failed export leaves no half file.
* **Confined** (a serve-ssh session: ``JOURNEYTUI_EXPORT_DIR`` is set, or
  ``JOURNEYTUI_SSH=1``): a plain file name only, written as a *new* file in the
  session's export folder — never a path, never over an existing file, never a
  symlink, never the store; at most :data:`MAX_FILES` exports and
  :data:`MAX_BYTES` bytes in all per session.  A session marked as SSH but given no
  export folder may not export at all (fail closed).

Plain Python (no Textual), so the rules are tested directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

EXPORT_DIR_ENV = "JOURNEYTUI_EXPORT_DIR"
SSH_ENV = "JOURNEYTUI_SSH"
MAX_FILES = 20
MAX_BYTES = 100 * 1024 * 1024
_STORE_SIDECARS = ("", "-wal", "-shm", "-journal")


class ExportRefused(Exception):
    """The export may not be written there; the text says why and what to do."""


@dataclass(frozen=True)
class ExportPolicy:
    """The rules for one app process (see the module's docstring)."""

    store: Path
    confined_to: Path | None = None  # the session's export folder
    ssh: bool = False

    @classmethod
    def from_env(cls, store: Path, env: Mapping[str, str] | None = None) -> ExportPolicy:
        env = os.environ if env is None else env
        folder = env.get(EXPORT_DIR_ENV)
        return cls(
            store=store,
            confined_to=Path(folder) if folder else None,
            ssh=env.get(SSH_ENV) == "1",
        )

    @property
    def confined(self) -> bool:
        return self.confined_to is not None or self.ssh

    def default_name(self, stem: str) -> str:
        """``<stem>.csv``, numbered when that file exists already."""
        base = self.confined_to if self.confined_to is not None else Path()
        name = f"{stem}.csv"
        n = 2
        while (base / name).exists() or (base / name).is_symlink():
            name = f"{stem}-{n}.csv"
            n += 1
        return name if self.confined_to is not None else str(base / name)

    def target(self, typed: str) -> Path:
        """The file to write for what the user *typed*, or :class:`ExportRefused`."""
        typed = typed.strip()
        if not typed:
            raise ExportRefused("Export cancelled: no file name given.")
        if "\x00" in typed:
            raise ExportRefused("Export refused: a file name cannot contain a NUL character.")
        if not self.confined:
            path = Path(typed).expanduser()
            if self._is_store(path):
                raise ExportRefused(
                    f"Export refused: {typed} is the store this app has open; "
                    "choose another file name."
                )
            return path
        if self.confined_to is None:
            raise ExportRefused(
                "Export refused: this demo session has no folder of its own to write in."
            )
        if "/" in typed or "\\" in typed or typed in (".", "..") or typed.startswith("~"):
            raise ExportRefused(
                f"Export refused: {typed}: in a demo session over SSH files can only be "
                "written in the session's own folder; give a plain file name."
            )
        if typed.startswith("."):
            raise ExportRefused(
                f"Export refused: {typed}: a file name may not start with a dot here."
            )
        path = self.confined_to / typed
        if self._is_store(path):
            raise ExportRefused(f"Export refused: {typed} is the store; choose another name.")
        if path.exists() or path.is_symlink():
            raise ExportRefused(
                f"Export refused: {typed} exists already; in a demo session an export "
                "never replaces a file. Choose another name."
            )
        used = self._used()
        if used[0] >= MAX_FILES:
            raise ExportRefused(
                f"Export refused: this session has written {used[0]} exports, the most "
                "a demo session may write."
            )
        if used[1] >= MAX_BYTES:
            raise ExportRefused(
                "Export refused: this session's exports have reached "
                f"{MAX_BYTES // (1024 * 1024)} MB, the most a demo session may write."
            )
        return path

    def write_lines(self, path: Path, lines: Iterable[str]) -> int:
        """Write *lines* (already CSV-encoded) to *path*; returns the bytes written.

        Confined: the file is created new (``O_EXCL``, no symlink followed) and removed
        again if the export fails or passes the session's byte budget.  Local: written
        to ``<path>.part`` and renamed over *path* when complete.
        """
        if self.confined:
            budget = MAX_BYTES - self._used()[1]
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(path, flags, 0o600)
            return _write_fd(fd, path, lines, budget, remove=path)
        part = path.with_name(path.name + ".part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        written = _write_fd(fd, part, lines, None, remove=part)
        os.replace(part, path)
        return written

    # -- helpers -------------------------------------------------------------------
    def _is_store(self, path: Path) -> bool:
        try:
            target = path.resolve()
            store = self.store.resolve()
        except OSError:
            return False
        return any(target == Path(str(store) + suffix) for suffix in _STORE_SIDECARS)

    def _used(self) -> tuple[int, int]:
        """(files, bytes) in the export folder."""
        if self.confined_to is None:
            return 0, 0
        files = size = 0
        try:
            for entry in os.scandir(self.confined_to):
                if entry.is_file(follow_symlinks=False):
                    files += 1
                    size += entry.stat(follow_symlinks=False).st_size
        except OSError:
            pass
        return files, size


class ExportTooLarge(OSError):
    """The export passed the session's byte budget (the partial file is removed)."""


def _write_fd(fd: int, path: Path, lines: Iterable[str], budget: int | None,
              remove: Path) -> int:
    written = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            for line in lines:
                written += len(line.encode("utf-8"))
                if budget is not None and written > budget:
                    raise ExportTooLarge(
                        f"the export passed the {MAX_BYTES // (1024 * 1024)} MB a demo "
                        "session may write; nothing was kept"
                    )
                handle.write(line)
    except BaseException:
        try:
            os.unlink(remove)
        except OSError:
            pass
        raise
    return written
