"""v1.1 customer/update: change the profile of customers that exist, never register one.

A batch runs in one transaction, each item in its own savepoint, like customer/add: a
failing item (1012 for a customer nobody holds) leaves nothing behind and its siblings
commit. Identifiers are locked before the customer's row, in the order registration
takes them, so an update and a registration naming one identifier queue, never deadlock.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import Codes
from memberbase.domain.customer import CustomerDraft, CustomerRecord, Failure, ValidDraft, Warning_
from memberbase.domain.customer_update import lookup_order, plan_update
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.validation import validate_draft
from memberbase.storage.customers import CustomerRepository
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.customer_changes import apply_update
from memberbase.usecases.merge_customers import merge_customers
from memberbase.usecases.one_customer import item_result, write_alone
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.results import CustomerView, ItemResult
from memberbase.usecases.rewards import Rewarder
from memberbase.usecases.subscriptions import record_opt_ins
from memberbase.usecases.unit_of_work import UnitOfWork


async def update_customers(
    engine: AsyncEngine,
    org: OrgConfig,
    items: list[CustomerDraft | Failure],
    context: RequestContext,
    echoes: list[dict[str, object]],
) -> list[ItemResult]:
    if len(items) == 1:
        return [await _update_alone(engine, org, items[0], context, echoes[0])]
    async with UnitOfWork(engine) as uow:
        results = await _update_all(uow, org, items, context, echoes)
        if any(r.ok for r in results):  # a batch that wrote nothing is answered, not kept
            await uow.seal(context, results)
        return results


async def _update_alone(
    engine: AsyncEngine,
    org: OrgConfig,
    item: CustomerDraft | Failure,
    context: RequestContext,
    echo: dict[str, object],
) -> ItemResult:
    """One customer in a transaction of its own: no savepoint round trips (most tills send
    one), a refusal rolls the transaction back as it would the item's savepoint."""
    valid = _checked(item, org, context)
    if isinstance(valid, Failure):
        return ItemResult(failure=valid, echo=echo)

    async def write(rewarder: Rewarder, customers: CustomerRepository) -> ItemResult:
        return await _update(rewarder, customers, org, valid, context)

    return await write_alone(engine, org, valid, context, echo, write)


def _checked(item: CustomerDraft | Failure, org: OrgConfig, context: RequestContext) -> ValidDraft | Failure:
    if isinstance(item, Failure):
        return item
    return validate_draft(item, org, context.till_code, context.now, update=True)


async def _update_all(
    uow: UnitOfWork,
    org: OrgConfig,
    items: list[CustomerDraft | Failure],
    context: RequestContext,
    echoes: list[dict[str, object]],
) -> list[ItemResult]:
    checked = [_checked(item, org, context) for item in items]
    customers = CustomerRepository(uow.conn, org.id)
    await customers.lock_identifiers(
        [(k.value, v) for c in checked if isinstance(c, ValidDraft) for k, v in c.identifiers.items()]
    )
    rewarder = Rewarder(uow, org, context)
    results = []
    for valid, echo in zip(checked, echoes, strict=True):
        result = await _update_item(uow, rewarder, customers, org, valid, context)
        result.echo = echo
        results.append(result)
    return results


async def _update_item(
    uow: UnitOfWork,
    rewarder: Rewarder,
    customers: CustomerRepository,
    org: OrgConfig,
    valid: ValidDraft | Failure,
    context: RequestContext,
) -> ItemResult:
    if isinstance(valid, Failure):
        return ItemResult(failure=valid)

    async def attempt() -> ItemResult:
        async with uow.savepoint():
            return await _update(rewarder, customers, org, valid, context)

    return item_result(await settle(attempt))


async def _addressed(customers: CustomerRepository, valid: ValidDraft, org: OrgConfig) -> CustomerRecord:
    if valid.customer_id is not None:
        found = await customers.get_for_update(valid.customer_id)
    else:
        found = None
        for kind, value in lookup_order(valid, org):
            found = await customers.find_by_identifier(kind, value)
            if found is not None:
                found = await customers.get_for_update(found.id)
                break
    if found is None:
        raise Refused(Failure(Codes.CUSTOMER_NOT_FOUND))
    if found.erased_at is not None:
        raise Refused(Failure(Codes.CUSTOMER_ERASED))
    if found.merged_into is not None:  # a merge's victim: its survivor is the customer now
        found = await customers.get_for_update(found.merged_into)
        assert found is not None
    return found


async def _update(
    rewarder: Rewarder,
    customers: CustomerRepository,
    org: OrgConfig,
    valid: ValidDraft,
    context: RequestContext,
) -> ItemResult:
    current = await _addressed(customers, valid, org)
    asked = {k: v for k, v in valid.identifiers.items() if current.identifier(k) != v}
    owners = await customers.find_owners(asked)
    plan = plan_update(current, valid, owners, org, context.now)
    if isinstance(plan, Failure):
        raise Refused(plan)
    warnings = [*valid.warnings, *plan.warnings]
    if plan.merge_into is not None:
        merged = await merge_customers(
            rewarder, customers, org, plan.merge_into.id, current.id, "v1.1 customer/update", context
        )
        survivor = merged.survivor
        warnings.append(Warning_(Codes.MERGED_INTO_SURVIVOR))
        current = survivor
        # The identifiers sent are the survivor's now (the merge moved the victim's over).
        plan = plan_update(current, dataclasses.replace(valid, identifiers={}), {}, org, context.now)
        assert not isinstance(plan, Failure)
    changed = await apply_update(
        rewarder, customers, org, current, plan.changes, plan.set_identifiers, context
    )
    enrolled = changed.earned.applied_to(current.id, changed.enrolled)
    # subscriptions.subscription[] of the item: the subscriptions use-case, its one write path.
    opted = await record_opt_ins(
        rewarder.uow, org, current.id, valid.opt_ins, context, "v1.1 customer/update"
    )
    return ItemResult(
        success=Codes.CUSTOMER_UPDATED,
        customer=CustomerView(changed.record, enrolled),
        warnings=[*warnings, *changed.earned.warnings, *opted],
        effects=changed.earned.effects,
    )
