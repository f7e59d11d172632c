"""Connection rate limits per address, connections not logged in yet, demo seats."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

C = TypeVar("C")


class RateLimiter:
    """A token bucket per client address.

    Each address starts with *burst* tokens; a connection takes one; tokens come back
    at *per_minute* a minute up to *burst*.  A connection with no token is refused.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # addr -> (tokens, at)

    def allow(self, addr: str) -> bool:
        now = self.clock()
        tokens, at = self._buckets.get(addr, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[addr] = (tokens, now)
        if len(self._buckets) > 10_000:
            self._forget_full(now)
        return allowed

    def retry_after(self, addr: str) -> float:
        """Seconds until *addr* has a token again (0 if it has one now)."""
        now = self.clock()
        tokens, at = self._buckets.get(addr, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold nothing a new bucket would not."""
        for addr, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.burst:
                del self._buckets[addr]


class Seats:
    """At most *limit* sessions at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0

    @property
    def full(self) -> bool:
        return self.taken >= self.limit

    def take(self) -> bool:
        if self.full:
            return False
        self.taken += 1
        return True

    def give_back(self) -> None:
        self.taken = max(0, self.taken - 1)

    def message(self) -> str:
        if self.limit == 1:
            return "journeytui: the one demo seat is taken, try again in a minute"
        return f"journeytui: all {self.limit} demo seats are taken, try again in a minute"


class PreAuth(Generic[C]):
    """Connections that have not logged in yet (OpenSSH's MaxStartups, kept simple).

    At most *per_address* from one address: a further one is refused (:meth:`admit`
    returns False, the caller closes it at once).  At most *total* in all: a new one
    makes room by evicting the oldest (handed to *evict*), so a flood from many
    addresses cannot keep a visitor out; it only keeps itself busy reconnecting.
    A connection leaves with :meth:`forget` (logged in, or gone).
    """

    def __init__(
        self, total: int, per_address: int, *, addr: Callable[[C], str],
        evict: Callable[[C], None], on_drop: Callable[[C, int], None] | None = None,
    ) -> None:
        self.total = total
        self.per_address = per_address
        self._addr = addr
        self._evict = evict
        self._on_drop = on_drop
        self.waiting: dict[C, str] = {}  # oldest first
        self.by_address: dict[str, int] = {}
        self.dropped = 0
        self.evicted = 0

    def admit(self, conn: C) -> bool:
        address = self._addr(conn)
        if self.by_address.get(address, 0) >= self.per_address:
            self.dropped += 1
            if self._on_drop is not None:
                self._on_drop(conn, self.dropped)
            return False
        while len(self.waiting) >= self.total:
            oldest = next(iter(self.waiting))
            self.forget(oldest)
            self.evicted += 1
            self._evict(oldest)
        self.waiting[conn] = address
        self.by_address[address] = self.by_address.get(address, 0) + 1
        return True

    def forget(self, conn: C) -> None:
        address = self.waiting.pop(conn, None)
        if address is None:
            return
        left = self.by_address[address] - 1
        if left:
            self.by_address[address] = left
        else:
            del self.by_address[address]
