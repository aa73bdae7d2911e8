"""POST /v2/customers/{id}/changeIdentifier (companion-apis.md §c): add, remove, cards, merges."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import V2_SEED_ORG, Api, OrgSpec, load_org

pytestmark = pytest.mark.anyio


@pytest.fixture
async def v2(app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec) -> Api:
    org_spec.overrides = {
        **V2_SEED_ORG,
        "sources": [{"source": "INSTORE"}, {"source": "WECHAT", "accounts": ["WX1"]}],
    }
    await load_org(database_url, org_spec)
    return Api(app_client[1], org_spec)


async def register(api: Api, *identifiers: tuple[str, str], source: str = "INSTORE", **profile: Any) -> int:
    body = {
        "profiles": [
            {"source": source, "identifiers": [{"type": t, "value": v} for t, v in identifiers], **profile}
        ]
    }
    response = await api.v2_add(body)
    assert response.status_code == 200, response.text
    return int(response.json()["createdId"])


async def change(api: Api, customer_id: int, body: Any, **params: str) -> httpx.Response:
    return await api.client.post(
        f"/v2/customers/{customer_id}/changeIdentifier",
        params={"source": "INSTORE", **params},
        json=body,
        headers=api.auth,
    )


async def lookup(api: Api, name: str, value: str, source: str = "INSTORE", **more: str) -> httpx.Response:
    return await api.v2_get(
        "/v2/customers/lookup", source=source, identifierName=name, identifierValue=value, **more
    )


async def test_add_and_remove_identifiers(v2: Api) -> None:
    customer_id = await register(v2, ("mobile", "919876560001"))
    added = await change(v2, customer_id, {"add": [{"type": "email", "value": "Two@Example.com"}]})
    assert added.status_code == 200, added.text
    assert added.json() == {"createdId": customer_id, "warnings": []}
    assert (await lookup(v2, "email", "two@example.com")).json()["entity"] == customer_id
    removed = await change(v2, customer_id, {"remove": [{"type": "email", "value": "two@example.com"}]})
    assert removed.status_code == 200, removed.text
    assert (await lookup(v2, "email", "two@example.com")).status_code != 200
    details = (await v2.v2_get(f"/v2/customers/{customer_id}")).json()
    assert "two@example.com" not in str(details["profiles"])


async def test_an_identifier_already_held_warns_8071(v2: Api) -> None:
    customer_id = await register(v2, ("mobile", "919876560002"))
    again = await change(v2, customer_id, {"add": [{"type": "mobile", "value": "919876560002"}]})
    assert [w["code"] for w in again.json()["warnings"]] == [8071]


async def test_link_and_delink_a_card(v2: Api) -> None:
    customer_id = await register(v2, ("mobile", "919876560003"))
    card = {"type": "cardnumber", "value": "12345678", "seriesId": 73, "statusLabel": "ACTIVE"}
    linked = await change(v2, customer_id, {"add": [card]})
    assert linked.status_code == 200, linked.text
    assert (await lookup(v2, "cardnumber", "12345678")).json()["entity"] == customer_id
    generated = await change(
        v2, customer_id, {"add": [{"type": "cardnumber", "seriesId": 74, "statusLabel": "ACTIVE"}]}
    )
    assert generated.status_code == 200, generated.text
    delinked = await change(v2, customer_id, {"remove": [{"type": "cardnumber", "value": "12345678"}]})
    assert delinked.status_code == 200, delinked.text
    details = (await v2.v2_get(f"/v2/customers/{customer_id}")).json()
    assert "12345678" not in str(details)
    await change(v2, customer_id, {"add": [{**card, "value": "87654321"}]})
    other = await register(v2, ("mobile", "919876560004"))
    taken = await change(v2, other, {"add": [{**card, "value": "87654321"}]})
    assert taken.status_code == 400
    assert taken.json()["errors"][0]["code"] == 8303


async def test_an_identifier_held_in_another_source_merges_the_changed_customer_into_its_holder(
    v2: Api,
) -> None:
    survivor = await register(v2, ("mobile", "919876560005"), firstName="Held")
    victim = await register(v2, ("wechat", "wx-victim"), source="WECHAT", accountId="WX1", firstName="Chat")
    response = await change(
        v2, victim, {"add": [{"type": "mobile", "value": "919876560005"}]}, source="WECHAT", accountId="WX1"
    )
    assert response.status_code == 200, response.text
    assert response.json()["createdId"] == survivor
    assert 8051 in [w["code"] for w in response.json()["warnings"]]
    # Both source accounts are the survivor's now; the victim's id reads as the survivor (8069).
    assert (await lookup(v2, "wechat", "wx-victim", source="WECHAT", accountId="WX1")).json()[
        "entity"
    ] == survivor
    read = await v2.v2_get(f"/v2/customers/{victim}")
    assert read.json()["id"] == survivor
    assert 8069 in [w["code"] for w in read.json().get("warnings", [])]


async def test_same_source_holder_is_8007(v2: Api) -> None:
    await register(v2, ("mobile", "919876560006"))
    other = await register(v2, ("mobile", "919876560007"))
    response = await change(v2, other, {"add": [{"type": "mobile", "value": "919876560006"}]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 8007


async def test_bad_requests(v2: Api) -> None:
    customer_id = await register(v2, ("mobile", "919876560008"))
    empty = await change(v2, customer_id, {})
    assert empty.json()["errors"][0]["code"] == 8070
    last = await change(v2, customer_id, {"remove": [{"type": "mobile", "value": "919876560008"}]})
    assert last.json()["errors"][0]["code"] == 8070
    not_mine = await change(v2, customer_id, {"remove": [{"type": "email", "value": "x@example.com"}]})
    assert not_mine.json()["errors"][0]["code"] == 8013
    missing = await change(v2, 999999999, {"add": [{"type": "email", "value": "y@example.com"}]})
    assert missing.status_code == 400
    wrong_account = await change(
        v2,
        customer_id,
        {"add": [{"type": "email", "value": "z@example.com"}]},
        source="WECHAT",
        accountId="WX1",
    )
    assert wrong_account.json()["errors"][0]["code"] == 8065
    no_label = await change(
        v2, customer_id, {"add": [{"type": "cardnumber", "value": "12345679", "seriesId": 999}]}
    )
    assert no_label.status_code == 400
    assert (await change(v2, customer_id, [1, 2])).status_code == 400


async def test_change_identifier_needs_credentials(app_client: tuple[Any, httpx.AsyncClient]) -> None:
    assert (await app_client[1].post("/v2/customers/1/changeIdentifier", json={})).status_code == 401
