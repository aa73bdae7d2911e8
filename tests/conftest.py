"""Fixtures: real databases (SQLite and PostgreSQL), a fresh org per test, an API client.

Isolation is by org: every test registers its own org and tills, so tests never
see each other's customers (which is also the product's isolation promise).
PostgreSQL tests are skipped only when the server is unreachable on a developer
machine; under CI=true an unreachable server fails the run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest import mock

import httpx
import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text

from memberbase.app import create_app
from memberbase.settings import Settings
from memberbase.storage import schema
from memberbase.storage.database import create_engine
from tests.support import Api, OrgSpec, load_org, serving

POSTGRES_ADMIN_URL = os.environ.get(
    "MEMBERBASE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_DB = f"memberbase_test_{os.getpid()}"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


TEST_SECRET_KEY = "memberbase-tests-signing-key-0123456789abcdef"


@pytest.fixture(scope="session", autouse=True)
def secret_key() -> Iterator[str]:
    """A PostgreSQL deployment refuses to start without a signing key (auth/signing_keys.py):
    the tests' apps get theirs as production does, from the environment (a test of the
    refusal passes `secret_key=None`, which outranks it)."""
    with mock.patch.dict(os.environ, {"MEMBERBASE_SECRET_KEY": TEST_SECRET_KEY}):
        yield TEST_SECRET_KEY


def postgres_database(name: str) -> Iterator[str]:
    """A new PostgreSQL database `name` at head, dropped afterwards; unreachable server: a
    skip on a developer machine, a failure under CI=true."""
    admin = POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        engine = create_sync_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is down or refuses us
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        schema.upgrade(url)
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _postgres_url() -> Iterator[str]:
    yield from postgres_database(TEST_DB)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'memberbase.db'}"
        schema.upgrade(url)
        yield url
    else:
        yield from _postgres_url()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis; never skipped under CI=true."""
    import socket

    url = os.environ.get("MEMBERBASE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI=true and is unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return url


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The machine's NATS JetStream; never skipped under CI=true (.ci/run starts it)."""
    import socket

    url = os.environ.get("MEMBERBASE_TEST_NATS_URL", "nats://127.0.0.1:4222")
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"NATS is required under CI=true and is unreachable: {exc}")
        pytest.skip(f"NATS unreachable: {exc}")
    return url


_ids = itertools.count(1000)


@pytest.fixture
def org_spec() -> OrgSpec:
    """A fresh org with one till; tests change its configs before loading it."""
    n = next(_ids)
    return OrgSpec(org_id=n, till=f"till{n}")


@pytest.fixture
async def app_client(database_url: str) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(Settings(database_url=database_url, batch_limit=100, max_body_bytes=1_048_576))
    async with serving(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://memberbase.test") as client:
            yield app, client


@pytest.fixture
async def api(app_client: tuple[Any, httpx.AsyncClient], org_spec: OrgSpec, database_url: str) -> Api:
    """An API client logged in as the till of a freshly loaded org (default configuration)."""
    _, client = app_client
    await load_org(database_url, org_spec)
    return Api(client, org_spec)


@pytest.fixture
def engine_for(database_url: str) -> Any:
    """Build an async engine on the test database (the caller disposes of it)."""
    return lambda: create_engine(database_url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skipped test is a failed one: CI must run everything it claims to
    (a service down, a browser missing), never pass by skipping it."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"
