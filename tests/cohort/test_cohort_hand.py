"""As-of, entry-cohort and compared funnels on a small hand-built store; every figure
worked out by hand below.

Journey "M": A → B when a pricing link is clicked, B → C (goal) on the form "Contact
sales", from any main-line stage to the exit X when the contact unsubscribes from all.
Entry: any open or click.  Evaluated at NOW = T0+40d.

* a opens at T0 (enters A), clicks pricing at T0+2d (→ B), sends the form at T0+20d (→ C);
* b opens at T0+1d (A), clicks pricing at T0+15d (→ B);
* c opens at T0+10d (A), unsubscribes from all at T0+12d (→ X);
* d opens at T0+12d (A);
* e clicks pricing at T0+30d: enters A and moves on to B at the same event.

As of T1 = T0+11d: a in B (since T0+2d), b and c in A; d and e not yet in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from jbuilder import DAY, T0, Builder, new_store

from journeytui.cli import main
from journeytui.domain.cohort import Slice, compare_slices, parse_range, parse_when, slice_funnel
from journeytui.domain.funnel import funnel
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import save_journey
from journeytui.errors import UserError
from journeytui.store import Store

PRICING = "https://www.example.com/pricing"
NOW = T0 + 40 * DAY
T1 = T0 + 11 * DAY
JOURNEY = {
    "name": "M",
    "stages": [{"name": "A"}, {"name": "B"}, {"name": "C"}, {"name": "X", "exit": True}],
    "transitions": [
        {"from": None, "to": "X", "priority": 1, "when": {"unsubscribed": {}}},
        {"from": "A", "to": "B", "when": {"clicked": {"url": "example.com/pricing"}}},
        {"from": "B", "to": "C", "when": {"submitted_form": {"form": "Contact sales"}}},
    ],
}


def build(path: Path) -> Store:
    s = new_store(path)
    b = Builder(s).catalog()
    for n in "abcde":
        b.contact(n)
    jan = "Newsletter — January 2026"
    b("open", "a", T0, jan)
    b("open", "b", T0 + DAY, jan)
    b("click", "a", T0 + 2 * DAY, "Pricing update", PRICING)
    b("open", "c", T0 + 10 * DAY, jan)
    b("open", "d", T0 + 12 * DAY, jan)
    b("unsub_all", "c", T0 + 12 * DAY)
    b("click", "b", T0 + 15 * DAY, "Pricing update", PRICING)
    b("form", "a", T0 + 20 * DAY, "Contact sales")
    b("click", "e", T0 + 30 * DAY, "Pricing update", PRICING)
    save_journey(s, parse_journey(JOURNEY), at=NOW, now=NOW)
    return s


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return build(tmp_path)


def _fig(data: dict, key: str) -> list:
    return [r[key] for r in data["stages"]]


def test_as_of(store: Store) -> None:
    f = slice_funnel(store, "M", Slice(as_of=T1), stall_days=5)
    assert f["evaluated_at"] == "2026-01-16T08:00:00Z"  # T0 (01-05 08:00) + 11 days
    assert f["in_journey"] == 3  # a, b, c
    assert _fig(f, "reached") == [3, 1, 0]  # A: a b c; B: a
    assert _fig(f, "current") == [2, 1, 0]  # A: b c; B: a
    assert _fig(f, "next_step_conversion") == [0.3333, 0.0, None]  # 1/3, 0/1
    assert _fig(f, "cumulative_conversion") == [1.0, 0.3333, 0.0]
    assert _fig(f, "drop_off") == [2, 1, None]
    assert _fig(f, "median_days_to_next") == [2.0, None, None]  # a: T0 → T0+2d
    # stalled = since before T1 − 5d = T0+6d: b in A since T0+1d, a in B since T0+2d
    assert _fig(f, "stalled") == [1, 1, None]
    assert f["exits"] == [{"stage": "X", "reached": 0, "current": 0, "stalled": None}]
    assert f["entry"]["entered"] == 3
    assert [t["moved"] for t in f["transitions"]] == [0, 1, 0]
    assert f["clicks_with_no_move"] is None
    assert f["slice"]["as_of"] == "2026-01-16T08:00:00Z"


def test_as_of_the_evaluation_time_is_the_stored_funnel(store: Store) -> None:
    now = funnel(store, "M")
    at = slice_funnel(store, "M", Slice(as_of=NOW))
    # now: a in C, b and e in B, d in A, c in X
    assert _fig(at, "reached") == [5, 3, 1] and _fig(at, "current") == [1, 2, 1]
    for key in ("stages", "exits", "entry", "transitions", "in_journey", "evaluated_at"):
        assert at[key] == now[key], key
    # before anyone entered: an empty funnel, not an error
    empty = slice_funnel(store, "M", Slice(as_of=T0 - 1))
    assert empty["in_journey"] == 0 and _fig(empty, "reached") == [0, 0, 0]


def test_as_of_equals_a_replay_cut_at_that_time(store: Store, tmp_path: Path) -> None:
    # The same events up to T1 only, evaluated at T1: what an evaluation then gave.
    (tmp_path / "cut").mkdir()
    cut = build(tmp_path / "cut")
    with cut.transaction() as conn:
        for table in ("activities", "sends", "subscription_changes"):
            conn.execute(f"DELETE FROM {table} WHERE at > ?", (T1,))
    from journeytui.domain.engine import evaluate

    evaluate(cut, "M", now=T1)
    then = funnel(cut, "M", stall_days=5)
    asof = slice_funnel(store, "M", Slice(as_of=T1), stall_days=5)
    for key in ("stages", "exits", "entry", "transitions", "in_journey", "evaluated_at"):
        assert asof[key] == then[key], key


def test_entry_cohort(store: Store) -> None:
    # entered T0+1d … T0+12d (both ends included): b, c, d — not a (T0), not e (T0+30d)
    sl = Slice(entered_from=T0 + DAY, entered_to=T0 + 12 * DAY)
    f = slice_funnel(store, "M", sl)
    assert f["in_journey"] == 3
    assert _fig(f, "reached") == [3, 1, 0]  # B: b
    assert _fig(f, "current") == [1, 1, 0]  # A: d; B: b
    assert f["exits"][0]["current"] == 1  # c
    assert _fig(f, "next_step_conversion") == [0.3333, 0.0, None]
    assert f["entry"]["entered"] == 3


def test_conversion_window(store: Store) -> None:
    # within 10 days of entry: b's pricing click at T0+15d is 14 days after its entry →
    # not counted (b stays in A); c's unsubscribe 2 days after entry counts (X).
    sl = Slice(entered_from=T0 + DAY, entered_to=T0 + 12 * DAY, within_days=10)
    f = slice_funnel(store, "M", sl, stall_days=5)
    assert _fig(f, "reached") == [3, 0, 0]
    assert _fig(f, "current") == [2, 0, 0]  # b, d
    assert f["exits"][0]["reached"] == 1
    # stalled at the end of each window (5 days): b in A from T0+1d to T0+11d (10 days),
    # d from T0+12d to T0+22d (10 days): both
    assert _fig(f, "stalled") == [2, 0, None]
    f30 = slice_funnel(store, "M", sl, stall_days=30)
    assert _fig(f30, "stalled") == [0, 0, None]
    wide = slice_funnel(store, "M", Slice(T0 + DAY, T0 + DAY, T0 + 12 * DAY, 60))
    assert _fig(wide, "reached") == [1, 0, 0]  # as of T0+1d only b (entered then) is in
    # a window long enough changes nothing against the plain cohort
    long = slice_funnel(store, "M", Slice(None, T0 + DAY, T0 + 12 * DAY, 60))
    assert _fig(long, "reached") == [3, 1, 0]


def test_compare_dates(store: Store) -> None:
    c = compare_slices(store, "M", Slice(as_of=T1), Slice())
    st = {r["stage"]: r for r in c["stages"]}
    assert st["A"]["reached"] == {"before": 3, "after": 5, "delta": 2}
    assert st["B"]["reached"] == {"before": 1, "after": 3, "delta": 2}
    assert st["C"]["reached"] == {"before": 0, "after": 1, "delta": 1}
    assert st["A"]["current"] == {"before": 2, "after": 1, "delta": -1}
    # cumulative conversion to B: 1/3 → 3/5 = 0.3333 → 0.6, +0.2667
    assert st["B"]["cumulative_conversion"] == {"before": 0.3333, "after": 0.6,
                                                "delta": 0.2667}
    assert c["exits"][0]["current"] == {"before": 0, "after": 1, "delta": 1}
    assert c["in_journey"] == {"before": 3, "after": 5, "delta": 2}


def test_compare_cohorts(store: Store) -> None:
    # cohort 1: entered T0 … T0+1d = a, b; cohort 2: T0+10d … T0+30d = c, d, e
    c = compare_slices(store, "M", Slice(entered_from=T0, entered_to=T0 + DAY),
                       Slice(entered_from=T0 + 10 * DAY, entered_to=T0 + 30 * DAY))
    st = {r["stage"]: r for r in c["stages"]}
    assert st["A"]["reached"] == {"before": 2, "after": 3, "delta": 1}
    assert st["B"]["reached"] == {"before": 2, "after": 1, "delta": -1}  # a, b | e
    assert st["C"]["reached"] == {"before": 1, "after": 0, "delta": -1}  # a
    # cumulative to B: 2/2 = 1.0 → 1/3 = 0.3333
    assert st["B"]["cumulative_conversion"]["delta"] == -0.6667


def test_bad_slices(store: Store) -> None:
    with pytest.raises(UserError, match="give the entry cohort too"):
        slice_funnel(store, "M", Slice(within_days=5))
    with pytest.raises(UserError, match="at least 1 day"):
        slice_funnel(store, "M", Slice(entered_from=T0, within_days=0))
    with pytest.raises(UserError, match="swap them"):
        slice_funnel(store, "M", Slice(entered_from=T1, entered_to=T0))
    with pytest.raises(UserError, match="not a time"):
        parse_when("yesterday", "--as-of")
    with pytest.raises(UserError, match="FROM..TO"):
        parse_range("2026-01-01", "--compare-cohort")
    assert parse_range("2026-01-05..2026-01-05", "x") == (T0 - 8 * 3600, T0 + 16 * 3600 - 1)


def test_cli(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(store.path)
    store.close()
    # --as-of 2026-01-16 is the end of that day: T0+11d+16h, still before d's entry
    # (T0+12d); as T1: a in B, b and c in A
    assert main(["--db", db, "funnel", "M", "--as-of", "2026-01-16", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["evaluated_at"] == "2026-01-16T23:59:59Z"
    assert _fig(data, "current") == [2, 1, 0]
    assert main(["--db", db, "funnel", "M", "--compare", "2026-01-16"]) == 0
    out = capsys.readouterr().out
    assert "before: as of 2026-01-16 23:59" in out
    assert "3 → 5 (+2)" in out  # A reached
    assert main(["--db", db, "funnel", "M", "--entered-from", "2026-01-06",
                 "--entered-to", "2026-01-17", "--within", "10"]) == 0
    out = capsys.readouterr().out
    assert "entered 2026-01-06 00:00 – 2026-01-17 23:59, moves within 10 days" in out
    assert main(["--db", db, "funnel", "M", "--within", "3"]) == 2
    assert "give the entry cohort too" in capsys.readouterr().err
    assert main(["--db", db, "funnel", "M", "--as-of", "2026-01-16", "--stage", "A",
                 "--contacts"]) == 2


# -- the app: the Journeys pane's dialog (key a) ------------------------------------------
async def test_dialog_shows_the_as_of_funnel_and_a_comparison(
    tmp_path: Path, app_factory: Callable[..., object], settle: Callable[..., object],
) -> None:
    from journeytui.tui.screens.funnel_slice import SliceDialog, SliceScreen

    store = build(tmp_path)
    db = store.path
    store.close()
    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("4")
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, SliceDialog)  # type: ignore[attr-defined]
        await pilot.press(*"2026-01-16", "enter")
        await settle(pilot)  # type: ignore[operator]
        screen = app.screen  # type: ignore[attr-defined]
        assert isinstance(screen, SliceScreen) and screen.data is not None
        assert [s["reached"] for s in screen.data["stages"]] == [3, 1, 0]
        assert [s["current"] for s in screen.data["stages"]] == [2, 1, 0]
        # a: change it — the dialog comes back filled; compare with that date instead
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, SliceDialog)  # type: ignore[attr-defined]
        await pilot.press("ctrl+u")  # as of: empty (the evaluation)
        for _ in range(4):
            await pilot.press("down")
            await pilot.pause()
        await pilot.press(*"2026-01-16", "enter")
        await settle(pilot)  # type: ignore[operator]
        screen = app.screen  # type: ignore[attr-defined]
        assert isinstance(screen, SliceScreen) and screen.data is not None
        a = screen.data["stages"][0]["reached"]
        assert a == {"before": 3, "after": 5, "delta": 2}
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SliceScreen)  # type: ignore[attr-defined]


async def test_dialog_says_what_is_wrong(
    tmp_path: Path, app_factory: Callable[..., object], settle: Callable[..., object],
) -> None:
    from textual.widgets import Static

    from journeytui.tui.screens.funnel_slice import SliceDialog

    store = build(tmp_path)
    db = store.path
    store.close()
    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("4")
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("a")
        await pilot.pause()
        for _ in range(3):
            await pilot.press("down")
            await pilot.pause()
        await pilot.press("5", "enter")  # a window without a cohort
        await pilot.pause()
        dialog = app.screen  # type: ignore[attr-defined]
        assert isinstance(dialog, SliceDialog)
        error = str(dialog.query_one("#slice-error", Static).render())
        assert "give the entry cohort too" in error
