"""Every request sample of the v2 seed (002) replayed against a suitably configured org."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import V2_SEED_ORG, Api, OrgSpec, load_org

pytestmark = pytest.mark.anyio

SEED = next((Path(__file__).resolve().parents[3] / "shared" / "seeds").glob("002_*.txt"))


def seed_blocks() -> list[tuple[str, Any]]:
    text = SEED.read_text(encoding="utf-8")
    blocks = re.findall(r"```json ([^\n]+)\n(.*?)```", text, flags=re.S)
    return [(title.strip(), json.loads(body)) for title, body in blocks]


# Requests and responses share titles ("With customer status"): a request is what has profiles.
REQUESTS = {t: b for t, b in seed_blocks() if "profiles" in b}


async def seed_api(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, spec: OrgSpec, **configs: Any
) -> Api:
    spec.overrides = dict(V2_SEED_ORG)
    spec.configs = configs
    await load_org(database_url, spec)
    return Api(app_client[1], spec)


def test_the_seed_has_the_six_request_samples() -> None:
    assert len(REQUESTS) == 6, list(REQUESTS)


@pytest.mark.parametrize("title", sorted(REQUESTS))
async def test_seed_request_sample_is_accepted_with_the_documented_shape(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec, title: str
) -> None:
    # The card sample's mobile ("4567890") is not a valid number: in an email-primary org it is
    # a secondary, dropped with 8056, and the customer is still created.
    primary = "email" if "card" in title.lower() else "mobile"
    api = await seed_api(app_client, database_url, org_spec, CONF_REGISTRATION_PRIMARY_KEY=primary)
    body = json.loads(json.dumps(REQUESTS[title]).replace("bukl.till", org_spec.till))
    response = await api.v2_add(body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert list(payload) == ["createdId", "warnings", "sideEffects"]
    assert isinstance(payload["createdId"], int)
    for warning in payload["warnings"]:
        assert set(warning) == {"status", "code", "message"}
        assert warning["status"] is False
        assert isinstance(warning["code"], int)
    codes = [w["code"] for w in payload["warnings"]]
    if "statusLabel" not in body:
        assert 8107 in codes  # the org has labels but no default, as in the seed responses
    if "card" in title.lower():
        assert 8056 in codes


async def test_instore_sample_answers_like_the_seed_response(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    api = await seed_api(app_client, database_url, org_spec)
    payload = (await api.v2_add(REQUESTS["Sample request - Source: INSTORE"])).json()
    assert payload["warnings"] == [
        {"status": False, "code": 8107, "message": "Default customer status label not set"}
    ]
    assert payload["sideEffects"] == []


async def test_mobile_app_sample_reports_its_opening_points_like_the_seed(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    api = await seed_api(app_client, database_url, org_spec)
    body = json.loads(
        json.dumps(REQUESTS["Sample request - Source: MOBILE_APP"]).replace("bukl.till", org_spec.till)
    )
    payload = (await api.v2_add(body)).json()
    assert payload["sideEffects"] == [
        {"entityType": "USER", "rawAwardedPoints": 75.0, "awardedPoints": 75, "type": "points"}
    ]
    customer = (await api.v2_get(f"/v2/customers/{payload['createdId']}")).json()
    program = customer["loyaltyProgramDetails"][0]
    assert (program["programId"], program["loyaltyPoints"], program["slabSNo"]) == (469, 75, 1)
    assert program["slabExpiryDate"] == "2025-02-11T16:36:17+05:30"
    assert customer["associatedWith"] == org_spec.till
    assert customer["extendedFields"] == {"gender": "Male", "city": "Bangalore"}
    profile = customer["profiles"][0]
    assert (profile["source"], profile["accountId"]) == ("MOBILE_APP", "testmobilepush1")
    assert {i["type"] for i in profile["identifiers"]} == {"mobile", "cuid", "unionId"}
    assert profile["fields"] == {"employee": "true", "dateofbirth": "22-10-2000"}


async def test_customer_status_sample_takes_its_label(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    api = await seed_api(app_client, database_url, org_spec)
    payload = (await api.v2_add(REQUESTS["With customer status"])).json()
    assert 8107 not in [w["code"] for w in payload["warnings"]]
    customer = (await api.v2_get(f"/v2/customers/{payload['createdId']}")).json()
    assert (customer["statusLabel"], customer["customerStatus"]) == ("active-1", "Active")
    assert customer["cardDetails"][0]["cardNumber"] == "12345678"
    assert customer["cardDetails"][0]["seriesCode"] == "GOLDPHY98"
    assert customer["extendedFields"] == {"acquisition_channel": "Facebook"}
