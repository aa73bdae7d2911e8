"""The v2 customers API: registration, lookups, details, extended fields."""

from __future__ import annotations

import dataclasses
import datetime as dt

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import Warning_
from memberbase.domain.org_config import OrgConfig
from memberbase.http.body import read_json
from memberbase.http.deps import AppServices, CustomerReader, CustomerWriter
from memberbase.http.downstream import downstream_of
from memberbase.http.errors import ApiError
from memberbase.http.idempotency import idempotent
from memberbase.http.request_context import request_id, user_context
from memberbase.http.responses import JsonResponse
from memberbase.http.v2 import search
from memberbase.http.v2.render import customer_body, extended_fields_body, failure_body, warnings
from memberbase.http.v2.schemas import CustomerWire, to_draft
from memberbase.http.v2.side_effects import side_effects_json
from memberbase.observability import Metrics
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.idempotency import IdempotentWrite
from memberbase.usecases.read_customers import CustomerDetails, LookupQuery, details, lookup
from memberbase.usecases.register_v2 import V2Result, register_v2

router = APIRouter(prefix="/v2", tags=["v2"])
# First: `/customers/{customer_id}` below would take /customers/search for an id.
search.add_route(router)


def _validation_detail(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


@router.post("/customers", summary="Register a customer, or add a source account to one")
async def add_customer(request: Request, principal: CustomerWriter, svc: AppServices) -> Response:
    body = await read_json(request, svc.settings.max_body_bytes)
    if not isinstance(body, dict):
        raise ApiError(V2Codes.INPUT_INVALID, 400, "the body must be a JSON object with profiles")
    try:
        wire = CustomerWire.model_validate(body)
    except ValidationError as exc:
        raise ApiError(V2Codes.INPUT_INVALID, 400, _validation_detail(exc)) from exc
    params = request.query_params
    draft = to_draft(wire, params.get("source"), params.get("accountId"))
    context = RequestContext(
        till_code=principal.till_code,
        request_id=request_id(request),
        now=dt.datetime.now(dt.UTC),
        user_context=user_context(request),
        downstream=downstream_of(request),
    )

    async def run(write: IdempotentWrite | None) -> V2Result:
        result = await register_v2(
            svc.engine, principal.org, draft, dataclasses.replace(context, idempotency=write)
        )
        metrics: Metrics = request.app.state.metrics
        if result.failure is not None:
            metrics.record("v2", "failed", [result.failure.code.code])
        else:
            merged = any(w.code is V2Codes.MERGED_ACROSS_SOURCES for w in result.warnings)
            metrics.record("v2", "merged" if merged else "registered", [w.code.code for w in result.warnings])
        return result

    def render(result: V2Result) -> Response:
        if result.failure is not None:
            return JsonResponse(failure_body(result.failure), status_code=400)
        downstream = context.downstream
        payload = {
            "createdId": result.created_id,
            "warnings": warnings(result.warnings),
            "sideEffects": side_effects_json(result.effects, downstream.raw)
            if downstream.report and not downstream.skip
            else [],
        }
        return JsonResponse(payload)

    return await idempotent(request, svc, principal.org.id, render, run)


def _lookup_query(request: Request) -> LookupQuery:
    q = request.query_params
    return LookupQuery(q.get("source"), q.get("accountId"), q.get("identifierName"), q.get("identifierValue"))


@router.get("/customers/lookup", summary="The id of the customer holding an identifier")
async def lookup_customer(request: Request, principal: CustomerReader, svc: AppServices) -> Response:
    found = await lookup(svc.engine, principal.org, _lookup_query(request))
    if not isinstance(found, int):
        return JsonResponse(failure_body(found), status_code=400)
    return JsonResponse({"entity": found, "warnings": []})


@router.get("/customers/lookup/customerDetails", summary="The customer holding an identifier, in full")
async def lookup_details(request: Request, principal: CustomerReader, svc: AppServices) -> Response:
    found = await lookup(svc.engine, principal.org, _lookup_query(request))
    if not isinstance(found, int):
        return JsonResponse(failure_body(found), status_code=400)
    customer = await details(svc.engine, principal.org, found)
    if customer is None:  # removed between the two reads
        raise ApiError(V2Codes.CUSTOMER_NOT_FOUND, 400)
    return _details_answer(customer, principal.org)


@router.get("/customers/{customer_id}", summary="A customer by id, in full")
async def get_customer(customer_id: str, principal: CustomerReader, svc: AppServices) -> Response:
    # Not found is 400, as the hosted page's error table has it ("400 Bad Request ... for
    # invalid identifiers") and as the lookups answer it; 404 is for a path that is no resource.
    if not (customer_id.isascii() and customer_id.isdigit() and len(customer_id) <= 18):
        raise ApiError(V2Codes.CUSTOMER_NOT_FOUND, 400, f"{customer_id!r} is not a customer id")
    customer = await details(svc.engine, principal.org, int(customer_id))
    if customer is None:
        raise ApiError(V2Codes.CUSTOMER_NOT_FOUND, 400, f"customer {customer_id}")
    return _details_answer(customer, principal.org)


def _details_answer(customer: CustomerDetails, org: OrgConfig) -> Response:
    """The customer in full, its version as the ETag a PUT's If-Match names."""
    if customer.record.erased_at is not None:
        raise ApiError(V2Codes.CUSTOMER_ERASED, 400, f"customer {customer.record.id}")
    body = customer_body(customer, org)
    if customer.merged_from is not None:  # read by a merge's victim id: the survivor answers
        body["warnings"] = [*body.get("warnings", []), *warnings([Warning_(V2Codes.MERGED_CUSTOMER_FOUND)])]
    return JsonResponse(body, headers={"ETag": f'"{customer.record.version}"'})


@router.get("/extendedFields", summary="The organisation's enabled customer extended fields")
async def extended_fields(principal: CustomerReader) -> Response:
    return JsonResponse(extended_fields_body(principal.org))
