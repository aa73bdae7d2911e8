"""PUT/POST and GET /v2/customers/{userId}/subscriptions and their lookup forms; v2 details."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api

pytestmark = pytest.mark.anyio

# The v2 subscription page's own sample, but in the org's sources (INSTORE and FACEBOOK fb-1).
SAMPLE: dict[str, Any] = {
    "communicationId": -1,
    "campaignId": -1,
    "reason": "This is V2 subscription api",
    "scope": {"scope": "USER", "subScope": "NONE"},
    "subscriptions": [
        {
            "channel": "EMAIL",
            "priority": "BULK",
            "type": "OPTOUT",
            "orgUnitId": 200031782,
            "sourceName": "FACEBOOK",
            "accountId": "fb-1",
        },
        {
            "channel": "MOBILE",
            "accountId": "",
            "priority": "BULK",
            "type": "OPTIN",
            "orgUnitId": 200031782,
            "sourceName": "INSTORE",
        },
    ],
}


async def register(api: Api, mobile: str) -> int:
    body = {"profiles": [{"identifiers": [{"type": "mobile", "value": mobile}], "source": "INSTORE"}]}
    response = await api.v2_add(body)
    created: int = response.json()["createdId"]
    return created


async def change(
    api: Api, path: str, body: Any, method: str = "PUT", headers: dict[str, str] | None = None, **params: str
) -> httpx.Response:
    return await api.client.request(
        method, path, json=body, params=params, headers={**api.auth, **(headers or {})}
    )


async def test_the_sample_is_echoed_and_stored(api: Api) -> None:
    uid = await register(api, "919876610001")
    response = await change(api, f"/v2/customers/{uid}/subscriptions", SAMPLE, format="json")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "scope": SAMPLE["scope"],
        "campaignId": -1,
        "communicationId": -1,
        "reason": SAMPLE["reason"],
        "subscriptions": SAMPLE["subscriptions"],
        "warnings": [],
    }
    read = await api.v2_get(f"/v2/customers/{uid}/subscriptions")
    assert read.status_code == 200
    assert read.json() == {
        "userId": uid,
        "subscriptions": [
            {
                "channel": "EMAIL",
                "accountId": "fb-1",
                "sourceName": "FACEBOOK",
                "priority": "BULK",
                "type": "OPTOUT",
            },
            {
                "channel": "MOBILE",
                "accountId": "",
                "sourceName": "INSTORE",
                "priority": "BULK",
                "type": "OPTIN",
            },
        ],
        "warnings": [],
    }


async def test_post_works_as_put_does_and_channel_case_and_sms_are_accepted(api: Api) -> None:
    uid = await register(api, "919876610002")
    body = {"subscriptions": [{"channel": "sms", "priority": "trans", "type": "optout", "orgUnitId": -1}]}
    response = await change(api, f"/v2/customers/{uid}/subscriptions", body, method="POST")
    assert response.status_code == 200, response.text
    states = (await api.v2_get(f"/v2/customers/{uid}/subscriptions")).json()["subscriptions"]
    assert states == [
        {"channel": "MOBILE", "accountId": "", "sourceName": "INSTORE", "priority": "TRANS", "type": "OPTOUT"}
    ]


async def test_v2_changes_show_in_v1_1_and_back(api: Api) -> None:
    uid = await register(api, "919876610003")
    body = {"subscriptions": [{"channel": "MOBILE", "priority": "BULK", "type": "OPTOUT", "orgUnitId": 1}]}
    await change(api, f"/v2/customers/{uid}/subscriptions", body)
    v11 = await api.client.get("/v1.1/customer/subscriptions", params={"id": str(uid)}, headers=api.auth)
    sms = v11.json()["response"]["subscriptions"]["subscription"][0]["channel"][0]
    assert sms["name"] == "SMS"
    assert sms["priority"][1] == {
        "name": "BULK",
        "subscribed": "",
        "unsubscribed": "ALL",
        "user_preference": "UNSUBSCRIBED",
    }


async def test_some_items_failing_are_warnings_and_the_rest_apply(api: Api) -> None:
    uid = await register(api, "919876610004")
    body = {
        "subscriptions": [
            {"channel": "PIGEON", "priority": "BULK", "type": "OPTIN"},
            {"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT"},
            {"channel": "EMAIL", "priority": "SOON", "type": "OPTOUT"},
            {"channel": "EMAIL", "priority": "BULK", "type": "MAYBE"},
            {
                "channel": "EMAIL",
                "priority": "BULK",
                "type": "OPTIN",
                "sourceName": "WECHAT",
                "accountId": "nope",
            },
        ]
    }
    response = await change(api, f"/v2/customers/{uid}/subscriptions", body)
    assert response.status_code == 200
    payload = response.json()
    assert payload["subscriptions"] == [body["subscriptions"][1]]
    assert [(w["code"], w["status"]) for w in payload["warnings"]] == [
        (1101, False),
        (1102, False),
        (1106, False),
        (3217, False),
    ]
    assert payload["warnings"][0]["message"].startswith("subscriptions[0]: Invalid channel type: 'PIGEON'")


async def test_all_items_failing_answer_the_documented_500_body(api: Api) -> None:
    uid = await register(api, "919876610005")
    body = {"subscriptions": [{"channel": "PIGEON", "priority": "BULK", "type": "OPTIN"}]}
    response = await change(api, f"/v2/customers/{uid}/subscriptions", body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["warnings"] == []
    assert payload["errors"][0] == {
        "status": False,
        "message": "All requests have failed due to errors",
        "code": 500,
    }
    assert payload["errors"][1]["code"] == 1101
    assert (await api.v2_get(f"/v2/customers/{uid}/subscriptions")).json()["subscriptions"] == []


@pytest.mark.parametrize("path", ["/v2/customers/999999999/subscriptions", "/v2/customers/abc/subscriptions"])
async def test_an_unknown_customer_is_1012(api: Api, path: str) -> None:
    body = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTIN"}]}
    for response in (await change(api, path, body), await api.v2_get(path)):
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == 1012
        assert response.json()["errors"][0]["message"].startswith(
            "Cannot find customer for provided mobile/external-id/e-mail/id"
        )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"subscriptions": []},
        {"subscriptions": "EMAIL"},
        {"subscriptions": [{"channel": ["EMAIL"]}]},
        {"subscriptions": [{"channel": "EMAIL\u0000"}]},
        {"subscriptions": [{"channel": "EMAIL"}], "reason": "r" * 501},
        {"subscriptions": [{"channel": "EMAIL"}], "consentText": "c" * 2001},
        {"subscriptions": [{"channel": "EMAIL"}], "scope": "USER"},
        [],
    ],
)
async def test_malformed_bodies_are_400_and_write_nothing(api: Api, body: Any) -> None:
    uid = await register(api, "919876610006")
    response = await change(api, f"/v2/customers/{uid}/subscriptions", body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["code"] == 400
    log = await api.v2_get(f"/v2/customers/{uid}/subscriptions/log")
    assert log.json()["data"] == []


async def test_too_many_items_are_refused(api: Api) -> None:
    uid = await register(api, "919876610007")
    body = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTIN"}] * 101}
    response = await change(api, f"/v2/customers/{uid}/subscriptions", body)
    assert response.status_code == 400
    assert "at most 100" in response.json()["errors"][0]["message"]


async def test_the_lookup_forms_find_the_customer_by_identifier(api: Api) -> None:
    uid = await register(api, "919876610008")
    params = {"source": "INSTORE", "identifierName": "mobile", "identifierValue": "919876610008"}
    body = {"subscriptions": [{"channel": "EMAIL", "priority": "TRANS", "type": "OPTOUT"}]}
    response = await change(api, "/v2/customers/lookup/subscriptions", body, method="POST", **params)
    assert response.status_code == 200, response.text
    read = await api.v2_get("/v2/customers/lookup/subscriptions", **params)
    assert read.json()["userId"] == uid
    assert read.json()["subscriptions"][0]["type"] == "OPTOUT"
    missing = {**params, "identifierValue": "919876610404"}
    for response in (
        await change(api, "/v2/customers/lookup/subscriptions", body, **missing),
        await api.v2_get("/v2/customers/lookup/subscriptions", **missing),
    ):
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == 8015


async def test_customer_details_carry_subscription_info(api: Api) -> None:
    uid = await register(api, "919876610009")
    before = (await api.v2_get(f"/v2/customers/{uid}")).json()
    assert before["subscriptionInfo"] == {"subscriptions": []}
    body = {"subscriptions": [{"channel": "WHATSAPP", "priority": "BULK", "type": "OPTIN"}]}
    await change(api, f"/v2/customers/{uid}/subscriptions", body)
    after = (await api.v2_get(f"/v2/customers/{uid}")).json()
    assert after["subscriptionInfo"] == {
        "subscriptions": [
            {
                "channel": "WHATSAPP",
                "accountId": "",
                "sourceName": "INSTORE",
                "priority": "BULK",
                "type": "OPTIN",
            }
        ]
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v2/customers/1/subscriptions"),
        ("POST", "/v2/customers/1/subscriptions"),
        ("GET", "/v2/customers/1/subscriptions"),
        ("GET", "/v2/customers/1/subscriptions/log"),
        ("PUT", "/v2/customers/lookup/subscriptions"),
        ("GET", "/v2/customers/lookup/subscriptions"),
    ],
)
async def test_without_credentials_is_401(api: Api, method: str, path: str) -> None:
    body = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTIN"}]}
    response = await api.client.request(method, path, json=body if method != "GET" else None)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 401


def test_the_routes_declare_their_bodies_and_parameters_in_openapi() -> None:
    from memberbase.app import create_app
    from memberbase.settings import Settings

    paths = create_app(Settings(database_url="sqlite:///unused.db")).openapi()["paths"]
    for path in ("/v2/customers/{userId}/subscriptions", "/v2/customers/lookup/subscriptions"):
        for method in ("put", "post"):
            schema = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
            assert "subscriptions" in schema["required"]
            item = schema["properties"]["subscriptions"]["items"]
            assert {"channel", "priority", "type", "accountId", "sourceName"} <= set(item["properties"])
    lookup = [p["name"] for p in paths["/v2/customers/lookup/subscriptions"]["get"]["parameters"]]
    assert lookup == ["source", "accountId", "identifierName", "identifierValue"]
    v11 = paths["/v1.1/customer/subscriptions"]
    assert set(v11["post"]["requestBody"]["content"]) == {"application/json", "application/xml"}
    assert "channel" in [p["name"] for p in v11["get"]["parameters"]]
