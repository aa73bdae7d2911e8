"""The search's planner settings (PostgreSQL): they hold for its own transaction, and only there."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from memberbase.domain.org_config import OrgConfig
from memberbase.domain.search import SearchQuery
from memberbase.storage.database import Statement, create_engine, reading
from memberbase.storage.search import PLANNER_SETTINGS, CustomerSearch
from memberbase.usecases.search_customers import search_customers
from tests.support import Api

pytestmark = pytest.mark.anyio
QUERY = SearchQuery("settings", (), 0, 10)
SHOWN = ", ".join(f"current_setting('{k}') AS {k}" for k in PLANNER_SETTINGS)
SHOW = Statement(sa.text(f"SELECT {SHOWN}"))
ONE = Statement(sa.text("SELECT 1 AS one"))


async def test_the_settings_hold_for_the_statement_and_end_with_it(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)  # every checkout is the one connection
    postgres = engine.dialect.name == "postgresql"
    try:
        async with reading(engine) as conn:
            if postgres:
                (during,) = await SHOW.fetch_planned(conn, {}, PLANNER_SETTINGS)
                (after,) = await SHOW.fetch(conn, {})
                assert dict(during) == PLANNER_SETTINGS
                assert set(dict(after).values()) == {"on"}
            else:  # nothing to set: SQLite's planner takes the search's indexes as they are
                assert [dict(r) for r in await ONE.fetch_planned(conn, {}, PLANNER_SETTINGS)] == [{"one": 1}]
    finally:
        await engine.dispose()


async def test_the_settings_refuse_a_connection_in_a_transaction(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn, conn.begin():
            if engine.dialect.name == "postgresql":
                with pytest.raises(RuntimeError, match="reading connection"):
                    await ONE.fetch_planned(conn, {}, PLANNER_SETTINGS)
            else:
                assert [dict(r) for r in await ONE.fetch_planned(conn, {}, PLANNER_SETTINGS)] == [{"one": 1}]
    finally:
        await engine.dispose()


async def test_a_failed_statement_never_pools_its_connection_mid_transaction(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)  # every checkout is the one connection
    failing = Statement(sa.text("SELECT 10 / CAST(:n AS integer) AS x"))
    try:
        async with reading(engine) as conn:
            if engine.dialect.name == "postgresql":
                with pytest.raises(sa_exc.DBAPIError):
                    await failing.fetch_planned(conn, {"n": 0}, PLANNER_SETTINGS)
            else:  # SQLite divides by zero to NULL
                await failing.fetch_planned(conn, {"n": 0}, PLANNER_SETTINGS)
        async with reading(engine) as conn:  # not "current transaction is aborted"
            assert [dict(r) for r in await failing.fetch(conn, {"n": 5})] == [{"x": 2}]
    finally:
        await engine.dispose()


def test_only_plain_settings_are_set() -> None:
    with pytest.raises(ValueError, match="not a setting"):
        Statement._check_settings({"enable_seqscan": "off; DROP TABLE customers"})


async def test_the_search_and_its_use_case_read_on_a_reading_connection(api: Api, database_url: str) -> None:
    engine = create_engine(database_url)
    org = OrgConfig.model_validate(api.spec.as_dict())
    try:
        async with reading(engine) as conn:
            assert (await CustomerSearch(conn, org.id).find(QUERY, None)).hits == []
        assert (await search_customers(engine, org, "settings", 0, 10)).total == 0
    finally:
        await engine.dispose()
