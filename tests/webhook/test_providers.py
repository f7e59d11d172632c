"""serve-webhook's other providers: POST /mailgun, /postmark, /ses on a real server.

Bodies are the real payloads of tests/webhook/data (copied from
/work/shared/realworld: django-anymail's captured webhooks, one body per line), signed
here with keys and a certificate made for the test, the way each provider signs.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from journeytui.domain.stats import email_stats
from journeytui.store import Store
from journeytui.webhook.verify import MailgunVerifier, PostmarkAuth, SnsVerifier
from tests.blank_store import blank_store

from .conftest import dump, post

DATA = Path(__file__).parent / "data"
MAILGUN = DATA / "anymail_mailgun_webhook_bodies.json"
POSTMARK = DATA / "anymail_postmark_webhook_bodies.json"
SES = DATA / "anymail_ses_sns_notifications.json"
TOPIC = "arn:aws:sns:us-east-1:1234567890:SES_Events"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"


def bodies(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def stats(db: Path) -> dict[str, tuple[int, int, int]]:
    with Store.open(db, readonly=True) as store:
        return {s.name: (s.sent, s.sent - s.bounced_hard - s.bounced_soft, s.opened)
                for s in email_stats(store)}


def imported(tmp_path: Path, path: Path, provider: str) -> dict[str, tuple[int, int, int]]:
    """The stats of a store that imported *path* as a file (journeytui import events)."""
    from journeytui.importers.providers import import_events

    twin = tmp_path / "twin.db"
    with blank_store(twin) as store:
        import_events(store, [path], provider)
    return stats(twin)


def raw(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


# -- Mailgun ----------------------------------------------------------------------------
def mailgun_signed(body: dict[str, Any], key: str, timestamp: int | None = None
                   ) -> dict[str, Any]:
    """*body* with a fresh signature object, as Mailgun signs: hex HMAC-SHA256 of
    timestamp + token keyed with the webhook signing key."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    token = secrets.token_hex(25)
    sig = hmac.new(key.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
    return {**body, "signature": {"timestamp": ts, "token": token, "signature": sig}}


@pytest.fixture
def mailgun_key() -> str:
    return secrets.token_hex(16)


def test_mailgun_signed_bodies_are_recorded_once(db: Path, mailgun_key: str, start_server,
                                                 tmp_path: Path) -> None:
    server = start_server(db, None, mailgun=MailgunVerifier(mailgun_key))
    url = server.url + "/mailgun"
    real = bodies(MAILGUN)
    assert len(real) == 8
    # The first body: 'delivered' to recipient@example.com of the message whose subject
    # is "Testing" (no campaign, no tags: the subject names the email). A delivery
    # proves a send: Testing sent 1, delivered 1, opened 0.
    status, answer = post(url, raw(mailgun_signed(real[0], mailgun_key)))
    assert status == 200, answer
    assert (answer["events"], answer["recorded"]) == (1, 1)
    assert stats(db) == {"Testing": (1, 1, 0)}
    for body in real[1:]:
        status, answer = post(url, raw(mailgun_signed(body, mailgun_key)))
        assert status == 200, answer
    # one request at a time gives what importing the file gives
    assert stats(db) == imported(tmp_path, MAILGUN, "mailgun")
    # the provider's retry (signed again) records nothing new; the one event still
    # waiting for its message's email stays waiting (now traced to the latest request)
    before = dump(db)
    for body in real:
        status, answer = post(url, raw(mailgun_signed(body, mailgun_key)))
        assert status == 200 and answer["recorded"] == 0, answer
    assert unparked(dump(db)) == unparked(before)
    assert len(dump(db)) == len(before)


def unparked(rows: list[str]) -> list[str]:
    return [r for r in rows if not r.startswith('INSERT INTO "parked_events"')]


def test_mailgun_refusals(db: Path, mailgun_key: str, start_server) -> None:
    server = start_server(db, None, mailgun=MailgunVerifier(mailgun_key))
    url = server.url + "/mailgun"
    body = bodies(MAILGUN)[0]
    now = int(time.time())
    good = mailgun_signed(body, mailgun_key)
    forged = {**good, "signature": {**good["signature"], "token": secrets.token_hex(25)}}
    before = dump(db)
    cases = {
        "another key": mailgun_signed(body, "not-the-key"),
        # 5 minutes is the window; 30 s beyond it on either side, so that a loaded
        # machine's seconds between these lines and the check cannot bring the future
        # one back inside
        "stale (330 s old)": mailgun_signed(body, mailgun_key, now - 330),
        "from the future": mailgun_signed(body, mailgun_key, now + 330),
        "token changed after signing": forged,
        "no signature object": {k: v for k, v in body.items() if k != "signature"},
        "signature not an object": {**body, "signature": "abc"},
    }
    for case, value in cases.items():
        status, answer = post(url, raw(value))
        assert status == 403, (case, answer)
        assert answer["error"].startswith("not verified"), (case, answer)
    for payload, says in ((b"{not json", "not valid JSON"), (b"[1]", "not a JSON object"),
                          (b"", "empty")):
        status, answer = post(url, payload)
        assert status == 400 and says in answer["error"], (payload, answer)
    # signed, but a Postmark record: refused as not a Mailgun body
    other = mailgun_signed(bodies(POSTMARK)[1], mailgun_key)
    status, answer = post(url, raw(other))
    assert status == 400 and "looks like Postmark" in answer["error"], answer
    assert dump(db) == before
    # just inside the window is fine
    assert post(url, raw(mailgun_signed(body, mailgun_key, now - 290)))[0] == 200


# -- Postmark ---------------------------------------------------------------------------
def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_postmark_basic_auth(db: Path, start_server) -> None:
    server = start_server(db, None, postmark=PostmarkAuth("hooks:s3cret:with-colon"))
    url = server.url + "/postmark"
    real = bodies(POSTMARK)
    before = dump(db)
    for headers in ({}, basic("hooks", "wrong"), basic("other", "s3cret:with-colon"),
                    {"Authorization": "Bearer s3cret"}, {"Authorization": "Basic %%%"}):
        status, answer = post(url, raw(real[1]), headers)
        assert status == 403, (headers, answer)
    assert dump(db) == before
    auth = basic("hooks", "s3cret:with-colon")
    # The Delivery record: recipient@example.com, Tag "welcome-email" names the email;
    # a delivery proves a send: welcome-email sent 1, delivered 1, opened 0.
    status, answer = post(url, raw(real[1]), auth)
    assert status == 200 and answer["recorded"] == 1, answer
    assert stats(db) == {"welcome-email": (1, 1, 0)}
    before = dump(db)
    status, answer = post(url, raw(real[1]), auth)  # posted again: a duplicate
    assert status == 200 and (answer["recorded"], answer["duplicate"]) == (0, 1), answer
    assert dump(db) == before
    for body in real:
        assert post(url, raw(body), auth)[0] == 200
    status, answer = post(url, b'{"RecordType": ', auth)
    assert status == 400, answer


# -- Amazon SES through SNS --------------------------------------------------------------
class Signer:
    """An SNS signing key and its self-signed certificate (what SigningCertURL serves)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def sign(self, message: dict[str, Any], version: str = "1",
             url: str = CERT_URL) -> dict[str, Any]:
        """AWS's documented string to sign: "Key\\nValue\\n" for Message, MessageId,
        Subject (if any), Timestamp, TopicArn, Type (a Notification), or Message,
        MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type (a subscription
        message); RSA PKCS#1 v1.5 with SHA1 (version 1) or SHA256 (version 2)."""
        m = {**message, "SignatureVersion": version, "SigningCertURL": url}
        if m["Type"] == "Notification":
            keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                    "Type"]
        text = "".join(f"{k}\n{m[k]}\n" for k in keys if k in m)
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        sig = self.key.sign(text.encode(), padding.PKCS1v15(), algorithm)
        m["Signature"] = base64.b64encode(sig).decode()
        return m


@pytest.fixture(scope="module")
def signer() -> Signer:
    """One for the module: a 2,048-bit RSA key takes ~50 ms to make, and no test
    changes it (a test that needs another key makes its own)."""
    return Signer()


def cert_cache(tmp_path: Path, signer: Signer) -> Path:
    """A certificate cache as the receiver keeps it: host_path-of-the-URL."""
    cache = tmp_path / "sns-certs"
    cache.mkdir()
    (cache / "sns.us-east-1.amazonaws.com_SimpleNotificationService-test.pem").write_bytes(
        signer.pem())
    return cache


def test_ses_signed_notifications(db: Path, signer: Signer, start_server,
                                  tmp_path: Path) -> None:
    server = start_server(db, None, ses=SnsVerifier([TOPIC], cert_cache(tmp_path, signer),
                                                    fetch=False))
    url = server.url + "/ses"
    # anymail's fixtures give the full SNS envelope on the first notification only; a
    # real delivery carries the topic on each
    real = [{"TopicArn": TOPIC, **b} for b in bodies(SES)]
    # The first notification: a Permanent bounce of jane@example.com; the mail's subject
    # "Hello" names the email. A bounce proves a send that was not delivered:
    # Hello sent 1, delivered 0, opened 0.
    status, answer = post(url, raw(signer.sign(real[0], "1")))
    assert status == 200 and answer["recorded"] == 1, answer
    assert stats(db) == {"Hello": (1, 0, 0)}
    for i, body in enumerate(real[1:]):
        status, answer = post(url, raw(signer.sign(body, "2" if i % 2 else "1")))
        assert status == 200, answer
    assert stats(db) == imported(tmp_path, SES, "ses")
    before = dump(db)
    assert post(url, raw(signer.sign(real[0])))[1]["recorded"] == 0  # a retry
    assert dump(db) == before


def test_ses_refusals(db: Path, signer: Signer, start_server, tmp_path: Path) -> None:
    server = start_server(db, None, ses=SnsVerifier([TOPIC], cert_cache(tmp_path, signer),
                                                    fetch=False))
    url = server.url + "/ses"
    note = bodies(SES)[0]
    good = signer.sign(note)
    other = Signer()
    before = dump(db)
    cases = {
        "another key": other.sign(note),
        "message changed after signing": {**good, "Message": good["Message"].replace(
            "jane@example.com", "eve@example.com")},
        "a topic not allowed": signer.sign({**note, "TopicArn": TOPIC + "-other"}),
        "certificate over http": signer.sign(note, url=CERT_URL.replace("https", "http")),
        "certificate on another host": signer.sign(
            note, url="https://sns.us-east-1.amazonaws.com.evil.example/cert.pem"),
        "unknown signature version": {**good, "SignatureVersion": "3"},
        "no signature": {k: v for k, v in good.items() if k != "Signature"},
    }
    for case, value in cases.items():
        status, answer = post(url, raw(value))
        assert status == 403, (case, answer)
    # a certificate not in the cache (and not fetched here): 503, SNS retries
    missing = signer.sign(note, url=CERT_URL.replace("-test.pem", "-rotated.pem"))
    status, answer = post(url, raw(missing))
    assert status == 503 and "retry" in answer["error"], answer
    assert dump(db) == before


def test_ses_subscription_confirmation_is_logged_not_recorded(
        db: Path, signer: Signer, start_server, tmp_path: Path) -> None:
    import logging

    said: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    logger = logging.getLogger("journeytui.webhook")
    keep, level = Keep(), logger.level
    logger.addHandler(keep)
    logger.setLevel(logging.INFO)
    server = start_server(db, None, ses=SnsVerifier([TOPIC], cert_cache(tmp_path, signer),
                                                    fetch=False))
    confirm = signer.sign({
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37f",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic. To confirm, visit the "
                   "SubscribeURL included in this message.",
        "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
                        "&TopicArn=arn:aws:sns:us-east-1:1234567890:SES_Events&Token=2336412f37f",
        "Timestamp": "2026-11-29T12:00:00.000Z",
    })
    before = dump(db)
    try:
        status, answer = post(server.url + "/ses", raw(confirm))
    finally:
        logger.removeHandler(keep)
        logger.setLevel(level)
    assert status == 200 and answer["recorded"] == 0, answer
    assert dump(db) == before
    assert any("open this URL once to confirm" in m and "Action=ConfirmSubscription" in m
               for m in said), said


def test_a_single_certificate_file(db: Path, signer: Signer, start_server,
                                   tmp_path: Path) -> None:
    pem = tmp_path / "sns.pem"
    pem.write_bytes(signer.pem())
    server = start_server(db, None, ses=SnsVerifier([TOPIC], pem))
    status, answer = post(server.url + "/ses", raw(signer.sign(bodies(SES)[0])))
    assert status == 200 and answer["recorded"] == 1, answer


# -- paths not configured ----------------------------------------------------------------
def test_paths_not_configured_are_404(db: Path, keys, start_server, mailgun_key: str) -> None:
    server = start_server(db, keys)
    before = dump(db)
    for path, body in (("/mailgun", mailgun_signed(bodies(MAILGUN)[0], mailgun_key)),
                       ("/postmark", bodies(POSTMARK)[1]), ("/ses", bodies(SES)[0])):
        status, answer = post(server.url + path, raw(body))
        assert status == 404, (path, answer)
        assert "not configured" in answer["error"]
    assert dump(db) == before
    # --no-verify opens every path
    open_server = start_server(db, None)
    assert post(open_server.url + "/postmark", raw(bodies(POSTMARK)[1]))[0] == 200


def test_mailgun_key_file_and_cli_refusals(db: Path, tmp_path: Path, capsys) -> None:
    from journeytui.cli import main

    def run(*argv: str) -> tuple[int, str]:
        code = main(["serve-webhook", "--db", str(db), *argv])
        return code, capsys.readouterr().err

    code, err = run("--ses-cert", str(tmp_path))
    assert code == 2 and "--ses-cert needs --ses-topic" in err
    code, err = run("--ses-topic", "SES_Events")
    assert code == 2 and "not a topic ARN" in err
    code, err = run("--postmark-auth", "justauser")
    assert code == 2 and "expected USER:PASSWORD" in err
    code, err = run("--mailgun-key", "@" + str(tmp_path / "missing"))
    assert code == 2 and "no such file" in err
    code, err = run("--mailgun-key", "k", "--no-verify")
    assert code == 2 and "contradict" in err
    code, err = run("--ses-topic", TOPIC, "--ses-cert", str(tmp_path / "none.pem"))
    assert code == 2 and "no such file" in err
    assert "Traceback" not in err


def test_oversized_bodies_are_413_on_every_path(db: Path, signer: Signer, start_server,
                                                tmp_path: Path, mailgun_key: str) -> None:
    server = start_server(
        db, None, max_body=4096, mailgun=MailgunVerifier(mailgun_key),
        postmark=PostmarkAuth("u:p"),
        ses=SnsVerifier([TOPIC], cert_cache(tmp_path, signer), fetch=False))
    padding_ = {"padding": "x" * 5000}
    before = dump(db)
    for path, body, headers in (
        ("/mailgun", mailgun_signed({**bodies(MAILGUN)[0], **padding_}, mailgun_key), {}),
        ("/postmark", {**bodies(POSTMARK)[1], **padding_}, basic("u", "p")),
        ("/ses", signer.sign({**bodies(SES)[0], **padding_}), {}),
    ):
        status, answer = post(server.url + path, raw(body), headers)
        assert status == 413 and "4,096" in answer["error"], (path, answer)
    assert dump(db) == before


def test_a_locked_store_is_503_on_every_path(db: Path, signer: Signer, start_server,
                                             tmp_path: Path, mailgun_key: str) -> None:
    import sqlite3

    server = start_server(
        db, None, lock_wait=0.2, mailgun=MailgunVerifier(mailgun_key),
        postmark=PostmarkAuth("u:p"),
        ses=SnsVerifier([TOPIC], cert_cache(tmp_path, signer), fetch=False))
    requests = (
        ("/mailgun", lambda: mailgun_signed(bodies(MAILGUN)[0], mailgun_key), {}),
        ("/postmark", lambda: bodies(POSTMARK)[1], basic("u", "p")),
        ("/ses", lambda: signer.sign(bodies(SES)[0]), {}),
    )
    before = dump(db)
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        other.execute("UPDATE meta SET value = value WHERE key = 'app'")
        for path, body, headers in requests:
            status, answer = post(server.url + path, raw(body()), headers)
            assert status == 503 and "retry" in answer["error"], (path, answer)
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert dump(db) == before
    for path, body, headers in requests:  # the providers' retries
        status, answer = post(server.url + path, raw(body()), headers)
        assert status == 200 and answer["recorded"] == 1, (path, answer)
