"""v1.1 in XML: the same envelope in and out, chosen by format, Content-Type or Accept."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import xmltodict

from tests.support import Api

pytestmark = pytest.mark.anyio

SEED_001_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<root>
  <customer>
    <mobile>919876532218</mobile>
    <email>tom.sawyer@example.com</email>
    <external_id></external_id>
    <firstname>testuwser</firstname>
    <lastname>promo54</lastname>
    <updated_on>2023-07-11 10:12:00</updated_on>
    <type>LOYALTY</type>
    <fraud_status><status></status></fraud_status>
    <custom_fields>
      <field><name>City_name</name><value>Bangalore</value></field>
      <field><name>address</name><value>Bangalore1234</value></field>
    </custom_fields>
  </customer>
</root>"""


def parsed(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/xml")
    body: dict[str, Any] = xmltodict.parse(response.content)
    return body


async def post_xml(api: Api, content: bytes, **params: str) -> httpx.Response:
    return await api.client.post(
        "/v1.1/customer/add",
        content=content,
        params=params,
        headers={**api.auth, "Content-Type": "application/xml"},
    )


async def test_the_seed_example_round_trips_in_xml(api: Api) -> None:
    response = await post_xml(api, SEED_001_XML, format="xml")
    assert response.status_code == 200
    body = parsed(response)["response"]
    assert body["status"] == {
        "success": "true",
        "code": "200",
        "message": "Success",
        "total": "1",
        "success_count": "1",
    }
    customer = body["customers"]["customer"]
    assert customer["mobile"] == "919876532218"
    assert customer["external_id"] is None
    assert customer["item_status"]["code"] == "1000"
    assert customer["item_status"]["warnings"]["warning"] == "1017"
    assert customer["points_summaries"]["points_summary"]["programId"] == "469"


async def test_an_xml_body_without_format_is_answered_in_xml(api: Api) -> None:
    response = await post_xml(api, SEED_001_XML)
    assert parsed(response)["response"]["status"]["code"] == "200"


async def test_format_json_answers_an_xml_body_in_json(api: Api) -> None:
    response = await post_xml(api, SEED_001_XML, format="json")
    assert response.json()["response"]["status"]["code"] == 200


async def test_a_batch_in_xml_reports_each_item(api: Api) -> None:
    batch = (
        b"<root><customer><mobile>919876610001</mobile></customer>"
        b"<customer><mobile>bad</mobile></customer></root>"
    )
    response = await post_xml(api, batch)
    assert response.status_code == 201
    items = parsed(response)["response"]["customers"]["customer"]
    assert [i["item_status"]["code"] for i in items] == ["1000", "1006"]


async def test_get_answers_in_xml_when_asked(api: Api) -> None:
    await api.add({"mobile": "919876610002"})
    by_format = await api.client.get("/v1.1/customer/get?mobile=919876610002&format=xml", headers=api.auth)
    assert parsed(by_format)["response"]["customers"]["customer"]["mobile"] == "919876610002"
    by_accept = await api.client.get(
        "/v1.1/customer/get?mobile=919876610002", headers={**api.auth, "Accept": "application/xml"}
    )
    assert parsed(by_accept)["response"]["status"]["code"] == "200"


@pytest.mark.parametrize(
    "content",
    [
        b"<root><customer>",
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<root><customer><mobile>&x;</mobile></customer></root>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<root>&b;</root>",
    ],
    ids=["truncated", "text", "xxe", "entity-bomb"],
)
async def test_malformed_or_entity_bearing_xml_gets_the_400_envelope_in_xml(api: Api, content: bytes) -> None:
    response = await post_xml(api, content)
    assert response.status_code == 400
    status = parsed(response)["response"]["status"]
    assert status["code"] == "400"
    assert "root:" not in response.text  # nothing of /etc/passwd


async def test_unauthenticated_xml_calls_get_401_in_xml(api: Api) -> None:
    response = await api.client.post(
        "/v1.1/customer/add?format=xml", content=SEED_001_XML, headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 401
    assert parsed(response)["response"]["status"]["message"] == "Unauthorized"
