"""Merge requests (/v2/requests): created PENDING, approved or rejected, carried out on approval.

An approval runs the merge (merge_customers, the one merge path) in the same transaction
as the request's status change: a refused merge leaves the request PENDING and says why.
The request row is locked first, so of fifty concurrent approvals exactly one merges.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import Codes, V2Codes
from memberbase.domain.customer import Failure
from memberbase.domain.customer_status import CustomerStatus
from memberbase.domain.merges import merge_blockers
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.requests import APPROVED, DELETE, MERGE, PENDING, DeleteAsked, MergeAsked, status_move
from memberbase.domain.sources import canonical_source
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.database import reading
from memberbase.storage.merges import MergeRepository
from memberbase.storage.requests import RequestRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.erase_customer import erase
from memberbase.usecases.merge_customers import merge_customers
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.read_customers import LookupQuery, lookup
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
    deletion = (request["type"], request["base_type"]) == DELETE
    moved = status_move(request["status"], status, deletion=deletion)
    if isinstance(moved, Failure):
        raise Refused(moved)
    if moved == APPROVED and not auto and request["created_by"] == context.till_code:
        raise Refused(Failure(V2Codes.REQUEST_SAME_USER, f"{context.till_code} created request {request_id}"))
    details = request["details"]
    outcome: dict[str, Any] | None = None
    merge_id = None
    rewarder = Rewarder(uow, org, context)
    scheduled = None
    if moved == APPROVED and deletion:
        outcome, scheduled = await _approve_deletion(uow, org, request, context)
    elif moved == APPROVED:
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
    await repo.decide(request_id, moved, context.till_code, context.now, comments, outcome, scheduled)
    change = {"requestId": request_id, "from": request["status"], "to": moved, **details}
    await AuditRepository(uow.conn, org.id).add(
        audit_entry(context, request["user_id"], REQUEST_UPDATED, change)
    )
    rewarder.emit(REQUEST_UPDATED, request["user_id"], change)
    return RequestOutcome(request_id=request_id, status=moved, merge_id=merge_id)


async def _approve_deletion(
    uow: UnitOfWork, org: OrgConfig, request: dict[str, Any], context: RequestContext
) -> tuple[dict[str, Any], dt.datetime | None]:
    """Erase at once, or mark the customer Pending deletion until the org's wait is over."""
    wait = dt.timedelta(hours=org.erasure.waiting_hours)
    customer_id = int(request["user_id"])
    if not wait:
        erased = await erase(uow, org, customer_id, context, int(request["id"]))
        return {"erasedAt": context.now.isoformat(), "customers": erased}, None
    pending = next(
        (s.label for s in org.customer_status_labels if s.status is CustomerStatus.PENDING_DELETION), None
    )
    if pending is not None:
        await CustomerRepository(uow.conn, org.id).update(customer_id, {"status_label": pending})
    return {"scheduledFor": (context.now + wait).isoformat()}, context.now + wait


async def create_delete_request(
    engine: AsyncEngine, org: OrgConfig, asked: DeleteAsked, context: RequestContext, auto_approve: bool
) -> RequestOutcome:
    """A CUSTOMER DELETE request for the customer an identifier names (3232 unless the org allows it)."""
    if not org.configs.pii_deletion_enabled:
        return RequestOutcome(failure=Failure(V2Codes.PII_DELETION_DISABLED))
    found = await lookup(
        engine, org, LookupQuery(asked.source, None, asked.identifier_name, asked.identifier_value)
    )
    if isinstance(found, Failure):
        return RequestOutcome(failure=found)

    async def attempt() -> RequestOutcome:
        async with UnitOfWork(engine) as uow:
            repo = RequestRepository(uow.conn, org.id)
            # The identifier is personal data: the request keeps the customer's id, not it.
            details = {
                "customerId": found,
                "source": canonical_source(asked.source or ""),
                "identifierType": asked.identifier_name,
            }
            request_id = await repo.add(
                {
                    "type": DELETE[0],
                    "base_type": DELETE[1],
                    "status": PENDING,
                    "user_id": found,
                    "details": details,
                    "comments": asked.comments,
                    "created_by": context.till_code,
                    "created_at": context.now,
                }
            )
            await AuditRepository(uow.conn, org.id).add(
                audit_entry(context, found, "deletion.requested", {"requestId": request_id})
            )
            result = RequestOutcome(request_id=request_id, status=PENDING)
            if auto_approve:
                result = await _decide(uow, org, request_id, APPROVED, None, context, auto=True)
            await uow.seal(context, result)
            return result

    return await _settled(attempt)


async def erase_due(engine: AsyncEngine, org: OrgConfig, context: RequestContext) -> list[int]:
    """Carry out approved deletions whose waiting period is over; the requests done."""
    async with reading(engine) as conn:
        due = await RequestRepository(conn, org.id).due(context.now)
    done = []
    for request_id, customer_id in due:
        async with UnitOfWork(engine) as uow:
            repo = RequestRepository(uow.conn, org.id)
            request = await repo.get(request_id, lock=True)
            if request is None or request["status"] != APPROVED or request["scheduled_for"] is None:
                continue  # cancelled meanwhile
            erased = await erase(uow, org, customer_id, context, request_id)
            outcome = {"erasedAt": context.now.isoformat(), "customers": erased}
            await repo.decide(request_id, APPROVED, context.till_code, context.now, None, outcome, None)
        done.append(request_id)
    return done


async def get_request(engine: AsyncEngine, org: OrgConfig, request_id: int) -> dict[str, Any] | None:
    async with reading(engine) as conn:
        return await RequestRepository(conn, org.id).get(request_id)
