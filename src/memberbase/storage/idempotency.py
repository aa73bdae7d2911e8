"""Stored first answers of writes sent with an Idempotency-Key (per org, until they expire)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.tables import idempotency_keys

# Expired answers are deleted by every hundredth answer kept, a hundred at a time: more
# than are kept in between, so they never pile up, at a statement per hundred writes.
_PURGE_BATCH = 100
_PURGE_EVERY = 100


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str
    status_code: int
    media_type: str
    body: str


async def find(conn: AsyncConnection, org_id: int, key: str, now: dt.datetime) -> StoredAnswer | None:
    query = sa.select(
        idempotency_keys.c.fingerprint,
        idempotency_keys.c.status_code,
        idempotency_keys.c.media_type,
        idempotency_keys.c.body,
    ).where(
        idempotency_keys.c.org_id == org_id,
        idempotency_keys.c.key == key,
        idempotency_keys.c.expires_at > now,
    )
    row = (await conn.execute(query)).first()
    return None if row is None else StoredAnswer(row[0], int(row[1]), row[2], row[3])


async def add(
    conn: AsyncConnection,
    org_id: int,
    key: str,
    answer: StoredAnswer,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> bool:
    """Keep the answer; False when a live answer for the key exists (a twin request won)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    values = {
        "org_id": org_id,
        "key": key,
        "fingerprint": answer.fingerprint,
        "status_code": answer.status_code,
        "media_type": answer.media_type,
        "body": answer.body,
        "created_at": now,
        "expires_at": expires_at,
    }
    insert = dialect.insert(idempotency_keys).values(values)
    # An expired answer under the same key is replaced; a live one is kept and the caller told.
    upsert = insert.on_conflict_do_update(
        index_elements=["org_id", "key"],
        set_={k: insert.excluded[k] for k in values if k not in ("org_id", "key")},
        where=idempotency_keys.c.expires_at <= now,
    ).returning(idempotency_keys.c.key)
    stored = (await conn.execute(upsert)).first() is not None
    if stored and secrets.randbelow(_PURGE_EVERY) == 0:
        await _purge(conn, org_id, now)
    return stored


async def _purge(conn: AsyncConnection, org_id: int, now: dt.datetime) -> None:
    expired = (
        sa.select(idempotency_keys.c.key)
        .where(idempotency_keys.c.org_id == org_id, idempotency_keys.c.expires_at <= now)
        .limit(_PURGE_BATCH)
    )
    await conn.execute(
        idempotency_keys.delete().where(
            idempotency_keys.c.org_id == org_id, idempotency_keys.c.key.in_(expired.scalar_subquery())
        )
    )
