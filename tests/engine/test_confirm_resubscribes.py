"""A confirmation (double opt-in) that puts an unsubscribed contact back on a list is a
resubscribe (PRODUCT.md §1, §4: conditions read the subscription state at each moment,
and a resubscribe ends "unsubscribed"): it writes a ``resubscribe`` row in
subscription_changes, as a provider's group resubscribe does.  A confirmation of a
pending subscription changes no state the journeys read: no row.

Journey "U": any stage → Gone (exit) when unsubscribed from Newsletter; Gone → A when
not; A → B on a click.  T0 = 2026-01-05 08:00 UTC.
"""

from __future__ import annotations

from conftest import moves_of, run
from jbuilder import DAY, T0, Builder
from test_definitions import BLOG, N1, UNSUB_JOURNEY  # the journey "U" described above

from journeytui.store import Store

CHANGES = ("SELECT kind, list_id, email_id, at FROM subscription_changes WHERE contact_id = ?"
           " ORDER BY at, id")
STATE = "SELECT status, changed_at FROM subscriptions WHERE contact_id = ? AND list_id = ?"


def test_a_confirmation_after_an_unsubscribe_is_a_resubscribe(store: Store, b: Builder
                                                              ) -> None:
    news = b.lists["Newsletter"]
    ann = b.contact("ann")
    # ann: opens (→ A), unsubscribes from Newsletter (→ Gone), confirms a new sign-up
    # to it (back on the list: → A at the confirmation), clicks (→ B)
    b("open", "ann", T0, N1)
    b("unsub", "ann", T0 + 100, "Newsletter")
    b("confirm", "ann", T0 + 200, "Newsletter")
    b("click", "ann", T0 + 300, N1, BLOG)
    assert store.conn.execute(CHANGES, (ann.id,)).fetchall() == [
        ("unsubscribe", news, None, T0 + 100), ("resubscribe", news, None, T0 + 200)]
    assert store.conn.execute(STATE, (ann.id, news)).fetchone() == ("subscribed", T0 + 200)
    # the confirmation is still a contact activity (consent), as before
    assert store.conn.execute("SELECT at FROM activities WHERE contact_id = ? AND"
                              " kind = 'confirm'", (ann.id,)).fetchall() == [(T0 + 200,)]
    r = run(store, UNSUB_JOURNEY, now=T0 + DAY)
    assert moves_of(r, ann.id) == [(None, "A", T0, False), ("A", "Gone", T0 + 100, False),
                                   ("Gone", "A", T0 + 200, False), ("A", "B", T0 + 300, False)]


def test_without_consent_the_resubscribe_is_recorded_without_an_activity(
        store: Store, b: Builder) -> None:
    news = b.lists["Newsletter"]
    cat = b.contact("cat", consent=False)
    b("unsub", "cat", T0 + 100, "Newsletter")
    b("confirm", "cat", T0 + 200, "Newsletter")
    # subscription changes act on the contact with or without consent (PRODUCT.md §2)
    assert store.conn.execute(CHANGES, (cat.id,)).fetchall() == [
        ("unsubscribe", news, None, T0 + 100), ("resubscribe", news, None, T0 + 200)]
    assert store.conn.execute("SELECT count(*) FROM activities WHERE contact_id = ?",
                              (cat.id,)).fetchone() == (0,)


def test_confirming_a_pending_or_current_subscription_changes_nothing(
        store: Store, b: Builder) -> None:
    news = b.lists["Newsletter"]
    bob, dan = b.contact("bob"), b.contact("dan")
    with store.transaction():
        b.r.subscribe(bob, news, "pending", T0)
        b.r.subscribe(dan, news, "subscribed", T0)
    b("confirm", "bob", T0 + 200, "Newsletter")  # double opt-in: pending → subscribed
    b("confirm", "dan", T0 + 200, "Newsletter")  # already on the list
    for who in (bob, dan):
        assert store.conn.execute(CHANGES, (who.id,)).fetchall() == []
        assert store.conn.execute(STATE, (who.id, news)).fetchone() == ("subscribed", T0 + 200)


def test_unsubscribed_from_all_is_not_ended_by_confirming_one_list(
        store: Store, b: Builder) -> None:
    news = b.lists["Newsletter"]
    eve = b.contact("eve")
    with store.transaction():
        b.r.subscribe(eve, news, "subscribed", T0)
    b("open", "eve", T0 + 50, N1)  # → A
    b("unsub_all", "eve", T0 + 100)  # → Gone: all lists, so Newsletter too
    b("confirm", "eve", T0 + 200, "Newsletter")  # its list row was never unsubscribed
    assert store.conn.execute(CHANGES, (eve.id,)).fetchall() == [
        ("unsubscribe", None, None, T0 + 100)]
    r = run(store, UNSUB_JOURNEY, now=T0 + DAY)
    assert moves_of(r, eve.id) == [(None, "A", T0 + 50, False), ("A", "Gone", T0 + 100, False)]


def test_a_confirmation_older_than_the_unsubscribe_on_record_leaves_it(
        store: Store, b: Builder) -> None:
    # imported out of order: the unsubscribe at T0+300 first, then a confirmation made at
    # T0+200 — before it; the contact is unsubscribed now, nothing is resubscribed
    news = b.lists["Newsletter"]
    fay = b.contact("fay")
    b("unsub", "fay", T0 + 300, "Newsletter")
    b("confirm", "fay", T0 + 200, "Newsletter")
    assert store.conn.execute(CHANGES, (fay.id,)).fetchall() == [
        ("unsubscribe", news, None, T0 + 300)]
    assert store.conn.execute(STATE, (fay.id, news)).fetchone() == ("unsubscribed", T0 + 300)
