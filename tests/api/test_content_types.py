"""One rule for request bodies: JSON (and for v1.1, XML) types in UTF-8, else 415; no type is JSON."""

from __future__ import annotations

import pytest

from tests.support import Api

pytestmark = pytest.mark.anyio

JSON_BODY = b'{"root": {"customer": [{"mobile": "919876577001", "firstname": "Ann"}]}}'
XML_BODY = b"<root><customer><mobile>919876577002</mobile></customer></root>"


async def _add(api: Api, body: bytes, content_type: str | None) -> int:
    headers = dict(api.auth) | ({"Content-Type": content_type} if content_type is not None else {})
    response = await api.client.post("/v1.1/customer/add?format=json", content=body, headers=headers)
    if response.status_code == 415:
        assert response.json()["response"]["status"]["code"] == 415
    return response.status_code


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "*/*",
        "application/json; charset=utf-16",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "multipart/form-data; boundary=x",
        "text/html",
    ],
)
async def test_v11_add_refuses_other_types_with_415(api: Api, content_type: str) -> None:
    assert await _add(api, JSON_BODY, content_type) == 415


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/json; charset=UTF-8",
        "Application/JSON",
        "application/vnd.x+json",
    ],
)
async def test_v11_add_takes_json_types_and_a_missing_type(api: Api, content_type: str | None) -> None:
    assert await _add(api, JSON_BODY, content_type) == 200


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml; charset=utf-8"])
async def test_v11_add_takes_xml_types(api: Api, content_type: str) -> None:
    assert await _add(api, XML_BODY, content_type) == 200


async def test_v11_add_refuses_xml_in_another_charset(api: Api) -> None:
    assert await _add(api, XML_BODY, "application/xml; charset=utf-16") == 415


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "*/*"])
async def test_v2_and_oauth_take_json_only(api: Api, content_type: str) -> None:
    headers = {**api.auth, "Content-Type": content_type}
    v2 = await api.client.post("/v2/customers", content=b"{}", headers=headers)
    assert (v2.status_code, v2.json()["errors"][0]["code"]) == (415, 415)
    oauth = await api.client.post("/v3/oauth/token/generate", content=b"{}", headers=headers)
    assert (oauth.status_code, oauth.json()["errors"][0]["code"]) == (415, 415)
