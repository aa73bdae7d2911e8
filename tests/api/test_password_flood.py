"""Wrong passwords in bulk: answered 401 or 429, never 5xx, and no connection held across a hash."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from memberbase.auth import passwords
from memberbase.settings import Settings
from tests.api.test_rate_limits import client_for
from tests.support import OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio

PATH = "/v2/extendedFields"  # 200 for a till of the org, whatever it holds


async def _flood(client: httpx.AsyncClient, headers: list[dict[str, str]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*(client.get(PATH, headers=h) for h in headers)))


async def test_200_concurrent_wrong_passwords_answer_401_or_429_never_5xx(
    database_url: str, org_spec: OrgSpec
) -> None:
    await load_org(database_url, org_spec)
    settings: dict[str, Any] = {
        "db_pool_size": 2,  # three connections at most: holding one across a hash starves the rest
        "password_checks_at_once": 1,
        "password_checks_queued": 2,
        "failed_logins_per_5_minutes": 10_000,  # the gate alone is under test here
    }
    async with client_for(database_url, **settings) as client:
        # The till's own calls, logged in before the flood (memoised, as a working till is).
        assert (await client.get(PATH, headers=basic(org_spec.till))).status_code == 200
        guesses = [basic(org_spec.till, f"guess-{n}") for n in range(100)]
        strangers = [basic(f"no.such.till.{n}", "guess") for n in range(100)]
        flood = asyncio.ensure_future(_flood(client, guesses + strangers))
        meanwhile = [await client.get(PATH, headers=basic(org_spec.till)) for _ in range(5)]
        answers = await flood
    statuses = Counter(r.status_code for r in answers)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses[429] > 0, statuses  # the gate refused some
    assert statuses[401] > 0, statuses  # and checked others
    assert all(int(r.headers["Retry-After"]) >= 1 for r in answers if r.status_code == 429)
    assert [r.status_code for r in meanwhile] == [200] * 5


async def test_no_connection_is_held_while_a_password_is_checked(
    database_url: str, org_spec: OrgSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load_org(database_url, org_spec)
    held: list[int] = []
    async with client_for(database_url) as client:
        pool: Any = client._transport.app.state.services.engine.sync_engine.pool  # type: ignore[attr-defined]
        real = passwords.verify_slow

        def verify(stored_hash: str, secret: str) -> bool:
            held.append(pool.checkedout())
            return real(stored_hash, secret)

        monkeypatch.setattr(passwords, "verify_slow", verify)
        wrong = await client.get(PATH, headers=basic(org_spec.till, "wrong"))
        unknown = await client.get(PATH, headers=basic("no.such.till", "wrong"))
        right = await client.get(PATH, headers=basic(org_spec.till))
    assert (wrong.status_code, unknown.status_code, right.status_code) == (401, 401, 200)
    assert held == [0, 0, 0]


async def test_one_wrong_password_sent_at_once_many_times_is_checked_once(
    database_url: str, org_spec: OrgSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load_org(database_url, org_spec)
    checks: list[str] = []
    real = passwords.verify_slow

    def verify(stored_hash: str, secret: str) -> bool:
        checks.append(secret)
        return real(stored_hash, secret)

    monkeypatch.setattr(passwords, "verify_slow", verify)
    async with client_for(database_url, failed_logins_per_5_minutes=10_000) as client:
        answers = await _flood(client, [basic(org_spec.till, "same-guess")] * 30)
    assert {r.status_code for r in answers} == {401}
    assert len(checks) < 30


def test_password_checks_default_to_half_the_cores_at_most_four() -> None:
    assert 1 <= Settings().password_checks_at_once <= 4


async def test_concurrent_failures_of_one_login_are_announced_once_at_a_time(
    database_url: str, org_spec: OrgSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each announcement is a NOTIFY round trip on a pooled connection: 200 of them at once
    # took the pool from the callers who logged in right.
    from memberbase.http import deps

    await load_org(database_url, org_spec)
    announced: list[str] = []

    async def announce(_engine: object, _channel: str, payload: str) -> None:
        announced.append(payload)
        await asyncio.sleep(0.2)  # a round trip, during which the others fail too

    monkeypatch.setattr(deps, "announce_now", announce)
    async with client_for(database_url, failed_logins_per_5_minutes=10_000) as client:
        answers = await _flood(client, [basic(org_spec.till, "same-guess")] * 30)
    assert {r.status_code for r in answers} == {401}
    assert 1 <= len(announced) < 30
    assert set(announced) == {org_spec.till}
