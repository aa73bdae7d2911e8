"""The audit log: append-only rows written in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain.uuids import uuid4_text
from memberbase.storage.database import Statement
from memberbase.storage.tables import audit_log

_INSERT = Statement(audit_log.insert())  # built once; rows go in as parameters


@dataclass(frozen=True)
class AuditEntry:
    customer_id: int
    action: str  # noun.past_verb: customer.registered, customer.updated
    till_code: str
    occurred_at: dt.datetime
    changes: dict[str, Any]
    user_context: dict[str, str] | None
    request_id: str


def audit_row(org_id: int, entry: AuditEntry) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "id": uuid4_text(),
        "customer_id": entry.customer_id,
        "action": entry.action,
        "till_code": entry.till_code,
        "occurred_at": entry.occurred_at,
        "changes": entry.changes,
        "user_context": entry.user_context,
        "request_id": entry.request_id,
    }


class AuditRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def add(self, entry: AuditEntry) -> None:
        await _INSERT.execute(self._conn, audit_row(self._org_id, entry))

    async def for_customer(
        self, customer_id: int, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[AuditEntry]:
        """The customer's rows, oldest first, optionally within [since, until]."""
        query = sa.select(audit_log).where(
            audit_log.c.org_id == self._org_id, audit_log.c.customer_id == customer_id
        )
        if since is not None:
            query = query.where(audit_log.c.occurred_at >= since)
        if until is not None:
            query = query.where(audit_log.c.occurred_at <= until)
        query = query.order_by(audit_log.c.occurred_at, audit_log.c.id)
        rows = (await self._conn.execute(query)).all()
        return [
            AuditEntry(
                customer_id=r.customer_id,
                action=r.action,
                till_code=r.till_code,
                occurred_at=r.occurred_at if r.occurred_at.tzinfo else r.occurred_at.replace(tzinfo=dt.UTC),
                changes=r.changes,
                user_context=r.user_context,
                request_id=r.request_id,
            )
            for r in rows
        ]
