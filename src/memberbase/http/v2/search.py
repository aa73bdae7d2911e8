"""`GET /v2/customers/search?q=`: the wire shapes and the endpoint (v2/routes adds it first,
so `/customers/search` is not taken for a customer id)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import Response

from memberbase.domain.org_config import OrgConfig
from memberbase.domain.search import (
    ALL,
    COUNT_BEYOND,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_QUERY,
    MIN_QUERY,
    SearchHit,
    SearchPage,
    field_name,
    page_size,
    query_text,
)
from memberbase.http.deps import AppServices, CustomerReader
from memberbase.http.responses import JsonResponse
from memberbase.usecases.search_customers import search_customers


class SearchParams(BaseModel):
    """The query string. A bad one answers 400 with the v2 error body (code 400)."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(
        min_length=MIN_QUERY,
        max_length=MAX_QUERY,
        description="A prefix of a mobile, email, external id, card number or other v2 identifier,"
        " of 'first last' or of a last name; case-insensitive. White space is trimmed and runs"
        f" of it count as one space; at least {MIN_QUERY} characters remain. A mobile without"
        " its country code also finds it with each of the org's country codes in front.",
    )
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Matches to skip.")
    limit: int = Field(
        DEFAULT_LIMIT,
        ge=ALL,
        description=f"Page size, 1 to {MAX_LIMIT}; larger values and {ALL} ('all') serve {MAX_LIMIT}.",
    )

    @field_validator("q")
    @classmethod
    def _text(cls, value: str) -> str:
        return query_text(value)

    @field_validator("limit")
    @classmethod
    def _page(cls, value: int) -> int:
        return page_size(value)


class Pagination(BaseModel):
    limit: int
    offset: int
    total: int = Field(description="Customers matching; a lower bound when totalExact is false")
    totalExact: bool = Field(
        description=f"false when more matches exist than were counted (the page and {COUNT_BEYOND} beyond)"
    )


class SearchHitWire(BaseModel):
    userId: int
    firstName: str
    lastName: str
    mobile: str | None
    email: str | None
    externalId: str | None
    matchedField: str = Field(
        description="mobile, email, externalId, cardNumber, another v2 identifier type,"
        " name ('first last') or lastName"
    )
    matchedValue: str
    loyaltyType: str = Field(description="loyalty or non_loyalty")
    statusLabel: str | None
    customerStatus: str | None
    currentSlab: str | None = Field(description="The tier in the org's default programme, if enrolled")


class SearchResponse(BaseModel):
    pagination: Pagination
    data: list[SearchHitWire]
    warnings: list[Any]


def _hit(hit: SearchHit, org: OrgConfig, program_id: int | None) -> dict[str, Any]:
    status = org.status_label(hit.status_label) if hit.status_label else None
    place = None
    if program_id is not None and hit.tier_serial is not None:
        place = org.tier_places.get((program_id, hit.tier_serial))
    return {
        "userId": hit.customer_id,
        "firstName": hit.firstname,
        "lastName": hit.lastname,
        "mobile": hit.mobile,
        "email": hit.email,
        "externalId": hit.external_id,
        "matchedField": field_name(hit.matched_field),
        "matchedValue": hit.matched_value,
        "loyaltyType": hit.type.lower(),
        "statusLabel": hit.status_label,
        "customerStatus": status.status.value if status else None,
        "currentSlab": place[1].name if place else None,
    }


def search_body(page: SearchPage, params: SearchParams, org: OrgConfig) -> dict[str, Any]:
    program = org.default_program
    program_id = program.id if program else None
    return {
        "pagination": {
            "limit": params.limit,
            "offset": params.offset,
            "total": page.total,
            "totalExact": page.total_exact,
        },
        "data": [_hit(h, org, program_id) for h in page.hits],
        "warnings": [],
    }


async def search(
    params: Annotated[SearchParams, Query()], principal: CustomerReader, svc: AppServices
) -> Response:
    page = await search_customers(svc.engine, principal.org, params.q, params.offset, params.limit)
    return JsonResponse(search_body(page, params, principal.org))


def add_route(router: APIRouter) -> None:
    """The search on `router` itself: a router included in another keeps its own routes, whose
    path (rate limits and metrics name an API by it) would lack the outer prefix."""
    router.add_api_route(
        "/customers/search",
        search,
        methods=["GET"],
        summary="Customers whose identifiers or names start with q",
        response_model=None,
        responses={200: {"model": SearchResponse}},
    )
