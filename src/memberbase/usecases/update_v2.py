"""v2 PUT /v2/customers/{id} and /v2/customers/lookup: change a customer's profile.

One transaction: the row locked, `If-Match` compared with its version, the plan decided
(domain.v2_update), the profiles and the customer written through the one update path
(customer_changes.apply_update), its audit row and event with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import Failure, Warning_
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.v2_request import V2Draft
from memberbase.domain.v2_update import plan_v2_update
from memberbase.storage.customers import CustomerRepository
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.customer_changes import apply_update
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.results import Effect
from memberbase.usecases.rewards import Rewarder
from memberbase.usecases.unit_of_work import UnitOfWork


@dataclass
class V2Updated:
    created_id: int | None = None
    version: int | None = None
    warnings: list[Warning_] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    failure: Failure | None = None


async def update_v2(
    engine: AsyncEngine,
    org: OrgConfig,
    customer_id: int,
    draft: V2Draft,
    query: tuple[str | None, str | None],
    context: RequestContext,
    if_match: set[int] | None = None,
) -> V2Updated:
    """`if_match`: the versions the caller read (None: no precondition)."""

    async def attempt() -> V2Updated:
        async with UnitOfWork(engine) as uow:
            result = await _update(uow, org, customer_id, draft, query, context, if_match)
            await uow.seal(context, result)
            return result

    outcome = await settle(attempt)
    if outcome is None:
        return V2Updated(failure=Failure(V2Codes.CONCURRENT_ACTIONS))
    if isinstance(outcome, Failure):
        return V2Updated(failure=outcome)
    return outcome


async def _update(
    uow: UnitOfWork,
    org: OrgConfig,
    customer_id: int,
    draft: V2Draft,
    query: tuple[str | None, str | None],
    context: RequestContext,
    if_match: set[int] | None,
) -> V2Updated:
    customers = CustomerRepository(uow.conn, org.id)
    warnings: list[Warning_] = []
    current = await customers.get_for_update(customer_id)
    if current is not None and current.merged_into is not None:
        warnings.append(Warning_(V2Codes.MERGED_CUSTOMER_FOUND))
        current = await customers.get_for_update(current.merged_into)
    if current is None:
        raise Refused(Failure(V2Codes.CUSTOMER_NOT_FOUND, f"customer {customer_id}"))
    if current.erased_at is not None:
        raise Refused(Failure(V2Codes.CUSTOMER_ERASED, f"customer {customer_id}"))
    if if_match is not None and current.version not in if_match:
        raise Refused(Failure(V2Codes.VERSION_MISMATCH, f"its version is {current.version}"))
    stored = (await customers.profiles([current.id]))[current.id]
    plan = plan_v2_update(current, stored, await customers.claims_of(current.id), draft, org, query)
    if isinstance(plan, Failure):
        raise Refused(plan)
    also = {}
    for account, values in plan.profiles.items():
        await customers.update_profile(current.id, account, values)
        before = next(p for p in stored if (p.source, p.account_id) == account)
        for name, value in values.items():
            also[f"profiles.{account[0]}.{account[1] or '-'}.{name}"] = {
                "from": getattr(before, name),
                "to": value,
            }
    changes = {**plan.changes, "updated_on": context.now} if plan.changes or also else {}
    changed = await apply_update(
        Rewarder(uow, org, context), customers, org, current, changes, {}, context, also=also
    )
    return V2Updated(
        created_id=current.id,
        version=changed.record.version,
        warnings=[*warnings, *plan.warnings, *changed.earned.warnings],
        effects=changed.earned.effects,
    )
