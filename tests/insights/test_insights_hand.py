"""Insights on a small hand-built store: every figure worked out by hand below.

Journey "T": A → B (goal) when a pricing link is clicked; from any main-line stage to
the exit X when "Newsletter — March 2026" is opened; X → A when "Newsletter — April
2026" is clicked.  Email send times (catalog): Spring teaser T0, Pricing update T0+3d,
Newsletter Jan T0+4d, Feb T0+5d, Mar T0+6d, Apr T0+7d.  Evaluated at T0+100d, D = 30.

* p1, p2, p3, q1, q2 enter A at T0−2d (they open Newsletter Jan: a send is inferred).
  The teaser is sent (delivered) to p1, p2, p3, not to q1, q2.
  p1 clicks pricing at T0+10d (→ B), p2 at T0+40d (→ B, too late), q1 at T0+5d (→ B);
  p3, q2 never.
  Stall (teaser, A): sent 3 {p1,p2,p3}, not moved on by T0+30d: p2, p3 → 2 (66.67 %);
  baseline {q1,q2}: 2, not moved on: q2 → 1 (50 %); difference +16.67 points: flagged.
* Clicks on contact-sales in Pricing update while in A: p1 at T0+8d (moves on at
  T0+10d: within 30 days), p3 and q2 at T0+12d (never): clickers 3, not moved 2.
* r1, r2, r3 open Newsletter Mar at T0+1d: enter A and go to X at once.  Newsletter Apr
  is sent to them at T0+7d (in X).  r1 clicks it at T0+9d, r2 at T0+20d (both → A);
  r3 never.  Dormant (Apr, X): recipients 3, re-engaged 2, back 2.
* Newsletter Jan and Feb are sent to p1, p2, p3, q1, q2 (delivered 5 each; opens do
  not add to Delivered); p3 and q2 unsubscribe through Feb at T0+6d: 2/5 = 40 %.  The
  list's other emails with deliveries: Jan 0/5, Apr 0/3: median 0 → flagged (≥ 1 %,
  > 3 × 0).  Jan: 0 against the median of {40 %, 0} = 20 %; Apr likewise: not flagged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jbuilder import DAY, T0, Builder, new_store

from journeytui.domain import insights as ins
from journeytui.domain.insights import limits
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import save_journey
from journeytui.errors import UserError
from journeytui.store import Store

PRICING = "https://www.example.com/pricing"
SALES = "https://www.example.com/contact-sales"
NOW = T0 + 100 * DAY

JOURNEY = {
    "name": "T",
    "stages": [{"name": "A"}, {"name": "B"}, {"name": "X", "exit": True}],
    "transitions": [
        {"from": None, "to": "X", "priority": 1,
         "when": {"opened": {"email": "Newsletter — March 2026"}}},
        {"from": "A", "to": "B", "when": {"clicked": {"url": "example.com/pricing"}}},
        {"from": "X", "to": "A", "when": {"clicked": {"email": "Newsletter — April 2026"}}},
    ],
}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(limits, "MIN_COUNT", 2)  # (read there by every insights module)
    monkeypatch.setattr(limits, "MIN_EVENTS", 2)
    ins._MEMBERS.clear()
    s = new_store(tmp_path)
    b = Builder(s).catalog()
    for n in ("p1", "p2", "p3", "q1", "q2", "r1", "r2", "r3"):
        b.contact(n)
    for n in ("p1", "p2", "p3", "q1", "q2"):
        b("open", n, T0 - 2 * DAY, "Newsletter — January 2026")
    for n in ("p1", "p2", "p3"):
        b("send", n, T0, "Spring product teaser")
    b("click", "q1", T0 + 5 * DAY, "Pricing update", PRICING)
    b("click", "p1", T0 + 8 * DAY, "Pricing update", SALES)
    b("click", "p1", T0 + 10 * DAY, "Pricing update", PRICING)
    b("click", "p3", T0 + 12 * DAY, "Pricing update", SALES)
    b("click", "q2", T0 + 12 * DAY, "Pricing update", SALES)
    b("click", "p2", T0 + 40 * DAY, "Pricing update", PRICING)
    for n in ("r1", "r2", "r3"):
        b("open", n, T0 + DAY, "Newsletter — March 2026")
        b("send", n, T0 + 7 * DAY, "Newsletter — April 2026")
    b("click", "r1", T0 + 9 * DAY, "Newsletter — April 2026", "https://www.example.com/blog/four")
    b("click", "r2", T0 + 20 * DAY, "Newsletter — April 2026", "https://www.example.com/blog/four")
    for n in ("p1", "p2", "p3", "q1", "q2"):
        b("send", n, T0 + 4 * DAY, "Newsletter — January 2026")
        b("send", n, T0 + 5 * DAY, "Newsletter — February 2026")
    for n in ("p3", "q2"):
        b("unsub_all", n, T0 + 6 * DAY, "Newsletter — February 2026")
    save_journey(s, parse_journey(JOURNEY), at=NOW, now=NOW)
    b.ids = {n: c.id for n, c in b.contacts.items()}  # type: ignore[attr-defined]
    s._builder = b  # type: ignore[attr-defined]
    return s


def _email_id(store: Store, name: str) -> int:
    return int(store.conn.execute("SELECT id FROM emails WHERE name = ?", (name,)).fetchone()[0])


def _ids(store: Store, *names: str) -> set[int]:
    b = store._builder  # type: ignore[attr-defined]
    return {b.contacts[n].id for n in names}


def test_stall_after_a_message(store: Store) -> None:
    r = ins.insights(store, "T")
    teaser = _email_id(store, "Spring product teaser")
    f = r.find(f"stall-E{teaser}-S0")
    assert isinstance(f, ins.StallFinding)
    assert (f.sent, f.stalled, f.baseline, f.baseline_stalled) == (3, 2, 2, 1)
    assert f.share == 0.6667 and f.baseline_share == 0.5
    assert f.difference == 0.1667 and f.flagged
    assert "67 % of the 3 contacts in A" in f.reading and "+17 points" in f.reading
    # ranked by the difference: the teaser comes first
    assert r.stall[0].id == f.id
    who = ins.finding_contacts(store, "T", f.id)
    assert {c.contact_id for c in who} == _ids(store, "p2", "p3")
    assert all(c.at == T0 - 2 * DAY for c in who)  # in A since then


def test_clicks_without_progress(store: Store) -> None:
    r = ins.insights(store, "T")
    e = _email_id(store, "Pricing update")
    sales = [f for f in r.clicks if f.url == SALES]
    assert len(sales) == 1
    f = sales[0]
    assert f.id.startswith(f"click-E{e}-L") and f.stage == "A"
    assert (f.clickers, f.not_moved) == (3, 2) and f.flagged
    assert {c.contact_id for c in ins.finding_contacts(store, "T", f.id)} == \
        _ids(store, "p3", "q2")
    # pricing clicks all moved the clicker (q1, p1 within 30 days; p2's click at
    # T0+40d moved p2 at once): 3 clickers, none without progress
    pricing = next(f for f in r.clicks if f.url == PRICING)
    assert (pricing.clickers, pricing.not_moved) == (3, 0) and not pricing.flagged


def test_dormant_reengaging(store: Store) -> None:
    r = ins.insights(store, "T")
    apr = _email_id(store, "Newsletter — April 2026")
    f = r.find(f"dormant-E{apr}-S2")
    assert isinstance(f, ins.DormantFinding)
    assert (f.recipients, f.reengaged, f.back) == (3, 2, 2)
    assert [d.id for d in r.dormant] == [f.id]
    rows = ins.finding_contacts(store, "T", f.id)
    assert [(c.contact_id, c.at) for c in rows] == [
        (min(_ids(store, "r1")), T0 + 9 * DAY), (min(_ids(store, "r2")), T0 + 20 * DAY)]


def test_unsubscribe_spike(store: Store) -> None:
    r = ins.insights(store, "T")
    feb = _email_id(store, "Newsletter — February 2026")
    f = r.find(f"unsub-E{feb}")
    assert isinstance(f, ins.UnsubFinding)
    assert (f.delivered, f.unsubscribed, f.rate, f.list_median, f.others) == (5, 2, 0.4, 0, 2)
    assert f.flagged and r.unsubscribes[0].id == f.id and f.times_median is None
    assert [(u.email, u.flagged, u.list_median) for u in r.unsubscribes[1:]] == [
        ("Newsletter — January 2026", False, 0.2), ("Newsletter — April 2026", False, 0.2)]
    assert {c.contact_id for c in ins.finding_contacts(store, "T", f.id)} == \
        _ids(store, "p3", "q2")


def test_keyset_paging(store: Store) -> None:
    r = ins.insights(store, "T")
    f = next(f for f in r.clicks if f.url == SALES)
    first = ins.finding_contacts(store, "T", f.id, limit=1)
    assert len(first) == 1
    rest = ins.finding_contacts(store, "T", f.id, after=(first[0].at, first[0].contact_id))
    assert len(rest) == 1 and rest[0].contact_id != first[0].contact_id
    assert ins.count_finding_contacts(store, "T", f.id) == 2


def test_minimum_count_hides_small_findings(store: Store,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MIN_COUNT", 20)
    r = ins.insights(store, "T")
    assert r.all() == []
    assert r.left_out["stall"] > 0 and r.left_out["clicks"] > 0
    assert r.left_out["unsubscribes"] > 0 and r.left_out["dormant"] > 0


def test_days_changes_the_judgement(store: Store) -> None:
    # D = 60: p2's pricing click at T0+40d is within 60 days of the teaser → only p3
    # stalled of the three; baseline q2 of {q1, q2}: 1.
    r = ins.insights(store, "T", days=60)
    teaser = _email_id(store, "Spring product teaser")
    f = r.find(f"stall-E{teaser}-S0")
    assert isinstance(f, ins.StallFinding)
    assert (f.sent, f.stalled, f.baseline, f.baseline_stalled) == (3, 1, 2, 1)


def test_json_and_errors(store: Store) -> None:
    data = ins.insights(store, "T").to_json()
    assert data["evaluated_at"] == "2026-04-15T08:00:00Z"
    assert set(data) >= {"stall", "clicks", "unsubscribes", "dormant", "left_out"}
    assert data["stall"][0]["sent_at"] == "2026-01-05T08:00:00Z"
    with pytest.raises(UserError, match="not a finding id"):
        ins.finding_contacts(store, "T", "nonsense")
    with pytest.raises(UserError, match="--days 0"):
        ins.insights(store, "T", days=0)
    with pytest.raises(UserError, match="no journey named"):
        ins.insights(store, "Nope")
