"""How fast the CLI answers a question, against the floor of starting Python at all.

Runs, interleaved, `python -c "import sqlite3, json"` (the floor) and the commands
`stats --json`, `contact QUERY` and `--help` on a demo store; prints medians and the
ratio to the floor (target for stats and contact: ≤ 5 ×).

    .venv/bin/python benchmarks/bench_cli.py [--db STORE] [--runs 11]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a store (default: a 2,000-contact demo)")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    db = args.db
    if db is None:
        db = Path(tempfile.mkdtemp()) / "bench.db"
        subprocess.run([sys.executable, "-m", "journeytui", "demo", "--db", str(db)],
                       check=True, stdout=subprocess.DEVNULL)
    py = sys.executable
    cases = {
        "floor: python -c 'import sqlite3, json'": [py, "-c", "import sqlite3, json"],
        "stats --json": [py, "-m", "journeytui", "stats", "--json", "--db", str(db)],
        "contact smith": [py, "-m", "journeytui", "contact", "smith", "--db", str(db)],
        "--help": [py, "-m", "journeytui", "--help"],
    }
    for argv in cases.values():  # warm the bytecode and the page cache
        timed(argv)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, argv in cases.items():
            times[name].append(timed(argv))
    floor = statistics.median(next(iter(times.values())))
    print(f"{'command':42} {'median':>9} {'× floor':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:42} {median * 1000:7.0f} ms {median / floor:7.1f} ×")


if __name__ == "__main__":
    main()
