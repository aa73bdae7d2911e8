"""POST/PUT /v1.1/customer/update: companion-apis.md §a — fields, identifier switches, type, merges."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, basic, item_code, load_org

pytestmark = pytest.mark.anyio


async def _org(app_client: tuple[Any, httpx.AsyncClient], database_url: str, spec: OrgSpec) -> Api:
    await load_org(database_url, spec)
    return Api(app_client[1], spec)


async def test_update_changes_profile_fields_by_mobile(api: Api) -> None:
    added = await api.add_one({"mobile": "919876520001", "firstname": "Tom", "lastname": "Old"})
    updated = await api.update_one(
        {
            "mobile": "919876520001",
            "lastname": "Sawyer",
            "custom_fields": {"field": [{"name": "City_name", "value": "Pune"}]},
            "extended_fields": {"field": [{"name": "gender", "value": "Male"}]},
        }
    )
    assert updated["user_id"] == added["user_id"]
    assert item_code(updated) == "1000"
    assert updated["item_status"]["message"] == "Customer successfully updated"
    assert (updated["firstname"], updated["lastname"]) == ("Tom", "Sawyer")
    got = (await api.get(mobile="919876520001")).json()["response"]["customers"]["customer"][0]
    assert got["lastname"] == "Sawyer"
    assert {"name": "city_name", "value": "Pune"} in [
        {"name": f["name"].lower(), "value": f["value"]} for f in got["custom_fields"]["field"]
    ]


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_update_by_id_with_either_method(api: Api, method: str) -> None:
    added = await api.add_one({"mobile": "919876520002", "firstname": "Ann"})
    response = await api.update({"id": str(added["user_id"]), "firstname": "Anne"}, method=method)
    assert response.status_code == 200
    item = response.json()["response"]["customers"]["customer"][0]
    assert (item["user_id"], item["firstname"]) == (added["user_id"], "Anne")


async def test_unknown_customer_is_1012_and_nothing_is_written(api: Api) -> None:
    response = await api.update({"mobile": "919876520099", "firstname": "Ghost"})
    assert response.status_code == 500  # every item failed: the v1.1 rule
    item = response.json()["response"]["customers"]["customer"][0]
    assert item_code(item) == "1012"
    found = (await api.get(mobile="919876520099")).json()["response"]["customers"]["customer"][0]
    assert found["item_status"]["success"] == "false"


async def test_an_item_without_identifier_or_id_is_1015(api: Api) -> None:
    item = await api.update_one({"firstname": "Nobody"})
    assert item_code(item) == "1015"


async def test_one_unknown_item_does_not_stop_its_siblings(api: Api) -> None:
    await api.add_one({"mobile": "919876520003"})
    response = await api.update(
        {"mobile": "919876520003", "firstname": "Kept"}, {"mobile": "919876520098", "firstname": "Lost"}
    )
    assert response.status_code == 201
    codes = [item_code(i) for i in response.json()["response"]["customers"]["customer"]]
    assert codes == ["1000", "1012"]


async def test_update_never_registers(api: Api) -> None:
    await api.update({"email": "never@example.com"})
    found = (await api.get(email="never@example.com")).json()["response"]["customers"]["customer"][0]
    assert item_code(found) == "1012"


async def test_filling_an_identifier_needs_its_switch(api: Api) -> None:
    await api.add_one({"mobile": "919876520004"})
    item = await api.update_one({"mobile": "919876520004", "email": "fill@example.com"})
    assert item["email"] is None
    assert item["item_status"]["warnings"]["warning"] == ["91006"]


async def test_filling_and_replacing_a_secondary_when_the_switch_is_on(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.configs = {"CONF_ALLOW_EMAIL_UPDATE": True}
    api = await _org(app_client, database_url, org_spec)
    await api.add_one({"mobile": "919876520005"})
    filled = await api.update_one({"mobile": "919876520005", "email": "first@example.com"})
    assert filled["email"] == "first@example.com"
    replaced = await api.update_one({"mobile": "919876520005", "email": "second@example.com"})
    assert replaced["email"] == "second@example.com"
    # The old value is released: it finds nobody, and another customer may take it.
    old = (await api.get(email="first@example.com")).json()["response"]["customers"]["customer"][0]
    assert item_code(old) == "1012"


async def test_the_primary_identifier_never_changes_here(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.configs = {"CONF_ALLOW_MOBILE_UPDATE": True}
    api = await _org(app_client, database_url, org_spec)
    added = await api.add_one({"mobile": "919876520006"})
    item = await api.update_one({"id": str(added["user_id"]), "mobile": "919876520007"})
    assert item["mobile"] == "919876520006"
    assert item["item_status"]["warnings"]["warning"] == ["91005"]


async def test_conversion_to_loyalty_enrols_and_downgrade_is_1046(api: Api) -> None:
    await api.add_one({"mobile": "919876520008", "type": "NON_LOYALTY"})
    converted = await api.update_one({"mobile": "919876520008", "type": "LOYALTY"})
    assert converted["type"] == "LOYALTY"
    assert converted["current_slab"]
    back = await api.update_one({"mobile": "919876520008", "type": "NON_LOYALTY"})
    assert item_code(back) == "1046"


async def test_an_identifier_held_by_another_customer_merges_into_its_holder(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.configs = {"CONF_ALLOW_EMAIL_UPDATE": True}
    api = await _org(app_client, database_url, org_spec)
    holder = await api.add_one({"mobile": "919876520010", "email": "shared@example.com"})
    victim = await api.add_one({"mobile": "919876520011", "firstname": "Twin"})
    item = await api.update_one({"mobile": "919876520011", "email": "shared@example.com"})
    assert item["user_id"] == holder["user_id"]
    assert "91090" in item["item_status"]["warnings"]["warning"]
    # The victim's mobile now finds the survivor; its id answers as the survivor.
    by_mobile = (await api.get(mobile="919876520011", user_id="true")).json()["response"]["customers"][
        "customer"
    ][0]
    assert by_mobile["user_id"] == holder["user_id"]
    assert by_mobile["firstname"] == "Twin"  # the survivor had no first name: the victim's fills it
    by_id = (await api.get(id=str(victim["user_id"]), user_id="true")).json()["response"]["customers"][
        "customer"
    ][0]
    assert by_id["user_id"] == holder["user_id"]
    assert "91009" in by_id["item_status"]["warnings"]["warning"]
    # Both had an INSTORE profile: the survivor's lists the victim's identifiers too.
    details = (await api.v2_get(f"/v2/customers/{holder['user_id']}")).json()
    instore = next(p for p in details["profiles"] if p["source"] == "INSTORE")
    assert {"type": "mobile", "value": "919876520011"} in instore["identifiers"]


async def test_update_needs_credentials(app_client: tuple[Any, httpx.AsyncClient]) -> None:
    response = await app_client[1].post("/v1.1/customer/update", json={"root": {"customer": [{}]}})
    assert response.status_code == 401


async def test_update_is_audited_with_the_fields_that_changed(api: Api) -> None:
    added = await api.add_one({"mobile": "919876520012", "firstname": "Before"})
    await api.update_one(
        {"mobile": "919876520012", "firstname": "After"}, headers={"USER-CONTEXT-ENTITY-ID": "u1"}
    )
    audits = await api.client.get(
        "/api_gateway/v2/audits",
        params={"entityType": "CUSTOMER", "entityId": str(added["user_id"])},
        headers=basic(api.spec.till),
    )
    assert audits.status_code == 200, audits.text
    assert "After" in audits.text
    assert "Before" in audits.text


async def test_fifty_concurrent_updates_of_one_customer_lose_none(api: Api, engine_for: Any) -> None:
    import anyio
    import sqlalchemy as sa

    from memberbase.storage.tables import audit_log

    added = await api.add_one({"mobile": "919876520020", "firstname": "Start"})
    statuses: list[int] = []

    async def update(n: int) -> None:
        response = await api.update({"mobile": "919876520020", "firstname": f"Name{n}"})
        statuses.append(response.status_code)

    async with anyio.create_task_group() as tg:
        for n in range(50):
            tg.start_soon(update, n)
    assert statuses == [200] * 50
    engine = engine_for()
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(audit_log.c.changes).where(
                        audit_log.c.org_id == api.spec.org_id,
                        audit_log.c.customer_id == added["user_id"],
                        audit_log.c.action == "customer.updated",
                    )
                )
            ).scalars()
            names = {row["firstname"]["to"] for row in rows if "firstname" in row}
    finally:
        await engine.dispose()
    # Every acknowledged change is on record, each read the one before it (row lock).
    assert names == {f"Name{n}" for n in range(50)}


async def test_update_speaks_xml(api: Api) -> None:
    import xmltodict

    await api.add_one({"mobile": "919876520030", "firstname": "Plain"})
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<root><customer><mobile>919876520030</mobile><firstname>Angle</firstname></customer></root>"""
    response = await api.client.post(
        "/v1.1/customer/update",
        params={"format": "xml"},
        content=body,
        headers={**api.auth, "Content-Type": "application/xml"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    parsed = xmltodict.parse(response.content)
    assert parsed["response"]["customers"]["customer"]["firstname"] == "Angle"
