"""POST and GET /v1.1/customer/subscriptions; subscriptions=true on customer/get."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import xmltodict

from tests.support import Api, item_code

pytestmark = pytest.mark.anyio


def sub(**values: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"priority": "BULK", "scope": "all", "channel": "email", "is_subscribed": "0"}
    item.update(values)
    return item


async def post(api: Api, *items: dict[str, Any], **params: str) -> httpx.Response:
    return await api.client.post(
        "/v1.1/customer/subscriptions",
        params={"format": "json", **params},
        json={"root": {"subscription": list(items)}},
        headers=api.auth,
    )


async def get(api: Api, **params: str) -> httpx.Response:
    return await api.client.get("/v1.1/customer/subscriptions", params=params, headers=api.auth)


def items(response: httpx.Response) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = response.json()["response"]["subscriptions"]["subscription"]
    return found


def preference(item: dict[str, Any], channel: str, priority: str) -> dict[str, Any]:
    levels = next(c for c in item["channel"] if c["name"] == channel)["priority"]
    found: dict[str, Any] = next(p for p in levels if p["name"] == priority)
    return found


async def test_an_opt_out_is_stored_and_answered_in_the_documented_shape(api: Api) -> None:
    added = await api.add_one({"mobile": "919876600001", "email": "sub1@example.com"})
    response = await post(api, sub(email="sub1@example.com"))
    assert response.status_code == 200, response.text
    status = response.json()["response"]["status"]
    assert (status["success"], status["code"], status["message"]) == ("true", 200, "Success")
    assert items(response) == [
        {
            "user_id": added["user_id"],
            "email": "sub1@example.com",
            "channel": "EMAIL",
            "priority": "BULK",
            "scope": "ALL",
            "is_subscribed": "0",
            "item_status": {
                "success": "true",
                "code": "1000",
                "message": "Subscription successfully updated",
                "warnings": {"warning": []},
            },
        }
    ]
    found = items(await get(api, email="sub1@example.com"))[0]
    assert preference(found, "EMAIL", "BULK") == {
        "name": "BULK",
        "subscribed": "",
        "unsubscribed": "ALL",
        "user_preference": "UNSUBSCRIBED",
    }


async def test_input_is_case_insensitive_and_output_upper_case(api: Api) -> None:
    await api.add_one({"mobile": "919876600002"})
    response = await post(api, sub(mobile="919876600002", channel="Sms", priority="trans", scope="ALL"))
    item = items(response)[0]
    assert (item["channel"], item["priority"], item["is_subscribed"]) == ("SMS", "TRANS", "0")


async def test_never_touched_channels_read_subscribed_all_not_set(api: Api) -> None:
    added = await api.add_one({"mobile": "919876600003", "email": "sub3@example.com"})
    response = await get(api, mobile="919876600003")
    assert response.status_code == 200
    item = items(response)[0]
    assert item["user_id"] == added["user_id"]
    assert (item["mobile"], item["email"], item["external_id"]) == ("919876600003", "sub3@example.com", None)
    assert [c["name"] for c in item["channel"]] == ["SMS", "EMAIL"]
    for channel in item["channel"]:
        assert [p["name"] for p in channel["priority"]] == ["TRANS", "BULK"]
        for level in channel["priority"]:
            assert level == {**level, "subscribed": "ALL", "unsubscribed": "", "user_preference": "NOT_SET"}
    assert item["orgUnitSubscriptions"] == []
    assert item["item_status"] == {
        "success": "true",
        "code": "1000",
        "message": "Subscription successfully retrieved",
        "warnings": {"warning": []},
    }


async def test_opting_back_in_reads_subscribed(api: Api) -> None:
    await api.add_one({"external_id": "SUB-4"})
    await post(api, sub(external_id="SUB-4", channel="sms", priority="BULK", is_subscribed="0"))
    await post(api, sub(external_id="SUB-4", channel="sms", priority="BULK", is_subscribed=1))
    item = items(await get(api, external_id="SUB-4"))[0]
    assert preference(item, "SMS", "BULK")["user_preference"] == "SUBSCRIBED"
    assert preference(item, "SMS", "BULK")["subscribed"] == "ALL"


async def test_several_customers_by_comma_lists_with_filters(api: Api) -> None:
    await api.add_one({"mobile": "919876600005"})
    await api.add_one({"mobile": "919876600006"})
    response = await get(
        api, mobile="919876600005,919876600404,919876600006", channel="sms", priority="TRANS"
    )
    assert response.status_code == 201
    found = items(response)
    assert [item_code(i) for i in found] == ["1000", "1012", "1000"]
    assert found[1]["mobile"] == "919876600404"
    assert found[0]["channel"] == [
        {
            "name": "SMS",
            "priority": [
                {"name": "TRANS", "subscribed": "ALL", "unsubscribed": "", "user_preference": "NOT_SET"}
            ],
        }
    ]


async def test_each_item_gets_its_own_code_and_a_bad_one_leaves_nothing(api: Api) -> None:
    await api.add_one({"mobile": "919876600007"})
    response = await post(
        api,
        sub(mobile="919876600007", channel="pigeon"),
        sub(mobile="919876600007", priority="URGENT"),
        sub(mobile="919876600007", scope="some"),
        sub(mobile="919876600007", is_subscribed="maybe"),
        sub(channel="sms"),
        sub(mobile="919876600404"),
        sub(mobile="919876600007", channel="sms", priority="BULK"),
        sub(mobile="919876600007", source="NOWHERE"),
    )
    assert response.status_code == 201
    body = response.json()["response"]
    assert (body["status"]["total"], body["status"]["success_count"]) == ("8", "1")
    found = body["subscriptions"]["subscription"]
    assert [item_code(i) for i in found] == ["1101", "1102", "1103", "1106", "1104", "1012", "1000", "3217"]
    assert found[0]["item_status"]["message"].startswith("Invalid channel type: 'pigeon'")
    assert found[0]["channel"] == "pigeon"  # a failed item echoes what was sent
    state = items(await get(api, mobile="919876600007"))[0]
    assert preference(state, "SMS", "BULK")["user_preference"] == "UNSUBSCRIBED"
    assert preference(state, "EMAIL", "BULK")["user_preference"] == "NOT_SET"


async def test_all_items_failing_answer_500(api: Api) -> None:
    response = await post(api, sub(mobile="919876600404"))
    assert response.status_code == 500
    assert response.json()["response"]["status"]["code"] == 500


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (["x"], "channel must be a string"),
        ("sms\u0000", "channel contains a NUL or control character"),
        ("s" * 301, "channel is longer than 300 characters"),
    ],
)
async def test_shape_problems_fail_the_item_with_400(api: Api, value: object, problem: str) -> None:
    await api.add_one({"mobile": "919876600008"})
    response = await post(api, sub(mobile="919876600008", channel=value))
    assert response.status_code == 400
    item = items(response)[0]
    assert item_code(item) == "400"
    assert problem in item["item_status"]["message"]


async def test_oversize_consent_text_fails_the_item(api: Api) -> None:
    await api.add_one({"mobile": "919876600009"})
    response = await post(api, sub(mobile="919876600009", consent_text="x" * 2001))
    assert item_code(items(response)[0]) == "400"
    assert "consent_text is longer than 2000" in items(response)[0]["item_status"]["message"]


async def test_identifiers_naming_two_customers_are_refused(api: Api) -> None:
    await api.add_one({"mobile": "919876600010"})
    await api.add_one({"email": "other10@example.com"})
    response = await post(api, sub(mobile="919876600010", email="other10@example.com"))
    assert item_code(items(response)[0]) == "1104"


@pytest.mark.parametrize(
    "body",
    [{"root": {}}, {"root": {"subscription": []}}, [], {"subscription": [{}]}],
)
async def test_a_body_that_is_not_the_envelope_is_400(api: Api, body: Any) -> None:
    response = await api.client.post("/v1.1/customer/subscriptions", json=body, headers=api.auth)
    assert response.status_code == 400
    assert response.json()["response"]["status"]["code"] == 400


async def test_the_batch_limit_applies(api: Api) -> None:
    response = await post(api, *[sub(mobile="919876600011")] * 101)
    assert response.status_code == 400
    assert response.json()["response"]["status"]["code"] == 1060


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"channel": "carrier-pigeon"}, 1101),
        ({"priority": "NOW"}, 1102),
        ({"scope": "SOME"}, 1103),
        ({}, 1104),
    ],
)
async def test_get_refuses_bad_filters(api: Api, params: dict[str, str], code: int) -> None:
    query = {"mobile": "919876600012", **params} if params else {}
    response = await get(api, **query)
    assert response.status_code == 400
    assert response.json()["response"]["status"]["code"] == code


async def test_xml_in_and_out(api: Api) -> None:
    await api.add_one({"mobile": "919876600013"})
    xml = (
        "<root><subscription><mobile>919876600013</mobile><channel>sms</channel>"
        "<priority>TRANS</priority><scope>all</scope><is_subscribed>0</is_subscribed></subscription></root>"
    )
    response = await api.client.post(
        "/v1.1/customer/subscriptions",
        content=xml,
        headers={**api.auth, "Content-Type": "application/xml"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    parsed = xmltodict.parse(response.text)
    item = parsed["response"]["subscriptions"]["subscription"]
    assert (item["channel"], item["is_subscribed"], item["item_status"]["code"]) == ("SMS", "0", "1000")
    read = await api.client.get(
        "/v1.1/customer/subscriptions", params={"mobile": "919876600013", "format": "xml"}, headers=api.auth
    )
    assert "<user_preference>UNSUBSCRIBED</user_preference>" in read.text


async def test_customer_get_shows_subscriptions_when_asked(api: Api) -> None:
    await api.add_one({"mobile": "919876600014"})
    plain = (await api.get(mobile="919876600014")).json()["response"]["customers"]["customer"][0]
    assert plain["subscriptions"] == {"subscription": []}
    await post(api, sub(mobile="919876600014", channel="email", priority="BULK", is_subscribed="0"))
    asked = (await api.get(mobile="919876600014", subscriptions="true")).json()
    entries = asked["response"]["customers"]["customer"][0]["subscriptions"]["subscription"]
    assert entries == [
        {"channel": "SMS", "priority": "TRANS", "scope": "ALL", "status": "1"},
        {"channel": "SMS", "priority": "BULK", "scope": "ALL", "status": "1"},
        {"channel": "EMAIL", "priority": "TRANS", "scope": "ALL", "status": "1"},
        {"channel": "EMAIL", "priority": "BULK", "scope": "ALL", "status": "0"},
    ]


async def test_customer_get_with_subscriptions_keeps_the_missing_as_they_were(api: Api) -> None:
    await api.add_one({"mobile": "919876600015"})
    response = await api.get(mobile="919876600015,919876600404", subscriptions="true")
    found = response.json()["response"]["customers"]["customer"]
    assert [item_code(i) for i in found] == ["1000", "1012"]
    assert "subscriptions" not in found[1]


async def test_a_named_source_account_is_kept_apart(api: Api) -> None:
    await api.add_one({"mobile": "919876600016"})
    await post(api, sub(mobile="919876600016", channel="sms", source="WECHAT", accountId="wx-1"))
    instore = items(await get(api, mobile="919876600016"))[0]
    assert preference(instore, "SMS", "BULK")["user_preference"] == "NOT_SET"
    wechat = items(await get(api, mobile="919876600016", source="wechat", accountId="wx-1"))[0]
    assert preference(wechat, "SMS", "BULK")["user_preference"] == "UNSUBSCRIBED"
    bad = await get(api, mobile="919876600016", source="WECHAT", accountId="nope")
    assert bad.status_code == 400
    assert bad.json()["response"]["status"]["code"] == 3217


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_without_credentials_is_401(api: Api, method: str) -> None:
    response = await api.client.request(
        method,
        "/v1.1/customer/subscriptions",
        params={"mobile": "919876600017"},
        json={"root": {"subscription": [sub(mobile="919876600017")]}} if method == "POST" else None,
    )
    assert response.status_code == 401
    assert response.json()["response"]["status"]["code"] == 401
