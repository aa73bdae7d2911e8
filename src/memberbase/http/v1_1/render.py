"""Rendering results in the v1.1 wire shape, JSON types exactly as the seeds show them.

Quirks clients parse are kept on purpose: `success`, `total`, `success_count`
and `item_status.code` are strings while `status.code` is an integer; absent
identifiers are null and absent names "".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memberbase.domain.codes import Code, Codes, exact_message
from memberbase.domain.loyalty import EnrolmentView, view
from memberbase.domain.org_config import OrgConfig
from memberbase.http.v1_1.side_effects import side_effects_json
from memberbase.http.v1_1.times import local_time, zone_time
from memberbase.usecases.auditing import Downstream
from memberbase.usecases.results import CustomerView, Effect, ItemResult

_AS_ASKED = Downstream()  # no header or flag: side effects reported


def status(code: Code, total: int, succeeded: int, detail: str | None = None) -> dict[str, Any]:
    message = f"{code.message}: {detail}" if detail else code.message
    return {
        "success": "true" if code.code in (200, 201) else "false",
        "code": code.code,
        "message": message,
        "total": str(total),
        "success_count": str(succeeded),
    }


def error_envelope(code: Code, message: str) -> dict[str, Any]:
    text, detail = exact_message(code, message)
    status = {"success": "false", "code": code.code, "message": text, "total": "0", "success_count": "0"}
    return {"response": {"status": status if detail is None else {**status, "detail": detail}}}


def overall(results: list[ItemResult]) -> Code:
    succeeded = sum(r.ok for r in results)
    if succeeded == len(results):
        return Codes.ALL_SUCCEEDED
    if succeeded:
        return Codes.SOME_FAILED
    # Seed 000 ("Error codes"): "500 All requests have failed due to errors. Invalid or
    # unsupported inputs passed" -- items failing on their shape included; a body that is
    # not an envelope at all is the request's 400 (routes).
    return Codes.ALL_FAILED


def _points_summary(enrolled: EnrolmentView, tier_expiry: str) -> dict[str, str]:
    e = enrolled.enrolment
    nxt = enrolled.next_tier
    return {
        "programId": str(enrolled.program.id),
        "redeemed": "0",
        "expired": "0",
        "returned": "0",
        "adjusted": "0",
        "lifetimePoints": str(e.lifetime_points),
        "loyaltyPoints": str(e.loyalty_points),
        "cumulativePurchases": "0",
        "currentSlab": enrolled.tier.name,
        "nextSlab": nxt.name if nxt else "",
        "nextSlabSerialNumber": str(nxt.serial) if nxt else "-1",
        "nextSlabDescription": nxt.description if nxt else "",
        "slabSNo": str(enrolled.tier.serial),
        "slabExpiryDate": tier_expiry,
        "totalPoints": "",
    }


def _enrolment_views(customer: CustomerView, org: OrgConfig) -> list[EnrolmentView]:
    views = [v for e in customer.enrolments if (v := view(e, org)) is not None]
    if len(views) < 2:
        return views
    default = org.default_program
    # The default programme's figures are the customer's headline figures.
    return sorted(views, key=lambda v: (default is None or v.program.id != default.id, v.program.id))


def _fields(values: dict[str, Any], order: Callable[[], list[str]]) -> dict[str, list[dict[str, str]]]:
    if not values:
        return {"field": []}
    # In the org's configured order: stores may not keep key order (PostgreSQL JSONB does not).
    rank = {name: i for i, name in enumerate(order())}
    names = sorted(values, key=lambda n: (rank.get(n, len(rank)), n))
    return {"field": [{"name": name, "value": str(values[name])} for name in names]}


def customer_json(
    customer: CustomerView,
    org: OrgConfig,
    *,
    for_get: bool = False,
    user_id: bool = True,
    effects: list[Effect] | None = None,
    raw: bool = False,
) -> dict[str, Any]:
    r = customer.record
    zone = org.zone
    views = _enrolment_views(customer, org)
    expiries = [zone_time(v.enrolment.tier_expires_on, zone) for v in views]
    head = views[0] if views else None
    registered_on = zone_time(r.registered_on, zone)
    body: dict[str, Any] = {
        "user_id": r.id,
        "firstname": r.firstname,
        "lastname": r.lastname,
        "mobile": r.mobile,
        "email": r.email,
        "external_id": r.external_id,
        "lifetime_points": head.enrolment.lifetime_points if head else 0,
        "loyalty_points": head.enrolment.loyalty_points if head else 0,
        "current_slab": head.tier.name if head else "",
        "tier_expiry_date": expiries[0] if head else "",
        "points_summaries": {
            "points_summary": [_points_summary(v, expiry) for v, expiry in zip(views, expiries, strict=True)]
        },
        "lifetime_purchases": 0,
        "registered_on": registered_on,
        # Most customers were never updated: the same time, written once.
        "updated_on": registered_on if r.updated_on == r.registered_on else zone_time(r.updated_on, zone),
        "type": r.type.value,
        "source": r.source.lower(),
        "fraud_status": r.fraud_status,
        "reason": "",
        "custom_fields": _fields(r.custom_fields, lambda: [f.name for f in org.custom_fields]),
        "extended_fields": _fields(r.extended_fields, lambda: list(org.extended_fields)),
        "subscriptions": {"subscription": []},
    }
    if not user_id:
        del body["user_id"]
    if for_get:
        till = org.till(r.registered_till)
        body.update(
            {
                "accountId": r.account_id,
                "registered_till": {"code": r.registered_till, "name": r.registered_till},
                "registered_store": {"code": till.store if till else "", "name": till.store if till else ""},
                "associated_with": r.associated_with,
                "commChannels": r.comm_channels,
                "referral_code": customer.referral_code or "",
                "coupons": {
                    "coupon": [
                        {
                            "id": c.id,
                            "series_id": c.series_id,
                            "code": c.code,
                            "valid_till": local_time(c.valid_till, org),
                            "issued_on": local_time(c.issued_at, org),
                        }
                        for c in customer.coupons
                    ]
                },
            }
        )
    else:
        body["side_effects"] = side_effects_json(effects or [], org, raw)
    return body


def item_status(result: ItemResult) -> dict[str, Any]:
    if result.failure is not None:
        text, detail = exact_message(result.failure.code, result.failure.message)
        failed = {"success": "false", "code": str(result.failure.code.code), "message": text}
        return {**failed, **({} if detail is None else {"detail": detail}), "warnings": {"warning": []}}
    assert result.success is not None
    message = ", ".join([result.success.message, *(w.message for w in result.warnings)])
    return {
        "success": "true",
        "code": str(result.success.code),
        "message": message,
        "warnings": {"warning": [str(w.code.code) for w in result.warnings]},
    }


def customers_envelope(
    results: list[ItemResult],
    org: OrgConfig,
    *,
    for_get: bool = False,
    user_id: bool = True,
    downstream: Downstream | None = None,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): the HTTP status mirrors status.code, as clients check it.

    Side effects are reported unless the caller skipped downstream processing or
    asked not to wait for it (WAIT_FOR_DOWNSTREAM: false); they are applied either way.
    """
    code = overall(results)
    items = []
    downstream = downstream or _AS_ASKED
    report = downstream.report and not downstream.skip
    for result in results:
        if result.customer is not None:
            item = customer_json(
                result.customer,
                org,
                for_get=for_get,
                user_id=user_id,
                effects=result.effects if report else [],
                raw=downstream.raw,
            )
        else:
            item = dict(result.echo)
        item["item_status"] = item_status(result)
        items.append(item)
    body = {
        "response": {
            "status": status(code, len(results), sum(r.ok for r in results)),
            "customers": {"customer": items},
        }
    }
    return code.code, body
