"""POST /v1.1/customer/add: the response has the seeds' shape and JSON types."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, basic, envelope, item_code, load_org

pytestmark = pytest.mark.anyio

SEED_RESPONSE_KEYS = [
    "user_id",
    "firstname",
    "lastname",
    "mobile",
    "email",
    "external_id",
    "lifetime_points",
    "loyalty_points",
    "current_slab",
    "tier_expiry_date",
    "points_summaries",
    "lifetime_purchases",
    "registered_on",
    "updated_on",
    "type",
    "source",
    "fraud_status",
    "reason",
    "custom_fields",
    "extended_fields",
    "subscriptions",
    "side_effects",
    "item_status",
]
POINTS_SUMMARY_KEYS = [
    "programId",
    "redeemed",
    "expired",
    "returned",
    "adjusted",
    "lifetimePoints",
    "loyaltyPoints",
    "cumulativePurchases",
    "currentSlab",
    "nextSlab",
    "nextSlabSerialNumber",
    "nextSlabDescription",
    "slabSNo",
    "slabExpiryDate",
    "totalPoints",
]

# The request of seed 001 (its first example), as a till would send it.
SEED_001_REQUEST: dict[str, Any] = {
    "mobile": "919876532218",
    "email": "tom.sawyer@example.com",
    "external_id": "",
    "firstname": "testuwser",
    "lastname": "promo54",
    "updated_on": "2023-07-11 10:12:00",
    "registered_till": "",
    "associated_with": "",
    "type": "LOYALTY",
    "fraud_status": {"status": ""},
    "custom_fields": {
        "field": [
            {"name": "City_name", "value": "Bangalore"},
            {"name": "address", "value": "Bangalore1234"},
            {"name": "pincode", "value": "54321"},
        ]
    },
}


async def test_seed_001_example_registers_with_the_documented_shape_and_types(api: Api) -> None:
    response = await api.add(SEED_001_REQUEST)
    assert response.status_code == 200
    body = response.json()
    status = body["response"]["status"]
    assert status == {
        "success": "true",
        "code": 200,
        "message": "Success",
        "total": "1",
        "success_count": "1",
    }
    item = body["response"]["customers"]["customer"][0]
    assert list(item) == SEED_RESPONSE_KEYS
    assert isinstance(item["user_id"], int)
    assert item["mobile"] == "919876532218"
    assert item["external_id"] is None
    assert item["lifetime_points"] == 0
    assert item["loyalty_points"] == 0
    assert item["current_slab"] == "Base"
    assert item["type"] == "LOYALTY"
    assert item["source"] == "instore"
    assert item["fraud_status"] == "NONE"
    assert item["reason"] == ""
    assert item["updated_on"] == "2023-07-11 10:12:00"
    assert item["subscriptions"] == {"subscription": []}
    assert item["side_effects"] == {"effect": []}
    assert item["custom_fields"] == {
        "field": [{"name": "City_name", "value": "Bangalore"}, {"name": "pincode", "value": "54321"}]
    }
    assert item["item_status"] == {
        "success": "true",
        "code": "1000",
        # The seed's message, and which field was dropped (docs/decisions.md).
        "message": "Customer registration successful, Provided Custom Field is invalid: "
        "address is not a custom field of this organisation",
        "warnings": {"warning": ["1017"]},
    }
    summary = item["points_summaries"]["points_summary"][0]
    assert list(summary) == POINTS_SUMMARY_KEYS
    assert all(isinstance(v, str) for v in summary.values())
    assert summary["programId"] == "469"
    assert summary["nextSlab"] == "Bronze"
    assert summary["nextSlabSerialNumber"] == "2"
    assert summary["nextSlabDescription"] == "Tier 2"
    assert summary["slabSNo"] == "1"


async def test_seed_external_id_only_example_has_null_mobile_and_empty_names(api: Api) -> None:
    item = await api.add_one(
        {
            "external_id": "123445901",
            "registered_on": "2024-07-29 11:11:11",
            "registered_till": api.spec.till,
            "associated_with": api.spec.till,
        }
    )
    assert item_code(item) == "1000"
    assert item["item_status"]["message"] == "Customer registration successful"
    assert item["mobile"] is None
    assert item["email"] is None
    assert item["firstname"] == ""
    assert item["lastname"] == ""
    assert item["external_id"] == "123445901"
    assert item["registered_on"] == "2024-07-29 11:11:11"
    assert item["tier_expiry_date"] == "2124-07-29 23:59:59"


async def test_seed_000_example_with_number_mobile_and_comm_channels_registers(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.extra_tills = ["rutuja_capillary"]
    await load_org(database_url, org_spec)
    _, client = app_client
    customer = {
        "mobile": 919177811213,
        "email": "raj@example.com",
        "external_id": "12on123",
        "firstname": "Raj",
        "lastname": "loyal",
        "updated_on": "2025-05-29 09:10:00",
        "registered_till": "rutuja_capillary",
        "associated_with": "rutuja_capillary",
        "type": "NON_LOYALTY",
        "source": "INSTORE",
        "accountId": "123456",
        "fraud_status": {"status": "Fraud_Suspected"},
        "commChannels": [
            {
                "type": "mobile",
                "value": "9177xx811213",
                "primary": "true",
                "verified": "true",
                "meta": {"residence": "true"},
            }
        ],
        "custom_fields": {
            "field": [{"name": "City_name", "value": "Bangalore"}, {"name": "address", "value": "BTM"}]
        },
        "extended_fields": {"field": [{"name": "age", "value": "25"}]},
    }
    response = await client.post(
        "/v1.1/customer/add?format=json", json=envelope(customer), headers=basic(org_spec.till)
    )
    assert response.status_code == 200, response.text
    item = response.json()["response"]["customers"]["customer"][0]
    assert item["type"] == "NON_LOYALTY"
    assert item["mobile"] == "919177811213"
    assert item["fraud_status"] == "FRAUD_SUSPECTED"
    assert item["extended_fields"] == {"field": [{"name": "age", "value": "25"}]}
    assert item["points_summaries"] == {"points_summary": []}
    assert item["item_status"]["warnings"]["warning"] == ["1017"]


async def test_lone_customer_object_is_accepted_like_a_one_item_list(api: Api) -> None:
    response = await api.client.post(
        "/v1.1/customer/add",
        json={"root": {"customer": {"mobile": "919876500001"}}},
        headers=api.auth,
    )
    assert response.status_code == 200
    assert response.json()["response"]["customers"]["customer"][0]["mobile"] == "919876500001"


async def test_every_response_carries_a_request_id(api: Api) -> None:
    response = await api.add({"mobile": "919876500002"})
    assert len(response.headers["X-Cap-Requestid"]) == 32


async def test_times_are_written_and_read_in_the_org_time_zone(api: Api) -> None:
    item = await api.add_one({"mobile": "919876500003", "registered_on": "2024-01-01 00:30:00"})
    assert item["registered_on"] == "2024-01-01 00:30:00"
    got = (await api.get(mobile="919876500003")).json()["response"]["customers"]["customer"][0]
    assert got["registered_on"] == "2024-01-01 00:30:00"
