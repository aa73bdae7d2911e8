"""Member Care in real headless Chromium (Debian's package, driven by Playwright), as staff use it.

A real server on a local port (uvicorn in a thread), a real browser that fetches nothing
from outside: log in, search by mobile, open the customer, change the status, opt out of
SMS, see the change in the audit trail; a viewer has no control. The customer page's
screenshot is kept for docs/member-care.md when MEMBERBASE_SCREENSHOTS names a folder.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from memberbase.app import create_app
from memberbase.settings import Settings
from tests.console.support import load_console_org, staff_of
from tests.support import PASSWORD, OrgSpec, basic

CHROMIUM = "/usr/bin/chromium"
# The flags that keep Chromium off the network (and quiet) on a machine without one.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """memberbase on a real port, in a thread of its own."""
    port = _free_port()
    app = create_app(Settings(database_url=database_url))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        if time.monotonic() > deadline:
            raise AssertionError("memberbase did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def _setup(database_url: str, base_url: str, org_id: int) -> tuple[OrgSpec, int]:
    spec = OrgSpec(org_id=org_id, till=f"till{org_id}.browser")
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, load_console_org(database_url, spec)).result()
    body = {"root": {"customer": [{"mobile": "919876543001", "firstname": "Ann", "lastname": "Lee"}]}}
    added = httpx.post(f"{base_url}/v1.1/customer/add", json=body, headers=basic(spec.till, PASSWORD))
    assert added.status_code == 200, added.text
    return spec, int(added.json()["response"]["customers"]["customer"][0]["user_id"])


def test_staff_find_a_customer_and_change_it_in_chromium(
    server: str, browser: Any, database_url: str
) -> None:
    spec, customer = _setup(database_url, server, 880_000 + os.getpid() % 10_000)
    agent, viewer = staff_of(spec)[1], staff_of(spec)[2]
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{server}/member-care/login")
    page.get_by_label("Username").fill(agent["username"])
    page.get_by_label("Password").fill(agent["password"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/member-care/ui/")
    assert page.get_by_role("img").count() == 1  # the dashboard's chart, drawn on the server
    page.get_by_role("link", name="Find a customer").click()
    page.get_by_label("Mobile, email, external id, card number or name").fill("919876543001")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Ann Lee").click()
    page.wait_for_url(f"**/member-care/ui/customer/{customer}")
    page.get_by_label("New status").select_option("On hold")
    page.get_by_label("Reason").fill("card reported lost")
    page.get_by_role("button", name="Change status").click()
    assert page.get_by_role("status").inner_text() == "Status changed."
    page.get_by_role("button", name="Opt out of SMS BULK").click()
    assert page.get_by_role("status").inner_text() == "Subscription changed."
    trail = page.locator("section", has=page.get_by_role("heading", name="Audit trail")).inner_text()
    assert "customer.status_changed" in trail or "status" in trail
    assert f"MEMBER_CARE {agent['username']}" in trail
    assert "subscription.changed" in trail
    folder = os.environ.get("MEMBERBASE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / "member-care-customer.png"), full_page=True)
        page.goto(f"{server}/member-care/ui/search?q=9198765")
        page.screenshot(path=str(Path(folder) / "member-care-search.png"))
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/member-care/login")

    page.get_by_label("Username").fill(viewer["username"])
    page.get_by_label("Password").fill(viewer["password"])
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{server}/member-care/ui/customer/{customer}")
    assert page.get_by_role("button", name="Change status").count() == 0
    assert page.get_by_role("button", name="Opt in to SMS BULK").count() == 0
    page.close()


def test_chromium_is_debians_not_a_download() -> None:
    """Playwright drives /usr/bin/chromium; no browser of its own is fetched or cached."""
    assert shutil.which("chromium") == CHROMIUM or Path(CHROMIUM).exists()
