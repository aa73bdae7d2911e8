"""Changing a stored customer: the one write path of every update.

v1.1 customer/add's upsert, v1.1 customer/update, v2 PUT and the console all end here:
identifiers released and claimed, the row changed (its version bumped), a conversion to
loyalty enrolled and rewarded as a registration, one audit row and one customerUpdated
event naming what changed, from what to what.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from memberbase.domain import events as ev
from memberbase.domain.customer import CustomerRecord, CustomerType
from memberbase.domain.loyalty import Enrolment, enrolments_on_registration
from memberbase.domain.org_config import IdentifierType, OrgConfig
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.rewards import Earned, Registration, Rewarder


@dataclasses.dataclass
class Changed:
    record: CustomerRecord  # as it is now
    enrolled: list[Enrolment]  # every enrolment, those a conversion made included
    earned: Earned  # what a conversion's welcome earned (the caller applies it to `enrolled`)
    diff: dict[str, dict[str, Any]]  # {column: {"from": …, "to": …}}


async def apply_update(
    rewarder: Rewarder,
    customers: CustomerRepository,
    org: OrgConfig,
    current: CustomerRecord,
    changes: dict[str, Any],
    set_identifiers: dict[IdentifierType, str],
    context: RequestContext,
    *,
    referral_code: str | None = None,
    also: dict[str, dict[str, Any]] | None = None,
) -> Changed:
    """Write `changes` (columns) and `set_identifiers` (new values) to `current`, whose row the
    caller has locked. `also`: changes the caller wrote elsewhere (a v2 profile's), audited
    and sent with these. `updated_on` alone is no change worth an audit row or an event."""
    released = [
        (kind, held)
        for kind in set_identifiers
        if (held := current.identifier(kind)) is not None and held != set_identifiers[kind]
    ]
    await customers.release([(k.value, v) for k, v in released])
    fresh = {k: v for k, v in set_identifiers.items() if current.identifier(k) != v}
    await customers.claim(current.id, [(k.value, v) for k, v in fresh.items()])
    changes = dict(changes)
    for kind, value in fresh.items():
        changes[kind.value] = value
    await customers.update(current.id, changes)
    enrolled = (await customers.enrolments([current.id]))[current.id]
    joined: list[Enrolment] = []
    if changes.get("type") is CustomerType.LOYALTY and not enrolled:
        joined = await enrol(customers, org, current.id, current.registered_on, context)
    diff = {
        name: {"from": getattr(current, name), "to": value}
        for name, value in changes.items()
        if getattr(current, name) != value
    } | (also or {})
    record = dataclasses.replace(current, **changes, version=current.version + (1 if changes else 0))
    if set(diff) - {"updated_on"}:
        await AuditRepository(customers.conn, org.id).add(
            audit_entry(context, current.id, "customer.updated", diff)
        )
        rewarder.emit(ev.CUSTOMER_UPDATED, current.id, {"changes": diff})
    # Joining the loyalty programme by conversion earns its welcome rewards (once per
    # customer, by the ledger's entry keys); any other update earns nothing.
    earned = await rewarder.reward(
        Registration(
            customer_id=record.id,
            customer_type=record.type,
            source=record.source,
            trigger="registration" if joined else "update",
            is_new=False,
            enrolled_programs=tuple(e.program_id for e in joined),
            referral_code=referral_code,
        )
    )
    return Changed(record, [*enrolled, *joined], earned, diff)


async def enrol(
    customers: CustomerRepository,
    org: OrgConfig,
    customer_id: int,
    registered_on: dt.datetime,
    context: RequestContext,
) -> list[Enrolment]:
    joined = enrolments_on_registration(
        org, registered_on, context.till_code, context.downstream.every_program
    )
    for enrolment in joined:
        await customers.enrol(customer_id, enrolment, context.now)
    return joined
