"""The customer search reads index ranges on PostgreSQL, never a whole table of the org.

As the owner lookups (test_query_plans): the prepared statement may be planned once on
empty tables and its generic plan cached, or planned with statistics, generic or custom;
every way, each kind of match is an index range read no further than its window.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from memberbase.domain.search import COUNT_BEYOND
from memberbase.storage import schema
from memberbase.storage.search import PLANNER_SETTINGS, statement_sql
from tests.conftest import postgres_database

ORG, OTHER_ORG = 7901, 7902
CUSTOMERS = 20_000
LIMIT = 10
WINDOW = LIMIT + COUNT_BEYOND
SEARCH_INDEXES = {
    "ix_identifiers_search_value",
    "ix_customers_search_full_name",
    "ix_customers_search_last_name",
}


@pytest.fixture
def plans_url() -> Iterator[str]:
    yield from postgres_database(f"memberbase_search_plans_{os.getpid()}")


def _load(conn: psycopg.Connection[Any]) -> None:
    for org in (ORG, OTHER_ORG):
        conn.execute(
            "INSERT INTO customers (org_id, id, firstname, lastname, mobile, email, external_id, type,"
            " source, account_id, fraud_status, registered_on, updated_on, registered_till,"
            " comm_channels, custom_fields, extended_fields)"
            " SELECT %s, n, (ARRAY['John', 'Johanna', 'Mary', 'Ravi', 'Li', 'Anna'])[1 + n %% 6],"
            " 'Smith' || (n %% 500), '9199' || lpad(n::text, 8, '0'), 'user' || n || '@example.com',"
            " 'X' || n, 'LOYALTY', 'INSTORE', '', 'NONE', now(), now(), 'plans', '[]', '{}', '{}'"
            " FROM generate_series(1, %s) AS n",
            (org, CUSTOMERS),
        )
    conn.execute(
        "INSERT INTO identifiers (org_id, type, value, customer_id)"
        " SELECT org_id, 'mobile', mobile, id FROM customers"
        " UNION ALL SELECT org_id, 'email', email, id FROM customers"
        " UNION ALL SELECT org_id, 'external_id', external_id, id FROM customers"
    )
    conn.execute(
        "INSERT INTO enrolments (org_id, customer_id, program_id, tier_serial, tier_expires_on,"
        " loyalty_points, lifetime_points, enrolled_at)"
        " SELECT org_id, id, 1, 1, now(), 0, 0, now() FROM customers"
    )


def _prepared(mobiles: int) -> tuple[str, tuple[str, ...]]:
    compiled = sa.text(statement_sql(mobiles, postgres=True)).compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
    return str(compiled), tuple(compiled.positiontup or ())


def _walk(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _walk(child)


# (q, mobile prefixes, the customers found first, whether a window fills)
QUERIES = [
    ("91990000001", (), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19], False),
    ("99000000", ("919900000",), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], True),
    ("990000001", ("9199000001",), list(range(100, 110)), False),
    ("9900", ("919900",), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], True),
    ("user1234", (), [12340, 12341, 12342, 12343, 12344, 12345, 12346, 12347, 12348, 12349], False),
    ("joh", (), None, True),
    ("smith4", (), None, True),
]


def _execute(cur: psycopg.ClientCursor[Any], names: tuple[str, ...], q: str, mobiles: tuple[str, ...]) -> Any:
    values = {"org_id": ORG, "q": q, "window": WINDOW, "limit": LIMIT, "offset": 0, "program_id": 1}
    values |= {f"mobile_{n}": m for n, m in enumerate(mobiles)}
    args = tuple(values[n] for n in names)
    placeholders = ", ".join(["%s"] * len(args))
    rows = cur.execute(f"EXECUTE search_{len(mobiles)}({placeholders})", args).fetchall()
    explained = cur.execute(
        f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE search_{len(mobiles)}({placeholders})", args
    )
    found = explained.fetchone()
    assert found is not None
    return rows, found[0][0]["Plan"]


@pytest.mark.postgres
@pytest.mark.parametrize("planned", ["on-empty-tables", "generic-with-statistics", "custom-with-statistics"])
def test_every_kind_of_match_is_an_index_range_read_no_further_than_its_window(
    plans_url: str, planned: str
) -> None:
    with psycopg.connect(plans_url, autocommit=True) as conn:
        for table in ("customers", "identifiers", "enrolments"):
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        for org in (ORG, OTHER_ORG):
            conn.execute(
                "INSERT INTO orgs (id, name, config, version, updated_at) VALUES (%s, 'p', '{}', 1, now())",
                (org,),
            )
        mode = "force_custom_plan" if planned.startswith("custom") else "force_generic_plan"
        conn.execute(f"SET plan_cache_mode = {mode}")
        for name, value in PLANNER_SETTINGS.items():  # as the search's transaction has them
            conn.execute(f"SET {name} = {value}")
        cur = psycopg.ClientCursor(conn)
        statements = {}
        for mobiles in (0, 1):
            sql, names = _prepared(mobiles)
            conn.execute(f"PREPARE search_{mobiles} AS {sql}")
            statements[mobiles] = names
            if planned == "on-empty-tables":
                _execute(cur, names, "ab", ("12",) * mobiles)  # planned and cached while empty
        _load(conn)
        if planned != "on-empty-tables":
            conn.execute("ANALYZE")
        for q, mobiles, first, fills in QUERIES:
            rows, plan = _execute(cur, statements[len(mobiles)], q, mobiles)
            if first is not None:
                assert [r[3] for r in rows] == first, q
            assert rows[0][1] is fills, q  # capped
            nodes = list(_walk(plan))
            tables = [
                n for n in nodes if n.get("Relation Name") in ("customers", "identifiers", "enrolments")
            ]
            # Index scans in the key's order, each stopped by its window: no walk over a
            # table, nor a bitmap of a whole range.
            assert {n["Node Type"] for n in tables} == {"Index Scan"}, (q, plan)
            for node in tables:
                assert node["Actual Rows"] * node["Actual Loops"] <= WINDOW + 1, (q, node)
            indexes = [n for n in nodes if "Index Name" in n]
            ranges = [n for n in indexes if n["Index Name"] in SEARCH_INDEXES]
            assert {n["Index Name"] for n in ranges} == SEARCH_INDEXES, plan
            assert len(ranges) == 3 + len(mobiles), plan
            assert {n["Index Name"] for n in indexes} - SEARCH_INDEXES <= {"pk_customers", "pk_enrolments"}
            probes = [n for n in indexes if n["Index Name"].startswith("pk_")]
            assert sum(n["Actual Rows"] * n["Actual Loops"] for n in probes) <= 2 * LIMIT, (q, plan)


def test_on_sqlite_every_kind_of_match_is_a_search_of_its_index(tmp_path: Any) -> None:
    """SQLite's BINARY order is byte order too: the same ranges, on the same indexes."""
    url = f"sqlite:///{tmp_path / 'plans.db'}"
    schema.upgrade(url)
    sql = statement_sql(1, postgres=False)
    params = dict.fromkeys(re.findall(r":(\w+)", sql), 1) | {"q": "ab", "mobile_0": "91ab"}
    with sqlite3.connect(tmp_path / "plans.db") as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    searches = [step.split(" USING INDEX ")[1].split(" ")[0] for step in plan if " USING INDEX " in step]
    assert sorted(s for s in searches if s in SEARCH_INDEXES) == sorted(
        [*SEARCH_INDEXES, "ix_identifiers_search_value"]
    )
    assert not [
        step
        for step in plan
        if step in ("SCAN i", "SCAN c", "SCAN e") or step.startswith(("SCAN i ", "SCAN c ", "SCAN e "))
    ], plan
