"""The status log: every status label a customer has had. Append-only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain.uuids import uuid4_text
from memberbase.storage.tables import status_log


@dataclass(frozen=True)
class StatusEntry:
    label: str
    status: str  # CustomerStatus value
    previous_label: str | None
    reason: str
    created_on: dt.datetime
    created_by: str
    user_context: dict[str, Any] | None = None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class StatusLogRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def add(self, customer_id: int, entry: StatusEntry) -> None:
        await self._conn.execute(
            status_log.insert().values(
                org_id=self._org_id,
                id=uuid4_text(),
                customer_id=customer_id,
                label=entry.label,
                status=entry.status,
                previous_label=entry.previous_label,
                reason=entry.reason,
                created_on=entry.created_on,
                created_by=entry.created_by,
                user_context=entry.user_context,
            )
        )

    async def for_customer(self, customer_id: int) -> list[StatusEntry]:
        """Oldest first."""
        query = (
            sa.select(status_log)
            .where(status_log.c.org_id == self._org_id, status_log.c.customer_id == customer_id)
            .order_by(status_log.c.created_on, status_log.c.id)
        )
        return [
            StatusEntry(
                label=r["label"],
                status=r["status"],
                previous_label=r["previous_label"],
                reason=r["reason"],
                created_on=_aware(r["created_on"]),
                created_by=r["created_by"],
                user_context=r["user_context"],
            )
            for r in (await self._conn.execute(query)).mappings()
        ]
