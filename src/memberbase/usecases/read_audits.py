"""Reading a customer's audit trail (the audit API), newest or oldest first, a page at a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.audit_events import AuditEvent, events_of
from memberbase.storage.audit import AuditEntry, AuditRepository
from memberbase.usecases.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AuditQuery:
    customer_id: int
    limit: int
    page: int
    newest_first: bool
    since: dt.datetime | None  # aware
    until: dt.datetime | None  # aware
    event_type: str | None  # from referenceType
    reference_value: str | None


@dataclass
class AuditRecord:
    entry: AuditEntry
    events: list[AuditEvent]


@dataclass
class AuditPage:
    records: list[AuditRecord]
    total: int


def _matches(event: AuditEvent, query: AuditQuery) -> bool:
    if query.event_type is not None and event.event_type != query.event_type:
        return False
    return query.reference_value is None or query.reference_value in (
        event.field,
        event.current,
        event.previous,
    )


async def read_audits(engine: AsyncEngine, org_id: int, query: AuditQuery) -> AuditPage:
    async with UnitOfWork(engine) as uow:
        entries = await AuditRepository(uow.conn, org_id).for_customer(
            query.customer_id, query.since, query.until
        )
    records = []
    for entry in entries:
        events = events_of(entry.action, entry.changes)
        if query.event_type is not None or query.reference_value is not None:
            events = [e for e in events if _matches(e, query)]
            if not events:
                continue
        records.append(AuditRecord(entry, events))
    if query.newest_first:
        records.reverse()
    start = query.page * query.limit
    return AuditPage(records[start : start + query.limit], len(records))
