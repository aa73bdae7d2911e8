"""Every merge is recorded (who, when, why, what moved); points move as ledger entries."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from memberbase.storage.tables import customers, merges, reward_ledger
from tests.support import Api

pytestmark = pytest.mark.anyio


async def register(api: Api, body: dict[str, Any]) -> int:
    response = await api.v2_add(body)
    assert response.status_code == 200, response.text
    return int(response.json()["createdId"])


def enrolled(points: int) -> list[dict[str, Any]]:
    return [{"programId": 469, "tierNumber": 1, "loyaltyPoints": points}]


async def rows(engine_for: Any, query: Any) -> list[Any]:
    engine = engine_for()
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(query)).mappings())
    finally:
        await engine.dispose()


async def test_a_merge_moves_points_through_the_ledger_and_is_recorded(api: Api, engine_for: Any) -> None:
    survivor = await register(
        api,
        {
            "profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "value": "919876570001"}]}],
            "loyaltyProgramEnrollments": enrolled(100),
        },
    )
    victim = await register(
        api,
        {
            "profiles": [
                {
                    "source": "WECHAT",
                    "accountId": "wx-1",
                    "identifiers": [{"type": "wechat", "value": "wx-m1"}],
                }
            ],
            "loyaltyProgramEnrollments": enrolled(40),
        },
    )
    response = await api.client.post(
        f"/v2/customers/{victim}/changeIdentifier",
        params={"source": "WECHAT", "accountId": "wx-1"},
        json={"add": [{"type": "mobile", "value": "919876570001"}]},
        headers={**api.auth, "USER-CONTEXT-ENTITY-ID": "agent-7"},
    )
    assert response.status_code == 200, response.text
    details = (await api.v2_get(f"/v2/customers/{survivor}")).json()
    assert "'loyaltyPoints': 140" in str(details)
    org = api.spec.org_id
    (record,) = await rows(
        engine_for, sa.select(merges).where(merges.c.org_id == org, merges.c.victim_id == victim)
    )
    assert record["survivor_id"] == survivor
    assert record["reason"] == "v2 changeIdentifier"
    assert record["user_context"]["entityId"] == "agent-7"
    assert ["wechat", "wx-m1"] in record["moved"]["identifiers"]
    assert record["moved"]["accounts"] == [["WECHAT", "wx-1"]]
    assert record["moved"]["enrolments"][0]["points"] == 40
    entries = await rows(
        engine_for,
        sa.select(reward_ledger.c.customer_id, reward_ledger.c.value).where(
            reward_ledger.c.org_id == org, reward_ledger.c.rule_id == "merge"
        ),
    )
    assert sorted((e["customer_id"], e["value"]) for e in entries) == sorted([(victim, -40), (survivor, 40)])
    (marked,) = await rows(
        engine_for,
        sa.select(customers.c.merged_into).where(customers.c.org_id == org, customers.c.id == victim),
    )
    assert marked["merged_into"] == survivor


async def test_adding_a_source_account_8050_is_recorded_as_a_merge(api: Api, engine_for: Any) -> None:
    first = await register(
        api,
        {"profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "value": "919876570002"}]}]},
    )
    again = await api.v2_add(
        {
            "profiles": [
                {
                    "source": "WECHAT",
                    "accountId": "wx-2",
                    "identifiers": [{"type": "mobile", "value": "919876570002"}],
                }
            ]
        }
    )
    assert again.json()["createdId"] == first
    (record,) = await rows(
        engine_for,
        sa.select(merges).where(merges.c.org_id == api.spec.org_id, merges.c.survivor_id == first),
    )
    assert record["victim_id"] is None
    assert record["moved"]["accounts_added"] == [["WECHAT", "wx-2"]]


async def test_a_merge_moves_the_victims_subscription_choices(api: Api) -> None:
    survivor = await register(
        api,
        {"profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "value": "919876570003"}]}]},
    )
    victim = await register(
        api,
        {
            "profiles": [
                {
                    "source": "WECHAT",
                    "accountId": "wx-1",
                    "identifiers": [{"type": "wechat", "value": "wx-s3"}],
                }
            ]
        },
    )
    opt = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT", "accountId": ""}]}
    assert (
        await api.client.post(f"/v2/customers/{victim}/subscriptions", json=opt, headers=api.auth)
    ).status_code == 200
    response = await api.client.post(
        f"/v2/customers/{victim}/changeIdentifier",
        params={"source": "WECHAT", "accountId": "wx-1"},
        json={"add": [{"type": "mobile", "value": "919876570003"}]},
        headers=api.auth,
    )
    assert response.status_code == 200, response.text
    states = (await api.v2_get(f"/v2/customers/{survivor}/subscriptions")).json()["subscriptions"]
    assert any(s["channel"] == "EMAIL" and s["type"] == "OPTOUT" for s in states), states
