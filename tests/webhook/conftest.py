"""A real receiver on 127.0.0.1 (a free port), signed requests, store fingerprints.

* ``keys``: an ECDSA P-256 key pair made for the test; ``keys.public_b64`` is what
  SendGrid's dashboard would show, ``keys.sign(ts, body)`` what SendGrid would send.
* ``start_server(db, …)``: a :class:`journeytui.webhook.server.Server` running on its own
  event loop in a thread, answering on ``server.url``; stopped at the end of the test.
* ``post(url, body, headers)`` → (status, JSON answer); ``dump(db)``: every row of the
  store, to say "nothing recorded".
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from journeytui.webhook.server import Config, Server
from journeytui.webhook.verify import SIGNATURE_HEADER, TIMESTAMP_HEADER, SendGridVerifier
from tests.blank_store import blank_store_file

T0 = 1_780_000_000  # 2026-05-28: every test event is dated near here


@dataclass
class Keys:
    private: ec.EllipticCurvePrivateKey
    public_b64: str

    def sign(self, timestamp: str, body: bytes) -> str:
        der = self.private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: self.sign(ts, body)}


def make_keys() -> Keys:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Keys(private, base64.b64encode(der).decode())


@pytest.fixture
def keys() -> Keys:
    return make_keys()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return blank_store_file(tmp_path / "store.db")


def events(campaign: str = "Spring sale", n: int = 3, start: int = 0) -> list[dict[str, Any]]:
    """*n* recipients of *campaign*: processed + delivered each, and one open."""
    out: list[dict[str, Any]] = []
    for i in range(start, start + n):
        base = {
            "email": f"person{i}@example.com",
            "marketing_campaign_name": campaign,
            "sg_message_id": f"msg{i}-{campaign}.filter0001",  # one message per send
        }
        out.append({**base, "event": "processed", "timestamp": T0 + i,
                    "sg_event_id": f"p{i}-{campaign}"})
        out.append({**base, "event": "delivered", "timestamp": T0 + i + 5,
                    "sg_event_id": f"d{i}-{campaign}"})
    out.append({"email": f"person{start}@example.com", "marketing_campaign_name": campaign,
                "sg_message_id": f"msg{start}-{campaign}.filter0001", "event": "open",
                "timestamp": T0 + start + 60, "sg_event_id": f"o{start}-{campaign}"})
    return out


def body_of(evs: list[dict[str, Any]]) -> bytes:
    return json.dumps(evs, separators=(",", ":")).encode() + b"\r\n"


def post(url: str, body: bytes, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str, timeout: float = 30) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def dump(db: Path) -> list[str]:
    """Every row of the store (what "nothing recorded" compares)."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


class RunningServer:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.server = Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        port = self._run(self.server.start())
        self.url = f"http://127.0.0.1:{port}"

    def _run(self, coro: Any) -> Any:
        fut: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout=60)

    def stop(self) -> None:
        if self.loop.is_running():
            self._run(self.server.stop())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()


@pytest.fixture
def start_server() -> Iterator[Callable[..., RunningServer]]:
    running: list[RunningServer] = []

    def start(db: Path, keys: Keys | str | None = None, **options: Any) -> RunningServer:
        """*keys*: a test key pair, or a verification key as SendGrid shows it; None
        and no other provider's verification (``mailgun=``, ``postmark=``, ``ses=``)
        starts the server without verification (--no-verify)."""
        key = keys.public_b64 if isinstance(keys, Keys) else keys
        verifier = SendGridVerifier(key) if key is not None else None
        others = any(options.get(p) is not None for p in ("mailgun", "postmark", "ses"))
        config = Config(db=db, host="127.0.0.1", port=0, sendgrid=verifier,
                        no_verify=verifier is None and not others, **options)
        server = RunningServer(config)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


def wait_for(check: Callable[[], Any], what: str, deadline_s: float = 30) -> Any:
    """Poll *check* until it returns something true (no fixed sleeps)."""
    end = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
