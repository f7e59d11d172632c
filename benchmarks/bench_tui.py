"""TUI figures of issue 4: first paint beside a bare Textual app; contact search latency.

    .venv/bin/python benchmarks/bench_tui.py [--paint-size 100000] [--search-size 1000000]
                                             [--runs 15] [--queries 20]
                                             [--only keys] [--keys-size 2000]

1. **First paint.**  Each sample is a fresh Python process (imports included) that
   starts the app headless at 80×24 and stops the clock at the first frame of the
   main screen handed to the driver (``App._display`` with a renderable): the shell
   (header, tab line, status line saying what loads, keys).  The first pane is
   mounted right after that frame; its rows come from a worker.
   The floor is the same measurement for a bare Textual app that shows one label.
   Also printed: the first frame drawn after the Emails pane got its data (what a
   user waits for before reading a figure), beside the bare app's first frame.
   Bytecode caches are warm for both (one warm-up run each).
   Target (issue 4): first paint ≤ 1.5 × the floor.
2. **Search, keystroke to result.**  In one running app on the big store, the
   Contacts pane gets each query typed but its last character; then the last key is
   pressed and the clock runs until the match list shows the new results (worker
   search + message + table page).  The first search, which builds the name
   vocabulary cache, is reported apart.  Target: ≤ 100 ms median.
3. **A key's CPU.**  In one process, headless 80×24: the app on a store, settled,
   then 40 keys (``j``/``k``, one at a time, each followed by the frame it causes) on
   the Emails pane (the list's cursor and the email's detail below it), and 40
   (``down``/``up``) in the condition editor's tree (the Conditions pane, the first
   journey open): CPU seconds of the process per key (the app's threads included;
   wall time is not shown: the pilot's idle wait sleeps).  The floor: a bare Textual
   app with a DataTable of as many rows and one line of text under it, the same keys.
   Medians of ``--runs`` runs (a fresh app each).  What an SSH session pays per key.

The stores come from ``benchmarks/stores.py`` (built once, cached); if that module
is missing, a demo store is generated into ``benchmarks/.data/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CHILD = r"""
import asyncio, json, sys, time
t0 = time.perf_counter()
kind, db, cfg = sys.argv[1], sys.argv[2], sys.argv[3]
painted = []
data_painted = []

def emails_loaded(app):
    try:
        return app.main.query_one("#emails").loaded
    except Exception:
        return False

def hook(app, screen_name):
    # The first frame the app hands to the (headless) driver for its main screen,
    # and (journeytui) the first frame drawn after the Emails pane got its data.
    display = app._display
    def _display(screen, renderable):
        if renderable is not None and type(screen).__name__ == screen_name:
            now = time.perf_counter() - t0
            if not painted:
                painted.append(now)
            elif screen_name == "MainScreen" and not data_painted and emails_loaded(app):
                data_painted.append(now)
        return display(screen, renderable)
    app._display = _display

async def main():
    if kind == "bare":
        from textual.app import App
        from textual.widgets import Label

        class Bare(App):
            def compose(self):
                yield Label("journeytui")

        app = Bare()
        hook(app, "Screen")
    else:
        from pathlib import Path
        from journeytui.tui.app import make_app

        app = make_app(db, config_dir=Path(cfg), blink=False)
        hook(app, "MainScreen")
    async with app.run_test(size=(80, 24)) as pilot:
        while not painted:
            await asyncio.sleep(0.001)
        data = None
        if kind == "app":
            while not data_painted:
                await asyncio.sleep(0.001)
            data = data_painted[0]
    print(json.dumps({"paint": painted[0], "data": data}))

asyncio.run(main())
"""


def store_for(contacts: int) -> Path:
    try:
        from stores import store_path  # type: ignore[import-not-found]
    except ImportError:
        from journeytui.demo import generate

        path = HERE / ".data" / f"demo-{contacts}.db"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            print(f"(generating {path} …)", flush=True)
            generate(path, contacts=contacts, seed=1)
        return path
    return Path(store_path(contacts))


def first_paint(db: Path, runs: int) -> None:
    cfg = tempfile.mkdtemp(prefix="jt-bench-cfg-")
    env = {**os.environ, "JOURNEYTUI_CONFIG_DIR": cfg}
    # Both apps start as a user's second start does: with the bytecode of every module
    # cached.  (Textual's modules got theirs when pip installed them; journeytui is
    # installed editable, so its .pyc files are written on the first run, unless
    # PYTHONDONTWRITEBYTECODE is set, as on some CI machines: one warm-up run of each
    # kind, with it unset, writes them.)
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def start(kind: str) -> dict[str, float | None]:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, kind, str(db), cfg],
            capture_output=True, text=True, env=env, check=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    results: dict[str, list[dict[str, float | None]]] = {"bare": [], "app": []}
    for kind in results:
        start(kind)  # the warm-up run
    for _ in range(runs):
        for kind, samples in results.items():
            samples.append(start(kind))
    floor = statistics.median(r["paint"] for r in results["bare"])  # type: ignore[misc]
    paint = statistics.median(r["paint"] for r in results["app"])  # type: ignore[misc]
    data = statistics.median(r["data"] for r in results["app"])  # type: ignore[misc]
    print(f"first paint, bare Textual app (floor)  {floor * 1000:8.1f} ms  (median of {runs})")
    print(f"first paint, journeytui on {db.name:<12} {paint * 1000:8.1f} ms  "
          f"= {paint / floor:.2f} × floor  (target ≤ 1.5 ×)")
    print(f"emails pane filled (data shown)        {data * 1000:8.1f} ms  "
          f"= {data / floor:.2f} × floor")


QUERIES = ["jonh smiht", "maria", "garcia", "kowalsky", "anne marie", "lee", "o'brien",
           "nakamura", "hannah wilson", "sofia", "petrov", "mueller", "smith", "yuki",
           "fatima rahman", "omar", "linh", "carmen j", "diego", "sven"]


async def search_latency(db: Path, n_queries: int) -> None:
    from journeytui.tui.app import make_app
    from journeytui.tui.panes.contacts import ContactsPane

    cfg = Path(tempfile.mkdtemp(prefix="jt-bench-cfg-"))
    app = make_app(db, config_dir=cfg, blink=False)
    queries = (QUERIES * (1 + n_queries // len(QUERIES)))[:n_queries]
    async with app.run_test(size=(80, 24)) as pilot:
        while app.status_text() != "Ready" or any(w.is_running for w in app.workers):
            await asyncio.sleep(0.01)
        await pilot.press("3")
        pane = app.main.query_one(ContactsPane)
        field = pane.search_field
        table = pane.matches_table

        async def idle() -> None:
            while any(w.is_running for w in app.workers) or app.status_text() != "Ready":
                await asyncio.sleep(0.005)
            await pilot.pause()

        async def one(query: str) -> float:
            field.value = query[:-1]
            field.cursor_position = len(field.value)
            await idle()
            generation = table._generation
            t = time.perf_counter()
            field.insert_text_at_cursor(query[-1])  # what the Input does with a key press
            while not (
                pane.query_text == query.strip()
                and table._generation != generation
                and table.row_count is not None
                and (table.row_count == 0 or table.row_at(0) is not None)
            ):
                await asyncio.sleep(0.0005)
            return time.perf_counter() - t

        first = await one("warmup")
        times = [await one(q) for q in queries]
        worker = []
        for q in queries[:10]:
            await one(q)
            worker.append(pane.last_search_seconds or 0.0)
    print(f"contact search on {db.name}: first search (builds the name cache) "
          f"{first * 1000:.1f} ms")
    print(f"keystroke → updated list   median {statistics.median(times) * 1000:7.1f} ms   "
          f"p90 {statistics.quantiles(times, n=10)[-1] * 1000:7.1f} ms   "
          f"({len(times)} queries; target ≤ 100 ms)")
    print(f"  of which the search itself (worker)  median "
          f"{statistics.median(worker) * 1000:7.1f} ms")


KEY_COUNT = 40


async def _per_key(app: object, setup: list[str], keys: list[str],
                   ready: object = None) -> float:
    """CPU seconds per key of *keys* pressed one at a time in *app* (after *setup*)."""
    from textual.app import App

    assert isinstance(app, App)

    async def idle(pilot: object) -> None:
        while any(w.is_running for w in app.workers) or getattr(
                app, "status_text", lambda: "Ready")() != "Ready":
            await asyncio.sleep(0.005)
        await pilot.pause()  # type: ignore[attr-defined]

    async with app.run_test(size=(80, 24)) as pilot:
        await idle(pilot)
        for key in setup:
            await pilot.press(key)
            await idle(pilot)
        if callable(ready):
            while not ready(app):
                await asyncio.sleep(0.005)
            await idle(pilot)
        t = time.process_time()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        return (time.process_time() - t) / len(keys)


def _bare_app(rows: int) -> object:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Static

    class Bare(App[None]):
        BINDINGS = [("j", "down"), ("k", "up")]

        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")
            yield Static("one line under the list")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Email", "Sent", "Opened", "Clicked")
            for i in range(rows):
                table.add_row(f"email {i}", f"{i * 7:,}", f"{i * 3:,}", f"{i:,}")
            table.focus()

        def action_down(self) -> None:
            self.query_one(DataTable).action_cursor_down()

        def action_up(self) -> None:
            self.query_one(DataTable).action_cursor_up()

    return Bare()


def key_cost(db: Path, runs: int) -> None:
    from journeytui.store import Store
    from journeytui.tui.app import make_app

    store = Store.open(db, readonly=True)
    try:
        emails = store.count("emails")
    finally:
        store.close()
    cfg = Path(tempfile.mkdtemp(prefix="jt-bench-cfg-"))
    walk = ["j", "k"] * (KEY_COUNT // 2)
    tree = ["down", "up"] * (KEY_COUNT // 2)

    def opened(app: object) -> bool:
        pane = app.main.query_one("#conditions")  # type: ignore[attr-defined]
        return pane.draft is not None  # type: ignore[no-any-return]

    results: dict[str, list[float]] = {"floor": [], "emails": [], "editor": []}
    for _ in range(runs):
        results["floor"].append(asyncio.run(_per_key(_bare_app(emails), [], walk)))
        results["emails"].append(asyncio.run(_per_key(
            make_app(db, config_dir=cfg, blink=False), [], walk)))
        results["editor"].append(asyncio.run(_per_key(
            make_app(db, config_dir=cfg, blink=False), ["5"], tree, opened)))
    floor = statistics.median(results["floor"])
    print(f"a key, bare Textual DataTable of {emails} rows (floor)  "
          f"{floor * 1000:6.1f} ms CPU  (median of {runs} runs of {KEY_COUNT} keys)")
    for name, what in (("emails", "Emails pane, j/k (list + detail)"),
                       ("editor", "condition editor, tree down/up ")):
        cost = statistics.median(results[name])
        print(f"a key, {what}      {cost * 1000:6.1f} ms CPU  = {cost / floor:.2f} × floor")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paint-size", type=int, default=100_000)
    ap.add_argument("--search-size", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--paint-db", type=Path, help="use this store instead of building one")
    ap.add_argument("--search-db", type=Path, help="use this store instead of building one")
    ap.add_argument("--keys-size", type=int, default=2_000)
    ap.add_argument("--keys-db", type=Path, help="use this store instead of building one")
    ap.add_argument("--only", choices=["paint", "search", "keys"], help="one part only")
    args = ap.parse_args()
    if args.only in (None, "keys"):
        keys_db = args.keys_db or store_for(args.keys_size)
        print(f"== a key's CPU ({keys_db.name})")
        key_cost(keys_db, max(5, args.runs // 3))
        if args.only == "keys":
            return
        print()
    if args.only in (None, "paint"):
        paint_db = args.paint_db or store_for(args.paint_size)
        print(f"== first paint ({args.paint_size:,}-contact store)")
        first_paint(paint_db, args.runs)
    if args.only in (None, "search"):
        search_db = args.search_db or store_for(args.search_size)
        print(f"\n== contact search ({args.search_size:,}-contact store)")
        asyncio.run(search_latency(search_db, args.queries))


if __name__ == "__main__":
    main()
