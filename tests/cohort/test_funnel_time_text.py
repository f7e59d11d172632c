"""The text of `funnel NAME --as-of / --entered-from … / --compare / --compare-cohort`:
which funnel it is, said once, times as ``YYYY-MM-DD HH:MM`` UTC (ISO only in JSON).

Journey "M" (A → B on a pricing click), evaluated at NOW = T0+40d = 2026-02-14 08:00
(T0 = 2026-01-05 08:00):

* a opens at T0 (enters A), clicks pricing at T0+2d = 01-07 08:00 (→ B);
* b opens at T0+1d = 01-06 08:00 (A);
* c opens at T0+10d = 01-15 08:00 (A).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jbuilder import DAY, T0, Builder, new_store

from journeytui.cli import main
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import save_journey

NOW = T0 + 40 * DAY
JOURNEY = {
    "name": "M",
    "stages": [{"name": "A"}, {"name": "B"}],
    "transitions": [{"from": "A", "to": "B", "when": {"clicked": {"url": "example.com/pricing"}}}],
}
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d")


@pytest.fixture
def db(tmp_path: Path) -> str:
    s = new_store(tmp_path)
    b = Builder(s).catalog()
    for n in "abc":
        b.contact(n)
    jan = "Newsletter — January 2026"
    b("open", "a", T0, jan)
    b("open", "b", T0 + DAY, jan)
    b("click", "a", T0 + 2 * DAY, "Pricing update", "https://www.example.com/pricing")
    b("open", "c", T0 + 10 * DAY, jan)
    save_journey(s, parse_journey(JOURNEY), at=NOW, now=NOW)
    path = str(s.path)
    s.close()
    return path


def run(db: str, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["--db", db, "funnel", "M", *args]) == 0
    out = capsys.readouterr().out
    assert not ISO.search(out), out  # no ISO time in text
    return out.splitlines()


def test_as_of_is_said_once_as_date_and_minute(db: str, capsys: pytest.CaptureFixture[str]
                                               ) -> None:
    # --as-of 2026-01-06: the end of that day, 23:59:59; a (T0) and b (01-06 08:00) are in
    lines = run(db, capsys, "--as-of", "2026-01-06")
    assert lines[:2] == [
        "M",
        "as of 2026-01-06 23:59; 2 contacts in the journey; stalled = more than 30 days"
        " in a stage",
    ]
    assert sum(line.count("as of") for line in lines) == 1
    # JSON keeps ISO, to the second
    assert main(["--db", db, "funnel", "M", "--as-of", "2026-01-06", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["evaluated_at"] == "2026-01-06T23:59:59Z"


def test_a_cohort_says_its_range_and_the_evaluation_time(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    # entered 01-06 00:00 .. 01-20 23:59: b (01-06 08:00) and c (01-15 08:00), not a (01-05)
    lines = run(db, capsys, "--entered-from", "2026-01-06", "--entered-to", "2026-01-20",
                "--within", "5")
    assert lines[:3] == [
        "M",
        "entered 2026-01-06 00:00 – 2026-01-20 23:59, moves within 5 days of entry, as of"
        " the last evaluation (2026-02-14 08:00)",
        "2 contacts in this cohort; stalled = more than 30 days in a stage",
    ]
    assert sum(line.count("as of") for line in lines) == 1


def test_comparisons_say_each_side_once(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    # before: as of 01-06 23:59, a and b; after: the evaluation, a, b and c
    lines = run(db, capsys, "--compare", "2026-01-06")
    assert lines[:4] == [
        "M: change per stage",
        "before: as of 2026-01-06 23:59",
        "after:  as of the last evaluation (2026-02-14 08:00)",
        "contacts in the journey: 2 → 3 (+1)",
    ]
    # before: entered 01-01 .. 01-05 23:59: a; after: entered 01-06 .. 01-20: b and c
    lines = run(db, capsys, "--entered-from", "2026-01-06", "--entered-to", "2026-01-20",
                "--compare-cohort", "2026-01-01..2026-01-05")
    assert lines[:4] == [
        "M: change per stage",
        "before: entered 2026-01-01 00:00 – 2026-01-05 23:59, as of the last evaluation"
        " (2026-02-14 08:00)",
        "after:  entered 2026-01-06 00:00 – 2026-01-20 23:59, as of the last evaluation"
        " (2026-02-14 08:00)",
        "contacts in the journey: 1 → 2 (+1)",
    ]
