"""SendGrid files: array or NDJSON, malformed files refused whole, bad events skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from journeytui.errors import UserError
from journeytui.importers.sendgrid import import_sendgrid, read_events
from journeytui.store import Recorder

GOOD = (
    '{"email": "ann@example.com", "timestamp": 1767600000, "event": "processed", '
    '"category": "cat facts", "sg_event_id": "g1"}'
)


def test_detects_array_and_ndjson_with_locations(kit: Any) -> None:
    events = [kit.ev("processed", f"u{i}@example.com") for i in range(3)]
    arr = kit.array(events, indent=2)
    got = [(e["email"], loc) for e, loc in read_events(arr)]
    # json.dumps(indent=2) puts each element on its own block of 10 lines
    assert [loc[2] for _, loc in got] == [0, 1, 2]
    lines = arr.read_text().splitlines()
    for _, (_, line, _) in got:
        assert lines[line - 1].strip() == "{"
    nd = kit.text("\n" + json.dumps(events[0]) + "\n\n" + json.dumps(events[1]) + "\r\n", "x.nd")
    assert [(e["email"], loc[1:]) for e, loc in read_events(nd)] == [
        ("u0@example.com", (2, None)),
        ("u1@example.com", (4, None)),
    ]


def test_one_array_per_line_as_a_webhook_log_saves_them(kit: Any) -> None:
    a, b, c = (kit.ev("processed", f"u{i}@example.com") for i in range(3))
    path = kit.text(json.dumps([a, b]) + "\n" + json.dumps([c]) + "\n[]\n", "posts.log")
    got = [(e["email"], loc[1:]) for e, loc in read_events(path)]
    assert got == [
        ("u0@example.com", (1, 0)),
        ("u1@example.com", (1, 1)),
        ("u2@example.com", (2, 0)),
    ]


def test_a_single_pretty_printed_event_is_one_event(kit: Any) -> None:
    path = kit.text(json.dumps(kit.ev("processed"), indent=4), "one.json")
    assert len(list(read_events(path))) == 1


@pytest.mark.parametrize("content", ["", "  \n\n", "  [ ]\n", "[]\n[]"])
def test_a_file_without_events_imports_nothing_and_says_so(kit: Any, content: str) -> None:
    path = kit.text(content, "empty.json")
    report = import_sendgrid(kit.store, [path, kit.ndjson([kit.ev("processed")])])
    assert report.records == 1 and report.added["sent"] == 1
    assert f"{path}: no events in this file." in report.notes


def test_bom_is_accepted(kit: Any) -> None:
    p = kit.tmp / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf[" + GOOD.encode() + b"]")
    report = import_sendgrid(kit.store, [p])
    assert report.added["sent"] == 1


MALFORMED = [
    # (file content, expected words in the message)
    ("this is not json\n", ["line 1", "starts with 't'", "JSON array"]),
    ('"just a string"', ["line 1", "starts with '\"'"]),
    ("42", ["line 1", "starts with '4'"]),
    ('{"events": [1, 2]}', ["line 1", "not a SendGrid event", "no 'event' field"]),
    ("[1, 2]", ["line 1", "index 0", "a JSON number, not an event object"]),
    (f"[\n{GOOD},\n  \"x\"\n]", ["line 3", "index 1", "a JSON string"]),
    (f"[\n{GOOD},\n{{\"event\": \"open\",,}}\n]", ["line 3", "not valid JSON", "index 1"]),
    (f"[\n{GOOD},\n{GOOD}\n", ["not closed"]),
    (f"[{GOOD}] trailing", ["line 1", "after the closing"]),
    (f"[{GOOD}\n{GOOD}]", ["line 2", "expected ',' or ']'"]),
    (f"[{GOOD}]\n{GOOD}\n", ["line 2", "does not start another array"]),
    (f"[{GOOD}]\n[{GOOD}, 7]\n", ["line 2", "index 1 is a JSON number"]),
    (f"{GOOD}\n{GOOD}\n{{not json\n{GOOD}\n", ["line 3", "not valid JSON", "one JSON event"]),
    (f"{GOOD}\n[1]\n", ["line 2", "a JSON array, not an event object"]),
    (f"{GOOD}\nnull\n", ["line 2", "JSON null, not an event object"]),
]


@pytest.mark.parametrize(("content", "words"), MALFORMED)
def test_malformed_file_fails_whole_and_leaves_the_store_as_it_was(
    kit: Any, content: str, words: list[str]
) -> None:
    # something already in the store, and a good file imported in the same call
    import_sendgrid(kit.store, [kit.ndjson([kit.ev("processed")], "earlier.ndjson")])
    good = kit.ndjson([kit.ev("processed", "bob@example.com"), kit.ev("open")], "good.ndjson")
    bad = kit.text(content, "bad.json")
    before = kit.dump()
    with pytest.raises(UserError) as info:
        import_sendgrid(kit.store, [good, bad])
    message = str(info.value)
    assert message.startswith(f"{bad}:")
    for word in words:
        assert word in message
    assert "Nothing was imported" in message
    assert kit.dump() == before


def test_not_utf8_names_the_line(kit: Any) -> None:
    p = kit.tmp / "latin1.json"
    p.write_bytes(b'[\n{"email": "r\xe9mi@example.com"}\n]')
    with pytest.raises(UserError, match=r"latin1\.json: line 2: not UTF-8"):
        import_sendgrid(kit.store, [p])


def test_missing_file_and_directory(kit: Any) -> None:
    with pytest.raises(UserError, match="no such file"):
        import_sendgrid(kit.store, [kit.tmp / "nope.json"])
    with pytest.raises(UserError, match="is a directory"):
        import_sendgrid(kit.store, [kit.tmp])


def test_a_failure_while_writing_rolls_everything_back(kit: Any, monkeypatch) -> None:
    import_sendgrid(kit.store, [kit.ndjson([kit.ev("processed")], "earlier.ndjson")])
    before = kit.dump()
    calls = 0
    real_click = Recorder.click

    def flaky(self: Recorder, *args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk on fire")
        return real_click(self, *args, **kwargs)

    monkeypatch.setattr(Recorder, "click", flaky)
    t = kit.T0
    path = kit.ndjson([
        kit.ev("processed", "new@example.com", t),
        kit.ev("click", "new@example.com", t + 100, url="https://a.example/"),
        kit.ev("click", "new@example.com", t + 200, url="https://b.example/"),
    ])
    with pytest.raises(RuntimeError):
        import_sendgrid(kit.store, [path])
    assert calls == 2
    assert kit.dump() == before


DEL = "<delete>"
SKIPS = [
    # (changes to a click event, reason)
    ({"email": DEL}, "missing field 'email'"),
    ({"email": None}, "missing field 'email'"),
    ({"email": ""}, "missing field 'email'"),
    ({"email": "not-an-address"}, "field 'email' is not an email address"),
    ({"email": 17}, "field 'email' is not an email address"),
    ({"timestamp": DEL}, "missing field 'timestamp'"),
    ({"timestamp": None}, "field 'timestamp' is not a number (unix seconds)"),
    ({"timestamp": True}, "field 'timestamp' is not a number (unix seconds)"),
    ({"timestamp": "1767600000x"}, "field 'timestamp' is not a number (unix seconds)"),
    ({"timestamp": "１７６７６０００００"}, "field 'timestamp' is not a number (unix seconds)"),
    ({"timestamp": 1767600000123}, "field 'timestamp' looks like milliseconds"),
    ({"timestamp": 1.5}, "field 'timestamp' is not a whole number of seconds"),
    ({"timestamp": -5}, "field 'timestamp' is negative"),
    ({"event": DEL}, "missing field 'event'"),
    ({"event": None}, "missing field 'event'"),
    ({"event": 3}, "field 'event' is not a string"),
    ({"event": "blocked"}, "unknown event type 'blocked'"),
    ({"event": "evil\x1b]0;pwned\x07"}, "unknown event type 'evil\\x1b]0;pwned\\x07'"),
    ({"url": DEL}, "missing field 'url' (click)"),
    ({"url": ""}, "missing field 'url' (click)"),
    ({"url": ["x"]}, "field 'url' is not a string (click)"),
    ({"event": "group_unsubscribe"}, "missing field 'asm_group_id' (group_unsubscribe)"),
    ({"event": "group_unsubscribe", "asm_group_id": "ten"},
     "field 'asm_group_id' is not an integer (group_unsubscribe)"),
    ({"event": "bounce", "type": "hard"}, "bounce of unknown type 'hard'"),
]


@pytest.mark.parametrize(("change", "reason"), SKIPS)
@pytest.mark.parametrize("form", ["ndjson", "array"])
def test_a_bad_event_is_skipped_with_reason_and_location(
    kit: Any, change: dict[str, Any], reason: str, form: str
) -> None:
    t = kit.T0
    bad = kit.ev("click", "ann@example.com", t + 500, url="https://x.example/")
    for key, value in change.items():
        if value == DEL:
            del bad[key]
        else:
            bad[key] = value
    events = [kit.ev("processed", "ann@example.com", t), bad,
              kit.ev("open", "ann@example.com", t + 600)]
    path = kit.ndjson(events) if form == "ndjson" else kit.array(events, indent=None)
    report = import_sendgrid(kit.store, [path])
    where = f"{path}:2" if form == "ndjson" else f"{path}:1 [index 1]"
    assert len(report.skipped) == 1
    (got_reason, skipped), = report.skipped.items()
    assert got_reason.startswith(reason)
    assert (skipped.count, skipped.locations) == (1, [where])
    assert (report.added["sent"], report.added["opens"]) == (1, 1)
    assert report.added["clicks"] + report.added["bot_clicks"] == 0
    assert "\x1b" not in "\n".join(report.lines())


def test_skips_keep_the_first_five_locations_and_the_exact_count(kit: Any) -> None:
    events = [kit.ev("open", f"u{i}@example.com") for i in range(8)]
    for e in events:
        del e["email"]
    path = kit.ndjson(events)
    report = import_sendgrid(kit.store, [path])
    s = report.skipped["missing field 'email'"]
    assert s.count == 8
    assert s.locations == [f"{path}:{n}" for n in range(1, 6)]
    text = "\n".join(report.lines())
    assert f"missing field 'email': 8, at {path}:1, " in text
    assert "(3 more)" in text


def test_float_timestamp_with_whole_value_is_accepted(kit: Any) -> None:
    e = kit.ev("processed")
    e["timestamp"] = float(kit.T0)
    import_sendgrid(kit.store, [kit.ndjson([e])])
    assert kit.one("SELECT at FROM sends") == kit.T0


def test_real_shaped_sample_file(kit: Any) -> None:
    """A payload shaped like SendGrid's documented example (tests/importers/data)."""
    path = Path(kit.DATA) / "sendgrid_sample.json"
    report = import_sendgrid(kit.store, [path])
    assert report.records == 13
    assert report.ignored == {}
    s = kit.stats("cat facts")
    # sent: example@ (processed, deferred, delivered: one message), bounce@ (processed,
    # bounce), other@ (no send on record, but unsubscribed through the email: a send is
    # inferred); dropped@'s message was dropped, not sent
    assert report.added["inferred"] == 1
    assert s == {
        "sent": 3, "bounced_hard": 1, "bounced_soft": 0, "dropped": 1,
        "opened": 1, "opens_total": 1, "machine_opens": 1, "clicked": 1, "clicks_total": 1,
        "bot_clicks": 0, "unsubscribed": 2, "spam_reports": 1,
        "anonymous_opens": 1, "anonymous_clicks": 1,
    }
    assert kit.links("cat facts") == {"https://www.sendgrid.com/": (1, 1, 0)}
    assert report.skipped == {}
    assert kit.one("SELECT name, campaign_id, status, send_at FROM emails") == (
        "cat facts", None, "sent", 1513299569,
    )
    assert kit.one("SELECT name, asm_group_id FROM lists") == ("Unsubscribe group 10", 10)
    # other@test.com unsubscribed from group 10, then resubscribed
    assert kit.one("SELECT status FROM subscriptions") == "subscribed"
    assert kit.one(
        "SELECT unsubscribed_all FROM contacts WHERE email = 'example@test.com'"
    ) == 1
