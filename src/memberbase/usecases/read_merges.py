"""Reading merge records: one by id, or every merge a customer took part in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.org_config import OrgConfig
from memberbase.storage.database import reading
from memberbase.storage.merge_undo import MergeUndoRepository
from memberbase.storage.merges import MergeRepository


async def merge_record(engine: AsyncEngine, org: OrgConfig, merge_id: str) -> dict[str, Any] | None:
    async with reading(engine) as conn:
        return await MergeUndoRepository(conn, org.id).get(merge_id)


async def merges_of(engine: AsyncEngine, org: OrgConfig, customer_id: int) -> list[dict[str, Any]]:
    async with reading(engine) as conn:
        return await MergeRepository(conn, org.id).for_customer(customer_id)
