"""Figures of issue 5: the Conditions editor's live preview and per-edit checking.

    .venv/bin/python benchmarks/bench_editor.py [--contacts 2000] [--runs 9]

1. **Preview (domain).**  ``preview_figures`` — a replay of a changed draft of "Lead
   nurturing" in memory and the funnel computed from it (what the editor's worker
   runs) — beside ``stored_figures`` (the saved funnel read back).
2. **Edit → preview shown (app).**  In a headless app at 80×24 on the same store,
   with the debounce at 1 ms: from an edit (delete / undo of a part of t4) until
   the pane holds the draft's funnel (worker + message).  The editor waits
   ``PREVIEW_DELAY`` (0.35 s) of quiet typing before it starts a preview; add that
   for what a typist sees.
3. **Per edit, on the event loop.**  The pane's ``_changed()``: validation of the
   whole draft (pydantic model, structure, names in the store) and the redraw calls
   (tree, fields, lines) — the work every keystroke in a field costs before Textual
   lays out the screen.

Target (issue 3): a preview on the default demo store ≤ 200 ms.  Prints medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def demo_store(contacts: int) -> Path:
    try:
        from stores import store_path  # type: ignore[import-not-found]

        return Path(store_path(contacts))
    except ImportError:
        from journeytui.demo import generate

        path = Path(tempfile.mkdtemp()) / "demo.db"
        generate(path, contacts=contacts)
        return path


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms (min {min(values) * 1000:.1f}, n={len(values)})"


def domain_figures(path: Path, runs: int) -> None:
    from journeytui.domain.journeys import get_journey
    from journeytui.store import Store
    from journeytui.tui.journey_data import preview_figures, stored_figures

    store = Store.open(path, readonly=True)
    try:
        j, _ = get_journey(store, "Lead nurturing")
        t = list(j.transitions)
        t4 = next(i for i, tr in enumerate(t) if tr.from_ == "Browsing")
        when = t[t4].when
        parts = getattr(when, "any", None)
        if parts and len(parts) > 1:
            t[t4] = t[t4].model_copy(update={"when": parts[0]})
        draft = j.model_copy(update={"transitions": t})
        previews, stored = [], []
        for _ in range(runs):
            started = time.perf_counter()
            preview_figures(store, draft, 30)
            previews.append(time.perf_counter() - started)
            started = time.perf_counter()
            stored_figures(store, "Lead nurturing", 30)
            stored.append(time.perf_counter() - started)
    finally:
        store.close()
    print(f"preview of a changed draft (replay + funnel): {ms(previews)}")
    print(f"saved funnel read back (stored_figures):       {ms(stored)}")


async def app_figures(path: Path, runs: int) -> None:
    import shutil

    from journeytui.tui.app import make_app
    from journeytui.tui.panes.conditions import ConditionsPane

    work = Path(tempfile.mkdtemp())
    db = work / "demo.db"
    shutil.copyfile(path, db)
    ConditionsPane.preview_delay = 0.001
    app = make_app(db, config_dir=work / "config")
    shown: list[float] = []
    changed: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        pane = app.main.query_one("#conditions", ConditionsPane)
        for _ in range(200):
            await pilot.pause(0.05)
            if pane.draft is not None and pane.journey_name == "Lead nurturing":
                break
        t4 = next(i for i, tr in enumerate(pane.draft["transitions"])  # type: ignore[index]
                  if tr["from"] == "Browsing")
        pane._select_transition(t4)
        await pilot.pause(0.1)
        for i in range(runs * 2):
            before = pane.draft_figures
            started = time.perf_counter()
            if i % 2 == 0:
                pane.path = (0,)
                pane.action_delete()
            else:
                pane.action_undo()
            changed_at = time.perf_counter()
            if pane.dirty:
                deadline = started + 120
                while (pane.draft_figures is before or pane.draft_figures is None) and (
                        time.perf_counter() < deadline):
                    await asyncio.sleep(0.002)
                shown.append(time.perf_counter() - started)
            changed.append(changed_at - started)
            await pilot.pause(0.05)
        for _ in range(runs * 5):
            started = time.perf_counter()
            pane._changed()
            changed.append(time.perf_counter() - started)
    # (printed after the app has stopped: while it runs, it owns stdout)
    print(f"edit → draft funnel shown (no debounce):      {ms(shown)}")
    print(f"per edit on the event loop (_changed):         {ms(changed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    path = demo_store(args.contacts)
    print(f"store: {path.name} ({args.contacts:,} contacts)")
    domain_figures(path, args.runs)
    asyncio.run(app_figures(path, args.runs))


if __name__ == "__main__":
    main()
