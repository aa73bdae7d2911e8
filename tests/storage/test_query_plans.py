"""The owner lookup stays a few index probes on a database the planner knows nothing about.

This machine's PostgreSQL runs with autovacuum off, and a new database has no statistics
until something analyses it. The plain identifiers-to-customers join was then planned as a
walk over every customer of the org, and each registration grew slower with the table.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import asyncpg
import psycopg
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql import ClauseElement

from memberbase.storage import customers as customer_storage
from memberbase.storage.customers import CLAIM_HOLDERS_BY_KEY, FIND_OWNERS_BY_KEY
from tests.conftest import postgres_database

ORG = 7801
CUSTOMERS = 3000


@pytest.fixture
def unanalysed_url() -> Iterator[str]:
    """A new database of its own: no statistics at all (the test keeps autovacuum off it)."""
    yield from postgres_database(f"memberbase_plans_{os.getpid()}")


def _load(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "INSERT INTO customers (org_id, id, firstname, lastname, mobile, email, external_id, type,"
        " source, account_id, fraud_status, registered_on, updated_on, registered_till,"
        " comm_channels, custom_fields, extended_fields)"
        " SELECT %s, n, 'Plan', 'Customer', '9199' || n, n || '@x.example', 'P' || n, 'LOYALTY',"
        " 'INSTORE', '', 'NONE', now(), now(), 'plans', '[]', '{}', '{}'"
        " FROM generate_series(1, %s) AS n",
        (ORG, CUSTOMERS),
    )
    conn.execute(
        "INSERT INTO identifiers (org_id, type, value, customer_id)"
        " SELECT org_id, 'mobile', mobile, id FROM customers"
        " UNION ALL SELECT org_id, 'email', email, id FROM customers"
    )


def _rows_read(plan: dict[str, Any], relation: str) -> float:
    own = plan["Actual Rows"] * plan["Actual Loops"] if plan.get("Relation Name") == relation else 0
    return own + sum(_rows_read(child, relation) for child in plan.get("Plans", []))


def _indexes_read(plan: dict[str, Any]) -> set[str]:
    """Each relation read with the index it was read by ("-": none)."""
    own = {f"{plan['Relation Name']}:{plan.get('Index Name', '-')}"} if "Relation Name" in plan else set()
    return own.union(*(_indexes_read(child) for child in plan.get("Plans", [])))


WANTED = [("mobile", "91991500"), ("email", "1500@x.example"), ("external_id", "absent")]
OWNERS = str(FIND_OWNERS_BY_KEY)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        pytest.param(OWNERS, [("email", 1500), ("mobile", 1500)], id="owners"),
        pytest.param(
            str(CLAIM_HOLDERS_BY_KEY),
            [("email", "1500@x.example"), ("mobile", "91991500")],
            id="claim-holders",
        ),
    ],
)
def test_identifier_lookups_stay_on_the_keys_when_planned_on_empty_tables(
    unanalysed_url: str, sql: str, expected: list[tuple[str, Any]]
) -> None:
    """The bench's case: connections prepare the lookups while the tables are empty, and the
    plans the server caches then serve every registration as the tables grow."""
    for n, name in enumerate(("org_id", "types", "vals"), start=1):
        sql = sql.replace(f":{name}", f"${n}")
    execute = "EXECUTE lookup(%s, %s, %s)"  # bound client-side: EXECUTE takes no server parameters
    args = (ORG, [t for t, _ in WANTED], [v for _, v in WANTED])
    with psycopg.connect(unanalysed_url, autocommit=True) as conn:
        for table in ("customers", "identifiers"):
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        conn.execute(
            "INSERT INTO orgs (id, name, config, version, updated_at) VALUES (%s, 'plans', '{}', 1, now())",
            (ORG,),
        )
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE lookup(bigint, text[], text[]) AS {sql}")
        cur = psycopg.ClientCursor(conn)
        assert cur.execute(execute, args).fetchall() == []  # planned and cached on empty tables
        _load(conn)
        found = cur.execute(execute, args).fetchall()
        row = cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {execute}", args).fetchone()
    assert row is not None
    plan = row[0][0]["Plan"]
    assert sorted((r[0], r[1]) for r in found) == expected
    assert _rows_read(plan, "identifiers") <= len(WANTED), plan
    assert _rows_read(plan, "customers") <= len(WANTED), plan
    # Rows are what a node returns, not the index entries it passed: an index that only
    # leads with org_id (the search's, 0010) returns one row after walking the whole org.
    assert _indexes_read(plan) <= {"identifiers:pk_identifiers", "customers:pk_customers"}, plan


def _for_driver(statement: ClauseElement) -> tuple[str, tuple[str, ...]]:
    compiled = statement.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
    return str(compiled), tuple(compiled.positiontup or ())


BATCHED_LOOKUPS: dict[str, ClauseElement] = {
    "owners": FIND_OWNERS_BY_KEY,
    "claim-holders": CLAIM_HOLDERS_BY_KEY,
    "owners-enrolled": customer_storage._FIND_OWNER_ENROLLED.statement,
    "holders-with-accounts": customer_storage._HOLDERS_WITH_ACCOUNTS.statement,
}


@pytest.mark.postgres
@pytest.mark.anyio
@pytest.mark.parametrize("name", list(BATCHED_LOOKUPS))
async def test_batched_lookups_keep_one_generic_plan(unanalysed_url: str, name: str) -> None:
    """Batches of any size run the prepared statement's one plan: planning each execution
    again (as PostgreSQL does when it can count the array) cost more than the lookup."""
    sql, names = _for_driver(BATCHED_LOOKUPS[name])
    conn = await asyncpg.connect(unanalysed_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        prepared = await conn.prepare(sql)
        for run in range(12):
            size = run % 4 + 1
            values = {
                "org_id": ORG,
                "types": ["mobile"] * size,
                "vals": [f"9199{n}" for n in range(size)],
                "sources": ["INSTORE"] * size,
                "accounts": [""] * size,
            }
            await prepared.fetch(*(values[n] for n in names))
        plans = await conn.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1",
            prepared.get_name(),
        )
    finally:
        await conn.close()
    assert plans is not None
    # PostgreSQL tries five custom plans before it weighs the generic one.
    assert plans["custom_plans"] <= 5, dict(plans)
    assert plans["generic_plans"] >= 7, dict(plans)
