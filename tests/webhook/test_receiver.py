"""serve-webhook: a real server on a free port, signed SendGrid requests."""

from __future__ import annotations

import http.client
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from journeytui.domain.stats import email_stats
from journeytui.store import Store
from journeytui.webhook.verify import SIGNATURE_HEADER, TIMESTAMP_HEADER

from .conftest import Keys, body_of, dump, events, get, make_keys, post

REAL = Path(__file__).parent / "data" / "sendgrid_python_signed_dropped.json"
# The key, signature and timestamp of sendgrid-python's test/unit/test_eventwebhook.py
REAL_KEY = ("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVK"
            "S3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==")
REAL_SIGNATURE = ("MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAb"
                  "PIqHh89M15TluLtEZtM=")
REAL_TIMESTAMP = "1600112502"


def stats(db: Path) -> dict[str, tuple[int, int, int]]:
    with Store.open(db, readonly=True) as store:
        return {s.name: (s.sent, s.delivered, s.opened) for s in email_stats(store)}


def test_signed_body_is_recorded_and_visible_in_stats(db: Path, keys: Keys, start_server) -> None:
    server = start_server(db, keys)
    body = body_of(events("Spring sale", n=3))
    status, answer = post(server.url + "/sendgrid", body, keys.headers(body))
    assert status == 200, answer
    assert answer["events"] == 7
    assert (answer["recorded"], answer["duplicate"], answer["skipped"]) == (7, 0, 0)
    assert stats(db) == {"Spring sale": (3, 3, 1)}


def test_the_same_body_twice_is_recorded_once(db: Path, keys: Keys, start_server) -> None:
    server = start_server(db, keys)
    body = body_of(events("Spring sale", n=4))
    assert post(server.url + "/sendgrid", body, keys.headers(body))[0] == 200
    before = dump(db)
    status, answer = post(server.url + "/sendgrid", body, keys.headers(body))
    assert status == 200
    assert (answer["recorded"], answer["duplicate"]) == (0, 9)
    assert stats(db) == {"Spring sale": (4, 4, 1)}
    assert dump(db) == before


def _journey_rows(db: Path) -> tuple[list[tuple], list[tuple]]:
    with Store.open(db, readonly=True) as store:
        c = store.conn
        positions = c.execute("SELECT journey_id, contact_id, stage, since FROM journey_positions"
                              " ORDER BY 1, 2").fetchall()
        moves = c.execute("SELECT journey_id, contact_id, from_stage, to_stage, transition, at,"
                          " provisional FROM journey_moves ORDER BY 1, 2, 6, 4").fetchall()
    return positions, moves


def test_journeys_advance_as_after_a_file_import(tmp_path: Path, keys: Keys, start_server) -> None:
    """A request advances every journey exactly as importing the same body as a file."""
    import shutil

    from journeytui.demo import generate
    from journeytui.importers.sendgrid import import_sendgrid

    db = tmp_path / "demo.db"
    generate(db, contacts=80, seed=3)
    twin = tmp_path / "twin.db"
    shutil.copy(db, twin)
    with Store.open(db, readonly=True) as store:
        newcomers = [r[0] for r in store.conn.execute(
            "SELECT email FROM contacts WHERE consent = 1 AND id NOT IN"
            " (SELECT contact_id FROM journey_positions) ORDER BY id LIMIT 3")]
    assert newcomers
    evs = []
    for i, address in enumerate(newcomers):
        base = {"email": address, "marketing_campaign_name": "Webhook news",
                "sg_message_id": f"late{i}.f1"}
        evs.append({**base, "event": "delivered", "timestamp": T_LATE + i,
                    "sg_event_id": f"late-d{i}"})
        evs.append({**base, "event": "open", "timestamp": T_LATE + 600 + i,
                    "sg_event_id": f"late-o{i}"})
    body = body_of(evs)
    _, moves_before = _journey_rows(db)
    server = start_server(db, keys)
    status, answer = post(server.url + "/sendgrid", body, keys.headers(body))
    assert status == 200 and answer["recorded"] == len(evs), answer
    (tmp_path / "body.json").write_bytes(body)
    with Store.open(twin) as store:
        import_sendgrid(store, [tmp_path / "body.json"])
    positions, moves = _journey_rows(db)
    assert (positions, moves) == _journey_rows(twin)
    assert len(moves) > len(moves_before)  # the newcomers entered a journey


T_LATE = 1_795_000_000  # 2026-11-18: after the demo data, before today


def test_wrong_signature_stale_timestamp_missing_headers_are_403(
    db: Path, keys: Keys, start_server
) -> None:
    server = start_server(db, keys)
    url = server.url + "/sendgrid"
    body = body_of(events())
    before = dump(db)
    other = make_keys()
    # Each case's headers are made just before its request (the clock is read then):
    # on a loaded machine the requests take seconds, and a timestamp 301 s ahead of a
    # clock read earlier would be inside the window by the time it is checked.
    cases: dict[str, Callable[[int], dict[str, str]]] = {
        "another key": lambda now: other.headers(body),
        "body changed after signing": lambda now: keys.headers(body_of(events(n=2))),
        "stale": lambda now: keys.headers(body, timestamp=now - 310),
        "from the future": lambda now: keys.headers(body, timestamp=now + 310),
        "no signature": lambda now: {TIMESTAMP_HEADER: str(now)},
        "no timestamp": lambda now: {SIGNATURE_HEADER: keys.sign(str(now), body)},
        "no headers": lambda now: {},
        "signature not base64": lambda now: {TIMESTAMP_HEADER: str(now),
                                             SIGNATURE_HEADER: "%%%"},
        "timestamp not seconds": lambda now: {TIMESTAMP_HEADER: "yesterday",
                                              SIGNATURE_HEADER: keys.sign("yesterday", body)},
    }
    for case, headers in cases.items():
        status, answer = post(url, body, headers(int(time.time())))
        assert status == 403, (case, answer)
        assert answer["error"].startswith("not verified"), (case, answer)
        assert answer["recorded"] == 0
    assert dump(db) == before
    # a timestamp just inside the window (5 minutes) is fine
    assert post(url, body, keys.headers(body, timestamp=int(time.time()) - 280))[0] == 200


def test_real_sendgrid_signature_verifies(db: Path, start_server) -> None:
    """sendgrid-python's signed production payload, exact bytes (trailing CRLF)."""
    from journeytui.webhook.verify import SendGridVerifier

    body = REAL.read_bytes()
    assert body.endswith(b"}]\r\n")
    verifier = SendGridVerifier(REAL_KEY)
    at = int(REAL_TIMESTAMP) + 30
    assert verifier.check(body, REAL_SIGNATURE, REAL_TIMESTAMP, at) is None
    assert verifier.check(body.rstrip(), REAL_SIGNATURE, REAL_TIMESTAMP, at) is not None
    assert verifier.check(body, REAL_SIGNATURE, str(int(REAL_TIMESTAMP) + 1), at) is not None
    assert "from this server's clock" in str(
        verifier.check(body, REAL_SIGNATURE, REAL_TIMESTAMP, at + 400))

    running = start_server(db, REAL_KEY, clock=lambda: float(at))
    headers = {SIGNATURE_HEADER: REAL_SIGNATURE, TIMESTAMP_HEADER: REAL_TIMESTAMP}
    status, answer = post(running.url + "/sendgrid", body, headers)
    assert status == 200, answer
    # a dropped event naming no email waits for its message to be named (importer rule)
    assert answer["events"] == 1
    assert answer["recorded"] + answer["parked"] == 1


def test_oversized_body_is_413(db: Path, keys: Keys, start_server) -> None:
    server = start_server(db, keys, max_body=4096)
    big = body_of(events(n=40))
    assert len(big) > 4096
    before = dump(db)
    status, answer = post(server.url + "/sendgrid", big, keys.headers(big))
    assert status == 413, answer
    assert "4,096" in answer["error"]
    # without Content-Length (chunked): refused while reading
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=30)
    try:
        conn.request("POST", "/sendgrid", body=iter([big[:3000], big[3000:]]),
                     headers=keys.headers(big), encode_chunked=True)
        resp = conn.getresponse()
        assert resp.status == 413
        resp.read()
    finally:
        conn.close()
    assert dump(db) == before
    small = body_of(events(n=2))
    assert post(server.url + "/sendgrid", small, keys.headers(small))[0] == 200


def test_malformed_bodies_are_400_with_the_reason(db: Path, keys: Keys, start_server) -> None:
    server = start_server(db, keys)
    url = server.url + "/sendgrid"
    good = json.dumps(events(n=2))
    cases = {
        b"": "empty",
        b'[{"event": "open",': "not valid JSON",
        b'{"event": "open"}': "expected a JSON array",
        b"[1, 2]": "not an event object",
        (good[:-1] + ', "oops"]').encode(): "not an event object",
        b"\xff\xfe[]": "expected a JSON array",
        b'[{"event": "open"}] trailing': "not valid JSON",
    }
    before = dump(db)
    for body, reason in cases.items():
        status, answer = post(url, body, keys.headers(body))
        assert status == 400, (body, answer)
        assert reason in answer["error"], (body, answer)
        assert "/tmp" not in answer["error"] and "request-" not in answer["error"]
        assert answer["recorded"] == 0
    assert dump(db) == before


def test_locked_store_is_503_and_nothing_recorded(db: Path, keys: Keys, start_server) -> None:
    server = start_server(db, keys, lock_wait=0.2)
    url = server.url + "/sendgrid"
    body = body_of(events(n=2))
    before = dump(db)
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        other.execute("UPDATE meta SET value = value WHERE key = 'app'")
        status, answer = post(url, body, keys.headers(body))
        assert status == 503, answer
        assert "retry" in answer["error"]
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert dump(db) == before
    status, answer = post(url, body, keys.headers(body))  # the provider's retry
    assert status == 200 and answer["recorded"] == 5


def test_health_says_whether_the_store_is_reachable(db: Path, keys: Keys, start_server) -> None:
    server = start_server(db, keys)
    status, answer = get(server.url + "/health")
    assert status == 200 and answer["status"] == "ok", answer
    db.rename(db.with_name("moved.db"))
    status, answer = get(server.url + "/health")
    assert status == 503 and answer["status"] == "unavailable", answer
    assert "no such store" in answer["reason"]


def test_unknown_paths_and_methods(db: Path, keys: Keys, start_server) -> None:
    server = start_server(db, keys)
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=30)
    try:
        conn.request("GET", "/sendgrid")
        resp = conn.getresponse()
        assert resp.status == 405
        resp.read()
        conn.request("POST", "/nowhere", body=b"[]")
        resp = conn.getresponse()
        assert resp.status == 404
        resp.read()
    finally:
        conn.close()
