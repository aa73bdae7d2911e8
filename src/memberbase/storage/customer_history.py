"""A customer's recent ledger entries and events, newest first: what Member Care shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.tables import outbox, reward_ledger


@dataclass(frozen=True)
class LedgerLine:
    awarded_at: dt.datetime
    kind: str
    program_id: int | None
    currency: str | None
    rule_id: str
    value: int
    raw_value: Decimal
    expires_on: dt.datetime | None


@dataclass(frozen=True)
class SentEvent:
    occurred_at: dt.datetime
    type: str
    published_at: dt.datetime | None
    payload: dict[str, Any]


async def ledger(conn: AsyncConnection, org_id: int, customer_id: int, limit: int) -> list[LedgerLine]:
    query = (
        sa.select(
            reward_ledger.c.awarded_at,
            reward_ledger.c.kind,
            reward_ledger.c.program_id,
            reward_ledger.c.currency,
            reward_ledger.c.rule_id,
            reward_ledger.c.value,
            reward_ledger.c.raw_value,
            reward_ledger.c.expires_on,
        )
        .where(reward_ledger.c.org_id == org_id, reward_ledger.c.customer_id == customer_id)
        .order_by(reward_ledger.c.awarded_at.desc())
        .limit(limit)
    )
    return [LedgerLine(*row) for row in (await conn.execute(query)).all()]


async def events(conn: AsyncConnection, org_id: int, customer_id: int, limit: int) -> list[SentEvent]:
    query = (
        sa.select(outbox.c.occurred_at, outbox.c.type, outbox.c.published_at, outbox.c.payload)
        .where(outbox.c.org_id == org_id, outbox.c.customer_id == customer_id)
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    return [SentEvent(r[0], r[1], r[2], dict(r[3] or {})) for r in (await conn.execute(query)).all()]
