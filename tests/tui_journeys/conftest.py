"""Fixtures for the Journeys and Conditions pane tests (issue 5).

* ``demo_db``: the fixed demo store (300 contacts, seed 7, fixed clock, the demo
  journeys "Lead nurturing" and "Webinar"), built once per session, copied per test.
* ``nurture_db``: the same store plus a journey "Nurture" that has the stages of the
  lead-nurturing story and no transitions yet, for building them by keyboard.
* ``app_factory``: ``make_app`` with no user config, a fixed theme, no cursor blink.
* ``settle`` / ``wait_until``: wait for workers (and timers) instead of sleeping.
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from journeytui.demo import generate
from journeytui.domain.journey_model import Journey, Stage
from journeytui.domain.journeys import (
    JourneyNotFound,
    get_journey,
    install_demo_journeys,
    save_journey,
)
from journeytui.store import Store
from journeytui.tui.app import JourneyApp, make_app

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
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "config"
    directory.mkdir()
    monkeypatch.setenv("JOURNEYTUI_CONFIG_DIR", str(directory))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.chdir(tmp_path)  # CSV exports land here
    yield directory


@pytest.fixture
def app_factory(config_dir: Path) -> Callable[..., JourneyApp]:
    def build(db: Path, theme: str = "journey-dark") -> JourneyApp:
        kwargs: dict[str, object] = {"theme": theme, "config_dir": config_dir}
        if "blink" in inspect.signature(make_app).parameters:
            kwargs["blink"] = False
        return make_app(db, **kwargs)  # type: ignore[arg-type]

    return build


async def _settle(pilot: Pilot[object]) -> None:
    """Wait until every worker has finished and its messages are handled."""
    app = pilot.app
    for _ in range(400):
        await app.workers.wait_for_complete()
        await pilot.pause()
        busy = any(w.is_running for w in app.workers)
        status = getattr(app, "status_text", lambda: "Ready")()
        if not busy and status == "Ready":
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                return
    raise AssertionError(f"app did not settle: {list(app.workers)}")


async def _wait_until(pilot: Pilot[object], condition: Callable[[], bool],
                      what: str = "condition") -> None:
    """Wait (workers, then short pauses for timers) until *condition* holds."""
    for _ in range(300):
        await _settle(pilot)
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def no_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor computes no preview (keys are not slowed by its worker)."""
    from journeytui.tui.panes.conditions import ConditionsPane

    monkeypatch.setattr(ConditionsPane, "preview_delay", 3600.0)


@pytest.fixture
def settle():  # type: ignore[no-untyped-def]
    return _settle


@pytest.fixture
def wait_until():  # type: ignore[no-untyped-def]
    return _wait_until
