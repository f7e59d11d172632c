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
        help="receive SendGrid's signed Event Webhook into the store (live data)",
        description="Receive providers' event webhooks and record them in the store, one "
        "transaction per request, journeys advanced as after an import. POST /sendgrid "
        "takes SendGrid's Event Webhook body; GET /health says whether the store is "
        "reachable. A 2xx is sent only once the events are committed. See the README, "
        "section 'Live data: serve-webhook'.",
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
    from journeytui.webhook.verify import SendGridVerifier, read_key_argument

    if args.sendgrid_key is not None and args.no_verify:
        raise UserError("--sendgrid-key and --no-verify contradict each other; give one")
    if args.sendgrid_key is None and not args.no_verify:
        raise UserError(
            "serve-webhook needs --sendgrid-key KEY (or @FILE): the verification key of "
            "SendGrid's signed Event Webhook, so that only SendGrid can write. To accept "
            "unsigned requests anyway (local tests only), give --no-verify"
        )
    verifier = None
    if args.sendgrid_key is not None:
        verifier = SendGridVerifier(read_key_argument(args.sendgrid_key))
    config = Config(
        db=Path(db_path(args)),
        host=args.host,
        port=args.port,
        sendgrid=verifier,
        max_body=args.max_body,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    logger = logging.getLogger("journeytui.webhook")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        asyncio.run(serve(config))
    finally:
        logger.removeHandler(handler)
    return 0
