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

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain import events as ev
from memberbase.domain.codes import Codes
from memberbase.domain.customer import (
    CustomerDraft,
    CustomerRecord,
    CustomerType,
    Failure,
    ValidDraft,
    registration_profile,
)
from memberbase.domain.loyalty import Enrolment
from memberbase.domain.org_config import IdentifierType, OrgConfig
from memberbase.domain.registration import Create, Update, decide, new_profile, updated_profile
from memberbase.domain.validation import validate_draft
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.bulk_register import FreshPlan, fresh_rows, register_fresh, write_fresh
from memberbase.usecases.customer_changes import apply_update, enrol
from memberbase.usecases.external_ids import generate_external_id, wants_generated_id
from memberbase.usecases.one_customer import item_result, write_alone
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.results import CustomerView, ItemResult
from memberbase.usecases.rewards import Earned, Registration, Rewarder
from memberbase.usecases.subscriptions import record_opt_ins
from memberbase.usecases.unit_of_work import UnitOfWork


async def register_customers(
    engine: AsyncEngine,
    org: OrgConfig,
    items: list[CustomerDraft | Failure],
    context: RequestContext,
    echoes: list[dict[str, object]],
) -> list[ItemResult]:
    if len(items) == 1:
        return [await _register_alone(engine, org, items[0], context, echoes[0])]
    checked = [_validate(item, org, context) for item in items]
    async with UnitOfWork(engine) as uow:
        results = await register_checked(uow, org, checked, context, echoes, bulk=True)
        if any(r.ok for r in results):  # a batch that wrote nothing is answered, not kept
            await uow.seal(context, results)
        return results


async def _register_alone(
    engine: AsyncEngine,
    org: OrgConfig,
    item: CustomerDraft | Failure,
    context: RequestContext,
    echo: dict[str, object],
) -> ItemResult:
    """One customer in a transaction of its own: no savepoint round trips (most tills send one)."""
    valid = _validate(item, org, context)
    if isinstance(valid, Failure):
        return ItemResult(failure=valid, echo=echo)

    async def write(rewarder: Rewarder, customers: CustomerRepository) -> ItemResult:
        audit = AuditRepository(rewarder.uow.conn, org.id)
        return await _write(rewarder, customers, audit, org, valid, context)

    return await write_alone(engine, org, valid, context, echo, write)


async def register_checked(
    uow: UnitOfWork,
    org: OrgConfig,
    checked: list[ValidDraft | Failure],
    context: RequestContext,
    echoes: list[dict[str, object]],
    *,
    bulk: bool = False,
    planned: FreshPlan | None = None,
) -> list[ItemResult]:
    """A validated batch (`context.till_code`, `context.now`) inside the caller's unit of work;
    the importer commits its checkpoint with it.

    `bulk` writes rows that can only be new customers set-wise on PostgreSQL (imports
    and API batches); the rest go one by one, in order, each in its own savepoint.
    `planned`: those rows' writes worked out beforehand (`plan_fresh`, by an import's
    helper process, for every row that might be new); the new ones are written from it.
    """
    results: list[ItemResult] = []
    customers = CustomerRepository(uow.conn, org.id)
    audit = AuditRepository(uow.conn, org.id)
    # Two batches sharing identifiers would otherwise lock them in different orders.
    await customers.lock_identifiers(
        [(k.value, v) for c in checked if isinstance(c, ValidDraft) for k, v in c.identifiers.items()]
    )
    rewarder = Rewarder(uow, org, context)
    fast: dict[int, ItemResult] = {}
    if bulk:
        fresh = await fresh_rows(uow, org, checked)
        # Rows with opt-ins, or that get a generated external id, take the per-row path,
        # which records and generates them (the one write path).
        new = {
            i: c
            for i, c in enumerate(checked)
            if i in fresh
            and isinstance(c, ValidDraft)
            and not c.opt_ins
            and not wants_generated_id(org, c.identifiers, c.source, c.account_id)
        }
        try:
            async with uow.savepoint():
                if planned is not None:
                    fast = await write_fresh(uow, planned, {i for i in new if i in planned.results})
                else:
                    fast = await register_fresh(uow, org, context, new) if new else {}
        except sa_exc.IntegrityError:
            fast = {}  # someone outside the locks got there first (a random code collided): row by row
    for position, (valid, echo) in enumerate(zip(checked, echoes, strict=True)):
        if position in fast:
            result = fast[position]
        else:
            result = await _register_item(uow, rewarder, customers, audit, org, valid, context)
        result.echo = echo
        results.append(result)
    return results


def _validate(item: CustomerDraft | Failure, org: OrgConfig, context: RequestContext) -> ValidDraft | Failure:
    if isinstance(item, Failure):
        return item
    return validate_draft(item, org, context.till_code, context.now)


async def _register_item(
    uow: UnitOfWork,
    rewarder: Rewarder,
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
            return await _write(rewarder, customers, audit, org, valid, context)

    return item_result(await settle(attempt))


async def _write(
    rewarder: Rewarder,
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
        identifiers = decision.identifiers
        if wants_generated_id(org, identifiers, valid.source, valid.account_id):
            no_more = Failure(Codes.INVALID_EXTERNAL_ID, "the organisation's generated external ids ran out")
            generated = await generate_external_id(customers, org, no_more)
            identifiers = {**identifiers, IdentifierType.EXTERNAL_ID: generated}
        values = new_profile(valid, identifiers, context.now)
        customer_id = await customers.add(values)
        rewarder.uow.created.add(customer_id)
        await customers.claim(customer_id, [(k.value, v) for k, v in identifiers.items()])
        enrolled: list[Enrolment] = []
        if values["type"] is CustomerType.LOYALTY:
            enrolled = await enrol(customers, org, customer_id, values["registered_on"], context)
        await audit.add(audit_entry(context, customer_id, "customer.registered", values))
        record = CustomerRecord(id=customer_id, **values)
        await customers.add_profile(customer_id, registration_profile(record))
        await rewarder.give_referral_code(customer_id)
        rewarder.emit(ev.CUSTOMER_REGISTERED, customer_id, ev.registered_data(record, enrolled))
        earned = await rewarder.reward(_occasion(record, "registration", True, enrolled, valid))
        success = Codes.CUSTOMER_REGISTERED
    else:
        record, enrolled, earned = await _apply_update(rewarder, customers, org, decision, valid, context)
        await customers.keep_profile(record.id, registration_profile(record))
        success = Codes.CUSTOMER_UPDATED
    enrolled = earned.applied_to(record.id, enrolled)
    opted = await record_opt_ins(rewarder.uow, org, record.id, valid.opt_ins, context, "v1.1 customer/add")
    return ItemResult(
        success=success,
        customer=CustomerView(record, enrolled),
        warnings=[*warnings, *earned.warnings, *opted],
        effects=earned.effects,
    )


def _occasion(
    record: CustomerRecord, trigger: str, is_new: bool, enrolled: list[Enrolment], valid: ValidDraft
) -> Registration:
    return Registration(
        customer_id=record.id,
        customer_type=record.type,
        source=record.source,
        trigger=trigger,  # type: ignore[arg-type]
        is_new=is_new,
        enrolled_programs=tuple(e.program_id for e in enrolled),
        referral_code=valid.referral_code,
    )


async def _apply_update(
    rewarder: Rewarder,
    customers: CustomerRepository,
    org: OrgConfig,
    decision: Update,
    valid: ValidDraft,
    context: RequestContext,
) -> tuple[CustomerRecord, list[Enrolment], Earned]:
    # The row is read again, locked: the decision's copy may predate another writer's change.
    current = await customers.get_for_update(decision.customer.id) or decision.customer
    changes = updated_profile(current, valid, context.now)
    if isinstance(changes, Failure):
        raise Refused(changes)
    changed = await apply_update(
        rewarder,
        customers,
        org,
        current,
        changes,
        decision.set_identifiers,
        context,
        referral_code=valid.referral_code,
    )
    return changed.record, changed.enrolled, changed.earned  # the caller applies what awards changed
