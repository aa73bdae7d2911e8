"""Access groups: registration needs write on customer, reads need read; else 403 / 4000."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import PASSWORD, OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio

WRITES = [
    ("POST", "/v1.1/customer/add", {"root": {"customer": [{"mobile": "919876580001"}]}}),
    (
        "POST",
        "/v2/customers",
        {"profiles": [{"identifiers": [{"type": "mobile", "value": "919876580002"}], "source": "INSTORE"}]},
    ),
]
READS = [
    ("GET", "/v1.1/customer/get?mobile=919876580001", None),
    ("GET", "/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=919876580001", None),
    (
        "GET",
        "/v2/customers/lookup/customerDetails?source=INSTORE&identifierName=mobile&identifierValue=919876580001",
        None,
    ),
    ("GET", "/v2/customers/1", None),
    ("GET", "/v2/customers/search?q=9198765", None),
    ("GET", "/v2/extendedFields", None),
    ("GET", "/api_gateway/v2/audits?entityType=CUSTOMER&entityId=1", None),
]


@pytest.fixture
async def tills(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> dict[str, str]:
    till = org_spec.till
    org_spec.overrides = {
        "access_groups": [
            {"name": "cashiers", "customer": "write"},
            {"name": "auditors", "customer": "read"},
            {"name": "nobody", "customer": "none"},
        ],
        "tills": [
            {"code": till, "password": PASSWORD, "access_group": "cashiers"},
            {"code": f"{till}.ro", "password": PASSWORD, "access_group": "auditors"},
            {"code": f"{till}.no", "password": PASSWORD, "access_group": "nobody"},
            {"code": f"{till}.plain", "password": PASSWORD},
        ],
    }
    await load_org(database_url, org_spec)
    return {"write": till, "read": f"{till}.ro", "none": f"{till}.no", "default": f"{till}.plain"}


def denied(response: httpx.Response) -> bool:
    if response.status_code != 403:
        return False
    body = response.json()
    code = body["response"]["status"]["code"] if "response" in body else body["errors"][0]["code"]
    return code == 4000


@pytest.mark.parametrize(("method", "path", "body"), WRITES + READS)
async def test_the_access_matrix(
    app_client: tuple[Any, httpx.AsyncClient], tills: dict[str, str], method: str, path: str, body: Any
) -> None:
    client = app_client[1]
    writing = method == "POST"
    for who, allowed in [("write", True), ("default", True), ("read", not writing), ("none", False)]:
        response = await client.request(method, path, json=body, headers=basic(tills[who]))
        assert denied(response) is not allowed, (who, path, response.status_code, response.text)


async def test_the_denial_says_what_is_missing_in_the_v1_1_envelope(
    app_client: tuple[Any, httpx.AsyncClient], tills: dict[str, str]
) -> None:
    method, path, body = WRITES[0]
    response = await app_client[1].request(method, path, json=body, headers=basic(tills["read"]))
    status = response.json()["response"]["status"]
    assert status["message"] == "Not authorized. Access is denied!"  # exactly the hosted text
    assert "write access to customer" in status["detail"]


def test_a_till_naming_an_unknown_group_is_refused_at_load() -> None:
    from pydantic import ValidationError

    from memberbase.domain.org_config import OrgConfig

    with pytest.raises(ValidationError, match="access group"):
        OrgConfig.model_validate(
            {"id": 1, "name": "t", "tills": [{"code": "a", "password": "p", "access_group": "x"}]}
        )
