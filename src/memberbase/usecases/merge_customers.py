"""Merging a victim customer into a survivor: the one write path of every merge.

Everything the victim holds moves in the caller's transaction: identifiers, the source
accounts the survivor lacks, cards, coupons, enrolments (points as ledger entries on both
sides, never rewritten history; the higher tier kept), alternate currencies, referrals,
and the custom and extended fields and identifier columns the survivor lacks (the
survivor's value wins where both have one). The victim's row stays, marked
`merged_into`, so its id keeps answering reads as the survivor. The merge record says
exactly what moved, for a later preview and undo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memberbase.domain import events as ev
from memberbase.domain.customer import CustomerRecord
from memberbase.domain.json_values import jsonable
from memberbase.domain.merges import merge_blockers
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.uuids import uuid4_text
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.merges import MergeRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.races import Refused
from memberbase.usecases.rewards import Rewarder


@dataclass(frozen=True)
class Merged:
    survivor: CustomerRecord  # as it is after the merge
    merge_id: str
    moved: dict[str, Any]  # the merge record's account of what moved


_FILLED_COLUMNS = ("mobile", "email", "external_id", "firstname", "lastname", "associated_with")


def _fills(survivor: CustomerRecord, victim: CustomerRecord) -> dict[str, Any]:
    """What the survivor lacks and the victim has: empty columns, missing field keys."""
    filled: dict[str, Any] = {
        name: getattr(victim, name)
        for name in _FILLED_COLUMNS
        if not getattr(survivor, name) and getattr(victim, name)
    }
    for name in ("custom_fields", "extended_fields"):
        theirs: dict[str, Any] = getattr(victim, name)
        ours: dict[str, Any] = getattr(survivor, name)
        if set(theirs) - set(ours):
            filled[name] = {**theirs, **ours}
    return filled


def _ledger_entry(
    merge_id: str, customer_id: int, tag: str, value: int, context: RequestContext, **what: Any
) -> dict[str, Any]:
    return {
        "entry_key": f"merge:{merge_id}:{tag}",
        "customer_id": customer_id,
        "rule_id": "merge",
        "raw_value": value,
        "value": value,
        "is_referrer": False,
        "awarded_at": context.now,
        "expires_on": None,
        **what,
    }


async def _move_enrolments(
    merges: MergeRepository, merge_id: str, victim: int, survivor: int, context: RequestContext
) -> list[dict[str, Any]]:
    theirs = await merges.enrolments_of(victim)
    ours = await merges.enrolments_of(survivor)
    moved: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for program_id, their in sorted(theirs.items()):
        if program_id not in ours:
            await merges.move_enrolment(victim, survivor, program_id)
            moved.append({"programId": program_id, "moved": True})
            continue
        our = ours[program_id]
        points, lifetime = int(their["loyalty_points"]), int(their["lifetime_points"])
        keep_theirs_tier = int(their["tier_serial"]) > int(our["tier_serial"])
        after = {
            "loyalty_points": int(our["loyalty_points"]) + points,
            "lifetime_points": int(our["lifetime_points"]) + lifetime,
        }
        if keep_theirs_tier:
            after |= {"tier_serial": their["tier_serial"], "tier_expires_on": their["tier_expires_on"]}
        await merges.set_enrolment(survivor, program_id, after)
        await merges.set_enrolment(victim, program_id, {"loyalty_points": 0, "lifetime_points": 0})
        if points or lifetime:
            kind = {"kind": "merge", "program_id": program_id, "currency": None}
            entries += [
                _ledger_entry(merge_id, victim, f"{program_id}:out", -points, context, **kind),
                _ledger_entry(merge_id, survivor, f"{program_id}:in", points, context, **kind),
            ]
        moved.append(
            {
                "programId": program_id,
                "moved": False,
                "points": points,
                "lifetimePoints": lifetime,
                "tierBefore": int(our["tier_serial"]),
                "tierAfter": int(after.get("tier_serial", our["tier_serial"])),
                "tierExpiresBefore": our["tier_expires_on"],
            }
        )
    await merges.ledger(entries)
    return moved


async def _move_currencies(
    merges: MergeRepository, merge_id: str, victim: int, survivor: int, context: RequestContext
) -> list[dict[str, Any]]:
    theirs = await merges.currencies_of(victim)
    ours = await merges.currencies_of(survivor)
    moved, entries = [], []
    for identifier, (name, balance) in sorted(theirs.items()):
        if not balance:
            continue
        held = ours.get(identifier, (name, 0))[1]
        await merges.set_currency(survivor, identifier, name, held + balance)
        await merges.set_currency(victim, identifier, name, 0)
        kind = {"kind": "alternate_currency", "program_id": None, "currency": identifier}
        entries += [
            _ledger_entry(merge_id, victim, f"{identifier}:out", -balance, context, **kind),
            _ledger_entry(merge_id, survivor, f"{identifier}:in", balance, context, **kind),
        ]
        moved.append({"identifier": identifier, "value": balance})
    await merges.ledger(entries)
    return moved


async def merge_customers(
    rewarder: Rewarder,
    customers: CustomerRepository,
    org: OrgConfig,
    survivor_id: int,
    victim_id: int,
    reason: str,
    context: RequestContext,
) -> Merged:
    """Merge `victim_id` into `survivor_id` in the caller's transaction; the survivor as it is now."""
    # Both rows locked in id order: two merges of the same pair queue, never deadlock.
    locked = {i: await customers.get_for_update(i) for i in sorted((survivor_id, victim_id))}
    survivor, victim = locked[survivor_id], locked[victim_id]
    merges = MergeRepository(customers.conn, org.id)
    blockers = merge_blockers(survivor, victim, await merges.holdings([survivor_id, victim_id]), org.merges)
    if blockers:
        raise Refused(blockers[0])
    assert survivor is not None
    assert victim is not None
    merge_id = uuid4_text()
    filled = _fills(survivor, victim)
    # The victim's identifier columns are released with its claims (moved below).
    await customers.update(victim_id, {k: None for k in ("mobile", "email", "external_id") if k in filled})
    moved: dict[str, Any] = {
        "identifiers": await merges.move_identifiers(victim_id, survivor_id),
        "cards": await merges.move_cards(victim_id, survivor_id),
        "coupons": await merges.move_coupons(victim_id, survivor_id),
    }
    moved["accounts"], moved["identifiersJoined"] = await merges.move_profiles(victim_id, survivor_id)
    moved["enrolments"] = await _move_enrolments(merges, merge_id, victim_id, survivor_id, context)
    moved["currencies"] = await _move_currencies(merges, merge_id, victim_id, survivor_id, context)
    moved["referrals"] = await merges.move_referrals(victim_id, survivor_id)
    moved["subscriptions"] = await merges.move_subscriptions(victim_id, survivor_id)
    moved["consentLog"] = await merges.consent_entries(victim_id)  # read with the survivor's from now on
    moved["filled"] = {k: {"from": getattr(survivor, k), "to": v} for k, v in filled.items()}
    await customers.update(survivor_id, {**filled, "updated_on": context.now})
    await merges.mark_merged(victim_id, survivor_id, context.now)
    record = jsonable(moved)
    await merges.add(
        {
            "id": merge_id,
            "survivor_id": survivor_id,
            "victim_id": victim_id,
            "reason": reason,
            "till_code": context.till_code,
            "user_context": context.user_context,
            "request_id": context.request_id,
            "occurred_at": context.now,
            "moved": record,
        }
    )
    audit = AuditRepository(customers.conn, org.id)
    summary = {"mergeId": merge_id, "survivorId": survivor_id, "victimId": victim_id, "reason": reason}
    await audit.add(audit_entry(context, survivor_id, "customer.merged", {**summary, "moved": record}))
    await audit.add(audit_entry(context, victim_id, "customer.merged_away", summary))
    rewarder.emit(ev.CUSTOMER_MERGED, survivor_id, {**summary, "moved": record})
    return Merged(await customers.get(survivor_id), merge_id, record)
