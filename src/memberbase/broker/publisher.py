"""The outbox publisher: delivers stored events to the broker, at least once, in order.

Rows are read in outbox id order (commit order per customer, see storage/outbox)
and published one acknowledged message at a time; a row is marked published only
after the broker acknowledged it. When the broker is away the publisher stops at
the first failure and retries that same event with back-off, so no later event
of the customer overtakes it. A crash between the acknowledgement and the mark
republishes a few events: consumers deduplicate by event id.

Only one publisher runs at a time: on PostgreSQL it holds a session advisory lock
(the other server processes stand by), on SQLite a lock file beside the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from memberbase.storage import outbox
from memberbase.storage.outbox import StoredEvent

log = logging.getLogger("memberbase.publisher")

# pg_advisory_lock key of the single active publisher ("memberbase outbox" in ASCII, truncated).
PUBLISHER_LOCK_KEY = 0x6D62_6F75_7462_6F78
BATCH = 500
Alive = Callable[[], Awaitable[bool]]  # is this process still the active publisher?
IDLE_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 5.0


class Sink(Protocol):
    async def publish(self, event: StoredEvent, message_id: str | None = None) -> None: ...

    async def close(self) -> None: ...


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class OutboxPublisher:
    def __init__(self, engine: AsyncEngine, sink: Sink, batch: int = BATCH) -> None:
        self._engine = engine
        self._sink = sink
        self._batch = batch
        self.published = 0

    async def publish_pending(self) -> int:
        """Publish everything pending now; raises on a broker failure after marking what got through."""
        total = 0
        while True:
            async with self._engine.connect() as conn:
                events = await outbox.unpublished(conn, self._batch)
            if not events:
                return total
            delivered: list[StoredEvent] = []
            try:
                for event in events:
                    await self._sink.publish(event)
                    delivered.append(event)
            finally:
                if delivered:
                    async with self._engine.begin() as conn:
                        await outbox.mark_published(conn, delivered, dt.datetime.now(dt.UTC))
                    total += len(delivered)
                    self.published += len(delivered)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set, as the single active publisher."""
        async with leadership(self._engine, stop) as still_leader:
            backoff = IDLE_SECONDS
            while not stop.is_set():
                if not await still_leader():
                    log.warning("publisher lost its lock; standing down")
                    return
                try:
                    sent = await self.publish_pending()
                    backoff = IDLE_SECONDS
                    if not sent:
                        await _sleep_unless(stop, IDLE_SECONDS)
                except Exception as exc:  # broker or database away: retry the same event later
                    log.warning(
                        "publishing paused (%s: %s); retrying in %.1fs", type(exc).__name__, exc, backoff
                    )
                    await _sleep_unless(stop, backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


@contextlib.asynccontextmanager
async def leadership(engine: AsyncEngine, stop: asyncio.Event) -> AsyncIterator[Alive]:
    if engine.dialect.name == "postgresql":
        async with _postgres_lock(engine, stop) as check:
            yield check
    else:
        async with _file_lock(engine, stop) as check:
            yield check


@contextlib.asynccontextmanager
async def _postgres_lock(engine: AsyncEngine, stop: asyncio.Event) -> AsyncIterator[Alive]:
    conn: AsyncConnection = await engine.connect()
    held = False
    try:
        while not stop.is_set() and not held:
            held = bool(
                (
                    await conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": PUBLISHER_LOCK_KEY})
                ).scalar()
            )
            await conn.commit()
            if not held:
                await _sleep_unless(stop, 1.0)

        async def alive() -> bool:
            try:
                await conn.execute(sa.text("SELECT 1"))
                await conn.commit()
                return True
            except Exception:
                return False

        yield alive
    finally:
        with contextlib.suppress(Exception):
            if held:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": PUBLISHER_LOCK_KEY})
                await conn.commit()
        await conn.close()


@contextlib.asynccontextmanager
async def _file_lock(engine: AsyncEngine, stop: asyncio.Event) -> AsyncIterator[Alive]:
    database = engine.url.database
    path = Path(f"{database}.publisher.lock") if database and database != ":memory:" else None
    handle = None if path is None else path.open("a")
    try:
        while handle is not None and not stop.is_set():
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await _sleep_unless(stop, 1.0)

        async def alive() -> bool:
            return True

        yield alive
    finally:
        if handle is not None:
            handle.close()


async def replay(
    engine: AsyncEngine,
    sink: Sink,
    since: dt.datetime,
    until: dt.datetime | None,
    org_id: int | None,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Re-publish every event that occurred in [since, until), published before or not.

    Each replayed message gets a fresh broker message id (the original is in the body),
    so the stream's duplicate window does not swallow it; consumers deduplicate by id.
    """
    token = uuid.uuid4().hex[:12]
    after = 0
    sent = 0
    while True:
        async with engine.connect() as conn:
            events = await outbox.window(conn, since, until, org_id, after, BATCH)
        if not events:
            return sent
        for event in events:
            await sink.publish(event, message_id=f"{event.event_id}:replay:{token}")
            sent += 1
            progress(1)
        after = events[-1].id


async def count_window(
    engine: AsyncEngine, since: dt.datetime, until: dt.datetime | None, org_id: int | None
) -> int:
    async with engine.connect() as conn:
        return await outbox.count_window(conn, since, until, org_id)
