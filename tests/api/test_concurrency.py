"""Under concurrency the same identifier never yields two customers, and never a 500."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa

from memberbase.storage.tables import customers, identifiers
from tests.support import Api

pytestmark = pytest.mark.anyio

CONCURRENT = 50


async def test_fifty_concurrent_registrations_of_one_mobile_make_one_customer(
    api: Api, engine_for: Any
) -> None:
    responses: list[httpx.Response] = []

    async def register(n: int) -> None:
        responses.append(await api.add({"mobile": "919876530001", "firstname": f"Racer{n}"}))

    async with anyio.create_task_group() as tg:
        for n in range(CONCURRENT):
            tg.start_soon(register, n)

    assert [r.status_code for r in responses] == [200] * CONCURRENT
    items = [r.json()["response"]["customers"]["customer"][0] for r in responses]
    assert len({i["user_id"] for i in items}) == 1
    messages = sorted(i["item_status"]["message"] for i in items)
    assert messages.count("Customer registration successful") == 1
    assert messages.count("Customer successfully updated") == CONCURRENT - 1

    engine = engine_for()
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count()).select_from(customers).where(customers.c.org_id == api.spec.org_id)
            )
            claims = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(identifiers)
                .where(identifiers.c.org_id == api.spec.org_id, identifiers.c.value == "919876530001")
            )
    finally:
        await engine.dispose()
    assert (count, claims) == (1, 1)


async def test_concurrent_batches_sharing_identifiers_never_fail(api: Api) -> None:
    statuses: list[int] = []

    async def batch(n: int) -> None:
        customers_ = [
            {"mobile": f"91987653{(n + k) % 7:04d}", "email": f"c{(n + k) % 5}@example.com"} for k in range(4)
        ]
        statuses.append((await api.add(*customers_)).status_code)

    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(batch, n)
    assert all(s in (200, 201) for s in statuses), statuses


async def test_a_lost_race_on_the_unique_key_becomes_an_update_without_locks(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the advisory locks, racers hit the database's unique key: the backstop must hold.
    from memberbase.storage.customers import CustomerRepository

    async def no_lock(self: CustomerRepository, wanted: Any) -> None:
        return None

    monkeypatch.setattr(CustomerRepository, "lock_identifiers", no_lock)
    responses: list[httpx.Response] = []

    async def register() -> None:
        responses.append(await api.add({"mobile": "919876530002"}))

    async with anyio.create_task_group() as tg:
        for _ in range(CONCURRENT):
            tg.start_soon(register)
    items = [r.json()["response"]["customers"]["customer"][0] for r in responses]
    assert {r.status_code for r in responses} == {200}
    assert len({i["user_id"] for i in items}) == 1
