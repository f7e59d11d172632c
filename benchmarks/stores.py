"""Demo stores for the benchmarks: built once by the demo generator, cached in .data/.

    from stores import store_path          # benchmarks put this folder on sys.path
    path = store_path(100_000)             # builds on first use, then reuses the file

    .venv/bin/python benchmarks/stores.py 100000 1000000   # build (or find) and report

The file name carries a fingerprint of the code that shapes the data (generator,
schema, recorder, demo journey definitions), so a change to any of them builds afresh
(older files are listed, not deleted: another benchmark may be reading one).
Building prints how long it took.

BENCH_STORES_REUSE=1 in the environment reuses the newest cached store of the size
whatever its fingerprint (a store of an older schema is migrated when opened): for a
working session where the shaping files change often and a 1M rebuild costs minutes.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sys
import time
from pathlib import Path

import journeytui
from journeytui.demo import DEFAULT_SEED, generate

DATA = Path(__file__).resolve().parent / ".data"
# The files whose change changes the data.  The journey engine is left out on
# purpose: its results in the cached store may lag, but rebuilding 1M contacts on
# every engine edit would cost more than it is worth (a benchmark that measures
# evaluation runs it itself).
# demo/*.py: every module of the generator package (catalog, people, simulation,
# writers, entry, the demo journey definitions).
_SHAPING = ["demo/*.py", "store/schema.py", "store/recorder.py", "domain/journeys.py"]


def fingerprint() -> str:
    """A short hash of the source files that decide a demo store's content."""
    root = Path(journeytui.__file__).resolve().parent
    h = hashlib.sha256()
    for pattern in _SHAPING:
        for f in sorted(root.glob(pattern)):
            name = f.relative_to(root).as_posix()
            h.update(name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:10]


def store_path(n_contacts: int, *, seed: int = DEFAULT_SEED) -> Path:
    """The path of a demo store with *n_contacts* contacts, built if not cached yet."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"demo-{n_contacts}-s{seed}-{fingerprint()}.db"
    lock_path = DATA / f"demo-{n_contacts}-s{seed}.lock"
    with open(lock_path, "w") as lock:  # two benchmarks at once build it only once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path
        if os.environ.get("BENCH_STORES_REUSE") == "1":
            cached = sorted(DATA.glob(f"demo-{n_contacts}-s{seed}-*.db"),
                            key=lambda p: p.stat().st_mtime)
            if cached:
                print(f"reusing {cached[-1].name} (BENCH_STORES_REUSE=1)", file=sys.stderr)
                return cached[-1]
        for old in DATA.glob(f"demo-{n_contacts}-s{seed}-*.db.*.tmp"):
            old.unlink()  # left by a build that was stopped (we hold the lock)
        stale = sorted(DATA.glob(f"demo-{n_contacts}-s{seed}-*.db"))
        if stale:  # another benchmark may still be reading one: only say so
            print(
                f"note: older cached stores of this size can be deleted: "
                f"{', '.join(p.name for p in stale)}",
                file=sys.stderr,
            )
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        print(
            f"building the {n_contacts:,}-contact demo store (once; cached as {path}) …",
            file=sys.stderr, flush=True,
        )
        started = time.perf_counter()
        summary = generate(tmp, contacts=n_contacts, seed=seed)
        os.replace(tmp, path)
        size = path.stat().st_size / 1e6
        print(
            f"built the {n_contacts:,}-contact store in {time.perf_counter() - started:.1f} s"
            f" ({size:,.0f} MB; demo journeys {summary.journey_seconds:.1f} s of it):"
            f" {summary.total_events:,} events",
            file=sys.stderr, flush=True,
        )
        return path


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [100_000, 1_000_000]
    for n in sizes:
        started = time.perf_counter()
        path = store_path(n)
        print(
            f"{n:>9,} contacts: {path} ({path.stat().st_size / 1e6:,.0f} MB)"
            f" ready in {time.perf_counter() - started:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
