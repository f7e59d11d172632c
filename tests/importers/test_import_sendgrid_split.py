"""Property (issue 10): the same events split across two imports, in either order, give
the same figures as one import — messages whose events arrive apart, sends inferred
from engagement before their message arrives, events that only carry a message id
before or after the event that names the email.

Kept out of the generator, as documented in the README: clicks less than 10 s after a
delivery or 2 s after another click of the same recipient (whether a click is a
suspected bot is judged when it is imported), resubscribes (the subscription state is
the last change imported), an unsubscribe or spam report naming no email (it acts on the
contact at once), and the email's send time (the earliest event of the first import).
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeytui.domain.stats import email_stats
from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Store
from tests.blank_store import blank_store

T0 = 1_767_600_000
NOW = T0 + 40 * 86_400
URLS = ["https://example.com/pricing", "http://Example.com/pricing/", "https://example.com/a"]
PROOFS = {  # offset after the message's start
    "processed": 0, "dropped": 5, "deferred": 30, "delivered": 60, "bounce": 90,
}

message = st.fixed_dictionaries({
    "email": st.sampled_from(["Spring", "Summer"]),
    "to": st.integers(0, 3),
    "start": st.integers(0, 3) .map(lambda d: d * 86_400),
    "proofs": st.lists(st.sampled_from(sorted(PROOFS)), unique=True, max_size=4),
    "hard": st.booleans(),
    "acts": st.lists(st.sampled_from(["open", "machine_open", "click", "unsubscribe",
                                      "spamreport"]), max_size=4),
    "urls": st.lists(st.sampled_from(URLS), min_size=4, max_size=4),
    "named": st.lists(st.booleans(), min_size=10, max_size=10),
})


def _events(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        t = T0 + m["start"] + 7 * i  # two messages' clicks are never < 2 s apart
        kinds = [(k, t + PROOFS[k]) for k in m["proofs"]]
        # engagement from 1000 s on, 100 s apart: never a suspected bot; a message that
        # bounced or was dropped is not opened (the provider would contradict itself)
        if not {"bounce", "dropped"} & set(m["proofs"]):
            kinds += [(a, t + 1000 + 100 * k) for k, a in enumerate(m["acts"])]
        for j, (kind, at) in enumerate(kinds):
            ev: dict[str, Any] = {
                "email": f"r{m['to']}@example.com", "timestamp": at,
                "sg_event_id": f"e{i}-{j}", "sg_message_id": f"msg{i}.filter{m['to']}",
            }
            if kind == "machine_open":
                ev |= {"event": "open", "sg_machine_open": True}
            else:
                ev["event"] = kind
            if kind == "click":
                ev["url"] = m["urls"][j % 4]
            if kind == "bounce":
                ev["type"] = "bounce" if m["hard"] else "blocked"
            if m["named"][j] or kind in ("unsubscribe", "spamreport"):
                ev |= {"singlesend_name": m["email"], "singlesend_id": f"ss-{m['email']}"}
            out.append(ev)
    return out


def _read(store: Store) -> dict[str, Any]:
    c = store.conn
    stats = {
        s.name: (s.sent, s.delivered, s.bounced_hard, s.bounced_soft, s.dropped, s.opened,
                 s.opens_total, s.machine_opens, s.clicked, s.clicks_total, s.bot_clicks,
                 s.unsubscribed, s.spam_reports,
                 sorted((k.url, k.clicked, k.clicks_total, k.bot_clicks) for k in s.links))
        for s in email_stats(store)
    }
    sends = sorted(c.execute(
        "SELECT e.name, k.email, s.status, s.at, s.delivered_at, s.proofs, s.message_id"
        " FROM sends s JOIN emails e ON e.id = s.email_id JOIN contacts k ON k.id = s.contact_id"
    ), key=repr)
    parked = sorted(c.execute("SELECT event_id FROM parked_events"))
    contacts = sorted(c.execute(
        "SELECT email, unsubscribed_all, unsubscribed_all_at, spam_reported_at FROM contacts"
    ), key=repr)
    return {"stats": stats, "sends": sends, "parked": parked, "contacts": contacts}


def _import(d: Path, name: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    path = d / f"{name}.json"
    path.write_text(json.dumps(events))
    store = blank_store(d / f"{name}.db", token_key=b"k" * 16)
    try:
        import_sendgrid(store, [path], now=NOW)
        return _read(store)
    finally:
        store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=st.lists(message, min_size=1, max_size=8),
    seed=st.integers(0, 2**16),
    second_first=st.booleans(),
)
def test_two_imports_in_either_order_equal_one(
    messages: list[dict[str, Any]], seed: int, second_first: bool
) -> None:
    events = _events(messages)
    rng = random.Random(seed)
    first = [e for e in events if rng.random() < 0.5]
    second = [e for e in events if e not in first]
    rng.shuffle(first)
    rng.shuffle(second)
    if second_first:
        first, second = second, first
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        whole = _import(d, "whole", events)
        store = blank_store(d / "split.db", token_key=b"k" * 16)
        try:
            (d / "1.json").write_text(json.dumps(first))
            (d / "2.json").write_text(json.dumps(second))
            import_sendgrid(store, [d / "1.json"], now=NOW)
            import_sendgrid(store, [d / "2.json"], now=NOW)
            assert _read(store) == whole
        finally:
            store.close()
    # no rate above 100 %
    for name, figs in whole["stats"].items():
        sent, delivered, _, _, _, opened, _, _, clicked, _, _, unsub, spam, _ = figs
        assert 0 <= delivered <= sent, name
        assert max(opened, clicked, unsub, spam) <= delivered or delivered == 0, name
