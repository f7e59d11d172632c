"""The HTTP side of ``journeytui serve-webhook`` (aiohttp).

Routes: ``POST /sendgrid`` (SendGrid's Event Webhook body, a JSON array),
``POST /mailgun``, ``POST /postmark``, ``POST /ses`` (one webhook body per request,
mapped by :mod:`journeytui.importers.providers`), each with its provider's
verification (:mod:`journeytui.webhook.verify`), and ``GET /health``.  A path whose
provider was not configured answers 404.  Every answer is JSON.  A 2xx is sent only
after the request's events are committed; every refusal (400, 403, 404, 408, 413, 503)
writes nothing.  One log line per request: provider, status, events recorded /
duplicate / skipped, milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.db import StoreError
from journeytui.textsafe import safe_text
from journeytui.webhook.ingest import (
    BadBody,
    Outcome,
    Prepared,
    StoreBusy,
    Writer,
    nothing_to_write,
    parse_object,
    prepare_mapped,
    prepare_sendgrid,
)
from journeytui.webhook.verify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CertUnavailable,
    MailgunVerifier,
    PostmarkAuth,
    SendGridVerifier,
    SnsVerifier,
)

log = logging.getLogger("journeytui.webhook")

#: Default largest body accepted (bytes).  SendGrid posts batches well below this.
MAX_BODY = 5 * 1024 * 1024
#: A body must arrive within this many seconds (else 408).
READ_TIMEOUT_S = 30.0
#: On SIGTERM/SIGINT, requests in flight get this long to finish.
SHUTDOWN_TIMEOUT_S = 60.0


PROVIDERS = ("sendgrid", "mailgun", "postmark", "ses")
#: What starts each path (for a 404 on a path that was not configured).
OPTIONS = {"sendgrid": "--sendgrid-key", "mailgun": "--mailgun-key",
           "postmark": "--postmark-auth", "ses": "--ses-topic"}


@dataclass
class Config:
    db: Path
    host: str = "127.0.0.1"
    port: int = 8025
    sendgrid: SendGridVerifier | None = None
    mailgun: MailgunVerifier | None = None
    postmark: PostmarkAuth | None = None
    ses: SnsVerifier | None = None
    no_verify: bool = False  # every path open, nothing checked
    max_body: int = MAX_BODY
    read_timeout: float = READ_TIMEOUT_S
    shutdown_timeout: float = SHUTDOWN_TIMEOUT_S
    lock_wait: float | None = None  # None: ingest.LOCK_WAIT_S
    clock: Callable[[], float] = time.time

    def paths(self) -> list[str]:
        """The providers whose path is open."""
        return [p for p in PROVIDERS if self.no_verify or getattr(self, p) is not None]


def _answer(code: int, **data: Any) -> web.Response:
    return web.json_response(data, status=code)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class Refused(Exception):
    """A request answered with *status* and *reason*, nothing recorded."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Receiver:
    """The aiohttp application and the writer behind it."""

    def __init__(self, config: Config, writer: Writer) -> None:
        self.config = config
        self.writer = writer
        self.requests = 0
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.app = web.Application(client_max_size=config.max_body)
        for provider in PROVIDERS:
            self.app.router.add_post(f"/{provider}", self._handler(provider))
        self.app.router.add_get("/health", self.health)

    def _log(self, request: web.Request, status: int, started: float, what: str) -> None:
        ms = (time.perf_counter() - started) * 1000
        peer = request.remote or "-"
        log.info("%s %s %d %s, %.0f ms, from %s", request.method, request.path, status,
                 what, ms, peer)

    def _handler(self, provider: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            self.requests += 1
            self.in_flight += 1
            self.idle.clear()
            try:
                return await self._receive(request, provider, self.requests)
            finally:
                self.in_flight -= 1
                if not self.in_flight:
                    self.idle.set()

        return handle

    async def _receive(self, request: web.Request, provider: str, number: int
                       ) -> web.Response:
        started = time.perf_counter()
        try:
            outcome = await self._record(request, provider, number)
        except Refused as exc:
            self._log(request, exc.status, started,
                      f"{provider}: nothing recorded ({exc.reason})")
            return _answer(exc.status, error=exc.reason, recorded=0)
        if outcome is None:  # an SNS subscription message: said in its own log line
            self._log(request, 200, started, f"{provider}: nothing to record")
            return _answer(200, events=0, recorded=0)
        what = (f"{provider}: {_plural(outcome.events, 'event')}: {outcome.recorded:,} recorded, "
                f"{outcome.duplicate:,} duplicate, {outcome.skipped:,} skipped")
        if outcome.ignored:
            what += f", {outcome.ignored:,} ignored"
        if outcome.parked:
            what += f", {outcome.parked:,} waiting for their email"
        if outcome.requests > 1:
            what = (f"{provider} request {outcome.number}: "
                    f"{_plural(outcome.request_events, 'event')}, committed in one transaction "
                    f"with {_plural(outcome.requests - 1, 'other request')}; the transaction: "
                    + what.split(": ", 1)[1])
        if outcome.timing:
            what += " (" + ", ".join(f"{k} {v:.0f}" for k, v in outcome.timing.items()) + " ms)"
        self._log(request, 200, started, what)
        return _answer(200, **outcome.to_dict())

    async def _record(self, request: web.Request, provider: str, number: int
                      ) -> Outcome | None:
        config = self.config
        label = f"POST /{provider} request {number}"
        if provider not in config.paths():
            raise Refused(404, f"POST /{provider} is not configured on this receiver (start "
                               f"it with {OPTIONS[provider]})")
        length = request.content_length
        if length is not None and length > config.max_body:
            raise Refused(413, f"the body is {length:,} bytes; at most "
                               f"{config.max_body:,} are accepted (--max-body)")
        if provider == "postmark" and config.postmark is not None:
            why = config.postmark.check(request.headers.get("Authorization"))
            if why is not None:
                raise Refused(403, f"not verified: {why}")
        try:
            async with asyncio.timeout(config.read_timeout):
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Refused(413, f"the body is more than {config.max_body:,} bytes "
                               "(--max-body)") from None
        except TimeoutError:
            raise Refused(408, f"the body did not arrive within {config.read_timeout:g} s") \
                from None
        reading = time.perf_counter()
        try:
            prepared = await self._verify_and_prepare(request, provider, body, label)
        except BadBody as exc:
            raise Refused(400, safe_text(str(exc), 2000)) from None
        read_ms = (time.perf_counter() - reading) * 1000
        if prepared is None:
            return None
        if not prepared.pairs:  # every event left out while reading: nothing to write
            return nothing_to_write(prepared)
        try:
            outcome = await asyncio.wrap_future(self.writer.submit(prepared, number))
            outcome.timing = {"verify+read": read_ms, **outcome.timing}
            return outcome
        except BadBody as exc:
            raise Refused(400, safe_text(str(exc), 2000)) from None
        except StoreBusy as exc:
            raise Refused(503, f"the store is busy: {exc}; retry later") from None
        except StoreError as exc:
            raise Refused(503, safe_text(str(exc), 2000)) from None
        except Exception as exc:  # logged, and the provider retries
            log.exception("POST /%s: unexpected error", provider)
            raise Refused(500, f"unexpected error: {type(exc).__name__}") from None

    async def _verify_and_prepare(self, request: web.Request, provider: str,
                                  body: bytes, label: str) -> Prepared | None:
        """Check who sent *body* (403) and read it (400); None: nothing to record."""
        config = self.config
        if provider == "sendgrid":
            if config.sendgrid is not None:
                why = config.sendgrid.check(
                    body,
                    request.headers.get(SIGNATURE_HEADER),
                    request.headers.get(TIMESTAMP_HEADER),
                    config.clock(),
                )
                if why is not None:
                    raise Refused(403, f"not verified: {why}")
            return await asyncio.to_thread(prepare_sendgrid, body, label)
        value = await asyncio.to_thread(parse_object, body, provider)
        if provider == "mailgun" and config.mailgun is not None:
            why = config.mailgun.check(value, config.clock())
            if why is not None:
                raise Refused(403, f"not verified: {why}")
        if provider == "ses":
            if config.ses is not None:
                try:
                    why = await asyncio.to_thread(config.ses.check, value)
                except CertUnavailable as exc:
                    raise Refused(503, f"cannot verify now: {exc}; retry later") from None
                if why is not None:
                    raise Refused(403, f"not verified: {why}")
            kind = value.get("Type")
            if kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
                say_subscription(value)
                return None
        return await asyncio.to_thread(prepare_mapped, provider, value, label, len(body))

    async def health(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        path = self.config.db

        def probe() -> dict[str, Any]:
            with Store.open(path, readonly=True) as store:
                emails = store.count("emails")
                version = store.conn.execute("PRAGMA user_version").fetchone()[0]
            return {"status": "ok", "store": str(path), "schema": version, "emails": emails}

        try:
            async with asyncio.timeout(5):
                data = await asyncio.to_thread(probe)
        except TimeoutError:
            self._log(request, 503, started, "health: the store did not answer within 5 s")
            return _answer(503, status="unavailable", store=str(path),
                           reason="the store did not answer within 5 s")
        except (UserError, sqlite3.Error, OSError) as exc:  # the store is not reachable
            reason = safe_text(str(exc), 500)
            self._log(request, 503, started, f"health: {reason}")
            return _answer(503, status="unavailable", store=str(path), reason=reason)
        self._log(request, 200, started, "health: the store is reachable")
        return _answer(200, **data, requests=self.requests, in_flight=self.in_flight,
                       queued=self.writer.waiting, transactions=self.writer.transactions)


class Server:
    """Start, serve, stop.  ``await start()`` binds (port 0: a free one); ``await
    stop()`` stops listening, lets requests in flight finish, closes the store."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.writer: Writer | None = None
        self.receiver: Receiver | None = None
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> int:
        from journeytui.webhook import ingest

        lock_wait = self.config.lock_wait if self.config.lock_wait is not None else ingest.LOCK_WAIT_S
        self.writer = await asyncio.to_thread(Writer, self.config.db, lock_wait=lock_wait)
        self.receiver = receiver = Receiver(self.config, self.writer)
        self.runner = web.AppRunner(receiver.app, access_log=None,
                                    shutdown_timeout=self.config.shutdown_timeout)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await self.runner.cleanup()
            await asyncio.to_thread(self.writer.close)
            raise UserError(
                f"cannot listen on {self.config.host}:{self.config.port} "
                f"({exc.strerror or exc}); pick another --port or --host"
            ) from None
        addresses = self.runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.config.port
        return self.port

    async def stop(self) -> None:
        if self.runner is not None:
            # Stop listening, then let every request whose handler has started finish
            # (a body still arriving too): aiohttp's own shutdown stops reading from
            # connections at once, which would leave such a request without its body.
            for site in list(self.runner.sites):
                await site.stop()
            if self.receiver is not None:
                try:
                    async with asyncio.timeout(self.config.shutdown_timeout):
                        await self.receiver.idle.wait()
                except TimeoutError:
                    log.warning("%d requests still in flight after %g s: stopping anyway "
                                "(nothing of theirs was acknowledged)",
                                self.receiver.in_flight, self.config.shutdown_timeout)
            await self.runner.cleanup()
            self.runner = None
        if self.writer is not None:
            await asyncio.to_thread(self.writer.close)
            self.writer = None


def announce(config: Config, port: int, created: bool) -> None:
    where = f"http://{config.host}:{port}"
    if created:
        log.info("no store at %s: created a new, empty one", config.db)
    if config.no_verify:
        log.warning(
            "WARNING: --no-verify: requests are not verified; anyone who can reach %s "
            "can write events into %s", where, config.db,
        )
    routes = ", ".join(f"POST /{p}" for p in config.paths())
    log.info("listening on %s (%s, GET /health), writing into %s; "
             "stop with Ctrl-C or SIGTERM", where, routes, config.db)


def say_subscription(message: dict[str, Any]) -> None:
    """An SNS subscription message records nothing: the user confirms by hand."""
    topic = safe_text(str(message.get("TopicArn")), 300)
    url = safe_text(str(message.get("SubscribeURL")), 2000)
    if message.get("Type") == "SubscriptionConfirmation":
        log.warning("SNS asks to confirm the subscription of this receiver to %s: open "
                    "this URL once to confirm (nothing was recorded): %s", topic, url)
    else:
        log.warning("SNS says this receiver was unsubscribed from %s (to subscribe again: "
                    "%s)", topic, url)


async def serve(config: Config) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully."""
    server = Server(config)
    port = await server.start()
    assert server.writer is not None
    announce(config, port, server.writer.created)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("stopping: finishing the requests in flight (up to %g s)",
                 config.shutdown_timeout)
        await server.stop()
        log.info("stopped")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await server.stop()
