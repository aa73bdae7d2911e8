"""Inputs the database or the clock would choke on get a clear 4xx, never a 500."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.support import V2_SEED_ORG, Api, item_code, load_org

pytestmark = pytest.mark.anyio


async def test_nul_deep_inside_v1_1_comm_channels_fails_the_item(api: Api) -> None:
    channels = [{"type": "mobile", "meta": {"residence": "a\u0000b"}}]
    item = await api.add_one({"mobile": "919876560001", "commChannels": channels})
    assert item_code(item) == "400"
    keyed = [{"type": "mobile", "meta": {"re\u0000s": "x"}}]
    assert item_code(await api.add_one({"mobile": "919876560001", "commChannels": keyed})) == "400"


@pytest.mark.parametrize("when", ["0001-01-01 00:00:00", "9999-12-31 23:59:59"])
async def test_dates_at_the_edge_of_the_calendar_fail_the_item(api: Api, when: str) -> None:
    assert item_code(await api.add_one({"mobile": "919876560002", "registered_on": when})) == "400"
    assert item_code(await api.add_one({"mobile": "919876560002", "updated_on": when})) == "400"


@pytest.mark.parametrize("key", ["mobile", "email", "external_id", "id"])
async def test_control_characters_in_get_values_are_simply_not_found(api: Api, key: str) -> None:
    response = await api.get(**{key: "abc\u0000def"})
    assert response.status_code == 500  # all (one) lookups failed: the documented envelope
    assert response.json()["response"]["customers"]["customer"][0]["item_status"]["code"] == "1012"


async def test_control_characters_in_a_basic_login_are_refused(api: Api) -> None:
    token = base64.b64encode(b"till\x00x:0123456789abcdef0123456789abcdef").decode()
    response = await api.client.get(
        "/v1.1/customer/get?mobile=1", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 401


async def test_control_characters_in_a_v2_lookup_are_not_found(api: Api) -> None:
    response = await api.v2_get(
        "/v2/customers/lookup", source="INSTORE", identifierName="externalId", identifierValue="a\u0000b"
    )
    assert response.json()["errors"][0]["code"] == 8015


@pytest.mark.parametrize(
    "extra",
    [
        {"createDate": "0001-01-01T00:00:00+05:30"},
        {"createDate": "9999-12-31T23:59:59-05:00"},
        {"referralCode": "R" * 101},
        {"loyaltyProgramEnrollments": [{"programId": 469, "loyaltyPoints": 1e300}]},
        {"loyaltyProgramEnrollments": [{"programId": 469, "loyaltyPoints": -5}]},
        {"loyaltyProgramEnrollments": [{"programId": 469, "tierExpiryDate": "0001-01-01T00:00:00+14:00"}]},
    ],
)
async def test_v2_values_beyond_what_can_be_stored_are_400(
    app_client: tuple[Any, Any], database_url: str, api: Api, extra: dict[str, Any]
) -> None:
    api.spec.overrides = dict(V2_SEED_ORG)
    await load_org(database_url, api.spec)
    body = {
        "profiles": [{"identifiers": [{"type": "mobile", "value": "919876560003"}], "source": "INSTORE"}],
        **extra,
    }
    response = await api.v2_add(body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["code"] == 400
