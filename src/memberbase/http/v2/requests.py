"""/v2/requests: customer merge requests — create (or preview), approve or reject, read."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import Failure
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.requests import DELETE, read_delete_request, read_merge_request, request_kind
from memberbase.http.body import read_json
from memberbase.http.deps import AppServices, CustomerReader, CustomerWriter
from memberbase.http.errors import ApiError
from memberbase.http.idempotency import idempotent
from memberbase.http.responses import JsonResponse
from memberbase.http.v2.merges import preview_json
from memberbase.http.v2.render import failure_body, iso, problem
from memberbase.http.v2.status import context_of
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.idempotency import IdempotentWrite
from memberbase.usecases.merge_preview import preview_merge
from memberbase.usecases.merge_requests import (
    RequestOutcome,
    create_delete_request,
    create_merge_request,
    decide_request,
    get_request,
)

router = APIRouter(prefix="/v2", tags=["v2 requests"])

BATCH_MAX = 10  # the hosted API's 1060 limit for request updates


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


@router.post("/requests", summary="Request a merge of a victim into a survivor (preview=true: a dry run)")
async def create_request(request: Request, principal: CustomerWriter, svc: AppServices) -> Response:
    body = await read_json(request, svc.settings.max_body_bytes)
    kind = request_kind(body)
    if isinstance(kind, Failure):
        return JsonResponse(failure_body(kind), status_code=400)
    context = context_of(request, principal.till_code)
    if kind == DELETE:
        return await _create_deletion(request, principal, svc, body, context)
    asked = read_merge_request(body)
    if isinstance(asked, Failure):
        return JsonResponse(failure_body(asked), status_code=400)
    if _flag(request, "preview"):
        preview = await preview_merge(svc.engine, principal.org, asked.survivor_id, asked.victim_id, context)
        return JsonResponse(preview_json(preview))
    auto = _flag(request, "client_auto_approve") or principal.org.merges.auto_approve

    async def run(write: IdempotentWrite | None) -> RequestOutcome:
        with_key = dataclasses.replace(context, idempotency=write)
        return await create_merge_request(svc.engine, principal.org, asked, with_key, auto)

    def render(result: RequestOutcome) -> Response:
        if result.failure is not None:
            return JsonResponse(failure_body(result.failure), status_code=400)
        return JsonResponse({"createdId": result.request_id, "status": result.status, "warnings": []})

    return await idempotent(request, svc, principal.org.id, render, run)


async def _create_deletion(
    request: Request,
    principal: CustomerWriter,
    svc: AppServices,
    body: dict[str, Any],
    context: RequestContext,
) -> Response:
    asked = read_delete_request(body)
    if isinstance(asked, Failure):
        return JsonResponse(failure_body(asked), status_code=400)
    auto = _flag(request, "client_auto_approve")

    async def run(write: IdempotentWrite | None) -> RequestOutcome:
        with_key = dataclasses.replace(context, idempotency=write)
        return await create_delete_request(svc.engine, principal.org, asked, with_key, auto)

    return await idempotent(request, svc, principal.org.id, _created, run)


def _created(result: RequestOutcome) -> Response:
    if result.failure is not None:
        return JsonResponse(failure_body(result.failure), status_code=400)
    return JsonResponse({"createdId": result.request_id, "status": result.status, "warnings": []})


def _item_json(result: RequestOutcome, asked_id: Any) -> dict[str, Any]:
    if result.failure is not None:
        return {
            "entityId": asked_id,
            "result": False,
            "warnings": [],
            "errors": [problem(result.failure.code, result.failure.message)],
        }
    return {
        "entityId": result.request_id,
        "result": True,
        "status": result.status,
        "mergeId": result.merge_id,
        "warnings": [],
    }


@router.put("/requests", summary="Approve or reject requests (a JSON array, at most 10)")
async def update_requests(request: Request, principal: CustomerWriter, svc: AppServices) -> Response:
    body = await read_json(request, svc.settings.max_body_bytes)
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > BATCH_MAX or not all(isinstance(i, dict) for i in items):
        raise ApiError(
            V2Codes.INPUT_INVALID, 400, f"send 1 to {BATCH_MAX} request updates as a JSON array of objects"
        )
    context = context_of(request, principal.till_code)
    answers = []
    for item in items:
        asked_id = item.get("id")
        kind = request_kind(item)
        if isinstance(kind, Failure):
            answers.append(_item_json(RequestOutcome(failure=kind), asked_id))
            continue
        if not (isinstance(asked_id, int) and not isinstance(asked_id, bool)) and not (
            isinstance(asked_id, str) and asked_id.isdigit() and len(asked_id) <= 18
        ):
            answers.append(
                _item_json(
                    RequestOutcome(failure=Failure(V2Codes.REQUEST_NOT_FOUND, f"{asked_id!r}")), asked_id
                )
            )
            continue
        comments = item.get("comments") if isinstance(item.get("comments"), str) else None
        result = await decide_request(
            svc.engine, principal.org, int(asked_id), item.get("status"), comments, context
        )
        answers.append(_item_json(result, asked_id))
    failed = sum(not a["result"] for a in answers)
    return JsonResponse({"response": answers, "totalCount": len(answers), "failureCount": failed})


def request_json(row: dict[str, Any], org: OrgConfig) -> dict[str, Any]:
    details = row["details"]
    deletion = (row["type"], row["base_type"]) == DELETE

    def who(code: str | None) -> dict[str, Any] | None:
        return None if code is None else {"code": code, "name": code, "type": "TILL"}

    change = (
        {}
        if deletion
        else {
            "userId": row["user_id"],
            "requestId": row["id"],
            "changeType": row["base_type"],
            "changeStatus": row["status"],
            "changeIdentifiers": {
                "add": [{"type": "id", "value": str(details["survivorId"])}],
                "remove": [{"type": "id", "value": str(details["victimId"])}],
            },
        }
    )
    return {
        "type": row["type"],
        "baseType": row["base_type"],
        "status": row["status"],
        "attribution": {
            "createDate": iso(row["created_at"], org),
            "createdBy": who(row["created_by"]),
            "modifiedBy": who(row["modified_by"]),
            "modifiedDate": iso(row["modified_at"], org),
        },
        "id": row["id"],
        "orgId": org.id,
        "addedOn": iso(row["created_at"], org),
        "userId": row["user_id"],
        "comments": row["comments"],
        **(
            {"customerDeletionDetails": {**details, "scheduledFor": iso(row["scheduled_for"], org)}}
            if deletion
            else {"changeIdentifierRequest": change}
        ),
        "outcome": row["outcome"],
        "warnings": [],
    }


@router.get("/requests/{request_id}", summary="A request and its state")
async def read_request(request_id: str, principal: CustomerReader, svc: AppServices) -> Response:
    if not (request_id.isascii() and request_id.isdigit() and len(request_id) <= 18):
        raise ApiError(V2Codes.REQUEST_NOT_FOUND, 404, f"{request_id[:40]!r}")
    row = await get_request(svc.engine, principal.org, int(request_id))
    if row is None:
        raise ApiError(V2Codes.REQUEST_NOT_FOUND, 404, f"request {request_id}")
    return JsonResponse(request_json(row, principal.org))
