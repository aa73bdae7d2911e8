"""Failed-login slots: taken atomically up to the limit, given back, the same in Redis and in process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import coredis
import pytest

from memberbase.login_attempts import WINDOW_SECONDS, LoginAttempts

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["in-process", "redis"])
async def attempts(request: pytest.FixtureRequest) -> AsyncIterator[LoginAttempts]:
    if request.param == "in-process":
        yield LoginAttempts(None, "test")
        return
    pool = coredis.ConnectionPool.from_url(request.getfixturevalue("redis_url"))
    try:
        yield LoginAttempts(pool, f"test-{uuid.uuid4().hex}")
    finally:
        pool.disconnect()


async def test_concurrent_takes_get_exactly_the_limit(attempts: LoginAttempts) -> None:
    verdicts = await asyncio.gather(*(attempts.take("till", 10) for _ in range(200)))
    assert sum(v.allowed for v in verdicts) == 10
    refused = next(v for v in verdicts if not v.allowed)
    assert (refused.limit, refused.remaining) == (10, 0)
    assert 1 <= refused.reset_after <= WINDOW_SECONDS
    assert await attempts.blocked("till", 10) is not None
    assert await attempts.blocked("another", 10) is None


async def test_a_slot_given_back_can_be_taken_again(attempts: LoginAttempts) -> None:
    assert (await attempts.take("till", 2)).allowed
    assert (await attempts.take("till", 2)).allowed
    assert not (await attempts.take("till", 2)).allowed
    await attempts.give_back("till")
    assert await attempts.blocked("till", 2) is None
    assert (await attempts.take("till", 2)).remaining == 0
    await attempts.give_back("till")
    await attempts.give_back("till")
    await attempts.give_back("till")  # more than were taken: the count stays at nought
    assert [(await attempts.take("till", 2)).allowed for _ in range(3)] == [True, True, False]
