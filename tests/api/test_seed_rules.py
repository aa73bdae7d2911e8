"""Issue 19: what the seeds name that registration got wrong, one test per rule, citing the seed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, load_org

pytestmark = pytest.mark.anyio


async def configured(app_client: tuple[Any, httpx.AsyncClient], database_url: str, spec: OrgSpec) -> Api:
    await load_org(database_url, spec)
    return Api(app_client[1], spec)


def v2_body(*identifiers: tuple[str, str], **more: Any) -> dict[str, Any]:
    profile = {"source": "INSTORE", "identifiers": [{"type": t, "value": v} for t, v in identifiers]}
    return {"profiles": [profile], **more}


@pytest.mark.parametrize(
    ("switch", "identifiers", "missing"),
    [
        ("CONF_USERS_IS_MOBILE_REQUIRED", [("email", "rq1@example.com")], "mobile"),
        ("CONF_USERS_IS_EMAIL_REQUIRED", [("mobile", "919876540010")], "email"),
        ("CONF_USERS_IS_EXTERNAL_ID_REQUIRED", [("mobile", "919876540011")], "external_id"),
    ],
)
async def test_v2_applies_the_required_identifier_switches(
    app_client: tuple[Any, httpx.AsyncClient],
    database_url: str,
    org_spec: OrgSpec,
    switch: str,
    identifiers: list[tuple[str, str]],
    missing: str,
) -> None:
    """Seed 000 line 514: "CONF_USERS_IS_EXTERNAL_ID_REQUIRED — When enabled, external ID becomes
    a mandatory identifier for registration" (hosted-api-notes: 1006/1039/1043 in v1.1). v2 has
    no code of its own: 8005 names what is missing, and nothing is registered."""
    org_spec.configs = {switch: True}
    api = await configured(app_client, database_url, org_spec)
    response = await api.v2_add(v2_body(*identifiers))
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == 8005
    assert missing in response.text
    kind, value = identifiers[0]
    lookup = {"source": "INSTORE", "identifierName": kind, "identifierValue": value}
    found = await api.v2_get("/v2/customers/lookup", **lookup)
    assert found.status_code == 400  # nobody was registered
    complete = {"mobile": ("mobile", "919876540019"), "email": ("email", "rq9@example.com")}
    complete["external_id"] = ("externalId", "EXT-RQ-9")
    ok = await api.v2_add(v2_body(*identifiers, complete[missing]))
    assert ok.status_code == 200, ok.text


async def test_v2_reads_loyalty_type_at_the_top_level(api: Api) -> None:
    """Seed 003 line 37: "loyaltyType enum Loyalty status of the customer. Value: loyalty,
    non_loyalty" at the top level of the body: a non-loyalty customer is not enrolled."""
    response = await api.v2_add(v2_body(("mobile", "919876540020"), loyaltyType="non_loyalty"))
    assert response.status_code == 200, response.text
    customer = (await api.v2_get(f"/v2/customers/{response.json()['createdId']}")).json()
    assert customer["loyaltyInfo"]["loyaltyType"] == "non_loyalty"
    assert customer["loyaltyProgramDetails"] == []
    both = v2_body(("mobile", "919876540021"), loyaltyType="LOYALTY", loyaltyInfo={"loyaltyType": "loyalty"})
    assert (await api.v2_add(both)).status_code == 200


async def test_v2_refuses_two_loyalty_types_that_disagree(api: Api) -> None:
    """Seed 003 line 37 (top level) against loyaltyInfo.loyaltyType (the hosted examples): when
    both are sent and differ, nothing is guessed and nothing registered."""
    info = {"loyaltyType": "loyalty"}
    body = v2_body(("mobile", "919876540022"), loyaltyType="non_loyalty", loyaltyInfo=info)
    response = await api.v2_add(body)
    assert response.status_code == 400, response.text
    assert "disagree" in response.text
