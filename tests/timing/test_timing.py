"""Email timing and list series on small hand-built stores; figures worked out by hand.

Catalog send times (jbuilder): Spring product teaser T0; the Newsletter list's emails
Whitepaper T0+2d, January T0+4d, February T0+5d, March T0+6d, April T0+7d.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from jbuilder import DAY, T0, Builder, new_store

from journeytui.cli import main
from journeytui.domain.timing import DAYS, series, timing
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.tui.widgets.timing_chart import axis, column

TEASER = "Spring product teaser"
TRACKER = "https://www.example.com/products/tracker"
MIN = 60


@pytest.fixture
def store(tmp_path: Path) -> Store:
    b = Builder(new_store(tmp_path)).catalog()
    for n in "abd":
        b.contact(n)
    b.contact("c", consent=False)
    for n in "abcd":
        b("send", n, T0, TEASER)
    # a: opens at +10 min (hour 0) and +90 min (hour 1), clicks at +2 h (hour 2), opens
    #    again at +25 h (day 1, past the hours);
    b("open", "a", T0 + 10 * MIN, TEASER)
    b("open", "a", T0 + 90 * MIN, TEASER)
    b("click", "a", T0 + 120 * MIN, TEASER, TRACKER)
    b("open", "a", T0 + 25 * 3600, TEASER)
    # b: a machine open at +5 min (left out), an open 30 days later (day 14 and later);
    b("open", "b", T0 + 5 * MIN, TEASER, machine=True)
    b("open", "b", T0 + 30 * DAY, TEASER)
    # c, without consent: an open and a click, anonymous (never in the timing);
    b("open", "c", T0 + 20 * MIN, TEASER)
    b("click", "c", T0 + 30 * MIN, TEASER, TRACKER)
    # d: an open stamped an hour before the send time.
    b("open", "d", T0 - 3600, TEASER)
    # Series: March sent to a, b, c, d: opened by a and b (2/4), clicked by a (1/4);
    # April sent to a, b, c, d: opened by a (1/4), no click, b unsubscribes through it.
    mar, apr = "Newsletter — March 2026", "Newsletter — April 2026"
    for n in "abcd":
        b("send", n, T0 + 6 * DAY, mar)
        b("send", n, T0 + 7 * DAY, apr)
    b("open", "a", T0 + 6 * DAY + 60, mar)
    b("open", "b", T0 + 6 * DAY + 60, mar)
    b("click", "a", T0 + 6 * DAY + 120, mar, "https://www.example.com/blog/three")
    b("open", "a", T0 + 7 * DAY + 60, apr)
    b("unsub_all", "b", T0 + 7 * DAY + 120, apr)
    return b.store


def test_timing(store: Store) -> None:
    t = timing(store, TEASER)
    assert t.send_at == T0
    assert t.hour_opens[:3] == [1, 1, 0] and sum(t.hour_opens) == 2  # a at 0 h and 1 h
    assert t.hour_clicks[:3] == [0, 0, 1] and sum(t.hour_clicks) == 1  # a at 2 h
    assert t.day_opens[0] == 2 and t.day_opens[1] == 1 and t.day_opens[DAYS] == 1
    assert sum(t.day_opens) == 4 and t.opens == 4  # a ×3, b ×1 (not b's machine open)
    assert t.day_clicks[0] == 1 and t.clicks == 1
    assert t.before_send == 1  # d
    assert (t.openers, t.clickers) == (2, 1)
    # first opens: a after 600 s, b after 30 d = 2,592,000 s: median 1,296,300 s = 360.1 h
    assert t.median_hours_to_first_open == 360.1
    assert t.median_hours_to_first_click == 2.0
    assert (t.anonymous_opens, t.anonymous_clicks) == (1, 1)  # c
    j = t.to_json()
    assert j["by_day"][DAYS] == {"day": f"{DAYS}+", "opens": 1, "clicks": 0}
    assert j["send_at"] == "2026-01-05T08:00:00Z"


def test_timing_errors(store: Store) -> None:
    with pytest.raises(UserError, match="draft"):
        timing(store, "Draft: Summer sale")
    with pytest.raises(UserError, match="no email named"):
        timing(store, "Nope")


def test_series(store: Store) -> None:
    items = series(store, "Newsletter", last=2)
    assert [i.stats.name for i in items] == ["Newsletter — March 2026",
                                             "Newsletter — April 2026"]
    mar, apr = items
    assert (mar.stats.open_rate, mar.stats.click_rate) == (0.5, 0.25)
    # February (before March) has no deliveries: no change to give
    assert mar.delta["open_rate"] is None
    assert (apr.stats.open_rate, apr.stats.click_rate, apr.stats.unsubscribe_rate) == (
        0.25, 0.0, 0.25)
    # April − March: opens 0.25 − 0.5, clicks 0 − 0.25, click-to-open 0/1 − 1/2,
    # unsubscribes 0.25 − 0
    assert apr.delta == {"open_rate": -0.25, "click_rate": -0.25, "click_to_open": -0.5,
                         "unsubscribe_rate": 0.25, "spam_rate": 0.0}
    assert len(series(store, "Newsletter", last=10)) == 5  # every email of the list
    with pytest.raises(UserError, match="no list named 'Newsleter'; lists: 'Customers'"):
        series(store, "Newsleter")
    with pytest.raises(UserError, match="at least 1"):
        series(store, "Newsletter", last=0)


def test_cli(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(store.path)
    store.close()
    assert main(["--db", db, "timing", TEASER]) == 0
    out = capsys.readouterr().out
    assert "4 opens, 1 clicks; the statistics hold 1 opens and 1 clicks more, anonymous" in out
    assert "1 stamped before the send time" in out
    assert main(["--db", db, "series", "Newsletter", "--last", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["emails"][1]["delta"]["open_rate"] == -0.25
    assert main(["--db", db, "series", "Newsletter", "--last", "2"]) == 0
    assert "25.0 % (−25.0 pts)" in capsys.readouterr().out  # a difference of rates: pts


# -- the app ------------------------------------------------------------------------------
def test_bars() -> None:
    # 4 of 8 on a bar 1 cell high: half a cell, 4 eighths
    assert column(4, 8, 1) == ["▄"]
    # 8 of 8 on 2 cells: both full; 3 of 8 on 2 cells: 6 eighths, the lower cell
    assert column(8, 8, 2) == ["█", "█"] and column(3, 8, 2) == [" ", "▆"]
    # a little is never nothing: 1 of 1,000 on 1 cell rounds to 0 eighths, drawn as 1
    assert column(1, 1000, 1) == ["▁"] and column(0, 1000, 1) == [" "]
    assert axis(["0h", "", "", "3h"], 3).plain == "0h       3h"


async def test_chart_from_the_emails_pane(
    store: Store, app_factory: Callable[..., object], settle: Callable[..., object],
) -> None:
    from journeytui.tui.panes.emails import EmailsPane
    from journeytui.tui.widgets.timing_chart import TimingChart, TimingScreen

    db = store.path
    store.close()
    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[operator]
        pane = app.query_one(EmailsPane)  # type: ignore[attr-defined]
        for _ in range(40):  # the emails are listed newest first: the teaser is last
            if pane.selected is not None and pane.selected.name == TEASER:
                break
            await pilot.press("down")
        assert pane.selected is not None and pane.selected.name == TEASER
        await pilot.press("w")
        await settle(pilot)  # type: ignore[operator]
        screen = app.screen  # type: ignore[attr-defined]
        assert isinstance(screen, TimingScreen)
        t = screen.query_one(TimingChart).timing
        assert t is not None and (t.opens, t.clicks, t.before_send) == (4, 1, 1)
        text = screen.query_one(TimingChart).render().plain
        assert "█ 4 opens  █ 1 clicks · consented only; +1/+1 anonymous" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TimingScreen)  # type: ignore[attr-defined]
