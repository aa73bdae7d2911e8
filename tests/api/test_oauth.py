"""OAuth client credentials: token life cycle, attribution, revocation, access."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import jwt
import pytest

from memberbase.auth import tokens
from memberbase.auth.signing_keys import key_of
from tests.support import PASSWORD, OrgSpec, load_org

pytestmark = pytest.mark.anyio

SECRET = "Client-Secret-42"


@pytest.fixture
async def client_org(database_url: str, org_spec: OrgSpec) -> OrgSpec:
    till = org_spec.till
    org_spec.overrides = {
        "access_groups": [{"name": "readers", "customer": "read"}],
        "tills": [
            {"code": till, "password": PASSWORD},
            {"code": f"{till}.web", "password": PASSWORD, "store": "Web Shop"},
        ],
        "api_clients": [
            {
                "key": f"key-{org_spec.org_id}",
                "secret": SECRET,
                "default_till": till,
                "token_ttl_seconds": 600,
            },
            {
                "key": f"ro-{org_spec.org_id}",
                "secret": SECRET,
                "default_till": till,
                "access_group": "readers",
            },
        ],
    }
    await load_org(database_url, org_spec)
    return org_spec


async def token_for(client: httpx.AsyncClient, key: str, secret: str = SECRET) -> httpx.Response:
    return await client.post("/v3/oauth/token/generate", json={"key": key, "secret": secret})


def add_body(mobile: str) -> dict[str, Any]:
    return {"root": {"customer": [{"mobile": mobile}]}}


async def test_a_client_gets_a_token_naming_its_org(
    app_client: tuple[Any, httpx.AsyncClient], client_org: OrgSpec
) -> None:
    response = await token_for(app_client[1], f"key-{client_org.org_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] is None
    assert body["data"]["ttlSeconds"] == 600
    claims = jwt.decode(body["data"]["accessToken"], options={"verify_signature": False})
    assert (claims["org_id"], claims["client_id"], claims["exp"] - claims["iat"]) == (
        client_org.org_id,
        f"key-{client_org.org_id}",
        600,
    )


@pytest.mark.parametrize("secret", ["wrong-secret", SECRET.lower()])
async def test_a_wrong_secret_gets_320001(
    app_client: tuple[Any, httpx.AsyncClient], client_org: OrgSpec, secret: str
) -> None:
    response = await token_for(app_client[1], f"key-{client_org.org_id}", secret)
    assert response.status_code == 401
    assert response.json() == {
        "data": None,
        "errors": [{"code": 320001, "message": "Invalid client key and secret"}],
    }


async def test_an_unknown_key_and_a_malformed_body_are_refused(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    client = app_client[1]
    assert (await token_for(client, "no-such-key")).json()["errors"][0]["code"] == 320001
    malformed = await client.post("/v3/oauth/token/generate", json={"key": 5})
    assert malformed.status_code == 400
    assert malformed.json()["data"] is None


async def test_a_token_registers_as_the_clients_default_till_or_the_attributed_one(
    app_client: tuple[Any, httpx.AsyncClient], client_org: OrgSpec
) -> None:
    client = app_client[1]
    token = (await token_for(client, f"key-{client_org.org_id}")).json()["data"]["accessToken"]
    headers = {"X-CAP-API-OAUTH-TOKEN": token}
    first = await client.post("/v1.1/customer/add", json=add_body("919876590001"), headers=headers)
    assert first.status_code == 200, first.text
    attributed = {**headers, "X-CAP-API-ATTRIBUTION-TILL-CODE": f"{client_org.till}.web"}
    second = await client.post("/v1.1/customer/add", json=add_body("919876590002"), headers=attributed)
    assert second.status_code == 200
    for mobile, till in [("919876590001", client_org.till), ("919876590002", f"{client_org.till}.web")]:
        got = await client.get(f"/v1.1/customer/get?mobile={mobile}", headers={"CAP-API-ACCESS-TOKEN": token})
        assert got.json()["response"]["customers"]["customer"][0]["registered_till"]["code"] == till


async def test_attribution_to_a_till_outside_the_org_is_refused(
    app_client: tuple[Any, httpx.AsyncClient], client_org: OrgSpec
) -> None:
    client = app_client[1]
    token = (await token_for(client, f"key-{client_org.org_id}")).json()["data"]["accessToken"]
    headers = {"X-CAP-API-OAUTH-TOKEN": token, "X-CAP-API-ATTRIBUTION-ENTITY-CODE": "someone.elses.till"}
    response = await client.post("/v1.1/customer/add", json=add_body("919876590003"), headers=headers)
    assert response.status_code == 400
    assert response.json()["response"]["status"]["code"] == 91021


async def test_an_expired_token_answers_498_with_the_expiry_time(
    app_client: tuple[Any, httpx.AsyncClient], client_org: OrgSpec
) -> None:
    app, client = app_client
    key = app.state.services.oauth.keys.current
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    token = tokens.issue(key, client_org.org_id, f"key-{client_org.org_id}", 60, past)
    response = await client.get("/v1.1/customer/get?mobile=1", headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert response.status_code == 498
    status = response.json()["response"]["status"]
    assert status["code"] == 498
    assert status["message"].startswith("Token expired at ")
    v2 = await client.get("/v2/extendedFields", headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert (v2.status_code, v2.json()["errors"][0]["code"]) == (498, 498)


@pytest.mark.parametrize("mangle", ["tamper", "garbage", "other-key"])
async def test_an_invalid_token_answers_401(
    app_client: tuple[Any, httpx.AsyncClient], client_org: OrgSpec, mangle: str
) -> None:
    client = app_client[1]
    token = (await token_for(client, f"key-{client_org.org_id}")).json()["data"]["accessToken"]
    if mangle == "tamper":
        head, body, sig = token.split(".")
        token = f"{head}.{body}.{sig[:-2]}xx"
    elif mangle == "garbage":
        token = "not-a-jwt"
    else:
        token = tokens.issue(
            key_of("a-signing-key-that-is-not-the-one-the-server-uses"),
            client_org.org_id,
            f"key-{client_org.org_id}",
            60,
            dt.datetime.now(dt.UTC),
        )
    response = await client.get("/v1.1/customer/get?mobile=1", headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert response.status_code == 401


async def test_removing_a_client_revokes_its_tokens(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, client_org: OrgSpec
) -> None:
    client = app_client[1]
    token = (await token_for(client, f"ro-{client_org.org_id}")).json()["data"]["accessToken"]
    headers = {"X-CAP-API-OAUTH-TOKEN": token}
    assert (await client.get("/v2/extendedFields", headers=headers)).status_code == 200
    client_org.overrides["api_clients"] = client_org.overrides["api_clients"][:1]
    await load_org(database_url, client_org)
    assert (await client.get("/v2/extendedFields", headers=headers)).status_code == 401


async def test_a_clients_access_group_applies(
    app_client: tuple[Any, httpx.AsyncClient], client_org: OrgSpec
) -> None:
    client = app_client[1]
    token = (await token_for(client, f"ro-{client_org.org_id}")).json()["data"]["accessToken"]
    headers = {"X-CAP-API-OAUTH-TOKEN": token}
    assert (await client.get("/v1.1/customer/get?mobile=919876590001", headers=headers)).status_code != 403
    denied = await client.post("/v1.1/customer/add", json=add_body("919876590004"), headers=headers)
    assert denied.status_code == 403
    assert denied.json()["response"]["status"]["code"] == 4000


async def test_secrets_never_reach_the_stored_config(
    database_url: str, client_org: OrgSpec, engine_for: Any
) -> None:
    import sqlalchemy as sa

    from memberbase.storage.tables import orgs

    engine = engine_for()
    try:
        async with engine.connect() as conn:
            stored = (
                await conn.execute(sa.select(orgs.c.config).where(orgs.c.id == client_org.org_id))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert SECRET not in str(stored)
    assert PASSWORD not in str(stored)
