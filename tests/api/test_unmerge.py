"""Un-merge: the victim comes back with exactly what it brought, unless something was used since."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memberbase.app import create_app
from memberbase.settings import Settings
from memberbase.storage import tables
from memberbase.storage.database import create_engine
from tests.support import Api, OrgSpec, load_org, serving

pytestmark = pytest.mark.anyio

_ORGS = itertools.count(700_000)


async def register(api: Api, profiles: list[dict[str, Any]], points: int, tier: int = 1) -> int:
    body = {
        "profiles": profiles,
        "loyaltyProgramEnrollments": [{"programId": 469, "tierNumber": tier, "loyaltyPoints": points}],
    }
    response = await api.v2_add(body)
    assert response.status_code == 200, response.text
    return int(response.json()["createdId"])


def instore(mobile: str, **more: Any) -> dict[str, Any]:
    return {"source": "INSTORE", "identifiers": [{"type": "mobile", "value": mobile}], **more}


def wechat(wx: str, *extra: dict[str, str], **more: Any) -> dict[str, Any]:
    return {
        "source": "WECHAT",
        "accountId": "wx-1",
        "identifiers": [{"type": "wechat", "value": wx}, *extra],
        **more,
    }


async def merge(api: Api, victim: int, mobile: str) -> str:
    response = await api.client.post(
        f"/v2/customers/{victim}/changeIdentifier",
        params={"source": "WECHAT", "accountId": "wx-1"},
        json={"add": [{"type": "mobile", "value": mobile}]},
        headers=api.auth,
    )
    assert response.status_code == 200, response.text
    records = (await api.v2_get(f"/v2/customers/{victim}/merges")).json()["data"]
    return str(records[-1]["id"])


async def undo(api: Api, merge_id: str) -> httpx.Response:
    return await api.client.post(f"/v2/merges/{merge_id}/undo", headers=api.auth)


_SNAPSHOT = {
    tables.customers: ("version", "updated_on"),
    tables.identifiers: (),
    tables.profiles: (),
    tables.cards: (),
    tables.enrolments: (),
    tables.coupons: (),
    tables.currency_balances: (),
    tables.referrals: (),
    tables.referral_codes: (),
    tables.subscriptions: (),
}


async def snapshot(database_url: str, org_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the org holds about customers, but for the version and change time."""
    engine = create_engine(database_url)
    found: dict[str, list[tuple[Any, ...]]] = {}
    try:
        async with engine.connect() as conn:
            for table, skipped in _SNAPSHOT.items():
                columns = [c for c in table.c if c.name not in skipped]
                rows = (await conn.execute(sa.select(*columns).where(table.c.org_id == org_id))).all()
                found[table.name] = sorted(tuple(repr(v) for v in r) for r in rows)
    finally:
        await engine.dispose()
    return found


async def test_undo_brings_the_victim_back(api: Api, database_url: str) -> None:
    survivor = await register(api, [instore("919876580001")], 100)
    victim = await register(
        api, [wechat("wx-u1", {"type": "email", "value": "u1@example.com"}, firstName="Vic")], 30
    )
    before = await snapshot(database_url, api.spec.org_id)
    merge_id = await merge(api, victim, "919876580001")
    record = (await api.v2_get(f"/v2/merges/{merge_id}")).json()
    assert (record["victimId"], record["survivorId"]) == (victim, survivor)
    response = await undo(api, merge_id)
    assert response.status_code == 200, response.text
    assert response.json()["victimId"] == victim
    after = await snapshot(database_url, api.spec.org_id)
    assert after == before
    lookup = await api.v2_get(
        "/v2/customers/lookup", source="ALL", identifierName="email", identifierValue="u1@example.com"
    )
    assert lookup.json()["entity"] == victim
    assert (await api.v2_get(f"/v2/merges/{merge_id}")).json()["undoneOn"] is not None
    again = await undo(api, merge_id)
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == 8325


async def test_undo_is_refused_when_something_moved_was_used(api: Api) -> None:
    survivor = await register(api, [instore("919876580002")], 100)
    victim = await register(api, [wechat("wx-u2", {"type": "email", "value": "u2@example.com"})], 30)
    merge_id = await merge(api, victim, "919876580002")
    removed = await api.client.post(
        f"/v2/customers/{survivor}/changeIdentifier",
        json={"remove": [{"type": "email", "value": "u2@example.com"}]},
        headers=api.auth,
    )
    assert removed.status_code == 200, removed.text
    refused = await undo(api, merge_id)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == 8324
    assert any("email:u2@example.com" in b for b in refused.json()["blockers"])


async def test_unknown_merge_and_credentials(api: Api, app_client: tuple[Any, httpx.AsyncClient]) -> None:
    assert (await undo(api, "no-such-merge")).status_code == 404
    assert (await api.v2_get("/v2/merges/no-such-merge")).status_code == 404
    assert (await app_client[1].post("/v2/merges/x/undo")).status_code == 401


async def test_caps_refuse_a_merge(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.overrides = {"merges": {"max_merges_per_customer": 1}}
    await load_org(database_url, org_spec)
    api = Api(app_client[1], org_spec)
    await register(api, [instore("919876580003")], 0)
    first = await register(api, [wechat("wx-c1")], 0)
    await merge(api, first, "919876580003")
    second = await register(api, [{**wechat("wx-c2"), "accountId": "wx-2"}], 0)
    response = await api.client.post(
        f"/v2/customers/{second}/changeIdentifier",
        params={"source": "WECHAT", "accountId": "wx-2"},
        json={"add": [{"type": "mobile", "value": "919876580003"}]},
        headers=api.auth,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 8322


_CASES = st.fixed_dictionaries(
    {
        "survivor_points": st.integers(0, 500),
        "victim_points": st.integers(0, 500),
        "survivor_tier": st.sampled_from([1, 2]),
        "victim_tier": st.sampled_from([1, 2]),
        "victim_email": st.booleans(),
        "victim_also_instore": st.booleans(),
        "survivor_name": st.sampled_from(["", "Sam"]),
        "victim_name": st.sampled_from(["", "Vic"]),
        "victim_field": st.booleans(),
        "victim_opted": st.booleans(),
    }
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_CASES)
def test_merge_then_unmerge_leaves_everything_as_before(database_url: str, case: dict[str, Any]) -> None:
    asyncio.run(_round_trip(database_url, case))


async def _round_trip(database_url: str, case: dict[str, Any]) -> None:
    n = next(_ORGS)
    spec = OrgSpec(org_id=n, till=f"till{n}")
    await load_org(database_url, spec)
    app = create_app(Settings(database_url=database_url))
    async with serving(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://memberbase.test") as client:
            api = Api(client, spec)
            mobile = f"9198765{n % 100000:05d}"
            await register(
                api,
                [instore(mobile, firstName=case["survivor_name"])],
                case["survivor_points"],
                case["survivor_tier"],
            )
            extra = [{"type": "email", "value": f"v{n}@example.com"}] if case["victim_email"] else []
            fields = {"fields": {"City_name": "Pune"}} if case["victim_field"] else {}
            profiles = [wechat(f"wx-{n}", *extra, firstName=case["victim_name"], **fields)]
            if case["victim_also_instore"]:
                profiles.append(instore(f"9198764{n % 100000:05d}"))
            victim = await register(api, profiles, case["victim_points"], case["victim_tier"])
            if case["victim_opted"]:
                opt = {
                    "subscriptions": [
                        {"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT", "accountId": ""}
                    ]
                }
                await api.client.post(f"/v2/customers/{victim}/subscriptions", json=opt, headers=api.auth)
            before = await snapshot(database_url, n)
            merge_id = await merge(api, victim, mobile)
            assert await snapshot(database_url, n) != before
            response = await undo(api, merge_id)
            assert response.status_code == 200, response.text
            assert await snapshot(database_url, n) == before


async def _log(api: Api, customer_id: int) -> list[tuple[str, str]]:
    response = await api.v2_get(f"/v2/customers/{customer_id}/subscriptions/log")
    assert response.status_code == 200, response.text
    return [(e["channel"], e["type"]) for e in response.json()["data"]]


async def test_the_consent_log_follows_the_merge_and_comes_back_with_the_undo(api: Api) -> None:
    """Issue 17 (1): the consent log moves with a merge. The log is append-only, so nothing is
    rewritten: the survivor's log reads the victim's entries too, the victim's id reads the
    survivor's log, the record counts what came along, and un-merge gives it back."""
    survivor = await register(api, [instore("919876580090")], 10)
    victim = await register(api, [wechat("wx-log")], 5)

    async def opt(customer: int, channel: str, kind: str) -> None:
        body = {"subscriptions": [{"channel": channel, "priority": "BULK", "type": kind, "accountId": ""}]}
        sent = await api.client.post(f"/v2/customers/{customer}/subscriptions", json=body, headers=api.auth)
        assert sent.status_code == 200, sent.text

    await opt(survivor, "SMS", "OPTIN")
    await opt(victim, "EMAIL", "OPTOUT")
    merge_id = await merge(api, victim, "919876580090")
    record = (await api.v2_get(f"/v2/merges/{merge_id}")).json()
    assert record["moved"]["consentLog"] == 1
    joined = await _log(api, survivor)
    assert ("EMAIL", "OPTOUT") in joined
    assert ("MOBILE", "OPTIN") in joined  # SMS reads as MOBILE
    assert await _log(api, victim) == joined
    assert (await undo(api, merge_id)).status_code == 200
    assert ("EMAIL", "OPTOUT") not in await _log(api, survivor)
    assert await _log(api, victim) == [("EMAIL", "OPTOUT")]
