"""The condition editor's live preview at 2k, 100k and 1M contacts, beside the
previous design (a full replay in memory for every edit, shown when done).

    .venv/bin/python benchmarks/bench_editor.py [--sizes 2000 100000 1000000]
        [--runs 5] [--base /tmp/base-preview/src]

``--base``: the source folder of a checkout of the previous design (``git worktree
add /tmp/base-preview <commit>``); without it only this tree is measured.

For each size, on a copy of the cached demo store (benchmarks/stores.py; set
``BENCH_STORES_REUSE=1`` to reuse a cached store built by older code), migrated and
with "Lead nurturing" evaluated once (that evaluation, timed, is the yardstick of the
exact preview: target ≤ 2 ×), each design runs in a process of its own, the app
headless at 80×24 on another copy of it:

* **edit → first preview**: from an edit of t4 (Browsing → Interested: one of its two
  parts deleted, the edit every contact in the journey can feel) until the pane
  shows figures for the draft — the estimate (``≈ …±…``) here, the exact funnel in the
  previous design.  Each design's own delay after an edit is included (0.02 s here;
  the previous design waited 0.35 s after any edit).  Medians of ``--runs`` edits
  (each undone; the next edit cancels the exact replay still running).
* **edit → exact preview**: until the exact funnel is shown, for the same t4 edit and
  for an edit of t6 (Engaged → Sales-ready), where only contacts that were ever in
  Engaged are replayed (the stored results of the others are read back).
* **event-loop lag during the exact replay**: the largest delay of a 2 ms sleep on the
  app's event loop while the replay runs (what a keystroke would wait).
* **memory**: the app's resident memory after opening the journey, and its peak during
  the edits (sampled every 20 ms): the growth is what previewing costs.

Printed as medians (min, n) and ratios new / previous.  The machine is shared: the
figures side by side in one run are what compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))
NAME = "Lead nurturing"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class Peak:
    """The process's resident memory, sampled every 20 ms from :meth:`start`."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def start(self) -> None:
        self.peak = rss_mb()
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_mb())


# -- the child: one design, the app headless --------------------------------------------
async def child(db: Path, runs: int, exact_runs: int) -> dict[str, Any]:
    from journeytui.tui.app import make_app

    work = Path(tempfile.mkdtemp())
    app = make_app(db, config_dir=work / "config")
    out: dict[str, Any] = {"first": [], "exact_t4": [], "exact_t6": [], "lag": []}
    try:
        await _edits(app, out, runs, exact_runs)
    except Exception:
        if "rss_peak" not in out:  # (an error while the app shuts down is not ours)
            raise
    estimate_alone(db, runs, out)
    return out


def estimate_alone(db: Path, runs: int, out: dict[str, Any]) -> None:
    """The estimate of the t4 edit without the app: wall and CPU time (this design)."""
    try:
        from journeytui.domain.preview import Sample
    except ImportError:
        return
    from journeytui.domain.journeys import get_journey
    from journeytui.store import Store

    store = Store.open(db)
    try:
        started = time.perf_counter()
        sample = Sample.prepare(store, NAME)
        out["prepare"] = [time.perf_counter() - started]
        j, _ = get_journey(store, NAME)
        ts = list(j.transitions)
        k = next(i for i, t in enumerate(ts) if t.from_ == "Browsing")
        ts[k] = ts[k].model_copy(update={"when": ts[k].when.any[0]})  # type: ignore[union-attr]
        draft = j.model_copy(update={"transitions": ts})
        out["estimate_wall"], out["estimate_cpu"] = [], []
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.thread_time()
            est = sample.estimate(store.conn, draft)
            out["estimate_cpu"].append(time.thread_time() - cpu)
            out["estimate_wall"].append(time.perf_counter() - wall)
        out["sampled"] = est.sampled
    finally:
        store.close()


async def _edits(app: Any, out: dict[str, Any], runs: int, exact_runs: int) -> None:
    from journeytui.tui.panes.conditions import ConditionsPane

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        pane = app.main.query_one("#conditions", ConditionsPane)  # type: ignore[attr-defined]
        deadline = time.perf_counter() + 600
        while not (pane.draft is not None and pane.journey_name == NAME
                   and pane.saved_figures is not None):
            await pilot.pause(0.05)
            assert time.perf_counter() < deadline, "the journey did not open"
        transitions = pane.draft["transitions"]  # type: ignore[index]
        t4 = next(i for i, t in enumerate(transitions) if t["from"] == "Browsing")
        t6 = next(i for i, t in enumerate(transitions) if t["from"] == "Engaged")
        # the estimate's sample is read once the journey is open (this design only)
        estimates = hasattr(pane, "draft_estimate")
        while getattr(pane, "_sample", 1) is None:
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        out["rss_open"] = rss_mb()
        peak = Peak()
        peak.start()

        def exact_shown(before: Any) -> bool:
            f = pane.draft_figures
            return f is not None and f is not before and f is not pane.saved_figures

        def any_shown(before: Any) -> bool:
            return getattr(pane, "draft_estimate", None) is not None or exact_shown(before)

        async def edit(t: int, until: Any, lag: list[float] | None = None) -> float:
            pane.select_transition(t)
            await pilot.pause(0.05)
            pane.state.move_cursor((0,))
            before = pane.draft_figures
            started = time.perf_counter()
            pane.action_delete()
            end = started + 1800
            while not until(before) and time.perf_counter() < end:
                tick = time.perf_counter()
                await asyncio.sleep(0.002)
                if lag is not None:
                    lag.append(time.perf_counter() - tick - 0.002)
            took = time.perf_counter() - started
            pane.action_undo()
            await pilot.pause(0.05)
            return took

        if estimates:
            for _ in range(runs):
                out["first"].append(await edit(t4, any_shown))
        for _ in range(exact_runs):
            lag: list[float] = []
            out["exact_t4"].append(await edit(t4, exact_shown, lag))
            out["lag"].append(max(lag) if lag else 0.0)
        if not estimates:  # the previous design shows the exact funnel first
            out["first"] = out["exact_t4"]
        for _ in range(exact_runs):
            out["exact_t6"].append(await edit(t6, exact_shown))
        out["rss_peak"] = peak.stop()


def run_child(src: Path, db: Path, runs: int, exact_runs: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(src))
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(db), "--runs", str(runs),
         "--exact-runs", str(exact_runs)],
        env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise SystemExit(f"child on {src} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def evaluate_child(db: Path) -> float:
    """One full evaluation of the journey (this tree's engine), in seconds."""
    code = (
        "import sys, time\n"
        "from journeytui.store import Store\n"
        "from journeytui.domain.engine import evaluate\n"
        "s = Store.open(sys.argv[1]); t = time.perf_counter()\n"
        f"evaluate(s, {NAME!r}); print(time.perf_counter() - t)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.run([sys.executable, "-c", code, str(db)], env=env,
                          capture_output=True, text=True, check=True)
    return float(proc.stdout.split()[-1])


# -- the report -----------------------------------------------------------------------
def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def cell(values: list[float]) -> str:
    if not values:
        return "—"
    m = statistics.median(values)
    text = f"{m * 1000:.0f} ms" if m < 10 else f"{m:.1f} s"
    return f"{text} (min {min(values):.2f} s, n={len(values)})"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f} ×" if a is not None and b else "—"


def prepare(n: int, work: Path, eval_runs: int) -> tuple[Path, list[float]]:
    """A copy of the cached store, migrated, "Lead nurturing" evaluated (timed)."""
    from stores import store_path  # type: ignore[import-not-found]

    prep = work / f"prep-{n}.db"
    shutil.copyfile(store_path(n), prep)
    times = [evaluate_child(prep) for _ in range(eval_runs)]
    return prep, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--exact-runs", type=int, default=None,
                        help="edits waited until exact (default: --runs, 3 at 1M)")
    parser.add_argument("--base", type=Path, default=None)
    parser.add_argument("--child", type=Path, default=None)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(asyncio.run(child(args.child, args.runs, args.exact_runs))))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-editor-"))
    try:
        for n in args.sizes:
            big = n >= 1_000_000
            exact_runs = args.exact_runs or (3 if big else args.runs)
            prep, evals = prepare(n, work, 1 if big else 3)
            results: dict[str, dict[str, Any]] = {}
            for label, src in (("new", SRC), ("previous", args.base)):
                if src is None:
                    continue
                db = work / f"{label}-{n}.db"
                shutil.copyfile(prep, db)
                results[label] = run_child(src, db, args.runs, exact_runs)
                db.unlink()
            prep.unlink()
            report(n, evals, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(n: int, evals: list[float], results: dict[str, dict[str, Any]]) -> None:
    new, old = results.get("new"), results.get("previous")
    full = med(evals)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{n:,} contacts — full evaluation of {NAME!r}: {cell(evals)}"
          f"  (load average {load} on {os.cpu_count()} cores)")
    print(f"  {'':32} {'new':>34}   {'previous':>34}   new/previous")
    rows = [("edit → first preview", "first"), ("edit → exact (t4)", "exact_t4"),
            ("edit → exact (t6)", "exact_t6"), ("event-loop lag in replay (max)", "lag")]
    for title, key in rows:
        a = new[key] if new else []
        b = old[key] if old else []
        print(f"  {title:32} {cell(a):>34}   {cell(b):>34}   {ratio(med(a), med(b))}")
    if new and "estimate_wall" in new:
        print(f"  the estimate alone (no app; {new['sampled']:,} sampled contacts): "
              f"{cell(new['estimate_wall'])}, CPU {cell(new['estimate_cpu'])}; its sample"
              f" read once per journey opened: {cell(new['prepare'])}")
    for label, res in results.items():
        print(f"  memory ({label}): {res['rss_open']:.0f} MB open → peak {res['rss_peak']:.0f} MB"
              f" while previewing (+{res['rss_peak'] - res['rss_open']:.0f} MB)")
    if new and full:
        print(f"  exact (t4) / full evaluation: {ratio(med(new['exact_t4']), full)}"
              f" (target ≤ 2); exact (t6) / full evaluation:"
              f" {ratio(med(new['exact_t6']), full)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
