"""Every registration and update writes an audit row in the same transaction."""

from __future__ import annotations

from typing import Any

import pytest

from memberbase.storage.audit import AuditRepository
from tests.support import Api

pytestmark = pytest.mark.anyio

USER_CONTEXT = {
    "USER-CONTEXT-ENTITY-TYPE": "Intouch Admin User",
    "USER-CONTEXT-ENTITY-ID": "3124587",
    "USER-CONTEXT-ENTITY-SOURCE": "API",
    "USER-CONTEXT-ENTITY-SOURCE-ID": "pos-7",
}


async def audit_rows(engine_for: Any, org_id: int, customer_id: int) -> list[Any]:
    engine = engine_for()
    try:
        async with engine.connect() as conn:
            return await AuditRepository(conn, org_id).for_customer(customer_id)
    finally:
        await engine.dispose()


async def test_registration_and_update_are_audited_with_who_when_what(api: Api, engine_for: Any) -> None:
    first = await api.add_one({"mobile": "919876540001", "firstname": "Ann"}, headers=USER_CONTEXT)
    await api.add_one({"mobile": "919876540001", "firstname": "Anna"})
    rows = await audit_rows(engine_for, api.spec.org_id, first["user_id"])
    assert [r.action for r in rows] == ["customer.registered", "customer.updated"]
    registered, updated = rows
    assert registered.till_code == api.spec.till
    assert registered.changes["mobile"] == "919876540001"
    assert registered.user_context == {
        "entityType": "Intouch Admin User",
        "entityId": "3124587",
        "entitySource": "API",
        "entitySourceId": "pos-7",
    }
    assert len(registered.request_id) == 32
    assert updated.changes["firstname"] == {"from": "Ann", "to": "Anna"}
    assert updated.user_context is None


async def test_a_failed_item_writes_no_audit_row(api: Api, engine_for: Any) -> None:
    first = await api.add_one({"mobile": "919876540002"})
    await api.add_one({"mobile": "919876540002", "type": "NON_LOYALTY"})  # 1046
    rows = await audit_rows(engine_for, api.spec.org_id, first["user_id"])
    assert [r.action for r in rows] == ["customer.registered"]


async def test_v2_registration_and_merge_are_audited_with_user_context(api: Api, engine_for: Any) -> None:
    body = {"profiles": [{"identifiers": [{"type": "mobile", "value": "919876540003"}], "source": "INSTORE"}]}
    created = (await api.v2_add(body, headers=USER_CONTEXT)).json()["createdId"]
    body["profiles"][0]["source"] = "ECOMMERCE"
    await api.v2_add(body)
    rows = await audit_rows(engine_for, api.spec.org_id, created)
    assert [r.action for r in rows] == ["customer.registered", "customer.merged"]
    assert rows[0].user_context is not None
    assert rows[0].user_context["entitySource"] == "API"
    assert rows[1].changes["accounts_added"] == [["ECOMMERCE", ""]]


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
async def test_the_database_refuses_to_change_audit_rows(api: Api, engine_for: Any, statement: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError

    await api.add_one({"mobile": "919876540009"})
    engine = engine_for()
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                await conn.execute(sa.text(f"{statement} WHERE org_id = :org"), {"org": api.spec.org_id})
    finally:
        await engine.dispose()
