"""The HTTP side of ``journeytui serve-webhook`` (aiohttp).

Routes: ``POST /sendgrid`` (SendGrid's Event Webhook body, a JSON array) and
``GET /health``.  Every answer is JSON.  A 2xx is sent only after the request's events
are committed; every refusal (400, 403, 408, 413, 503) writes nothing.  One log line
per request: provider, status, events recorded / duplicate / skipped, milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.db import StoreError
from journeytui.textsafe import safe_text
from journeytui.webhook.ingest import BadBody, Outcome, StoreBusy, Writer
from journeytui.webhook.verify import SIGNATURE_HEADER, TIMESTAMP_HEADER, SendGridVerifier

log = logging.getLogger("journeytui.webhook")

#: Default largest body accepted (bytes).  SendGrid posts batches well below this.
MAX_BODY = 5 * 1024 * 1024
#: A body must arrive within this many seconds (else 408).
READ_TIMEOUT_S = 30.0
#: On SIGTERM/SIGINT, requests in flight get this long to finish.
SHUTDOWN_TIMEOUT_S = 60.0


@dataclass
class Config:
    db: Path
    host: str = "127.0.0.1"
    port: int = 8025
    sendgrid: SendGridVerifier | None = None  # None: --no-verify
    max_body: int = MAX_BODY
    read_timeout: float = READ_TIMEOUT_S
    shutdown_timeout: float = SHUTDOWN_TIMEOUT_S
    lock_wait: float | None = None  # None: ingest.LOCK_WAIT_S
    clock: Callable[[], float] = time.time


def _answer(code: int, **data: Any) -> web.Response:
    return web.json_response(data, status=code)


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
        self.app.router.add_post("/sendgrid", self.sendgrid)
        self.app.router.add_get("/health", self.health)

    def _log(self, request: web.Request, status: int, started: float, what: str) -> None:
        ms = (time.perf_counter() - started) * 1000
        peer = request.remote or "-"
        log.info("%s %s %d %s, %.0f ms, from %s", request.method, request.path, status,
                 what, ms, peer)

    async def sendgrid(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.in_flight += 1
        self.idle.clear()
        try:
            return await self._sendgrid(request)
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self.idle.set()

    async def _sendgrid(self, request: web.Request) -> web.Response:
        started = time.perf_counter()

        def refuse(status: int, reason: str) -> web.Response:
            self._log(request, status, started, f"sendgrid: nothing recorded ({reason})")
            return _answer(status, error=reason, recorded=0)

        length = request.content_length
        if length is not None and length > self.config.max_body:
            return refuse(413, f"the body is {length:,} bytes; at most "
                               f"{self.config.max_body:,} are accepted (--max-body)")
        try:
            async with asyncio.timeout(self.config.read_timeout):
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return refuse(413, f"the body is more than {self.config.max_body:,} bytes "
                               "(--max-body)")
        except TimeoutError:
            return refuse(408, f"the body did not arrive within {self.config.read_timeout:g} s")
        if self.config.sendgrid is not None:
            why = self.config.sendgrid.check(
                body,
                request.headers.get(SIGNATURE_HEADER),
                request.headers.get(TIMESTAMP_HEADER),
                self.config.clock(),
            )
            if why is not None:
                return refuse(403, f"not verified: {why}")
        try:
            outcome: Outcome = await asyncio.wrap_future(self.writer.submit(body))
        except BadBody as exc:
            return refuse(400, safe_text(str(exc), 2000))
        except StoreBusy as exc:
            return refuse(503, f"the store is busy: {exc}; retry later")
        except StoreError as exc:
            return refuse(503, safe_text(str(exc), 2000))
        except Exception as exc:  # logged, and the provider retries
            log.exception("POST /sendgrid: unexpected error")
            return refuse(500, f"unexpected error: {type(exc).__name__}")
        what = (f"sendgrid: {outcome.events} event{'' if outcome.events == 1 else 's'}: {outcome.recorded} recorded, "
                f"{outcome.duplicate} duplicate, {outcome.skipped} skipped")
        if outcome.ignored:
            what += f", {outcome.ignored} ignored"
        if outcome.parked:
            what += f", {outcome.parked} waiting for their email"
        self._log(request, 200, started, what)
        return _answer(200, **outcome.to_dict())

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
        return _answer(200, **data, requests=self.requests, in_flight=self.in_flight)


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
    if config.sendgrid is None:
        log.warning(
            "WARNING: --no-verify: requests are not verified; anyone who can reach %s "
            "can write events into %s", where, config.db,
        )
    log.info("listening on %s (POST /sendgrid, GET /health), writing into %s; "
             "stop with Ctrl-C or SIGTERM", where, config.db)


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
