"""`memberbase db repair`: find and mend customer rows whose free-form JSON was stored
before the door checked it (issue 21 item 1), in batches, with the audit log told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.free_json import free_json_problem, mended
from memberbase.domain.uuids import uuid4_text
from memberbase.storage.audit import AuditEntry, AuditRepository
from memberbase.storage.tables import customers

_COLUMNS = ("comm_channels", "custom_fields", "extended_fields")
SAMPLE = 10


@dataclass
class RepairReport:
    scanned: int = 0
    found: int = 0
    mended: int = 0
    still_bad: int = 0  # over a count or depth limit: mending cannot shorten lists safely
    sample: list[tuple[int, int]] = field(default_factory=list)  # (org_id, customer id)


async def repair(
    engine: AsyncEngine,
    *,
    apply: bool,
    batch: int = 1000,
    progress: Callable[[RepairReport], None] | None = None,
) -> RepairReport:
    report = RepairReport()
    after = (-1, -1)
    key = sa.tuple_(customers.c.org_id, customers.c.id)
    while True:
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(customers.c.org_id, customers.c.id, *(customers.c[c] for c in _COLUMNS))
                    .where(key > sa.tuple_(*(sa.literal(v) for v in after)))
                    .order_by(customers.c.org_id, customers.c.id)
                    .limit(batch)
                )
            ).all()
            for row in rows:
                report.scanned += 1
                changes = _mend_row(row._mapping)
                if changes is None:
                    continue
                report.found += 1
                if len(report.sample) < SAMPLE:
                    report.sample.append((row.org_id, row.id))
                if any(free_json_problem(v, c) for c, v in changes.items()):
                    report.still_bad += 1
                if apply:
                    await _apply(conn, row.org_id, row.id, changes)
                    report.mended += 1
        if not rows:
            return report
        after = (rows[-1].org_id, rows[-1].id)
        if progress is not None:
            progress(report)


def _mend_row(row: Any) -> dict[str, Any] | None:
    bad = [c for c in _COLUMNS if free_json_problem(row[c], c)]
    return {c: mended(row[c]) for c in bad} if bad else None


async def _apply(conn: Any, org_id: int, customer_id: int, changes: dict[str, Any]) -> None:
    await conn.execute(
        customers.update()
        .where(customers.c.org_id == org_id, customers.c.id == customer_id)
        .values(**changes)
    )
    await AuditRepository(conn, org_id).add(
        AuditEntry(
            customer_id=customer_id,
            action="customer.repaired",
            till_code="memberbase db repair",
            occurred_at=dt.datetime.now(dt.UTC),
            changes=dict.fromkeys(changes, "mended to the free-form JSON limits"),
            user_context=None,
            request_id=uuid4_text(),
        )
    )
