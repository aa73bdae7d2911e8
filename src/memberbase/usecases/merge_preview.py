"""Previewing a merge: exactly what an approval would do, and nothing written.

The merge runs for real inside a transaction that is then rolled back: what it reports
moving, and the survivor's balances and tier after it, are those of the one merge path,
never a second description of it that could drift. Blockers are all listed, not only the
first; conflicts (both customers holding an identifier of one type in one source account)
do not block: the survivor keeps both, and lookups by either find it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.customer import Failure
from memberbase.domain.merges import merge_blockers
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.v2_request import CLAIM_TYPES
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.merges import MergeRepository
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.merge_customers import merge_customers
from memberbase.usecases.rewards import Rewarder
from memberbase.usecases.unit_of_work import UnitOfWork


@dataclass
class Preview:
    blockers: list[Failure] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    moved: dict[str, Any] = field(default_factory=dict)
    survivor_after: dict[str, Any] = field(default_factory=dict)


class _RolledBack(Exception):
    def __init__(self, preview: Preview) -> None:
        self.preview = preview


async def preview_merge(
    engine: AsyncEngine, org: OrgConfig, survivor_id: int, victim_id: int, context: RequestContext
) -> Preview:
    try:
        async with UnitOfWork(engine) as uow:
            raise _RolledBack(await _dry_run(uow, org, survivor_id, victim_id, context))
    except _RolledBack as done:
        return done.preview


async def _dry_run(
    uow: UnitOfWork, org: OrgConfig, survivor_id: int, victim_id: int, context: RequestContext
) -> Preview:
    customers = CustomerRepository(uow.conn, org.id)
    survivor = await customers.get_for_update(survivor_id)
    victim = await customers.get_for_update(victim_id)
    merges = MergeRepository(uow.conn, org.id)
    held = await merges.holdings([survivor_id, victim_id])
    preview = Preview(blockers=merge_blockers(survivor, victim, held, org.merges))
    if preview.blockers:
        return preview
    preview.conflicts = await _conflicts(customers, survivor_id, victim_id)
    merged = await merge_customers(
        Rewarder(uow, org, context), customers, org, survivor_id, victim_id, "preview", context
    )
    preview.moved = merged.moved
    enrolled = (await customers.enrolments([survivor_id]))[survivor_id]
    preview.survivor_after = {
        "id": survivor_id,
        "identifiers": sorted(f"{t}:{v}" for t, v in await customers.claims_of(survivor_id)),
        "enrolments": [
            {
                "programId": e.program_id,
                "tier": e.tier_serial,
                "loyaltyPoints": e.loyalty_points,
                "lifetimePoints": e.lifetime_points,
            }
            for e in enrolled
        ],
        "currencies": {k: v for k, (_, v) in (await merges.currencies_of(survivor_id)).items()},
    }
    return preview


async def _conflicts(customers: CustomerRepository, survivor_id: int, victim_id: int) -> list[str]:
    """Identifier types both customers hold in one source account."""
    found = await customers.profiles([survivor_id, victim_id])

    def typed(customer_id: int) -> set[tuple[str, str, str]]:
        return {
            (p.source, p.account_id, CLAIM_TYPES.get(i["type"], i["type"]))
            for p in found[customer_id]
            for i in p.identifiers
        }

    both = typed(survivor_id) & typed(victim_id)
    return [
        f"both hold a {kind} in {source}{'/' + account if account else ''}"
        for source, account, kind in sorted(both)
    ]
