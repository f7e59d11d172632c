"""SendGrid's signed Event Webhook: ECDSA P-256 / SHA-256 verification.

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
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from journeytui.errors import UserError

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
