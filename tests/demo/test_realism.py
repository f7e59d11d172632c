"""The default demo store looks like a marketer's year (PRODUCT.md, "Demo data")."""

from __future__ import annotations

import sqlite3

from journeytui.demo import (
    CREATED_AT,
    DATA_END,
    DEFAULT_CONTACTS,
    EPOCH,
    LISTS,
)
from journeytui.store.recorder import BOT_AFTER_DELIVERY_S, BOT_BURST_S


def one(conn: sqlite3.Connection, sql: str, *args: object) -> int:
    return int(conn.execute(sql, args).fetchone()[0] or 0)


def test_catalog(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    assert [r[0] for r in c.execute("SELECT name FROM lists ORDER BY id")] == list(LISTS)
    by_status = dict(c.execute("SELECT status, count(*) FROM emails GROUP BY status").fetchall())
    assert 20 <= sum(by_status.values()) <= 40
    assert by_status["draft"] >= 2 and by_status["scheduled"] >= 2 and by_status["sent"] >= 15
    names = {r[0] for r in c.execute("SELECT name FROM emails")}
    assert {
        "Spring product teaser", "Webinar invitation: Journeys 101",
        "Whitepaper: Email benchmarks 2026", "Pricing update", "Newsletter — January 2026",
        "Draft: Summer sale",
    } <= names
    urls = {r[0] for r in c.execute("SELECT url FROM links")}
    for needle in ("/pricing", "/webinar/signup", "/products/", "/whitepaper/"):
        assert any(needle in u for u in urls), needle
    assert one(c, "SELECT count(*) FROM contacts") == DEFAULT_CONTACTS


def test_drafts_and_scheduled_have_no_sends_or_statistics(
    default_conn: sqlite3.Connection,
) -> None:
    c = default_conn
    for status in ("draft", "scheduled"):
        ids = [r[0] for r in c.execute("SELECT id FROM emails WHERE status = ?", (status,))]
        assert ids
        for table in ("sends", "activities", "anonymous_events", "recipient_engagement"):
            marks = ",".join("?" * len(ids))
            assert one(c, f"SELECT count(*) FROM {table} WHERE email_id IN ({marks})", *ids) == 0
    assert one(
        c, "SELECT count(*) FROM email_stats s JOIN emails e ON e.id = s.email_id"
        " WHERE e.status = 'draft'"
    ) == 0
    assert one(c, "SELECT count(*) FROM emails WHERE status = 'draft' AND send_at IS NOT NULL") == 0
    # scheduled emails lie in the future of the data
    assert one(c, "SELECT min(send_at) FROM emails WHERE status = 'scheduled'") > DATA_END
    assert one(c, "SELECT max(send_at) FROM emails WHERE status = 'sent'") < DATA_END


def test_fixed_clock(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    assert c.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()[0] == str(
        CREATED_AT
    )
    for table in ("sends", "activities", "anonymous_events"):
        lo, hi = c.execute(f"SELECT min(at), max(at) FROM {table}").fetchone()
        assert EPOCH <= lo and hi < DATA_END, table
    assert one(c, "SELECT max(created_at) FROM contacts") < DATA_END


def test_about_seventy_percent_consent(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    share = one(c, "SELECT sum(consent) FROM contacts") / DEFAULT_CONTACTS
    assert 0.65 <= share <= 0.78
    # consent has its time; without consent there is none
    assert one(c, "SELECT count(*) FROM contacts WHERE consent = 1 AND consent_at IS NULL") == 0
    assert one(c, "SELECT count(*) FROM contacts WHERE consent = 0 AND consent_at IS NOT NULL") == 0


def test_every_activity_belongs_to_a_consented_contact(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    assert one(c, "SELECT count(*) FROM activities") > 1000
    assert one(
        c, "SELECT count(*) FROM activities a JOIN contacts k ON k.id = a.contact_id"
        " WHERE k.consent = 0 OR a.at < k.consent_at"
    ) == 0
    assert one(c, "SELECT sum(anonymous_clicks) FROM email_stats") > 0
    assert one(c, "SELECT count(*) FROM anonymous_events WHERE kind = 'click'") > 0


def test_people_look_human(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    rows = c.execute("SELECT email, first_name, last_name FROM contacts").fetchall()
    assert len({r[0] for r in rows}) == len(rows)
    assert any(not (r[1] + r[2]).isascii() for r in rows)  # Zoë, Søren, Nguyễn …
    assert len({r[1] for r in rows}) > 50 and len({r[2] for r in rows}) > 50
    for address, _, _ in rows:
        local, domain = address.split("@")
        assert local and address == address.lower() and address.isascii()
        assert domain.endswith((".example", "example.com", "example.org", "example.net",
                                "example.edu")), address


def test_subscriptions_in_every_state(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    states = dict(c.execute("SELECT status, count(*) FROM subscriptions GROUP BY status").fetchall())
    assert states.get("pending", 0) > 0 and states.get("unsubscribed", 0) > 0
    assert states["subscribed"] > states["pending"]
    assert one(c, "SELECT count(*) FROM activities WHERE kind = 'confirm'") > 0
    # nobody was sent an email of a list they were only pending on
    assert one(
        c, "SELECT count(*) FROM sends s JOIN emails e ON e.id = s.email_id"
        " JOIN subscriptions u ON u.contact_id = s.contact_id AND u.list_id = e.list_id"
        " WHERE u.status = 'pending'"
    ) == 0


def test_deliverability_story(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    rates = {
        name: (sent - bounced) / sent
        for name, sent, bounced in c.execute(
            "SELECT e.name, s.sent, s.bounced_hard + s.bounced_soft"
            " FROM email_stats s JOIN emails e ON e.id = s.email_id WHERE s.sent > 0"
        )
    }
    bad = [n for n, r in rates.items() if r < 0.95]
    assert bad == ["Renewal reminder"], rates
    assert one(c, "SELECT count(*) FROM sends WHERE status = 'bounced_hard'") > 0
    assert one(c, "SELECT count(*) FROM sends WHERE status = 'bounced_soft'") > 0
    # after a hard bounce the address is never sent to again
    assert one(
        c, "SELECT count(*) FROM sends b JOIN sends s ON s.contact_id = b.contact_id"
        " AND s.at > b.at WHERE b.status = 'bounced_hard'"
    ) == 0


def test_spam_and_unsubscribes(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    spam = dict(c.execute(
        "SELECT e.name, s.spam_reports FROM email_stats s JOIN emails e ON e.id = s.email_id"
    ).fetchall())
    assert [n for n, k in spam.items() if k > 3] == ["Flash sale: 48 hours only"], spam
    assert one(c, "SELECT count(*) FROM contacts WHERE unsubscribed_all = 1") > 0
    assert one(c, "SELECT count(*) FROM activities WHERE kind = 'unsubscribe' AND value = 'all'") > 0
    assert one(
        c, "SELECT count(*) FROM activities WHERE kind = 'unsubscribe' AND list_id IS NOT NULL"
    ) > 0
    flash = one(c, "SELECT s.unsubscribed * 1000 / (s.sent - s.bounced_hard - s.bounced_soft)"
                   " FROM email_stats s JOIN emails e ON e.id = s.email_id"
                   " WHERE e.name = 'Flash sale: 48 hours only'")
    assert flash >= 10  # ≥ 1 %: far above the newsletter's usual
    # nobody is sent anything after unsubscribing from all
    assert one(
        c, "SELECT count(*) FROM sends s JOIN contacts k ON k.id = s.contact_id"
        " WHERE k.unsubscribed_all = 1 AND s.at > k.unsubscribed_all_at"
    ) == 0


def test_machine_opens_and_bot_clicks(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    machine, opened = c.execute("SELECT sum(machine_opens), sum(opened) FROM email_stats").fetchone()
    assert 0 < machine and 0 < opened
    # machine opens arrive within a minute of delivery
    assert one(
        c, "SELECT max(a.at - s.at) FROM activities a JOIN sends s ON s.email_id = a.email_id"
        " AND s.contact_id = a.contact_id WHERE a.kind = 'open' AND a.machine = 1"
    ) <= 60
    bots = one(c, "SELECT sum(bot_clicks) FROM email_stats")
    assert 0 < bots < one(c, "SELECT sum(clicks_total) FROM email_stats") / 5
    # every bot click of a consented contact fits one of the recorder's two rules
    rows = c.execute(
        "SELECT a.at, s.at, (SELECT max(p.at) FROM activities p WHERE p.contact_id ="
        " a.contact_id AND p.email_id = a.email_id AND p.kind = 'click' AND p.id < a.id)"
        " FROM activities a JOIN sends s ON s.email_id = a.email_id"
        " AND s.contact_id = a.contact_id WHERE a.kind = 'click' AND a.bot = 1"
    ).fetchall()
    assert rows
    for at, sent_at, previous in rows:
        assert at - sent_at < BOT_AFTER_DELIVERY_S or (
            previous is not None and at - previous < BOT_BURST_S
        )
    # and no human click does
    for at, sent_at, previous in c.execute(
        "SELECT a.at, s.at, (SELECT max(p.at) FROM activities p WHERE p.contact_id ="
        " a.contact_id AND p.email_id = a.email_id AND p.kind = 'click' AND p.id < a.id)"
        " FROM activities a JOIN sends s ON s.email_id = a.email_id"
        " AND s.contact_id = a.contact_id WHERE a.kind = 'click' AND a.bot = 0"
    ):
        assert at - sent_at >= BOT_AFTER_DELIVERY_S
        assert previous is None or at - previous >= BOT_BURST_S


def test_website_activity(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    forms = dict(c.execute(
        "SELECT value, count(*) FROM activities WHERE kind = 'form' GROUP BY value"
    ).fetchall())
    assert set(forms) == {"Webinar registration", "Contact sales", "Whitepaper download"}
    assert all(n > 5 for n in forms.values()), forms
    pages = {r[0] for r in c.execute("SELECT DISTINCT value FROM activities WHERE kind = 'visit'")}
    assert pages == {
        "https://www.example.com/pricing", "https://www.example.com/demo",
        "https://www.example.com/products/tracker",
    }


def test_teaser_clickers_later_click_pricing_or_webinar(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    teaser_id, teaser_at = c.execute(
        "SELECT id, send_at FROM emails WHERE name = 'Spring product teaser'"
    ).fetchone()
    teased = {r[0] for r in c.execute(
        "SELECT DISTINCT contact_id FROM activities WHERE kind = 'click' AND bot = 0"
        " AND email_id = ? AND value LIKE '%/products/%'", (teaser_id,)
    )}
    others = {r[0] for r in c.execute(
        "SELECT DISTINCT contact_id FROM activities WHERE kind = 'click' AND bot = 0 AND at < ?",
        (teaser_at,),
    )} - teased
    later = {r[0] for r in c.execute(
        "SELECT DISTINCT contact_id FROM activities WHERE kind = 'click' AND bot = 0 AND at > ?"
        " AND (value LIKE '%/pricing' OR value LIKE '%/webinar/signup%'"
        " OR value LIKE '%/contact-sales')", (teaser_at,)
    )}
    assert len(teased) >= 20 and len(others) >= 20
    assert len(teased & later) / len(teased) > 1.3 * len(others & later) / len(others)


def test_some_contacts_go_quiet(default_conn: sqlite3.Connection) -> None:
    """Clicked in spring, then no click in the last 3 campaigns they were sent."""
    c = default_conn
    quiet = 0
    spring_clickers = [r[0] for r in c.execute(
        "SELECT DISTINCT contact_id FROM activities WHERE kind = 'click' AND bot = 0"
        " AND at < strftime('%s', '2026-06-01')"
    )]
    for contact in spring_clickers:
        last3 = c.execute(
            "SELECT email_id FROM sends WHERE contact_id = ? ORDER BY at DESC LIMIT 3", (contact,)
        ).fetchall()
        if len(last3) == 3 and one(
            c, "SELECT count(*) FROM activities WHERE contact_id = ? AND kind = 'click'"
            f" AND bot = 0 AND email_id IN ({','.join(str(r[0]) for r in last3)})", contact
        ) == 0:
            quiet += 1
    assert quiet >= 0.1 * len(spring_clickers) and quiet >= 20, (quiet, len(spring_clickers))


def test_statistics_match_the_send_log(default_conn: sqlite3.Connection) -> None:
    c = default_conn
    for email_id, sent, hard, soft, dropped in c.execute(
        "SELECT email_id, sent, bounced_hard, bounced_soft, dropped FROM email_stats"
    ).fetchall():
        counts = dict(c.execute(
            "SELECT status, count(*) FROM sends WHERE email_id = ? GROUP BY status", (email_id,)
        ).fetchall())
        # a dropped message is not a send: Sent counts delivered and bounced ones
        assert sent == sum(counts.values()) - counts.get("dropped", 0)
        assert (hard, soft, dropped) == (
            counts.get("bounced_hard", 0), counts.get("bounced_soft", 0), counts.get("dropped", 0)
        )
