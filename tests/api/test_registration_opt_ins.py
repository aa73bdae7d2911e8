"""Opt-ins sent at registration go through the subscription write path and show in the reads."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import Api

pytestmark = pytest.mark.anyio


def opt(channel: str, priority: str, status: str) -> dict[str, str]:
    return {"channel": channel, "priority": priority, "scope": "all", "is_subscribed": status}


async def log_of(api: Api, uid: int) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await api.v2_get(f"/v2/customers/{uid}/subscriptions/log")).json()["data"]
    return data


async def shown(api: Api, mobile: str) -> list[dict[str, str]]:
    body = (await api.get(mobile=mobile, subscriptions="true")).json()
    found: list[dict[str, str]] = body["response"]["customers"]["customer"][0]["subscriptions"][
        "subscription"
    ]
    return found


async def test_v1_1_add_records_the_items_subscriptions(api: Api) -> None:
    item = {
        "mobile": "919876630001",
        "subscriptions": {"subscription": [opt("sms", "BULK", "0"), opt("email", "TRANS", "1")]},
    }
    added = await api.add_one(item)
    assert added["item_status"]["code"] == "1000"
    assert {(e["channel"], e["priority"], e["status"]) for e in await shown(api, "919876630001")} >= {
        ("SMS", "BULK", "0"),
        ("EMAIL", "TRANS", "1"),
    }
    log = await log_of(api, added["user_id"])
    assert [(e["channel"], e["priority"], e["type"], e["via"]) for e in log] == [
        ("MOBILE", "BULK", "OPTOUT", "v1.1 customer/add"),
        ("EMAIL", "TRANS", "OPTIN", "v1.1 customer/add"),
    ]


async def test_a_bad_entry_is_a_warning_and_the_customer_is_stored(api: Api) -> None:
    item = {
        "mobile": "919876630002",
        "subscriptions": {"subscription": [opt("fax", "BULK", "0"), opt("sms", "BULK", "0")]},
    }
    added = await api.add_one(item)
    status = added["item_status"]
    assert (status["success"], status["code"], status["warnings"]) == ("true", "1000", {"warning": ["91022"]})
    assert status["message"] == (
        "Customer registration successful, Failed to update subscription for FAX channel and priority BULK"
    )
    assert [e["channel"] for e in await log_of(api, added["user_id"])] == ["MOBILE"]


async def test_a_known_customer_sent_again_records_its_opt_ins(api: Api) -> None:
    added = await api.add_one({"mobile": "919876630003"})
    again = await api.add_one(
        {"mobile": "919876630003", "subscriptions": {"subscription": opt("email", "BULK", "0")}}
    )
    assert again["item_status"]["message"] == "Customer successfully updated"
    assert [(e["channel"], e["type"]) for e in await log_of(api, added["user_id"])] == [("EMAIL", "OPTOUT")]


async def test_a_batch_records_each_items_opt_ins(api: Api) -> None:
    response = await api.add(
        {"mobile": "919876630004", "subscriptions": {"subscription": [opt("sms", "TRANS", "0")]}},
        {"mobile": "919876630005"},
        {"mobile": "919876630006", "subscriptions": {"subscription": [opt("email", "BULK", "0")]}},
    )
    assert response.status_code == 200
    found = response.json()["response"]["customers"]["customer"]
    logs = [await log_of(api, i["user_id"]) for i in found]
    assert [[(e["channel"], e["priority"]) for e in log] for log in logs] == [
        [("MOBILE", "TRANS")],
        [],
        [("EMAIL", "BULK")],
    ]


async def test_registration_without_opt_ins_writes_no_consent_or_event(api: Api, engine_for: Any) -> None:
    added = await api.add_one({"mobile": "919876630007"})
    assert await log_of(api, added["user_id"]) == []
    engine = engine_for()
    try:
        async with engine.connect() as conn:
            types = (
                (
                    await conn.execute(
                        sa.text("SELECT type FROM outbox WHERE org_id = :org AND customer_id = :id"),
                        {"org": api.spec.org_id, "id": added["user_id"]},
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert "subscription.changed" not in types


async def test_v2_comm_channels_subscribed_become_bulk_opt_ins_of_the_profiles_account(api: Api) -> None:
    body = {
        "profiles": [
            {
                "identifiers": [{"type": "mobile", "value": "919876630008"}],
                "commChannels": [
                    {"type": "mobile", "value": "919876630008", "primary": True, "subscribed": True},
                    {"type": "email", "value": "o8@example.com", "subscribed": "false"},
                    {"type": "wechat", "value": "wx-o8"},
                    {"type": "pager", "value": "123", "subscribed": True},
                ],
                "source": "INSTORE",
            },
            {
                "identifiers": [{"type": "wechat", "value": "wx-o8"}],
                "commChannels": [{"type": "wechat", "value": "wx-o8", "subscribed": True}],
                "source": "WECHAT",
                "accountId": "wx-1",
            },
        ]
    }
    response = await api.v2_add(body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert 91022 in [w["code"] for w in payload["warnings"]]  # the pager; 8107: no default label
    uid = payload["createdId"]
    states = (await api.v2_get(f"/v2/customers/{uid}/subscriptions")).json()["subscriptions"]
    assert states == [
        {"channel": "EMAIL", "accountId": "", "sourceName": "INSTORE", "priority": "BULK", "type": "OPTOUT"},
        {"channel": "MOBILE", "accountId": "", "sourceName": "INSTORE", "priority": "BULK", "type": "OPTIN"},
        {
            "channel": "WECHAT",
            "accountId": "wx-1",
            "sourceName": "WECHAT",
            "priority": "BULK",
            "type": "OPTIN",
        },
    ]
    assert {e["via"] for e in await log_of(api, uid)} == {"v2 customers"}
    details = (await api.v2_get(f"/v2/customers/{uid}")).json()
    assert details["subscriptionInfo"]["subscriptions"] == states


async def test_v1_1_update_records_the_items_subscriptions(api: Api) -> None:
    added = await api.add_one({"mobile": "919876630099"})
    item = {"mobile": "919876630099", "subscriptions": {"subscription": [opt("sms", "TRANS", "0")]}}
    updated = await api.update_one(item)
    assert updated["item_status"]["code"] == "1000"
    assert ("SMS", "TRANS", "0") in {
        (e["channel"], e["priority"], e["status"]) for e in await shown(api, "919876630099")
    }
    log = await log_of(api, added["user_id"])
    assert [(e["channel"], e["type"], e["via"]) for e in log] == [
        ("MOBILE", "OPTOUT", "v1.1 customer/update")
    ]
