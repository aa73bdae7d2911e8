"""The failed-login limit holds under concurrency: a slot is taken before each password check."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from memberbase.auth import passwords
from tests.api.test_rate_limits import client_for
from tests.support import OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio

PATH = "/v2/extendedFields"  # 200 for a till of the org, whatever it holds


def _counting(monkeypatch: pytest.MonkeyPatch, pause: float = 0.0) -> list[str]:
    """Record every slow check (after `pause` seconds in its thread, to hold it in flight)."""
    checked: list[str] = []
    real = passwords.verify_slow

    def verify(stored_hash: str, secret: str) -> bool:
        checked.append(secret)
        time.sleep(pause)
        return real(stored_hash, secret)

    monkeypatch.setattr(passwords, "verify_slow", verify)
    return checked


@pytest.mark.parametrize("store", ["in-process", "redis"])
async def test_200_concurrent_guesses_check_exactly_the_limit_and_refuse_the_rest(
    database_url: str, org_spec: OrgSpec, monkeypatch: pytest.MonkeyPatch, store: str, request: Any
) -> None:
    await load_org(database_url, org_spec)
    settings: dict[str, Any] = {"failed_logins_per_5_minutes": 10, "password_checks_queued": 300}
    if store == "redis":
        settings |= {"redis_url": request.getfixturevalue("redis_url"), "rate_limit_prefix": uuid.uuid4().hex}
    checked = _counting(monkeypatch)
    async with client_for(database_url, **settings) as client:
        guesses = [client.get(PATH, headers=basic(org_spec.till, f"guess-{n}")) for n in range(200)]
        answers = await asyncio.gather(*guesses)
    assert Counter(r.status_code for r in answers) == {401: 10, 429: 190}
    assert len(checked) == 10
    refused = next(r for r in answers if r.status_code == 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 300
    assert refused.headers["RateLimit-Remaining"] == "0"


async def test_a_right_password_gives_its_slot_back(database_url: str, org_spec: OrgSpec) -> None:
    await load_org(database_url, org_spec)
    async with client_for(database_url, failed_logins_per_5_minutes=2) as client:
        statuses = [(await client.get(PATH, headers=basic(org_spec.till))).status_code]  # a check
        for _ in range(3):
            statuses.append((await client.get(PATH, headers=basic(org_spec.till, "guess"))).status_code)
    assert statuses == [200, 401, 401, 429]


async def test_a_check_the_full_gate_refused_gives_its_slot_back(
    database_url: str, org_spec: OrgSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load_org(database_url, org_spec)
    _counting(monkeypatch, pause=0.5)
    settings = {"failed_logins_per_5_minutes": 2, "password_checks_at_once": 1, "password_checks_queued": 0}
    async with client_for(database_url, **settings) as client:
        guesses = [client.get(PATH, headers=basic(org_spec.till, f"guess-{n}")) for n in range(3)]
        answers = await asyncio.gather(*guesses)
        # One was checked and failed (one slot used); the two the gate refused used none.
        assert sorted(r.status_code for r in answers) == [401, 429, 429]
        right = await client.get(PATH, headers=basic(org_spec.till))
    assert right.status_code == 200


async def test_concurrent_client_secret_guesses_check_exactly_the_limit(
    database_url: str, org_spec: OrgSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"key-{org_spec.org_id}"
    api_client = {"key": key, "secret": "right-secret", "default_till": org_spec.till}
    org_spec.overrides = {"api_clients": [api_client]}
    await load_org(database_url, org_spec)
    checked: list[str] = []
    real = passwords.verify_exact

    def verify(stored_hash: str, secret: str) -> bool:
        checked.append(secret)
        return real(stored_hash, secret)

    monkeypatch.setattr(passwords, "verify_exact", verify)
    async with client_for(database_url, failed_logins_per_5_minutes=5, password_checks_queued=100) as client:
        guesses = [
            client.post("/v3/oauth/token/generate", json={"key": key, "secret": f"guess-{n}"})
            for n in range(50)
        ]
        answers = await asyncio.gather(*guesses)
    assert Counter(r.status_code for r in answers) == {401: 5, 429: 45}
    assert len(checked) == 5
