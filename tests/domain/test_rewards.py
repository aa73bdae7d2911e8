"""The reward decision is a pure function of (org configuration, customer, request)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from memberbase.domain.customer import CustomerType, Warning_
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.rewards import (
    CouponAward,
    CurrencyAward,
    Occasion,
    PointsAward,
    Referral,
    ReferralFacts,
    coupon_code,
    decide_rewards,
    judge_referral,
    referral_code,
)

NOW = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC)


def org(**extra: Any) -> OrgConfig:
    base: dict[str, Any] = {
        "id": 1,
        "name": "o",
        "timezone": "Asia/Kolkata",
        "sources": [{"source": "INSTORE"}, {"source": "MOBILE_APP", "accounts": ["app"]}],
        "coupon_series": [{"id": 5, "description": "Welcome", "validity_days": 10}],
        "programs": [
            {
                "id": 469,
                "name": "Main",
                "default": True,
                "points_expiry": {"days": 30},
                "points_rounding": "down",
                "tiers": [{"serial": 1, "name": "Base"}],
                "registration_rewards": [
                    {"points": "10.7"},
                    {"id": "APP", "points": 5, "sources": ["MOBILE_APP"]},
                    {"id": "CPN", "coupon_series": 5, "customer_types": ["LOYALTY", "NON_LOYALTY"]},
                    {"id": "AC", "alternate_currency": {"identifier": "x", "name": "X", "value": "2.5"}},
                    {"id": "MERGE", "points": 3, "on_merge": True},
                ],
            }
        ],
        "referral_campaigns": [
            {
                "id": 9,
                "name": "friends",
                "ends_on": "2026-12-31",
                "max_referrals": 2,
                "referee_rewards": [{"points": 1}],
                "referrer_rewards": [{"points": 2}],
            }
        ],
    }
    base.update(extra)
    return OrgConfig.model_validate(base)


def occasion(**changes: Any) -> Occasion:
    values: dict[str, Any] = {
        "customer_id": 7,
        "customer_type": CustomerType.LOYALTY,
        "source": "INSTORE",
        "trigger": "registration",
        "enrolled_programs": (469,),
        "granted": frozenset(),
        "now": NOW,
    }
    values.update(changes)
    return Occasion(**values)


def rules(awards: list[Any]) -> list[str]:
    return [a.rule_id for a in awards]


def test_a_new_loyalty_customer_earns_the_programmes_rules_for_its_source() -> None:
    decision = decide_rewards(org(), occasion())
    assert rules(decision.awards) == ["P469-R1", "CPN", "AC", "MERGE"]  # on_merge: on registration too
    points, coupon, currency, _ = decision.awards
    assert isinstance(points, PointsAward)
    assert (points.raw_points, points.points) == (Decimal("10.7"), 10)  # rounding: down
    assert points.expires_on == dt.datetime(
        2026, 12, 22, 18, 29, 59, tzinfo=dt.UTC
    )  # 30 days, IST end of day
    assert isinstance(coupon, CouponAward)
    assert coupon.valid_till == dt.datetime(2026, 12, 2, 18, 29, 59, tzinfo=dt.UTC)
    assert isinstance(currency, CurrencyAward)
    assert (currency.raw_value, currency.value) == (Decimal("2.5"), 3)


def test_source_limited_rules_need_that_source() -> None:
    assert "APP" in rules(decide_rewards(org(), occasion(source="MOBILE_APP")).awards)


def test_non_loyalty_customers_earn_only_rules_that_list_them() -> None:
    decision = decide_rewards(org(), occasion(customer_type=CustomerType.NON_LOYALTY, enrolled_programs=()))
    assert rules(decision.awards) == ["CPN"]


def test_granted_rules_are_not_paid_again() -> None:
    first = decide_rewards(org(), occasion())
    granted = frozenset(a.entry_key for a in first.awards)
    assert decide_rewards(org(), occasion(granted=granted)).awards == []


def test_a_merge_earns_only_on_merge_rules_and_an_update_nothing() -> None:
    assert rules(decide_rewards(org(), occasion(trigger="merge")).awards) == ["MERGE"]
    assert decide_rewards(org(), occasion(trigger="update")).awards == []


def test_a_referral_pays_the_referee_and_the_referrer_once_per_referee() -> None:
    o = org()
    campaign = o.referral_campaigns[0]
    referral = Referral(referrer_id=3, code="ABCDEFGH", campaign=campaign, referrer_programs=frozenset({469}))
    awards = decide_rewards(o, occasion(referral=referral)).awards
    mine = [a for a in awards if a.customer_id == 7]
    theirs = [a for a in awards if a.customer_id == 3]
    assert rules(theirs) == ["C9-REFERRER1"]
    assert theirs[0].is_referrer
    assert theirs[0].entry_key == "C9-REFERRER1:3:7"  # keyed by the referee: one per referee
    assert "C9-REFEREE1" in rules(mine)


def test_a_referrer_outside_the_programme_gets_no_points_and_a_warning() -> None:
    o = org()
    referral = Referral(3, "ABCDEFGH", o.referral_campaigns[0], frozenset())
    decision = decide_rewards(o, occasion(referral=referral))
    assert all(a.customer_id == 7 for a in decision.awards)
    assert [w.code.code for w in decision.warnings] == [1222]


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        ({"holder_id": None}, 1203),
        ({"holder_id": 7}, 1204),
        ({"is_new": False}, 1205),
        ({"referrals_so_far": 2}, 1206),
        ({"day": dt.date(2027, 1, 1)}, 1202),
    ],
)
def test_referral_problems_are_warnings(facts: dict[str, Any], code: int) -> None:
    values: dict[str, Any] = {
        "code": "ABCDEFGH",
        "holder_id": 3,
        "customer_id": 7,
        "is_new": True,
        "source": "INSTORE",
        "day": dt.date(2026, 11, 22),
        "referrals_so_far": 0,
    }
    values.update(facts)
    judged = judge_referral(org(), ReferralFacts(**values))
    assert isinstance(judged, Warning_)
    assert judged.code.code == code


def test_codes_follow_the_pattern_and_avoid_confusable_characters() -> None:
    digits = iter("0123456789")
    assert coupon_code("WEL-###", lambda alphabet: next(digits)) == "WEL-012"
    assert referral_code(lambda alphabet: alphabet[0]) == "AAAAAAAA"
    alphabets: list[str] = []
    referral_code(lambda alphabet: alphabets.append(alphabet) or alphabet[0])
    assert not set("01OIL") & set(alphabets[0])


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"coupon_series": []}, "unknown coupon series"),
        (
            {"referral_campaigns": [{"id": 1, "name": "x", "program_id": 99}]},
            "unknown programme",
        ),
        ({"tills": [{"code": "t", "password": "p", "program_id": 99}]}, "unknown programme"),
    ],
)
def test_references_in_the_reward_configuration_are_checked(change: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        org(**change)


@pytest.mark.parametrize(
    ("reward", "complaint"),
    [
        ({"points": 1, "coupon_series": 5}, "exactly one"),
        ({"points": 1, "customer_types": ["NON_LOYALTY"]}, "points need a loyalty enrolment"),
        ({"points": 1, "sources": ["WECHAT"]}, "sources the org lacks"),
    ],
)
def test_a_reward_is_one_thing_for_customers_who_can_hold_it(reward: dict[str, Any], complaint: str) -> None:
    programs = [
        {"id": 1, "name": "p", "tiers": [{"serial": 1, "name": "b"}], "registration_rewards": [reward]}
    ]
    with pytest.raises(ValidationError, match=complaint):
        org(programs=programs, referral_campaigns=[])


def test_a_coupon_pattern_needs_enough_randomness() -> None:
    with pytest.raises(ValidationError, match="random positions"):
        org(coupon_series=[{"id": 5, "description": "d", "validity_days": 1, "code_pattern": "WEL-###"}])
