"""GET /api_gateway/v2/audits: a customer's trail, filtered and paged, user context on request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio

CONTEXT = {
    "USER-CONTEXT-ENTITY-TYPE": "Admin",
    "USER-CONTEXT-ENTITY-ID": "42",
    "USER-CONTEXT-ENTITY-SOURCE": "API",
}


async def audits(api: Api, **params: str) -> httpx.Response:
    return await api.client.get("/api_gateway/v2/audits", params=params, headers=api.auth)


async def registered_and_updated(api: Api) -> int:
    first = await api.add_one(
        {
            "mobile": "919876570001",
            "firstname": "Ann",
            "custom_fields": {"field": [{"name": "City_name", "value": "Pune"}]},
        },
        headers=CONTEXT,
    )
    await api.add_one({"mobile": "919876570001", "firstname": "Anna", "email": "ann@example.com"})
    customer_id: int = first["user_id"]
    return customer_id


async def test_the_trail_lists_registration_and_update_newest_first(api: Api) -> None:
    customer_id = await registered_and_updated(api)
    response = await audits(api, entityType="CUSTOMER", entityId=str(customer_id))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pagination"] == {"totalElements": 2, "totalPages": 1, "numberOfElements": 2, "number": 0}
    updated, registered = body["data"]
    assert (updated["action"], registered["action"]) == ("customer.updated", "customer.registered")
    assert registered["till"] == api.spec.till
    assert registered["orgId"] == api.spec.org_id
    assert isinstance(registered["createdOn"], int)
    assert registered["userContextDetails"] is None  # only with includeUserContext=true
    events = {(e["eventType"], e["updatedField"]): e["additionalFields"] for e in updated["events"]}
    assert events[("StandardField", "firstname")] == {"previousValue": "Ann", "currentValue": "Anna"}
    assert events[("Identifiers", "email")] == {"previousValue": "NA", "currentValue": "ann@example.com"}
    first_events = {(e["eventType"], e["updatedField"]) for e in registered["events"]}
    assert {("Identifiers", "mobile"), ("CustomField", "City_name")} <= first_events


async def test_user_context_is_shown_only_when_asked(api: Api) -> None:
    customer_id = await registered_and_updated(api)
    body = (
        await audits(api, entityType="CUSTOMER", entityId=str(customer_id), includeUserContext="true")
    ).json()
    registered = body["data"][-1]
    assert registered["userContextDetails"] == {
        "entityType": "Admin",
        "entityId": "42",
        "entitySource": "API",
    }
    assert body["data"][0]["userContextDetails"] is None  # the update sent none


async def test_reference_type_filters_events_and_rows(api: Api) -> None:
    customer_id = await registered_and_updated(api)
    body = (
        await audits(api, entityType="CUSTOMER", entityId=str(customer_id), referenceType="CustomField")
    ).json()
    assert body["pagination"]["totalElements"] == 1
    assert [e["updatedField"] for e in body["data"][0]["events"]] == ["City_name"]


async def test_paging_and_ascending_order(api: Api) -> None:
    customer_id = await registered_and_updated(api)
    body = (
        await audits(
            api, entityType="CUSTOMER", entityId=str(customer_id), limit="1", pageNo="1", sortOrder="ASC"
        )
    ).json()
    assert body["pagination"] == {"totalElements": 2, "totalPages": 2, "numberOfElements": 1, "number": 1}
    assert body["data"][0]["action"] == "customer.updated"


async def test_date_range_is_read_in_the_org_time_zone(api: Api) -> None:
    customer_id = await registered_and_updated(api)
    past = await audits(api, entityType="CUSTOMER", entityId=str(customer_id), endDate="2000-01-01 00:00:00")
    assert past.json()["pagination"]["totalElements"] == 0
    since = await audits(
        api, entityType="CUSTOMER", entityId=str(customer_id), startDate="2000-01-01 00:00:00"
    )
    assert since.json()["pagination"]["totalElements"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"entityType": "CUSTOMER"},
        {"entityType": "ORDER", "entityId": "1"},
        {"entityType": "CUSTOMER", "entityId": "1", "limit": "0"},
        {"entityType": "CUSTOMER", "entityId": "1", "limit": "many"},
        {"entityType": "CUSTOMER", "entityId": "1", "referenceType": "Shoe"},
        {"entityType": "CUSTOMER", "entityId": "1", "startDate": "yesterday"},
        {"entityType": "CUSTOMER", "entityId": "1", "sortOrder": "sideways"},
    ],
)
async def test_bad_queries_get_a_clear_400(api: Api, params: dict[str, str]) -> None:
    response = await audits(api, **params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 400


async def test_another_orgs_trail_is_invisible_and_credentials_are_required(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, api: Api, org_spec: OrgSpec
) -> None:
    customer_id = await registered_and_updated(api)
    other = OrgSpec(org_id=org_spec.org_id + 800_000, till=f"{org_spec.till}.audit")
    await load_org(database_url, other)
    client = app_client[1]
    path = f"/api_gateway/v2/audits?entityType=CUSTOMER&entityId={customer_id}"
    theirs = await client.get(path, headers=basic(other.till))
    assert theirs.json()["pagination"]["totalElements"] == 0
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=basic(org_spec.till, "wrong"))).status_code == 401


@pytest.mark.parametrize(("source", "flagged"), [("API", False), ("member_care", False), ("MY_KIOSK", True)])
async def test_a_non_standard_entity_source_is_kept_and_flagged(api: Api, source: str, flagged: bool) -> None:
    """Seed 000, USER-CONTEXT-ENTITY-SOURCE: "The standard values for this field are: API,
    IMPORT, CONNECT_PLUS, MEMBER_CARE, REQUEST_WORKFLOW" (more on request). Any value is
    kept; one outside the list is flagged so reports can tell it apart."""
    headers = {**api.auth, "USER-CONTEXT-ENTITY-SOURCE": source}
    added = await api.client.post(
        "/v1.1/customer/add", json={"root": {"customer": [{"mobile": "919876541700"}]}}, headers=headers
    )
    customer_id = added.json()["response"]["customers"]["customer"][0]["user_id"]
    body = (
        await audits(api, entityType="CUSTOMER", entityId=str(customer_id), includeUserContext="true")
    ).json()
    context = body["data"][-1]["userContextDetails"]
    assert context["entitySource"] == source
    assert ("entitySourceNonStandard" in context) is flagged
