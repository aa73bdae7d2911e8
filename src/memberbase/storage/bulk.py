"""Bulk writes for imports on PostgreSQL: ids in one round trip, rows with COPY (text format).

COPY runs on the unit of work's own connection, inside its transaction, so a
batch written this way commits or rolls back with everything else in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.copy_text import encode
from memberbase.storage.customers import CustomerRepository


async def copy_rows(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """COPY rows (dicts with the same keys) into `table`."""
    copied = encode(table, list(enumerate(rows)))
    await copy_text(conn, table, copied.columns, copied.data)


async def copy_text(conn: AsyncConnection, table: sa.Table, columns: list[str], data: bytes) -> None:
    """COPY rows already in COPY text format (`copy_text.encode`, perhaps in another process)."""
    if not data:
        return
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        # A memoryview: asyncpg would take bytes for a file name.
        await driver.copy_to_table(table.name, source=memoryview(data), columns=columns)
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
