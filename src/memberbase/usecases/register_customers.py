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
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.results import CustomerView, ItemResult
from memberbase.usecases.unit_of_work import UnitOfWork


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

    async def attempt() -> ItemResult:
        async with uow.savepoint():
            return await _write(customers, audit, org, valid, context)

    outcome = await settle(attempt)
    if outcome is None:
        return ItemResult(failure=Failure(Codes.CONCURRENT_ACTIONS))
    if isinstance(outcome, Failure):
        return ItemResult(failure=outcome)
    return outcome


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
        raise Refused(decision)
    warnings = [*valid.warnings, *decision.warnings]
    if isinstance(decision, Create):
        values = new_profile(valid, decision.identifiers, context.now)
        customer_id = await customers.add(values)
        await customers.claim(customer_id, [(k.value, v) for k, v in decision.identifiers.items()])
        enrolled = []
        if values["type"] is CustomerType.LOYALTY:
            enrolled = await _enrol(customers, org, customer_id, values["registered_on"], context.now)
        await audit.add(audit_entry(context, customer_id, "customer.registered", values))
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
        raise Refused(changes)
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
    await audit.add(audit_entry(context, current.id, "customer.updated", diff))
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
