"""The subject-access export: everything held about one customer as one JSON document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.json_values import jsonable
from memberbase.domain.org_config import OrgConfig
from memberbase.storage.database import reading
from memberbase.storage.export import customer_rows
from memberbase.storage.merges import MergeRepository

EXPORT_VERSION = 1


async def export_customer(
    engine: AsyncEngine, org: OrgConfig, customer_id: int, now: dt.datetime
) -> dict[str, Any] | None:
    """The document (docs/export.md), or None when the org has no such customer."""
    async with reading(engine) as conn:
        absorbed = (await MergeRepository(conn, org.id).absorbed(customer_id))[1:]
        rows = await customer_rows(conn, org.id, customer_id, absorbed)
    if rows is None:
        return None
    document = {
        "exportVersion": EXPORT_VERSION,
        "orgId": org.id,
        "customerId": customer_id,
        "exportedAt": now,
        **rows,
    }
    exported: dict[str, Any] = jsonable(document)
    return exported
