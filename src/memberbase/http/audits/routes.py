"""GET /api_gateway/v2/audits: a customer's audit trail, in the hosted audit API's shape."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from memberbase.domain.audit_events import REFERENCE_TYPES
from memberbase.domain.codes import V2Codes
from memberbase.domain.org_config import OrgConfig
from memberbase.http.deps import AppServices, CustomerReader
from memberbase.http.errors import ApiError
from memberbase.http.responses import JsonResponse
from memberbase.usecases.read_audits import AuditPage, AuditQuery, read_audits

router = APIRouter(prefix="/api_gateway/v2", tags=["audit"])

LIMIT_MAX = 100
_TIME = "%Y-%m-%d %H:%M:%S"


def _bad(detail: str) -> ApiError:
    return ApiError(V2Codes.INPUT_INVALID, 400, detail)


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise _bad(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _time(request: Request, name: str, org: OrgConfig) -> dt.datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        local = dt.datetime.strptime(raw, _TIME)
    except ValueError as exc:
        raise _bad(f"{name} must be YYYY-MM-DD HH:MM:SS (in the organisation's time zone)") from exc
    return local.replace(tzinfo=org.zone).astimezone(dt.UTC)


def _query(request: Request, org: OrgConfig) -> AuditQuery:
    params = request.query_params
    entity_type = params.get("entityType")
    if entity_type is None:
        raise _bad("entityType is required (CUSTOMER)")
    if entity_type.upper() != "CUSTOMER":
        raise _bad(f"entityType {entity_type!r} is not audited; use CUSTOMER")
    entity_id = params.get("entityId", "")
    if not (entity_id.isascii() and entity_id.isdigit() and len(entity_id) <= 18):
        raise _bad("entityId is required: the customer id")
    reference_type = params.get("referenceType")
    if reference_type is not None and reference_type not in REFERENCE_TYPES:
        raise _bad(f"referenceType must be one of {', '.join(REFERENCE_TYPES)}")
    order = params.get("sortOrder", "DESC").upper()
    if order not in ("ASC", "DESC"):
        raise _bad("sortOrder must be ASC or DESC")
    if params.get("sortBy", "autoUpdateTime") != "autoUpdateTime":
        raise _bad("sortBy must be autoUpdateTime")
    return AuditQuery(
        customer_id=int(entity_id),
        limit=_int(request, "limit", 10, 1, LIMIT_MAX),
        page=_int(request, "pageNo", 0, 0, 1_000_000),
        newest_first=order == "DESC",
        since=_time(request, "startDate", org),
        until=_time(request, "endDate", org),
        event_type=REFERENCE_TYPES[reference_type] if reference_type else None,
        reference_value=params.get("referenceValue") or None,
    )


def _render(page: AuditPage, query: AuditQuery, org: OrgConfig, with_context: bool) -> dict[str, Any]:
    data = []
    for record in page.records:
        e = record.entry
        till = org.till(e.till_code)
        millis = int(e.occurred_at.timestamp() * 1000)
        data.append(
            {
                "updatedByUser": e.till_code,
                "updatedBy": e.till_code,
                "orgId": org.id,
                "entityType": "CUSTOMER",
                "entityId": e.customer_id,
                "createdOn": millis,
                "requestId": e.request_id,
                "till": e.till_code,
                "store": till.store if till else "",
                "userContextDetails": e.user_context if with_context and e.user_context else None,
                "victimUserDetails": None,
                "survivorUserDetails": None,
                "source": "API",
                "updatedByMode": "API",
                "autoUpdateTime": millis,
                "action": e.action,
                "events": [
                    {
                        "eventType": ev.event_type,
                        "updatedField": ev.field,
                        "additionalFields": {"previousValue": ev.previous, "currentValue": ev.current},
                        "associateEntities": [],
                    }
                    for ev in record.events
                ],
            }
        )
    pagination = {
        "totalElements": page.total,
        "totalPages": math.ceil(page.total / query.limit),
        "numberOfElements": len(data),
        "number": query.page,
    }
    return {"data": data, "pagination": pagination}


@router.get("/audits", summary="A customer's audit trail: who changed what, when, from which till")
async def audits(request: Request, principal: CustomerReader, svc: AppServices) -> Response:
    query = _query(request, principal.org)
    page = await read_audits(svc.engine, principal.org.id, query)
    with_context = request.query_params.get("includeUserContext", "").lower() == "true"
    return JsonResponse(_render(page, query, principal.org, with_context))
