"""GET /v1.1/customer/get: by identifier or id, lists, not found, one org only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, basic, item_code, load_org

pytestmark = pytest.mark.anyio


def items(response: httpx.Response) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = response.json()["response"]["customers"]["customer"]
    return found


async def test_get_by_each_identifier_and_id(api: Api) -> None:
    added = await api.add_one(
        {"mobile": "919876520001", "email": "get@example.com", "external_id": "G-1", "firstname": "Get"}
    )
    uid = str(added["user_id"])
    for key, value in [
        ("mobile", "919876520001"),
        ("email", "GET@example.com"),
        ("external_id", "G-1"),
        ("id", uid),
    ]:
        response = await api.get(**{key: value})
        assert response.status_code == 200, (key, response.text)
        item = items(response)[0]
        assert item["firstname"] == "Get"
        assert "user_id" not in item
        assert item["item_status"] == {
            "success": "true",
            "code": "1000",
            "message": "Customer successfully retrieved",
            "warnings": {"warning": []},
        }


async def test_user_id_is_included_when_asked(api: Api) -> None:
    added = await api.add_one({"mobile": "919876520002"})
    item = items(await api.get(mobile="919876520002", user_id="true"))[0]
    assert item["user_id"] == added["user_id"]


async def test_get_returns_what_registration_stored(api: Api) -> None:
    await api.add_one(
        {
            "mobile": "919876520003",
            "source": "WECHAT",
            "accountId": "wx-1",
            "commChannels": [{"type": "mobile", "value": "919876520003", "primary": "true"}],
            "associated_with": api.spec.till,
            "fraud_status": {"status": "OUTLIER"},
        }
    )
    item = items(await api.get(mobile="919876520003"))[0]
    assert item["source"] == "wechat"
    assert item["accountId"] == "wx-1"
    assert item["commChannels"] == [{"type": "mobile", "value": "919876520003", "primary": "true"}]
    assert item["registered_till"] == {"code": api.spec.till, "name": api.spec.till}
    assert item["registered_store"]["code"] == f"Store of {api.spec.till}"
    assert item["associated_with"] == api.spec.till
    assert item["fraud_status"] == "OUTLIER"
    assert "side_effects" not in item


async def test_comma_separated_lists_fetch_several_and_report_the_missing(api: Api) -> None:
    await api.add_one({"external_id": "L-1"})
    await api.add_one({"external_id": "L-2"})
    response = await api.get(external_id="L-1,L-404,L-2")
    assert response.status_code == 201
    found = items(response)
    assert [item_code(i) for i in found] == ["1000", "1012", "1000"]
    assert found[1]["external_id"] == "L-404"
    assert found[1]["item_status"]["success"] == "false"


async def test_nothing_found_answers_500_all_failed(api: Api) -> None:
    response = await api.get(mobile="919876520404")
    assert response.status_code == 500
    assert item_code(items(response)[0]) == "1012"


async def test_get_without_any_key_answers_400(api: Api) -> None:
    response = await api.client.get("/v1.1/customer/get", headers=api.auth)
    assert response.status_code == 400


async def test_non_numeric_or_huge_id_is_not_found(api: Api) -> None:
    response = await api.get(id="abc,99999999999999999999999")
    assert [item_code(i) for i in items(response)] == ["1012", "1012"]


async def test_another_orgs_customers_are_invisible(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, api: Api, org_spec: OrgSpec
) -> None:
    added = await api.add_one({"mobile": "919876520005", "email": "iso@example.com"})
    other = OrgSpec(org_id=org_spec.org_id + 500_000, till=f"{org_spec.till}.other")
    await load_org(database_url, other)
    other_api = Api(app_client[1], other)
    for key, value in [
        ("mobile", "919876520005"),
        ("email", "iso@example.com"),
        ("id", str(added["user_id"])),
    ]:
        assert item_code(items(await other_api.get(**{key: value}))[0]) == "1012"
    # The same mobile is a different, new customer in the other org.
    theirs = await other_api.add_one({"mobile": "919876520005"})
    assert theirs["item_status"]["message"] == "Customer registration successful"
    assert theirs["user_id"] != added["user_id"]
    assert (
        await app_client[1].get("/v1.1/customer/get?mobile=919876520005", headers=basic(other.till))
    ).status_code == 200
