"""Who may write: each provider's webhook verification.

SendGrid's signed Event Webhook (ECDSA P-256 / SHA-256), Mailgun's HMAC signature,
Postmark's basic auth, and the SNS message signature (with a topic allow-list) of
Amazon SES events.

SendGrid signs ``timestamp + body`` (the exact bytes of the
``X-Twilio-Email-Event-Webhook-Timestamp`` header value followed by the raw request
body) with its private key and sends the signature, base64 of its DER encoding, in
``X-Twilio-Email-Event-Webhook-Signature``.  The *verification key* SendGrid shows under
Mail Settings → Signed Event Webhook is base64 of the DER public key
(SubjectPublicKeyInfo).  A timestamp more than :data:`TOLERANCE_S` from the receiver's
clock is refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from journeytui.errors import UserError
from journeytui.textsafe import safe_text

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
#: How far the signed timestamp may be from the receiver's clock (seconds).
TOLERANCE_S = 300


def read_key_argument(value: str, option: str = "--sendgrid-key") -> str:
    """The key text of ``KEY`` or ``@FILE`` (the file's content, stripped)."""
    if not value.startswith("@"):
        return value.strip()
    path = Path(value[1:]).expanduser()
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise UserError(f"{option} @{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{option} @{path}: is a directory, not a key file") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise UserError(f"{option} @{path}: cannot read the key file ({why})") from None


class SendGridVerifier:
    """Checks requests against one SendGrid verification key."""

    def __init__(self, key_text: str, option: str = "--sendgrid-key") -> None:
        text = key_text.strip()
        hint = (
            "give the verification key SendGrid shows under Settings → Mail Settings → "
            "Event Webhook → Signature Verification (base64, starts with 'MFkwEwYHKoZIzj0CAQYI')"
        )
        if not text:
            raise UserError(f"{option}: the key is empty; {hint}")
        try:
            if text.startswith("-----BEGIN"):
                key = load_pem_public_key(text.encode("ascii", "replace"))
            else:
                der = base64.b64decode("".join(text.split()), validate=True)
                key = load_der_public_key(der)
        except (binascii.Error, ValueError, TypeError):
            raise UserError(f"{option}: not a public key in base64 DER; {hint}") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise UserError(f"{option}: not an ECDSA P-256 public key; {hint}")
        self._key = key

    def check(
        self, body: bytes, signature: str | None, timestamp: str | None, now: float
    ) -> str | None:
        """``None`` when the request is SendGrid's, else the reason it is refused."""
        if not signature:
            return f"missing header {SIGNATURE_HEADER}"
        if not timestamp:
            return f"missing header {TIMESTAMP_HEADER}"
        stamp = timestamp
        if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
            return f"header {TIMESTAMP_HEADER} is not unix seconds"
        if abs(now - int(stamp)) > TOLERANCE_S:
            return (
                f"header {TIMESTAMP_HEADER} is {int(now) - int(stamp):+d} s from this "
                f"server's clock (more than {TOLERANCE_S} s: a replay, or a clock to fix)"
            )
        try:
            der = base64.b64decode(signature.strip(), validate=True)
        except (binascii.Error, ValueError):
            return f"header {SIGNATURE_HEADER} is not base64"
        try:
            self._key.verify(der, timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "the signature does not match the body (wrong key, or the body was changed)"
        return None


# -- Mailgun ------------------------------------------------------------------------------
class MailgunVerifier:
    """Mailgun's signed webhooks: the body's ``signature`` object holds ``timestamp``,
    ``token`` and ``signature``, the hex HMAC-SHA256 of ``timestamp + token`` keyed with
    the account's *HTTP webhook signing key* (Mailgun: Sending → Webhooks)."""

    def __init__(self, key_text: str, option: str = "--mailgun-key") -> None:
        key = key_text.strip()
        if not key:
            raise UserError(
                f"{option}: the key is empty; give the HTTP webhook signing key Mailgun "
                "shows under Sending → Webhooks"
            )
        self._key = key.encode("utf-8")

    def check(self, body: Any, now: float) -> str | None:
        """``None`` when the parsed *body* is signed by Mailgun, else the reason."""
        sig = body.get("signature") if isinstance(body, dict) else None
        if not isinstance(sig, dict):
            return "the body has no 'signature' object (timestamp, token, signature)"
        stamp, token, given = sig.get("timestamp"), sig.get("token"), sig.get("signature")
        if isinstance(stamp, int) and not isinstance(stamp, bool):
            stamp = str(stamp)
        for field, value in (("timestamp", stamp), ("token", token), ("signature", given)):
            if not isinstance(value, str) or not value:
                return f"signature.{field} is missing or not a string"
        assert isinstance(stamp, str) and isinstance(token, str) and isinstance(given, str)
        if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
            return "signature.timestamp is not unix seconds"
        if abs(now - int(stamp)) > TOLERANCE_S:
            return (
                f"signature.timestamp is {int(now) - int(stamp):+d} s from this server's "
                f"clock (more than {TOLERANCE_S} s: a replay, or a clock to fix)"
            )
        expected = hmac.new(self._key, (stamp + token).encode("utf-8"), hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), given.strip().lower()):
            return "the signature does not match (wrong signing key, or a forged request)"
        return None


# -- Postmark -----------------------------------------------------------------------------
class PostmarkAuth:
    """Postmark's webhooks carry the HTTP basic auth credentials set on the webhook."""

    def __init__(self, text: str, option: str = "--postmark-auth") -> None:
        user, sep, password = text.strip().partition(":")
        if not sep or not user or not password:
            raise UserError(
                f"{option}: expected USER:PASSWORD (the basic auth credentials you set on "
                "the webhook in Postmark), or @FILE holding them"
            )
        self._expected = (user + ":" + password).encode("utf-8")

    def check(self, authorization: str | None) -> str | None:
        if not authorization:
            return "missing header Authorization (basic auth credentials)"
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return "header Authorization is not basic auth"
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return "header Authorization is not base64"
        if not hmac.compare_digest(given, self._expected):
            return "wrong user name or password"
        return None


# -- Amazon SES through SNS ---------------------------------------------------------------
#: SNS signing certificates are served from these hosts only (https).
SNS_CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                "TopicArn", "Type"),
}
#: The largest certificate fetched (bytes).
_CERT_MAX = 64 * 1024


def default_cert_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "journeytui" / "sns-certs"


class CertUnavailable(Exception):
    """The signing certificate could not be had now (not cached, fetch failed): the
    request is answered 503 so that SNS retries."""


class SnsVerifier:
    """Amazon SES events delivered by SNS HTTP(S) subscriptions.

    SNS signs each message (RSA with SHA1, ``SignatureVersion`` 1, or SHA256, version
    2) over its fields in a fixed order; the certificate is at ``SigningCertURL``, which
    must be https on an ``sns.<region>.amazonaws.com`` host.  *cert* is either one PEM
    certificate file used for every message, or a cache directory where the
    certificate of each URL is kept (fetched once over https when missing).  *topics*
    is the allow-list of topic ARNs: a valid signature only proves that *some* SNS topic
    sent the message."""

    def __init__(self, topics: list[str], cert: Path | None = None,
                 fetch: bool = True) -> None:
        if not topics:
            raise UserError(
                "/ses needs --ses-topic ARN (the SNS topic your SES events are published "
                "to): a valid SNS signature only proves that some AWS account's topic sent "
                "the message"
            )
        for arn in topics:
            if not arn.startswith("arn:aws") or arn.count(":") < 5:
                raise UserError(f"--ses-topic {arn!r}: not a topic ARN "
                                "(arn:aws:sns:REGION:ACCOUNT:NAME)")
        self.topics = frozenset(topics)
        self._fixed: x509.Certificate | None = None
        self._dir: Path | None = None
        self._fetch = fetch
        self._certs: dict[str, x509.Certificate] = {}
        path = cert or default_cert_cache()
        if path.is_dir() or cert is None:
            self._dir = path
        else:
            self._fixed = self._load(path)

    @staticmethod
    def _load(path: Path) -> x509.Certificate:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise UserError(f"--ses-cert {path}: no such file or directory") from None
        except OSError as exc:
            raise UserError(f"--ses-cert {path}: cannot read it ({exc.strerror})") from None
        try:
            return x509.load_pem_x509_certificate(data)
        except ValueError:
            raise UserError(f"--ses-cert {path}: not a PEM certificate (the .pem file "
                            "SigningCertURL points at)") from None

    @property
    def where(self) -> str:
        return str(self._dir) if self._dir is not None else "the --ses-cert file"

    def _cache_name(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.hostname}_{parts.path.strip('/').replace('/', '_')}"

    def certificate(self, url: str) -> x509.Certificate:
        """The certificate of *url* (already checked to be an SNS URL)."""
        if self._fixed is not None:
            return self._fixed
        cert = self._certs.get(url)
        if cert is not None:
            return cert
        assert self._dir is not None
        cached = self._dir / self._cache_name(url)
        try:
            data = cached.read_bytes()
        except OSError:
            data = self._download(url, cached)
        try:
            cert = x509.load_pem_x509_certificate(data)
        except ValueError:
            raise CertUnavailable(f"{cached} is not a PEM certificate") from None
        self._certs[url] = cert
        return cert

    def _download(self, url: str, cached: Path) -> bytes:
        if not self._fetch:
            raise CertUnavailable(f"the certificate {url} is not in {self._dir}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:  # https, host checked
                data = bytes(resp.read(_CERT_MAX + 1))
        except (OSError, ValueError) as exc:
            raise CertUnavailable(
                f"cannot fetch the SNS signing certificate {url} ({exc}); put it in "
                f"{self._dir} as {cached.name}"
            ) from None
        if len(data) > _CERT_MAX:
            raise CertUnavailable(f"the certificate at {url} is larger than {_CERT_MAX} bytes")
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(cached.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, cached)
        return data

    def check(self, message: Any) -> str | None:
        """``None`` when the parsed SNS *message* is signed by SNS and from an allowed
        topic, else the reason.  Raises :class:`CertUnavailable`."""
        if not isinstance(message, dict):
            return "not an SNS message (a JSON object)"
        kind = message.get("Type")
        fields = _SNS_FIELDS.get(kind) if isinstance(kind, str) else None
        if fields is None:
            return f"field Type is not one of {', '.join(_SNS_FIELDS)}"
        topic = message.get("TopicArn")
        if topic not in self.topics:
            return (f"topic {safe_text(str(topic), 200)} is not allowed (--ses-topic)")
        version = message.get("SignatureVersion")
        algorithm: hashes.HashAlgorithm
        if version == "1":
            algorithm = hashes.SHA1()  # noqa: S303 - what SNS signs with in version 1
        elif version == "2":
            algorithm = hashes.SHA256()
        else:
            return "field SignatureVersion is not 1 or 2"
        url = message.get("SigningCertURL") or message.get("SigningCertUrl")
        if not isinstance(url, str):
            return "field SigningCertURL is missing"
        parts = urlsplit(url)
        if parts.scheme != "https" or not SNS_CERT_HOST.match(parts.hostname or "") \
                or not parts.path.endswith(".pem") or parts.port not in (None, 443):
            return (f"SigningCertURL {safe_text(url, 200)} is not an https URL of an "
                    "sns.<region>.amazonaws.com host")
        text = ""
        for name in fields:
            value = message.get(name)
            if value is None and name == "Subject":
                continue
            if not isinstance(value, str):
                return f"field {name} is missing or not a string"
            text += f"{name}\n{value}\n"
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        except (binascii.Error, ValueError):
            return "field Signature is not base64"
        key = self.certificate(url).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            return "the signing certificate does not hold an RSA key"
        try:
            key.verify(signature, text.encode("utf-8"), padding.PKCS1v15(), algorithm)
        except InvalidSignature:
            return ("the signature does not match the message (forged or changed; or AWS "
                    f"changed certificates: see {self.where})")
        return None
