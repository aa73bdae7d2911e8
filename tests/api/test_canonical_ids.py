"""One id however it is typed: NFKC external ids, source ids and card numbers, in v1.1, v2 and imports."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from memberbase.storage.database import create_engine
from tests.api.test_v2_customers import customer
from tests.support import V2_SEED_ORG, Api, OrgSpec, item_code, load_org
from tests.test_import import rejects_of, run

pytestmark = pytest.mark.anyio

CAFE_NFC = "ext-caf\u00e9"
CAFE_NFD = "ext-cafe\u0301"
FULL_WIDTH = "\uff25\uff38\uff34\uff0d\uff17"  # "EXT-7" in full-width letters


@pytest.fixture
async def api(app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec) -> Api:
    org_spec.overrides = dict(V2_SEED_ORG)
    await load_org(database_url, org_spec)
    return Api(app_client[1], org_spec)


async def _v11_id(api: Api, external_id: str) -> str:
    item = await api.add_one({"external_id": external_id, "firstname": "Ann"})
    assert item_code(item) == "1000", item
    return str(item["user_id"])


async def _got(api: Api, external_id: str) -> list[str]:
    body = (await api.get(external_id=external_id, format="json", user_id="true")).json()
    return [str(c.get("user_id")) for c in body["response"]["customers"]["customer"]]


async def test_v11_registers_both_normal_forms_and_full_width_as_one_customer(api: Api) -> None:
    first = await _v11_id(api, CAFE_NFC)
    assert await _v11_id(api, CAFE_NFD) == first
    assert await _got(api, CAFE_NFD) == [first]
    wide = await _v11_id(api, FULL_WIDTH)
    assert await _v11_id(api, "EXT-7") == wide != first
    assert await _got(api, "EXT-7") == [wide]


async def test_v11_refuses_an_external_id_with_an_invisible_character(api: Api) -> None:
    item = await api.add_one({"external_id": "ext-\u200b42", "firstname": "Ann"})
    assert item_code(item) == "1003"
    assert "invisible or control character (U+200B ZERO WIDTH SPACE)" in item["item_status"]["message"]


async def test_v2_and_v11_agree_on_one_customer_per_id(api: Api) -> None:
    created = (await api.v2_add(customer(("externalId", CAFE_NFD)))).json()
    assert await _got(api, CAFE_NFC) == [str(created["createdId"])]
    assert await _v11_id(api, CAFE_NFC) == str(created["createdId"])
    again = await api.v2_add(customer(("externalId", CAFE_NFC)))
    assert again.json()["errors"][0]["code"] == 8006  # already a customer of this source
    assert again.json()["errors"][0]["message"].endswith(f"customer {created['createdId']}")


async def test_v2_source_ids_and_card_numbers_are_canonical(api: Api) -> None:
    card = {
        "type": "cardnumber",
        "value": "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
        "seriesId": 73,
        "statusLabel": "ACTIVE",
    }
    body = customer(("wechat", "\uff37\uff38-1"), source="WECHAT", profile={"accountId": "wx-1"})
    body["profiles"][0]["identifiers"].append(card)
    created = (await api.v2_add(body)).json()
    assert "createdId" in created, created
    for name, value in (("wechat", "WX-1"), ("cardnumber", "12345678")):
        found = await api.v2_get(
            "/v2/customers/lookup",
            source="WECHAT",
            accountId="wx-1",
            identifierName=name,
            identifierValue=value,
        )
        assert found.json()["entity"] == created["createdId"], found.text


@pytest.mark.parametrize(
    ("identifier", "invisible"),
    [
        ({"type": "wechat", "value": "wx\u200b1"}, "U+200B"),
        ({"type": "externalId", "value": "\u2060ext"}, "U+2060"),
        (
            {"type": "cardnumber", "value": "1234\u200d5678", "seriesId": 73, "statusLabel": "ACTIVE"},
            "U+200D",
        ),
    ],
)
async def test_v2_refuses_invisible_characters_with_8309(
    api: Api, identifier: dict[str, Any], invisible: str
) -> None:
    body = customer(("mobile", "919988221177"), source="WECHAT", profile={"accountId": "wx-1"})
    body["profiles"][0]["identifiers"].append(identifier)
    response = await api.v2_add(body)
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == 8309
    assert invisible in error["message"]


async def test_an_import_stores_ids_as_the_apis_do(api: Api, database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    with path.open("w", newline="") as out:
        csv.writer(out).writerows([["external_id", "firstname"], [CAFE_NFD, "Ann"], ["ext\u200b9", "Bob"]])
    status = await run(database_url, api.spec, path)
    assert (status.run.registered, status.run.rejected) == (1, 1)
    assert [r[1] for r in rejects_of(path)[1:]] == ["1003"]
    assert len(await _got(api, CAFE_NFC)) == 1
    assert (await _got(api, CAFE_NFC))[0] == await _v11_id(api, CAFE_NFC)


async def test_an_id_stored_before_ids_were_canonical_is_found_by_its_exact_form(
    api: Api, database_url: str
) -> None:
    uid = await _v11_id(api, "EXT-OLD")
    old = "\uff25\uff38\uff34-OLD"  # as an earlier version stored it: full width, unchanged
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            params = {"o": api.spec.org_id, "old": old}
            where = "WHERE org_id = :o AND type = 'external_id'"
            await conn.execute(sa.text(f"UPDATE identifiers SET value = :old {where}"), params)
            await conn.execute(sa.text("UPDATE customers SET external_id = :old WHERE org_id = :o"), params)
    finally:
        await engine.dispose()
    assert await _got(api, old) == [uid]
    lookup = {"source": "INSTORE", "identifierName": "externalId", "identifierValue": old}
    assert (await api.v2_get("/v2/customers/lookup", **lookup)).json()["entity"] == int(uid)
