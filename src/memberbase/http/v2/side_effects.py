"""v2 `sideEffects[]`, in the shapes the seed samples show (entityType USER, camelCase)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from memberbase.usecases.results import CouponEffect, CurrencyEffect, Effect, PointsEffect


def _utc(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def effect_json(effect: Effect, named: bool, raw: bool) -> dict[str, Any]:
    award = effect.award
    whose: dict[str, Any] = {"customerId": award.customer_id} if named else {}
    referrer: dict[str, Any] = {"isReferrer": True} if award.is_referrer else {}
    detail: dict[str, Any] = {}
    if raw:
        detail = {"awardedOn": _utc(award.awarded_on), "strategyIds": [award.rule_id]}
    if isinstance(effect, PointsEffect):
        a = effect.award
        if raw:
            detail |= {"programId": a.program_id, "expiryDate": _utc(a.expires_on)}
            if not a.is_referrer:
                detail["totalPoints"] = effect.total_points
        return {
            "entityType": "USER",
            "rawAwardedPoints": float(a.raw_points),
            **whose,
            "awardedPoints": a.points,
            "type": "points",
            **referrer,
            **detail,
        }
    if isinstance(effect, CouponEffect):
        s = effect.award.series
        if raw:
            detail |= {
                "seriesId": s.id,
                "discountValue": None if s.discount_value is None else float(s.discount_value),
            }
        return {
            "id": effect.coupon_id,
            "entityType": "USER",
            **(whose if award.is_referrer else {}),
            "couponType": s.coupon_type,
            "couponCode": effect.code,
            "validTill": _utc(effect.award.valid_till),
            "description": s.description,
            "discountCode": s.discount_code,
            "trimmedCouponCode": effect.code.strip(),
            "type": "coupon",
            **referrer,
            **detail,
        }
    assert isinstance(effect, CurrencyEffect)
    m = effect.award
    return {
        "entityType": "USER",
        "rawAwardedValue": float(m.raw_value),
        **(whose if award.is_referrer else {}),
        "alternateCurrencyIdentifier": m.identifier,
        "alternateCurrencyName": m.name,
        "awardedValue": m.value,
        "type": "alternate_currency",
        **referrer,
        **detail,
    }


def side_effects_json(effects: list[Effect], raw: bool) -> list[dict[str, Any]]:
    named = any(e.award.is_referrer for e in effects)
    return [effect_json(e, named, raw) for e in effects]
