"""`journeytui serve-webhook`: receive providers' event webhooks into the store."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from journeytui.cli import db_path
from journeytui.errors import UserError


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2}
    t = text.strip().lower().removesuffix("b")
    factor = units.get(t[-1:], 1)
    if t[-1:] in units:
        t = t[:-1]
    try:
        n = int(t) * factor
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size in bytes (e.g. 5000000, 512k, 5m)"
        ) from None
    if n < 1024:
        raise argparse.ArgumentTypeError(f"{text!r}: at least 1024 bytes")
    return n


def _port(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: a port is 0…65535 (0: any free port)")
    return n


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from journeytui.webhook.server import MAX_BODY

    parser = sub.add_parser(
        "serve-webhook",
        parents=[common],
        help="receive providers' signed event webhooks into the store (live data)",
        description="Receive providers' event webhooks and record them in the store, "
        "journeys advanced as after an import. POST /sendgrid, /mailgun, /postmark and "
        "/ses take each provider's webhook body, verified its own way; a path whose "
        "provider is not configured answers 404. GET /health says whether the store is "
        "reachable. A 2xx is sent only once the events are committed (requests arriving "
        "together are committed in one transaction). See the README, section 'Live data: "
        "serve-webhook'.",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; put a TLS reverse "
                        "proxy in front for the internet)")
    parser.add_argument("--port", type=_port, default=8025, help="port (default 8025)")
    parser.add_argument(
        "--sendgrid-key",
        metavar="KEY|@FILE",
        help="SendGrid's verification key for the signed Event Webhook (base64), or @FILE "
        "holding it",
    )
    parser.add_argument(
        "--mailgun-key",
        metavar="KEY|@FILE",
        help="Mailgun's HTTP webhook signing key (opens POST /mailgun), or @FILE holding it",
    )
    parser.add_argument(
        "--postmark-auth",
        metavar="USER:PASS|@FILE",
        help="the basic auth credentials set on the Postmark webhook (opens POST /postmark)",
    )
    parser.add_argument(
        "--ses-topic",
        metavar="ARN",
        action="append",
        help="an SNS topic ARN whose SES events are accepted (opens POST /ses; repeat for "
        "several topics)",
    )
    parser.add_argument(
        "--ses-cert",
        metavar="FILE|DIR",
        help="the SNS signing certificate (PEM file), or a directory caching the "
        "certificates by URL (default ~/.cache/journeytui/sns-certs, fetched over https "
        "when missing)",
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="accept requests without checking a signature (anyone who can reach the "
        "port can write; for local tests only)",
    )
    parser.add_argument(
        "--max-body",
        type=_size,
        default=MAX_BODY,
        metavar="BYTES",
        help=f"largest body accepted, else 413 (default {MAX_BODY:,}; 512k, 5m work too)",
    )
    parser.set_defaults(func=run_webhook)


def run_webhook(args: argparse.Namespace) -> int:
    from journeytui.webhook.server import Config, serve
    from journeytui.webhook.verify import (
        MailgunVerifier,
        PostmarkAuth,
        SendGridVerifier,
        SnsVerifier,
        read_key_argument,
    )

    given = [opt for opt, value in (
        ("--sendgrid-key", args.sendgrid_key), ("--mailgun-key", args.mailgun_key),
        ("--postmark-auth", args.postmark_auth), ("--ses-topic", args.ses_topic),
        ("--ses-cert", args.ses_cert)) if value is not None]
    if given and args.no_verify:
        raise UserError(f"{given[0]} and --no-verify contradict each other; give one")
    if not given and not args.no_verify:
        raise UserError(
            "serve-webhook needs at least one provider's verification, so that only the "
            "provider can write: --sendgrid-key KEY (or @FILE), --mailgun-key KEY, "
            "--postmark-auth USER:PASS, --ses-topic ARN. To accept unverified requests "
            "anyway (local tests only), give --no-verify"
        )
    if args.ses_cert is not None and args.ses_topic is None:
        raise UserError("--ses-cert needs --ses-topic ARN (the SNS topics whose SES events "
                        "are accepted)")
    config = Config(
        db=Path(db_path(args)),
        host=args.host,
        port=args.port,
        no_verify=args.no_verify,
        max_body=args.max_body,
    )
    if args.sendgrid_key is not None:
        config.sendgrid = SendGridVerifier(read_key_argument(args.sendgrid_key))
    if args.mailgun_key is not None:
        config.mailgun = MailgunVerifier(read_key_argument(args.mailgun_key, "--mailgun-key"))
    if args.postmark_auth is not None:
        config.postmark = PostmarkAuth(read_key_argument(args.postmark_auth, "--postmark-auth"))
    if args.ses_topic is not None:
        cert = None
        if args.ses_cert is not None:
            cert = Path(args.ses_cert.removeprefix("@")).expanduser()
        config.ses = SnsVerifier(args.ses_topic, cert)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    logger = logging.getLogger("journeytui.webhook")
    logger.addHandler(handler)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        asyncio.run(serve(config))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    return 0
