"""POST /v2/customers/{id}/changeIdentifier: add and remove identifiers, link and de-link cards."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from memberbase.domain.codes import V2Codes
from memberbase.domain.v2_request import IdentifierIn
from memberbase.http.body import read_json
from memberbase.http.deps import AppServices, CustomerWriter
from memberbase.http.errors import ApiError
from memberbase.http.idempotency import idempotent
from memberbase.http.responses import JsonResponse
from memberbase.http.v2.render import failure_body, warnings
from memberbase.http.v2.schemas import IdentifierWire
from memberbase.http.v2.status import context_of, customer_id_of
from memberbase.usecases.change_identifiers import IdentifiersChanged, change_identifiers
from memberbase.usecases.idempotency import IdempotentWrite

router = APIRouter(prefix="/v2", tags=["v2 identifiers"])

CHANGES_MAX = 20  # identifiers one call may add and remove together


class ChangeIdentifierWire(BaseModel):
    """Identifiers to add (cards with seriesId and statusLabel) and to remove (companion-apis.md §c)."""

    model_config = ConfigDict(extra="ignore")

    add: list[IdentifierWire] = Field(default_factory=list, max_length=CHANGES_MAX)
    remove: list[IdentifierWire] = Field(default_factory=list, max_length=CHANGES_MAX)


_BODY = {
    "requestBody": {"content": {"application/json": {"schema": ChangeIdentifierWire.model_json_schema()}}}
}


def _items(wires: list[IdentifierWire]) -> list[IdentifierIn]:
    return [
        IdentifierIn(
            type=i.type,
            value=i.value,
            series_id=i.series_id,
            series_code=i.series_code,
            status_label=i.status_label,
            extended_fields=i.extended_fields,
            custom_fields=i.custom_fields,
        )
        for i in wires
    ]


async def change_identifier(
    customer_id: str, request: Request, principal: CustomerWriter, svc: AppServices
) -> Response:
    wanted = customer_id_of(customer_id)
    body = await read_json(request, svc.settings.max_body_bytes)
    try:
        wire = ChangeIdentifierWire.model_validate(body)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ApiError(V2Codes.INPUT_INVALID, 400, detail) from exc
    params = request.query_params
    context = context_of(request, principal.till_code)

    async def run(write: IdempotentWrite | None) -> IdentifiersChanged:
        return await change_identifiers(
            svc.engine,
            principal.org,
            wanted,
            params.get("source"),
            params.get("accountId"),
            _items(wire.add),
            _items(wire.remove),
            dataclasses.replace(context, idempotency=write),
        )

    def render(result: IdentifiersChanged) -> Response:
        if result.failure is not None:
            return JsonResponse(failure_body(result.failure), status_code=400)
        return JsonResponse({"createdId": result.created_id, "warnings": warnings(result.warnings)})

    return await idempotent(request, svc, principal.org.id, render, run)


# POST as the page's sample sends, PUT as the API index lists it: one endpoint, two operations.
for _method in ("POST", "PUT"):
    router.add_api_route(
        "/customers/{customer_id}/changeIdentifier",
        change_identifier,
        methods=[_method],
        summary="Add or remove a customer's identifiers; link or de-link cards",
        operation_id=f"change_identifier_{_method.lower()}",
        openapi_extra=_BODY,
    )
