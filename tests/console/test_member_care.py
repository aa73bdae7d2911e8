"""Member Care over HTTP, as a browser drives it: logins, roles, CSRF, orgs apart, escaping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from memberbase.storage import tables
from memberbase.storage.database import create_engine
from tests.console.support import csrf_in, fresh_client, load_console_org, log_in, staff_of
from tests.support import Api, OrgSpec

pytestmark = pytest.mark.anyio


@pytest.fixture
async def console(app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec) -> Any:
    await load_console_org(database_url, org_spec)
    return app_client[0], Api(app_client[1], org_spec), staff_of(org_spec)


async def _customer(api: Api, mobile: str) -> int:
    added = await api.add_one({"mobile": mobile, "firstname": "Ann", "lastname": "Lee"})
    return int(added["user_id"])


async def test_log_in_find_change_and_see_it_audited(console: Any) -> None:
    app, api, staff = console
    customer = await _customer(api, "919876542001")
    async with fresh_client(app) as browser:
        assert (await browser.get("/member-care/ui/")).status_code == 303  # not logged in yet
        logged = await log_in(browser, staff[1]["username"], staff[1]["password"])
        assert logged.status_code == 303
        cookie = logged.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        found = await browser.get("/member-care/ui/search", params={"q": "919876542001"})
        assert f"/member-care/ui/customer/{customer}" in found.text
        page = await browser.get(f"/member-care/ui/customer/{customer}")
        token = csrf_in(page.text)
        changed = await browser.post(
            f"/member-care/ui/customer/{customer}/status",
            data={"csrf": token, "label": "On hold", "reason": "card lost"},
        )
        assert changed.status_code == 303
        opted = await browser.post(
            f"/member-care/ui/customer/{customer}/subscription",
            data={"csrf": token, "channel": "SMS", "priority": "BULK", "action": "OPTOUT"},
        )
        assert opted.status_code == 303
        after = await browser.get(f"/member-care/ui/customer/{customer}")
        assert "Opted out" in after.text
        assert "On hold" in after.text
        assert "Events sent" in after.text
        assert after.text.count("customer.registered") >= 2  # in the audit trail and the events sent
    audits = await api.client.get(
        "/api_gateway/v2/audits",
        params={"entityType": "CUSTOMER", "entityId": str(customer), "includeUserContext": "true"},
        headers=api.auth,
    )
    contexts = [r["userContextDetails"] for r in audits.json()["data"] if r["userContextDetails"]]
    by_staff = {"entityType": "STAFF", "entityId": staff[1]["username"], "entitySource": "MEMBER_CARE"}
    assert by_staff in contexts


async def test_wrong_password_and_unknown_user_are_refused_alike(console: Any) -> None:
    app, _, staff = console
    async with fresh_client(app) as browser:
        wrong = await log_in(browser, staff[0]["username"], "not-the-password")
        nobody = await log_in(browser, "nobody.here", "not-the-password")
        assert wrong.status_code == nobody.status_code == 401
        assert "Wrong username or password" in wrong.text
        forged = await browser.post(
            "/member-care/login", data={"username": staff[0]["username"], "password": staff[0]["password"]}
        )
        assert forged.status_code == 403  # the login form's own CSRF token is missing


async def test_a_viewer_sees_no_control_and_a_forged_change_is_refused(console: Any) -> None:
    app, api, staff = console
    customer = await _customer(api, "919876542002")
    async with fresh_client(app) as browser:
        await log_in(browser, staff[2]["username"], staff[2]["password"])
        page = await browser.get(f"/member-care/ui/customer/{customer}")
        assert page.status_code == 200
        assert "Change status" not in page.text
        assert "/status" not in page.text
        forged = await browser.post(
            f"/member-care/ui/customer/{customer}/status",
            data={"csrf": csrf_in(page.text), "label": "On hold", "reason": "x"},
        )
        assert forged.status_code == 403
    read = (await api.v2_get(f"/v2/customers/{customer}")).json()
    assert read["statusLabel"] != "On hold"


async def test_a_change_without_its_csrf_token_is_refused(console: Any) -> None:
    app, api, staff = console
    customer = await _customer(api, "919876542003")
    async with fresh_client(app) as browser:
        await log_in(browser, staff[0]["username"], staff[0]["password"])
        for token in (None, "guessed"):
            data = {"note": "sneaky", **({"csrf": token} if token else {})}
            refused = await browser.post(f"/member-care/ui/customer/{customer}/note", data=data)
            assert refused.status_code == 403


async def test_another_orgs_staff_gets_404(
    console: Any, database_url: str, app_client: tuple[Any, httpx.AsyncClient]
) -> None:
    app, api, _ = console
    customer = await _customer(api, "919876542004")
    other = OrgSpec(org_id=api.spec.org_id + 400_000, till=f"{api.spec.till}.mc")
    await load_console_org(database_url, other)
    outsider = staff_of(other)[0]
    async with fresh_client(app) as browser:
        await log_in(browser, outsider["username"], outsider["password"])
        assert (await browser.get(f"/member-care/ui/customer/{customer}")).status_code == 404
        found = await browser.get("/member-care/ui/search", params={"q": "919876542004"})
        assert f"/customer/{customer}" not in found.text


async def test_what_people_typed_is_shown_as_text(console: Any) -> None:
    app, api, staff = console
    customer = await _customer(api, "919876542005")
    async with fresh_client(app) as browser:
        await log_in(browser, staff[0]["username"], staff[0]["password"])
        found = await browser.get("/member-care/ui/search", params={"q": "<script>alert(1)</script>"})
        assert "<script>alert(1)" not in found.text
        assert "&lt;script&gt;" in found.text
        page = await browser.get(f"/member-care/ui/customer/{customer}")
        await browser.post(
            f"/member-care/ui/customer/{customer}/note",
            data={"csrf": csrf_in(page.text), "note": "<img src=x onerror=alert(1)>"},
        )
        after = await browser.get(f"/member-care/ui/customer/{customer}")
        assert "<img src=x" not in after.text
        assert "customer.note" in after.text
        assert "script-src" not in after.headers["content-security-policy"]  # no script at all


async def test_logout_ends_the_session_everywhere(console: Any) -> None:
    app, _, staff = console
    async with fresh_client(app) as browser:
        await log_in(browser, staff[0]["username"], staff[0]["password"])
        cookie = browser.cookies.get("mb_console", path="/member-care")
        page = await browser.get("/member-care/ui/")
        assert page.status_code == 200
        out = await browser.post("/member-care/logout", data={"csrf": csrf_in(page.text)})
        assert out.status_code == 303
    async with fresh_client(app) as thief:
        thief.cookies.set("mb_console", cookie, path="/member-care")
        assert (await thief.get("/member-care/ui/")).status_code == 303  # back to the login


async def test_an_idle_session_ends(console: Any, database_url: str) -> None:
    app, api, staff = console
    async with fresh_client(app) as browser:
        await log_in(browser, staff[0]["username"], staff[0]["password"])
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    tables.staff_sessions.update()
                    .where(tables.staff_sessions.c.org_id == api.spec.org_id)
                    .values(last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
                )
        finally:
            await engine.dispose()
        assert (await browser.get("/member-care/ui/")).status_code == 303


async def test_the_dashboard_counts_registrations_by_source(console: Any) -> None:
    app, api, staff = console
    await _customer(api, "919876542006")
    wechat = {"source": "WECHAT", "accountId": "wx-1", "identifiers": [{"type": "wechat", "value": "w1"}]}
    await api.v2_add({"profiles": [wechat]})
    async with fresh_client(app) as browser:
        await log_in(browser, staff[0]["username"], staff[0]["password"])
        board = await browser.get("/member-care/ui/")
    assert board.status_code == 200
    assert "<svg" in board.text
    assert "<td>INSTORE</td><td>1</td>" in board.text
    assert "<td>WECHAT</td><td>1</td>" in board.text


async def test_staff_passwords_are_stored_only_as_hashes(console: Any, database_url: str) -> None:
    """The org file's staff passwords never reach the stored config, only argon2 hashes; loading
    the same file again keeps the org's version (the hashes still verify)."""
    _, api, _ = console

    async def stored() -> tuple[int, str]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        sa.select(tables.orgs.c.version, tables.orgs.c.config).where(
                            tables.orgs.c.id == api.spec.org_id
                        )
                    )
                ).one()
        finally:
            await engine.dispose()
        return int(row.version), str(row.config)

    version, config = await stored()
    assert "admin-pass-123" not in config
    assert "$argon2" in config
    await load_console_org(database_url, api.spec)
    assert (await stored())[0] == version


def test_the_cli_hashes_a_staff_password_that_the_org_file_accepts() -> None:
    from typer.testing import CliRunner

    from memberbase.auth.passwords import verify_exact
    from memberbase.cli.main import app as cli
    from memberbase.domain.org_config import StaffUser

    result = CliRunner().invoke(cli, ["staff", "hash", "--password", "s3cret-staff"])
    assert result.exit_code == 0, result.output
    hashed = result.output.strip()
    assert verify_exact(hashed, "s3cret-staff")
    assert StaffUser(username="anna", password_hash=hashed, role="agent").password_hash == hashed
    short = CliRunner().invoke(cli, ["staff", "hash", "--password", "short"])
    assert short.exit_code != 0
