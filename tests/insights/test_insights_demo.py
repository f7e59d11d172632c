"""On the demo store (2,000 contacts, the committed journeys.db) each pattern finds
something; the CLI and the pane show the same findings."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from journeytui.cli import main
from journeytui.domain import insights as ins
from journeytui.store import Store

DEMO = Path(__file__).resolve().parents[2] / "journeys.db"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "journeys.db"
    shutil.copyfile(DEMO, path)
    ins._MEMBERS.clear()
    return path


def test_each_pattern_finds_something_on_the_demo_store(demo: Path) -> None:
    with Store.open(demo, readonly=True) as store:
        r = ins.insights(store, "Lead nurturing")
        assert r.stall and r.clicks and r.unsubscribes and r.dormant
        # the story: the unsubscribe spike of "We miss you" is flagged
        spikes = {f.email for f in r.unsubscribes if f.flagged}
        assert "We miss you" in spikes
        # teaser readers move on more than the stage's baseline (the demo's story)
        teaser = next(f for f in r.stall if f.email == "Spring product teaser")
        assert teaser.difference < 0
        # dormant contacts re-engage, and the click-without-progress pages are flagged
        assert any(f.reengaged >= ins.MIN_EVENTS for f in r.dormant)
        assert any(f.flagged for f in r.clicks)
        for f in r.all():
            rows = ins.finding_contacts(store, "Lead nurturing", f.id, limit=None)
            assert len(rows) == f.contacts, f.id


def test_cli_json_text_and_contacts_csv(demo: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(demo), "insights", "Lead nurturing", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["days"] == 30 and data["min_count"] == ins.MIN_COUNT
    fid = next(f["id"] for f in data["unsubscribes"] if f["email"] == "We miss you")
    assert main(["--db", str(demo), "insights", "Lead nurturing"]) == 0
    text = capsys.readouterr().out
    assert "Unsubscribe spikes" in text and fid in text
    out = tmp_path / "who.csv"
    assert main(["--db", str(demo), "insights", "Lead nurturing", "--finding", fid,
                 "--contacts", "--csv", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    listed = next(f["contacts_with_consent"] for f in data["unsubscribes"] if f["id"] == fid)
    assert lines[0] == "email,first_name,last_name,unsubscribed_at"
    assert len(lines) == 1 + listed


@pytest.mark.parametrize("argv, message", [
    (["insights", "Nope"], "no journey named 'Nope'"),
    (["insights", "Lead nurturing", "--contacts"], "need --finding ID"),
    (["insights", "Lead nurturing", "--finding", "x1", "--contacts"], "not a finding id"),
    (["insights", "Lead nurturing", "--days", "0"], "--days 0"),
])
def test_cli_errors_are_one_line(demo: Path, capsys: pytest.CaptureFixture[str],
                                 argv: list[str], message: str) -> None:
    assert main(["--db", str(demo), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


async def test_pane_lists_findings_and_their_contacts(
    demo: Path, app_factory: Callable[..., object], settle: Callable[..., object],
) -> None:
    from journeytui.tui.panes.insights import InsightsPane

    app = app_factory(demo)
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("6")
        await settle(pilot)  # type: ignore[operator]
        pane = app.query_one(InsightsPane)  # type: ignore[attr-defined]
        assert pane.result is not None and pane.journey == "Lead nurturing"
        assert pane.findings.has_focus
        first = pane.result.stall[0]
        assert pane.highlighted is not None and pane.highlighted.id == first.id
        await pilot.press("down")  # the first row is the section heading
        await pilot.press("enter")
        await settle(pilot)  # type: ignore[operator]
        assert pane.finding is not None and pane.contacts.has_focus
        assert pane.finding.id in pane.contacts.border_title
        await pilot.press("enter")  # opens the first contact
        await settle(pilot)  # type: ignore[operator]
        assert app.main.current == "contacts"  # type: ignore[attr-defined]
