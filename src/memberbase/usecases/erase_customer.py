"""Erasing a customer's personal data (an approved CUSTOMER DELETE request).

A merge's victim is the same person as its survivor: erasing either erases both. The
erasure grants itself the right to blank the append-only logs for these customers, for
the length of its own transaction only. Afterwards reads answer 8109; the identifiers are
forgotten, so registering them again registers a new customer.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain import events as ev
from memberbase.domain.customer_status import CustomerStatus
from memberbase.domain.org_config import OrgConfig
from memberbase.storage.audit import AuditRepository
from memberbase.storage.erasure import ErasureRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.unit_of_work import UnitOfWork

CUSTOMER_DELETED = "customer.deleted"


def _deleted_label(org: OrgConfig) -> str | None:
    return next((s.label for s in org.customer_status_labels if s.status is CustomerStatus.DELETED), None)


async def erase(
    uow: UnitOfWork, org: OrgConfig, customer_id: int, context: RequestContext, request_id: int
) -> list[int]:
    """Erase the customer (and its merge victims) in the caller's transaction; the ids erased."""
    conn: AsyncConnection = uow.conn
    erasure = ErasureRepository(conn, org.id)
    ids = [customer_id, *await erasure.victims_of(customer_id)]
    values = await erasure.values_of(ids)
    await erasure.grant(ids)
    await erasure.blank(ids, _deleted_label(org), context.now)
    await erasure.revoke(ids)
    await erasure.forget_answers(values)
    audit = AuditRepository(conn, org.id)
    for erased in ids:
        await audit.add(audit_entry(context, erased, "customer.erased", {"requestId": request_id}))
        data = {"customerId": erased, "requestId": request_id, "customerStatus": {"currentLabel": "Deleted"}}
        uow.emit(ev.new_event(CUSTOMER_DELETED, org.id, erased, context.now, context.request_id, data))
    return ids
