"""v2 PUT /v2/customers/{id} and PUT /v2/customers/lookup: change a customer's profile.

Reads of a customer carry `ETag: "<version>"`; a PUT with `If-Match` changes the customer
only while it still has one of the versions named (else 412 and nothing written), so two
agents editing one customer cannot silently overwrite each other.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from memberbase.domain.codes import V2Codes
from memberbase.http.body import read_json
from memberbase.http.deps import AppServices, CustomerWriter
from memberbase.http.errors import ApiError
from memberbase.http.idempotency import idempotent
from memberbase.http.responses import JsonResponse
from memberbase.http.v2.render import failure_body, warnings
from memberbase.http.v2.schemas import CustomerWire, to_draft
from memberbase.http.v2.side_effects import side_effects_json
from memberbase.http.v2.status import context_of, customer_id_of
from memberbase.usecases.idempotency import IdempotentWrite
from memberbase.usecases.read_customers import LookupQuery, lookup
from memberbase.usecases.update_v2 import V2Updated, update_v2

router = APIRouter(prefix="/v2", tags=["v2 updates"])

_BODY = {"requestBody": {"content": {"application/json": {"schema": CustomerWire.model_json_schema()}}}}
_STATUS = {V2Codes.VERSION_MISMATCH: 412}


def etag(version: int) -> str:
    return f'"{version}"'


def if_match(request: Request) -> set[int] | None:
    """The versions an If-Match header names; None without one (or with `*`)."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        text = tag.strip().removeprefix("W/").strip('"')
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            raise ApiError(
                V2Codes.VERSION_MISMATCH, 412, f"If-Match {tag.strip()!r} is no version of this API"
            )
        versions.add(int(text))
    return versions


async def _wire(request: Request, limit: int) -> CustomerWire:
    body = await read_json(request, limit)
    if not isinstance(body, dict):
        raise ApiError(V2Codes.INPUT_INVALID, 400, "the body must be a JSON object")
    try:
        return CustomerWire.model_validate(body)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ApiError(V2Codes.INPUT_INVALID, 400, detail) from exc


async def _update(
    request: Request, principal: CustomerWriter, svc: AppServices, customer_id: int
) -> Response:
    wire = await _wire(request, svc.settings.max_body_bytes)
    params = request.query_params
    query = (params.get("source"), params.get("accountId"))
    draft = to_draft(wire, *query)
    context = context_of(request, principal.till_code)
    versions = if_match(request)

    async def run(write: IdempotentWrite | None) -> V2Updated:
        with_key = dataclasses.replace(context, idempotency=write)
        return await update_v2(svc.engine, principal.org, customer_id, draft, query, with_key, versions)

    def render(result: V2Updated) -> Response:
        if result.failure is not None:
            status = _STATUS.get(result.failure.code, 400)
            return JsonResponse(failure_body(result.failure), status_code=status)
        report = context.downstream.report and not context.downstream.skip
        use_async = params.get("use_async", "").lower() == "true"
        payload = {
            "createdId": result.created_id,
            "warnings": warnings(result.warnings),
            "sideEffects": side_effects_json(result.effects, context.downstream.raw)
            if report and not use_async
            else [],
        }
        assert result.version is not None
        return JsonResponse(payload, headers={"ETag": etag(result.version)})

    return await idempotent(request, svc, principal.org.id, render, run)


@router.put("/customers/lookup", summary="Update the customer holding an identifier", openapi_extra=_BODY)
async def update_by_lookup(request: Request, principal: CustomerWriter, svc: AppServices) -> Response:
    q = request.query_params
    query = LookupQuery(
        q.get("source"), q.get("accountId"), q.get("identifierName"), q.get("identifierValue")
    )
    found = await lookup(svc.engine, principal.org, query)
    if not isinstance(found, int):
        return JsonResponse(failure_body(found), status_code=400)
    return await _update(request, principal, svc, found)


@router.put("/customers/{customer_id}", summary="Update a customer's profile", openapi_extra=_BODY)
async def update_by_id(
    customer_id: str, request: Request, principal: CustomerWriter, svc: AppServices
) -> Response:
    return await _update(request, principal, svc, customer_id_of(customer_id))
