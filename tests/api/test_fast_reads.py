"""The short way into customer/get and v2 lookup answers exactly as the usual way does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from memberbase.http.fast_reads import FastReads
from memberbase.http.v2 import routes as v2_routes
from tests.support import PASSWORD, Api, OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio

CALLS = [
    "/v1.1/customer/get?mobile=919876512301",
    "/v1.1/customer/get?mobile=919876512301,919876512399&user_id=true",
    "/v1.1/customer/get?email=FAST@example.com&format=xml",
    "/v1.1/customer/get?external_id=nobody",
    "/v1.1/customer/get",  # refused (400): the usual way answers it
    "/v1.1/customer/get?mobile=1&format=yaml",
    "/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=919876512301",
    "/v2/customers/lookup?source=WECHAT&accountId=wx-1&identifierName=mobile&identifierValue=919876512301",
    "/v2/customers/lookup?source=NOPE&identifierName=mobile&identifierValue=919876512301",
    "/v2/customers/lookup?source=INSTORE&identifierName=email&identifierValue=nobody@example.com",
    "/v1.1/customer/get?mobile=919876512301,919876512399&subscriptions=true",
]


def _answer(response: httpx.Response) -> tuple[int, str, bytes]:
    return response.status_code, response.headers["content-type"], response.content


def _short_ways(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    taken: list[bool] = []
    real = FastReads._answer

    async def traced(self: FastReads, *args: Any) -> Any:
        found = await real(self, *args)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(FastReads, "_answer", traced)
    return taken


async def test_the_short_way_answers_as_the_usual_way(
    api: Api, app_client: tuple[Any, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    await api.add_one({"mobile": "919876512301", "email": "fast@example.com", "external_id": "F1"})
    app = app_client[0]
    usual = []
    for path in CALLS:
        app.state.services.logins.forget_all()  # not yet verified: the usual way
        usual.append(_answer(await api.client.get(path, headers=api.auth)))
    taken = _short_ways(monkeypatch)
    short = [_answer(await api.client.get(path, headers=api.auth)) for path in CALLS]
    assert short == usual
    postgres = app.state.services.logins.live
    # Kept logins exist where change notices do: the short way answers all but the refused two.
    assert taken == [postgres and path not in (CALLS[4], CALLS[5]) for path in CALLS]


async def test_limits_are_counted_once_and_refusals_take_the_usual_way(
    app_client: tuple[Any, httpx.AsyncClient],
    database_url: str,
    org_spec: OrgSpec,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org_spec.overrides = {
        "rate_limits": {"per_minute": {"GET /v1.1/customer/get": 3}},
        "access_groups": [{"name": "nobody", "customer": "none"}],
        "tills": [
            {"code": org_spec.till, "password": PASSWORD},
            {"code": f"{org_spec.till}.no", "password": PASSWORD, "access_group": "nobody"},
        ],
    }
    await load_org(database_url, org_spec)
    app, client = app_client
    postgres = app.state.services.logins.live
    get = "/v1.1/customer/get?mobile=919876512301"
    auth = basic(org_spec.till)
    assert (await client.get(get, headers=auth)).status_code == 500  # 1st: verifies the login
    taken = _short_ways(monkeypatch)
    assert (await client.get(get, headers=auth)).status_code == 500  # 2nd: the short way
    # 3rd: the short way counts it, the endpoint refuses it, the usual way answers without counting again.
    assert (await client.get(f"{get}&format=yaml", headers=auth)).status_code == 400
    refused = await client.get(get, headers=auth)  # 4th: over the limit, answered the usual way
    assert (refused.status_code, refused.headers["RateLimit-Remaining"]) == (429, "0")
    assert taken == [postgres, False, False]

    taken.clear()
    lookup = "/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=919876512301"
    for _ in range(2):
        assert (await client.get(lookup, headers=basic(f"{org_spec.till}.no"))).status_code == 403
    assert not any(taken)


async def test_a_failure_on_the_short_way_is_answered_the_usual_way(
    api: Api, app_client: tuple[Any, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The short way sits outside FastAPI's error handling: whatever fails on it (here the
    # first read, as if the database had gone away) is answered by the usual way, with the
    # request id middleware around both.
    await api.add_one({"mobile": "919876512302"})
    path = "/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=919876512302"
    assert (await api.client.get(path, headers=api.auth)).status_code == 200  # a kept login now
    real = v2_routes.lookup
    failures = []

    async def fails_once(*args: Any) -> Any:
        if not failures:
            failures.append(1)
            raise RuntimeError("connection lost")
        return await real(*args)

    if not app_client[0].state.services.logins.live:
        return  # SQLite keeps no logins: there is no short way to fail on
    monkeypatch.setattr(v2_routes, "lookup", fails_once)
    taken = _short_ways(monkeypatch)
    answer = await api.client.get(path, headers=api.auth)
    assert answer.status_code == 200
    assert answer.headers["X-Cap-Requestid"]
    assert (failures, taken) == ([1], [False])
