"""A full evaluation streams: moves are written in batches as contacts finish (never
all held at once), with the same results as one batch, and it says how far it got."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_incremental import _results

from journeytui.cli import main
from journeytui.demo import generate
from journeytui.domain import engine
from journeytui.store import Store

LEAD = "Lead nurturing"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "demo.db"
    generate(path, contacts=300)
    return path


def test_moves_are_written_in_batches_with_the_same_results(
    demo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    store = Store.open(demo)
    try:
        one = engine.evaluate(store, LEAD)
        whole = _results(store, LEAD)
    finally:
        store.close()
    assert one.write_batches == 1 and one.most_in_flight == one.moves  # 20,000 per batch

    monkeypatch.setattr(engine.full, "BATCH_MOVES", 5)
    monkeypatch.setattr(engine.full, "BATCH_CONTACTS", 3)
    store = Store.open(demo)
    try:
        report = engine.evaluate(store, LEAD)
        longest = max(len(m) for m in whole["moves"].values())
        # a batch is written once it holds 5 moves or more: at most 4 held before the
        # contact that fills it, whose moves all come in one go
        assert report.most_in_flight <= 4 + longest
        assert report.write_batches >= report.moves // (4 + longest)
        assert report.write_batches > 10
        # and never more than 3 contacts' positions and states
        assert report.most_contacts_in_flight == 3
        assert report.write_batches >= report.contacts // 3
        assert (report.moves, report.in_journey) == (one.moves, one.in_journey)
        assert _results(store, LEAD) == whole
    finally:
        store.close()


def test_progress_counts_the_contacts(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine.full, "PROGRESS_EVERY", 50)
    seen: list[tuple[int, int]] = []
    store = Store.open(demo)
    try:
        total = store.conn.execute(
            "SELECT count(DISTINCT contact_id) FROM activities").fetchone()[0]
        report = engine.evaluate(store, LEAD, progress=lambda d, t: seen.append((d, t)))
    finally:
        store.close()
    assert report.contacts == total
    # the start, every 50 contacts, then the end
    assert seen == [(k, total) for k in range(0, total + 1, 50)] + [(total, total)]


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    assert main(argv) == 0
    return capsys.readouterr()


def test_cli_progress_lines_and_json(
    demo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JOURNEYTUI_PROGRESS_AFTER", "0")
    monkeypatch.setattr(engine.full, "PROGRESS_EVERY", 10)
    out = _run(capsys, ["evaluate", LEAD, "--db", str(demo)])
    # not a terminal: plain lines on standard error, the answer on standard output
    assert out.out.startswith(f"{LEAD}: ")
    lines = out.err.splitlines()
    assert lines[0] == f"evaluating {LEAD} (contacts) …"
    assert lines[-1].startswith(f"evaluating {LEAD} (contacts): done (")
    assert any(" 50 % (" in line for line in lines)
    # --json: the answer only, no progress
    out = _run(capsys, ["evaluate", "--json", "--db", str(demo)])
    assert out.err == ""
    data = json.loads(out.out)
    assert [d["journey"] for d in data] == [LEAD, "Webinar"]


def test_a_save_reports_progress_too(demo: Path) -> None:
    from journeytui.domain.journeys import get_journey, save_journey

    store = Store.open(demo)
    try:
        j, _ = get_journey(store, LEAD)
        changed = j.model_copy(update={"goal": j.goal + " (edited)"})
        seen: list[tuple[int, int]] = []
        save_journey(store, changed, progress=lambda d, t: seen.append((d, t)))
        total = store.conn.execute(
            "SELECT count(DISTINCT contact_id) FROM activities").fetchone()[0]
    finally:
        store.close()
    assert seen[0] == (0, total) and seen[-1] == (total, total)


def test_all_journeys_in_one_read_equal_each_alone(demo: Path) -> None:
    store = Store.open(demo)
    try:
        names = [r[0] for r in store.conn.execute("SELECT name FROM journeys ORDER BY name")]
        alone = {}
        for name in names:
            engine.evaluate(store, name)
            alone[name] = _results(store, name)
        reports = engine.evaluate_all(store)
        assert [r.journey for r in reports] == names == [LEAD, "Webinar"]
        for name in names:
            assert _results(store, name) == alone[name]
    finally:
        store.close()
