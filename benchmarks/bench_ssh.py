"""serve-ssh: time from connecting to the app's first screen, alone and 8 at once.

    .venv/bin/python benchmarks/bench_ssh.py [--db journeys.db | --size 100000] [--runs 7]
        [--crowd 8] [--crowd-runs 5]

Uses the real app on the demo store (journeys.db in the repo root; if it is not
there, a 2,000-contact demo store is generated in a temp dir).  A server is started
in-process on 127.0.0.1 (ephemeral port); clients are asyncssh with a PTY (80x24,
xterm-256color), their output fed to a pyte screen.  "First screen" = the Emails
pane with its rows (sorted: the ▼ in its header) and the footer are visible.  Prints medians; times are wall-clock seconds.
With every visitor of a crowd on its first screen, the session folders are measured:
"disk per session" is what the server's temp folder holds for one visitor (a private
session's copy of the store, when it has one).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def find_store(arg: str | None, tmp: Path) -> Path | None:
    if arg:
        return Path(arg)
    default = ROOT / "journeys.db"
    if default.exists():
        return default
    try:
        from journeytui.demo import generate
    except ImportError:
        return None
    path = tmp / "demo.db"
    print(f"(no {default}: generating a 2,000-contact demo store in {tmp})")
    generate(path, contacts=2000)
    return path


async def first_screen(
    port: int, timeout: float = 60.0, on_shown: Callable[[], Awaitable[None]] | None = None
) -> tuple[float, float]:
    """Connect, open a PTY session and wait for the first screen.

    Returns (seconds to an authenticated connection, seconds to the first screen),
    both from the start of the connect; awaits *on_shown* (if any), then quits the app.
    """
    import asyncssh
    import pyte

    started = time.perf_counter()
    conn = await asyncssh.connect(
        "127.0.0.1",
        port,
        username="bench",
        password="bench",
        known_hosts=None,
        agent_path=None,
        preferred_auth="password",
    )
    authed = time.perf_counter() - started
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    proc = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
    deadline = started + timeout
    while True:
        text = "\n".join(screen.display)
        if "Emails" in text and "Help" in text and "▼" in text:
            break
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError(f"no first screen after {timeout:g} s; screen:\n{text}")
        try:
            data = await asyncio.wait_for(proc.stdout.read(65536), left)
        except TimeoutError:
            continue
        if not data:
            raise RuntimeError(f"the session ended before its first screen:\n{text}")
        stream.feed(data)
    shown = time.perf_counter() - started
    if on_shown is not None:
        await on_shown()
    proc.stdin.write(b"\x03")  # ctrl+c quits the app
    await asyncio.wait_for(proc.wait_closed(), 30)
    conn.close()
    await conn.wait_closed()
    return authed, shown


def folder_bytes(folder: Path) -> int:
    """Bytes of the files in *folder* (a session's own: its copy of the store, if any)."""
    total = 0
    for p in folder.rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_size
        except OSError:
            pass
    return total


def crowd_barrier(
    crowd: int, server: Any, disk: list[list[int]]
) -> Callable[[], Awaitable[None]]:
    """An ``on_shown`` that holds every visitor until all *crowd* see their first
    screen, then notes the bytes of each session's folder in *disk*."""
    all_shown = asyncio.Event()
    shown = [0]

    async def hold() -> None:
        shown[0] += 1
        if shown[0] == crowd:
            disk.append([folder_bytes(s.workdir) for s in server.sessions.values()
                         if s.workdir is not None])
            all_shown.set()
        await all_shown.wait()

    return hold


async def run(
    db: Path, runs: int, crowd: int, tmp: Path, crowd_runs: int = 1, shared: bool = False
) -> None:
    from journeytui.ssh import ServerConfig, start_server
    from journeytui.ssh.storecopy import copy_store, remove_copy

    copies = []
    for _ in range(runs):
        t0 = time.perf_counter()
        copy = copy_store(db, tmp)
        copies.append(time.perf_counter() - t0)
        remove_copy(copy)
    size_mb = db.stat().st_size / 1e6
    print(f"store: {db} ({size_mb:.1f} MB)")
    print(
        f"private copy of the store: median {statistics.median(copies) * 1000:.1f} ms over {runs}"
    )

    server = await start_server(
        ServerConfig(
            db=db,
            port=0,
            password="bench",
            host_key=tmp / "host_key",
            max_sessions=max(crowd, 1) + 1,
            rate_per_minute=10_000,
            rate_burst=10_000,
            temp_root=tmp,
            idle_timeout=0,
            session_ttl=0,
            shared=shared,
        )
    )
    try:
        await first_screen(server.port)  # warm-up (imports, page cache)
        auth, shown = [], []
        for _ in range(runs):
            a, s = await first_screen(server.port)
            auth.append(a)
            shown.append(s)
        print(
            f"one session: connect+auth median {statistics.median(auth) * 1000:.0f} ms; "
            f"connection to first screen median {statistics.median(shown):.2f} s "
            f"(min {min(shown):.2f}, max {max(shown):.2f}, {runs} runs)"
        )

        # the crowd: all arrive at once; once every one shows its first screen, the
        # session folders are measured (what the disk holds for them), then all quit
        medians: list[float] = []
        slowest: list[float] = []
        disk: list[list[int]] = []
        for _ in range(crowd_runs):
            hold = crowd_barrier(crowd, server, disk)
            results = await asyncio.gather(
                *(first_screen(server.port, on_shown=hold) for _ in range(crowd))
            )
            crowd_shown = sorted(s for _, s in results)
            medians.append(statistics.median(crowd_shown))
            slowest.append(crowd_shown[-1])
        per_session = statistics.median(b for run in disk for b in run)
        print(
            f"{crowd} sessions at once: first screen median {statistics.median(medians):.2f} s "
            f"(medians of {crowd_runs} crowds: {', '.join(f'{m:.2f}' for m in medians)}), "
            f"slowest median {statistics.median(slowest):.2f} s; disk per session "
            f"{per_session:,.0f} bytes (store {size_mb:,.1f} MB{', --shared' if shared else ''})"
        )
    finally:
        await server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="the store (default: journeys.db in the repo root)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--crowd", type=int, default=8)
    parser.add_argument("--shared", action="store_true", help="serve-ssh --shared (the floor)")
    parser.add_argument("--crowd-runs", type=int, default=1, help="crowds in a row (median)")
    parser.add_argument("--size", type=int, help="a benchmark demo store of N contacts "
                        "(benchmarks/stores.py: built once and cached), instead of --db")
    args = parser.parse_args()
    try:
        import importlib.util

        import pyte  # noqa: F401

        if importlib.util.find_spec("journeytui.cli.app_cmd") is None:
            print("skipped: the app (journeytui.cli.app_cmd) is not there yet")
            return 0
    except ImportError:
        print("skipped: pyte is not installed (pip install -e '.[test]')")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmp_name:
        tmp = Path(tmp_name)
        if args.size:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from stores import store_path

            db: Path | None = store_path(args.size)
        else:
            db = find_store(args.db, tmp)
        if db is None or not db.exists():
            print("skipped: no demo store and no journeytui.demo to make one")
            return 0
        import os

        os.environ.setdefault("JOURNEYTUI_CONFIG_DIR", str(tmp / "config"))
        asyncio.run(run(db, args.runs, args.crowd, tmp, args.crowd_runs, args.shared))
    return 0


if __name__ == "__main__":
    sys.exit(main())
