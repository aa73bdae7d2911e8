"""Applying what a registration earns, inside the registration's own transaction.

Both APIs call this after the customer's rows are written: it gathers the facts
(referral code holder, what was already granted), lets the pure decision in
domain/rewards pick the awards, writes ledger, balances, coupons and tiers, and
emits an event per award. Any failure raises and takes the customer with it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from memberbase.domain import events as ev
from memberbase.domain.customer import CustomerType, Warning_
from memberbase.domain.endpoints import DVS, POINT_ENGINE, REFERRAL, TIMELINE, reaches
from memberbase.domain.loyalty import Enrolment, tier_expiry
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.rewards import (
    OPENING_RULE,
    CouponAward,
    CurrencyAward,
    Occasion,
    PointsAward,
    Referral,
    ReferralFacts,
    Trigger,
    coupon_code,
    decide_rewards,
    judge_referral,
    points_expiry,
    referral_code,
)
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.rewards import RewardRepository
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.results import CouponEffect, CurrencyEffect, Effect, PointsEffect
from memberbase.usecases.unit_of_work import UnitOfWork

# The endpoint a dummy customer must reach for an award of each kind (domain/endpoints.py).
_ENDPOINT_OF: dict[type, str] = {PointsAward: POINT_ENGINE, CurrencyAward: POINT_ENGINE, CouponAward: DVS}


def pick_securely(alphabet: str) -> str:
    """A random character for codes people must not guess (coupons, referral codes)."""
    return secrets.choice(alphabet)


@dataclass
class Earned:
    effects: list[Effect] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    # (customer, programme) -> what its enrolment became, so callers need not read it back
    enrolments: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

    def applied_to(self, customer_id: int, enrolled: list[Enrolment]) -> list[Enrolment]:
        """`enrolled` (as written before the awards) with the awards' balances and tiers."""
        return [
            dataclasses.replace(e, **self.enrolments.get((customer_id, e.program_id), {})) for e in enrolled
        ]


@dataclass(frozen=True)
class Registration:
    """Who registered, as the rewards see it."""

    customer_id: int
    customer_type: CustomerType
    source: str
    trigger: Trigger
    is_new: bool  # a customer created by this request (referrals apply to these only)
    enrolled_programs: tuple[int, ...]
    referral_code: str | None


class Rewarder:
    def __init__(self, uow: UnitOfWork, org: OrgConfig, context: RequestContext) -> None:
        self._uow = uow
        self._org = org
        self._context = context
        self._repo = RewardRepository(uow.conn, org.id)
        self._customers = CustomerRepository(uow.conn, org.id)
        # Dummy customers' endpoint lists (domain/endpoints.py); a customer absent: all on.
        self._endpoints: dict[int, list[str]] = {}

    def restrict(self, customer_id: int, enabled: list[str] | None) -> None:
        """The customer is a dummy that reaches only `enabled` (None: a real customer)."""
        if enabled is not None:
            self._endpoints[customer_id] = enabled

    def _reaches(self, customer_id: int, endpoint: str) -> bool:
        return reaches(self._endpoints.get(customer_id), endpoint)

    @property
    def uow(self) -> UnitOfWork:
        return self._uow

    def emit(self, type_: str, customer_id: int, data: dict[str, object]) -> None:
        """An event, unless the caller asked for a data-import-like write (SKIP-DOWNSTREAM)."""
        if self._context.downstream.skip or not self._reaches(customer_id, TIMELINE):
            return
        c = self._context
        self._uow.emit(ev.new_event(type_, self._org.id, customer_id, c.now, c.request_id, data))

    async def give_referral_code(self, customer_id: int) -> None:
        """Each customer of an org that runs referral campaigns gets a code to share."""
        if self._org.referral_campaigns and self._reaches(customer_id, REFERRAL):
            await self._repo.add_referral_code(customer_id, referral_code(pick_securely))

    async def opening_points(self, customer_id: int, asked: Enrolment, expires: dt.datetime | None) -> Earned:
        """Points a v2 enrolment opens with: a ledger entry like any award (reported unless skipped)."""
        program = self._org.program(asked.program_id)
        if program is None or asked.loyalty_points <= 0 or not self._reaches(customer_id, POINT_ENGINE):
            return Earned()
        now = self._context.now
        award = PointsAward(
            customer_id=customer_id,
            program_id=program.id,
            raw_points=Decimal(asked.loyalty_points),
            points=asked.loyalty_points,
            rule_id=OPENING_RULE,
            entry_key=f"{OPENING_RULE}:{customer_id}:{program.id}",
            awarded_on=now,
            expires_on=expires or points_expiry(program.points_expiry, now, self._org),
        )
        earned = Earned()
        await self._apply(award, earned, reason="opening")
        return earned

    async def reward(self, who: Registration) -> Earned:
        earned = Earned()
        if self._context.downstream.skip:
            return earned
        reached = self._reaches(who.customer_id, REFERRAL)
        referral = await self._referral(who, earned) if reached else None
        if who.trigger == "update":
            return earned
        granted = frozenset() if who.is_new else await self._repo.granted([who.customer_id])
        occasion = Occasion(
            customer_id=who.customer_id,
            customer_type=who.customer_type,
            source=who.source,
            trigger=who.trigger,
            enrolled_programs=who.enrolled_programs,
            granted=granted,
            now=self._context.now,
            referral=referral,
        )
        decision = decide_rewards(self._org, occasion)
        earned.warnings += decision.warnings
        for award in decision.awards:
            if self._reaches(who.customer_id, _ENDPOINT_OF[type(award)]):
                await self._apply(award, earned)
        return earned

    async def _referral(self, who: Registration, earned: Earned) -> Referral | None:
        code = (who.referral_code or "").strip().upper()
        if not code:
            return None
        holder = await self._repo.holder_of(code)
        if holder is not None:
            # Two friends registering at once must not both slip under the referral limit.
            await self._customers.lock_customers([holder])
        facts = ReferralFacts(
            code=code,
            holder_id=holder,
            customer_id=who.customer_id,
            is_new=who.is_new,
            source=who.source,
            day=self._context.now.astimezone(self._org.zone).date(),
            referrals_so_far=0 if holder is None else await self._repo.referral_count(holder),
        )
        judged = judge_referral(self._org, facts)
        if isinstance(judged, Warning_):
            earned.warnings.append(judged)
            return None
        assert holder is not None
        await self._repo.add_referral(who.customer_id, holder, judged.id, code, self._context.now)
        held = (await self._customers.enrolments([holder]))[holder]
        self.emit(
            ev.REFERRAL_APPLIED,
            who.customer_id,
            {"referrerId": holder, "campaignId": judged.id, "code": code},
        )
        return Referral(holder, code, judged, frozenset(e.program_id for e in held))

    async def _apply(
        self, award: PointsAward | CurrencyAward | CouponAward, earned: Earned, reason: str = "points"
    ) -> None:
        if isinstance(award, PointsAward):
            balance = await self._repo.add_points(award, reason)
            if balance is None:  # not enrolled (the decision only awards enrolled programmes)
                return
            earned.effects.append(PointsEffect(award, balance.loyalty_points))
            self._emit_award(award, {"totalPoints": balance.loyalty_points})
            state = earned.enrolments.setdefault((award.customer_id, award.program_id), {})
            state.update(loyalty_points=balance.loyalty_points, lifetime_points=balance.lifetime_points)
            if award.expires_on is not None:
                held = state.get("points_expire_on")
                state["points_expire_on"] = award.expires_on if held is None else min(held, award.expires_on)
            upgraded = await self._maybe_upgrade(award, balance.lifetime_points, balance.tier_serial)
            if upgraded is not None:
                state.update(tier_serial=upgraded[0], tier_expires_on=upgraded[1])
        elif isinstance(award, CurrencyAward):
            total = await self._repo.add_currency(award)
            earned.effects.append(CurrencyEffect(award, total))
            self._emit_award(award, {"balance": total})
        else:
            code = coupon_code(award.series.code_pattern, pick_securely)
            coupon_id = await self._repo.add_coupon(award, code)
            earned.effects.append(CouponEffect(award, coupon_id, code))
            self._emit_award(award, {"couponId": coupon_id, "couponCode": code})

    def _emit_award(self, award: PointsAward | CurrencyAward | CouponAward, extra: dict[str, object]) -> None:
        type_, data = ev.award_event_data(award, extra)
        self.emit(type_, award.customer_id, data)

    async def _maybe_upgrade(
        self, award: PointsAward, lifetime: int, serial: int
    ) -> tuple[int, dt.datetime] | None:
        """Points that reach a higher tier's threshold lift the customer there (never down)."""
        program = self._org.program(award.program_id)
        if program is None:
            return None
        tier = program.tier_for_points(lifetime)
        if tier.serial <= serial:
            return None
        expires = tier_expiry(self._context.now, self._org, tier)
        await self._repo.set_tier(award.customer_id, program.id, tier.serial, expires)
        self.emit(
            ev.TIER_CHANGED,
            award.customer_id,
            {"programId": program.id, "fromTier": serial, "toTier": tier.serial, "tierExpiresOn": expires},
        )
        return tier.serial, expires
