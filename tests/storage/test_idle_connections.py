"""Pooled connections unused for a while are let go; the pool hands out its most recent first."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.app import create_app
from memberbase.settings import Settings
from memberbase.storage.database import create_engine
from memberbase.storage.idle_connections import IdleConnections
from tests.conftest import postgres_database
from tests.support import serving

pytestmark = pytest.mark.anyio

PID = sa.text("SELECT pg_backend_pid()")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """PostgreSQL alone: SQLite has no server connections to let go (the app test below runs
    on both). A database of its own, so its connections are the only ones the test counts."""
    yield from postgres_database(f"memberbase_idle_{os.getpid()}")


async def _burst(engine: AsyncEngine, size: int) -> set[int]:
    """`size` connections at once; the server pids they had."""

    async def one() -> int:
        async with engine.connect() as conn:
            pid = int((await conn.execute(PID)).scalar_one())
            await asyncio.sleep(0.05)
            return pid

    return set(await asyncio.gather(*(one() for _ in range(size))))


async def _alive(database_url: str, pids: set[int]) -> set[int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT pid FROM pg_stat_activity"))
            return {int(r.pid) for r in rows} & pids
    finally:
        await engine.dispose()


async def until_gone(database_url: str, pids: set[int]) -> None:
    """A closed connection's server process ends a moment after the socket closes."""
    for _ in range(200):
        if not await _alive(database_url, pids):
            return
        await asyncio.sleep(0.05)


async def test_connections_at_rest_too_long_are_closed_and_reopened_when_needed(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=5)
    idle = IdleConnections(engine, idle_seconds=60)
    try:
        pids = await _burst(engine, 5)
        assert len(pids) == 5
        assert idle.resting == 5
        assert idle.sweep(now=time.monotonic() + 30) == 0  # not yet idle long enough
        async with engine.connect() as held:  # one in use is never swept
            kept = int((await held.execute(PID)).scalar_one())
            assert idle.sweep(now=time.monotonic() + 61) == 4
            await until_gone(postgres_url, pids - {kept})
            assert await _alive(postgres_url, pids) == {kept}
        again = await _burst(engine, 3)  # the pool opens fresh ones in the closed ones' places
        assert len(again) == 3
    finally:
        await engine.dispose()


async def test_the_pool_hands_out_its_most_recently_used_connection_first(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=5)
    try:
        await _burst(engine, 5)
        used = set()
        for _ in range(20):  # a steady trickle keeps one connection busy, the rest at rest
            async with engine.connect() as conn:
                used.add(int((await conn.execute(PID)).scalar_one()))
        assert len(used) == 1
    finally:
        await engine.dispose()


async def test_the_app_sweeps_its_pool_on_postgresql_only(database_url: str) -> None:
    def sweeping() -> list[Any]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "idle-connections"]

    async with serving(create_app(Settings(database_url=database_url))):
        assert len(sweeping()) == (0 if database_url.startswith("sqlite") else 1)
    async with serving(create_app(Settings(database_url=database_url, db_pool_idle_seconds=0))):
        assert sweeping() == []
