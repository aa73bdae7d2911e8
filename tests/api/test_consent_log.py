"""The consent log (evidence of every subscription instruction), the audit row, the event, access."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from memberbase.storage.audit import AuditRepository
from tests.support import PASSWORD, Api, OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio

USER_CONTEXT = {
    "USER-CONTEXT-ENTITY-TYPE": "Intouch Admin User",
    "USER-CONTEXT-ENTITY-ID": "3124587",
    "USER-CONTEXT-ENTITY-SOURCE": "API",
    "USER-CONTEXT-ENTITY-SOURCE-ID": "pos-7",
}


async def register(api: Api, mobile: str) -> int:
    added = await api.add_one({"mobile": mobile})
    uid: int = added["user_id"]
    return uid


async def v11(api: Api, item: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return await api.client.post(
        "/v1.1/customer/subscriptions",
        json={"root": {"subscription": [item]}},
        headers={**api.auth, **(headers or {})},
    )


async def v2(
    api: Api, uid: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await api.client.put(
        f"/v2/customers/{uid}/subscriptions", json=body, headers={**api.auth, **(headers or {})}
    )


async def log_of(api: Api, uid: int) -> list[dict[str, Any]]:
    response = await api.v2_get(f"/v2/customers/{uid}/subscriptions/log")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def query(engine_for: Any, sql: str, **params: Any) -> list[Any]:
    engine = engine_for()
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(sa.text(sql), params)).all())
    finally:
        await engine.dispose()


async def test_every_instruction_is_logged_with_its_evidence(api: Api) -> None:
    uid = await register(api, "919876620001")
    item = {
        "mobile": "919876620001",
        "channel": "email",
        "priority": "BULK",
        "is_subscribed": "0",
        "reason": "unsubscribe link",
        "consent_text": "Send me offers by email",
        "consent_version": "email-offers-v3",
    }
    await v11(api, item, headers=USER_CONTEXT)
    body = {
        "reason": "app settings",
        "campaignId": 77,
        "consentVersion": "app-v1",
        "subscriptions": [
            {"channel": "EMAIL", "priority": "BULK", "type": "OPTIN", "orgUnitId": 5},
            {
                "channel": "MOBILE",
                "priority": "TRANS",
                "type": "OPTIN",
                "consentText": "Texts about my orders",
            },
        ],
    }
    await v2(api, uid, body)
    await v11(api, {**item, "reason": None, "consent_text": None, "consent_version": None})
    log = await log_of(api, uid)
    assert [(e["channel"], e["priority"], e["previousType"], e["type"], e["changed"]) for e in log] == [
        ("EMAIL", "BULK", "NOT_SET", "OPTOUT", True),
        ("EMAIL", "BULK", "OPTOUT", "OPTIN", True),
        ("MOBILE", "TRANS", "NOT_SET", "OPTIN", True),
        ("EMAIL", "BULK", "OPTIN", "OPTOUT", True),
    ]
    first, second, third, _ = log
    assert first["reason"] == "unsubscribe link"
    assert (first["consentText"], first["consentVersion"]) == ("Send me offers by email", "email-offers-v3")
    assert first["createdBy"] == {"code": api.spec.till, "type": "TILL"}
    assert first["via"] == "v1.1"
    assert first["userContextDetails"] == {
        "entityType": "Intouch Admin User",
        "entityId": "3124587",
        "entitySource": "API",
        "entitySourceId": "pos-7",
    }
    assert len(first["requestId"]) == 32
    assert (first["sourceName"], first["accountId"]) == ("INSTORE", "")
    assert second["via"] == "v2"
    assert (second["reason"], second["consentVersion"], second["consentText"]) == (
        "app settings",
        "app-v1",
        None,
    )
    assert (second["campaignId"], second["orgUnitId"]) == ("77", "5")
    assert third["consentText"] == "Texts about my orders"
    assert second["createdOn"].endswith("+05:30")  # the org's zone


async def test_a_confirmation_is_logged_but_changes_nothing_else(api: Api, engine_for: Any) -> None:
    uid = await register(api, "919876620002")
    item = {"mobile": "919876620002", "channel": "sms", "priority": "BULK", "is_subscribed": "1"}
    await v11(api, item)  # NOT_SET -> SUBSCRIBED: a change of record, though the default was alike
    await v11(api, item)  # the same again: evidence only
    log = await log_of(api, uid)
    assert [(e["previousType"], e["type"], e["changed"]) for e in log] == [
        ("NOT_SET", "OPTIN", True),
        ("OPTIN", "OPTIN", False),
    ]
    audits = await query(
        engine_for,
        "SELECT action FROM audit_log WHERE org_id = :org AND customer_id = :id"
        " AND action = 'subscription.changed'",
        org=api.spec.org_id,
        id=uid,
    )
    assert len(audits) == 1


async def test_a_change_writes_an_audit_row_and_one_event_but_no_customer_updated(
    api: Api, engine_for: Any
) -> None:
    uid = await register(api, "919876620003")
    body = {
        "subscriptions": [
            {"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT"},
            {"channel": "EMAIL", "priority": "TRANS", "type": "OPTOUT"},
        ]
    }
    await v2(api, uid, body, headers=USER_CONTEXT)
    engine = engine_for()
    try:
        async with engine.connect() as conn:
            rows = await AuditRepository(conn, api.spec.org_id).for_customer(uid)
    finally:
        await engine.dispose()
    assert [r.action for r in rows] == ["customer.registered", "subscription.changed"]
    assert rows[1].user_context is not None
    assert rows[1].changes == {
        "subscriptions": [
            {
                "channel": "EMAIL",
                "priority": "BULK",
                "source": "INSTORE",
                "accountId": "",
                "from": "NOT_SET",
                "to": "OPTOUT",
            },
            {
                "channel": "EMAIL",
                "priority": "TRANS",
                "source": "INSTORE",
                "accountId": "",
                "from": "NOT_SET",
                "to": "OPTOUT",
            },
        ]
    }
    events = await query(
        engine_for,
        "SELECT type FROM outbox WHERE org_id = :org AND customer_id = :id ORDER BY id",
        org=api.spec.org_id,
        id=uid,
    )
    types = [e.type for e in events]
    assert types.count("subscription.changed") == 1
    assert "customer.updated" not in types


async def test_the_audit_api_shows_subscription_status_events(api: Api) -> None:
    uid = await register(api, "919876620004")
    await v2(api, uid, {"subscriptions": [{"channel": "MOBILE", "priority": "BULK", "type": "OPTOUT"}]})
    response = await api.v2_get(
        "/api_gateway/v2/audits", entityType="CUSTOMER", entityId=str(uid), referenceType="SubscriptionStatus"
    )
    assert response.status_code == 200, response.text
    events = [e for row in response.json()["data"] for e in row["events"]]
    assert events == [
        {
            "eventType": "SubscriptionStatus",
            "updatedField": "SMS.BULK",
            "additionalFields": {"previousValue": "NA", "currentValue": "OPTOUT"},
            "associateEntities": [],
        }
    ]


async def test_skip_downstream_keeps_the_log_and_audit_but_sends_no_event(api: Api, engine_for: Any) -> None:
    uid = await register(api, "919876620005")
    skip = {"SKIP-DOWNSTREAM": "true"}
    await v2(api, uid, {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT"}]}, skip)
    await v11(api, {"id": str(uid), "channel": "sms", "priority": "BULK", "is_subscribed": "0"}, skip)
    assert len(await log_of(api, uid)) == 2
    sql = "SELECT count(*) FROM {} WHERE org_id = :org AND customer_id = :id AND {} = 'subscription.changed'"
    ids = {"org": api.spec.org_id, "id": uid}
    assert (await query(engine_for, sql.format("audit_log", "action"), **ids))[0][0] == 2
    assert (await query(engine_for, sql.format("outbox", "type"), **ids))[0][0] == 0


@pytest.mark.parametrize("statement", ["UPDATE consent_log SET reason = 'x'", "DELETE FROM consent_log"])
async def test_the_database_refuses_to_rewrite_the_consent_log(
    api: Api, engine_for: Any, statement: str
) -> None:
    uid = await register(api, "919876620006")
    await v2(api, uid, {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT"}]})
    engine = engine_for()
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                await conn.execute(sa.text(f"{statement} WHERE org_id = :org"), {"org": api.spec.org_id})
    finally:
        await engine.dispose()


def test_no_code_updates_or_deletes_consent_log_rows() -> None:
    # The one exception: an erasure blanks the personal values of its customer's entries
    # (storage/erasure.py), through the grant the log's trigger checks (tests/api/test_erasure.py).
    src = Path(__file__).resolve().parents[2] / "src" / "memberbase"
    for path in src.rglob("*.py"):
        if "migrations" in path.parts or path.name == "erasure.py":
            continue
        text = path.read_text()
        assert not re.search(r"consent_log\s*\.\s*(update|delete)\s*\(", text), path
        assert not re.search(r"(UPDATE|DELETE\s+FROM)\s+consent_log", text, re.IGNORECASE), path


async def test_the_log_of_an_unknown_customer_is_1012(api: Api) -> None:
    response = await api.v2_get("/v2/customers/999999999/subscriptions/log")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == 1012


async def test_another_orgs_customer_is_not_found(api: Api, database_url: str, org_spec: OrgSpec) -> None:
    uid = await register(api, "919876620007")
    other = OrgSpec(org_id=org_spec.org_id + 50_000, till=f"{org_spec.till}.other")
    await load_org(database_url, other)
    stranger = basic(other.till)
    body = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT"}]}
    for response in (
        await api.client.put(f"/v2/customers/{uid}/subscriptions", json=body, headers=stranger),
        await api.client.get(f"/v2/customers/{uid}/subscriptions/log", headers=stranger),
    ):
        assert response.status_code == 404
    assert await log_of(api, uid) == []


async def test_an_api_client_is_named_in_the_log(api: Api, database_url: str, org_spec: OrgSpec) -> None:
    org_spec.overrides = {
        "api_clients": [
            {"key": f"key-{org_spec.org_id}", "secret": "Client-Secret-42", "default_till": org_spec.till}
        ]
    }
    await load_org(database_url, org_spec)
    token = await api.client.post(
        "/v3/oauth/token/generate", json={"key": f"key-{org_spec.org_id}", "secret": "Client-Secret-42"}
    )
    headers = {"X-CAP-API-OAUTH-TOKEN": token.json()["data"]["accessToken"]}
    uid = await register(api, "919876620008")
    body = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT"}]}
    response = await api.client.put(f"/v2/customers/{uid}/subscriptions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    entry = (await log_of(api, uid))[0]
    assert (entry["apiClient"], entry["createdBy"]["code"]) == (f"key-{org_spec.org_id}", org_spec.till)


@pytest.fixture
async def reader(database_url: str, org_spec: OrgSpec) -> dict[str, str]:
    till = org_spec.till
    org_spec.overrides = {
        "access_groups": [{"name": "auditors", "customer": "read"}, {"name": "nobody", "customer": "none"}],
        "tills": [
            {"code": till, "password": PASSWORD},
            {"code": f"{till}.ro", "password": PASSWORD, "access_group": "auditors"},
            {"code": f"{till}.no", "password": PASSWORD, "access_group": "nobody"},
        ],
    }
    await load_org(database_url, org_spec)
    return {"read": f"{till}.ro", "none": f"{till}.no"}


async def test_changes_need_write_access_and_reads_need_read_access(api: Api, reader: dict[str, str]) -> None:
    uid = await register(api, "919876620009")
    body = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT"}]}
    v11_body = {
        "root": {
            "subscription": [{"id": str(uid), "channel": "sms", "priority": "BULK", "is_subscribed": "0"}]
        }
    }
    ro, nobody = basic(reader["read"]), basic(reader["none"])
    writes = [
        ("PUT", f"/v2/customers/{uid}/subscriptions", body),
        ("POST", "/v1.1/customer/subscriptions", v11_body),
    ]
    reads = [
        ("GET", f"/v2/customers/{uid}/subscriptions", None),
        ("GET", f"/v2/customers/{uid}/subscriptions/log", None),
        ("GET", f"/v1.1/customer/subscriptions?id={uid}", None),
    ]
    for method, path, payload in writes:
        assert (await api.client.request(method, path, json=payload, headers=ro)).status_code == 403
    for method, path, payload in reads:
        assert (await api.client.request(method, path, json=payload, headers=ro)).status_code == 200
        assert (await api.client.request(method, path, json=payload, headers=nobody)).status_code == 403
    assert await log_of(api, uid) == []


async def test_concurrent_changes_chain_their_previous_states(api: Api) -> None:
    import anyio

    uid = await register(api, "919876620010")
    statuses: list[int] = []

    async def toggle(n: int) -> None:
        kind = "OPTIN" if n % 2 else "OPTOUT"
        body = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": kind}]}
        statuses.append((await v2(api, uid, body)).status_code)

    async def batch(n: int) -> None:
        items = [
            {"id": str(uid), "channel": "email", "priority": "BULK", "is_subscribed": str(n % 2)},
            {"id": str(uid), "channel": "sms", "priority": "BULK", "is_subscribed": "1"},
        ]
        response = await api.client.post(
            "/v1.1/customer/subscriptions", json={"root": {"subscription": items}}, headers=api.auth
        )
        statuses.append(response.status_code)

    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(toggle if n % 3 else batch, n)
    assert statuses == [200] * 20
    email = [e for e in await log_of(api, uid) if e["channel"] == "EMAIL"]
    assert len(email) == 20
    assert email[0]["previousType"] == "NOT_SET"
    for before, after in itertools.pairwise(email):
        assert after["previousType"] == before["type"]
