"""Events registration sends downstream, and the JSON they travel as.

An event is written to the outbox in the transaction that caused it, with an id
consumers deduplicate on: the publisher delivers at least once, so a consumer
that remembers ids sees each event exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from memberbase.domain.customer import CustomerRecord
from memberbase.domain.json_values import jsonable
from memberbase.domain.loyalty import Enrolment
from memberbase.domain.rewards import Award, CouponAward, CurrencyAward, PointsAward
from memberbase.domain.uuids import uuid4_text

CUSTOMER_REGISTERED = "customer.registered"
CUSTOMER_UPDATED = "customer.updated"
CUSTOMER_MERGED = "customer.merged"
POINTS_AWARDED = "points.awarded"
COUPON_ISSUED = "coupon.issued"
CURRENCY_AWARDED = "alternate_currency.awarded"
TIER_CHANGED = "tier.changed"
REFERRAL_APPLIED = "referral.applied"
SUBSCRIPTION_CHANGED = "subscription.changed"  # never customer.updated (the hosted API sends none)

EVENT_TYPES = (
    CUSTOMER_REGISTERED,
    CUSTOMER_UPDATED,
    CUSTOMER_MERGED,
    POINTS_AWARDED,
    COUPON_ISSUED,
    CURRENCY_AWARDED,
    TIER_CHANGED,
    REFERRAL_APPLIED,
    SUBSCRIPTION_CHANGED,
)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    org_id: int
    customer_id: int
    occurred_at: dt.datetime
    request_id: str
    data: dict[str, Any]

    def envelope(self) -> dict[str, Any]:
        """The message body on the broker."""
        return {
            "id": self.id,
            "type": self.type,
            "orgId": self.org_id,
            "customerId": self.customer_id,
            "occurredAt": self.occurred_at.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
            "requestId": self.request_id,
            "data": self.data,
        }

    @property
    def subject(self) -> str:
        """Broker subject: memberbase.<org>.<type>, so consumers can subscribe by org or kind."""
        return f"memberbase.{self.org_id}.{self.type}"


def new_event(
    type_: str, org_id: int, customer_id: int, at: dt.datetime, request_id: str, data: dict[str, Any]
) -> Event:
    return Event(uuid4_text(), type_, org_id, customer_id, at, request_id, jsonable(data))


def award_event_data(award: Award, extra: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(event type, data) for one applied award; `extra` carries what storage assigned."""
    common = {"ruleId": award.rule_id, "isReferrer": award.is_referrer, "entryKey": award.entry_key}
    if isinstance(award, PointsAward):
        return POINTS_AWARDED, {
            **common,
            "programId": award.program_id,
            "rawAwardedPoints": award.raw_points,
            "awardedPoints": award.points,
            "expiresOn": award.expires_on,
            **extra,
        }
    if isinstance(award, CurrencyAward):
        return CURRENCY_AWARDED, {
            **common,
            "identifier": award.identifier,
            "name": award.name,
            "rawAwardedValue": award.raw_value,
            "awardedValue": award.value,
            **extra,
        }
    assert isinstance(award, CouponAward)
    return COUPON_ISSUED, {
        **common,
        "seriesId": award.series.id,
        "couponType": award.series.coupon_type,
        "validTill": award.valid_till,
        **extra,
    }


def registered_data(record: CustomerRecord, enrolled: list[Enrolment]) -> dict[str, object]:
    """What customer.registered says of a v1.1 registration."""
    return {
        "type": record.type,
        "source": record.source,
        "accountId": record.account_id,
        "identifiers": record.identifiers(),
        "firstname": record.firstname,
        "lastname": record.lastname,
        "registeredOn": record.registered_on,
        "till": record.registered_till,
        "programs": [{"programId": e.program_id, "tier": e.tier_serial} for e in enrolled],
    }
