"""v1.1 `side_effects.effect[]`, in the shapes and JSON types the seeds show.

The seeds name the customer on a points effect only when a referral put two
customers in one response, and never show a referrer's balance to the till
registering someone else; numbers the seeds quote (customer_id, awarded_value,
is_referrer) stay strings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from memberbase.domain.org_config import OrgConfig
from memberbase.http.v1_1.times import local_time
from memberbase.usecases.results import CouponEffect, CurrencyEffect, Effect, PointsEffect


def _local(value: dt.datetime | None, org: OrgConfig) -> str:
    return "" if value is None else local_time(value, org)


def _whose(effect: Effect, named: bool) -> dict[str, Any]:
    award = effect.award
    shown: dict[str, Any] = {}
    if named:
        shown["customer_id"] = str(award.customer_id)
    if award.is_referrer:
        shown["is_referrer"] = "true"
    return shown


def effect_json(effect: Effect, org: OrgConfig, named: bool, raw: bool) -> dict[str, Any]:
    if isinstance(effect, PointsEffect):
        a = effect.award
        body: dict[str, Any] = {"awarded_points": a.points}
        if not a.is_referrer:
            body["total_points"] = effect.total_points
        body |= _whose(effect, named)
        body["type"] = "points"
        if raw:
            body |= {
                "raw_awarded_points": float(a.raw_points),
                "program_id": a.program_id,
                "awarded_on": _local(a.awarded_on, org),
                "expiry_date": _local(a.expires_on, org),
                "rule_id": a.rule_id,
            }
        return body
    if isinstance(effect, CouponEffect):
        c = effect.award
        body = {
            "id": effect.coupon_id,
            "coupon_type": c.series.coupon_type,
            "coupon_code": effect.code,
            "valid_till": _local(c.valid_till, org),
            "description": c.series.description,
            **_whose(effect, named and c.is_referrer),
            "type": "coupon",
        }
        if raw:
            body |= {
                "series_id": c.series.id,
                "discount_code": c.series.discount_code,
                "discount_value": None if c.series.discount_value is None else float(c.series.discount_value),
                "issued_on": _local(c.awarded_on, org),
                "rule_id": c.rule_id,
            }
        return body
    assert isinstance(effect, CurrencyEffect)
    m = effect.award
    body = {
        "alternate_currency_identifier": m.identifier,
        "alternate_currency_name": m.name,
        "awarded_value": str(m.value),
        **_whose(effect, named and m.is_referrer),
        "type": "alternate_currency",
    }
    if raw:
        body |= {
            "raw_awarded_value": float(m.raw_value),
            "awarded_on": _local(m.awarded_on, org),
            "rule_id": m.rule_id,
        }
    return body


def side_effects_json(effects: list[Effect], org: OrgConfig, raw: bool) -> dict[str, list[dict[str, Any]]]:
    named = any(e.award.is_referrer for e in effects)
    return {"effect": [effect_json(e, org, named, raw) for e in effects]}
