"""Paying points: the balance moves by the award and the enrolment keeps the soonest expiry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest

from memberbase.domain.rewards import PointsAward
from memberbase.storage.database import create_engine
from memberbase.storage.rewards import RewardRepository
from memberbase.usecases.unit_of_work import UnitOfWork
from tests.rewards_support import loyalty_api, query
from tests.support import OrgSpec

pytestmark = pytest.mark.anyio

PROGRAM = 469  # the default programme of tests.rewards_support
AT = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)


def award(customer_id: int, n: int, expires: dt.datetime | None) -> PointsAward:
    return PointsAward(customer_id, PROGRAM, Decimal(10), 10, f"R{n}", f"R{n}:{customer_id}", AT, expires)


async def _pay(database_url: str, org_id: int, given: PointsAward) -> tuple[int, int]:
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(engine) as uow:
            balance = await RewardRepository(uow.conn, org_id).add_points(given)
    finally:
        await engine.dispose()
    assert balance is not None
    return balance.loyalty_points, balance.lifetime_points


async def _expiry(database_url: str, org_id: int, customer_id: int) -> dt.datetime | None:
    rows = await query(
        database_url,
        "SELECT points_expire_on FROM enrolments WHERE org_id = :o AND customer_id = :c AND program_id = :p",
        o=org_id,
        c=customer_id,
        p=PROGRAM,
    )
    value: dt.datetime | str | None = rows[0][0]
    if isinstance(value, str):  # SQLite hands a text query its timestamps as text
        value = dt.datetime.fromisoformat(value)
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)


async def test_points_keep_the_soonest_expiry_of_the_awards_paid(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(app_client[1], database_url, org_spec)  # no registration rewards
    item = await api.add_one({"mobile": "919845011111", "firstname": "Ann", "lastname": "Lee"})
    customer_id = int(item["user_id"])
    org = org_spec.org_id
    first, later, sooner = (AT + dt.timedelta(days=d) for d in (365, 400, 30))

    assert await _expiry(database_url, org, customer_id) is None
    assert await _pay(database_url, org, award(customer_id, 1, first)) == (10, 10)
    assert await _expiry(database_url, org, customer_id) == first  # none held: the award's
    assert await _pay(database_url, org, award(customer_id, 2, later)) == (20, 20)
    assert await _expiry(database_url, org, customer_id) == first  # a later one does not move it
    assert await _pay(database_url, org, award(customer_id, 3, sooner)) == (30, 30)
    assert await _expiry(database_url, org, customer_id) == sooner  # a sooner one does
    assert await _pay(database_url, org, award(customer_id, 4, None)) == (40, 40)
    assert await _expiry(database_url, org, customer_id) == sooner  # points that never expire: kept
