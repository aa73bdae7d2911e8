"""An org configured like the seeds' side-effect samples, and helpers to read its ledger."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from memberbase.storage.database import create_engine
from tests.support import Api, OrgSpec, load_org

WELCOME = "Welcome Offer - 10% flat discount"


def programs(*rewards: dict[str, Any], second: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "id": 469,
            "name": "Main",
            "default": True,
            "points_expiry": {"days": 365},
            "tiers": [
                {"serial": 1, "name": "Base", "description": "Tier 1"},
                {
                    "serial": 2,
                    "name": "Bronze",
                    "description": "Tier 2",
                    "upgrade_points": 500,
                    "validity_days": 365,
                },
            ],
            "registration_rewards": list(rewards),
        },
        {
            "id": 1204,
            "name": "Second",
            "tiers": [
                {"serial": 1, "name": "Base"},
                {"serial": 2, "name": "Milestone 1", "description": "Milestone 1"},
            ],
            "registration_rewards": second or [],
        },
    ]


COUPON_SERIES = [
    {"id": 11, "description": WELCOME, "coupon_type": "PE", "validity_days": 30, "discount_value": 10},
    {"id": 12, "description": "DSG - $5 Coupon", "code_pattern": "##########", "validity_days": 60},
]

REFERRAL_CAMPAIGN = {
    "id": 7,
    "name": "Friends",
    "max_referrals": 3,
    "referee_rewards": [{"id": "REF-IN", "points": 100}],
    "referrer_rewards": [{"id": "REF-BY", "points": 100}],
}


async def loyalty_api(
    client: httpx.AsyncClient,
    database_url: str,
    spec: OrgSpec,
    *rewards: dict[str, Any],
    campaigns: list[dict[str, Any]] | None = None,
    second: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> Api:
    spec.programs = programs(*rewards, second=second)
    spec.overrides = {
        "coupon_series": COUPON_SERIES,
        "referral_campaigns": campaigns if campaigns is not None else [],
        **overrides,
    }
    await load_org(database_url, spec)
    return Api(client, spec)


async def query(database_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(sa.text(sql), params)).all())
    finally:
        await engine.dispose()


async def ledger_points(database_url: str, org_id: int, customer_id: int) -> int:
    rows = await query(
        database_url,
        "SELECT COALESCE(SUM(value), 0) FROM reward_ledger WHERE org_id = :o AND customer_id = :c"
        " AND program_id IS NOT NULL",
        o=org_id,
        c=customer_id,
    )
    return int(rows[0][0])


async def events_of(database_url: str, org_id: int, customer_id: int | None = None) -> list[str]:
    sql = "SELECT type FROM outbox WHERE org_id = :o"
    if customer_id is not None:
        sql += " AND customer_id = :c"
    return [r[0] for r in await query(database_url, sql + " ORDER BY id", o=org_id, c=customer_id)]


async def referral_code(api: Api, customer_id: int) -> str:
    body = (await api.v2_get(f"/v2/customers/{customer_id}")).json()
    code: str = body["referralCode"]
    assert code, body
    return code
