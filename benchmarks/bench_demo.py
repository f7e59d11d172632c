"""Demo generator figures: ``journeytui demo --contacts N``, the real command.

    .venv/bin/python benchmarks/bench_demo.py [--contacts 100000] [--repeat 5]
    .venv/bin/python benchmarks/bench_demo.py --baseline /tmp/old/src
    .venv/bin/python benchmarks/bench_demo.py --store-only --contacts 50000


Each run is the command in a fresh process writing a new file.  Prints the medians of
its wall time, its CPU time (user + system, the figure a loaded machine disturbs
least) and the time the demo journeys took (their save and evaluation: the journey
engine's share, as the command's own summary reports it).

The floor beside it: the same store's rows written again by SQLite alone — every
table of the generated store copied into an empty store of the same schema with
``INSERT … SELECT``, the secondary indexes built after (as the generator does), and
the journeys left out.  What the generator spends above that is its simulation in
Python and the journeys.

*--store-only*: the store without the demo journeys — ``generate(path, contacts=N,
journeys=False)`` in a fresh process, what the tests' large stores are built with: the
generator's own cost, the journey engine left out.

*--baseline SRC*: another source tree's ``src`` folder (e.g. ``git archive`` of an
older commit), run side by side — the runs alternate, so both see the same load —
with the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_SUMMARY = re.compile(r" in ([\d.]+) s(?: \(demo journeys: ([\d.]+) s\))?\s*$")


_STORE_ONLY = (
    "import sys; from journeytui.demo import generate; "
    "print(generate(sys.argv[1], contacts=int(sys.argv[2]), journeys=False).text())"
)


def run_demo(
    contacts: int, src: Path | None, folder: Path, store_only: bool = False,
) -> tuple[float, float, float]:
    """One ``journeytui demo`` run (*store_only*: the store without the journeys):
    (wall s, CPU s, demo journeys s)."""
    target = folder / "demo.db"
    target.unlink(missing_ok=True)
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    command = (
        ["-c", _STORE_ONLY, str(target), str(contacts)] if store_only
        else ["-m", "journeytui", "demo", "--db", str(target), "--contacts", str(contacts)]
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, *command], env=env, check=True, capture_output=True, text=True,
    ).stdout
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found = _SUMMARY.search(out)
    journeys = float(found.group(2) or 0) if found else 0.0
    return wall, cpu, journeys


def floor(store: Path, folder: Path) -> tuple[float, float]:
    """(wall s, CPU s) of SQLite writing *store*'s rows into an empty copy of its
    schema, the journey tables left empty (see the module's docstring)."""
    target = folder / "floor.db"
    target.unlink(missing_ok=True)
    src = sqlite3.connect(store)
    tables = src.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL"
        " AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
    indexes = [r[0] for r in src.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]
    src.close()
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -65536")
    for _, sql in tables:
        conn.execute(sql)
    conn.execute("ATTACH ? AS old", (str(store),))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    conn.execute("BEGIN")
    for name, _ in tables:
        if not name.startswith("journey"):
            conn.execute(f'INSERT INTO main."{name}" SELECT * FROM old."{name}"')
    for sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    wall = time.perf_counter() - t
    ru2 = resource.getrusage(resource.RUSAGE_SELF)
    conn.close()
    target.unlink()
    return wall, (ru2.ru_utime - ru.ru_utime) + (ru2.ru_stime - ru.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another tree's src folder, run side "
                        "by side")
    parser.add_argument("--store-only", action="store_true", help="the store without the "
                        "demo journeys (generate(..., journeys=False))")
    args = parser.parse_args()
    trees: list[tuple[str, Path | None]] = [("this tree", None)]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve()))
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        folder = Path(tmp)
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in trees}
        for i in range(args.repeat):
            for name, src in trees:
                runs[name].append(run_demo(args.contacts, src, folder, args.store_only))
                wall, cpu, journeys = runs[name][-1]
                print(f"  run {i + 1} {name:10s} wall {wall:6.1f} s  CPU {cpu:6.1f} s"
                      f"  journeys {journeys:5.1f} s", flush=True)
        floors = [floor(folder / "demo.db", folder) for _ in range(3)]
        floor_wall = statistics.median(f[0] for f in floors)
        floor_cpu = statistics.median(f[1] for f in floors)
    what = "the store alone (journeys=False)" if args.store_only else "journeytui demo"
    print(f"\n{what}, {args.contacts:,} contacts: medians of {args.repeat} runs")
    print(f"  {'':10s} {'wall s':>8s} {'CPU s':>8s} {'journeys s':>11s}")
    med: dict[str, tuple[float, float, float]] = {}
    for name, _ in trees:
        walls, cpus, journeys = zip(*runs[name], strict=True)
        med[name] = (statistics.median(walls), statistics.median(cpus),
                     statistics.median(journeys))
        print(f"  {name:10s} {med[name][0]:8.1f} {med[name][1]:8.1f} {med[name][2]:11.1f}")
    print(f"  {'floor':10s} {floor_wall:8.1f} {floor_cpu:8.1f} {'':>11s}"
          "  (SQLite writing the same rows, no journeys)")
    mine = med["this tree"]
    if "baseline" in med:
        base = med["baseline"]
        print(f"  this tree / baseline: wall {mine[0] / base[0]:.2f}, CPU "
              f"{mine[1] / base[1]:.2f}")
    print(f"  this tree / floor: CPU {mine[1] / floor_cpu:.1f}×")


if __name__ == "__main__":
    main()
