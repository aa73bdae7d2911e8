"""Engines: a pooled PostgreSQL connection the server closed is replaced, without a pre-ping."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
import sqlalchemy as sa

from memberbase.storage.database import create_engine, reading
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.anyio


async def test_a_connection_the_server_closed_is_replaced_at_checkout() -> None:
    engine = create_engine(POSTGRES_ADMIN_URL, pool_size=1)
    try:
        async with reading(engine) as conn:
            pid = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))  # as a server restart would
        await asyncio.sleep(0.3)
        async with reading(engine) as conn:
            assert await conn.scalar(sa.text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()
