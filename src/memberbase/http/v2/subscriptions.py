"""v2 subscriptions: change (POST or PUT) and read a customer's, by id or by lookup; the consent log."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from memberbase.auth.principal import Principal
from memberbase.domain.codes import V2Codes
from memberbase.http.body import read_json
from memberbase.http.deps import AppServices, CustomerReader, CustomerWriter, Services
from memberbase.http.downstream import downstream_of
from memberbase.http.errors import ApiError
from memberbase.http.idempotency import idempotent
from memberbase.http.openapi_body import request_body
from memberbase.http.request_context import request_id, user_context
from memberbase.http.responses import JsonResponse
from memberbase.http.v2.render import error_body, failure_body, problem
from memberbase.http.v2.subscriptions_wire import (
    SubscriptionsRequestWire,
    echo_body,
    item_problems,
    items_of,
    log_json,
    states_json,
)
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.idempotency import IdempotentWrite
from memberbase.usecases.read_customers import LookupQuery, lookup
from memberbase.usecases.read_subscriptions import consent_log, customer_states
from memberbase.usecases.subscriptions import V2Outcome, update_v2

router = APIRouter(prefix="/v2", tags=["v2"])
_BODY = request_body(SubscriptionsRequestWire)


def _customer_id(user_id: str) -> int:
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 18):
        raise ApiError(V2Codes.SUBSCRIPTION_CUSTOMER_NOT_FOUND, 404, f"{user_id!r} is not a customer id")
    return int(user_id)


def lookup_query(
    source: str | None = Query(None, description="INSTORE, FACEBOOK, …"),
    accountId: str | None = Query(None, description="the source account (not for INSTORE)"),
    identifierName: str | None = Query(None, description="mobile, email, externalId, cardnumber, …"),
    identifierValue: str | None = None,
) -> LookupQuery:
    return LookupQuery(source, accountId, identifierName, identifierValue)


Lookup = Annotated[LookupQuery, Depends(lookup_query)]


async def _looked_up(query: LookupQuery, principal: Principal, svc: Services) -> int | Response:
    found = await lookup(svc.engine, principal.org, query)
    return found if isinstance(found, int) else JsonResponse(failure_body(found), status_code=400)


async def _change(request: Request, principal: Principal, svc: Services, customer_id: int) -> Response:
    raw = await read_json(request, svc.settings.max_body_bytes)
    if not isinstance(raw, dict):
        raise ApiError(V2Codes.INPUT_INVALID, 400, "the body must be a JSON object with subscriptions")
    try:
        wire = SubscriptionsRequestWire.model_validate(raw)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ApiError(V2Codes.INPUT_INVALID, 400, detail) from exc
    if len(wire.subscriptions) > svc.settings.batch_limit:
        raise ApiError(
            V2Codes.INPUT_INVALID, 400, f"at most {svc.settings.batch_limit} subscriptions per request"
        )
    context = RequestContext(
        till_code=principal.till_code,
        request_id=request_id(request),
        now=dt.datetime.now(dt.UTC),
        user_context=user_context(request),
        downstream=downstream_of(request),
    )

    async def run(write: IdempotentWrite | None) -> V2Outcome:
        with_key = dataclasses.replace(context, idempotency=write)
        return await update_v2(
            svc.engine, principal.org, customer_id, items_of(wire), with_key, principal.api_client
        )

    def render(outcome: V2Outcome) -> Response:
        if outcome.failure is not None:
            return JsonResponse(failure_body(outcome.failure), status_code=404)
        if outcome.all_failed:
            errors = [problem(V2Codes.ALL_SUBSCRIPTIONS_FAILED, V2Codes.ALL_SUBSCRIPTIONS_FAILED.message)]
            return JsonResponse(
                {"warnings": [], "errors": errors + item_problems(outcome.items)}, status_code=400
            )
        return JsonResponse(echo_body(raw, outcome.items))

    return await idempotent(request, svc, principal.org.id, render, run)


async def _states(principal: Principal, svc: Services, customer_id: int) -> Response:
    states = await customer_states(svc.engine, principal.org, customer_id)
    if states is None:
        return _not_found(customer_id)
    return JsonResponse({"userId": customer_id, "subscriptions": states_json(states), "warnings": []})


def _not_found(customer_id: int) -> Response:
    code = V2Codes.SUBSCRIPTION_CUSTOMER_NOT_FOUND
    return JsonResponse(error_body(code, f"{code.message}: customer {customer_id}"), status_code=404)


# The lookup routes come first: /customers/lookup/subscriptions must not read "lookup" as a userId.
async def change_by_lookup(
    request: Request, query: Lookup, principal: CustomerWriter, svc: AppServices
) -> Response:
    found = await _looked_up(query, principal, svc)
    return found if isinstance(found, Response) else await _change(request, principal, svc, found)


async def change_subscriptions(
    userId: str, request: Request, principal: CustomerWriter, svc: AppServices
) -> Response:
    return await _change(request, principal, svc, _customer_id(userId))


# PUT as the API index says, POST as the page's sample sends: one endpoint, two operations.
for _method in ("PUT", "POST"):
    router.add_api_route(
        "/customers/lookup/subscriptions",
        change_by_lookup,
        methods=[_method],
        summary="Opt the customer holding an identifier in or out",
        operation_id=f"change_subscriptions_by_lookup_{_method.lower()}",
        openapi_extra=_BODY,
    )


@router.get(
    "/customers/lookup/subscriptions", summary="The subscriptions of the customer holding an identifier"
)
async def read_by_lookup(query: Lookup, principal: CustomerReader, svc: AppServices) -> Response:
    found = await _looked_up(query, principal, svc)
    return found if isinstance(found, Response) else await _states(principal, svc, found)


for _method in ("PUT", "POST"):
    router.add_api_route(
        "/customers/{userId}/subscriptions",
        change_subscriptions,
        methods=[_method],
        summary="Opt a customer in or out of channels and priorities",
        operation_id=f"change_subscriptions_{_method.lower()}",
        openapi_extra=_BODY,
    )


@router.get("/customers/{userId}/subscriptions", summary="A customer's subscriptions (the states they set)")
async def read_subscriptions(userId: str, principal: CustomerReader, svc: AppServices) -> Response:
    return await _states(principal, svc, _customer_id(userId))


@router.get(
    "/customers/{userId}/subscriptions/log",
    summary="A customer's consent log: every subscription instruction with its evidence, oldest first",
)
async def read_consent_log(userId: str, principal: CustomerReader, svc: AppServices) -> Response:
    customer_id = _customer_id(userId)
    entries = await consent_log(svc.engine, principal.org, customer_id)
    if entries is None:
        return _not_found(customer_id)
    data: list[dict[str, Any]] = [log_json(e, principal.org) for e in entries]
    return JsonResponse({"data": data, "warnings": [], "errors": []})
