"""Small typed helpers with fixed defaults that make test data and call the API."""

from __future__ import annotations

import asyncio
import base64
import copy
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from memberbase.auth.login_cache import LoginCache
from memberbase.auth.passwords import wire_secret
from memberbase.domain.org_config import OrgFile
from memberbase.storage.database import create_engine
from memberbase.usecases.load_orgs import LoadReport, load_orgs

PASSWORD = "s3cret-till"


@dataclass
class OrgSpec:
    org_id: int
    till: str
    # v2 associatedWith needs this switch (seeds 002/004); the tests' orgs take it.
    configs: dict[str, Any] = field(
        default_factory=lambda: {"USE_CRM_REGISTRATION_INFO_FROM_BASE_STORE": True}
    )
    base_country: str | None = "IN"
    supported_countries: list[str] = field(default_factory=lambda: ["SG"])
    timezone: str = "Asia/Kolkata"
    extra_tills: list[str] = field(default_factory=list)
    programs: list[dict[str, Any]] | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        org: dict[str, Any] = {
            "id": self.org_id,
            "name": f"Test org {self.org_id}",
            "base_country": self.base_country,
            "supported_countries": self.supported_countries,
            "timezone": self.timezone,
            "configs": self.configs,
            "tills": [
                {"code": c, "password": PASSWORD, "store": f"Store of {c}"}
                for c in [self.till, *self.extra_tills]
            ],
            "custom_fields": [
                {"name": "City_name", "max_length": 100},
                {"name": "pincode", "max_length": 20},
            ],
            "extended_fields": ["gender", "city", "state", "area", "zip", "dob", "age"],
            "programs": self.programs
            if self.programs is not None
            else [
                {
                    "id": 469,
                    "name": "Test Loyalty",
                    "default": True,
                    "tiers": [
                        {"serial": 1, "name": "Base", "description": "Tier 1"},
                        {"serial": 2, "name": "Bronze", "description": "Tier 2"},
                    ],
                }
            ],
        }
        org["sources"] = [
            {"source": "INSTORE"},
            {"source": "WECHAT", "accounts": ["wx-1", "wx-2"]},
            {"source": "MOBILE_APP", "accounts": ["testmobilepush1"]},
            {"source": "LINE", "accounts": ["2001914141242"]},
            {"source": "FACEBOOK", "accounts": ["fb-1"]},
            {"source": "ECOMMERCE"},
        ]
        org.update(copy.deepcopy(self.overrides))
        return org


# The login caches of the apps a test is serving (see `serving`).
_SERVING: list[LoginCache] = []


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run the app's lifespan; on PostgreSQL, until its change-notice feed listens.

    So the tests meet the cached-login path of production, and `load_org` can wait for
    the running apps to hear a reload (which production servers do within milliseconds).
    """
    async with app.router.lifespan_context(app):
        logins: LoginCache = app.state.services.logins
        if app.state.services.engine.dialect.name != "sqlite":
            await until(lambda: logins.live, "the change-notice feed to listen")
        _SERVING.append(logins)
        try:
            yield app
        finally:
            _SERVING.remove(logins)


async def until(condition: Any, what: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        await asyncio.sleep(0.005)


async def load_org(database_url: str, spec: OrgSpec) -> LoadReport:
    listening = [(cache, cache.generation) for cache in _SERVING if cache.live]
    engine = create_engine(database_url)
    try:
        report = await load_orgs(engine, OrgFile.model_validate({"orgs": [spec.as_dict()]}))
    finally:
        await engine.dispose()
    if report.created or report.updated:
        for cache, seen in listening:
            await until(lambda c=cache, g=seen: c.generation > g, "running apps to hear the reload")
    return report


def basic(till: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{till}:{wire_secret(password)}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def envelope(*customers: dict[str, Any]) -> dict[str, Any]:
    return {"root": {"customer": list(customers)}}


class Api:
    """The v1.1 API as a till of one org calls it."""

    def __init__(self, client: httpx.AsyncClient, spec: OrgSpec) -> None:
        self.client = client
        self.spec = spec
        self.auth = basic(spec.till)

    async def add(
        self, *customers: dict[str, Any], headers: dict[str, str] | None = None, **params: str
    ) -> httpx.Response:
        return await self.client.post(
            "/v1.1/customer/add",
            params={"format": "json", **params},
            json=envelope(*customers),
            headers={**self.auth, **(headers or {})},
        )

    async def add_one(self, customer: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """The single item of an add response (asserting the request got an answer)."""
        response = await self.add(customer, **kw)
        body = response.json()
        items: list[dict[str, Any]] = body["response"]["customers"]["customer"]
        assert len(items) == 1, body
        return items[0]

    async def get(self, **params: str) -> httpx.Response:
        return await self.client.get("/v1.1/customer/get", params=params, headers=self.auth)

    async def update(
        self, *customers: dict[str, Any], headers: dict[str, str] | None = None, method: str = "POST"
    ) -> httpx.Response:
        return await self.client.request(
            method,
            "/v1.1/customer/update",
            params={"format": "json"},
            json=envelope(*customers),
            headers={**self.auth, **(headers or {})},
        )

    async def update_one(self, customer: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """The single item of an update response."""
        body = (await self.update(customer, **kw)).json()
        items: list[dict[str, Any]] = body["response"]["customers"]["customer"]
        assert len(items) == 1, body
        return items[0]

    async def v2_add(
        self, body: dict[str, Any], headers: dict[str, str] | None = None, **params: str
    ) -> httpx.Response:
        return await self.client.post(
            "/v2/customers", json=body, params=params, headers={**self.auth, **(headers or {})}
        )

    async def v2_get(self, path: str, **params: str) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.auth)


# An org configured for every v2 seed sample: their sources, accounts, fields, card series, labels.
V2_SEED_ORG: dict[str, Any] = {
    "custom_fields": [
        {"name": n, "max_length": 100}
        for n in (
            "City_name",
            "pincode",
            "employee",
            "dateofbirth",
            "kanjifirstname",
            "kanjilastname",
            "email2",
            "mobile2",
            "fax",
            "customer_address",
            "gender",
            "city",
        )
    ],
    "extended_fields": [
        "gender",
        "city",
        "state",
        "area",
        "zip",
        "dob",
        "age",
        "country_of_residence",
        "acquisition_channel",
        "preferred_language",
    ],
    "card_extended_fields": ["custom_card_name"],
    "card_series": [
        {
            "id": 73,
            "code": "GOLDPHY98",
            "number_length": 8,
            "status_labels": ["ACTIVE", "INACTIVE", "EXPIRED"],
        },
        {"id": 74, "code": "GEN", "number_length": 10, "prefix": "77", "generate": True},
    ],
    "customer_status_labels": [
        {"label": "active-1", "status": "Active"},
        {"label": "suspended-1", "status": "Suspended"},
    ],
}


def item_code(item: dict[str, Any]) -> str:
    code: str = item["item_status"]["code"]
    return code
