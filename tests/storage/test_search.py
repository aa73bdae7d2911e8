"""The search's transaction: on PostgreSQL it holds the planner settings, for the search alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from memberbase.domain.org_config import OrgConfig
from memberbase.domain.search import SearchQuery
from memberbase.storage.database import create_engine, reading
from memberbase.storage.search import PLANNER_SETTINGS, CustomerSearch
from memberbase.usecases.search_customers import search_customers
from tests.support import Api

pytestmark = pytest.mark.anyio
QUERY = SearchQuery("settings", (), 0, 10)
SHOW = sa.text("SELECT " + ", ".join(f"current_setting('{k}')" for k in PLANNER_SETTINGS))


async def test_on_postgresql_the_search_refuses_a_connection_outside_a_transaction(
    api: Api, database_url: str
) -> None:
    engine = create_engine(database_url)
    try:
        async with reading(engine) as conn:
            if engine.dialect.name == "postgresql":
                with pytest.raises(RuntimeError, match="transaction"):
                    await CustomerSearch(conn, api.spec.org_id).find(QUERY, None)
            else:  # nothing to set: SQLite plans the ranges on its indexes as they are
                assert (await CustomerSearch(conn, api.spec.org_id).find(QUERY, None)).hits == []
    finally:
        await engine.dispose()


async def test_the_planner_settings_hold_for_the_search_and_end_with_it(api: Api, database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)  # every checkout is the one connection
    postgres = engine.dialect.name == "postgresql"
    org = OrgConfig.model_validate(api.spec.as_dict())
    try:
        async with engine.connect() as conn, conn.begin():
            await CustomerSearch(conn, api.spec.org_id).find(QUERY, None)
            during = tuple((await conn.execute(SHOW)).one()) if postgres else ()
        page = await search_customers(engine, org, "settings", 0, 10)
        if postgres:
            async with engine.connect() as conn:
                after = tuple((await conn.execute(SHOW)).one())
            assert during == tuple(PLANNER_SETTINGS.values())
            assert after == ("on",) * len(PLANNER_SETTINGS)
    finally:
        await engine.dispose()
    assert page.hits == []
