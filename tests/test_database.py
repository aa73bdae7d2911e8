"""Engines: a pooled PostgreSQL connection the server closed is replaced, without a pre-ping."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
import sqlalchemy as sa

from memberbase.storage.database import create_engine, reading
from memberbase.storage.tables import orgs
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


@pytest.mark.parametrize(
    "text", ["{}", "[]", '{"City_name": "Pune"}', '[{"type": "sms", "value": "1"}]', "null", '"x"', "{ }"]
)
def test_json_columns_read_as_json_loads_reads_them(text: str) -> None:
    import json

    from memberbase.storage.database import _json_loads

    assert _json_loads(text) == json.loads(text)


async def test_empty_json_values_come_back_as_new_containers(database_url: str) -> None:
    """The engines read JSON with the short way for `{}` and `[]`; each read gets its own."""
    from memberbase.storage.database import _json_loads

    engine = create_engine(database_url)
    try:
        assert engine.dialect._json_deserializer is _json_loads  # type: ignore[attr-defined]
        async with engine.begin() as conn:
            await conn.execute(
                orgs.insert().values(id=777_003, name="Json", config={}, version=1, updated_at=sa.func.now())
            )
            query = sa.select(orgs.c.config, orgs.c.config).where(orgs.c.id == 777_003)
            first, second = (await conn.execute(query)).one()
            await conn.execute(orgs.delete().where(orgs.c.id == 777_003))
    finally:
        await engine.dispose()
    assert first == second == {}
    first["changed"] = True
    assert second == {}
