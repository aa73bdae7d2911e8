"""Rendering v2 responses: codes as numbers, warnings/errors as {status:false, code, message}."""

from __future__ import annotations

import datetime as dt
from typing import Any

from memberbase.domain.codes import Code, exact_message
from memberbase.domain.customer import Failure, Warning_
from memberbase.domain.extended_fields import CATALOGUE
from memberbase.domain.loyalty import view
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.subscriptions import SubscriptionKey, type_of, v2_channel_name
from memberbase.usecases.read_customers import CustomerDetails


def problem(code: Code, message: str) -> dict[str, Any]:
    text, detail = exact_message(code, message)
    found: dict[str, Any] = {"status": False, "code": code.code, "message": text}
    if detail is not None:
        found["detail"] = detail
    return found


def warnings(items: list[Warning_]) -> list[dict[str, Any]]:
    return [problem(w.code, w.message) for w in items]


def error_body(code: Code, message: str) -> dict[str, Any]:
    return {"warnings": [], "errors": [problem(code, message)]}


def failure_body(failure: Failure) -> dict[str, Any]:
    return error_body(failure.code, failure.message)


def iso(value: dt.datetime | None, org: OrgConfig) -> str | None:
    return None if value is None else value.astimezone(org.zone).isoformat(timespec="seconds")


def _till(code: str, org: OrgConfig) -> dict[str, Any]:
    till = org.till(code)
    return {"code": code, "name": till.store if till and till.store else code, "type": "TILL"}


def subscription_json(key: SubscriptionKey, state: bool | None) -> dict[str, Any]:
    return {
        "channel": v2_channel_name(key.channel),
        "accountId": key.account_id,
        "sourceName": key.source,
        "priority": key.priority,
        "type": type_of(state),
    }


def customer_body(found: CustomerDetails, org: OrgConfig) -> dict[str, Any]:
    r = found.record
    programs = []
    for enrolment in found.enrolments:
        v = view(enrolment, org)
        if v is None:
            continue
        programs.append(
            {
                "programId": v.program.id,
                "programTitle": v.program.name,
                "loyaltyPoints": enrolment.loyalty_points,
                "lifetimePoints": enrolment.lifetime_points,
                "redeemed": 0,
                "expired": 0,
                "returned": 0,
                "adjusted": 0,
                "cumulativePurchases": 0,
                "currentSlab": v.tier.name,
                "slabSNo": v.tier.serial,
                "slabExpiryDate": iso(enrolment.tier_expires_on, org),
                "nextSlab": v.next_tier.name if v.next_tier else "",
                "nextSlabSerialNumber": v.next_tier.serial if v.next_tier else -1,
                "nextSlabDescription": v.next_tier.description if v.next_tier else "",
                "pointsExpiryDate": iso(enrolment.points_expire_on, org),
            }
        )
    series_codes = {s.id: s.code for s in org.card_series}
    status = org.status_label(r.status_label) if r.status_label else None
    return {
        "id": r.id,
        "profiles": [
            {
                "firstName": p.firstname,
                "lastName": p.lastname,
                "attribution": {
                    "createDate": iso(p.created_at, org),
                    "createdBy": _till(p.created_till, org),
                },
                "fields": p.fields,
                "identifiers": p.identifiers,
                "commChannels": p.comm_channels,
                "source": p.source,
                "accountId": p.account_id,
                "userId": r.id,
            }
            for p in found.profiles
        ],
        "loyaltyInfo": {
            "loyaltyType": r.type.value.lower(),
            "attributionV2": {
                "createDate": iso(r.registered_on, org),
                "createdBy": _till(r.registered_till, org),
                "createdFromSource": r.source.lower(),
            },
            "lifetimePurchases": 0,
        },
        "associatedWith": r.associated_with,
        # Only where the registration sent them (seed 003), so real customers' reads keep
        # the hosted shape.
        **({"endPointsEnabled": r.endpoints_enabled} if r.endpoints_enabled is not None else {}),
        **({"activity": r.activity} if r.activity is not None else {}),
        "extendedFields": r.extended_fields,
        "fraudDetails": {"status": "NOT_FRAUD" if r.fraud_status in ("NONE", "NORMAL") else r.fraud_status},
        "statusLabel": r.status_label,
        "customerStatus": status.status.value if status else None,
        "loyaltyProgramDetails": programs,
        "cardDetails": [
            {
                "cardNumber": c.number,
                "seriesId": c.series_id,
                "seriesCode": series_codes.get(c.series_id),
                "statusLabel": c.status_label,
                "extendedFields": c.extended_fields,
                "customFields": c.custom_fields,
                "issuedDate": iso(c.issued_at, org),
            }
            for c in found.cards
        ],
        "referralCode": found.referral_code or "",
        "alternateCurrencies": [
            {"identifier": c.identifier, "name": c.name, "balance": c.balance} for c in found.currencies
        ],
        "coupons": [
            {
                "id": c.id,
                "seriesId": c.series_id,
                "couponCode": c.code,
                "validTill": iso(c.valid_till, org),
                "issuedDate": iso(c.issued_at, org),
            }
            for c in found.coupons
        ],
        "subscriptionInfo": {
            "subscriptions": [
                subscription_json(k, found.subscriptions[k]) for k in sorted(found.subscriptions)
            ]
        },
        "warnings": [],
    }


def extended_fields_body(org: OrgConfig) -> dict[str, Any]:
    fields = []
    for name in org.extended_fields:
        d = CATALOGUE[name]
        entry: dict[str, Any] = {
            "name": d.name,
            "label": d.label,
            "entityType": "CUSTOMER",
            "dataType": d.data_type.value,
        }
        if d.enum_values:
            entry["possibleValues"] = list(d.enum_values)
        fields.append(entry)
    return {"entity": {"CUSTOMER": fields}, "warnings": [], "errors": [], "success": True}
