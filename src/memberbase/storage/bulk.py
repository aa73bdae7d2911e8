"""Bulk writes for imports on PostgreSQL: ids in one round trip, rows with COPY.

COPY runs on the unit of work's own connection, inside its transaction, so a
batch written this way commits or rolls back with everything else in it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from enum import Enum
from typing import Any

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.customers import CustomerRepository


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()  # asyncpg takes json as text


def _scalar(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def copy_records(table: sa.Table, rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """(columns, records) to COPY for `rows` (dicts with the same keys): pure, no I/O."""
    if not rows:
        return [], []
    columns = list(rows[0])
    # Converters chosen once per column, not per value: JSON columns go as text, and a column
    # whose first value is an Enum carries enums (rows of one table are built alike).
    convert = {
        i: _json_text if isinstance(table.c[name].type, sa.JSON) else _scalar
        for i, name in enumerate(columns)
        if isinstance(table.c[name].type, sa.JSON) or isinstance(rows[0][name], Enum)
    }
    pick = operator.itemgetter(*columns)
    records: list[list[Any]] = []
    for row in rows:
        values = list(pick(row)) if len(columns) > 1 else [row[columns[0]]]
        for i, f in convert.items():
            values[i] = f(values[i])
        records.append(values)
    return columns, records


async def copy_rows(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    await copy_prepared(conn, table, *copy_records(table, rows))


async def copy_prepared(
    conn: AsyncConnection, table: sa.Table, columns: list[str], records: list[list[Any]]
) -> None:
    """COPY records built by `copy_records` (perhaps in another process)."""
    if not records:
        return
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
    except asyncpg.exceptions.IntegrityConstraintViolationError as exc:
        # As SQLAlchemy reports it for every other statement, so callers handle one kind.
        raise sa_exc.IntegrityError(f"COPY {table.name}", None, exc) from exc


async def take_sequence(conn: AsyncConnection, sequence: str, count: int) -> list[int]:
    if count == 0:
        return []
    query = sa.text(f"SELECT nextval('{sequence}') FROM generate_series(1, :n)")
    return [int(r[0]) for r in await conn.execute(query, {"n": count})]


async def held_claims(
    conn: AsyncConnection, org_id: int, claims: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (type, value) identifiers some customer of the org already holds."""
    return set(await CustomerRepository(conn, org_id).claim_holders(claims))
