"""Hot reads: the driver itself on PostgreSQL autocommit connections, SQLAlchemy elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.database import ReadStatement, create_engine, reading
from memberbase.storage.tables import orgs
from memberbase.usecases.unit_of_work import UnitOfWork

pytestmark = pytest.mark.anyio
ORG_NAMES = ReadStatement(sa.select(orgs.c.id, orgs.c.name).where(orgs.c.id == sa.bindparam("org_id")))


async def test_reads_see_the_same_rows_in_and_out_of_a_transaction(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(engine) as uow:
            await uow.conn.execute(
                orgs.insert().values(id=777_001, name="Read", config={}, version=1, updated_at=sa.func.now())
            )
            # Inside the transaction the read goes through SQLAlchemy, and sees its own write.
            inside = await ORG_NAMES.fetch(uow.conn, {"org_id": 777_001})
            assert [dict(r) for r in inside] == [{"id": 777_001, "name": "Read"}]
        async with reading(engine) as conn:
            outside = await ORG_NAMES.fetch(conn, {"org_id": 777_001})
            assert [dict(r) for r in outside] == [{"id": 777_001, "name": "Read"}]
        async with UnitOfWork(engine) as uow:
            await uow.conn.execute(orgs.delete().where(orgs.c.id == 777_001))
    finally:
        await engine.dispose()


async def test_on_postgresql_a_reading_connection_skips_sqlalchemy(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(database_url)
    postgres = engine.dialect.name == "postgresql"
    calls: list[Any] = []
    real = AsyncConnection.execute

    async def counted(self: AsyncConnection, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return await real(self, *args, **kwargs)

    try:
        async with reading(engine) as conn:
            monkeypatch.setattr(AsyncConnection, "execute", counted)
            assert list(await ORG_NAMES.fetch(conn, {"org_id": -1})) == []
        assert len(calls) == (0 if postgres else 1)
    finally:
        await engine.dispose()


def test_an_expanding_list_needs_a_postgresql_form() -> None:
    listed = sa.select(orgs.c.id).where(orgs.c.id.in_(sa.bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="on_postgresql"):
        ReadStatement(listed)


async def test_in_a_transaction_on_postgresql_the_postgresql_form_runs(database_url: str) -> None:
    """Registration looks owners up inside its transaction: on PostgreSQL that must be the
    by-key form, not the plain join whose cached plan walked the table as it grew."""
    from memberbase.storage.customers import _OWNERS

    engine = create_engine(database_url)
    ran: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        ran.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with UnitOfWork(engine) as uow:
            params = {"org_id": 777_002, "pairs": [("mobile", "1")], "types": ["mobile"], "vals": ["1"]}
            assert list(await _OWNERS.fetch(uow.conn, params)) == []
    finally:
        await engine.dispose()
    (owners,) = [s for s in ran if "identifier_type" in s]
    assert ("unnest" in owners) == (engine.dialect.name == "postgresql"), owners
