"""Stored first answers of writes sent with an Idempotency-Key (per org, until they expire)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.database import Statement
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


# One statement run on the driver (`Statement`): it is on every keyed write's path. An
# expired answer under the same key is replaced; a live one is kept and the caller told.
_ADD = Statement(
    sa.text(
        "INSERT INTO idempotency_keys"
        " (org_id, key, fingerprint, status_code, media_type, body, created_at, expires_at)"
        " VALUES (:org_id, :key, :fingerprint, :status_code, :media_type, :body, :created_at, :expires_at)"
        " ON CONFLICT (org_id, key) DO UPDATE SET fingerprint = excluded.fingerprint,"
        " status_code = excluded.status_code, media_type = excluded.media_type, body = excluded.body,"
        " created_at = excluded.created_at, expires_at = excluded.expires_at"
        " WHERE idempotency_keys.expires_at <= excluded.created_at"
        " RETURNING key"
    ).bindparams(
        sa.bindparam("org_id", type_=sa.BigInteger()),
        sa.bindparam("key", type_=sa.String()),
        sa.bindparam("fingerprint", type_=sa.String()),
        sa.bindparam("status_code", type_=sa.Integer()),
        sa.bindparam("media_type", type_=sa.String()),
        sa.bindparam("body", type_=sa.Text()),
        sa.bindparam("created_at", type_=idempotency_keys.c.created_at.type),
        sa.bindparam("expires_at", type_=idempotency_keys.c.expires_at.type),
    )
)


async def add(
    conn: AsyncConnection,
    org_id: int,
    key: str,
    answer: StoredAnswer,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> bool:
    """Keep the answer; False when a live answer for the key exists (a twin request won)."""
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
    stored = bool(await _ADD.fetch(conn, values))
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
