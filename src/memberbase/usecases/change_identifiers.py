"""v2 changeIdentifier: add and remove a customer's identifiers, link and de-link cards.

One transaction, identifiers locked first as registration locks them, then the row. An
added identifier that another customer holds in another source account names one shopper
twice: the customer being changed (the victim) merges into that holder (the survivor),
after its own changes, so they move too (companion-apis.md §c). The same identifier in the
same source account is a conflict (8007); held by two others, 8074's case, refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain import events as ev
from memberbase.domain.codes import Code, V2Codes
from memberbase.domain.customer import CustomerRecord, Failure, Warning_
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.sources import SOURCES, account_of, canonical_source
from memberbase.domain.v2_request import CARD_CLAIM, CLAIM_TYPES, CardRequest, IdentifierIn
from memberbase.domain.v2_validation import canonical_claim, card_request
from memberbase.storage.audit import AuditRepository
from memberbase.storage.cards import CardRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.merge_customers import merge_customers
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.register_v2 import issue_cards
from memberbase.usecases.rewards import Rewarder
from memberbase.usecases.unit_of_work import UnitOfWork

_COLUMNS = {"mobile": "mobile", "email": "email", "external_id": "external_id"}
_ATTACHED: dict[str, Code] = {
    "mobile": V2Codes.MOBILE_ALREADY_ATTACHED,
    "email": V2Codes.EMAIL_ALREADY_ATTACHED,
    "external_id": V2Codes.EXTERNAL_ID_ALREADY_ATTACHED,
}
_WIRE_TO_CLAIM = {**CLAIM_TYPES}


@dataclass
class IdentifiersChanged:
    created_id: int | None = None
    warnings: list[Warning_] = field(default_factory=list)
    failure: Failure | None = None


@dataclass
class _Asked:
    add: list[tuple[tuple[str, str], str]]  # (claim, wire type)
    cards: list[CardRequest]
    remove: list[tuple[str, str]]


def _parse(add: list[IdentifierIn], remove: list[IdentifierIn], org: OrgConfig) -> _Asked:
    asked = _Asked([], [], [])
    for item in add:
        if item.type in ("cardnumber", "card", "cardNumber"):
            card = card_request(item, org)
            if isinstance(card, Failure):
                raise Refused(card)
            asked.cards.append(card)
            continue
        claim = canonical_claim(item, org)
        if isinstance(claim, Failure):
            raise Refused(claim)
        if claim is not None:
            asked.add.append((claim, item.type))
    for item in remove:
        claim = canonical_claim(item, org)
        if isinstance(claim, Failure):
            raise Refused(claim)
        if claim is not None:
            asked.remove.append(claim)
    if not (asked.add or asked.cards or asked.remove):
        raise Refused(
            Failure(V2Codes.NO_CHANGE_IDENTIFIERS, "pass add or remove with at least one identifier")
        )
    return asked


def _account(source: str | None, account_id: str | None) -> tuple[str, str]:
    name = canonical_source(source or "INSTORE")
    if name not in SOURCES:
        raise Refused(Failure(V2Codes.SOURCE_INVALID, f"{source!r}"))
    return name, account_of(name, account_id)


async def change_identifiers(
    engine: AsyncEngine,
    org: OrgConfig,
    customer_id: int,
    source: str | None,
    account_id: str | None,
    add: list[IdentifierIn],
    remove: list[IdentifierIn],
    context: RequestContext,
) -> IdentifiersChanged:
    async def attempt() -> IdentifiersChanged:
        async with UnitOfWork(engine) as uow:
            result = await _change(uow, org, customer_id, _account(source, account_id), add, remove, context)
            await uow.seal(context, result)
            return result

    outcome = await settle(attempt)
    if outcome is None:
        return IdentifiersChanged(failure=Failure(V2Codes.CONCURRENT_ACTIONS))
    if isinstance(outcome, Failure):
        return IdentifiersChanged(failure=outcome)
    return outcome


async def _change(
    uow: UnitOfWork,
    org: OrgConfig,
    customer_id: int,
    account: tuple[str, str],
    add: list[IdentifierIn],
    remove: list[IdentifierIn],
    context: RequestContext,
) -> IdentifiersChanged:
    asked = _parse(add, remove, org)
    customers = CustomerRepository(uow.conn, org.id)
    cards_asked = {(CARD_CLAIM, c.number) for c in asked.cards if c.number}
    await customers.lock_identifiers({c for c, _ in asked.add} | set(asked.remove) | cards_asked)
    warnings: list[Warning_] = []
    current = await customers.get_for_update(customer_id)
    if current is not None and current.merged_into is not None:
        warnings.append(Warning_(V2Codes.MERGED_CUSTOMER_FOUND))
        current = await customers.get_for_update(current.merged_into)
    if current is None:
        raise Refused(Failure(V2Codes.CUSTOMER_NOT_FOUND, f"customer {customer_id}"))
    if current.erased_at is not None:
        raise Refused(Failure(V2Codes.CUSTOMER_ERASED, f"customer {customer_id}"))
    accounts = await customers.accounts([current.id])
    if account not in accounts[current.id]:
        raise Refused(Failure(V2Codes.NOT_IN_SOURCE, f"no {account[0]} account {account[1]!r}"))
    holders = await customers.claim_holders({c for c, _ in asked.add} | cards_asked)
    survivor = await _survivor(customers, current, asked, holders, account, warnings)
    held = await customers.claims_of(current.id)
    for claim in asked.remove:
        if claim not in held:
            raise Refused(
                Failure(V2Codes.INVALID_IDENTIFIER, f"the customer holds no {claim[0]} {claim[1]!r}")
            )
    fresh = [(c, wire) for c, wire in asked.add if holders.get(c) is None]
    left = (held - set(asked.remove)) | {c for c, _ in fresh}
    if not any(t != CARD_CLAIM for t, _ in left) and survivor is None:
        raise Refused(Failure(V2Codes.NO_CHANGE_IDENTIFIERS, "a customer keeps at least one identifier"))
    removed_cards = await _remove(uow, customers, org, current, asked.remove)
    await _add(customers, current, account, fresh)
    linked = await issue_cards(uow, customers, org, asked.cards, current.id, context.now)
    change = {
        "added": sorted(f"{t}:{v}" for (t, v), _ in fresh),
        "removed": sorted(f"{t}:{v}" for t, v in asked.remove),
        "cardsLinked": linked,
        "cardsDelinked": removed_cards,
        "account": list(account),
    }
    await AuditRepository(uow.conn, org.id).add(
        audit_entry(context, current.id, "customer.identifiers_changed", change)
    )
    rewarder = Rewarder(uow, org, context)
    rewarder.emit(ev.CUSTOMER_UPDATED, current.id, {"identifiers": change})
    if survivor is None:
        return IdentifiersChanged(created_id=current.id, warnings=warnings)
    merged = await merge_customers(
        rewarder, customers, org, survivor, current.id, "v2 changeIdentifier", context
    )
    warnings.append(Warning_(V2Codes.MERGED_WITH_USER, (merged.survivor.id,)))
    return IdentifiersChanged(created_id=merged.survivor.id, warnings=warnings)


async def _survivor(
    customers: CustomerRepository,
    current: CustomerRecord,
    asked: _Asked,
    holders: dict[tuple[str, str], int],
    account: tuple[str, str],
    warnings: list[Warning_],
) -> int | None:
    for card in asked.cards:
        holder = holders.get((CARD_CLAIM, card.number or ""))
        if holder is not None:
            raise Refused(Failure(V2Codes.CARD_ALREADY_ISSUED, card.number))
    others: set[int] = set()
    for claim, _ in asked.add:
        holder = holders.get(claim)
        if holder == current.id:
            code = _ATTACHED.get(claim[0])
            if code is not None:
                warnings.append(Warning_(code))
        elif holder is not None:
            others.add(holder)
    if len(others) > 1:
        ids = ", ".join(str(i) for i in sorted(others))
        raise Refused(Failure(V2Codes.CONFLICTING_CUSTOMERS, f"the identifiers belong to customers {ids}"))
    if not others:
        return None
    survivor = others.pop()
    if account in (await customers.accounts([survivor]))[survivor]:
        raise Refused(Failure(V2Codes.SAME_SOURCE_CONFLICT, f"customer {survivor} has this source account"))
    return survivor


async def _remove(
    uow: UnitOfWork,
    customers: CustomerRepository,
    org: OrgConfig,
    current: CustomerRecord,
    removed: list[tuple[str, str]],
) -> list[str]:
    if not removed:
        return []
    await customers.release(removed)
    delinked = []
    for claim_type, value in removed:
        if claim_type == CARD_CLAIM and await CardRepository(uow.conn, org.id).remove(current.id, value):
            delinked.append(value)
    gone = set(removed)
    for profile in (await customers.profiles([current.id]))[current.id]:
        kept = [
            i
            for i in profile.identifiers
            if (_WIRE_TO_CLAIM.get(i["type"], i["type"]), i["value"]) not in gone
        ]
        if kept != profile.identifiers:
            await customers.update_profile(
                current.id, (profile.source, profile.account_id), {"identifiers": kept}
            )
    cleared = {
        column: None for (t, v) in removed if (column := _COLUMNS.get(t)) and getattr(current, column) == v
    }
    await customers.update(current.id, cleared)
    for column in cleared:
        setattr(current, column, None)
    return delinked


async def _add(
    customers: CustomerRepository,
    current: CustomerRecord,
    account: tuple[str, str],
    fresh: list[tuple[tuple[str, str], str]],
) -> None:
    if not fresh:
        return
    await customers.claim(current.id, [c for c, _ in fresh])
    profile = next(
        p for p in (await customers.profiles([current.id]))[current.id] if (p.source, p.account_id) == account
    )
    listed = [*profile.identifiers, *({"type": wire, "value": v} for (_, v), wire in fresh)]
    await customers.update_profile(current.id, account, {"identifiers": listed})
    filled = {
        column: v for (t, v), _ in fresh if (column := _COLUMNS.get(t)) and getattr(current, column) is None
    }
    await customers.update(current.id, filled)
