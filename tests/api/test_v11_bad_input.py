"""Bad input of every kind gets a clear error in the v1.1 envelope, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from memberbase.app import create_app
from memberbase.settings import Settings
from tests.support import Api, item_code, serving

pytestmark = pytest.mark.anyio

INVALID = "Input is invalid. Please check request parameters or input xml/json"


def status_of(response: httpx.Response) -> dict[str, Any]:
    status: dict[str, Any] = response.json()["response"]["status"]
    return status


async def post_raw(api: Api, content: bytes, content_type: str = "application/json") -> httpx.Response:
    return await api.client.post(
        "/v1.1/customer/add", content=content, headers={**api.auth, "Content-Type": content_type}
    )


@pytest.mark.parametrize(
    "content",
    [
        b'{"root": {"customer": [{"mobile": 9177xx811213}]}}',  # the seed's own redacted sample
        b'{"root": {"customer": [{"external_id": "1" "registered_on": "x"}]}}',  # missing comma (seed 001)
        b"{bad",
        b"",
        b"\xff\xfe",
    ],
)
async def test_malformed_json_answers_400(api: Api, content: bytes) -> None:
    response = await post_raw(api, content)
    assert response.status_code == 400
    assert status_of(response)["code"] == 400
    assert status_of(response)["message"].startswith(INVALID)


@pytest.mark.parametrize(
    "body",
    [b"[]", b'"root"', b'{"root": {}}', b'{"root": {"customer": []}}', b'{"root": {"customer": 5}}', b"{}"],
)
async def test_body_that_is_not_the_envelope_answers_400(api: Api, body: bytes) -> None:
    response = await post_raw(api, body)
    assert response.status_code == 400
    assert "root" in status_of(response)["message"]


async def test_wrong_content_type_answers_415(api: Api) -> None:
    response = await post_raw(api, b"mobile=919876500001", "application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert status_of(response)["code"] == 415


async def test_an_unknown_format_is_refused_clearly(api: Api) -> None:
    response = await api.add({"mobile": "919876500001"}, format="yaml")
    assert response.status_code == 400
    assert "format=json or format=xml" in status_of(response)["message"]


async def test_oversize_body_answers_413(database_url: str, api: Api) -> None:
    app = create_app(Settings(database_url=database_url, max_body_bytes=2048))
    async with serving(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            big = b'{"root":{"customer":[{"firstname":"' + b"a" * 4096 + b'"}]}}'
            response = await client.post(
                "/v1.1/customer/add", content=big, headers={**api.auth, "Content-Type": "application/json"}
            )
            assert response.status_code == 413
            assert status_of(response)["code"] == 413


async def test_oversize_chunked_body_without_length_answers_413(database_url: str, api: Api) -> None:
    app = create_app(Settings(database_url=database_url, max_body_bytes=2048))

    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 1000

    async with serving(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/v1.1/customer/add",
                content=chunks(),
                headers={**api.auth, "Content-Type": "application/json"},
            )
            assert response.status_code == 413


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({"mobile": ["919876500001"]}, "mobile"),
        ({"mobile": True}, "mobile"),
        ({"email": 5}, "email"),
        ({"mobile": "919876500001", "firstname": {"a": 1}}, "firstname"),
        ({"mobile": "919876500001", "custom_fields": "City_name=Pune"}, "custom_fields"),
        (
            {
                "mobile": "919876500001",
                "custom_fields": {"field": [{"name": "City_name", "value": {"x": 1}}]},
            },
            "custom_fields",
        ),
        ({"mobile": "919876500001", "extended_fields": {"field": [1, 2]}}, "extended_fields"),
        ({"mobile": "919876500001", "fraud_status": 3}, "fraud_status"),
        ({"mobile": "919876500001", "commChannels": "sms"}, "commChannels"),
        ({"mobile": "919876500001", "firstname": "Tom\u0000"}, "firstname"),
        (
            {
                "mobile": "919876500001",
                "custom_fields": {"field": [{"name": "City_name", "value": "a\u0007b"}]},
            },
            "City_name",
        ),
    ],
)
async def test_wrong_json_types_and_control_characters_fail_the_item_with_400(
    api: Api, customer: dict[str, Any], field: str
) -> None:
    """The item says 400 and names the field; the request, all of whose items failed, is seed
    000's "500 All requests have failed due to errors. Invalid or unsupported inputs passed"."""
    response = await api.add(customer)
    assert response.status_code == 500
    assert status_of(response)["code"] == 500
    item = response.json()["response"]["customers"]["customer"][0]
    assert item_code(item) == "400"
    assert field in item["item_status"]["message"]


async def test_a_bad_item_does_not_fail_its_good_sibling(api: Api) -> None:
    response = await api.add({"mobile": "919876500030", "firstname": 7}, {"mobile": "919876500031"})
    assert response.status_code == 201
    codes = [item_code(i) for i in response.json()["response"]["customers"]["customer"]]
    assert codes == ["400", "1000"]


async def test_non_object_customer_item_fails_with_400(api: Api) -> None:
    response = await api.client.post(
        "/v1.1/customer/add", json={"root": {"customer": ["919876500001", None]}}, headers=api.auth
    )
    assert response.status_code == 500  # seed 000: every item failed
    assert [item_code(i) for i in response.json()["response"]["customers"]["customer"]] == ["400", "400"]


async def test_unknown_route_answers_404_in_the_envelope(api: Api) -> None:
    response = await api.client.get("/v1.1/customer/nope", headers=api.auth)
    assert response.status_code == 404
    assert status_of(response)["code"] == 404


async def test_wrong_method_answers_405_in_the_envelope(api: Api) -> None:
    response = await api.client.get("/v1.1/customer/add", headers=api.auth)
    assert response.status_code == 405
    assert status_of(response)["code"] == 405
