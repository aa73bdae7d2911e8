"""v1.1 subscriptions: POST and GET /v1.1/customer/subscriptions (JSON or XML).

Also `fill_customer_get`, which customer/get calls with `subscriptions=true` to show
each customer's states in its `subscriptions.subscription[]`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import Response

from memberbase.domain.codes import Code, Codes
from memberbase.domain.customer import Failure
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.subscriptions import (
    CHANNELS,
    PRIORITIES,
    canonical_channel,
    canonical_priority,
    source_account,
)
from memberbase.http.body import read_bounded, read_json
from memberbase.http.deps import AppServices, CustomerReader, CustomerWriter
from memberbase.http.downstream import downstream_of
from memberbase.http.errors import ApiError
from memberbase.http.idempotency import idempotent
from memberbase.http.openapi_body import JSON_AND_XML, request_body
from memberbase.http.request_context import request_id, user_context
from memberbase.http.responses import JsonResponse
from memberbase.http.v1_1.subscriptions_wire import (
    SubscriptionsBodyWire,
    customer_get_entries,
    envelope_items,
    parse_item,
    retrieved_envelope,
    updated_envelope,
)
from memberbase.http.v1_1.xml import XmlResponse, body_is_xml, parse_xml, wants_xml
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.idempotency import IdempotentWrite
from memberbase.usecases.read_subscriptions import IDENTIFIER_FIELDS, find_with_states, states_of
from memberbase.usecases.results import ItemResult
from memberbase.usecases.subscriptions import ItemOutcome, update_v11

router = APIRouter(prefix="/v1.1", tags=["v1.1"])
GET_LIMIT = 100


def _check_format(request: Request) -> None:
    wanted = request.query_params.get("format", "json").lower()
    if wanted not in ("json", "xml"):
        raise ApiError(
            Codes.INPUT_INVALID, 400, f"format={wanted} is not served; use format=json or format=xml"
        )


async def _read_body(request: Request, limit: int) -> Any:
    bare = not request.headers.get("content-type")
    if body_is_xml(request) or (bare and request.query_params.get("format", "").lower() == "xml"):
        try:
            return parse_xml(await read_bounded(request, limit))
        except ValueError as exc:
            raise ApiError(Codes.INPUT_INVALID, 400, f"malformed XML ({exc})") from exc
    return await read_json(request, limit)


def _answer(request: Request, payload: dict[str, Any], status_code: int) -> Response:
    if wants_xml(request):
        return XmlResponse(payload, status_code=status_code)
    return JsonResponse(payload, status_code=status_code)


@router.post(
    "/customer/subscriptions",
    summary="Opt customers in or out of a channel and priority (batch)",
    openapi_extra=request_body(SubscriptionsBodyWire, JSON_AND_XML),
)
async def update_subscriptions(request: Request, principal: CustomerWriter, svc: AppServices) -> Response:
    _check_format(request)
    raws = envelope_items(await _read_body(request, svc.settings.max_body_bytes))
    if raws is None:
        raise ApiError(
            Codes.INPUT_INVALID,
            400,
            'expected {"root": {"subscription": [ … ]}} with at least one subscription',
        )
    if len(raws) > svc.settings.batch_limit:
        raise ApiError(
            Codes.BATCH_LIMIT_EXCEEDED, 400, f"at most {svc.settings.batch_limit} subscriptions per request"
        )
    context = RequestContext(
        till_code=principal.till_code,
        request_id=request_id(request),
        now=dt.datetime.now(dt.UTC),
        user_context=user_context(request),
        downstream=downstream_of(request),
    )

    async def run(write: IdempotentWrite | None) -> list[ItemOutcome]:
        with_key = dataclasses.replace(context, idempotency=write)
        return await update_v11(
            svc.engine, principal.org, [parse_item(r) for r in raws], with_key, principal.api_client
        )

    def render(outcomes: list[ItemOutcome]) -> Response:
        http_status, payload = updated_envelope(outcomes, raws)
        return _answer(request, payload, http_status)

    return await idempotent(request, svc, principal.org.id, render, run)


def _filter(raw: str | None, canonical: Any, code: Code, known: tuple[str, ...]) -> tuple[str, ...] | None:
    if raw is None or not raw.strip():
        return None
    names = []
    for part in raw.split(","):
        name = canonical(part)
        if name is None:
            raise ApiError(code, 400, f"{part.strip()!r}; use one of {', '.join(known)}")
        names.append(name)
    return tuple(dict.fromkeys(names))


@router.get("/customer/subscriptions", summary="Customers' subscriptions by mobile, email, external_id or id")
async def get_subscriptions(
    request: Request,
    principal: CustomerReader,
    svc: AppServices,
    mobile: str | None = Query(None, description="comma-separated for several customers"),
    email: str | None = None,
    external_id: str | None = None,
    id: str | None = None,
    channel: str | None = Query(None, description="SMS, EMAIL, …; comma-separated for several"),
    priority: str | None = Query(None, description="TRANS or BULK"),
    scope: str | None = Query(None, description="ALL"),
    source: str | None = Query(None, description="source account to read (default INSTORE)"),
    accountId: str | None = None,
) -> Response:
    _check_format(request)
    given = {"mobile": mobile, "email": email, "external_id": external_id, "id": id}
    asked = [
        (name, v.strip()) for name in IDENTIFIER_FIELDS for v in (given[name] or "").split(",") if v.strip()
    ]
    if not asked:
        raise ApiError(Codes.SUBSCRIPTION_IDENTIFIER_INVALID, 400, "pass mobile, email, external_id or id")
    if len(asked) > GET_LIMIT:
        raise ApiError(Codes.BATCH_LIMIT_EXCEEDED, 400, f"at most {GET_LIMIT} customers per request")
    if scope is not None and scope.strip().upper() not in ("", "ALL"):
        raise ApiError(Codes.SUBSCRIPTION_SCOPE_INVALID, 400, f"{scope!r}; use ALL")
    channels = _filter(channel, canonical_channel, Codes.SUBSCRIPTION_CHANNEL_INVALID, CHANNELS)
    priorities = (
        _filter(priority, canonical_priority, Codes.SUBSCRIPTION_PRIORITY_INVALID, PRIORITIES) or PRIORITIES
    )
    account = source_account(source, accountId, principal.org)
    if isinstance(account, Failure):
        raise ApiError(account.code, 400, account.detail)
    found = await find_with_states(svc.engine, principal.org, asked)
    http_status, payload = retrieved_envelope(found, asked, account, channels, priorities)
    return _answer(request, payload, http_status)


async def fill_customer_get(
    engine: AsyncEngine, org: OrgConfig, results: list[ItemResult], payload: dict[str, Any]
) -> None:
    """customer/get with subscriptions=true: each found customer's states in its item."""
    ids = [r.customer.record.id for r in results if r.customer is not None]
    states = await states_of(engine, org, ids)
    for result, item in zip(results, payload["response"]["customers"]["customer"], strict=True):
        if result.customer is not None:
            item["subscriptions"] = {"subscription": customer_get_entries(states[result.customer.record.id])}
