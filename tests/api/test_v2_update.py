"""PUT /v2/customers/{id} and PUT /v2/customers/lookup (companion-apis.md §b), with ETag and If-Match."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from tests.support import V2_SEED_ORG, Api, OrgSpec, load_org

pytestmark = pytest.mark.anyio


@pytest.fixture
async def v2(app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec) -> Api:
    org_spec.overrides = dict(V2_SEED_ORG)
    await load_org(database_url, org_spec)
    return Api(app_client[1], org_spec)


async def register(api: Api, mobile: str, **extra: Any) -> int:
    body = {
        "profiles": [
            {
                "firstName": "Mark",
                "lastName": "Twain",
                "source": "INSTORE",
                "identifiers": [{"type": "mobile", "value": mobile}],
                "fields": {"City_name": "Hannibal"},
            }
        ],
        **extra,
    }
    response = await api.v2_add(body)
    assert response.status_code == 200, response.text
    return int(response.json()["createdId"])


async def put(
    api: Api, path: str, body: Any, headers: dict[str, str] | None = None, **params: str
) -> httpx.Response:
    return await api.client.put(path, json=body, params=params, headers={**api.auth, **(headers or {})})


def profile(**values: Any) -> dict[str, Any]:
    return {"profiles": [{"source": "INSTORE", **values}]}


async def test_put_by_id_changes_names_fields_and_extended_fields(v2: Api) -> None:
    customer_id = await register(v2, "919876550001")
    body = {**profile(firstName="Samuel", fields={"pincode": "63401"}), "extendedFields": {"gender": "Male"}}
    response = await put(v2, f"/v2/customers/{customer_id}", body, source="INSTORE")
    assert response.status_code == 200, response.text
    assert response.json()["createdId"] == customer_id
    assert response.json()["warnings"] == []
    details = (await v2.v2_get(f"/v2/customers/{customer_id}")).json()
    first = details["profiles"][0]
    assert (first["firstName"], first["lastName"]) == ("Samuel", "Twain")
    assert first["fields"] == {"City_name": "Hannibal", "pincode": "63401"}
    assert "Male" in str(details["extendedFields"])


async def test_put_by_lookup_addresses_the_holder(v2: Api) -> None:
    customer_id = await register(v2, "919876550002")
    response = await put(
        v2,
        "/v2/customers/lookup",
        profile(lastName="Clemens"),
        source="INSTORE",
        identifierName="mobile",
        identifierValue="919876550002",
    )
    assert response.status_code == 200, response.text
    assert response.json()["createdId"] == customer_id
    details = (await v2.v2_get(f"/v2/customers/{customer_id}")).json()
    assert details["profiles"][0]["lastName"] == "Clemens"


async def test_identifiers_cannot_change_here(v2: Api) -> None:
    customer_id = await register(v2, "919876550003")
    body = profile(identifiers=[{"type": "email", "value": "new@example.com"}])
    response = await put(v2, f"/v2/customers/{customer_id}", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 8312
    held = profile(identifiers=[{"type": "mobile", "value": "+91 98765 50003"}], firstName="Same")
    assert (await put(v2, f"/v2/customers/{customer_id}", held)).status_code == 200


async def test_a_source_account_the_customer_lacks_is_8065(v2: Api) -> None:
    customer_id = await register(v2, "919876550004")
    body = {"profiles": [{"source": "WECHAT", "accountId": "WECHAT-1", "firstName": "X"}]}
    response = await put(v2, f"/v2/customers/{customer_id}", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] in (8065, 3217)


async def test_loyalty_type_goes_one_way(v2: Api) -> None:
    customer_id = await register(v2, "919876550005", loyaltyInfo={"loyaltyType": "non_loyalty"})
    up = await put(v2, f"/v2/customers/{customer_id}", {"loyaltyInfo": {"loyaltyType": "loyalty"}})
    assert up.status_code == 200, up.text
    details = (await v2.v2_get(f"/v2/customers/{customer_id}")).json()
    assert details["loyaltyInfo"]["loyaltyType"] == "loyalty"
    down = await put(v2, f"/v2/customers/{customer_id}", {"loyaltyInfo": {"loyaltyType": "non_loyalty"}})
    assert down.json()["errors"][0]["code"] == 8018


async def test_bad_extended_field_and_unknown_customer(v2: Api) -> None:
    customer_id = await register(v2, "919876550006")
    bad = await put(v2, f"/v2/customers/{customer_id}", {"extendedFields": {"not_enabled": "x"}})
    assert bad.json()["errors"][0]["code"] == 8305
    missing = await put(v2, "/v2/customers/999999999", profile(firstName="Ghost"))
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["code"] == 8015
    assert (await put(v2, "/v2/customers/1", "not an object")).status_code == 400


async def test_etag_and_if_match_refuse_a_stale_write(v2: Api) -> None:
    customer_id = await register(v2, "919876550007")
    read = await v2.v2_get(f"/v2/customers/{customer_id}")
    tag = read.headers["ETag"]
    first = await put(v2, f"/v2/customers/{customer_id}", profile(firstName="One"), headers={"If-Match": tag})
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] != tag
    stale = await put(v2, f"/v2/customers/{customer_id}", profile(firstName="Two"), headers={"If-Match": tag})
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["code"] == 8311
    details = (await v2.v2_get(f"/v2/customers/{customer_id}")).json()
    assert details["profiles"][0]["firstName"] == "One"
    fresh = await put(
        v2,
        f"/v2/customers/{customer_id}",
        profile(firstName="Two"),
        headers={"If-Match": first.headers["ETag"]},
    )
    assert fresh.status_code == 200


async def test_concurrent_puts_with_one_etag_let_exactly_one_win(v2: Api) -> None:
    customer_id = await register(v2, "919876550008")
    tag = (await v2.v2_get(f"/v2/customers/{customer_id}")).headers["ETag"]
    statuses: list[int] = []

    async def edit(n: int) -> None:
        response = await put(
            v2, f"/v2/customers/{customer_id}", profile(firstName=f"Agent{n}"), headers={"If-Match": tag}
        )
        statuses.append(response.status_code)

    async with anyio.create_task_group() as tg:
        for n in range(10):
            tg.start_soon(edit, n)
    assert sorted(statuses) == [200] + [412] * 9


async def test_put_needs_credentials(app_client: tuple[Any, httpx.AsyncClient]) -> None:
    assert (await app_client[1].put("/v2/customers/1", json={})).status_code == 401
    assert (await app_client[1].put("/v2/customers/lookup", json={})).status_code == 401
