"""Fixtures for the Journeys and Conditions pane tests (issue 5).

* ``demo_db``: the fixed demo store (300 contacts, seed 7, fixed clock, the demo
  journeys "Lead nurturing" and "Webinar", plus a journey "Nurture" that has the
  stages of the lead-nurturing story and no transitions yet, for building them by
  keyboard), built once per session, copied per test.
* ``wait_until``: wait for workers (and timers) until a condition holds.
* ``config_dir``, ``app_factory``, ``settle``: in ``tests/conftest.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from journeytui.demo import generate
from journeytui.demo.journeys import install_demo_journeys
from journeytui.domain.journey_model import Journey, Stage
from journeytui.domain.journeys import (
    JourneyNotFound,
    get_journey,
    save_journey,
)
from journeytui.store import Store

NURTURE_STAGES = ["Browsing", "Interested", "Engaged", "Sales-ready"]
NURTURE_EXITS = ["At-risk", "Dormant"]


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("journeys-demo") / "journeys.db"
    generate(path, contacts=300, seed=7)
    store = Store.open(path)
    try:
        try:
            get_journey(store, "Lead nurturing")
        except JourneyNotFound:  # an older generator without the demo journeys
            install_demo_journeys(store)
        stages = [Stage(name=n) for n in NURTURE_STAGES] + [
            Stage(name=n, exit=True) for n in NURTURE_EXITS
        ]
        save_journey(store, Journey(name="Nurture", goal="Built by keyboard", stages=stages))
    finally:
        store.close()
    return path


@pytest.fixture
def demo_db(demo_master: Path, tmp_path: Path) -> Path:
    path = tmp_path / "journeys.db"
    shutil.copyfile(demo_master, path)
    return path


@pytest.fixture
def wait_until(settle):  # type: ignore[no-untyped-def]
    async def wait(pilot: Pilot[object], condition: Callable[[], bool],
                   what: str = "condition") -> None:
        """Wait (workers, then short pauses for timers) until *condition* holds."""
        for _ in range(300):
            await settle(pilot)
            if condition():
                return
            await pilot.pause(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    return wait


@pytest.fixture
def no_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor computes no preview (keys are not slowed by its worker)."""
    from journeytui.tui.panes.conditions import ConditionsPane

    monkeypatch.setattr(ConditionsPane, "preview_delay", 3600.0)
