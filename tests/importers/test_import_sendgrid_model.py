"""Property: for any mix of events, in any file order and split over files, the
statistics equal those counted directly from the events (an independent model)."""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Store
from tests.blank_store import blank_store

T0 = 1_767_600_000
URLS = ["https://a.example/pricing", "https://a.example/webinar", "https://a.example/paper"]

# One recipient's story: how it was sent, then what it did (in time order).
recipient = st.fixed_dictionaries(
    {
        "send": st.sampled_from(["processed", "dropped", "bounce", "blocked"]),
        "start": st.integers(0, 5000),
        "acts": st.lists(
            st.one_of(
                st.just(("open", None)),
                st.just(("machine_open", None)),
                st.tuples(st.just("click"), st.sampled_from(URLS)),
                st.just(("unsubscribe", None)),
                st.just(("group_unsubscribe", None)),
                st.just(("spamreport", None)),
            ),
            max_size=6,
        ),
    }
)


def _events(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(event: str, who: str, at: int, **extra: Any) -> None:
        out.append({
            "email": who, "timestamp": at, "event": event,
            "sg_event_id": f"e{len(out)}", "marketing_campaign_name": "M", **extra,
        })

    for i, p in enumerate(people):
        who, t = f"r{i}@example.com", T0 + p["start"]
        if p["send"] == "dropped":
            add("dropped", who, t)
            continue
        add("processed", who, t)
        if p["send"] in ("bounce", "blocked"):
            add("bounce", who, t + 5, type=p["send"])
            continue
        # acts 100 s after the send and 5 s apart: never a suspected bot click
        for k, (act, url) in enumerate(p["acts"]):
            at = t + 100 + 5 * k
            if act == "machine_open":
                add("open", who, at, sg_machine_open=True)
            elif act == "click":
                add("click", who, at, url=url)
            elif act == "group_unsubscribe":
                add(act, who, at, asm_group_id=3)
            else:
                add(act, who, at)
    return out


def _model(events: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, tuple[int, int, int]]]:
    def who(kind: str, **match: Any) -> list[str]:
        return [
            e["email"] for e in events
            if e["event"] == kind and all(e.get(k) == v for k, v in match.items())
        ]

    opens = [e["email"] for e in events if e["event"] == "open" and not e.get("sg_machine_open")]
    clicks = [(e["email"], e["url"]) for e in events if e["event"] == "click"]
    unsubs = set(who("unsubscribe")) | set(who("group_unsubscribe"))
    stats = {
        "sent": len(who("processed")),  # a dropped message is not a send
        "bounced_hard": len(who("bounce", type="bounce")),
        "bounced_soft": len(who("bounce", type="blocked")),
        "dropped": len(who("dropped")),
        "opened": len(set(opens)),
        "opens_total": len(opens),
        "machine_opens": len(who("open", sg_machine_open=True)),
        "clicked": len({w for w, _ in clicks}),
        "clicks_total": len(clicks),
        "bot_clicks": 0,
        "unsubscribed": len(unsubs),
        "spam_reports": len(set(who("spamreport"))),
        "anonymous_opens": len(opens),  # nobody has consent
        "anonymous_clicks": len(clicks),
    }
    per_url = Counter(u for _, u in clicks)
    links = {u: (len({w for w, v in clicks if v == u}), n, 0) for u, n in per_url.items()}
    return stats, links


def _read(store: Store) -> tuple[dict[str, int], dict[str, tuple[int, int, int]]]:
    c = store.conn
    cur = c.execute("SELECT * FROM email_stats")
    row = cur.fetchone()
    stats = dict(zip([d[0] for d in cur.description], row, strict=True))
    stats.pop("email_id")
    links = {
        r[0]: (r[1], r[2], r[3])
        for r in c.execute(
            "SELECT l.url, s.clicked, s.clicks_total, s.bot_clicks FROM links l"
            " JOIN link_stats s ON s.link_id = l.id"
        )
    }
    return stats, links


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=st.lists(recipient, min_size=1, max_size=12), seed=st.integers(0, 2**16))
def test_statistics_match_a_direct_count(people: list[dict[str, Any]], seed: int) -> None:
    events = _events(people)
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    cut = len(shuffled) // 2
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "a.ndjson").write_text("".join(json.dumps(e) + "\n" for e in shuffled[:cut]))
        (d / "b.json").write_text(json.dumps(shuffled[cut:]))
        store = blank_store(d / "t.db", token_key=b"k" * 16)
        try:
            # second file first: order of files must not matter either
            import_sendgrid(store, [d / "b.json", d / "a.ndjson"])
            assert _read(store) == _model(events)
            before = _read(store)
            import_sendgrid(store, [d / "a.ndjson", d / "b.json"])  # again: nothing changes
            assert _read(store) == before
        finally:
            store.close()
