"""What a registration earns: a pure function of (org configuration, customer, request).

The use case gathers the facts (which programmes the customer just joined, what
it was already granted, who referred it) and writes whatever this decides. Every
award carries an `entry_key` that is unique per org in the ledger, so a reward
rule pays a customer at most once even if two requests race: the database
refuses the second and the loser decides again, now seeing the grant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from memberbase.domain.codes import Code, Codes
from memberbase.domain.customer import CustomerType, Warning_
from memberbase.domain.loyalty import end_of_day
from memberbase.domain.org_config import OrgConfig, Program
from memberbase.domain.rewards_config import CouponSeries, PointsExpiry, ReferralCampaign, Reward

Trigger = Literal["registration", "merge", "update"]  # an update earns nothing
OPENING_RULE = "OPENING"  # opening points a v2 enrolment asks for


@dataclass(frozen=True)
class PointsAward:
    customer_id: int
    program_id: int
    raw_points: Decimal
    points: int
    rule_id: str
    entry_key: str
    awarded_on: dt.datetime
    expires_on: dt.datetime | None
    is_referrer: bool = False


@dataclass(frozen=True)
class CurrencyAward:
    customer_id: int
    identifier: str
    name: str
    raw_value: Decimal
    value: int
    rule_id: str
    entry_key: str
    awarded_on: dt.datetime
    is_referrer: bool = False


@dataclass(frozen=True)
class CouponAward:
    customer_id: int
    series: CouponSeries
    valid_till: dt.datetime
    rule_id: str
    entry_key: str
    awarded_on: dt.datetime
    is_referrer: bool = False


Award = PointsAward | CurrencyAward | CouponAward


@dataclass(frozen=True)
class Referral:
    """A referral that applies: who referred, under which campaign, and what the referrer holds."""

    referrer_id: int
    code: str
    campaign: ReferralCampaign
    referrer_programs: frozenset[int]


@dataclass(frozen=True)
class Occasion:
    """The facts a decision needs, gathered by the use case."""

    customer_id: int
    customer_type: CustomerType
    source: str
    trigger: Trigger
    enrolled_programs: tuple[int, ...]  # programmes whose rewards apply (just joined, or held on merge)
    granted: frozenset[str]  # entry keys this customer already earned
    now: dt.datetime
    referral: Referral | None = None


@dataclass
class Decision:
    awards: list[Award] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)


def entry_key(rule_id: str, earner_id: int, subject_id: int) -> str:
    """Unique per grant: a rule pays `earner` once for `subject` (itself, or the referee)."""
    return f"{rule_id}:{earner_id}:{subject_id}"


def points_expiry(policy: PointsExpiry, awarded_on: dt.datetime, org: OrgConfig) -> dt.datetime | None:
    if policy.on is not None:
        return end_of_day(policy.on, org)
    if policy.days is not None:
        return end_of_day(awarded_on.astimezone(org.zone).date() + dt.timedelta(days=policy.days), org)
    return None


def _applies(reward: Reward, occasion: Occasion) -> bool:
    if occasion.trigger == "update":
        return False
    if occasion.trigger == "merge" and not reward.on_merge:
        return False
    if reward.sources and occasion.source not in reward.sources:
        return False
    return occasion.customer_type.value in reward.customer_types


def _award(
    reward: Reward,
    program: Program | None,
    earner: int,
    subject: int,
    org: OrgConfig,
    now: dt.datetime,
    is_referrer: bool = False,
) -> Award | None:
    assert reward.id is not None  # OrgConfig names every rule
    key = entry_key(reward.id, earner, subject)
    if reward.points is not None:
        if program is None:
            return None
        expires = points_expiry(program.points_expiry, now, org)
        whole = program.points_rounding.apply(reward.points)
        return PointsAward(
            earner, program.id, reward.points, whole, reward.id, key, now, expires, is_referrer
        )
    if reward.alternate_currency is not None:
        c = reward.alternate_currency
        value = int(c.value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return CurrencyAward(earner, c.identifier, c.name, c.value, value, reward.id, key, now, is_referrer)
    assert reward.coupon_series is not None
    series = org.coupon(reward.coupon_series)
    assert series is not None  # OrgConfig checks the reference
    valid_till = end_of_day(now.astimezone(org.zone).date() + dt.timedelta(days=series.validity_days), org)
    return CouponAward(earner, series, valid_till, reward.id, key, now, is_referrer)


def decide_rewards(org: OrgConfig, occasion: Occasion) -> Decision:
    """The awards this occasion earns, for the customer and (with a referral) the referrer."""
    decision = Decision()
    me = occasion.customer_id
    programs: list[Program] = [p for pid in occasion.enrolled_programs if (p := org.program(pid)) is not None]
    if occasion.customer_type is CustomerType.NON_LOYALTY and org.default_program is not None:
        programs = [org.default_program]  # its coupons and currencies; points need an enrolment
    for program in programs:
        for reward in program.registration_rewards:
            if _applies(reward, occasion):
                _add(decision, _award(reward, program, me, me, org, occasion.now), occasion)
    referral = occasion.referral
    if referral is not None:
        campaign = referral.campaign
        chosen = org.program(campaign.program_id) if campaign.program_id else org.default_program
        mine = chosen if chosen is not None and chosen.id in occasion.enrolled_programs else None
        for reward in campaign.referee_rewards:
            if _applies(reward, occasion):
                _add(decision, _award(reward, mine, me, me, org, occasion.now), occasion)
        theirs = chosen if chosen is not None and chosen.id in referral.referrer_programs else None
        skipped = False
        for reward in campaign.referrer_rewards:
            if not _applies(reward, occasion):
                continue
            award = _award(reward, theirs, referral.referrer_id, me, org, occasion.now, is_referrer=True)
            skipped = skipped or award is None
            _add(decision, award, occasion)
        if skipped:
            decision.warnings.append(Warning_(REFERRAL_CODES["not_enrolled"]))
    return decision


def _add(decision: Decision, award: Award | None, occasion: Occasion) -> None:
    if award is not None and award.entry_key not in occasion.granted:
        decision.awards.append(award)


# v1.1 and v2 report referral problems with the same numbers and words (the 1202-1206 family).
REFERRAL_CODES: dict[str, Code] = {
    "no_campaign": Codes.REFERRAL_NO_CAMPAIGN,
    "unknown_code": Codes.REFERRAL_CODE_INVALID,
    "self": Codes.REFERRAL_SELF,
    "not_new": Codes.REFERRAL_NOT_NEW,
    "limit": Codes.REFERRAL_LIMIT,
    "not_enrolled": Codes.REFERRER_NOT_ENROLLED,
}


@dataclass(frozen=True)
class ReferralFacts:
    code: str
    holder_id: int | None  # whose referral code it is, if anyone's
    customer_id: int
    is_new: bool
    source: str
    day: dt.date
    referrals_so_far: int  # by the holder, under any campaign


def campaign_for(org: OrgConfig, source: str, day: dt.date) -> ReferralCampaign | None:
    return next((c for c in org.referral_campaigns if c.active_on(day, source)), None)


def judge_referral(org: OrgConfig, facts: ReferralFacts) -> ReferralCampaign | Warning_:
    """The campaign a referral code earns under, or the warning that says why it earns nothing.

    A bad code never fails the registration: the shopper is at the till, and the
    customer matters more than the friend's reward. It is never dropped silently either.
    """

    def refuse(reason: str) -> Warning_:
        return Warning_(REFERRAL_CODES[reason])

    if facts.holder_id is not None and facts.holder_id == facts.customer_id:
        return refuse("self")
    if not facts.is_new:
        return refuse("not_new")
    campaign = campaign_for(org, facts.source, facts.day)
    if campaign is None:
        return refuse("no_campaign")
    if facts.holder_id is None:
        return refuse("unknown_code")
    if campaign.max_referrals is not None and facts.referrals_so_far >= campaign.max_referrals:
        return refuse("limit")
    return campaign


# Codes people read out at a till: no 0/O or 1/I/L to confuse.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 8


def coupon_code(pattern: str, pick: Callable[[str], str]) -> str:
    """A code from the series pattern: '#' a random digit, '*' a random letter or digit."""
    return "".join(
        pick("0123456789") if c == "#" else pick(CODE_ALPHABET) if c == "*" else c for c in pattern
    )


def referral_code(pick: Callable[[str], str]) -> str:
    return "".join(pick(CODE_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))
