"""Changing a customer's status label, and reading its history (the status log).

The label, the status log row, the audit row and a customerUpdated event (with the
hosted API's `customerStatus`) are written together. A registration's label is not
logged when it is set (that would cost every registration a statement): the log shows
it as its first entry, dated at registration, until the label first changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain import events as ev
from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import Failure
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.status_change import check_status_change
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.database import reading
from memberbase.storage.status_log import StatusEntry, StatusLogRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.unit_of_work import UnitOfWork

REGISTRATION_REASON = "Set at registration"


@dataclass
class StatusChanged:
    customer_id: int | None = None
    failure: Failure | None = None


async def change_status(
    engine: AsyncEngine,
    org: OrgConfig,
    customer_id: int,
    label: object,
    reason: object,
    context: RequestContext,
    created_on: dt.datetime | None = None,
) -> StatusChanged:
    async def attempt() -> StatusChanged:
        async with UnitOfWork(engine) as uow:
            customers = CustomerRepository(uow.conn, org.id)
            current = await customers.get_for_update(customer_id)
            if current is not None and current.merged_into is not None:
                current = await customers.get_for_update(current.merged_into)
            if current is None:
                raise Refused(Failure(V2Codes.CUSTOMER_NOT_FOUND))
            if current.erased_at is not None:
                raise Refused(Failure(V2Codes.CUSTOMER_ERASED))
            held = _label_of(org, current.status_label)
            checked = check_status_change(org, label, reason, held)
            if isinstance(checked, Failure):
                raise Refused(checked)
            wanted, why = checked
            when = created_on or context.now
            await customers.update(current.id, {"status_label": wanted.label, "updated_on": context.now})
            entry = StatusEntry(
                label=wanted.label,
                status=wanted.status.value,
                previous_label=held,
                reason=why,
                created_on=when,
                created_by=context.till_code,
                user_context=context.user_context,
            )
            await StatusLogRepository(uow.conn, org.id).add(current.id, entry)
            change = {"status_label": {"from": held, "to": wanted.label}, "reason": why}
            await AuditRepository(uow.conn, org.id).add(
                audit_entry(context, current.id, "customer.status_changed", change)
            )
            status = {"currentLabel": wanted.label, "previousLabel": held, "reason": why}
            if not context.downstream.skip:
                data = {"customerStatus": status}
                event = ev.new_event(
                    ev.CUSTOMER_UPDATED, org.id, current.id, context.now, context.request_id, data
                )
                uow.emit(event)
            result = StatusChanged(customer_id=current.id)
            await uow.seal(context, result)
            return result

    outcome = await settle(attempt)
    if outcome is None:
        return StatusChanged(failure=Failure(V2Codes.CONCURRENT_ACTIONS))
    if isinstance(outcome, Failure):
        return StatusChanged(failure=outcome)
    return outcome


def _label_of(org: OrgConfig, stored: str | None) -> str | None:
    """A customer registered without a label has the org's default one."""
    if stored is not None:
        return stored
    default = org.default_status_label
    return None if default is None else default.label


async def status_log(engine: AsyncEngine, org: OrgConfig, customer_id: int) -> list[StatusEntry] | None:
    """The customer's labels, newest first; None when there is no such customer."""
    async with reading(engine) as conn:
        record = await CustomerRepository(conn, org.id).get_or_none(customer_id)
        if record is None:
            return None
        entries = await StatusLogRepository(conn, org.id).for_customer(record.id)
    first_label = entries[0].previous_label if entries else _label_of(org, record.status_label)
    if first_label is not None:
        known = org.status_label(first_label)
        entries.insert(
            0,
            StatusEntry(
                label=first_label,
                status=known.status.value if known else "Active",
                previous_label=None,
                reason=REGISTRATION_REASON,
                created_on=record.registered_on,
                created_by=record.registered_till,
            ),
        )
    return list(reversed(entries))
