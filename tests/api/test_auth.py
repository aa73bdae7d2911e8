"""Every endpoint refuses a missing or wrong credential with 401 in the v1.1 envelope."""

from __future__ import annotations

import base64
import subprocess
import sys
from typing import Any

import httpx
import pytest

from memberbase.auth import passwords
from memberbase.auth.passwords import wire_secret
from tests.support import PASSWORD, Api, OrgSpec, basic, envelope, load_org

pytestmark = pytest.mark.anyio

ENDPOINTS = [("POST", "/v1.1/customer/add"), ("GET", "/v1.1/customer/get?mobile=919876500001")]


def _raw_basic(text: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic not-base64!"},
        "plain-password",
        "wrong-password",
        "unknown-till",
        "no-colon",
    ],
    ids=["none", "bearer", "garbage", "plain-password", "wrong-password", "unknown-till", "no-colon"],
)
async def test_unauthenticated_calls_answer_401(api: Api, method: str, path: str, headers: Any) -> None:
    if headers == "plain-password":
        headers = _raw_basic(f"{api.spec.till}:{PASSWORD}")  # the md5 is what goes on the wire
    elif headers == "wrong-password":
        headers = basic(api.spec.till, "nope")
    elif headers == "unknown-till":
        headers = basic("no.such.till")
    elif headers == "no-colon":
        headers = _raw_basic(api.spec.till)
    response = await api.client.request(
        method, path, headers=headers, json=envelope({"mobile": "919876500001"})
    )
    assert response.status_code == 401
    assert response.json()["response"]["status"]["code"] == 401
    assert response.json()["response"]["status"]["message"] == "Unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


async def test_uppercase_md5_is_accepted(api: Api) -> None:
    token = base64.b64encode(f"{api.spec.till}:{wire_secret(PASSWORD).upper()}".encode()).decode()
    response = await api.client.get(
        "/v1.1/customer/get?mobile=919876500001", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 500  # authenticated; the customer simply does not exist
    assert response.json()["response"]["customers"]["customer"][0]["item_status"]["code"] == "1012"


async def test_a_changed_password_stops_the_old_one(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    await load_org(database_url, org_spec)
    client = app_client[1]
    path = "/v1.1/customer/get?mobile=919876500001"
    assert (await client.get(path, headers=basic(org_spec.till))).status_code != 401
    org_spec.overrides = {"tills": [{"code": org_spec.till, "password": "changed", "store": "S"}]}
    await load_org(database_url, org_spec)
    assert (await client.get(path, headers=basic(org_spec.till))).status_code == 401
    assert (await client.get(path, headers=basic(org_spec.till, "changed"))).status_code != 401


async def test_a_till_removed_from_the_file_can_no_longer_log_in(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.extra_tills = [f"{org_spec.till}.gone"]
    await load_org(database_url, org_spec)
    client = app_client[1]
    path = "/v1.1/customer/get?mobile=919876500001"
    assert (await client.get(path, headers=basic(f"{org_spec.till}.gone"))).status_code != 401
    org_spec.extra_tills = []
    await load_org(database_url, org_spec)
    assert (await client.get(path, headers=basic(f"{org_spec.till}.gone"))).status_code == 401


def test_no_command_pays_for_the_dummy_hash_at_start() -> None:
    # An argon2 hash is 64 MiB and a tenth of a second: `memberbase import` and every other
    # command used to make one at import time, for logins they never check.
    probe = (
        "import memberbase.cli.main, memberbase.app\n"
        "from memberbase.auth import passwords\n"
        "print(passwords.dummy_hash.cache_info().currsize)"
    )
    made = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert made.stdout.strip() == "0"


async def test_an_unknown_till_is_checked_against_the_dummy_hash(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A miss costs what a wrong password costs: no timing tells which tills exist.
    checked: list[str] = []
    real = passwords.verify_slow

    def recorded(stored_hash: str, secret: str) -> bool:
        checked.append(stored_hash)
        return real(stored_hash, secret)

    monkeypatch.setattr(passwords, "verify_slow", recorded)
    response = await api.client.get("/v1.1/customer/get?mobile=919876500001", headers=basic("no.such.till"))
    assert response.status_code == 401
    assert checked == [passwords.dummy_hash()]
