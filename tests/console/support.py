"""A console user's view: an org with staff, and a browser-like client that logs in."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support import OrgSpec, load_org

STAFF = [
    {"username": "{org}.admin", "password": "admin-pass-123", "role": "admin"},
    {"username": "{org}.agent", "password": "agent-pass-123", "role": "agent"},
    {"username": "{org}.viewer", "password": "viewer-pass-123", "role": "viewer"},
]
LABELS = [
    {"label": "Member", "status": "Active", "default": True},
    {"label": "On hold", "status": "Suspended"},
]


def staff_of(spec: OrgSpec) -> list[dict[str, str]]:
    return [{**s, "username": s["username"].format(org=spec.org_id)} for s in STAFF]


async def load_console_org(database_url: str, spec: OrgSpec) -> None:
    spec.overrides = {**spec.overrides, "staff": staff_of(spec), "customer_status_labels": LABELS}
    await load_org(database_url, spec)


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def log_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = await client.get("/member-care/login")
    return await client.post(
        "/member-care/login",
        data={"csrf": csrf_in(form.text), "username": username, "password": password},
    )


def fresh_client(app: Any) -> httpx.AsyncClient:
    """A client of its own (its own cookie jar), as a second browser would be."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://memberbase.test")
