"""Undoing a merge: the victim comes back with exactly what it brought.

Only while nothing that moved has been used since: every identifier, card and coupon the
merge moved is still the survivor's, the points and currencies it moved are still there,
and the survivor has not itself been merged away. Otherwise the undo is refused and says
what stands in the way. Points and currencies go back as new ledger entries (history is
never rewritten); the reversal is recorded on the merge and audited on both customers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain import events as ev
from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import Failure
from memberbase.domain.merges import undo_blockers
from memberbase.domain.org_config import OrgConfig
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.merge_undo import MergeUndoRepository
from memberbase.storage.merges import MergeRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.unit_of_work import UnitOfWork

CUSTOMER_UNMERGED = "customer.unmerged"


@dataclass
class Unmerged:
    survivor_id: int | None = None
    victim_id: int | None = None
    failure: Failure | None = None
    blockers: list[str] = field(default_factory=list)


async def undo_merge(engine: AsyncEngine, org: OrgConfig, merge_id: str, context: RequestContext) -> Unmerged:
    async def attempt() -> Unmerged:
        async with UnitOfWork(engine) as uow:
            result = await _undo(uow, org, merge_id, context)
            await uow.seal(context, result)
            return result

    outcome = await settle(attempt)
    if outcome is None:
        return Unmerged(failure=Failure(V2Codes.CONCURRENT_ACTIONS))
    if isinstance(outcome, Failure):
        return Unmerged(
            failure=outcome, blockers=(outcome.detail or "").split("; ") if outcome.detail else []
        )
    return outcome


async def _undo(uow: UnitOfWork, org: OrgConfig, merge_id: str, context: RequestContext) -> Unmerged:
    undo = MergeUndoRepository(uow.conn, org.id)
    record = await undo.get(merge_id)
    if record is None:
        raise Refused(Failure(V2Codes.MERGE_NOT_FOUND, merge_id))
    if record["undone_at"] is not None:
        raise Refused(Failure(V2Codes.UNMERGE_DONE, merge_id))
    survivor, victim = int(record["survivor_id"]), record["victim_id"]
    if victim is None:
        raise Refused(
            Failure(
                V2Codes.UNMERGE_BLOCKED,
                "a source account added at registration is removed with changeIdentifier",
            )
        )
    victim = int(victim)
    customers = CustomerRepository(uow.conn, org.id)
    for customer_id in sorted((survivor, victim)):
        await customers.get_for_update(customer_id)
    moved: dict[str, Any] = record["moved"]
    blockers = undo_blockers(moved, await undo.state(survivor))
    if blockers:
        raise Refused(Failure(V2Codes.UNMERGE_BLOCKED, "; ".join(blockers)))
    await undo.identifiers_back(survivor, victim, moved.get("identifiers", []))
    await undo.cards_back(survivor, victim, moved.get("cards", []))
    await undo.coupons_back(survivor, victim, moved.get("coupons", []))
    await undo.accounts_back(survivor, victim, moved.get("accounts", []))
    await undo.unjoin_identifiers(survivor, moved.get("identifiersJoined", {}))
    await _points_back(uow, org, merge_id, survivor, victim, moved, context)
    await undo.referrals_back(survivor, victim, moved.get("referrals", {}))
    await undo.subscriptions_back(survivor, victim, moved.get("subscriptions", []))
    await _columns_back(customers, undo, survivor, victim, moved.get("filled", {}), context.now)
    await undo.mark_undone(merge_id, context.now)
    summary = {"mergeId": merge_id, "survivorId": survivor, "victimId": victim}
    audit = AuditRepository(uow.conn, org.id)
    for customer_id in (survivor, victim):
        await audit.add(audit_entry(context, customer_id, CUSTOMER_UNMERGED, summary))
    if not context.downstream.skip:
        for customer_id in (survivor, victim):
            uow.emit(
                ev.new_event(CUSTOMER_UNMERGED, org.id, customer_id, context.now, context.request_id, summary)
            )
    return Unmerged(survivor_id=survivor, victim_id=victim)


async def _points_back(
    uow: UnitOfWork,
    org: OrgConfig,
    merge_id: str,
    survivor: int,
    victim: int,
    moved: dict[str, Any],
    context: RequestContext,
) -> None:
    merges = MergeRepository(uow.conn, org.id)
    undo = MergeUndoRepository(uow.conn, org.id)
    ours = await merges.enrolments_of(survivor)
    theirs = await merges.enrolments_of(victim)
    entries: list[dict[str, Any]] = []
    for entry in moved.get("enrolments", []):
        program = entry["programId"]
        if entry["moved"]:
            await undo.enrolment_back(survivor, victim, program)
            continue
        points, lifetime = entry["points"], entry["lifetimePoints"]
        restored: dict[str, Any] = {
            "loyalty_points": int(ours[program]["loyalty_points"]) - points,
            "lifetime_points": int(ours[program]["lifetime_points"]) - lifetime,
        }
        if entry["tierAfter"] != entry["tierBefore"]:
            expires = entry["tierExpiresBefore"]
            restored |= {
                "tier_serial": entry["tierBefore"],
                "tier_expires_on": dt.datetime.fromisoformat(expires),
            }
        await merges.set_enrolment(survivor, program, restored)
        mine = theirs[program]
        await merges.set_enrolment(
            victim,
            program,
            {
                "loyalty_points": int(mine["loyalty_points"]) + points,
                "lifetime_points": int(mine["lifetime_points"]) + lifetime,
            },
        )
        if points:
            kind = {"kind": "merge", "program_id": program, "currency": None}
            entries += [
                _entry(merge_id, survivor, f"{program}:back-out", -points, context, kind),
                _entry(merge_id, victim, f"{program}:back-in", points, context, kind),
            ]
    held_ours, held_theirs = await merges.currencies_of(survivor), await merges.currencies_of(victim)
    for currency in moved.get("currencies", []):
        identifier, value = currency["identifier"], currency["value"]
        name, balance = held_ours[identifier]
        await merges.set_currency(survivor, identifier, name, balance - value)
        await merges.set_currency(victim, identifier, name, held_theirs.get(identifier, (name, 0))[1] + value)
        kind = {"kind": "alternate_currency", "program_id": None, "currency": identifier}
        entries += [
            _entry(merge_id, survivor, f"{identifier}:back-out", -value, context, kind),
            _entry(merge_id, victim, f"{identifier}:back-in", value, context, kind),
        ]
    await merges.ledger(entries)


def _entry(
    merge_id: str, customer_id: int, tag: str, value: int, context: RequestContext, kind: dict[str, Any]
) -> dict[str, Any]:
    return {
        "entry_key": f"unmerge:{merge_id}:{tag}",
        "customer_id": customer_id,
        "rule_id": "unmerge",
        "raw_value": value,
        "value": value,
        "is_referrer": False,
        "awarded_at": context.now,
        "expires_on": None,
        **kind,
    }


async def _columns_back(
    customers: CustomerRepository,
    undo: MergeUndoRepository,
    survivor: int,
    victim: int,
    filled: dict[str, dict[str, Any]],
    now: dt.datetime,
) -> None:
    """The survivor's columns the merge filled go back (where nobody changed them since);
    the victim gets back the identifier columns it gave up."""
    current = await customers.get(survivor)
    reverted = {
        name: change["from"] for name, change in filled.items() if getattr(current, name) == change["to"]
    }
    if reverted:
        await customers.update(survivor, {**reverted, "updated_on": now})
    given_up: dict[str, Any] = {k: filled[k]["to"] for k in ("mobile", "email", "external_id") if k in filled}
    await undo.unmark(victim, given_up, now)
