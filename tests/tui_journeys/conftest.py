"""Fixtures for the Journeys and Conditions pane tests (issue 5).

* ``demo_db``: the fixed demo store (300 contacts, seed 7, fixed clock, the demo
  journeys "Lead nurturing" and "Webinar", plus a journey "Nurture" that has the
  stages of the lead-nurturing story and no transitions yet, for building them by
  keyboard), a private copy per test.  It is the committed
  ``fixtures/demo-300-seed7-journeys.db.gz``, made by ``journeytui.demo.generate`` and
  the lines below: committed rather than generated in every test session, so that a
  change to the demo generator does not redraw every snapshot.  To refresh it on
  purpose (then look at the new snapshots): ``JOURNEYTUI_REGEN_TUI_FIXTURE=1 pytest
  tests/tui_journeys --snapshot-update``.
* ``config_dir``, ``app_factory``, ``settle``, ``until``, ``wait_until``: in
  ``tests/conftest.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


FIXTURE = Path(__file__).parent / "fixtures" / "demo-300-seed7-journeys.db.gz"


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory, committed_store) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("journeys-demo") / "journeys.db"
    return committed_store(path, FIXTURE, make_master)  # type: ignore[no-any-return]


def make_master(path: Path) -> None:
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


@pytest.fixture
def demo_db(demo_master: Path, tmp_path: Path) -> Path:
    path = tmp_path / "journeys.db"
    shutil.copyfile(demo_master, path)
    return path


@pytest.fixture
def no_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor computes no preview (keys are not slowed by its worker)."""
    from journeytui.tui.panes.conditions import ConditionsPane

    monkeypatch.setattr(ConditionsPane, "preview_delay", 3600.0)  # after typing
    monkeypatch.setattr(ConditionsPane, "edit_delay", 3600.0)  # after any other edit
