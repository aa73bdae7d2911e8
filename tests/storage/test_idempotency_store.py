"""Stored answers of Idempotency-Keys: one live answer per org and key; an expired one is replaced."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from memberbase.storage import idempotency
from memberbase.storage.idempotency import StoredAnswer

pytestmark = pytest.mark.anyio

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


async def test_a_live_answer_is_kept_and_an_expired_one_replaced(engine_for: Any, org_spec: Any) -> None:
    # The table is keyed by org like every tenant table, with no reference to `orgs`.
    org = org_spec.org_id
    engine = engine_for()
    answer = StoredAnswer("f1", 200, "application/json", "{}")
    try:
        async with engine.begin() as conn:
            assert await idempotency.add(conn, org, "k", answer, NOW, NOW + HOUR)
            assert not await idempotency.add(conn, org, "k", answer, NOW, NOW + HOUR)
            assert await idempotency.find(conn, org + 1, "k", NOW) is None  # another org's key
            later = NOW + 2 * HOUR
            assert await idempotency.find(conn, org, "k", later) is None
            second = StoredAnswer("f2", 201, "application/json", "[]")
            assert await idempotency.add(conn, org, "k", second, later, later + HOUR)
            assert await idempotency.find(conn, org, "k", later) == second
    finally:
        await engine.dispose()
