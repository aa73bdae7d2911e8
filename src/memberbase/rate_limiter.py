"""Counting requests per org and API with the `limits` library (failed logins: login_attempts.py).

Counters live in Redis when a Redis URL is configured, so every server process
counts against the same windows; otherwise in this process (a single-process
install). Fixed one-minute windows: exact counts, so the limit holds across
processes to the request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

if TYPE_CHECKING:
    import coredis


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window resets


class RateLimiter:
    def __init__(self, redis_url: str | None, prefix: str = "memberbase") -> None:
        # Every process of one deployment must use the same prefix: it names the shared counters.
        self._prefix = prefix
        self._pool: coredis.ConnectionPool | None = None
        if redis_url:
            # Imported only here: coredis (with numpy and beartype under it) is half a second of
            # every worker's start, which a process without Redis need not pay.
            import coredis

            # Our own pool, so that shutting down closes its connections.
            self._pool = coredis.ConnectionPool.from_url(redis_url)
            # The type hints say scalars only; the Redis storage takes a pool too (documented).
            storage = storage_from_string(f"async+{redis_url}", connection_pool=self._pool)  # type: ignore[arg-type]
        else:
            storage = storage_from_string("async+memory://")
        self._limiter = FixedWindowRateLimiter(cast(Storage, storage))

    @property
    def pool(self) -> coredis.ConnectionPool | None:
        """The Redis connections, for other shared counters (login_attempts.py); None: in process."""
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.disconnect()

    async def _verdict(self, item: RateLimitItem, allowed: bool, *key: str) -> Verdict:
        stats = await self._limiter.get_window_stats(item, *key)
        reset_after = max(1, int(stats.reset_time - time.time() + 0.999))
        return Verdict(allowed, item.amount, max(0, stats.remaining), reset_after)

    async def request(self, org_id: int, api: str, per_minute: int) -> Verdict:
        item = RateLimitItemPerMinute(per_minute)
        key = (self._prefix, "api", str(org_id), api)
        allowed = await self._limiter.hit(item, *key)
        return await self._verdict(item, allowed, *key)
