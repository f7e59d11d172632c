"""The consent rule (PRODUCT.md §2) and the statistics of §3, on a store whose answer is known."""

from __future__ import annotations

from journeytui.domain.activities import anonymous_line, count_email_activities, email_activities
from journeytui.domain.stats import email_stats, list_emails
from journeytui.store import Recorder, Store

T0 = 1_767_600_000  # as in conftest.py


def _columns(store: Store, table: str) -> set[str]:
    return {r[1] for r in store.conn.execute(f"PRAGMA table_info({table})")}


def test_anonymous_tables_have_no_way_back_to_a_contact(store: Store) -> None:
    for table in ("anonymous_events", "recipient_engagement", "link_recipients",
                  "email_stats", "link_stats"):
        cols = _columns(store, table)
        assert not any("contact" in c or c in ("email", "address") for c in cols), (table, cols)


def test_figures_of_the_small_store(small: Store) -> None:
    [s] = email_stats(small)
    assert (s.sent, s.bounced, s.delivered) == (3, 1, 2)
    assert (s.opened, s.opens_total, s.machine_opens) == (2, 3, 1)
    assert (s.clicked, s.clicks_total, s.anonymous_clicks) == (2, 4, 1)
    assert s.delivery_rate == 2 / 3
    assert s.open_rate == 1.0 and s.click_rate == 1.0 and s.click_to_open == 1.0
    assert s.unsubscribe_rate == 0.0
    links = {link.url: (link.clicked, link.clicks_total) for link in s.links}
    assert links == {
        "https://www.example.com/pricing": (2, 3),
        "https://www.example.com/products/tracker": (1, 1),
    }
    assert any("delivery rate 66.7 %" in w for w in s.warnings)


def test_stats_json_keys_and_null_rates(store: Store) -> None:
    with store.transaction():
        Recorder(store).ensure_email("Nobody yet", status="scheduled", send_at=T0)
    [s] = email_stats(store)
    data = s.to_json()
    for key in ("name", "subject", "status", "sent", "delivered", "bounced", "opened",
                "opens_total", "machine_opens", "clicked", "clicks_total", "unsubscribed",
                "spam_reports", "delivery_rate", "open_rate", "click_rate", "click_to_open",
                "unsubscribe_rate", "spam_rate", "anonymous_clicks", "links"):
        assert key in data
    assert data["delivery_rate"] is None and data["open_rate"] is None
    assert data["click_to_open"] is None


def test_drafts_are_listed_without_figures(small: Store) -> None:
    rows = {r.name: r for r in list_emails(small)}
    assert rows["Draft: later"].stats is None
    assert rows["Teaser"].stats is not None
    assert [s.name for s in email_stats(small)] == ["Teaser"]


def test_activity_list_holds_consented_contacts_only(small: Store) -> None:
    email_id = small.conn.execute("SELECT id FROM emails WHERE name='Teaser'").fetchone()[0]
    acts = email_activities(small, email_id, limit=None)
    assert {a.address for a in acts} == {"anna.smith@example.com"}
    assert sum(a.activity == "click" for a in acts) == 3
    assert count_email_activities(small, email_id, url_contains="PRICING") == 2
    [s] = email_stats(small)
    assert anonymous_line(s) == "4 clicks, 1 of them anonymous (no tracking consent)"
    # bob's open and click exist only as anonymous events
    kinds = sorted(r[0] for r in small.conn.execute("SELECT kind FROM anonymous_events"))
    assert kinds == ["click", "open", "open"]


def test_keyset_paging_walks_every_activity_once(small: Store) -> None:
    email_id = small.conn.execute("SELECT id FROM emails WHERE name='Teaser'").fetchone()[0]
    seen, after = [], None
    while True:
        page = email_activities(small, email_id, after=after, limit=2)
        if not page:
            break
        seen.extend(a.id for a in page)
        after = page[-1].key
    assert seen == [a.id for a in email_activities(small, email_id, limit=None)]
    assert len(seen) == len(set(seen)) == 5


def test_unique_counts_hold_across_a_consent_change(store: Store) -> None:
    with store.transaction():
        r = Recorder(store)
        e = r.ensure_email("E", send_at=T0)
        c = r.contact("x@example.com", at=T0)
        r.send(e, c, T0)
        r.click(e, c, "https://a.example/", T0 + 100)  # anonymous
        c = r.set_consent(c, True, T0 + 200)
        r.click(e, c, "https://a.example/", T0 + 300)  # recorded as activity
    [s] = email_stats(store)
    assert (s.clicked, s.clicks_total, s.anonymous_clicks) == (1, 2, 1)
    assert s.links[0].clicked == 1
    assert store.count("activities") == 1


def test_bot_clicks_are_counted_apart(store: Store) -> None:
    with store.transaction():
        r = Recorder(store)
        e = r.ensure_email("E", send_at=T0)
        c = r.contact("scanner@example.com", consent=True, at=T0)
        r.send(e, c, T0)
        bots = [r.click(e, c, f"https://a.example/{i}", T0 + 2 + i) for i in range(3)]
        human = r.click(e, c, "https://a.example/0", T0 + 3600)
    assert bots == [True, True, True] and human is False
    [s] = email_stats(store)
    assert (s.bot_clicks, s.clicks_total, s.clicked) == (3, 1, 1)


def test_unsubscribe_and_spam_act_without_consent_but_stay_out_of_history(store: Store) -> None:
    with store.transaction():
        r = Recorder(store)
        news = r.ensure_list("News")
        e = r.ensure_email("E", list_id=news, send_at=T0)
        c = r.contact("quiet@example.com", at=T0)
        r.subscribe(c, news, "subscribed", T0)
        r.send(e, c, T0)
        r.unsubscribe(c, T0 + 50, email_id=e, list_id=news)
        r.unsubscribe(c, T0 + 60, email_id=e)  # from all: same recipient, counted once
        r.spam_report(e, c, T0 + 70)
    [s] = email_stats(store)
    assert (s.unsubscribed, s.spam_reports) == (1, 1)
    assert store.conn.execute("SELECT unsubscribed_all FROM contacts").fetchone()[0] == 1
    assert store.conn.execute("SELECT status FROM subscriptions").fetchone()[0] == "unsubscribed"
    assert store.count("activities") == 0


def test_bounce_without_processed_counts_as_a_send(store: Store) -> None:
    with store.transaction():
        r = Recorder(store)
        e = r.ensure_email("E", send_at=T0)
        c = r.contact("gone@example.com", at=T0)
        assert r.bounce(e, c, T0, hard=False) is False
    [s] = email_stats(store)
    assert (s.sent, s.bounced_soft, s.delivered) == (1, 1, 0)


def test_spam_report_suppresses_the_contact(store: Store) -> None:
    from journeytui.domain.contacts import contact_card

    with store.transaction():
        r = Recorder(store)
        e = r.ensure_email("E", send_at=T0)
        c = r.contact("annoyed@example.com", at=T0)
        r.send(e, c, T0)
        r.spam_report(e, c, T0 + 70)
        r.spam_report(e, c, T0 + 90)
    card = contact_card(store, c.id)
    assert card.spam_reported_at == T0 + 70
    assert card.to_json()["spam_reported_at"] == "2026-01-05T08:01:10Z"
    assert email_stats(store)[0].spam_reports == 1
