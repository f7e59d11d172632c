"""Query figures of issue 2: all-email stats, one contact's timeline, fuzzy search.

    .venv/bin/python benchmarks/bench_queries.py [--sizes 100000 1000000] [--repeat 25]

Builds (once, cached in benchmarks/.data/) the demo stores of the given sizes and
prints medians.  Targets on a 2-core machine: all-email stats ≤ 50 ms at 100k
contacts; a timeline ≤ 10 ms; a fuzzy search over 1M contacts ≤ 50 ms median.  The
plain rapidfuzz scan over every name is printed beside the search as the naive floor.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rapidfuzz import fuzz, process
from stores import store_path

from journeytui.domain.contacts import search_contacts, timeline
from journeytui.domain.stats import email_stats
from journeytui.store import Store


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


QUERIES = ["john smith", "jonh smiht", "maria", "mar", "garcia", "kowalsky", "anne marie",
           "lee", "o'brien", "nakamura y"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=25)
    args = ap.parse_args()
    for n in args.sizes:
        path = store_path(n)
        store = Store.open(path, readonly=True)
        c = store.conn
        emails = c.execute("SELECT count(*) FROM emails").fetchone()[0]
        acts = c.execute("SELECT count(*) FROM activities").fetchone()[0]
        print(f"\n== {n:,} contacts ({path.name}: {emails} emails, {acts:,} activities)")
        print(f"all-email stats         {median_ms(lambda s=store: email_stats(s), args.repeat):8.2f} ms")

        busy = [r[0] for r in c.execute(
            "SELECT contact_id FROM activities GROUP BY contact_id"
            " ORDER BY count(*) DESC LIMIT ?", (args.repeat * 2,))]
        rnd = random.Random(1)
        rnd.shuffle(busy)
        cold = iter(busy)  # each contact looked at for the first time
        print(f"timeline, cold          "
              f"{median_ms(lambda s=store, i=cold: timeline(s, next(i)), args.repeat):8.2f} ms"
              "   (first page, 200 rows, of a busy contact not read before)")
        warm = busy[0]
        print(f"timeline, warm          "
              f"{median_ms(lambda s=store, w=warm: timeline(s, w), args.repeat):8.2f} ms"
              "   (the same contact again)")
        print(f"timeline, everything    "
              f"{median_ms(lambda s=store, i=cold: timeline(s, next(i), limit=None), args.repeat):8.2f} ms"
              "   (whole history of another unread busy contact)")

        search_contacts(store, "warm up")  # loads the name vocabulary once
        per_query = []
        for q in QUERIES:
            per_query.append(median_ms(lambda q=q, s=store: search_contacts(s, q), args.repeat))
        print(f"fuzzy search            {statistics.median(per_query):8.2f} ms median over "
              f"{len(QUERIES)} queries (max {max(per_query):.2f} ms)")
        names = [f"{a} {b}" for a, b in c.execute("SELECT first_name, last_name FROM contacts")]
        t = time.perf_counter()
        process.extract("jonh smiht", names, scorer=fuzz.ratio, limit=50)
        print(f"naive rapidfuzz scan    {(time.perf_counter() - t) * 1000:8.2f} ms  "
              "(fuzz.ratio over every name: the floor the index beats)")
        store.close()


if __name__ == "__main__":
    main()
