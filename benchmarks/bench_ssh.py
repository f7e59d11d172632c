"""serve-ssh: time from connecting to the app's first screen, alone and 8 at once.

    .venv/bin/python benchmarks/bench_ssh.py [--db journeys.db] [--runs 7] [--crowd 8]

Uses the real app on the demo store (journeys.db in the repo root; if it is not
there, a 2,000-contact demo store is generated in a temp dir).  A server is started
in-process on 127.0.0.1 (ephemeral port); clients are asyncssh with a PTY (80x24,
xterm-256color), their output fed to a pyte screen.  "First screen" = the Emails
pane with its rows (sorted: the ▼ in its header) and the footer are visible.  Prints medians; times are wall-clock seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

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


async def first_screen(port: int, timeout: float = 60.0) -> tuple[float, float]:
    """Connect, open a PTY session and wait for the first screen.

    Returns (seconds to an authenticated connection, seconds to the first screen),
    both from the start of the connect; quits the app after.
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
    proc.stdin.write(b"\x03")  # ctrl+c quits the app
    await asyncio.wait_for(proc.wait_closed(), 30)
    conn.close()
    await conn.wait_closed()
    return authed, shown


async def run(db: Path, runs: int, crowd: int, tmp: Path) -> None:
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

        t0 = time.perf_counter()
        results = await asyncio.gather(*(first_screen(server.port) for _ in range(crowd)))
        wall = time.perf_counter() - t0
        crowd_shown = sorted(s for _, s in results)
        print(
            f"{crowd} sessions at once: first screen median {statistics.median(crowd_shown):.2f} s, "
            f"slowest {crowd_shown[-1]:.2f} s ({crowd} opened, shown and quit in {wall:.2f} s)"
        )
    finally:
        await server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="the store (default: journeys.db in the repo root)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--crowd", type=int, default=8)
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
        db = find_store(args.db, tmp)
        if db is None or not db.exists():
            print("skipped: no demo store and no journeytui.demo to make one")
            return 0
        import os

        os.environ.setdefault("JOURNEYTUI_CONFIG_DIR", str(tmp / "config"))
        asyncio.run(run(db, args.runs, args.crowd, tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
