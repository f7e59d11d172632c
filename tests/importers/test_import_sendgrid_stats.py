"""SendGrid events mapped to statistics, contacts and activities (hand-computed numbers)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from journeytui.importers.sendgrid import DUPLICATE, import_sendgrid
from journeytui.store import Recorder, Store

PRICING = "https://www.example.com/pricing"
PRODUCT = "https://www.example.com/products/tracker"
PAPER = "https://www.example.com/whitepaper.pdf"


def _people(store: Store, t0: int) -> None:
    """ann has tracking consent, bob has not; cara, dan and eve are not known yet."""
    with store.transaction():
        r = Recorder(store)
        r.contact("ann@example.com", first_name="Ann", consent=True, at=t0 - 1000)
        r.contact("bob@example.com", first_name="Bob", consent=False, at=t0 - 1000)


def _scenario(kit: Any) -> list[dict[str, Any]]:
    t = kit.T0
    e = kit.ev
    return [
        e("processed", "ann@example.com", t),
        e("processed", "bob@example.com", t),
        e("processed", "cara@example.com", t),
        e("processed", "dan@example.com", t),
        e("dropped", "eve@example.com", t, reason="Bounced Address", status="5.0.0"),
        e("delivered", "ann@example.com", t + 2, response="250 OK"),
        e("deferred", "dan@example.com", t + 3, response="400 try again later", attempt="1"),
        e("bounce", "cara@example.com", t + 5, type="bounce", reason="550 unknown user",
          bounce_classification="Invalid Address"),
        e("bounce", "dan@example.com", t + 6, type="blocked", reason="421 blocked",
          bounce_classification="Reputation"),
        e("open", "ann@example.com", t + 30, sg_machine_open=True),
        e("open", "ann@example.com", t + 600, sg_machine_open=False),
        e("open", "ann@example.com", t + 900, sg_machine_open=False),
        e("open", "bob@example.com", t + 700, sg_machine_open=False),
        e("click", "bob@example.com", t + 3, url=PAPER),  # 3 s after the send: a bot
        e("click", "ann@example.com", t + 620, url=PRICING),
        e("click", "ann@example.com", t + 920, url=PRICING),
        e("click", "ann@example.com", t + 1000, url=PRODUCT),
        e("click", "bob@example.com", t + 720, url=PRICING),
        e("unsubscribe", "bob@example.com", t + 2000),
        e("group_unsubscribe", "ann@example.com", t + 2100, asm_group_id=42),
        e("spamreport", "bob@example.com", t + 2200),
    ]


EXPECTED = {
    "sent": 4,  # ann, bob, cara, dan: eve's message was dropped, never sent
    "bounced_hard": 1,  # cara
    "bounced_soft": 1,  # dan (blocked)
    "dropped": 1,  # eve
    "opened": 2,  # ann, bob (ann's machine open left out)
    "opens_total": 3,
    "machine_opens": 1,
    "clicked": 2,  # ann, bob (bob's bot click left out)
    "clicks_total": 4,
    "bot_clicks": 1,
    "unsubscribed": 2,  # bob (all), ann (group 42)
    "spam_reports": 1,
    "anonymous_opens": 1,  # bob's open
    "anonymous_clicks": 1,  # bob's pricing click
}
EXPECTED_LINKS = {PRICING: (2, 3, 0), PRODUCT: (1, 1, 0), PAPER: (0, 0, 1)}


@pytest.mark.parametrize("form", ["ndjson", "array", "array-one-line"])
@pytest.mark.parametrize("order", ["time", "reversed", "shuffled"])
def test_each_event_type_lands_in_the_right_statistic(kit: Any, form: str, order: str) -> None:
    _people(kit.store, kit.T0)
    events = _scenario(kit)
    if order == "reversed":
        events.reverse()  # bounces before their sends: sorting by time must fix it
    elif order == "shuffled":
        random.Random(7).shuffle(events)
    if form == "ndjson":
        path = kit.ndjson(events)
    else:
        path = kit.array(events, indent=None if form == "array-one-line" else 2)

    report = import_sendgrid(kit.store, [path])

    assert kit.stats() == EXPECTED
    assert kit.links() == EXPECTED_LINKS
    assert report.records == len(events)
    assert report.ignored == {}
    assert report.skipped == {}
    added = {k: v for k, v in report.added.items() if v}
    assert added == {
        "sent": 4, "processed": 4, "delivered": 1, "deferred": 1,
        "dropped": 1, "bounced_hard": 1, "bounced_soft": 1, "opens": 3,
        "machine_opens": 1, "clicks": 4, "bot_clicks": 1, "anonymous": 3,
        "unsubscribes_all": 1, "unsubscribes_list": 1, "spam_reports": 1,
        "new_contacts": 3, "new_emails": 1, "new_lists": 1,
    }
    # the send log: every recipient once, with its outcome
    sends = dict(kit.all(
        "SELECT c.email, s.status FROM sends s JOIN contacts c ON c.id = s.contact_id"
    ))
    assert sends == {
        "ann@example.com": "delivered", "bob@example.com": "delivered",
        "cara@example.com": "bounced_hard", "dan@example.com": "bounced_soft",
        "eve@example.com": "dropped",
    }
    # why: the provider's words, kept on the send
    why = {r[0]: r[1:] for r in kit.all(
        "SELECT c.email, s.reason, s.bounce_class, s.smtp_status, s.delivered_at, s.proofs"
        " FROM sends s JOIN contacts c ON c.id = s.contact_id"
    )}
    t = kit.T0
    assert why == {
        "ann@example.com": (None, None, None, t + 2, 1 | 2),
        "bob@example.com": (None, None, None, None, 1),
        "cara@example.com": ("550 unknown user", "Invalid Address", None, None, 1 | 8),
        "dan@example.com": ("421 blocked", "Reputation", None, None, 1 | 4 | 8),
        "eve@example.com": ("Bounced Address", None, "5.0.0", None, 16),
    }


def test_new_addresses_become_contacts_without_consent(kit: Any) -> None:
    _people(kit.store, kit.T0)
    import_sendgrid(kit.store, [kit.ndjson(_scenario(kit))])
    rows = kit.all("SELECT email, consent, consent_at FROM contacts ORDER BY email")
    assert rows == [
        ("ann@example.com", 1, kit.T0 - 1000),
        ("bob@example.com", 0, None),
        ("cara@example.com", 0, None),
        ("dan@example.com", 0, None),
        ("eve@example.com", 0, None),
    ]


def test_only_consented_contacts_get_activities(kit: Any) -> None:
    _people(kit.store, kit.T0)
    import_sendgrid(kit.store, [kit.ndjson(_scenario(kit))])
    acts = kit.all(
        "SELECT c.email, a.kind, a.value, a.machine FROM activities a"
        " JOIN contacts c ON c.id = a.contact_id ORDER BY a.at"
    )
    assert acts == [
        ("ann@example.com", "open", None, 1),
        ("ann@example.com", "open", None, 0),
        ("ann@example.com", "click", PRICING, 0),
        ("ann@example.com", "open", None, 0),
        ("ann@example.com", "click", PRICING, 0),
        ("ann@example.com", "click", PRODUCT, 0),
        ("ann@example.com", "unsubscribe", None, 0),
    ]
    # bob (no consent): his unsubscribe and spam report still act on him ...
    assert kit.one("SELECT unsubscribed_all FROM contacts WHERE email = 'bob@example.com'") == 1
    # ... and ann's group unsubscribe acts on the list of group 42
    assert kit.all(
        "SELECT l.name, l.asm_group_id, s.status FROM subscriptions s"
        " JOIN lists l ON l.id = s.list_id JOIN contacts c ON c.id = s.contact_id"
        " WHERE c.email = 'ann@example.com'"
    ) == [("Unsubscribe group 42", 42, "unsubscribed")]
    # bob's open and two clicks (one a bot) are anonymous events
    assert sorted(kit.all("SELECT kind, bot FROM anonymous_events")) == [
        ("click", 0), ("click", 1), ("open", 0)
    ]


def test_click_without_consent_is_counted_but_not_linked_to_the_contact(kit: Any) -> None:
    t = kit.T0
    events = [
        kit.ev("processed", "zoe@example.com", t),
        kit.ev("click", "zoe@example.com", t + 300, url=PRICING),
    ]
    import_sendgrid(kit.store, [kit.ndjson(events)])
    s = kit.stats()
    assert (s["clicks_total"], s["clicked"], s["anonymous_clicks"]) == (1, 1, 1)
    assert kit.links() == {PRICING: (1, 1, 0)}
    assert kit.one("SELECT count(*) FROM activities") == 0
    zoe_id = kit.one("SELECT id FROM contacts WHERE email = 'zoe@example.com'")
    rows = kit.store.conn.execute("SELECT * FROM anonymous_events").fetchall()
    assert len(rows) == 1
    columns = [d[0] for d in kit.store.conn.execute(
        "SELECT * FROM anonymous_events LIMIT 0").description]
    assert not any("contact" in c for c in columns)
    token = rows[0][columns.index("token")]
    assert "zoe" not in token and token != str(zoe_id)


def test_consent_counts_at_the_time_of_import(kit: Any) -> None:
    """The same contact: anonymous before consent, an activity after it is granted."""
    t = kit.T0
    import_sendgrid(kit.store, [kit.ndjson([
        kit.ev("processed", "ann@example.com", t),
        kit.ev("click", "ann@example.com", t + 300, url=PRICING),
    ], "a.ndjson")])
    with kit.store.transaction():
        r = Recorder(kit.store)
        ann = r.contact("ann@example.com", create=False)
        r.set_consent(ann, True, t + 400)
    import_sendgrid(kit.store, [kit.ndjson([
        kit.ev("click", "ann@example.com", t + 500, url=PRICING),
    ], "b.ndjson")])
    s = kit.stats()
    assert (s["clicks_total"], s["clicked"], s["anonymous_clicks"]) == (2, 1, 1)
    assert kit.one("SELECT count(*) FROM activities WHERE kind = 'click'") == 1
    assert kit.one("SELECT count(*) FROM anonymous_events WHERE kind = 'click'") == 1


def test_machine_opens_are_counted_apart(kit: Any) -> None:
    t = kit.T0
    events = [kit.ev("processed", f"u{i}@example.com", t) for i in range(3)]
    events += [kit.ev("open", f"u{i}@example.com", t + 20, sg_machine_open=True) for i in range(3)]
    events += [kit.ev("open", "u0@example.com", t + 500)]  # no sg_machine_open: a human open
    events += [kit.ev("open", "u1@example.com", t + 600, sg_machine_open="true")]  # not True
    import_sendgrid(kit.store, [kit.ndjson(events)])
    s = kit.stats()
    assert (s["machine_opens"], s["opened"], s["opens_total"]) == (3, 2, 2)


def test_bounce_without_processed_counts_as_a_send(kit: Any) -> None:
    import_sendgrid(kit.store, [kit.ndjson([
        kit.ev("bounce", "x@example.com", kit.T0, type="bounce"),
        kit.ev("bounce", "y@example.com", kit.T0),  # no type: hard
    ])])
    s = kit.stats()
    assert (s["sent"], s["bounced_hard"], s["bounced_soft"]) == (2, 2, 0)


def test_group_unsubscribe_acts_on_the_list_of_its_group(kit: Any) -> None:
    t = kit.T0
    with kit.store.transaction():
        r = Recorder(kit.store)
        news = r.ensure_list("Newsletter", asm_group_id=7)
        other = r.ensure_list("Webinars", asm_group_id=8)
        ann = r.contact("ann@example.com", consent=True, at=t - 10)
        r.subscribe(ann, news, "subscribed", t - 10)
        r.subscribe(ann, other, "subscribed", t - 10)
    report = import_sendgrid(kit.store, [kit.ndjson([
        kit.ev("processed", "ann@example.com", t, asm_group_id=7),
        kit.ev("group_unsubscribe", "ann@example.com", t + 100, asm_group_id=7),
    ])])
    subs = dict(kit.all(
        "SELECT l.name, s.status FROM subscriptions s JOIN lists l ON l.id = s.list_id"
    ))
    assert subs == {"Newsletter": "unsubscribed", "Webinars": "subscribed"}
    assert kit.one("SELECT unsubscribed_all FROM contacts") == 0
    assert kit.stats()["unsubscribed"] == 1
    assert report.added["new_lists"] == 0
    # the new email belongs to the list of its unsubscribe group
    assert kit.one("SELECT l.name FROM emails e JOIN lists l ON l.id = e.list_id") == "Newsletter"
    # a resubscribe puts the contact back on that list
    import_sendgrid(kit.store, [kit.ndjson([
        kit.ev("group_resubscribe", "ann@example.com", t + 200, asm_group_id="7"),
    ], "again.ndjson")])
    assert kit.one(
        "SELECT status FROM subscriptions s JOIN lists l ON l.id = s.list_id"
        " WHERE l.name = 'Newsletter'"
    ) == "subscribed"


def test_unsubscribe_and_spam_report_act_even_without_an_email(kit: Any) -> None:
    report = import_sendgrid(kit.store, [kit.ndjson([
        kit.ev("unsubscribe", "ann@example.com", kit.T0, campaign=None),
        kit.ev("spamreport", "ann@example.com", kit.T0 + 5, campaign=None),
        kit.ev("open", "ann@example.com", kit.T0 + 9, campaign=None),
    ])])
    assert kit.one(
        "SELECT unsubscribed_all, unsubscribed_all_at, spam_reported_at FROM contacts"
    ) == (1, kit.T0, kit.T0 + 5)
    assert kit.all("SELECT kind, email_id, at FROM subscription_changes ORDER BY at") == [
        ("unsubscribe", None, kit.T0), ("spam", None, kit.T0 + 5)
    ]
    assert kit.one("SELECT count(*) FROM emails") == 0
    assert report.added["unsubscribes_all"] == 1
    assert report.added["spam_reports"] == 1
    assert report.added["no_email"] == 2
    # an open must belong to an email: it waits for an import that names its message
    assert report.skipped == {}
    assert report.added["parked"] == 1


def test_importing_the_same_file_twice_changes_nothing(kit: Any) -> None:
    _people(kit.store, kit.T0)
    path = kit.array(_scenario(kit))
    import_sendgrid(kit.store, [path])
    before = kit.dump()
    report = import_sendgrid(kit.store, [path])
    assert kit.dump() == before
    assert kit.stats() == EXPECTED
    assert not any(report.added.values())
    assert report.skipped[DUPLICATE].count == len(_scenario(kit))


def test_duplicates_inside_one_file_and_across_files(kit: Any) -> None:
    t = kit.T0
    sent = kit.ev("processed", "ann@example.com", t)
    click = kit.ev("click", "ann@example.com", t + 300, url=PRICING)
    a = kit.ndjson([sent, click, click], "a.ndjson")
    b = kit.array([click, kit.ev("click", "ann@example.com", t + 400, url=PRICING)], "b.json")
    report = import_sendgrid(kit.store, [a, b])
    assert kit.stats()["clicks_total"] == 2
    assert kit.links() == {PRICING: (1, 2, 0)}
    dup = report.skipped[DUPLICATE]
    assert dup.count == 2
    assert sorted(dup.locations) == [f"{a}:3", f"{b}:2 [index 0]"]


def test_events_without_sg_event_id_are_deduplicated_by_content(kit: Any) -> None:
    t = kit.T0
    events = [kit.ev("processed", "ann@example.com", t), kit.ev("open", "ann@example.com", t + 60)]
    for e in events:
        del e["sg_event_id"]
    path = kit.ndjson(events)
    import_sendgrid(kit.store, [path])
    before = kit.dump()
    import_sendgrid(kit.store, [path])
    assert kit.dump() == before
    assert (kit.stats()["sent"], kit.stats()["opens_total"]) == (1, 1)
