"""Pooled PostgreSQL connections that sat unused for a while are let go.

SQLAlchemy's pool keeps every connection it ever opened: a burst that opened thirty keeps
thirty on the server for the life of the process, and four servers held 92 of PostgreSQL's
100 connections while doing little. Here the pool hands out its most recently used
connection first (LIFO), so under a steady load the same few stay busy and the rest go
unused; every `idle_seconds / 4` a sweep closes the driver connection of each one unused
for `idle_seconds`. Its place in the pool stays: the next checkout that reaches it finds it
closed and opens a fresh one (storage/database._drop_closed_connections), as after a
database restart. Only connections at rest in the pool are swept, never one checked out.

Which connections are at rest is learnt from the pool's own checkin and checkout events
(public API); closing one is asyncpg's `terminate()`, which needs no await, so a sweep is
one step of the event loop and nothing can check a connection out halfway through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


class IdleConnections:
    """The engine's pooled connections at rest, and since when; `sweep` lets the stale ones go."""

    def __init__(self, engine: AsyncEngine, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._resting: dict[Any, tuple[float, Any]] = {}  # pool entry -> (since, DBAPI connection)
        pool = engine.sync_engine.pool
        event.listen(pool, "checkin", self._checked_in)
        event.listen(pool, "checkout", self._checked_out)
        event.listen(pool, "close", self._gone)
        event.listen(pool, "invalidate", self._gone_with_reason)

    @property
    def resting(self) -> int:
        return len(self._resting)

    def _checked_in(self, dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            self._resting[record] = (time.monotonic(), dbapi_connection)

    def _checked_out(self, _dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        self._resting.pop(record, None)

    def _gone(self, _dbapi_connection: Any, record: Any) -> None:
        self._resting.pop(record, None)

    def _gone_with_reason(self, _dbapi_connection: Any, record: Any, _exception: Any) -> None:
        self._resting.pop(record, None)

    def sweep(self, now: float | None = None) -> int:
        """Close the connections at rest for `idle_seconds` or more; how many were closed."""
        now = time.monotonic() if now is None else now
        stale = [r for r, (since, _) in self._resting.items() if now - since >= self.idle_seconds]
        for record in stale:
            _, dbapi_connection = self._resting.pop(record)
            driver = getattr(dbapi_connection, "driver_connection", None)
            if driver is not None and not driver.is_closed():
                driver.terminate()  # synchronous; the checkout hook replaces it when next needed
        return len(stale)

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep every quarter of `idle_seconds` until `stop` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.idle_seconds / 4)
            if not stop.is_set():
                closed = self.sweep()
                if closed:
                    log.info("closed %d pooled connection(s) unused for %s s", closed, self.idle_seconds)
