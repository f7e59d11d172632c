"""What ``generate`` leaves behind besides the store: the demo journeys it is asked for,
and Python's cycle collector as it found it (it pauses it while it works)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from journeytui.demo import generate
from journeytui.demo.journeys import install_demo_journeys
from journeytui.store import Store, StoreError


def test_some_demo_journeys_only(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    generate(path, contacts=40, seed=5, journeys=False)
    with Store.open(path) as store:
        assert store.count("journeys") == 0
        assert install_demo_journeys(store, only=["Webinar"]) == ["Webinar"]
        names = [r[0] for r in store.conn.execute("SELECT name FROM journeys")]
        assert names == ["Webinar"]
        # evaluated: every contact with an activity has a position (in a stage or not)
        with_activity = store.conn.execute(
            "SELECT count(DISTINCT contact_id) FROM activities").fetchone()[0]
        assert with_activity > 0
        assert store.count("journey_positions") == with_activity
        with pytest.raises(ValueError, match="no demo journey named Nope"):
            install_demo_journeys(store, only=["Lead nurturing", "Nope"])
        assert store.count("journeys") == 1  # nothing saved


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cycle_collector_is_left_as_it_was(tmp_path: Path, enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        generate(tmp_path / "d.db", contacts=20, journeys=False)
        assert gc.isenabled() is enabled
        with pytest.raises(StoreError):  # a failure leaves it as it was too
            generate(tmp_path / "d.db", contacts=20, journeys=False)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
