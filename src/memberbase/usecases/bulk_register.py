"""The import fast path: new customers of a batch written set-wise (PostgreSQL).

A row qualifies when none of its identifiers is held by a customer or named by an
earlier row of the batch, and it carries no referral code: for such a row the
registration rules can only decide "create", and everything it writes (customer,
identifiers, profile, enrolments with their balances, ledger, coupons, audit row,
events) is computed here by the same domain functions the per-row path calls, then
written with COPY in a few round trips. Every other row takes the per-row path
afterwards, in file order, so it sees the fast rows as an API call would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from memberbase.domain import events as ev
from memberbase.domain.codes import Codes
from memberbase.domain.customer import CustomerRecord, CustomerType, Failure, ValidDraft, registration_profile
from memberbase.domain.loyalty import Enrolment, enrolments_on_registration, tier_expiry
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.registration import Create, decide, new_profile
from memberbase.domain.rewards import (
    CouponAward,
    CurrencyAward,
    Occasion,
    PointsAward,
    coupon_code,
    decide_rewards,
    referral_code,
)
from memberbase.storage.audit import audit_row
from memberbase.storage.bulk import copy_text, held_claims, take_sequence
from memberbase.storage.copy_text import CopyText, encode
from memberbase.storage.customers import plain_values, profile_row
from memberbase.storage.outbox import encode_events
from memberbase.storage.rewards import coupon_row, ledger_row
from memberbase.storage.tables import (
    audit_log,
    coupons,
    currency_balances,
    customers,
    enrolments,
    identifiers,
    profiles,
    referral_codes,
    reward_ledger,
)
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.results import (
    CouponEffect,
    CurrencyEffect,
    CustomerView,
    Effect,
    ItemResult,
    PointsEffect,
)
from memberbase.usecases.rewards import pick_securely
from memberbase.usecases.unit_of_work import UnitOfWork


@dataclass
class _Rows:
    """Rows to COPY by table, each tagged with the batch position it belongs to."""

    by_table: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    position: int = 0

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.by_table.setdefault(table, []).append((self.position, row))


@dataclass
class FreshPlan:
    """What creating each new customer of a batch writes, worked out without I/O, down to
    the bytes COPY sends (the outbox rows but their ids).

    Built for rows assumed new; the writer keeps the positions that turn out to be new
    when it writes (`write_fresh`). Plain data: an import's helper process builds it.
    """

    results: dict[int, ItemResult]
    copies: dict[str, CopyText]
    events: CopyText  # outbox rows without ids (`outbox.encode_events`)
    created: dict[int, int]  # position -> customer id


@dataclass
class _Planned:
    position: int
    valid: ValidDraft
    decision: Create
    record: CustomerRecord
    enrolled: list[Enrolment]
    awards: list[Any]


_TABLES = {
    t.name: t
    for t in (
        customers,
        identifiers,
        profiles,
        enrolments,
        reward_ledger,
        currency_balances,
        coupons,
        referral_codes,
        audit_log,
    )
}


async def fresh_rows(uow: UnitOfWork, org: OrgConfig, checked: Sequence[ValidDraft | Failure]) -> set[int]:
    """Positions of the rows the fast path may write: all identifiers new to the org and the batch."""
    if uow.conn.dialect.name != "postgresql":
        return set()
    wanted = [(k.value, v) for c in checked if isinstance(c, ValidDraft) for k, v in c.identifiers.items()]
    taken = await held_claims(uow.conn, org.id, wanted)
    fresh: set[int] = set()
    for position, item in enumerate(checked):
        if not isinstance(item, ValidDraft):
            continue
        claims = {(k.value, v) for k, v in item.identifiers.items()}
        if not claims & taken and not item.referral_code:
            fresh.add(position)
        taken |= claims  # a later row naming them must see this one: per-row path
    return fresh


async def register_fresh(
    uow: UnitOfWork, org: OrgConfig, context: RequestContext, drafts: dict[int, ValidDraft]
) -> dict[int, ItemResult]:
    """Create a customer per draft (all known to be new); results by position."""
    results, creates = _decide(org, drafts)
    ids = await take_sequence(uow.conn, "customer_id_seq", len(creates))
    planned, rows = _plan_customers(org, context, creates, ids)
    coupons = sum(isinstance(a, CouponAward) for p in planned for a in p.awards)
    coupon_ids = await take_sequence(uow.conn, "coupon_id_seq", coupons)
    plan = _plan_awards(org, context, results, planned, rows, coupon_ids)
    return await write_fresh(uow, plan, set(drafts))


def plan_fresh(
    org: OrgConfig, context: RequestContext, drafts: dict[int, ValidDraft], ids: list[int]
) -> FreshPlan | None:
    """The plan of `register_fresh` with customer ids given (one per draft at least), no I/O;
    None when a registration would issue coupons (their ids come from the database)."""
    results, creates = _decide(org, drafts)
    planned, rows = _plan_customers(org, context, creates, ids)
    if any(isinstance(a, CouponAward) for p in planned for a in p.awards):
        return None
    return _plan_awards(org, context, results, planned, rows, [])


async def write_fresh(uow: UnitOfWork, plan: FreshPlan, positions: set[int]) -> dict[int, ItemResult]:
    """Write the planned customers at `positions`; their results by position."""
    uow.created.update(i for position, i in plan.created.items() if position in positions)
    uow.emit_encoded(plan.events.kept(positions))
    for name, copy in plan.copies.items():
        await copy_text(uow.conn, _TABLES[name], copy.columns, copy.kept(positions))
    return {p: r for p, r in plan.results.items() if p in positions}


def _decide(
    org: OrgConfig, drafts: dict[int, ValidDraft]
) -> tuple[dict[int, ItemResult], dict[int, tuple[ValidDraft, Create]]]:
    """The registration rules' decision for each draft: failures as results, the creates."""
    results: dict[int, ItemResult] = {}
    creates: dict[int, tuple[ValidDraft, Create]] = {}
    for position, valid in drafts.items():
        decision = decide(valid, {}, org)
        if isinstance(decision, Failure):
            results[position] = ItemResult(failure=decision)
        else:
            assert isinstance(decision, Create)
            creates[position] = (valid, decision)
    return results, creates


def _plan_customers(
    org: OrgConfig, context: RequestContext, creates: dict[int, tuple[ValidDraft, Create]], ids: list[int]
) -> tuple[list[_Planned], _Rows]:
    assert len(ids) >= len(creates), "an id for each new customer"
    planned: list[_Planned] = []
    rows = _Rows()
    joins: dict[dt.datetime, list[Enrolment]] = {}
    for (position, (valid, decision)), customer_id in zip(creates.items(), ids, strict=False):
        rows.position = position
        record, enrolled, awards = _plan_customer(rows, org, context, valid, decision, customer_id, joins)
        planned.append(_Planned(position, valid, decision, record, enrolled, awards))
    return planned, rows


def _plan_awards(
    org: OrgConfig,
    context: RequestContext,
    results: dict[int, ItemResult],
    planned: list[_Planned],
    rows: _Rows,
    coupon_ids: list[int],
) -> FreshPlan:
    events: list[tuple[int, ev.Event]] = []
    next_coupon = iter(coupon_ids)
    for p in planned:
        rows.position = p.position
        emitted: list[ev.Event] = []
        effects, final = _apply_awards(
            rows, org, context, emitted, p.record, p.enrolled, p.awards, next_coupon
        )
        events.extend((p.position, e) for e in emitted)
        results[p.position] = ItemResult(
            success=Codes.CUSTOMER_REGISTERED,
            customer=CustomerView(p.record, final),
            warnings=[*p.valid.warnings, *p.decision.warnings],
            effects=effects,
        )
    copies = {name: encode(_TABLES[name], tagged) for name, tagged in rows.by_table.items()}
    return FreshPlan(results, copies, encode_events(events), {p.position: p.record.id for p in planned})


def _plan_customer(
    rows: _Rows,
    org: OrgConfig,
    context: RequestContext,
    valid: ValidDraft,
    decision: Create,
    customer_id: int,
    joins: dict[dt.datetime, list[Enrolment]],
) -> tuple[CustomerRecord, list[Enrolment], list[Any]]:
    values = new_profile(valid, decision.identifiers, context.now)
    record = CustomerRecord(id=customer_id, **values)
    rows.add("customers", {**plain_values(values), "org_id": org.id, "id": customer_id})
    for kind, value in sorted(decision.identifiers.items()):
        rows.add(
            "identifiers", {"org_id": org.id, "type": kind.value, "value": value, "customer_id": customer_id}
        )
    enrolled: list[Enrolment] = []
    if record.type is CustomerType.LOYALTY:
        # What customers registered at the same time join is the same: worked out once a batch.
        if record.registered_on not in joins:
            joins[record.registered_on] = enrolments_on_registration(
                org, record.registered_on, context.till_code, context.downstream.every_program
            )
        enrolled = list(joins[record.registered_on])
    rows.add("audit_log", audit_row(org.id, audit_entry(context, customer_id, "customer.registered", values)))
    rows.add("profiles", profile_row(org.id, customer_id, registration_profile(record)))
    if org.referral_campaigns:
        rows.add(
            "referral_codes",
            {"org_id": org.id, "code": referral_code(pick_securely), "customer_id": customer_id},
        )
    awards: list[Any] = []
    if not context.downstream.skip:
        occasion = Occasion(
            customer_id=customer_id,
            customer_type=record.type,
            source=record.source,
            trigger="registration",
            enrolled_programs=tuple(e.program_id for e in enrolled),
            granted=frozenset(),
            now=context.now,
        )
        awards = decide_rewards(org, occasion).awards
    return record, enrolled, awards


def _apply_awards(
    rows: _Rows,
    org: OrgConfig,
    context: RequestContext,
    emitted: list[ev.Event],
    record: CustomerRecord,
    enrolled: list[Enrolment],
    awards: list[Any],
    coupon_ids: Any,
) -> tuple[list[Effect], list[Enrolment]]:
    """The awards' rows, events and effects, in the order the per-row path applies them."""
    skip = context.downstream.skip

    def emit(type_: str, data: dict[str, Any]) -> None:
        if not skip:
            emitted.append(ev.new_event(type_, org.id, record.id, context.now, context.request_id, data))

    emit(ev.CUSTOMER_REGISTERED, ev.registered_data(record, enrolled))
    balance = {e.program_id: e for e in enrolled}
    currencies: dict[str, tuple[str, int]] = {}
    effects: list[Effect] = []
    for award in awards:
        if isinstance(award, PointsAward):
            held = balance[award.program_id]
            expiry = held.points_expire_on
            if award.expires_on is not None and (expiry is None or award.expires_on < expiry):
                expiry = award.expires_on
            held = Enrolment(
                held.program_id,
                held.tier_serial,
                held.tier_expires_on,
                held.loyalty_points + award.points,
                held.lifetime_points + award.points,
                expiry,
            )
            rows.add("reward_ledger", ledger_row(org.id, award))
            effects.append(PointsEffect(award, held.loyalty_points))
            _, data = ev.award_event_data(award, {"totalPoints": held.loyalty_points})
            emit(ev.POINTS_AWARDED, data)
            program = org.program(award.program_id)
            tier = program.tier_for_points(held.lifetime_points) if program else None
            if tier is not None and tier.serial > held.tier_serial:
                expires = tier_expiry(context.now, org, tier)
                emit(
                    ev.TIER_CHANGED,
                    {
                        "programId": held.program_id,
                        "fromTier": held.tier_serial,
                        "toTier": tier.serial,
                        "tierExpiresOn": expires,
                    },
                )
                held = Enrolment(
                    held.program_id,
                    tier.serial,
                    expires,
                    held.loyalty_points,
                    held.lifetime_points,
                    held.points_expire_on,
                )
            balance[award.program_id] = held
        elif isinstance(award, CurrencyAward):
            _, total = currencies.get(award.identifier, (award.name, 0))
            currencies[award.identifier] = (award.name, total + award.value)
            rows.add("reward_ledger", ledger_row(org.id, award))
            effects.append(CurrencyEffect(award, total + award.value))
            emit(ev.CURRENCY_AWARDED, ev.award_event_data(award, {"balance": total + award.value})[1])
        else:
            code = coupon_code(award.series.code_pattern, pick_securely)
            coupon_id = next(coupon_ids)
            rows.add("coupons", {**coupon_row(org.id, award, code), "id": coupon_id})
            effects.append(CouponEffect(award, coupon_id, code))
            emit(ev.COUPON_ISSUED, ev.award_event_data(award, {"couponId": coupon_id, "couponCode": code})[1])
    for e in balance.values():
        rows.add(
            "enrolments",
            {
                "org_id": org.id,
                "customer_id": record.id,
                "program_id": e.program_id,
                "tier_serial": e.tier_serial,
                "tier_expires_on": e.tier_expires_on,
                "loyalty_points": e.loyalty_points,
                "lifetime_points": e.lifetime_points,
                "points_expire_on": e.points_expire_on,
                "enrolled_at": context.now,
            },
        )
    for identifier, (name, total) in currencies.items():
        rows.add(
            "currency_balances",
            {
                "org_id": org.id,
                "customer_id": record.id,
                "identifier": identifier,
                "name": name,
                "balance": total,
            },
        )
    return effects, list(balance.values())
