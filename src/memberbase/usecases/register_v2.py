"""Registering a customer through v2: a new customer, or a new source account of one.

One transaction: identifiers (and card numbers) are locked in a global order,
their holders read, the rules decide, and the customer, its claims, profiles,
enrolments, cards and audit row are written together, or nothing is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain import events as ev
from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import Failure, Profile, Warning_
from memberbase.domain.json_values import jsonable
from memberbase.domain.loyalty import Enrolment
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.subscriptions import comm_channel_opt_ins
from memberbase.domain.uuids import uuid4_text
from memberbase.domain.v2_registration import CreateV2, MergeV2, Owner, decide_v2
from memberbase.domain.v2_request import CARD_CLAIM, CardRequest, V2Draft, ValidV2
from memberbase.domain.v2_validation import Joining, validate_v2
from memberbase.storage.audit import AuditRepository
from memberbase.storage.cards import Card, CardRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.merges import MergeRepository
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.external_ids import generate_external_id, wants_generated_id
from memberbase.usecases.races import Refused, settle
from memberbase.usecases.results import Effect
from memberbase.usecases.rewards import Earned, Registration, Rewarder
from memberbase.usecases.subscriptions import record_opt_ins
from memberbase.usecases.unit_of_work import UnitOfWork

# Generated card numbers someone already typed in by hand are skipped, this many at most.
_GENERATION_TRIES = 100


@dataclass
class V2Result:
    created_id: int | None = None
    warnings: list[Warning_] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    failure: Failure | None = None


async def register_v2(
    engine: AsyncEngine, org: OrgConfig, draft: V2Draft, context: RequestContext
) -> V2Result:
    joining = Joining(context.till_code, context.downstream.every_program)
    valid = validate_v2(draft, org, context.now, joining)
    if isinstance(valid, Failure):
        return V2Result(failure=valid)

    async def attempt() -> V2Result:
        async with UnitOfWork(engine) as uow:
            result = await _register(uow, org, valid, context)
            await uow.seal(context, result)
            return result

    outcome = await settle(attempt)
    if outcome is None:
        return V2Result(failure=Failure(V2Codes.CONCURRENT_ACTIONS))
    if isinstance(outcome, Failure):
        return V2Result(failure=outcome)
    return outcome


async def _register(uow: UnitOfWork, org: OrgConfig, valid: ValidV2, context: RequestContext) -> V2Result:
    customers = CustomerRepository(uow.conn, org.id)
    wanted = valid.claims() | {(CARD_CLAIM, c.number) for c in valid.cards if c.number is not None}
    await customers.lock_identifiers(wanted)
    holders = await customers.claim_holders(wanted)
    accounts = await customers.accounts(holders.values())
    owners = {claim: Owner(cid, accounts[cid]) for claim, cid in holders.items()}
    decision = decide_v2(valid, owners)
    if isinstance(decision, Failure):
        raise Refused(decision)
    rewarder = Rewarder(uow, org, context)
    if isinstance(decision, CreateV2):
        customer_id, earned = await _create(uow, rewarder, customers, org, valid, context)
    else:
        customer_id, earned = await _merge(uow, rewarder, customers, org, valid, decision, context)
    opt_ins = [
        i for p in valid.profiles for i in comm_channel_opt_ins(p.comm_channels, p.source, p.account_id)
    ]
    opted = await record_opt_ins(uow, org, customer_id, opt_ins, context, "v2 customers")
    warnings = [*decision.warnings, *earned.warnings, *opted]
    return V2Result(created_id=customer_id, warnings=warnings, effects=earned.effects)


def _profiles(valid: ValidV2, registered_on: dt.datetime, till: str) -> list[Profile]:
    return [
        Profile(
            source=p.source,
            account_id=p.account_id,
            firstname=p.firstname,
            lastname=p.lastname,
            identifiers=p.wire_identifiers,
            comm_channels=p.comm_channels,
            fields=p.fields,
            created_at=registered_on,
            created_till=till,
        )
        for p in valid.profiles
    ]


async def _create(
    uow: UnitOfWork,
    rewarder: Rewarder,
    customers: CustomerRepository,
    org: OrgConfig,
    valid: ValidV2,
    context: RequestContext,
) -> tuple[int, Earned]:
    await _give_external_id(customers, org, valid)
    first = valid.profiles[0]
    claims = valid.claims()
    registered_on = valid.create_date or context.now

    def first_of(claim_type: str) -> str | None:
        return next((v for p in valid.profiles for t, v in p.claims if t == claim_type), None)

    values: dict[str, Any] = {
        "firstname": first.firstname,
        "lastname": first.lastname,
        "mobile": first_of("mobile"),
        "email": first_of("email"),
        "external_id": first_of("external_id"),
        "type": valid.loyalty_type,
        "source": first.source,
        "account_id": first.account_id,
        "fraud_status": "NONE",
        "registered_on": registered_on,
        "updated_on": registered_on,
        "registered_till": context.till_code,
        "associated_with": valid.associated_with,
        "comm_channels": first.comm_channels,
        "custom_fields": first.fields,
        "extended_fields": valid.extended_fields,
        "status_label": valid.status_label,
        "referral_code": valid.referral_code,
        "endpoints_enabled": valid.endpoints_enabled,
        "activity": valid.activity,
    }
    customer_id = await customers.add(values)
    uow.created.add(customer_id)
    rewarder.restrict(customer_id, valid.endpoints_enabled)  # a dummy customer's switches
    await customers.claim(customer_id, claims)
    for profile in _profiles(valid, registered_on, context.till_code):
        await customers.add_profile(customer_id, profile)
    for enrolment in valid.enrolments:
        await customers.enrol(customer_id, _without_points(enrolment), context.now)
    issued = await issue_cards(uow, customers, org, valid.cards, customer_id, context.now)
    changes = {**values, "accounts": sorted(valid.accounts), "cards": issued}
    await AuditRepository(uow.conn, org.id).add(
        audit_entry(context, customer_id, "customer.registered", changes)
    )
    await rewarder.give_referral_code(customer_id)
    event = {
        **{k: values[k] for k in ("type", "source", "account_id", "firstname", "lastname")},
        "identifiers": sorted(claims),
        "accounts": sorted(valid.accounts),
        "cards": issued,
        "registeredOn": registered_on,
        "till": context.till_code,
        "programs": [{"programId": e.program_id, "tier": e.tier_serial} for e in valid.enrolments],
    }
    rewarder.emit(ev.CUSTOMER_REGISTERED, customer_id, event)
    earned = Earned()
    for enrolment in valid.enrolments:
        # Opening points go through the ledger like any award, so balances always add up.
        expiry = valid.points_expiry.get(enrolment.program_id)
        earned.effects += (await rewarder.opening_points(customer_id, enrolment, expiry)).effects
    rewards = await rewarder.reward(
        Registration(
            customer_id=customer_id,
            customer_type=valid.loyalty_type,
            source=first.source,
            trigger="registration",
            is_new=True,
            enrolled_programs=tuple(e.program_id for e in valid.enrolments),
            referral_code=valid.referral_code,
        )
    )
    earned.effects += rewards.effects
    earned.warnings += rewards.warnings
    return customer_id, earned


async def _give_external_id(customers: CustomerRepository, org: OrgConfig, valid: ValidV2) -> None:
    """A generated external id, in the first profile whose source account gets one, when the
    customer brings none (domain/external_ids.py)."""
    if any(claim == "external_id" for claim, _ in valid.claims()):
        return
    profile = next((p for p in valid.profiles if wants_generated_id(org, {}, p.source, p.account_id)), None)
    if profile is None:
        return
    no_more = Failure(V2Codes.EXTERNAL_ID_INVALID, "the organisation's generated external ids ran out")
    generated = await generate_external_id(customers, org, no_more)
    profile.claims.append(("external_id", generated))
    profile.wire_identifiers.append({"type": "externalId", "value": generated})


async def _merge(
    uow: UnitOfWork,
    rewarder: Rewarder,
    customers: CustomerRepository,
    org: OrgConfig,
    valid: ValidV2,
    decision: MergeV2,
    context: RequestContext,
) -> tuple[int, Earned]:
    customer_id = decision.customer_id
    # Adding a source account is a merge too: the org's caps hold for it as for the others.
    holdings = (await MergeRepository(uow.conn, org.id).holdings([customer_id]))[customer_id]
    adding = len(decision.new_claims) + len(valid.cards)
    limit = org.merges.max_identifiers_per_customer
    if holdings.identifiers + adding > limit:
        together = holdings.identifiers + adding
        raise Refused(Failure(V2Codes.MERGE_IDENTIFIER_CAP, f"{together} identifiers, the limit is {limit}"))
    if holdings.merges >= org.merges.max_merges_per_customer:
        raise Refused(
            Failure(V2Codes.MERGE_COUNT_CAP, f"customer {customer_id} has {holdings.merges} merges")
        )
    await customers.claim(customer_id, decision.new_claims)
    for profile in _profiles(valid, context.now, context.till_code):
        await customers.add_profile(customer_id, profile)
    issued = await issue_cards(uow, customers, org, valid.cards, customer_id, context.now)
    changes = {
        "accounts_added": sorted(valid.accounts),
        "identifiers_added": sorted(decision.new_claims),
        "cards": issued,
    }
    await AuditRepository(uow.conn, org.id).add(audit_entry(context, customer_id, "customer.merged", changes))
    # Recorded like every merge; the victim is the new source account, never a customer of its own.
    await MergeRepository(uow.conn, org.id).add(
        {
            "id": uuid4_text(),
            "survivor_id": customer_id,
            "victim_id": None,
            "reason": "v2 registration (8050)",
            "till_code": context.till_code,
            "user_context": context.user_context,
            "request_id": context.request_id,
            "occurred_at": context.now,
            "moved": jsonable(changes),
        }
    )
    rewarder.emit(ev.CUSTOMER_MERGED, customer_id, changes)
    held = (await customers.enrolments([customer_id]))[customer_id]
    record = await customers.get(customer_id)
    earned = await rewarder.reward(
        Registration(
            customer_id=customer_id,
            customer_type=record.type,
            source=valid.profiles[0].source,
            trigger="merge",
            is_new=False,
            enrolled_programs=tuple(e.program_id for e in held),
            referral_code=valid.referral_code,
        )
    )
    return customer_id, earned


def _without_points(enrolment: Enrolment) -> Enrolment:
    return Enrolment(enrolment.program_id, enrolment.tier_serial, enrolment.tier_expires_on)


async def issue_cards(
    uow: UnitOfWork,
    customers: CustomerRepository,
    org: OrgConfig,
    cards: list[CardRequest],
    customer_id: int,
    now: dt.datetime,
) -> list[str]:
    """Link these cards (generating numbers where asked) to the customer; the numbers issued."""
    repo = CardRepository(uow.conn, org.id)
    issued = []
    for request in cards:
        number = request.number
        if number is None:
            number = await _generate(repo, customers, request.series)
        await customers.claim(customer_id, [(CARD_CLAIM, number)])
        await repo.add(
            Card(
                number=number,
                customer_id=customer_id,
                series_id=request.series.id,
                status_label=request.status_label,
                extended_fields=request.extended_fields,
                custom_fields=request.custom_fields,
                issued_at=now,
            )
        )
        issued.append(number)
    return issued


async def _generate(repo: CardRepository, customers: CustomerRepository, series: Any) -> str:
    for _ in range(_GENERATION_TRIES):
        try:
            number: str = series.generated(await repo.next_sequence(series.id))
        except OverflowError as exc:
            raise Refused(Failure(V2Codes.CARD_SERIES_EXHAUSTED, f"series {series.id}")) from exc
        if not await customers.claim_holders([(CARD_CLAIM, number)]):
            return number
    raise Refused(Failure(V2Codes.CARD_SERIES_EXHAUSTED, f"series {series.id}: numbers taken"))
