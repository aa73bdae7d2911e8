"""Changing subscriptions: the one write path every adapter (v1.1, v2, registration) goes through.

`record_changes` writes inside the caller's unit of work: the states, a consent log row per
instruction (with its evidence), one audit row and one `subscription.changed` event when
a state moved. Subscription changes send no customer.updated (the hosted API sends no
event notification for them). The v1.1 batch runs each item in its own savepoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain import events as ev
from memberbase.domain.codes import Codes, V2Codes
from memberbase.domain.customer import CustomerRecord, Failure, Warning_
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.subscriptions import Change, Instruction, ItemIn, apply, to_instruction, type_of
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.subscriptions import SubscriptionRepository, Who
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.read_subscriptions import find_customer
from memberbase.usecases.unit_of_work import UnitOfWork

AUDIT_ACTION = "subscription.changed"


def _who(context: RequestContext, via: str, api_client: str | None) -> Who:
    return Who(context.till_code, context.request_id, via, api_client, context.user_context)


def change_json(change: Change) -> dict[str, object]:
    k = change.key
    return {
        "channel": k.channel,
        "priority": k.priority,
        "source": k.source,
        "accountId": k.account_id,
        "from": type_of(change.previous),
        "to": type_of(change.subscribed),
    }


async def record_changes(
    uow: UnitOfWork,
    org: OrgConfig,
    customer_id: int,
    instructions: Sequence[Instruction],
    context: RequestContext,
    via: str,
    api_client: str | None = None,
) -> list[Change]:
    """Apply the instructions to one customer (who must exist) inside the caller's transaction."""
    if not instructions:
        return []
    await CustomerRepository(uow.conn, org.id).lock_customers([customer_id])
    repo = SubscriptionRepository(uow.conn, org.id)
    held = (await repo.states([customer_id]))[customer_id]
    changes = apply(dict(held), list(instructions))
    await repo.record(customer_id, changes, held, context.now, _who(context, via, api_client))
    moved = [change_json(c) for c in changes if c.changed]
    if moved:
        await AuditRepository(uow.conn, org.id).add(
            audit_entry(context, customer_id, AUDIT_ACTION, {"subscriptions": moved})
        )
        if not context.downstream.skip:
            data = {"via": via, "changes": moved, "reason": changes[0].instruction.evidence.reason}
            uow.emit(
                ev.new_event(
                    ev.SUBSCRIPTION_CHANGED, org.id, customer_id, context.now, context.request_id, data
                )
            )
    return changes


async def record_opt_ins(
    uow: UnitOfWork,
    org: OrgConfig,
    customer_id: int,
    items: Sequence[ItemIn],
    context: RequestContext,
    via: str,
) -> list[Warning_]:
    """Opt-ins sent with a registration, through `record_changes`; each one that does not pass
    its checks is a warning 91022 (the customer is stored all the same)."""
    instructions: list[Instruction] = []
    warnings: list[Warning_] = []
    for item in items:
        made = to_instruction(item, org)
        if isinstance(made, Failure):
            shown = [str(v).upper() if isinstance(v, str) else str(v) for v in (item.channel, item.priority)]
            warnings.append(Warning_(Codes.SUBSCRIPTION_UPDATE_FAILED, tuple(shown)))
        else:
            instructions.append(made)
    await record_changes(uow, org, customer_id, instructions, context, via)
    return warnings


@dataclass(frozen=True)
class V11Item:
    identifiers: tuple[tuple[str, str], ...]  # (mobile|email|external_id|id, value) as sent
    item: ItemIn


@dataclass
class ItemOutcome:
    failure: Failure | None = None
    customer: CustomerRecord | None = None
    instruction: Instruction | None = None
    echo: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failure is None


async def update_v11(
    engine: AsyncEngine,
    org: OrgConfig,
    items: Sequence[V11Item | Failure],
    context: RequestContext,
    api_client: str | None = None,
) -> list[ItemOutcome]:
    """A v1.1 batch in one transaction, each item in a savepoint: a failed item leaves nothing."""
    outcomes: list[ItemOutcome] = []
    async with UnitOfWork(engine) as uow:
        customers = CustomerRepository(uow.conn, org.id)
        checked = [_check(item, org) for item in items]
        found: list[CustomerRecord | Failure] = []
        for entry in checked:
            found.append(
                entry if isinstance(entry, Failure) else await find_customer(customers, org, entry[0])
            )
        # Every customer of the batch locked up front, in one order: batches never deadlock.
        await customers.lock_customers(sorted({r.id for r in found if isinstance(r, CustomerRecord)}))
        for entry, customer in zip(checked, found, strict=True):
            if isinstance(entry, Failure):
                outcomes.append(ItemOutcome(failure=entry))
            elif isinstance(customer, Failure):
                outcomes.append(ItemOutcome(failure=customer))
            else:
                outcomes.append(await _write_item(uow, org, customer, entry[1], context, api_client))
        if any(o.failure is None for o in outcomes):  # a batch that wrote nothing is not kept
            await uow.seal(context, outcomes)
    return outcomes


def _check(
    item: V11Item | Failure, org: OrgConfig
) -> tuple[tuple[tuple[str, str], ...], Instruction] | Failure:
    if isinstance(item, Failure):
        return item
    if not item.identifiers:
        return Failure(Codes.SUBSCRIPTION_IDENTIFIER_INVALID, "pass one of mobile, email, external_id, id")
    instruction = to_instruction(item.item, org)
    return instruction if isinstance(instruction, Failure) else (item.identifiers, instruction)


async def _write_item(
    uow: UnitOfWork,
    org: OrgConfig,
    customer: CustomerRecord,
    instruction: Instruction,
    context: RequestContext,
    api_client: str | None,
) -> ItemOutcome:
    async def attempt() -> ItemOutcome:
        async with uow.savepoint():
            await record_changes(uow, org, customer.id, [instruction], context, "v1.1", api_client)
        return ItemOutcome(customer=customer, instruction=instruction)

    settled = await settle(attempt)
    if settled is None:
        return ItemOutcome(failure=Failure(Codes.SUBSCRIPTION_NOT_UPDATED, "too many concurrent changes"))
    if isinstance(settled, Failure):
        return ItemOutcome(failure=settled)
    return settled


@dataclass
class V2Outcome:
    """A v2 call: a request-level failure, or each item's failure (None: applied)."""

    failure: Failure | None = None
    items: list[Failure | None] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        return self.failure is None and all(f is not None for f in self.items)


async def update_v2(
    engine: AsyncEngine,
    org: OrgConfig,
    customer_id: int,
    items: Sequence[ItemIn],
    context: RequestContext,
    api_client: str | None = None,
) -> V2Outcome:
    """One customer's subscriptions in one transaction; items that fail their checks are skipped."""
    checked = [to_instruction(item, org) for item in items]
    valid = [c for c in checked if isinstance(c, Instruction)]
    failures: list[Failure | None] = [c if isinstance(c, Failure) else None for c in checked]

    async def attempt() -> V2Outcome:
        async with UnitOfWork(engine) as uow:
            found = await CustomerRepository(uow.conn, org.id).get_or_none(customer_id)
            if found is None:
                raise Refused(Failure(V2Codes.SUBSCRIPTION_CUSTOMER_NOT_FOUND, f"customer {customer_id}"))
            # A merge's victim is its survivor now: its consent is the survivor's.
            target = found.merged_into if found.merged_into is not None else found.id
            await record_changes(uow, org, target, valid, context, "v2", api_client)
            result = V2Outcome(items=failures)
            if valid:
                await uow.seal(context, result)
            return result

    settled = await settle(attempt)
    if settled is None:
        lost = Failure(V2Codes.SUBSCRIPTIONS_NOT_ADDED, "too many concurrent changes")
        return V2Outcome(items=[f or lost for f in failures])
    if isinstance(settled, Failure):
        return V2Outcome(failure=settled)
    return settled
