"""v2 status labels: change a customer's label (by lookup, or by id) and read its status log."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer_status import CustomerStatus
from memberbase.domain.org_config import OrgConfig
from memberbase.http.body import read_json
from memberbase.http.deps import AppServices, CustomerReader, CustomerWriter
from memberbase.http.downstream import downstream_of
from memberbase.http.errors import ApiError
from memberbase.http.idempotency import idempotent
from memberbase.http.request_context import request_id, user_context
from memberbase.http.responses import JsonResponse
from memberbase.http.v2.render import failure_body, iso
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.change_status import StatusChanged, change_status, status_log
from memberbase.usecases.idempotency import IdempotentWrite
from memberbase.usecases.read_customers import LookupQuery, lookup

router = APIRouter(prefix="/v2", tags=["v2 status"])


class StatusWire(BaseModel):
    """The body of a status change (companion-apis.md §d)."""

    model_config = ConfigDict(extra="ignore")

    reason: str = Field(description="why; required, at most 500 characters")
    label: str = Field(description="one of the org's customer status labels")
    createdOn: dt.datetime | None = Field(None, description="when the change took effect (default: now)")


_BODY = {"requestBody": {"content": {"application/json": {"schema": StatusWire.model_json_schema()}}}}


def customer_id_of(text: str, *, missing: int = 400) -> int:
    """The customer id of a path; v2 answers an unknown customer 400 with 8015 (see decisions)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise ApiError(V2Codes.CUSTOMER_NOT_FOUND, missing, f"{text!r} is not a customer id")
    return int(text)


def context_of(request: Request, till_code: str) -> RequestContext:
    return RequestContext(
        till_code=till_code,
        request_id=request_id(request),
        now=dt.datetime.now(dt.UTC),
        user_context=user_context(request),
        downstream=downstream_of(request),
    )


async def _body(request: Request, limit: int) -> StatusWire:
    raw = await read_json(request, limit)
    try:
        return StatusWire.model_validate(raw)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ApiError(V2Codes.INPUT_INVALID, 400, detail) from exc


def _render(result: StatusChanged) -> Response:
    if result.failure is not None:
        return JsonResponse(failure_body(result.failure), status_code=400)
    return JsonResponse({"createdId": result.customer_id, "warnings": []})


async def _change(request: Request, principal: Any, svc: Any, customer_id: int, body: StatusWire) -> Response:
    context = context_of(request, principal.till_code)
    created = body.createdOn
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=principal.org.zone)

    async def run(write: IdempotentWrite | None) -> StatusChanged:
        with_key = dataclasses.replace(context, idempotency=write)
        return await change_status(
            svc.engine, principal.org, customer_id, body.label, body.reason, with_key, created
        )

    return await idempotent(request, svc, principal.org.id, _render, run)


@router.put(
    "/customers/lookup/status",
    summary="Change the status label of the customer holding an identifier",
    openapi_extra=_BODY,
)
async def change_status_by_lookup(request: Request, principal: CustomerWriter, svc: AppServices) -> Response:
    body = await _body(request, svc.settings.max_body_bytes)
    q = request.query_params
    query = LookupQuery(
        q.get("source"), q.get("accountId"), q.get("identifierName"), q.get("identifierValue")
    )
    found = await lookup(svc.engine, principal.org, query)
    if not isinstance(found, int):
        return JsonResponse(failure_body(found), status_code=400)
    return await _change(request, principal, svc, found, body)


@router.put(
    "/customers/{customer_id}/status", summary="Change a customer's status label", openapi_extra=_BODY
)
async def change_status_by_id(
    customer_id: str, request: Request, principal: CustomerWriter, svc: AppServices
) -> Response:
    wanted = customer_id_of(customer_id)
    body = await _body(request, svc.settings.max_body_bytes)
    return await _change(request, principal, svc, wanted, body)


def _entry_json(entry: Any, customer_id: int, newest: bool, org: OrgConfig) -> dict[str, Any]:
    return {
        "createdByUser": entry.created_by,
        "reason": entry.reason,
        "createdBy": entry.created_by,
        "actions": [],
        "autoUpdateTime": entry.created_on.astimezone(org.zone).date().isoformat(),
        "createdOn": entry.created_on.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "entityId": customer_id,
        "isActive": newest,
        "label": entry.label,
        "status": CustomerStatus(entry.status).name,
        "localCreatedOn": iso(entry.created_on, org),
    }


@router.get("/customers/{customer_id}/statusLog", summary="A customer's status labels, newest first")
async def get_status_log(customer_id: str, principal: CustomerReader, svc: AppServices) -> Response:
    wanted = customer_id_of(customer_id, missing=404)  # the status log page lists 404
    entries = await status_log(svc.engine, principal.org, wanted)
    if not entries:
        raise ApiError(V2Codes.CUSTOMER_NOT_FOUND, 404, f"customer {customer_id} or its status log")
    data = [_entry_json(e, wanted, i == 0, principal.org) for i, e in enumerate(entries)]
    return JsonResponse({"data": data, "warnings": [], "errors": []})
