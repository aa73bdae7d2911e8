"""Verified logins are kept per process on PostgreSQL, and dropped as soon as any process
reloads the org or sees that login fail; SQLite (no change notices) checks every call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from memberbase.app import create_app
from memberbase.settings import Settings
from memberbase.storage.notices import APPLICATION_NAME
from tests.support import OrgSpec, basic, load_org, serving, until

pytestmark = pytest.mark.anyio
PATH = "/v1.1/customer/get?mobile=919876500001"


@asynccontextmanager
async def server(database_url: str, **settings: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(Settings(database_url=database_url, **settings))
    transport = httpx.ASGITransport(app=app)
    async with serving(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield app, client


def _count_checks(app: FastAPI) -> list[int]:
    """Count the calls that reach the till query and password check."""
    authenticator = app.state.services.authenticator
    checks = [0]
    real = authenticator.authenticate

    async def counted(header: str | None) -> Any:
        checks[0] += 1
        return await real(header)

    authenticator.authenticate = counted
    return checks


async def test_a_verified_login_is_checked_once_per_process_on_postgresql(
    database_url: str, org_spec: OrgSpec
) -> None:
    await load_org(database_url, org_spec)
    async with server(database_url) as (app, client):
        checks = _count_checks(app)
        for _ in range(3):
            assert (await client.get(PATH, headers=basic(org_spec.till))).status_code != 401
        assert (await client.get(PATH, headers=basic(org_spec.till, "wrong"))).status_code == 401
        postgres = database_url.startswith("postgresql")
        assert checks[0] == (2 if postgres else 4)


async def test_a_failed_login_in_another_process_brings_the_lockout_back(
    database_url: str, org_spec: OrgSpec, redis_url: str
) -> None:
    await load_org(database_url, org_spec)
    shared = {"redis_url": redis_url, "rate_limit_prefix": f"test-{uuid.uuid4().hex}"}
    async with (
        server(database_url, failed_logins_per_5_minutes=2, **shared) as (first_app, first),
        server(database_url, failed_logins_per_5_minutes=2, **shared) as (_, second),
    ):
        assert (await first.get(PATH, headers=basic(org_spec.till))).status_code != 401  # kept by `first`
        logins = first_app.state.services.logins
        seen = logins.generation
        for _ in range(2):
            assert (await second.get(PATH, headers=basic(org_spec.till, "guess"))).status_code == 401
        if logins.live:
            await until(lambda: logins.generation > seen, "the failed logins' notice")
        assert (await first.get(PATH, headers=basic(org_spec.till))).status_code == 429


async def test_a_lost_notice_feed_drops_the_cache_and_listens_again(
    database_url: str, org_spec: OrgSpec
) -> None:
    await load_org(database_url, org_spec)
    async with server(database_url) as (app, client):
        checks = _count_checks(app)
        logins = app.state.services.logins
        assert (await client.get(PATH, headers=basic(org_spec.till))).status_code != 401
        if not database_url.startswith("postgresql"):
            assert not logins.live  # SQLite: no notices, no feed, nothing kept
            return
        seen = logins.generation
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (APPLICATION_NAME,),
            )
        await until(lambda: logins.generation > seen, "the cache to hear the feed was lost")
        await until(lambda: logins.live, "the feed to listen again")
        assert (await client.get(PATH, headers=basic(org_spec.till))).status_code != 401
        assert checks[0] == 2  # checked again: what was kept may have missed notices
