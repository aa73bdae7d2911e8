"""Requests waiting for (or past) approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.counters import take_ids
from memberbase.storage.tables import requests


class RequestRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def add(self, values: dict[str, Any]) -> int:
        request_id = await take_ids(self._conn, "request")
        await self._conn.execute(
            requests.insert().values({**values, "org_id": self._org_id, "id": request_id})
        )
        return request_id

    async def get(self, request_id: int, *, lock: bool = False) -> dict[str, Any] | None:
        query = sa.select(requests).where(requests.c.org_id == self._org_id, requests.c.id == request_id)
        if lock and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).mappings().first()
        return None if row is None else dict(row)

    async def decide(
        self,
        request_id: int,
        status: str,
        by: str,
        at: dt.datetime,
        comments: str | None,
        outcome: Any,
        scheduled_for: dt.datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "modified_by": by,
            "modified_at": at,
            "outcome": outcome,
            "scheduled_for": scheduled_for,
        }
        if comments is not None:
            values["comments"] = comments
        await self._conn.execute(
            requests.update()
            .where(requests.c.org_id == self._org_id, requests.c.id == request_id)
            .values(values)
        )

    async def due(self, now: dt.datetime) -> list[tuple[int, int]]:
        """Approved deletions whose waiting period is over: (request id, customer id)."""
        query = sa.select(requests.c.id, requests.c.user_id).where(
            requests.c.org_id == self._org_id,
            requests.c.status == "APPROVED",
            requests.c.scheduled_for.is_not(None),
            requests.c.scheduled_for <= now,
        )
        return [(int(r[0]), int(r[1])) for r in await self._conn.execute(query)]
