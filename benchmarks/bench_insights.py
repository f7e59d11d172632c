"""Insights (issue 16) against today's full funnel, on the same store, side by side.

    .venv/bin/python benchmarks/bench_insights.py [--size 100000] [--repeat 5]

Prints the medians of ``insights(store, "Lead nurturing")``, of the funnel as of the
middle of the store's time range, of an entry cohort with a 30-day conversion window
(journeytui.domain.cohort), of the full funnel computed from every stored move
(``full_funnel``: the funnel the targets were set against) and of the funnel read from
its kept tally (``funnel``, a few indexed reads since), measured in turn in one run,
and their ratios.  Target: each within 3 × the full funnel.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stores import store_path

from journeytui.domain.cohort import Slice, slice_funnel
from journeytui.domain.engine import evaluate_all
from journeytui.domain.funnel import full_funnel, funnel, load_tally
from journeytui.domain.insights import insights
from journeytui.domain.journeys import get_journey
from journeytui.store import Store
from journeytui.store.db import StoreError

LEAD = "Lead nurturing"


def _open(path: Path, tmp: Path, journey: str) -> Store:
    """The cached store, read-only; a copy when it needs a schema upgrade or its funnel
    tally (the cached file is shared with other benchmarks and never written)."""
    try:
        store = Store.open(path, readonly=True)
        j, _ = get_journey(store, journey)
        jid = store.conn.execute("SELECT id FROM journeys WHERE name = ?", (journey,))
        if load_tally(store.conn, jid.fetchone()[0], j) is not None:
            return store
        store.close()
    except StoreError:
        pass
    copy = tmp / path.name
    shutil.copy(path, copy)
    print(f"(a copy upgraded to the current schema and evaluated: {copy})", file=sys.stderr)
    store = Store.open(copy)
    evaluate_all(store)
    return store


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--journey", default=LEAD)
    args = ap.parse_args()
    path = store_path(args.size)
    with tempfile.TemporaryDirectory() as tmp, _open(path, Path(tmp), args.journey) as store:
        lo, hi = store.conn.execute("SELECT min(at), max(at) FROM activities").fetchone()
        mid = (lo + hi) // 2
        as_of = Slice(as_of=mid)
        cohort = Slice(entered_from=mid - 60 * 86_400, entered_to=mid - 30 * 86_400,
                       within_days=30)
        runs = {
            "full funnel": lambda: full_funnel(store, args.journey),
            "kept funnel": lambda: funnel(store, args.journey),
            "insights": lambda: insights(store, args.journey),
            "as-of funnel": lambda: slice_funnel(store, args.journey, as_of),
            "cohort, 30 d": lambda: slice_funnel(store, args.journey, cohort),
        }
        times: dict[str, list[float]] = {k: [] for k in runs}
        for run in runs.values():
            run()  # warm the page cache for all
        for _ in range(args.repeat):
            for name, run in runs.items():
                t = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - t)
        findings = len(insights(store, args.journey).all())
    med = {k: statistics.median(v) for k, v in times.items()}
    f, k = med["full funnel"], med["kept funnel"]
    print(f"{args.size:,}-contact store, {args.journey!r}, medians of {args.repeat}:")
    for name, m in med.items():
        extra = f"  ({findings} findings)" if name == "insights" else ""
        ratio = ("" if name in ("full funnel", "kept funnel") else
                 f"  {m / f:5.2f} × the full funnel (target ≤ 3 ×), {m / k:6.0f} × the kept")
        print(f"  {name:<14}{m * 1000:8.1f} ms{ratio}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
