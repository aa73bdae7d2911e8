"""The v1.1 subscription shapes: the `{"root":{"subscription":[…]}}` items in, the envelopes out.

Values come in any case (`sms`, `Email`) and go out upper case, as the hosted API's
samples show; `is_subscribed` and item codes are strings, `status.code` an integer.
A shape problem of one item (a wrong JSON type, a control character, an oversize
text) fails that item with 400; its siblings go on.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from memberbase.domain.codes import Code, Codes, exact_message
from memberbase.domain.customer import Failure
from memberbase.domain.subscriptions import (
    CONSENT_TEXT_MAX,
    CONSENT_VERSION_MAX,
    REASON_MAX,
    Evidence,
    ItemIn,
    effective,
    listed,
    preference,
    text_problem,
    v11_scope_ok,
    v11_status,
)
from memberbase.domain.text import has_control
from memberbase.http.v1_1.render import status
from memberbase.usecases.read_subscriptions import IDENTIFIER_FIELDS, Found, States
from memberbase.usecases.subscriptions import ItemOutcome, V11Item

ECHO_FIELDS = (*IDENTIFIER_FIELDS, "channel", "priority", "scope", "is_subscribed")
_TEXTS = {"reason": REASON_MAX, "consent_text": CONSENT_TEXT_MAX, "consent_version": CONSENT_VERSION_MAX}
SCALAR_MAX = 300  # identifiers, channel, priority, source, accountId


class SubscriptionItemWire(BaseModel):
    """One item of POST /v1.1/customer/subscriptions (the schema; the route reads items by hand)."""

    model_config = ConfigDict(extra="allow")

    mobile: str | int | None = None
    email: str | None = None
    external_id: str | int | None = None
    id: str | int | None = None
    channel: str = Field(description="sms or email (also wechat, whatsapp, ios, android, line, mobilepush)")
    priority: str = Field(description="TRANS or BULK")
    scope: str | None = Field("all", description="all")
    is_subscribed: str | int = Field(description='"1" subscribed, "0" unsubscribed')
    source: str | None = Field(None, description="source account of the state (default INSTORE)")
    accountId: str | None = None
    reason: str | None = Field(None, max_length=REASON_MAX)
    consent_text: str | None = Field(None, max_length=CONSENT_TEXT_MAX, description="the wording agreed to")
    consent_version: str | None = Field(None, max_length=CONSENT_VERSION_MAX, description="its version")


class SubscriptionRootWire(BaseModel):
    subscription: list[SubscriptionItemWire] = Field(min_length=1)


class SubscriptionsBodyWire(BaseModel):
    root: SubscriptionRootWire


def envelope_items(body: Any) -> list[Any] | None:
    """The subscription items of a body, or None when it is not the envelope."""
    root = body.get("root") if isinstance(body, dict) else None
    items = root.get("subscription") if isinstance(root, dict) else None
    if isinstance(items, dict):
        return [items]  # a lone item as an object (XML with one element reads so too)
    return items if isinstance(items, list) and items else None


def _scalar(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if has_control(value):
        raise ValueError(f"{name} contains a NUL or control character")
    if len(value) > SCALAR_MAX:
        raise ValueError(f"{name} is longer than {SCALAR_MAX} characters")
    return value


def parse_item(raw: Any) -> V11Item | Failure:
    if not isinstance(raw, dict):
        return Failure(Codes.ITEM_INPUT_INVALID, "each subscription must be a JSON object")
    try:
        identifiers = tuple(
            (n, v) for n in IDENTIFIER_FIELDS if (v := _scalar(raw, n)) is not None and v.strip()
        )
        values = {n: _scalar(raw, n) for n in ("channel", "priority", "scope", "source", "accountId")}
    except ValueError as problem:
        return Failure(Codes.ITEM_INPUT_INVALID, str(problem))
    for name, limit in _TEXTS.items():
        problem_text = text_problem(raw.get(name), name, limit)
        if problem_text is not None:
            return Failure(Codes.ITEM_INPUT_INVALID, problem_text)
    evidence = Evidence(raw.get("reason"), raw.get("consent_text"), raw.get("consent_version"))
    item = ItemIn(
        channel=values["channel"],
        priority=values["priority"],
        subscribed=v11_status(raw.get("is_subscribed")),
        source=values["source"],
        account_id=values["accountId"],
        scope_ok=v11_scope_ok(values["scope"]),
        evidence=evidence,
    )
    return V11Item(identifiers, item)


def echo(raw: Any) -> dict[str, object]:
    if not isinstance(raw, dict):
        return {}
    return {
        k: raw[k] for k in ECHO_FIELDS if isinstance(raw.get(k), str | int) and not isinstance(raw[k], bool)
    }


def _item_status(code: Code, message: str) -> dict[str, Any]:
    ok = code.code == 1000
    text, detail = exact_message(code, message)
    status = {"success": "true" if ok else "false", "code": str(code.code), "message": text}
    return {**status, **({} if detail is None else {"detail": detail}), "warnings": {"warning": []}}


def _overall(oks: list[bool], failures: list[Failure]) -> Code:
    if all(oks):
        return Codes.ALL_SUCCEEDED
    if any(oks):
        return Codes.SOME_FAILED
    if all(f.code is Codes.ITEM_INPUT_INVALID for f in failures):
        return Codes.INPUT_INVALID
    return Codes.ALL_FAILED


def _envelope(
    items: list[dict[str, Any]], oks: list[bool], failures: list[Failure]
) -> tuple[int, dict[str, Any]]:
    code = _overall(oks, failures)
    body = {
        "response": {"status": status(code, len(oks), sum(oks)), "subscriptions": {"subscription": items}}
    }
    return code.code, body


def updated_envelope(outcomes: list[ItemOutcome], raws: list[Any]) -> tuple[int, dict[str, Any]]:
    items = []
    for outcome, raw in zip(outcomes, raws, strict=True):
        item: dict[str, Any] = echo(raw)
        if outcome.failure is not None:
            item["item_status"] = _item_status(outcome.failure.code, outcome.failure.message)
        else:
            assert outcome.customer is not None
            assert outcome.instruction is not None
            key = outcome.instruction.key
            item = {
                "user_id": outcome.customer.id,
                **{k: v for k, v in item.items() if k in IDENTIFIER_FIELDS},
            }
            item.update(
                channel=key.channel,
                priority=key.priority,
                scope="ALL",
                is_subscribed="1" if outcome.instruction.subscribed else "0",
                item_status=_item_status(Codes.SUBSCRIPTION_UPDATED, Codes.SUBSCRIPTION_UPDATED.message),
            )
            if key.source != "INSTORE" or key.account_id:
                item.update(source=key.source, accountId=key.account_id)
        items.append(item)
    failures = [o.failure for o in outcomes if o.failure is not None]
    return _envelope(items, [o.ok for o in outcomes], failures)


def _channels(
    states: States, account: tuple[str, str], channels: tuple[str, ...] | None, priorities: tuple[str, ...]
) -> list[dict[str, Any]]:
    return [
        {
            "name": channel,
            "priority": [
                {
                    "name": priority,
                    "subscribed": "ALL" if effective(state) else "",
                    "unsubscribed": "" if effective(state) else "ALL",
                    "user_preference": preference(state),
                }
                for priority, state in levels
            ],
        }
        for channel, levels in listed(states, *account, channels, priorities)
    ]


def retrieved_envelope(
    found: list[Found | Failure],
    asked: list[tuple[str, str]],
    account: tuple[str, str],
    channels: tuple[str, ...] | None,
    priorities: tuple[str, ...],
) -> tuple[int, dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for result, (name, value) in zip(found, asked, strict=True):
        if isinstance(result, Failure):
            items.append({name: value, "item_status": _item_status(result.code, result.message)})
            continue
        r = result.record
        items.append(
            {
                "user_id": r.id,
                "mobile": r.mobile,
                "email": r.email,
                "external_id": r.external_id,
                "channel": _channels(result.states, account, channels, priorities),
                "orgUnitSubscriptions": [],
                "item_status": _item_status(
                    Codes.SUBSCRIPTION_RETRIEVED, Codes.SUBSCRIPTION_RETRIEVED.message
                ),
            }
        )
    failures = [r for r in found if isinstance(r, Failure)]
    return _envelope(items, [not isinstance(r, Failure) for r in found], failures)


def customer_get_entries(states: States) -> list[dict[str, str]]:
    """customer/get's `subscriptions.subscription[]` for one customer (their INSTORE account)."""
    return [
        {"channel": channel, "priority": priority, "scope": "ALL", "status": "1" if effective(state) else "0"}
        for channel, levels in listed(states, "INSTORE", "")
        for priority, state in levels
    ]
