"""Hot statements: the driver itself on PostgreSQL (autocommit, or a begun transaction),
SQLAlchemy elsewhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.database import Statement, create_engine, reading
from memberbase.storage.tables import orgs
from memberbase.usecases.unit_of_work import UnitOfWork

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
ORG_NAMES = Statement(sa.select(orgs.c.id, orgs.c.name).where(orgs.c.id == sa.bindparam("org_id")))


async def test_reads_see_the_same_rows_in_and_out_of_a_transaction(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(engine) as uow:
            await uow.conn.execute(
                orgs.insert().values(id=777_001, name="Read", config={}, version=1, updated_at=sa.func.now())
            )
            # Inside the transaction (on PostgreSQL on its driver, once begun) it sees its own write.
            inside = await ORG_NAMES.fetch(uow.conn, {"org_id": 777_001})
            assert [dict(r) for r in inside] == [{"id": 777_001, "name": "Read"}]
        async with reading(engine) as conn:
            outside = await ORG_NAMES.fetch(conn, {"org_id": 777_001})
            assert [dict(r) for r in outside] == [{"id": 777_001, "name": "Read"}]
        async with UnitOfWork(engine) as uow:
            await uow.conn.execute(orgs.delete().where(orgs.c.id == 777_001))
    finally:
        await engine.dispose()


def _count_sqlalchemy_executes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """From now on, each statement run through SQLAlchemy, listed."""
    calls: list[Any] = []
    real = AsyncConnection.execute

    async def counted(self: AsyncConnection, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(AsyncConnection, "execute", counted)
    return calls


async def test_on_postgresql_a_reading_connection_skips_sqlalchemy(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(database_url)
    postgres = engine.dialect.name == "postgresql"
    try:
        async with reading(engine) as conn:
            calls = _count_sqlalchemy_executes(monkeypatch)
            assert list(await ORG_NAMES.fetch(conn, {"org_id": -1})) == []
        assert len(calls) == (0 if postgres else 1)
    finally:
        await engine.dispose()


def test_an_expanding_list_needs_a_postgresql_form() -> None:
    listed = sa.select(orgs.c.id).where(orgs.c.id.in_(sa.bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="on_postgresql"):
        Statement(listed)


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


ADD_ORGS = Statement(orgs.insert())


def _org(org_id: int, config: dict[str, Any]) -> dict[str, Any]:
    return {"id": org_id, "name": f"Org {org_id}", "config": config, "version": 1, "updated_at": NOW}


async def _names(engine: Any, *org_ids: int) -> dict[int, str]:
    async with reading(engine) as conn:
        rows = await conn.execute(sa.select(orgs.c.id, orgs.c.name).where(orgs.c.id.in_(org_ids)))
        return {r.id: r.name for r in rows}


async def _drop(engine: Any, *org_ids: int) -> None:
    async with UnitOfWork(engine) as uow:
        await uow.conn.execute(orgs.delete().where(orgs.c.id.in_(org_ids)))


async def test_writes_in_a_begun_transaction_skip_sqlalchemy_and_commit_with_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(database_url)
    postgres = engine.dialect.name == "postgresql"
    calls = _count_sqlalchemy_executes(monkeypatch)
    try:
        async with UnitOfWork(engine) as uow:
            # The transaction's first statement begins it on the server: through SQLAlchemy.
            await ADD_ORGS.execute(uow.conn, _org(777_010, {}))
            assert len(calls) == 1
            await ADD_ORGS.execute(uow.conn, [_org(777_011, {}), _org(777_012, {})])
            assert len(calls) == (1 if postgres else 2)
        assert await _names(engine, 777_010, 777_011, 777_012) == {
            777_010: "Org 777010",
            777_011: "Org 777011",
            777_012: "Org 777012",
        }
    finally:
        monkeypatch.undo()
        await _drop(engine, 777_010, 777_011, 777_012)
        await engine.dispose()


async def _refused_item(uow: UnitOfWork) -> None:
    async with uow.savepoint():
        await ADD_ORGS.execute(uow.conn, _org(777_021, {}))
        raise RuntimeError("the item is refused")


async def _failed_request(engine: Any) -> None:
    async with UnitOfWork(engine) as uow:
        await ADD_ORGS.execute(uow.conn, _org(777_022, {}))
        await ADD_ORGS.execute(uow.conn, _org(777_023, {}))
        raise RuntimeError("the request fails")


async def test_a_rolled_back_savepoint_or_transaction_takes_direct_writes_with_it(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(engine) as uow:
            await ADD_ORGS.execute(uow.conn, _org(777_020, {}))
            with pytest.raises(RuntimeError):
                await _refused_item(uow)
        with pytest.raises(RuntimeError):
            await _failed_request(engine)
        assert await _names(engine, 777_020, 777_021, 777_022, 777_023) == {777_020: "Org 777020"}
    finally:
        await _drop(engine, 777_020)
        await engine.dispose()


async def _in_savepoint(uow: UnitOfWork, row: dict[str, Any]) -> None:
    async with uow.savepoint():
        await ADD_ORGS.execute(uow.conn, row)


async def test_a_lost_race_on_the_driver_reads_as_sqlalchemys_integrity_error(database_url: str) -> None:
    """Registration retries a lost race by catching IntegrityError: the driver's must read the same."""
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(engine) as uow:
            await ADD_ORGS.execute(uow.conn, _org(777_030, {}))
            with pytest.raises(sa_exc.IntegrityError) as raised:
                await _in_savepoint(uow, _org(777_030, {}))
            if engine.dialect.name == "postgresql":
                assert raised.value.orig.sqlstate == "23505"  # type: ignore[union-attr]
            # The transaction goes on after the savepoint's rollback.
            await ADD_ORGS.execute(uow.conn, _org(777_031, {}))
        assert set(await _names(engine, 777_030, 777_031)) == {777_030, 777_031}
    finally:
        await _drop(engine, 777_030, 777_031)
        await engine.dispose()


async def test_json_parameters_and_returned_rows_read_as_through_sqlalchemy(database_url: str) -> None:
    engine = create_engine(database_url)
    config = {"id": 777_040, "tills": [{"code": "t1"}], "nested": {"n": 1.5, "none": None}}
    returning = Statement(orgs.insert().returning(orgs.c.id, orgs.c.config))
    try:
        async with UnitOfWork(engine) as uow:
            await ADD_ORGS.execute(uow.conn, _org(777_041, {}))  # begins it
            (row,) = await returning.fetch(uow.conn, _org(777_040, config))
            assert (row["id"], row["config"]) == (777_040, config)
        async with reading(engine) as conn:
            stored = (await conn.execute(sa.select(orgs.c.config).where(orgs.c.id == 777_040))).scalar_one()
        assert stored == config
    finally:
        await _drop(engine, 777_040, 777_041)
        await engine.dispose()
