"""Every route with another org's valid credentials: that org's view only, never this org's data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio

MOBILE = "919876620001"


@pytest.fixture
async def two_orgs(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, api: Api, org_spec: OrgSpec
) -> tuple[Api, OrgSpec, int]:
    mine = await api.add_one({"mobile": MOBILE, "firstname": "Mine"})
    other = OrgSpec(org_id=org_spec.org_id + 900_000, till=f"{org_spec.till}.xorg")
    await load_org(database_url, other)
    return api, other, int(mine["user_id"])


async def test_v1_1_get_from_another_org_finds_nothing(two_orgs: tuple[Api, OrgSpec, int]) -> None:
    api, other, uid = two_orgs
    for query in (f"mobile={MOBILE}", f"id={uid}"):
        response = await api.client.get(f"/v1.1/customer/get?{query}", headers=basic(other.till))
        assert response.json()["response"]["customers"]["customer"][0]["item_status"]["code"] == "1012"


async def test_v1_1_add_from_another_org_makes_that_orgs_own_customer(
    two_orgs: tuple[Api, OrgSpec, int],
) -> None:
    api, other, uid = two_orgs
    body = {"root": {"customer": [{"mobile": MOBILE, "firstname": "Theirs"}]}}
    theirs = (await api.client.post("/v1.1/customer/add", json=body, headers=basic(other.till))).json()
    item = theirs["response"]["customers"]["customer"][0]
    assert item["item_status"]["message"] == "Customer registration successful"
    assert item["user_id"] != uid
    mine = (await api.get(mobile=MOBILE)).json()["response"]["customers"]["customer"][0]
    assert mine["firstname"] == "Mine"


async def test_v2_add_from_another_org_never_merges_into_this_org(two_orgs: tuple[Api, OrgSpec, int]) -> None:
    api, other, uid = two_orgs
    body = {"profiles": [{"identifiers": [{"type": "mobile", "value": MOBILE}], "source": "ECOMMERCE"}]}
    response = await api.client.post("/v2/customers", json=body, headers=basic(other.till))
    assert response.status_code == 200
    assert response.json()["createdId"] != uid
    assert 8050 not in [w["code"] for w in response.json()["warnings"]]


@pytest.mark.parametrize(
    "path",
    [
        "/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=" + MOBILE,
        "/v2/customers/lookup/customerDetails?source=INSTORE&identifierName=mobile&identifierValue=" + MOBILE,
        "/v2/customers/{uid}",
    ],
)
async def test_v2_reads_from_another_org_find_nothing(two_orgs: tuple[Api, OrgSpec, int], path: str) -> None:
    api, other, uid = two_orgs
    response = await api.client.get(path.format(uid=uid), headers=basic(other.till))
    assert response.status_code == 400  # docs/decisions.md: v2 "not found" is 400 on every read
    assert response.json()["errors"][0]["code"] == 8015


async def test_extended_fields_from_another_org_are_that_orgs(two_orgs: tuple[Api, OrgSpec, int]) -> None:
    api, other, _ = two_orgs
    response = await api.client.get("/v2/extendedFields", headers=basic(other.till))
    assert response.status_code == 200


async def test_audits_from_another_org_are_empty(two_orgs: tuple[Api, OrgSpec, int]) -> None:
    api, other, uid = two_orgs
    path = f"/api_gateway/v2/audits?entityType=CUSTOMER&entityId={uid}"
    response = await api.client.get(path, headers=basic(other.till))
    assert response.json()["pagination"]["totalElements"] == 0
