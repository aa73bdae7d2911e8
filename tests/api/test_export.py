"""Subject-access export: everything held about one customer, over HTTP and from the CLI."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from memberbase.cli.main import app as cli
from tests.support import Api

pytestmark = pytest.mark.anyio


async def test_the_export_holds_every_section(api: Api) -> None:
    added = await api.add_one({"mobile": "919876591001", "firstname": "Ex", "email": "ex@example.com"})
    customer_id = added["user_id"]
    await api.update_one({"mobile": "919876591001", "lastname": "Port"})
    response = await api.v2_get(f"/v2/customers/{customer_id}/export")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["customerId"] == customer_id
    assert document["customer"]["lastname"] == "Port"
    assert {"type": "mobile", "value": "919876591001"} in [
        {"type": i["type"], "value": i["value"]} for i in document["identifiers"]
    ]
    assert [a["action"] for a in document["auditTrail"]] == ["customer.registered", "customer.updated"]
    assert {e["type"] for e in document["events"]} >= {"customer.registered", "customer.updated"}
    for section in (
        "profiles",
        "cards",
        "enrolments",
        "ledger",
        "coupons",
        "currencies",
        "statusLog",
        "merges",
    ):
        assert isinstance(document[section], list), section
    assert all("org_id" not in row for row in document["profiles"])


async def test_unknown_customer_and_credentials(api: Api, app_client: tuple[Any, httpx.AsyncClient]) -> None:
    assert (await api.v2_get("/v2/customers/999999999/export")).status_code == 400
    assert (await app_client[1].get("/v2/customers/1/export")).status_code == 401


async def test_the_cli_writes_the_same_document(api: Api, database_url: str, tmp_path: Any) -> None:
    added = await api.add_one({"mobile": "919876591002"})
    out = tmp_path / "export.json"
    args = ["customers", "export", str(added["user_id"]), "--org", str(api.spec.org_id)]
    # The command runs its own event loop: in a thread, as from a shell.
    result = await anyio.to_thread.run_sync(
        lambda: CliRunner().invoke(cli, [*args, "--database-url", database_url, "--output", str(out)])
    )
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["customer"]["mobile"] == "919876591002"
    unknown = [
        "customers",
        "export",
        "999999999",
        "--org",
        str(api.spec.org_id),
        "--database-url",
        database_url,
    ]
    missing = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(cli, unknown))
    assert missing.exit_code == 1


async def test_a_survivors_export_holds_what_its_victims_left_in_place(api: Api) -> None:
    """The victim's audit trail and consent log stay under its id (append-only): they are
    still about the person, so the survivor's export carries them and names the victim."""
    survivor = (await api.add_one({"mobile": "919876591011", "firstname": "Sur"}))["user_id"]
    victim = (await api.add_one({"mobile": "919876591012", "firstname": "Vic"}))["user_id"]
    opt = {"subscriptions": [{"channel": "EMAIL", "priority": "BULK", "type": "OPTOUT", "accountId": ""}]}
    sent = await api.client.post(f"/v2/customers/{victim}/subscriptions", json=opt, headers=api.auth)
    assert sent.status_code == 200, sent.text
    body = {"survivorId": survivor, "victimId": victim}
    merged = await api.client.post(
        "/v2/requests", params={"client_auto_approve": "true"}, json=body, headers=api.auth
    )
    assert merged.status_code == 200, merged.text
    document = (await api.v2_get(f"/v2/customers/{survivor}/export")).json()
    assert document["mergedCustomers"] == [victim]
    assert victim in {row["customer_id"] for row in document["consentLog"]}
    assert {row["customer_id"] for row in document["auditTrail"]} >= {survivor, victim}
    alone = (await api.v2_get(f"/v2/customers/{victim}/export")).json()
    assert alone["mergedCustomers"] == []
