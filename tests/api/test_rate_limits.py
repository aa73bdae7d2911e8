"""Per-org, per-API requests per minute; a failed-login throttle; counters shared through Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from memberbase.app import create_app
from memberbase.domain.rate_limits import RateLimits, Region
from memberbase.settings import Settings
from tests.support import OrgSpec, basic, envelope, load_org, serving

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def client_for(database_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url, **settings))
    transport = httpx.ASGITransport(app=app)
    async with (
        serving(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        yield client


async def limited_org(database_url: str, spec: OrgSpec, per_minute: dict[str, int]) -> OrgSpec:
    spec.overrides = {"rate_limits": {"per_minute": per_minute}}
    await load_org(database_url, spec)
    return spec


def test_region_defaults_follow_the_seeds_table() -> None:
    assert RateLimits(region=Region.ASIA2).limit("POST /v2/customers") == 100
    assert RateLimits(region=Region.ASIA1).limit("POST /v2/customers") == 600
    assert RateLimits(region=Region.EMEA).limit("POST /v2/customers") == 100
    assert RateLimits(region=Region.US).limit("POST /v1.1/customer/add") is None
    assert RateLimits().limit("GET /v1.1/customer/get") == 1000
    assert RateLimits(per_minute={"POST /v2/customers": 0}).limit("POST /v2/customers") is None


async def test_over_the_limit_answers_429_with_retry_after_in_the_v1_1_envelope(
    database_url: str, org_spec: OrgSpec
) -> None:
    spec = await limited_org(database_url, org_spec, {"POST /v1.1/customer/add": 3})
    async with client_for(database_url) as client:
        statuses = []
        for n in range(5):
            response = await client.post(
                "/v1.1/customer/add", json=envelope({"mobile": f"91987659{n:04d}"}), headers=basic(spec.till)
            )
            statuses.append(response.status_code)
        assert statuses == [200, 200, 200, 429, 429]
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Remaining"] == "0"
        status = response.json()["response"]["status"]
        assert (status["code"], status["message"].split(":")[0]) == (429, "Rate limit exceeded")
        # Another API of the same org has its own budget.
        got = await client.get("/v1.1/customer/get?mobile=919876590000", headers=basic(spec.till))
        assert got.status_code == 200


async def test_v2_answers_429_in_its_own_shape(database_url: str, org_spec: OrgSpec) -> None:
    spec = await limited_org(database_url, org_spec, {"GET /v2/extendedFields": 1})
    async with client_for(database_url) as client:
        assert (await client.get("/v2/extendedFields", headers=basic(spec.till))).status_code == 200
        response = await client.get("/v2/extendedFields", headers=basic(spec.till))
        assert response.status_code == 429
        assert response.json()["errors"][0]["code"] == 429


async def test_repeated_failed_logins_lock_the_till_for_a_while(database_url: str, org_spec: OrgSpec) -> None:
    await load_org(database_url, org_spec)
    async with client_for(database_url, failed_logins_per_5_minutes=3) as client:
        path = "/v1.1/customer/get?mobile=919876590000"
        codes = [
            (await client.get(path, headers=basic(org_spec.till, "guess"))).status_code for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        # Even the right password waits now: guessing must not pay off.
        right = await client.get(path, headers=basic(org_spec.till))
        assert right.status_code == 429
        assert "Retry-After" in right.headers


async def test_two_processes_sharing_redis_hold_one_limit(
    database_url: str, org_spec: OrgSpec, redis_url: str
) -> None:
    spec = await limited_org(database_url, org_spec, {"GET /v1.1/customer/get": 10})
    prefix = f"test-{uuid.uuid4().hex}"
    async with (
        client_for(database_url, redis_url=redis_url, rate_limit_prefix=prefix) as first,
        client_for(database_url, redis_url=redis_url, rate_limit_prefix=prefix) as second,
    ):
        allowed = 0
        for n in range(30):
            client = first if n % 2 else second
            response = await client.get("/v1.1/customer/get?mobile=919876590000", headers=basic(spec.till))
            allowed += response.status_code != 429
        assert allowed == 10
