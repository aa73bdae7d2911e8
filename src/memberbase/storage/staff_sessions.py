"""Member Care sessions as stored: created at login, touched while used, ended at logout."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.tables import staff_sessions


@dataclass(frozen=True)
class StaffSession:
    org_id: int
    username: str
    csrf: str
    last_seen: dt.datetime


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


async def start(
    conn: AsyncConnection, org_id: int, token_hash: str, username: str, csrf: str, now: dt.datetime
) -> None:
    await conn.execute(
        staff_sessions.insert().values(
            org_id=org_id, token_hash=token_hash, username=username, csrf=csrf, created_at=now, last_seen=now
        )
    )


async def find(conn: AsyncConnection, org_id: int, token_hash: str) -> StaffSession | None:
    """The live session, or None when there is none or it was ended."""
    row = (
        await conn.execute(
            sa.select(staff_sessions.c.username, staff_sessions.c.csrf, staff_sessions.c.last_seen).where(
                staff_sessions.c.org_id == org_id,
                staff_sessions.c.token_hash == token_hash,
                staff_sessions.c.ended_at.is_(None),
            )
        )
    ).first()
    return None if row is None else StaffSession(org_id, row.username, row.csrf, _aware(row.last_seen))


async def touch(conn: AsyncConnection, org_id: int, token_hash: str, now: dt.datetime) -> None:
    await conn.execute(
        staff_sessions.update()
        .where(staff_sessions.c.org_id == org_id, staff_sessions.c.token_hash == token_hash)
        .values(last_seen=now)
    )


async def end(conn: AsyncConnection, org_id: int, token_hash: str, now: dt.datetime) -> None:
    await conn.execute(
        staff_sessions.update()
        .where(staff_sessions.c.org_id == org_id, staff_sessions.c.token_hash == token_hash)
        .values(ended_at=now)
    )
