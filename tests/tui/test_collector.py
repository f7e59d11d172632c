"""What start-up makes is kept out of the garbage collector's full passes while the
app runs (a full pass over it fell on the user's first keys), and given back when
the app ends (a process that starts several apps, as this test suite does, keeps
nothing of the ones that ended)."""

from __future__ import annotations

import gc
from pathlib import Path

from journeytui.tui.panes.journeys import JourneysPane


async def test_startup_objects_are_frozen_while_the_app_runs(
    demo_db: Path, app_factory, settle, wait_until  # type: ignore[no-untyped-def]
) -> None:
    gc.unfreeze()  # whatever an earlier test left
    assert gc.get_freeze_count() == 0
    app = app_factory(demo_db, preload_panes=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # the panes are mounted in the background once the first one has its rows
        await wait_until(pilot, lambda: app.main.query(JourneysPane),
                         "the panes mounted in the background")
        await wait_until(pilot, lambda: gc.get_freeze_count() > 0, "start-up frozen")
        # the panes' widgets are among the frozen objects: thousands of them
        assert gc.get_freeze_count() > 1000
    assert gc.get_freeze_count() == 0
