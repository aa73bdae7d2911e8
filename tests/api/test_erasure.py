"""CUSTOMER DELETE requests (companion-apis.md §g): personal data erased everywhere, counts kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from memberbase.cli.main import app as cli
from memberbase.storage import tables
from memberbase.storage.database import create_engine
from tests.support import Api, OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio

MOBILE, EMAIL, NAME, CARD = "919876592001", "erase.me@example.com", "Erasmus", "55512345"
LABELS = [
    {"label": "Member", "status": "Active", "default": True},
    {"label": "Leaving", "status": "Pending deletion"},
    {"label": "Gone", "status": "Deleted"},
]


async def org_with(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, spec: OrgSpec, **more: Any
) -> tuple[Api, Api]:
    spec.configs = {"CONF_ENABLE_PII_DELETION": True}
    spec.extra_tills = [f"{spec.till}-dpo"]
    spec.overrides = {
        "customer_status_labels": LABELS,
        "card_series": [{"id": 73, "code": "C", "number_length": 8, "status_labels": ["ACTIVE"]}],
        **more,
    }
    await load_org(database_url, spec)
    maker = Api(app_client[1], spec)
    checker = Api(app_client[1], spec)
    checker.auth = basic(f"{spec.till}-dpo")
    return maker, checker


async def full_customer(api: Api) -> int:
    body = {
        "profiles": [
            {
                "firstName": NAME,
                "lastName": "Rotterdam",
                "source": "INSTORE",
                "identifiers": [
                    {"type": "mobile", "value": MOBILE},
                    {"type": "email", "value": EMAIL},
                    {"type": "cardnumber", "value": CARD, "seriesId": 73, "statusLabel": "ACTIVE"},
                ],
                "fields": {"City_name": "Rotterdam"},
                "commChannels": [{"type": "email", "value": EMAIL, "primary": True}],
            }
        ],
        "extendedFields": {"gender": "Male"},
        "loyaltyProgramEnrollments": [{"programId": 469, "loyaltyPoints": 70}],
    }
    response = await api.v2_add(body, headers={"Idempotency-Key": "erase-reg-1"})
    assert response.status_code == 200, response.text
    customer_id = int(response.json()["createdId"])
    await api.update_one(
        {"id": str(customer_id), "lastname": "Desiderius"}, headers={"Idempotency-Key": "erase-upd-1"}
    )
    await api.client.put(
        f"/v2/customers/{customer_id}/status",
        json={"reason": f"{NAME} asked", "label": "Member"},
        headers=api.auth,
    )
    subs = {
        "subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTIN"}],
        "reason": f"{NAME} said yes",
    }
    await api.client.post(f"/v2/customers/{customer_id}/subscriptions", json=subs, headers=api.auth)
    return customer_id


def delete_body(**more: Any) -> dict[str, Any]:
    return {
        "type": "CUSTOMER",
        "baseType": "DELETE",
        "source": "INSTORE",
        "identifierType": "mobile",
        "identifierValue": MOBILE,
        **more,
    }


async def everything(database_url: str, org_id: int) -> str:
    """Every row of every table that belongs to the org, as text."""
    engine = create_engine(database_url)
    found = []
    try:
        async with engine.connect() as conn:
            for table in tables.metadata.sorted_tables:
                if "org_id" in table.c:
                    rows = (await conn.execute(sa.select(table).where(table.c.org_id == org_id))).all()
                    found += [repr(tuple(r)) for r in rows]
    finally:
        await engine.dispose()
    return "\n".join(found)


async def test_an_approved_deletion_erases_every_personal_value(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    maker, checker = await org_with(app_client, database_url, org_spec)
    customer_id = await full_customer(maker)
    before = await everything(database_url, org_spec.org_id)
    assert all(v in before for v in (MOBILE, EMAIL, NAME, CARD, "Rotterdam"))
    created = await maker.client.post(
        "/v2/requests", json=delete_body(comments=f"for {NAME}"), headers=maker.auth
    )
    assert created.status_code == 200, created.text
    request_id = created.json()["createdId"]
    approve = [{"type": "CUSTOMER", "baseType": "DELETE", "id": request_id, "status": "APPROVED"}]
    done = await checker.client.put("/v2/requests", json=approve, headers=checker.auth)
    assert done.json()["failureCount"] == 0, done.text
    after = await everything(database_url, org_spec.org_id)
    for value in (MOBILE, EMAIL, NAME, CARD, "Rotterdam", "Desiderius"):
        assert value not in after, value
    # Counts and anonymous totals remain: the enrolment and its ledger entries.
    assert "'customer.deleted'" in after
    got = (await maker.get(id=str(customer_id))).json()["response"]["customers"]["customer"][0]
    assert got["item_status"]["code"] == "8109"
    v2 = await maker.v2_get(f"/v2/customers/{customer_id}")
    assert v2.json()["errors"][0]["code"] == 8109
    again = await maker.v2_add(
        {"profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "value": MOBILE}]}]}
    )
    assert again.status_code == 200
    assert again.json()["createdId"] != customer_id  # the identifiers were forgotten: a new customer
    state = (await maker.v2_get(f"/v2/requests/{request_id}")).json()
    assert state["status"] == "APPROVED"
    assert state["customerDeletionDetails"]["customerId"] == customer_id


async def test_deletion_needs_the_org_switch_and_a_known_customer(api: Api) -> None:
    off = await api.client.post("/v2/requests", json=delete_body(), headers=api.auth)
    assert off.json()["errors"][0]["code"] == 3232


async def test_a_waiting_period_marks_pending_deletion_then_erase_due_erases(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    maker, checker = await org_with(app_client, database_url, org_spec, erasure={"waiting_hours": 1})
    customer_id = await full_customer(maker)
    request_id = (await maker.client.post("/v2/requests", json=delete_body(), headers=maker.auth)).json()[
        "createdId"
    ]
    approve = [{"type": "CUSTOMER", "baseType": "DELETE", "id": request_id, "status": "APPROVED"}]
    assert (await checker.client.put("/v2/requests", json=approve, headers=checker.auth)).json()[
        "failureCount"
    ] == 0
    details = (await maker.v2_get(f"/v2/customers/{customer_id}")).json()
    assert "Leaving" in str(details)
    args = ["customers", "erase-due", "--org", str(org_spec.org_id), "--database-url", database_url]
    early = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(cli, args))
    assert "erased the customers of 0" in early.output, early.output
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            await conn.execute(
                tables.requests.update()
                .where(tables.requests.c.org_id == org_spec.org_id, tables.requests.c.id == request_id)
                .values(scheduled_for=past)
            )
    finally:
        await engine.dispose()
    due = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(cli, args))
    assert "erased the customers of 1" in due.output, due.output
    assert MOBILE not in await everything(database_url, org_spec.org_id)


async def test_the_audit_log_stays_append_only_outside_an_erasure(api: Api, engine_for: Any) -> None:
    added = await api.add_one({"mobile": "919876592009"})
    engine = engine_for()
    try:
        with pytest.raises(sa.exc.DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(
                    tables.audit_log.update()
                    .where(
                        tables.audit_log.c.org_id == api.spec.org_id,
                        tables.audit_log.c.customer_id == added["user_id"],
                    )
                    .values(changes={})
                )
    finally:
        await engine.dispose()
