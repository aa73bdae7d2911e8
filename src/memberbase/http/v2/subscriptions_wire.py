"""The v2 subscription shapes: the request body (the parser and the /openapi.json schema), the
echo it answers with, the states and the consent log.

Types are checked for the whole body (a wrong JSON type is a 400); values per item (an
unknown channel fails that item, reported in `warnings`, while the others apply).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from memberbase.domain.customer import Failure
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.subscriptions import (
    CONSENT_TEXT_MAX,
    CONSENT_VERSION_MAX,
    REASON_MAX,
    Evidence,
    ItemIn,
    SubscriptionKey,
    type_of,
    v2_type,
)
from memberbase.domain.text import has_control
from memberbase.http.v2.render import iso, problem, subscription_json
from memberbase.storage.subscriptions import ConsentEntry


def _no_control(value: str) -> str:
    if has_control(value):
        raise ValueError("contains a NUL or control character")
    return value


def _number_as_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_AS_TEXT, _CLEAN = BeforeValidator(_number_as_text), AfterValidator(_no_control)
Short = Annotated[str, _AS_TEXT, StringConstraints(max_length=100), _CLEAN]
Reason = Annotated[str, _AS_TEXT, StringConstraints(max_length=REASON_MAX), _CLEAN]
ConsentText = Annotated[str, _AS_TEXT, StringConstraints(max_length=CONSENT_TEXT_MAX), _CLEAN]
ConsentVersion = Annotated[str, _AS_TEXT, StringConstraints(max_length=CONSENT_VERSION_MAX), _CLEAN]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SubscriptionWire(_In):
    channel: Short | None = Field(None, description="MOBILE, EMAIL, WECHAT, WHATSAPP, IOS, ANDROID, LINE")
    account_id: Short | None = Field(None, alias="accountId", description='source account ("" for INSTORE)')
    priority: Short | None = Field(None, description="TRANS or BULK")
    type: Short | None = Field(None, description="OPTIN or OPTOUT")
    org_unit_id: Short | None = Field(None, alias="orgUnitId")
    source_name: Short | None = Field(None, alias="sourceName", description="default INSTORE")
    consent_text: ConsentText | None = Field(None, alias="consentText")
    consent_version: ConsentVersion | None = Field(None, alias="consentVersion")


class ScopeWire(_In):
    scope: Short | None = None
    sub_scope: Short | None = Field(None, alias="subScope")


class SubscriptionsRequestWire(_In):
    """PUT or POST /v2/customers/{userId}/subscriptions."""

    communication_id: Short | None = Field(None, alias="communicationId")
    campaign_id: Short | None = Field(None, alias="campaignId")
    reason: Reason | None = None
    scope: ScopeWire | None = None
    subscriptions: list[SubscriptionWire] = Field(min_length=1)
    consent_text: ConsentText | None = Field(
        None, alias="consentText", description="the wording the customer agreed to (each item may override)"
    )
    consent_version: ConsentVersion | None = Field(
        None, alias="consentVersion", description="its version (each item may override)"
    )


def items_of(wire: SubscriptionsRequestWire) -> list[ItemIn]:
    details = {
        "campaignId": wire.campaign_id,
        "communicationId": wire.communication_id,
        "scope": None if wire.scope is None else wire.scope.model_dump(by_alias=True),
    }
    found = []
    for s in wire.subscriptions:
        evidence = Evidence(
            reason=wire.reason,
            consent_text=s.consent_text or wire.consent_text,
            consent_version=s.consent_version or wire.consent_version,
            details={k: v for k, v in {**details, "orgUnitId": s.org_unit_id}.items() if v is not None},
        )
        found.append(
            ItemIn(
                channel=s.channel,
                priority=s.priority,
                subscribed=v2_type(s.type),
                source=s.source_name,
                account_id=s.account_id,
                evidence=evidence,
            )
        )
    return found


ECHO_KEYS = ("scope", "campaignId", "communicationId", "reason", "consentText", "consentVersion")


def echo_body(raw: dict[str, Any], failures: list[Failure | None]) -> dict[str, Any]:
    """The body as sent, with the items that applied; those that did not are warnings."""
    body = {k: raw[k] for k in ECHO_KEYS if k in raw}
    body["subscriptions"] = [
        item for item, failed in zip(raw["subscriptions"], failures, strict=True) if not failed
    ]
    body["warnings"] = item_problems(failures)
    return body


def item_problems(failures: list[Failure | None]) -> list[dict[str, Any]]:
    return [
        problem(f.code, f"subscriptions[{i}]: {f.message}") for i, f in enumerate(failures) if f is not None
    ]


def states_json(states: dict[SubscriptionKey, bool]) -> list[dict[str, Any]]:
    return [subscription_json(key, states[key]) for key in sorted(states)]


def log_json(entry: ConsentEntry, org: OrgConfig) -> dict[str, Any]:
    who = entry.who
    return {
        **subscription_json(entry.key, entry.subscribed),
        "previousType": type_of(entry.previous),
        "changed": entry.previous is not entry.subscribed,
        "reason": entry.reason,
        "consentText": entry.consent_text,
        "consentVersion": entry.consent_version,
        **{
            k: entry.details[k]
            for k in ("campaignId", "communicationId", "orgUnitId", "scope")
            if k in entry.details
        },
        "createdOn": iso(entry.occurred_at, org),
        "createdBy": {"code": who.till_code, "type": "TILL"},
        "apiClient": who.api_client,
        "via": who.via,
        "userContextDetails": who.user_context,
        "requestId": who.request_id,
    }
