"""Status labels: PUT /v2/customers/lookup/status and GET /v2/customers/{id}/statusLog (companion §d)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, load_org

pytestmark = pytest.mark.anyio

LABELS = [
    {"label": "Active-High", "status": "Active", "default": True},
    {"label": "Suspicious", "status": "Suspended"},
    {"label": "Gone", "status": "Deleted"},
]


@pytest.fixture
async def labelled(app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec) -> Api:
    org_spec.overrides = {"customer_status_labels": LABELS}
    await load_org(database_url, org_spec)
    return Api(app_client[1], org_spec)


async def _customer(api: Api, mobile: str) -> int:
    item = await api.add_one({"mobile": mobile})
    return int(item["user_id"])


def _by_mobile(mobile: str) -> dict[str, str]:
    return {"source": "INSTORE", "identifierName": "mobile", "identifierValue": mobile}


async def put_status(api: Api, body: Any, **params: str) -> httpx.Response:
    return await api.client.put("/v2/customers/lookup/status", params=params, json=body, headers=api.auth)


async def test_changing_the_label_changes_the_status_and_is_logged(labelled: Api) -> None:
    customer_id = await _customer(labelled, "919876540001")
    response = await put_status(
        labelled,
        {"reason": "chargebacks", "label": "Suspicious"},
        **_by_mobile("919876540001"),
        **{"USER-CONTEXT-ENTITY-ID": "x"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"createdId": customer_id, "warnings": []}
    log = await labelled.v2_get(f"/v2/customers/{customer_id}/statusLog")
    assert log.status_code == 200, log.text
    data = log.json()["data"]
    assert [(d["label"], d["status"], d["isActive"]) for d in data] == [
        ("Suspicious", "SUSPENDED", True),
        ("Active-High", "ACTIVE", False),  # the label registration gave, first in the log
    ]
    assert data[0]["reason"] == "chargebacks"
    assert data[0]["entityId"] == customer_id
    details = (await labelled.v2_get(f"/v2/customers/{customer_id}")).json()
    assert "Suspicious" in str(details)


async def test_an_unknown_label_is_8086(labelled: Api) -> None:
    await _customer(labelled, "919876540002")
    response = await put_status(labelled, {"reason": "r", "label": "Nope"}, **_by_mobile("919876540002"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 8086


async def test_a_deletion_status_is_not_set_here(labelled: Api) -> None:
    await _customer(labelled, "919876540003")
    response = await put_status(labelled, {"reason": "r", "label": "Gone"}, **_by_mobile("919876540003"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 8310


async def test_reason_is_required(labelled: Api) -> None:
    await _customer(labelled, "919876540004")
    response = await put_status(labelled, {"label": "Suspicious"}, **_by_mobile("919876540004"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 400


async def test_unknown_customer_is_8015_and_bad_source_refused(labelled: Api) -> None:
    missing = await put_status(labelled, {"reason": "r", "label": "Suspicious"}, **_by_mobile("919876540099"))
    assert missing.json()["errors"][0]["code"] == 8015
    wrong = await put_status(
        labelled,
        {"reason": "r", "label": "Suspicious"},
        source="NOPE",
        identifierName="mobile",
        identifierValue="919876540099",
    )
    assert wrong.status_code == 400


async def test_by_id_and_log_of_unknown_customer(labelled: Api) -> None:
    customer_id = await _customer(labelled, "919876540005")
    response = await labelled.client.put(
        f"/v2/customers/{customer_id}/status",
        json={"reason": "ok", "label": "Suspicious"},
        headers=labelled.auth,
    )
    assert response.status_code == 200, response.text
    assert (await labelled.v2_get("/v2/customers/999999999/statusLog")).status_code == 404
    assert (await labelled.v2_get("/v2/customers/abc/statusLog")).status_code == 404


async def test_status_needs_credentials(app_client: tuple[Any, httpx.AsyncClient]) -> None:
    client = app_client[1]
    assert (await client.put("/v2/customers/1/status", json={})).status_code == 401
    assert (await client.get("/v2/customers/1/statusLog")).status_code == 401
