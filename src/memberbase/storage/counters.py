"""Id counters for SQLite, which has no sequences (its writers are serial, so a row is safe)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.tables import id_counters


async def take_ids(conn: AsyncConnection, name: str, count: int = 1) -> int:
    """Reserve `count` consecutive ids of counter `name`; returns the first."""
    bump = (
        id_counters.update()
        .where(id_counters.c.name == name)
        .values(next_value=id_counters.c.next_value + count)
        .returning(id_counters.c.next_value)
    )
    value = (await conn.execute(bump)).scalar_one_or_none()
    if value is None:
        await conn.execute(id_counters.insert().values(name=name, next_value=1 + count))
        return 1
    return int(value) - count
