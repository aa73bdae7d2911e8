"""/v2/requests merges (companion-apis.md §g): pending, approved or rejected, previewed, raced."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from tests.support import Api, OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio


@pytest.fixture
async def two_tills(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> tuple[Api, Api]:
    """A maker and a checker: who creates a request cannot approve it (9051)."""
    org_spec.extra_tills = [f"{org_spec.till}-checker"]
    await load_org(database_url, org_spec)
    maker = Api(app_client[1], org_spec)
    checker = Api(app_client[1], org_spec)
    checker.auth = basic(f"{org_spec.till}-checker")
    return maker, checker


async def customer(api: Api, mobile: str, points: int = 0, source: dict[str, str] | None = None) -> int:
    profile = {"source": "INSTORE", **(source or {}), "identifiers": [{"type": "mobile", "value": mobile}]}
    body = {"profiles": [profile], "loyaltyProgramEnrollments": [{"programId": 469, "loyaltyPoints": points}]}
    response = await api.v2_add(body)
    assert response.status_code == 200, response.text
    return int(response.json()["createdId"])


def hosted_body(victim: int, survivor: int) -> dict[str, Any]:
    return {
        "type": "CHANGE_IDENTIFIER",
        "baseType": "MERGE",
        "userId": victim,
        "changeIdentifierRequest": {
            "changeIdentifiers": {
                "add": [{"type": "id", "value": str(survivor)}],
                "remove": [{"type": "id", "value": str(victim)}],
            }
        },
    }


async def create(api: Api, body: Any, **params: str) -> httpx.Response:
    return await api.client.post("/v2/requests", json=body, params=params, headers=api.auth)


async def decide(api: Api, request_id: int, status: str) -> httpx.Response:
    body = [{"type": "CHANGE_IDENTIFIER", "baseType": "MERGE", "id": request_id, "status": status}]
    return await api.client.put("/v2/requests", json=body, headers=api.auth)


async def test_a_request_waits_then_an_approval_merges(two_tills: tuple[Api, Api]) -> None:
    maker, checker = two_tills
    survivor = await customer(maker, "919876590001", 100)
    victim = await customer(maker, "919876590002", 25)
    created = await create(maker, hosted_body(victim, survivor))
    assert created.status_code == 200, created.text
    request_id = created.json()["createdId"]
    state = (await maker.v2_get(f"/v2/requests/{request_id}")).json()
    assert (state["status"], state["userId"], state["baseType"]) == ("PENDING", victim, "MERGE")
    assert state["changeIdentifierRequest"]["changeIdentifiers"]["add"] == [
        {"type": "id", "value": str(survivor)}
    ]
    assert (await maker.v2_get(f"/v2/customers/{victim}")).json()["id"] == victim  # nothing merged yet
    same_user = await decide(maker, request_id, "APPROVED")
    assert same_user.json()["response"][0]["errors"][0]["code"] == 9051
    approved = await decide(checker, request_id, "APPROVED")
    assert approved.json()["failureCount"] == 0, approved.text
    assert approved.json()["response"][0]["result"] is True
    assert (await maker.v2_get(f"/v2/customers/{victim}")).json()["id"] == survivor
    again = await decide(checker, request_id, "APPROVED")
    assert again.json()["response"][0]["errors"][0]["code"] == 9052


async def test_rejected_goes_back_to_pending_before_approval(two_tills: tuple[Api, Api]) -> None:
    maker, checker = two_tills
    survivor, victim = await customer(maker, "919876590003"), await customer(maker, "919876590004")
    request_id = (await create(maker, {"victimId": victim, "survivorId": survivor})).json()["createdId"]
    assert (await decide(checker, request_id, "REJECTED")).json()["response"][0]["result"] is True
    direct = await decide(checker, request_id, "APPROVED")
    assert direct.json()["response"][0]["errors"][0]["code"] == 9052
    assert (await decide(checker, request_id, "PENDING")).json()["response"][0]["result"] is True
    assert (await decide(checker, request_id, "APPROVED")).json()["response"][0]["result"] is True


async def test_client_auto_approve_merges_at_once(two_tills: tuple[Api, Api]) -> None:
    maker, _ = two_tills
    survivor, victim = await customer(maker, "919876590005"), await customer(maker, "919876590006")
    created = await create(maker, hosted_body(victim, survivor), client_auto_approve="true")
    assert created.json()["status"] == "APPROVED", created.text
    assert (await maker.v2_get(f"/v2/customers/{victim}")).json()["id"] == survivor


async def test_preview_answers_what_would_move_and_writes_nothing(two_tills: tuple[Api, Api]) -> None:
    maker, _ = two_tills
    survivor = await customer(maker, "919876590007", 100)
    victim = await customer(maker, "919876590008", 40)
    before = (await maker.v2_get(f"/v2/customers/{victim}")).json()
    preview = await maker.client.post(
        "/v2/merges/preview", json={"survivorId": survivor, "victimId": victim}, headers=maker.auth
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["mergeable"] is True
    assert ["mobile", "919876590008"] in body["moves"]["identifiers"]
    assert body["survivorAfter"]["enrolments"][0]["loyaltyPoints"] == 140
    assert body["conflicts"] == ["both hold a mobile in INSTORE"]
    assert (await maker.v2_get(f"/v2/customers/{victim}")).json() == before
    assert (await maker.v2_get(f"/v2/customers/{victim}/merges")).json()["data"] == []
    same = await create(maker, {"victimId": victim, "survivorId": victim}, preview="true")
    assert same.json()["mergeable"] is False
    assert same.json()["blockers"][0]["code"] == 8320


async def test_bad_requests(two_tills: tuple[Api, Api]) -> None:
    maker, checker = two_tills
    survivor = await customer(maker, "919876590009")
    assert (await create(maker, {"victimId": 999999999, "survivorId": survivor})).json()["errors"][0][
        "code"
    ] == 1012
    bogus = await create(maker, {"type": "BOGUS", "baseType": "MERGE"})
    assert bogus.json()["errors"][0]["code"] == 9006
    mixed = await create(maker, {"type": "CUSTOMER", "baseType": "MERGE"})
    assert mixed.json()["errors"][0]["code"] == 9008
    assert (await create(maker, {"baseType": "MERGE"})).json()["errors"][0]["code"] == 9014
    assert (await create(maker, {"victimId": survivor, "survivorId": survivor})).json()["errors"][0][
        "code"
    ] == 8320
    missing = await decide(checker, 999999, "APPROVED")
    assert missing.json()["response"][0]["errors"][0]["code"] == 9050
    assert missing.json()["failureCount"] == 1
    assert (await maker.v2_get("/v2/requests/999999")).status_code == 404
    assert (await checker.client.put("/v2/requests", json=[{}] * 11, headers=checker.auth)).status_code == 400


async def test_fifty_concurrent_approvals_merge_once(two_tills: tuple[Api, Api]) -> None:
    maker, checker = two_tills
    survivor, victim = await customer(maker, "919876590010", 10), await customer(maker, "919876590011", 5)
    request_id = (await create(maker, hosted_body(victim, survivor))).json()["createdId"]
    results: list[dict[str, Any]] = []

    async def approve() -> None:
        response = await decide(checker, request_id, "APPROVED")
        assert response.status_code == 200, response.text
        results.append(response.json()["response"][0])

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(approve)
    assert sum(r["result"] for r in results) == 1
    assert {r["errors"][0]["code"] for r in results if not r["result"]} == {9052}
    merges = (await maker.v2_get(f"/v2/customers/{survivor}/merges")).json()["data"]
    assert len(merges) == 1


async def test_requests_need_credentials(app_client: tuple[Any, httpx.AsyncClient]) -> None:
    client = app_client[1]
    assert (await client.post("/v2/requests", json={})).status_code == 401
    assert (await client.put("/v2/requests", json=[])).status_code == 401
    assert (await client.get("/v2/requests/1")).status_code == 401
