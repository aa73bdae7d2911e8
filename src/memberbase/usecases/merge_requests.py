"""Merge requests (/v2/requests): created PENDING, approved or rejected, carried out on approval.

An approval runs the merge (merge_customers, the one merge path) in the same transaction
as the request's status change: a refused merge leaves the request PENDING and says why.
The request row is locked first, so of fifty concurrent approvals exactly one merges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import Codes, V2Codes
from memberbase.domain.customer import Failure
from memberbase.domain.merges import merge_blockers
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.requests import APPROVED, MERGE, PENDING, MergeAsked, status_move
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.database import reading
from memberbase.storage.merges import MergeRepository
from memberbase.storage.requests import RequestRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.merge_customers import merge_customers
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.rewards import Rewarder
from memberbase.usecases.unit_of_work import UnitOfWork

REQUEST_UPDATED = "request.updated"


@dataclass
class RequestOutcome:
    request_id: int | None = None
    status: str | None = None
    merge_id: str | None = None
    failure: Failure | None = None
    warnings: list[Any] = field(default_factory=list)


async def _settled(attempt: Any) -> RequestOutcome:
    outcome = await settle(attempt)
    if outcome is None:
        return RequestOutcome(failure=Failure(V2Codes.CONCURRENT_ACTIONS))
    if isinstance(outcome, Failure):
        return RequestOutcome(failure=outcome)
    assert isinstance(outcome, RequestOutcome)
    return outcome


async def create_merge_request(
    engine: AsyncEngine, org: OrgConfig, asked: MergeAsked, context: RequestContext, auto_approve: bool
) -> RequestOutcome:
    async def attempt() -> RequestOutcome:
        async with UnitOfWork(engine) as uow:
            customers = CustomerRepository(uow.conn, org.id)
            survivor = await customers.get_or_none(asked.survivor_id)
            victim = await customers.get_or_none(asked.victim_id)
            if survivor is None or victim is None:
                missing = asked.survivor_id if survivor is None else asked.victim_id
                raise Refused(Failure(Codes.CUSTOMER_NOT_FOUND, f"customer {missing}"))
            held = await MergeRepository(uow.conn, org.id).holdings([survivor.id, victim.id])
            blockers = merge_blockers(survivor, victim, held, org.merges)
            if blockers:
                raise Refused(blockers[0])
            repo = RequestRepository(uow.conn, org.id)
            details = {"victimId": victim.id, "survivorId": survivor.id}
            request_id = await repo.add(
                {
                    "type": MERGE[0],
                    "base_type": MERGE[1],
                    "status": PENDING,
                    "user_id": victim.id,
                    "details": details,
                    "comments": asked.comments,
                    "created_by": context.till_code,
                    "created_at": context.now,
                }
            )
            await AuditRepository(uow.conn, org.id).add(
                audit_entry(context, victim.id, "merge.requested", {"requestId": request_id, **details})
            )
            result = RequestOutcome(request_id=request_id, status=PENDING)
            if auto_approve:
                result = await _decide(uow, org, request_id, APPROVED, None, context, auto=True)
            await uow.seal(context, result)
            return result

    return await _settled(attempt)


async def decide_request(
    engine: AsyncEngine,
    org: OrgConfig,
    request_id: int,
    status: Any,
    comments: str | None,
    context: RequestContext,
) -> RequestOutcome:
    async def attempt() -> RequestOutcome:
        async with UnitOfWork(engine) as uow:
            result = await _decide(uow, org, request_id, status, comments, context)
            await uow.seal(context, result)
            return result

    return await _settled(attempt)


async def _decide(
    uow: UnitOfWork,
    org: OrgConfig,
    request_id: int,
    status: Any,
    comments: str | None,
    context: RequestContext,
    *,
    auto: bool = False,
) -> RequestOutcome:
    repo = RequestRepository(uow.conn, org.id)
    request = await repo.get(request_id, lock=True)
    if request is None:
        raise Refused(Failure(V2Codes.REQUEST_NOT_FOUND, f"request {request_id}"))
    moved = status_move(request["status"], status)
    if isinstance(moved, Failure):
        raise Refused(moved)
    if moved == APPROVED and not auto and request["created_by"] == context.till_code:
        raise Refused(Failure(V2Codes.REQUEST_SAME_USER, f"{context.till_code} created request {request_id}"))
    details = request["details"]
    outcome: dict[str, Any] | None = None
    merge_id = None
    rewarder = Rewarder(uow, org, context)
    if moved == APPROVED:
        customers = CustomerRepository(uow.conn, org.id)
        merged = await merge_customers(
            rewarder,
            customers,
            org,
            details["survivorId"],
            details["victimId"],
            f"merge request {request_id}",
            context,
        )
        merge_id = merged.merge_id
        outcome = {"mergeId": merge_id}
    await repo.decide(request_id, moved, context.till_code, context.now, comments, outcome)
    change = {"requestId": request_id, "from": request["status"], "to": moved, **details}
    await AuditRepository(uow.conn, org.id).add(
        audit_entry(context, request["user_id"], REQUEST_UPDATED, change)
    )
    rewarder.emit(REQUEST_UPDATED, request["user_id"], change)
    return RequestOutcome(request_id=request_id, status=moved, merge_id=merge_id)


async def get_request(engine: AsyncEngine, org: OrgConfig, request_id: int) -> dict[str, Any] | None:
    async with reading(engine) as conn:
        return await RequestRepository(conn, org.id).get(request_id)
