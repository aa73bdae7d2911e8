"""The v1.1 customer API: customer/add, customer/update and customer/get."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from memberbase.auth.principal import Principal
from memberbase.domain.codes import Codes
from memberbase.domain.org_config import IdentifierType
from memberbase.http.body import body_format, parse_json, read_bounded, unsupported
from memberbase.http.deps import AppServices, CustomerReader, CustomerWriter
from memberbase.http.downstream import downstream_of
from memberbase.http.errors import ApiError
from memberbase.http.idempotency import idempotent
from memberbase.http.request_context import request_id, user_context
from memberbase.http.responses import JsonResponse
from memberbase.http.v1_1.parse import echo, envelope_items, parse_item, parse_update_item
from memberbase.http.v1_1.render import customers_envelope
from memberbase.http.v1_1.subscriptions import fill_customer_get
from memberbase.http.v1_1.xml import XmlResponse, parse_xml, wants_xml
from memberbase.observability import Metrics
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.get_customers import Lookup, get_customers
from memberbase.usecases.idempotency import IdempotentWrite
from memberbase.usecases.register_customers import register_customers
from memberbase.usecases.results import ItemResult
from memberbase.usecases.update_customers import update_customers

router = APIRouter(prefix="/v1.1", tags=["v1.1"])

GET_KEYS = {
    "mobile": IdentifierType.MOBILE,
    "email": IdentifierType.EMAIL,
    "external_id": IdentifierType.EXTERNAL_ID,
    "id": None,
}
GET_LIMIT = 100


def _check_format(request: Request) -> None:
    wanted = request.query_params.get("format", "json").lower()
    if wanted not in ("json", "xml"):
        raise ApiError(
            Codes.INPUT_INVALID, 400, f"format={wanted} is not served; use format=json or format=xml"
        )


async def _read_body(request: Request, limit: int) -> Any:
    """The envelope from a JSON or an XML body (by Content-Type; format=xml makes a bare body XML)."""
    content_type = request.headers.get("content-type")
    kind = body_format(content_type, xml=True)
    if kind is None:
        raise unsupported(content_type, xml=True)
    bare = not (content_type or "").strip()
    if kind == "xml" or (bare and request.query_params.get("format", "").lower() == "xml"):
        try:
            return parse_xml(await read_bounded(request, limit))
        except ValueError as exc:
            raise ApiError(Codes.INPUT_INVALID, 400, f"malformed XML ({exc})") from exc
    return await parse_json(request, limit)


def _answer(request: Request, payload: dict[str, Any], status_code: int) -> Response:
    if wants_xml(request):
        return XmlResponse(payload, status_code=status_code)
    return JsonResponse(payload, status_code=status_code)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


def _items(body: Any, limit: int) -> list[Any]:
    items = envelope_items(body)
    if items is None:
        raise ApiError(
            Codes.INPUT_INVALID, 400, 'expected {"root": {"customer": [ … ]}} with at least one customer'
        )
    if len(items) > limit:
        raise ApiError(Codes.BATCH_LIMIT_EXCEEDED, 400, f"at most {limit} customers per request")
    return items


def _context(request: Request, principal: Principal) -> RequestContext:
    return RequestContext(
        till_code=principal.till_code,
        request_id=request_id(request),
        now=dt.datetime.now(dt.UTC),
        user_context=user_context(request),
        downstream=downstream_of(request),
    )


def _record(request: Request, results: list[ItemResult], success: str) -> None:
    metrics: Metrics = request.app.state.metrics
    for result in results:
        if result.failure is not None:
            metrics.record("v1.1", "failed", [result.failure.code.code])
        else:
            outcome = "registered" if result.success is Codes.CUSTOMER_REGISTERED else success
            metrics.record("v1.1", outcome, [w.code.code for w in result.warnings])


@router.post("/customer/add", summary="Register or update customers (batch)")
async def add_customers(request: Request, principal: CustomerWriter, svc: AppServices) -> Response:
    _check_format(request)
    items = _items(await _read_body(request, svc.settings.max_body_bytes), svc.settings.batch_limit)
    context = _context(request, principal)

    async def run(write: IdempotentWrite | None) -> list[ItemResult]:
        drafts, echoes = [parse_item(i) for i in items], [echo(i) for i in items]
        with_key = dataclasses.replace(context, idempotency=write)
        results = await register_customers(svc.engine, principal.org, drafts, with_key, echoes)
        _record(request, results, "updated")
        return results

    def render(results: list[ItemResult]) -> Response:
        http_status, payload = customers_envelope(results, principal.org, downstream=context.downstream)
        return _answer(request, payload, http_status)

    return await idempotent(request, svc, principal.org.id, render, run)


async def update_customers_route(request: Request, principal: CustomerWriter, svc: AppServices) -> Response:
    _check_format(request)
    items = _items(await _read_body(request, svc.settings.max_body_bytes), svc.settings.batch_limit)
    context = _context(request, principal)

    async def run(write: IdempotentWrite | None) -> list[ItemResult]:
        drafts, echoes = [parse_update_item(i) for i in items], [echo(i) for i in items]
        with_key = dataclasses.replace(context, idempotency=write)
        results = await update_customers(svc.engine, principal.org, drafts, with_key, echoes)
        _record(request, results, "updated")
        return results

    def render(results: list[ItemResult]) -> Response:
        http_status, payload = customers_envelope(results, principal.org, downstream=context.downstream)
        return _answer(request, payload, http_status)

    return await idempotent(request, svc, principal.org.id, render, run)


# PUT as the hosted OpenAPI file lists it, POST as its API index does: one endpoint, two operations.
for _method in ("POST", "PUT"):
    router.add_api_route(
        "/customer/update",
        update_customers_route,
        methods=[_method],
        summary="Update customers that exist (batch)",
        operation_id=f"update_customers_{_method.lower()}",
    )


@router.get("/customer/get", summary="Fetch customers by mobile, email, external_id or id")
async def get_customer(request: Request, principal: CustomerReader, svc: AppServices) -> Response:
    _check_format(request)
    lookups = [
        Lookup(kind, value.strip())
        for key, kind in GET_KEYS.items()
        for value in request.query_params.get(key, "").split(",")
        if value.strip()
    ]
    if not lookups:
        raise ApiError(Codes.INPUT_INVALID, 400, "pass mobile, email, external_id or id")
    if len(lookups) > GET_LIMIT:
        raise ApiError(Codes.BATCH_LIMIT_EXCEEDED, 400, f"at most {GET_LIMIT} customers per request")
    results = await get_customers(svc.engine, principal.org, lookups)
    http_status, payload = customers_envelope(
        results, principal.org, for_get=True, user_id=_flag(request, "user_id")
    )
    if _flag(request, "subscriptions"):
        await fill_customer_get(svc.engine, principal.org, results, payload)
    return _answer(request, payload, http_status)
