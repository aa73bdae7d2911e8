"""Merge records and un-merge: GET /v2/merges/{id}, GET /v2/customers/{id}/merges,
POST /v2/merges/{id}/undo (memberbase's own: no hosted peer can undo a merge)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from memberbase.domain.codes import V2Codes
from memberbase.domain.org_config import OrgConfig
from memberbase.http.deps import AppServices, CustomerReader, CustomerWriter
from memberbase.http.errors import ApiError
from memberbase.http.idempotency import idempotent
from memberbase.http.responses import JsonResponse
from memberbase.http.v2.render import failure_body, iso, problem
from memberbase.http.v2.status import context_of, customer_id_of
from memberbase.usecases.export_customer import export_customer
from memberbase.usecases.idempotency import IdempotentWrite
from memberbase.usecases.merge_preview import Preview, preview_merge
from memberbase.usecases.read_merges import merge_record, merges_of
from memberbase.usecases.unmerge import Unmerged, undo_merge

router = APIRouter(prefix="/v2", tags=["v2 merges"])

MERGE_ID_MAX = 36


def merge_json(record: dict[str, Any], org: OrgConfig) -> dict[str, Any]:
    return {
        "id": record["id"],
        "survivorId": record["survivor_id"],
        "victimId": record["victim_id"],
        "reason": record["reason"],
        "createdBy": record["till_code"],
        "userContext": record["user_context"],
        "requestId": record["request_id"],
        "mergedOn": iso(record["occurred_at"], org),
        "undoneOn": iso(record["undone_at"], org),
        "moved": record["moved"],
    }


def _merge_id(text: str) -> str:
    if not (0 < len(text) <= MERGE_ID_MAX and all(ch.isalnum() or ch == "-" for ch in text)):
        raise ApiError(V2Codes.MERGE_NOT_FOUND, 404, f"{text[:40]!r} is not a merge id")
    return text


def preview_json(preview: Preview) -> dict[str, Any]:
    return {
        "mergeable": not preview.blockers,
        "blockers": [problem(b.code, b.message) for b in preview.blockers],
        "conflicts": preview.conflicts,
        "moves": preview.moved,
        "survivorAfter": preview.survivor_after,
        "warnings": [],
    }


class PreviewWire(BaseModel):
    survivorId: int
    victimId: int


@router.post("/merges/preview", summary="What merging victimId into survivorId would do; nothing is written")
async def preview(
    body: PreviewWire, request: Request, principal: CustomerReader, svc: AppServices
) -> Response:
    context = context_of(request, principal.till_code)
    found = await preview_merge(svc.engine, principal.org, body.survivorId, body.victimId, context)
    return JsonResponse(preview_json(found))


@router.get("/merges/{merge_id}", summary="A merge: who, when, why, and exactly what moved")
async def get_merge(merge_id: str, principal: CustomerReader, svc: AppServices) -> Response:
    record = await merge_record(svc.engine, principal.org, _merge_id(merge_id))
    if record is None:
        raise ApiError(V2Codes.MERGE_NOT_FOUND, 404, merge_id)
    return JsonResponse(merge_json(record, principal.org))


@router.get("/customers/{customer_id}/merges", summary="The merges a customer took part in, oldest first")
async def customer_merges(customer_id: str, principal: CustomerReader, svc: AppServices) -> Response:
    records = await merges_of(svc.engine, principal.org, customer_id_of(customer_id))
    return JsonResponse({"data": [merge_json(r, principal.org) for r in records], "warnings": []})


@router.get("/customers/{customer_id}/export", summary="Everything held about one customer (subject access)")
async def export(customer_id: str, principal: CustomerReader, svc: AppServices) -> Response:
    document = await export_customer(
        svc.engine, principal.org, customer_id_of(customer_id), dt.datetime.now(dt.UTC)
    )
    if document is None:
        raise ApiError(V2Codes.CUSTOMER_NOT_FOUND, 400, f"customer {customer_id}")
    return JsonResponse(document)


@router.post("/merges/{merge_id}/undo", summary="Un-merge: the victim comes back with what it brought")
async def undo(merge_id: str, request: Request, principal: CustomerWriter, svc: AppServices) -> Response:
    wanted = _merge_id(merge_id)
    context = context_of(request, principal.till_code)

    async def run(write: IdempotentWrite | None) -> Unmerged:
        return await undo_merge(
            svc.engine, principal.org, wanted, dataclasses.replace(context, idempotency=write)
        )

    def render(result: Unmerged) -> Response:
        if result.failure is not None:
            status = 404 if result.failure.code is V2Codes.MERGE_NOT_FOUND else 409
            body = failure_body(result.failure)
            if result.blockers:
                body["blockers"] = result.blockers
            return JsonResponse(body, status_code=status)
        return JsonResponse(
            {
                "mergeId": wanted,
                "survivorId": result.survivor_id,
                "victimId": result.victim_id,
                "warnings": [],
            }
        )

    return await idempotent(request, svc, principal.org.id, render, run)
