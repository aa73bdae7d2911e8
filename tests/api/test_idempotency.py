"""Idempotency-Key on writes: a retry replays the first answer and runs nothing again."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, item_code, load_org

pytestmark = pytest.mark.anyio


def key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": name}


async def test_a_retried_registration_replays_its_answer_and_registers_once(api: Api) -> None:
    first = await api.add({"mobile": "919876530001", "firstname": "Once"}, headers=key("till-7-0001"))
    again = await api.add({"mobile": "919876530001", "firstname": "Once"}, headers=key("till-7-0001"))
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    item = first.json()["response"]["customers"]["customer"][0]
    assert item["item_status"]["message"] == "Customer registration successful"
    # Without the key the same body is an update: the replay really did not run again.
    plain = await api.add_one({"mobile": "919876530001", "firstname": "Once"})
    assert plain["item_status"]["message"] == "Customer successfully updated"


async def test_the_same_key_with_another_body_is_refused(api: Api) -> None:
    await api.add({"mobile": "919876530002"}, headers=key("k-reused"))
    other = await api.add({"mobile": "919876530003"}, headers=key("k-reused"))
    assert other.status_code == 422
    assert other.json()["response"]["status"]["code"] == 4222
    found = (await api.get(mobile="919876530003")).json()["response"]["customers"]["customer"][0]
    assert item_code(found) == "1012"


async def test_a_key_that_is_not_visible_ascii_is_refused(api: Api) -> None:
    response = await api.add({"mobile": "919876530004"}, headers=key("x" * 256))
    assert response.status_code == 400
    assert response.json()["response"]["status"]["code"] == 4221


async def test_keys_belong_to_one_org(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec, api: Api
) -> None:
    other_spec = OrgSpec(org_id=org_spec.org_id + 500_000, till=f"{org_spec.till}-other")
    await load_org(database_url, other_spec)
    other = Api(app_client[1], other_spec)
    mine = await api.add({"mobile": "919876530005"}, headers=key("shared-key"))
    theirs = await other.add({"mobile": "919876530006"}, headers=key("shared-key"))
    assert mine.status_code == theirs.status_code == 200
    assert "Idempotent-Replayed" not in theirs.headers


async def test_v2_registration_replays(api: Api) -> None:
    body = {"profiles": [{"firstName": "Vee", "identifiers": [{"type": "mobile", "value": "919876530007"}]}]}
    first = await api.v2_add(body, headers=key("v2-once"), source="INSTORE")
    again = await api.v2_add(body, headers=key("v2-once"), source="INSTORE")
    assert first.status_code == 200, first.text
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = await api.v2_add(
        {**body, "extendedFields": {"gender": "Male"}}, headers=key("v2-once"), source="INSTORE"
    )
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["code"] == 8422


async def test_a_retried_update_is_applied_once(api: Api) -> None:
    await api.add_one({"mobile": "919876530008", "firstname": "A"})
    first = await api.update({"mobile": "919876530008", "firstname": "B"}, headers=key("upd-1"))
    await api.update_one({"mobile": "919876530008", "firstname": "C"})
    again = await api.update({"mobile": "919876530008", "firstname": "B"}, headers=key("upd-1"))
    assert again.content == first.content
    got = (await api.get(mobile="919876530008")).json()["response"]["customers"]["customer"][0]
    assert got["firstname"] == "C"  # the replay did not write B again


async def test_a_refused_write_is_not_kept(api: Api) -> None:
    refused = await api.update({"mobile": "919876530009", "firstname": "X"}, headers=key("upd-refused"))
    assert refused.status_code == 500  # 1012: nothing written, nothing kept
    await api.add_one({"mobile": "919876530009"})
    now = await api.update({"mobile": "919876530009", "firstname": "X"}, headers=key("upd-refused"))
    assert now.status_code == 200
    assert "Idempotent-Replayed" not in now.headers


async def test_concurrent_twins_register_once_and_answer_alike(api: Api) -> None:
    answers = await asyncio.gather(
        *(api.add({"mobile": "919876530010", "firstname": "Twin"}, headers=key("twins")) for _ in range(10))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    item = answers[0].json()["response"]["customers"]["customer"][0]
    assert item["item_status"]["message"] == "Customer registration successful"


async def test_subscription_changes_replay(api: Api) -> None:
    added = await api.add_one({"mobile": "919876530020"})
    body = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT", "accountId": ""}]}
    path = f"/v2/customers/{added['user_id']}/subscriptions"
    first = await api.client.post(path, json=body, headers={**api.auth, **key("subs-1")})
    again = await api.client.post(path, json=body, headers={**api.auth, **key("subs-1")})
    assert first.status_code == 200, first.text
    assert again.headers["Idempotent-Replayed"] == "true"
    log = (await api.v2_get(f"{path}/log")).json()["data"]
    assert len(log) == 1  # the replay recorded nothing
    v11 = {
        "root": {
            "subscription": [
                {
                    "mobile": "919876530020",
                    "priority": "TRANS",
                    "scope": "all",
                    "channel": "sms",
                    "is_subscribed": "0",
                }
            ]
        }
    }
    one = await api.client.post(
        "/v1.1/customer/subscriptions", json=v11, headers={**api.auth, **key("subs-2")}
    )
    two = await api.client.post(
        "/v1.1/customer/subscriptions", json=v11, headers={**api.auth, **key("subs-2")}
    )
    assert one.status_code == 200, one.text
    assert two.content == one.content
    assert two.headers["Idempotent-Replayed"] == "true"
