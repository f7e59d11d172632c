"""Journey engine figures (issue 3): full evaluation against the floor, and preview.

    .venv/bin/python benchmarks/bench_engine.py [--size 100000] [--repeat 3]
    .venv/bin/python benchmarks/bench_engine.py --db STORE --size 20000 --no-preview

On the demo store of --size contacts (built once by stores.py), prints medians of:

* the floor: one plain ordered read of the events the engine reads (the same SQL,
  every row fetched, nothing done with it);
* the replay of "Lead nurturing" in memory (what a preview computes);
* a full evaluation (replay + writing moves, positions and state), on a copy;
* the first advance after that evaluation (it compares every contact's sends with
  the sends table once: a full evaluation leaves the send digest unknown);
* another advance with nothing new (the cost an import pays per journey);
* the preview of "Lead nurturing" (validation, replay, funnel) on the default demo
  store (journeytui demo defaults).

CPU times count the worker processes a full evaluation of a large store splits its
replay over (their CPU is added once they end, with the evaluation).

Targets: full evaluation within 3× the floor; preview on the default demo store ≤ 200 ms.
Later previews of the same store reuse the rows read by the first (small stores only).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stores import store_path

from journeytui.demo import DEFAULT_CONTACTS
from journeytui.demo.journeys import demo_journeys
from journeytui.domain import engine
from journeytui.domain.funnel import preview
from journeytui.domain.journeys import save_journey
from journeytui.store import Store

LEAD = "Lead nurturing"


def median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def cpu_with_workers() -> float:
    """CPU seconds of this process and of the processes it has waited for: a full
    evaluation of a large store replays in worker processes (they end with it)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def floor(store: Store) -> int:
    n = 0
    hwm = engine.high_water(store.conn)
    if hasattr(engine, "hwm_params"):
        params = engine.hwm_params(hwm)
    else:  # an older engine (activities and sends only), for before/after figures
        params = {"ahwm": hwm[0], "shwm": hwm[1]}
    for _ in store.conn.execute(engine.EVENTS_SQL, params):
        n += 1
    if hasattr(engine, "CHANGES_SQL"):  # subscription changes, read apart
        for _ in store.conn.execute(engine.CHANGES_SQL, params):
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", type=Path, metavar="PATH",
                    help="an existing store instead of the cached demo store of --size "
                    "(it is copied; --size then only labels the figures)")
    ap.add_argument("--no-preview", action="store_true",
                    help="skip the preview figures on the default demo store")
    args = ap.parse_args()
    lead = demo_journeys()[0]

    src = args.db if args.db is not None else store_path(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        shutil.copy(src, path)
        store = Store.open(path)
        if store.conn.execute("SELECT 1 FROM journeys WHERE name = ?", (LEAD,)).fetchone() is None:
            save_journey(store, lead)
        events = floor(store)
        contacts = store.conn.execute(
            "SELECT count(DISTINCT contact_id) FROM activities").fetchone()[0]
        print(f"{args.size:,}-contact demo store: {events:,} events of {contacts:,} contacts "
              f"with activity; {args.repeat} rounds, each timing all five in turn "
              "(ratios are per round; CPU time is the fairer figure on a busy machine)")
        rounds: dict[str, list[float]] = {}
        steps: dict[str, Callable[[], object]] = {
            "floor": lambda: floor(store),
            "replay": lambda: engine.replay(store.conn, lead, keep_states=False),
            "eval": lambda: engine.evaluate(store, LEAD),
            "adv1": lambda: engine.advance(store, LEAD),
            "adv": lambda: engine.advance(store, LEAD),
        }
        for _ in range(args.repeat):
            for key, fn in steps.items():
                c0 = cpu_with_workers()
                rounds.setdefault(key, []).append(median_s(fn, 1))
                rounds.setdefault(key + " cpu", []).append(cpu_with_workers() - c0)
        store.close()

    def med(key: str) -> float:
        return statistics.median(rounds[key]) * 1000

    def ratio(key: str) -> float:
        base = rounds["floor cpu" if key.endswith(" cpu") else "floor"]
        return statistics.median(x / f for x, f in zip(rounds[key], base, strict=True))

    def line(label: str, key: str, target: str = "") -> None:
        print(f"  {label:<30}{med(key):8.0f} ms wall ({ratio(key):.2f}× floor),"
              f" {med(key + ' cpu'):7.0f} ms CPU ({ratio(key + ' cpu'):.2f}× floor){target}")

    line("floor: plain ordered read", "floor")
    line("replay in memory", "replay")
    line("full evaluation (with writes)", "eval", "; target ≤ 3×")
    line("advance after the evaluation", "adv1")
    line("advance, nothing new", "adv")

    if args.no_preview:
        print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
              f" on {os.cpu_count()} CPUs")
        return
    small = store_path(DEFAULT_CONTACTS)
    store = Store.open(small, readonly=True)
    engine._cache.clear()
    c0 = time.process_time()
    t_cold = median_s(lambda: preview(store, lead), 1)
    c_cold = time.process_time() - c0
    warm = max(5, args.repeat)
    c0 = time.process_time()
    t_prev = median_s(lambda: preview(store, lead), warm)
    c_prev = (time.process_time() - c0) / warm
    n_small = floor(store)
    store.close()
    print(f"{DEFAULT_CONTACTS:,}-contact default demo store ({n_small:,} events):")
    print(f"  first preview of {LEAD!r} {t_cold * 1000:7.0f} ms  (CPU {c_cold * 1000:.0f} ms;"
          " reads the rows; target ≤ 200 ms)")
    print(f"  later previews (median)        {t_prev * 1000:7.0f} ms  (CPU {c_prev * 1000:.0f} ms"
          " on average; rows kept from the first)")
    print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
          f" on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
