"""The hostile-input suite: every entry point (import files, stores, terminal text,
config files, CLI arguments, SSH) fed what an attacker or bad luck would feed it.

Each case asserts what the user sees (one clear line naming what and where, exit
status 2 for the CLI, never a traceback) and that nothing was lost (the store is
byte-for-byte unchanged where it must be).  The CLI runs as a real subprocess
(:func:`run_cli`) where the case is about a process: a file that could hang its reader
(a FIFO, a device), a resource limit, a private mount, a second writer.  Elsewhere it
runs in this process (:func:`run_main`: ``main(ARGS)`` with the same environment, its
output captured), which says the same and costs no interpreter start.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from journeytui.store import Recorder, Store
from tests.blank_store import blank_store

T0 = 1_767_261_600  # 2026-01-01 10:00 UTC
TIMEOUT = 120  # seconds a CLI run may take before the test fails (never a timing check)
#: The CLI here never shows progress: it shows after a second of work, so a run slowed by
#: a busy machine would put progress lines before the one message a test reads.  (Progress
#: itself is tested in tests/cli/test_progress.py.)
NO_PROGRESS = {"JOURNEYTUI_PROGRESS_AFTER": "inf"}


@dataclass
class Run:
    code: int
    out: str
    err: str

    def refused(self, *words: str) -> str:
        """Assert a clear refusal: exit 2, one 'journeytui: …' message, no traceback."""
        assert self.code == 2, (self.code, self.out, self.err)
        assert "Traceback" not in self.err and "unexpected error" not in self.err, self.err
        assert self.err.startswith("journeytui: "), self.err
        for word in words:
            assert word in self.err, (word, self.err)
        return self.err


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None,
    stdin: bytes | None = None, preexec_fn=None,  # type: ignore[no-untyped-def]
) -> Run:
    """``python -m journeytui ARGS`` in a subprocess (the real entry point)."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **NO_PROGRESS, **(env or {})}
    full_env.pop("JOURNEYTUI_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "journeytui", *args],
        input=stdin, capture_output=True, env=full_env, cwd=cwd, timeout=TIMEOUT, check=False,
        preexec_fn=preexec_fn,
    )
    return Run(proc.returncode, proc.stdout.decode("utf-8", "replace"),
               proc.stderr.decode("utf-8", "replace"))


@contextlib.contextmanager
def _cli_environment(cwd: Path | None) -> Iterator[None]:
    """The environment :func:`run_cli` gives its process, set here and put back after."""
    changes: dict[str, str | None] = {**NO_PROGRESS, "JOURNEYTUI_DEBUG": None}
    saved = {name: os.environ.get(name) for name in changes}
    here = Path.cwd()
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(here)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_main(*args: str, cwd: Path | None = None) -> Run:
    """``journeytui ARGS`` run by the CLI's ``main`` in this process, as a new process
    would run it: same environment, stdout and stderr captured (and encodable as UTF-8,
    as a real process's would have to be), exit status from ``main`` or ``SystemExit``,
    and no store remembered as checked by an earlier run."""
    from journeytui.cli import main

    Store._checked.clear()  # a new process has checked no store yet
    out, err = io.StringIO(), io.StringIO()
    with _cli_environment(cwd), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse, as the entry point would exit
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    for text in (out.getvalue(), err.getvalue()):
        text.encode("utf-8")  # PYTHONIOENCODING=utf-8 in a real process: strict
    return Run(code, out.getvalue(), err.getvalue())


def digest(*paths: Path) -> str:
    """One digest of the bytes of *paths* (a missing file counts as absent)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode() + b"\0")
        h.update(p.read_bytes() if p.exists() else b"<absent>")
    return h.hexdigest()


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    """A small valid store with one email, two contacts, sends and a click."""
    path = tmp_path / "journeys.db"
    store = blank_store(path, token_key=b"h" * 16)
    with store.transaction():
        rec = Recorder(store)
        news = rec.ensure_list("News")
        email = rec.ensure_email("Teaser", subject="Hello", list_id=news, status="sent",
                                 send_at=T0)
        ann = rec.contact("ann@example.com", first_name="Ann", last_name="Lee",
                          consent=True, at=T0 - 100)
        ben = rec.contact("ben@example.com", first_name="Ben", last_name="Ode", at=T0 - 100)
        for c in (ann, ben):
            assert c is not None
            rec.send(email, c, T0)
        assert ann is not None
        rec.click(email, ann, "https://x.example/pricing", T0 + 100)
    # checkpoint: the file alone is the store (no -wal), so its bytes say it all
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def contacts_csv(path: Path, rows: int) -> Path:
    """A valid contacts CSV of *rows* new contacts (big enough to need many pages)."""
    lines = ["email,first_name,last_name,tracking_consent,lists"]
    lines += [f"user{i}@example.com,First{i},Last{i},yes,News" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


_MOUNT_NS: bool | None = None


def mount_namespace_available() -> bool:
    """Whether this process may make a private mount namespace and mount a tmpfs in it
    (root with CAP_SYS_ADMIN, as in CI).  Mounts there vanish with the process."""
    global _MOUNT_NS
    if _MOUNT_NS is None:
        import shutil
        import tempfile

        if shutil.which("unshare") is None:
            _MOUNT_NS = False
        else:
            with tempfile.TemporaryDirectory() as d:
                probe = subprocess.run(
                    ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                     f"mount -t tmpfs -o size=64k tmpfs {d} && mount -o remount,ro {d}"],
                    capture_output=True, timeout=30, check=False,
                )
                _MOUNT_NS = probe.returncode == 0
    return _MOUNT_NS


def in_mount_namespace(script: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run the shell *script* in a private mount namespace (``set -e``)."""
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-ec", script],
        capture_output=True, timeout=TIMEOUT, cwd=cwd, check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **NO_PROGRESS},
    )


def chattr_available(folder: Path) -> bool:
    """Whether ``chattr +i`` works on *folder*'s filesystem (root on ext4, say)."""
    import shutil

    if shutil.which("chattr") is None or os.geteuid() != 0:
        return False
    probe = folder / "chattr-probe"
    probe.mkdir()
    try:
        ok = subprocess.run(["chattr", "+i", str(probe)], capture_output=True,
                            check=False).returncode == 0
        subprocess.run(["chattr", "-i", str(probe)], capture_output=True, check=False)
        return ok
    finally:
        probe.rmdir()


class ReadOnlyFolder:
    """Makes a folder read-only for this process in a way root cannot write through
    either: ``chattr +i`` as root (an immutable folder), mode 0555 otherwise."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.how = "chmod"
        if os.geteuid() == 0:
            if not chattr_available(folder.parent):
                pytest.skip("root without chattr +i here: no way to make a folder read-only "
                            "for root (the read-only mount test covers it where possible)")
            self.how = "chattr"

    def __enter__(self) -> Path:
        if self.how == "chattr":
            subprocess.run(["chattr", "+i", str(self.folder)], check=True)
        else:
            self.folder.chmod(0o555)
        return self.folder

    def __exit__(self, *exc: object) -> None:
        if self.how == "chattr":
            subprocess.run(["chattr", "-i", str(self.folder)], check=True)
        else:
            self.folder.chmod(0o755)


def run_many_in_readonly_mount(db: Path, runs: list[list[str]], tmp_path: Path) -> list[Run]:
    """Copy *db* into a tmpfs mounted read-only (in a private mount namespace) and run
    the CLI with each argument list there (``DB`` stands for the store's path): one
    process in the namespace, running each as :func:`run_main` does."""
    import json
    import shlex

    mnt = tmp_path / "ro-mount"
    mnt.mkdir()
    results = tmp_path / "ro-results.json"
    driver = tmp_path / "ro-driver.py"
    driver.write_text(
        "import json, sys\n"
        f"sys.path.insert(0, {json.dumps(str(Path(__file__).resolve().parents[2]))})\n"
        "from tests.hostile.conftest import run_main\n"
        f"runs = {json.dumps(runs)}\n"
        f"db = {json.dumps(str(mnt / db.name))}\n"
        "out = []\n"
        "for argv in runs:\n"
        "    run = run_main(*[db if a == 'DB' else a for a in argv])\n"
        "    out.append([run.code, run.out, run.err])\n"
        f"open({json.dumps(str(results))}, 'w').write(json.dumps(out))\n"
    )
    q = shlex.quote
    script = (
        f"mount -t tmpfs -o size=8m tmpfs {q(str(mnt))}\n"
        f"cp {q(str(db))} {q(str(mnt))}/\n"
        f"mount -o remount,ro {q(str(mnt))}\n"
        f"{q(sys.executable)} {q(str(driver))}\n"
        f"ls -A {q(str(mnt))} > {q(str(tmp_path))}/ro-listing.txt\n"
        f"cp {q(str(mnt))}/{q(db.name)} {q(str(tmp_path))}/ro-after.db\n"
    )
    done = in_mount_namespace(script, tmp_path)
    assert done.returncode == 0, done.stderr
    return [Run(*r) for r in json.loads(results.read_text())]
