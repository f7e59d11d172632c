"""Insights (issue 16) against today's full funnel, on the same store, side by side.

    .venv/bin/python benchmarks/bench_insights.py [--size 100000] [--repeat 5]

Prints the medians of ``insights(store, "Lead nurturing")`` and of
``funnel(store, "Lead nurturing")``, measured alternately in one run, and their ratio.
Target: insights within 3 × the funnel.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stores import store_path

from journeytui.domain.funnel import funnel
from journeytui.domain.insights import insights
from journeytui.store import Store

LEAD = "Lead nurturing"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--journey", default=LEAD)
    args = ap.parse_args()
    path = store_path(args.size)
    with Store.open(path, readonly=True) as store:
        funnel(store, args.journey)  # warm the page cache for both
        insights(store, args.journey)
        f_times, i_times = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            funnel(store, args.journey)
            f_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = insights(store, args.journey)
            i_times.append(time.perf_counter() - t)
    f, i = statistics.median(f_times), statistics.median(i_times)
    print(f"{args.size:,}-contact store, {args.journey!r}, medians of {args.repeat}:")
    print(f"  full funnel   {f * 1000:8.0f} ms")
    print(f"  insights      {i * 1000:8.0f} ms  ({len(r.all())} findings)")
    print(f"  ratio         {i / f:8.2f} ×  (target ≤ 3 ×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
