"""Re-loading an edited org file updates the org and never deletes customers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, item_code, load_org

pytestmark = pytest.mark.anyio


async def test_reload_applies_new_switches_to_running_servers_and_keeps_customers(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    report = await load_org(database_url, org_spec)
    assert report.created == [org_spec.org_id]
    api = Api(app_client[1], org_spec)
    first = await api.add_one({"mobile": "919876550001", "email": "old@example.com"})

    org_spec.configs = {"CONF_ALLOW_EMAIL_UPDATE": True, "CONF_USERS_IS_EXTERNAL_ID_REQUIRED": True}
    report = await load_org(database_url, org_spec)
    assert report.updated == [org_spec.org_id]

    # The running server picks the new version up on the next request.
    assert item_code(await api.add_one({"mobile": "919876550002"})) == "1043"
    again = await api.add_one({"mobile": "919876550001", "email": "new@example.com", "external_id": "E1"})
    assert again["user_id"] == first["user_id"]
    assert again["email"] == "new@example.com"


async def test_reloading_an_unchanged_file_changes_nothing(database_url: str, org_spec: OrgSpec) -> None:
    await load_org(database_url, org_spec)
    report = await load_org(database_url, org_spec)
    assert report.unchanged == [org_spec.org_id]


async def test_a_till_code_cannot_move_to_another_org(database_url: str, org_spec: OrgSpec) -> None:
    from memberbase.usecases.load_orgs import OrgFileError

    await load_org(database_url, org_spec)
    thief = OrgSpec(org_id=org_spec.org_id + 700_000, till=org_spec.till)
    with pytest.raises(OrgFileError, match="already belongs to org"):
        await load_org(database_url, thief)
