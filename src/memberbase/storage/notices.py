"""Change notices between server processes: PostgreSQL NOTIFY, one LISTEN connection per process.

A notice sent inside a transaction is delivered when it commits (an org reload), one sent
outside at once (a failed login). SQLite has no NOTIFY: there, nothing is announced and
the listener never runs, so nothing that depends on notices is cached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from memberbase.storage.database import reading

ORG_CHANGED = "memberbase_org_changed"
LOGIN_FAILED = "memberbase_login_failed"
APPLICATION_NAME = "memberbase-notices"  # how the listening connection shows in pg_stat_activity
_PAYLOAD_MAX = 1000  # NOTIFY takes up to 8000 bytes; an empty payload means "anything"
_NOTIFY = sa.text("SELECT pg_notify(:channel, :payload)")

log = logging.getLogger(__name__)


async def announce(conn: AsyncConnection, channel: str, payload: str) -> None:
    if conn.dialect.name != "postgresql":
        return
    payload = payload if len(payload.encode()) <= _PAYLOAD_MAX else ""
    await conn.execute(_NOTIFY, {"channel": channel, "payload": payload})


async def announce_now(engine: AsyncEngine, channel: str, payload: str) -> None:
    """Announce outside any transaction: delivered at once."""
    if engine.dialect.name != "postgresql":
        return
    async with reading(engine) as conn:
        await announce(conn, channel, payload)


Handler = Callable[[str, str], None]


class NoticeListener:
    """LISTEN on the notice channels, reconnecting when the connection is lost.

    `on_live(True)` once listening, `on_live(False)` when the connection is lost or
    stops answering the periodic probe: the notices in between are missed, so whoever
    relies on them must stop trusting what it kept.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        on_notice: Handler,
        on_live: Callable[[bool], None],
        *,
        probe_every: float = 10.0,
        retry_after: float = 1.0,
    ) -> None:
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_notice = on_notice
        self._on_live = on_live
        self._probe_every = probe_every
        self._retry_after = retry_after

    def _deliver(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        self._on_notice(channel, payload)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._listen(stop)
            except Exception as exc:
                # Whatever broke the feed, nothing is kept while it is down: keep trying.
                log.warning("change notices unavailable, retrying: %r", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._retry_after)

    async def _listen(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(
            self._dsn, timeout=5, server_settings={"application_name": APPLICATION_NAME}
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            for channel in (ORG_CHANGED, LOGIN_FAILED):
                await conn.add_listener(channel, self._deliver)
            self._on_live(True)
            while not (stop.is_set() or lost.is_set()):
                await _first_of(stop, lost, seconds=self._probe_every)
                if not (stop.is_set() or lost.is_set()):
                    # A connection cut without a FIN would otherwise look idle forever.
                    await conn.fetchval("SELECT 1", timeout=5)
        finally:
            self._on_live(False)
            if not conn.is_closed():
                await conn.close(timeout=5)


async def _first_of(*events: asyncio.Event, seconds: float) -> None:
    waiting = [asyncio.ensure_future(e.wait()) for e in events]
    _, pending = await asyncio.wait(waiting, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
