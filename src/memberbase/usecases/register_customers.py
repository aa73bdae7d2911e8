"""Registering (or, for a known identifier, updating) a batch of v1.1 customers.

Each item is decided and written inside its own savepoint of one transaction:
a failing item leaves nothing behind, its siblings commit. On PostgreSQL the
batch first takes transaction-scoped advisory locks on all its identifiers in
one global order, so concurrent requests naming the same identifier queue
instead of deadlocking. A lost race the locks do not cover (the database's
unique key fires) rolls the item's savepoint back and decides it again, which
then takes the update path: never a 500, never two customers for one identifier.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import Codes
from memberbase.domain.customer import (
    CustomerDraft,
    CustomerRecord,
    CustomerType,
    Failure,
    ValidDraft,
    registration_profile,
)
from memberbase.domain.loyalty import Enrolment, enrolment_on_registration
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.registration import Create, Update, decide, new_profile, updated_profile
from memberbase.domain.validation import validate_draft
from memberbase.storage.audit import AuditEntry, AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.usecases.results import CustomerView, ItemResult
from memberbase.usecases.unit_of_work import UnitOfWork

MAX_ATTEMPTS = 5
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock


@dataclass(frozen=True)
class RequestContext:
    till_code: str
    request_id: str
    now: dt.datetime  # aware, UTC
    user_context: dict[str, str] | None = None


class _ItemFailed(Exception):
    """Raised inside an item's savepoint so that whatever it wrote is rolled back."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure


def retryable(error: sa_exc.DBAPIError) -> bool:
    if isinstance(error, sa_exc.IntegrityError):
        return True
    return getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


async def register_customers(
    engine: AsyncEngine,
    org: OrgConfig,
    items: list[CustomerDraft | Failure],
    context: RequestContext,
    echoes: list[dict[str, object]],
) -> list[ItemResult]:
    results: list[ItemResult] = []
    checked = [_validate(item, org, context) for item in items]
    async with UnitOfWork(engine) as uow:
        customers = CustomerRepository(uow.conn, org.id)
        audit = AuditRepository(uow.conn, org.id)
        # Two batches sharing identifiers would otherwise lock them in different orders.
        await customers.lock_identifiers(
            [(k.value, v) for c in checked if isinstance(c, ValidDraft) for k, v in c.identifiers.items()]
        )
        for valid, echo in zip(checked, echoes, strict=True):
            result = await _register_item(uow, customers, audit, org, valid, context)
            result.echo = echo
            results.append(result)
        # A new customer's enrolment is known; only updated customers need reading back.
        updated = [
            r.customer.record.id
            for r in results
            if r.customer is not None and r.success is not Codes.CUSTOMER_REGISTERED
        ]
        enrolments = await customers.enrolments(updated)
        for result in results:
            if result.customer is not None and result.customer.record.id in enrolments:
                result.customer.enrolments = enrolments[result.customer.record.id]
    return results


def _validate(item: CustomerDraft | Failure, org: OrgConfig, context: RequestContext) -> ValidDraft | Failure:
    if isinstance(item, Failure):
        return item
    return validate_draft(item, org, context.till_code, context.now)


async def _register_item(
    uow: UnitOfWork,
    customers: CustomerRepository,
    audit: AuditRepository,
    org: OrgConfig,
    valid: ValidDraft | Failure,
    context: RequestContext,
) -> ItemResult:
    if isinstance(valid, Failure):
        return ItemResult(failure=valid)
    for _ in range(MAX_ATTEMPTS):
        try:
            async with uow.savepoint():
                return await _write(customers, audit, org, valid, context)
        except _ItemFailed as failed:
            return ItemResult(failure=failed.failure)
        except sa_exc.DBAPIError as error:
            if not retryable(error):
                raise
    return ItemResult(failure=Failure(Codes.CONCURRENT_ACTIONS))


async def _write(
    customers: CustomerRepository,
    audit: AuditRepository,
    org: OrgConfig,
    valid: ValidDraft,
    context: RequestContext,
) -> ItemResult:
    owners = await customers.find_owners(valid.identifiers)
    decision = decide(valid, owners, org)
    if isinstance(decision, Failure):
        raise _ItemFailed(decision)
    warnings = [*valid.warnings, *decision.warnings]
    if isinstance(decision, Create):
        values = new_profile(valid, decision.identifiers, context.now)
        customer_id = await customers.add(values)
        await customers.claim(customer_id, [(k.value, v) for k, v in decision.identifiers.items()])
        enrolled = []
        if values["type"] is CustomerType.LOYALTY:
            enrolled = await _enrol(customers, org, customer_id, values["registered_on"], context.now)
        await audit.add(audit_entry(context, customer_id, "customer.registered", jsonable(values)))
        record = CustomerRecord(id=customer_id, **values)
        await customers.add_profile(customer_id, registration_profile(record))
        success = Codes.CUSTOMER_REGISTERED
    else:
        record = await _apply_update(customers, audit, org, decision, valid, context)
        await customers.keep_profile(record.id, registration_profile(record))
        success = Codes.CUSTOMER_UPDATED
        enrolled = []
    return ItemResult(success=success, customer=CustomerView(record, enrolled), warnings=warnings)


async def _apply_update(
    customers: CustomerRepository,
    audit: AuditRepository,
    org: OrgConfig,
    decision: Update,
    valid: ValidDraft,
    context: RequestContext,
) -> CustomerRecord:
    current = decision.customer
    changes = updated_profile(current, valid, context.now)
    if isinstance(changes, Failure):
        raise _ItemFailed(changes)
    released = [
        (kind, held)
        for kind in decision.set_identifiers
        if (held := current.identifier(kind)) is not None and held != decision.set_identifiers[kind]
    ]
    await customers.release([(k.value, v) for k, v in released])
    fresh = {k: v for k, v in decision.set_identifiers.items() if current.identifier(k) != v}
    await customers.claim(current.id, [(k.value, v) for k, v in fresh.items()])
    for kind, value in fresh.items():
        changes[kind.value] = value
    await customers.update(current.id, changes)
    if changes.get("type") is CustomerType.LOYALTY:
        enrolled = (await customers.enrolments([current.id]))[current.id]
        if not enrolled:
            await _enrol(customers, org, current.id, current.registered_on, context.now)
    before = {name: getattr(current, name) for name in changes}
    diff = {name: {"from": before[name], "to": value} for name, value in changes.items()}
    await audit.add(audit_entry(context, current.id, "customer.updated", jsonable(diff)))
    return dataclasses.replace(current, **changes)


async def _enrol(
    customers: CustomerRepository,
    org: OrgConfig,
    customer_id: int,
    registered_on: dt.datetime,
    now: dt.datetime,
) -> list[Enrolment]:
    enrolment = enrolment_on_registration(org, registered_on)
    if enrolment is None:
        return []
    await customers.enrol(customer_id, enrolment, now)
    return [enrolment]


def audit_entry(
    context: RequestContext, customer_id: int, action: str, changes: dict[str, Any]
) -> AuditEntry:
    return AuditEntry(
        customer_id=customer_id,
        action=action,
        till_code=context.till_code,
        occurred_at=context.now,
        changes=changes,
        user_context=context.user_context,
        request_id=context.request_id,
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
