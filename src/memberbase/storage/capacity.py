"""How many connections a PostgreSQL server takes, against how many `serve` may open.

Each server process may hold its pool (MEMBERBASE_DB_POOL_SIZE), half as many again in a
burst (overflow), and one LISTEN connection for change notices: a server of N workers may
open N * (1.5 * pool + 1). Several servers on one database add up; `serve` warns at start
when its own share, or its share beside the connections already open, passes what the
PostgreSQL server allows (max_connections less those reserved for superusers).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

_LIMITS = sa.text(
    "SELECT current_setting('max_connections')::int AS max_connections,"
    " current_setting('superuser_reserved_connections')::int"
    " + COALESCE(current_setting('reserved_connections', true)::int, 0) AS reserved,"
    " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') - 1 AS in_use"
)


@dataclass(frozen=True)
class ServerConnections:
    max_connections: int
    reserved: int
    in_use: int  # by other clients, when asked

    @property
    def allowed(self) -> int:
        return self.max_connections - self.reserved


def per_process(pool_size: int) -> int:
    """The most connections one server process opens: its pool, the overflow, the LISTEN one."""
    return pool_size + pool_size // 2 + 1


async def server_connections(engine: AsyncEngine) -> ServerConnections | None:
    """The server's connection limits and use; None on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as conn:
        row = (await conn.execute(_LIMITS)).one()
    return ServerConnections(row.max_connections, row.reserved, row.in_use)


def warning(server: ServerConnections, workers: int, pool_size: int) -> str | None:
    """What to tell the operator when `workers` processes may open more than the server allows."""
    each = per_process(pool_size)
    wanted = workers * each
    parts = f"pool {pool_size} + overflow {pool_size // 2} + 1 LISTEN"
    share = f"{workers} worker(s) x {each} connections ({parts})"
    limit = f"max_connections {server.max_connections} less {server.reserved} reserved"
    if wanted > server.allowed:
        return (
            f"{share} = {wanted}, more than the PostgreSQL server allows ({server.allowed}: {limit}); "
            "lower MEMBERBASE_DB_POOL_SIZE or --workers, or raise max_connections"
        )
    if wanted + server.in_use > server.allowed:
        return (
            f"{share} = {wanted}, and {server.in_use} are open already: more than the PostgreSQL server "
            f"allows ({server.allowed}: {limit}) if this server's pools fill up"
        )
    return None
