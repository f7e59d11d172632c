"""Provider subscription changes: Postmark suppresses per message stream, so an
unsubscribe (SubscriptionChange ManualSuppression) is an unsubscribe from the stream's
list and a reactivation (SuppressSending false) a resubscribe to it — which ends
"unsubscribed" for journeys (PRODUCT.md §4).  SES subscription events do the same for
contact lists and topics.  Written by hand; expectations worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from journeytui.domain.engine import evaluate
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import save_journey
from journeytui.importers.contacts_csv import import_contacts
from journeytui.importers.providers import import_events

NOW = 1_767_600_000
T = 1_700_000_000  # 2023-11-14 22:13:20 UTC
ISO = {T: "2023-11-14T22:13:20Z", T + 60: "2023-11-14T22:14:20Z",
       T + 120: "2023-11-14T22:15:20Z"}
STREAM_LIST = "Postmark stream: broadcasts"


def _postmark(tmp: Path, *bodies: dict[str, Any]) -> Path:
    path = tmp / "postmark.json"
    path.write_text("".join(json.dumps(b) + "\n" for b in bodies))
    return path


def _open(at: int) -> dict[str, Any]:
    return {"RecordType": "Open", "MessageID": "m-1", "Recipient": "ann@example.com",
            "ReceivedAt": ISO[at], "Tag": "News", "MessageStream": "broadcasts"}


def _change(at: int, suppress: bool) -> dict[str, Any]:
    return {"RecordType": "SubscriptionChange", "MessageID": "m-1",
            "Recipient": "ann@example.com", "ChangedAt": ISO[at], "Origin": "Recipient",
            "SuppressSending": suppress,
            "SuppressionReason": "ManualSuppression" if suppress else None,
            "Tag": "News", "MessageStream": "broadcasts"}


def _subscription(kit: Any, address: str) -> list[tuple[str, str]]:
    return kit.all(
        "SELECT l.name, s.status FROM subscriptions s JOIN lists l ON l.id = s.list_id"
        " JOIN contacts c ON c.id = s.contact_id WHERE c.email = ?", address)


def _changes(kit: Any) -> list[tuple[str, str | None, int]]:
    return kit.all("SELECT s.kind, l.name, s.at FROM subscription_changes s"
                   " LEFT JOIN lists l ON l.id = s.list_id ORDER BY s.at, s.id")


def test_postmark_reactivation_resubscribes_to_the_stream(kit: Any, tmp_path: Path) -> None:
    path = _postmark(tmp_path, _open(T), _change(T + 60, True), _change(T + 120, False))
    report = import_events(kit.store, [path], now=NOW)
    assert (report.added["unsubscribes_list"], report.added["resubscribes"],
            report.added["unsubscribes_all"], report.added["new_lists"]) == (1, 1, 0, 1)
    assert _changes(kit) == [("unsubscribe", STREAM_LIST, T + 60),
                             ("resubscribe", STREAM_LIST, T + 120)]
    assert _subscription(kit, "ann@example.com") == [(STREAM_LIST, "subscribed")]
    # never unsubscribed from all; the email's Unsubscribed figure keeps the unsubscribe
    assert kit.one("SELECT unsubscribed_all FROM contacts") == 0
    assert kit.stats("News")["unsubscribed"] == 1
    # importing again changes nothing; the list is found again by its name
    again = import_events(kit.store, [path], now=NOW)
    assert (again.added["resubscribes"], again.added["new_lists"]) == (0, 0)
    assert kit.one("SELECT count(*) FROM lists") == 1


def test_postmark_unsubscribe_without_reactivation_stays(kit: Any, tmp_path: Path) -> None:
    import_events(kit.store, [_postmark(tmp_path, _change(T + 60, True))], now=NOW)
    assert _subscription(kit, "ann@example.com") == [(STREAM_LIST, "unsubscribed")]


def test_a_journey_sees_the_reactivation_end_unsubscribed(kit: Any, tmp_path: Path) -> None:
    contacts = tmp_path / "c.csv"
    contacts.write_text("email,tracking_consent\nann@example.com,yes\n")
    import_contacts(kit.store, contacts, now=T - 60)
    path = _postmark(tmp_path, _open(T), _change(T + 60, True), _change(T + 120, False))
    import_events(kit.store, [path], now=NOW)  # the stream's list exists from here on
    with kit.store.transaction():
        save_journey(kit.store, parse_journey({
            "name": "News",
            "stages": [{"name": "Reader"}, {"name": "Gone", "exit": True}],
            "transitions": [
                {"from": None, "to": "Gone", "priority": 1,
                 "when": {"unsubscribed": {"list": STREAM_LIST}}},
                {"from": "Gone", "to": "Reader",
                 "when": {"not": {"unsubscribed": {"list": STREAM_LIST}}}},
            ],
            "entry": {"opened": {}},
        }))
    evaluate(kit.store, "News", now=NOW)
    # ann enters at her open, leaves at the unsubscribe, is back at the reactivation
    assert kit.all("SELECT from_stage, to_stage, at FROM journey_moves ORDER BY at, id") == [
        (None, "Reader", T), ("Reader", "Gone", T + 60), ("Gone", "Reader", T + 120)]


def _ses_subscription(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "Notification", "MessageId": f"sns-{len(json.dumps(new))}",
            "Timestamp": ISO[T + 60],
            "Message": json.dumps({
                "eventType": "Subscription",
                "mail": {"messageId": "ses-1", "timestamp": ISO[T],
                         "destination": ["ann@example.com"],
                         "commonHeaders": {"subject": "Weekly"}},
                "subscription": {"contactList": "Customers", "timestamp": ISO[T + 60],
                                 "source": "UnsubscribeHeader",
                                 "oldTopicPreferences": old, "newTopicPreferences": new}})}


def test_ses_topic_opt_out_and_back_in(kit: Any, tmp_path: Path) -> None:
    def prefs(status: str, unsubscribe_all: bool = False) -> dict[str, Any]:
        return {"unsubscribeAll": unsubscribe_all,
                "topicSubscriptionStatus": [{"topicName": "Deals", "subscriptionStatus": status}]}

    path = tmp_path / "ses.json"
    path.write_text(json.dumps(_ses_subscription(prefs("OptIn"), prefs("OptOut"))) + "\n")
    import_events(kit.store, [path], now=NOW)
    assert _subscription(kit, "ann@example.com") == [("SES topic: Deals", "unsubscribed")]
    back = tmp_path / "ses-back.json"
    back.write_text(json.dumps(_ses_subscription(prefs("OptOut"), prefs("OptIn"))) + "\n")
    import_events(kit.store, [back], now=NOW)
    assert _subscription(kit, "ann@example.com") == [("SES topic: Deals", "subscribed")]
    # unsubscribing from the whole contact list is the contact list's own list
    every = tmp_path / "ses-all.json"
    every.write_text(json.dumps(_ses_subscription(prefs("OptIn"), prefs("OptIn", True))) + "\n")
    import_events(kit.store, [every], now=NOW)
    assert sorted(_subscription(kit, "ann@example.com")) == [
        ("SES contact list: Customers", "unsubscribed"), ("SES topic: Deals", "subscribed")]
