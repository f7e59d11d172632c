"""Every leaf and group on hand-built stores whose right answer is known."""

from __future__ import annotations

from conftest import moves_of, run, stage, two_stage
from jbuilder import DAY, T0, Builder

from journeytui.store import Store

SPRING = "Spring product teaser"
WEBINAR = "Webinar invitation: Journeys 101"
PRICING = "Pricing update"
N1, N2, N3, N4 = (f"Newsletter — {m} 2026" for m in ("January", "February", "March", "April"))
URL_PRICING = "https://www.example.com/pricing"
URL_TRACKER = "https://www.example.com/products/tracker"


def test_clicked_url_contains_ignores_case_scheme_and_slash(store: Store, b: Builder) -> None:
    ann, bob, cara = (b.contact(n) for n in ("ann", "bob", "cara"))
    for who in ("ann", "bob", "cara"):
        b("send", who, T0, SPRING)
        b("send", who, T0, PRICING)
    b("click", "ann", T0 + 600, SPRING, URL_PRICING)
    b("click", "bob", T0 + 600, SPRING, URL_TRACKER)
    b("click", "cara", T0 + 600, PRICING, URL_PRICING)  # pricing, but another email
    r = run(store, two_stage({"clicked": {"email": SPRING, "url": "HTTP://WWW.Example.com/PRICING/"}}))
    assert (stage(r, ann.id), stage(r, bob.id), stage(r, cara.id)) == ("B", "A", "A")
    # The move is at the click, and names the email.
    m = next(m for m in r.moves if m[0] == ann.id and m[2] == 1)
    assert m[4] == T0 + 600 and m[7] == b.emails[SPRING] and m[5] is not None


def test_clicked_exact_versus_contains(store: Store, b: Builder) -> None:
    ann = b.contact("ann")
    b("send", "ann", T0, SPRING)
    b("click", "ann", T0 + 600, SPRING, URL_TRACKER)
    contains = run(store, two_stage({"clicked": {"url": "example.com/products"}}))
    exact = run(store, two_stage({"clicked": {"url": "example.com/products", "match": "exact"}}))
    exact_ok = run(store, two_stage({"clicked": {"url": "https://www.example.com/products/tracker/",
                                                 "match": "exact"}}))
    assert stage(contains, ann.id) == "B"
    assert stage(exact, ann.id) == "A"
    assert stage(exact_ok, ann.id) == "B"


def test_clicked_any_email_and_bot_clicks_ignored(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    for who in ("ann", "bob"):
        b("send", who, T0, N1)
    b("open", "bob", T0 + 100, N1)
    b("click", "bob", T0 + 3, N1, "https://www.example.com/blog/one")  # 3 s after delivery: bot
    b("click", "ann", T0 + 600, N1, "https://www.example.com/blog/one")
    r = run(store, two_stage({"clicked": {}}, entry={"opened": {}}))
    assert stage(r, bob.id) == "A"
    assert stage(r, ann.id) is None  # never opened: never entered
    r = run(store, two_stage({"clicked": {}}))
    assert stage(r, ann.id) == "B" and stage(r, bob.id) == "A"


def test_opened_specific_email_machine_opens_ignored(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    for who in ("ann", "bob"):
        b("send", who, T0, N1)
        b("send", who, T0, N2)
    b("open", "ann", T0 + 100, N1)
    b("open", "ann", T0 + 200, N2)
    b("open", "bob", T0 + 100, N1)
    b("open", "bob", T0 + 200, N2, machine=True)
    r = run(store, two_stage({"opened": {"email": N2}}))
    assert stage(r, ann.id) == "B" and stage(r, bob.id) == "A"


def test_unsubscribed_from_all_versus_from_a_list(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    for who in ("ann", "bob"):
        b("open", who, T0, N1)
    b("unsub_all", "ann", T0 + 100)
    b("unsub", "bob", T0 + 100, "Newsletter")
    r_all = run(store, two_stage({"unsubscribed": {}}))
    r_list = run(store, two_stage({"unsubscribed": {"list": "Newsletter"}}))
    r_other = run(store, two_stage({"unsubscribed": {"list": "Webinars"}}))
    assert (stage(r_all, ann.id), stage(r_all, bob.id)) == ("B", "A")
    assert (stage(r_list, ann.id), stage(r_list, bob.id)) == ("B", "B")  # all beats every list
    assert (stage(r_other, ann.id), stage(r_other, bob.id)) == ("B", "A")


def test_spam_confirm_form_visit(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    for who in ("ann", "bob"):
        b("open", who, T0, N1)
    b("spam", "ann", T0 + 10, N1)
    b("confirm", "ann", T0 + 20, "Webinars")
    b("form", "ann", T0 + 30, "Webinar registration")
    b("visit", "ann", T0 + 40, "https://www.example.com/demo?utm=x")
    b("form", "bob", T0 + 30, "Contact sales")
    b("visit", "bob", T0 + 40, "https://www.example.com/pricing")
    cases = {
        "reported_spam": ({"reported_spam": {"email": N1}}, "B", "A"),
        "confirmed": ({"confirmed": {"list": "Webinars"}}, "B", "A"),
        "confirmed other": ({"confirmed": {"list": "Newsletter"}}, "A", "A"),
        "form": ({"submitted_form": {"form": "Webinar registration"}}, "B", "A"),
        "any form": ({"submitted_form": {}}, "B", "B"),
        "visit": ({"visited": {"url": "example.com/demo"}}, "B", "A"),
        "visit exact": ({"visited": {"url": "example.com/demo", "match": "exact"}}, "A", "A"),
    }
    for label, (when, want_ann, want_bob) in cases.items():
        r = run(store, two_stage(when))
        assert (stage(r, ann.id), stage(r, bob.id)) == (want_ann, want_bob), label


def test_within_days_window(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    for who in ("ann", "bob"):
        b("send", who, T0, N1)
        b("click", who, T0 + 600, N1, "https://www.example.com/blog/one")
    b("form", "ann", T0 + 6 * DAY, "Contact sales")  # within 7 days of the click
    b("form", "bob", T0 + 8 * DAY, "Contact sales")  # too late
    r = run(store, two_stage({"all": [{"clicked": {"within_days": 7}},
                                      {"submitted_form": {"form": "Contact sales"}}]}))
    assert stage(r, ann.id) == "B" and stage(r, bob.id) == "A"
    assert moves_of(r, ann.id)[-1] == ("A", "B", T0 + 6 * DAY, False)


def test_clicks_at_least_k_within_d(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    b("send", "ann", T0, N1)
    b("send", "bob", T0, N1)
    url = "https://www.example.com/blog/one"
    for k, at in enumerate((T0 + 600, T0 + DAY, T0 + 2 * DAY)):
        b("click", "ann", at + k, N1, url)
    for k, at in enumerate((T0 + 600, T0 + 3 * DAY, T0 + 9 * DAY)):
        b("click", "bob", at + k, N1, url)
    r = run(store, two_stage({"clicks_at_least": {"count": 3, "within_days": 7}}))
    assert stage(r, ann.id) == "B" and stage(r, bob.id) == "A"
    assert moves_of(r, ann.id)[-1][2] == T0 + 2 * DAY + 2  # at the third click
    r = run(store, two_stage({"clicks_at_least": {"count": 3, "within_days": 10}}))
    assert stage(r, bob.id) == "B"


def test_no_click_in_last_n_campaigns(store: Store, b: Builder) -> None:
    """Judged at each send over the N campaigns before it, and at evaluation time."""
    ann, bob, cara = (b.contact(n) for n in ("ann", "bob", "cara"))
    for who in ("ann", "bob", "cara"):
        b("send", who, T0, N1)
        b("open", who, T0 + 100, N1)  # entry
    b("click", "cara", T0 + 200, N1, "https://www.example.com/blog/one")
    for k, name in enumerate((N2, N3, N4), start=1):
        for who in ("ann", "bob", "cara"):
            b("send", who, T0 + k * 30 * DAY, name)
    b("click", "bob", T0 + 30 * DAY + 100, N2, "https://www.example.com/blog/two")
    now = T0 + 100 * DAY
    r = run(store, two_stage({"no_click_in_last": {"campaigns": 3}}), now=now)
    # ann: N1, N2, N3 unclicked when N4 is sent: moves at that send, attributed to N4.
    assert stage(r, ann.id) == "B"
    m = next(m for m in r.moves if m[0] == ann.id and m[2] == 1)
    assert (m[4], m[6] is not None, m[7], m[8]) == (T0 + 90 * DAY, True, b.emails[N4], 0)
    # bob clicked N2, still among the last 3 at evaluation time.
    assert stage(r, bob.id) == "A"
    # cara clicked N1: fine at the N4 send, but at evaluation time N2..N4 are unclicked.
    assert moves_of(r, cara.id)[-1] == ("A", "B", now, True)
    # Only ann received 4 campaigns without a click (judged at evaluation time); 5: nobody.
    r4 = run(store, two_stage({"no_click_in_last": {"campaigns": 4}}), now=now)
    assert [stage(r4, c.id) for c in (ann, bob, cara)] == ["B", "A", "A"]
    assert moves_of(r4, ann.id)[-1] == ("A", "B", now, True)
    r5 = run(store, two_stage({"no_click_in_last": {"campaigns": 5}}), now=now)
    assert [stage(r5, c.id) for c in (ann, bob, cara)] == ["A", "A", "A"]


def test_not_any_all_groups(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    b("open", "ann", T0, N1)
    b("open", "bob", T0, N2)  # bob's first event already is an open of N2
    b("open", "bob", T0 + 10, N1)
    r = run(store, two_stage({"not": {"opened": {"email": N2}}}))
    assert stage(r, ann.id) == "B" and stage(r, bob.id) == "A"
    r = run(store, two_stage({"all": [{"opened": {"email": N1}}, {"opened": {"email": N2}}]}))
    assert stage(r, ann.id) == "A" and stage(r, bob.id) == "B"
    r = run(store, two_stage({"any": [{"opened": {"email": N3}}, {"opened": {"email": N2}}]}))
    assert stage(r, ann.id) == "A" and stage(r, bob.id) == "B"
    r = run(store, two_stage({"all": [{"opened": {}}, {"not": {"any": [
        {"opened": {"email": N2}}, {"opened": {"email": N3}}]}}]}))
    assert stage(r, ann.id) == "B" and stage(r, bob.id) == "A"


def test_entry_needs_an_activity_and_the_entry_condition(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    b("send", "ann", T0, WEBINAR)
    b("send", "bob", T0, WEBINAR)
    b("open", "bob", T0 + 100, N1)
    b("open", "bob", T0 + 200, WEBINAR)
    j = two_stage({"clicked": {}}, entry={"opened": {"email": WEBINAR}})
    r = run(store, j)
    assert stage(r, ann.id) is None  # a send alone never enters anyone
    assert moves_of(r, bob.id) == [(None, "A", T0 + 200, False)]


def test_priority_then_definition_order(store: Store, b: Builder) -> None:
    ann = b.contact("ann")
    b("open", "ann", T0, N1)
    b("form", "ann", T0 + 10, "Contact sales")

    def journey(p_b: int, p_c: int) -> dict:
        return {
            "name": "P", "stages": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
            "transitions": [
                {"from": "A", "to": "B", "priority": p_b, "when": {"submitted_form": {}}},
                {"from": "A", "to": "C", "priority": p_c, "when": {"submitted_form": {}}},
            ],
        }

    assert stage(run(store, journey(5, 1)), ann.id) == "C"
    assert stage(run(store, journey(1, 5)), ann.id) == "B"
    assert stage(run(store, journey(3, 3)), ann.id) == "B"  # tie: definition order


def test_exit_from_any_main_stage_but_not_from_exits(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    b("open", "ann", T0, N1)
    b("open", "bob", T0, N1)
    b("form", "bob", T0 + 10, "Contact sales")
    b("unsub_all", "ann", T0 + 20)
    b("unsub_all", "bob", T0 + 20)
    j = {
        "name": "X",
        "stages": [{"name": "A"}, {"name": "B"}, {"name": "Gone", "exit": True},
                   {"name": "Lost", "exit": True}],
        "transitions": [
            {"from": "A", "to": "B", "when": {"submitted_form": {}}},
            {"from": None, "to": "Gone", "priority": 1, "when": {"unsubscribed": {}}},
            {"from": None, "to": "Lost", "priority": 2, "when": {"unsubscribed": {}}},
        ],
    }
    r = run(store, j)
    assert moves_of(r, ann.id)[1:] == [("A", "Gone", T0 + 20, False)]
    assert moves_of(r, bob.id)[1:] == [("A", "B", T0 + 10, False), ("B", "Gone", T0 + 20, False)]


def test_one_event_can_carry_several_steps(store: Store, b: Builder) -> None:
    ann = b.contact("ann")
    b("send", "ann", T0, SPRING)
    b("click", "ann", T0 + 600, SPRING, URL_PRICING)
    j = {
        "name": "C", "stages": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
        "transitions": [
            {"from": "A", "to": "B", "when": {"clicked": {}}},
            {"from": "B", "to": "C", "when": {"clicked": {"url": "pricing"}}},
            {"from": "C", "to": "A", "when": {"clicked": {}}},  # would loop: not at this event
        ],
    }
    r = run(store, j, now=T0 + DAY)
    assert moves_of(r, ann.id) == [
        (None, "A", T0 + 600, False), ("A", "B", T0 + 600, False), ("B", "C", T0 + 600, False),
        # the check at evaluation time is a new check point; it too never comes back
        # to a stage it already left at that check
        ("C", "A", T0 + DAY, True), ("A", "B", T0 + DAY, True),
    ]


def test_since_stage_needs_a_new_event(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    for who in ("ann", "bob"):
        b("send", who, T0, SPRING)
        b("visit", who, T0 + 100, URL_TRACKER)
        b("form", who, T0 + 200, "Webinar registration")
    b("visit", "bob", T0 + 300, URL_TRACKER)
    j = {
        "name": "S", "stages": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
        "entry": {"visited": {"url": "tracker"}},
        "transitions": [
            {"from": "A", "to": "B", "when": {"submitted_form": {}}},
            {"from": "B", "to": "C", "when": {"visited": {"url": "tracker", "since_stage": True}}},
        ],
    }
    r = run(store, j)
    assert stage(r, ann.id) == "B"  # her visit came before she entered B
    assert stage(r, bob.id) == "C"
    ever = dict(j, transitions=[j["transitions"][0], {"from": "B", "to": "C",
                                                      "when": {"visited": {"url": "tracker"}}}])
    assert stage(run(store, ever), ann.id) == "C"


def test_same_data_same_result(store: Store, b: Builder) -> None:
    from journeytui.demo.journeys import demo_journeys

    for who in ("ann", "bob", "cara"):
        b.contact(who)
        b("send", who, T0, SPRING)
        b("open", who, T0 + 100, SPRING)
    b("click", "bob", T0 + 700, SPRING, URL_PRICING)
    j = demo_journeys()[0]
    first = run(store, j, now=T0 + 10 * DAY)
    second = run(store, j, now=T0 + 10 * DAY)
    assert first.moves == second.moves and first.positions == second.positions
    assert first.moves  # not vacuous


def test_replay_sees_new_events_from_this_or_another_connection(store: Store, b: Builder) -> None:
    from journeytui.store import Recorder
    from journeytui.store import Store as S

    ann = b.contact("ann")
    b("open", "ann", T0, N1)
    j = two_stage({"submitted_form": {}})
    assert stage(run(store, j), ann.id) == "A"
    b("form", "ann", T0 + 10, "Contact sales")  # same connection
    assert stage(run(store, j), ann.id) == "B"
    other = S.open(store.path)
    try:
        with other.transaction():
            r = Recorder(other)
            bob = r.contact("bob@example.com", consent=True, at=T0)
            r.open(b.emails[N1], bob, T0 + 20)
    finally:
        other.close()
    assert stage(run(store, j), bob.id) == "A"
