"""/docs and /redoc work with no network: every script, style and icon comes from this server."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from memberbase.app import create_app
from memberbase.settings import Settings
from memberbase.storage import schema
from tests.support import serving

pytestmark = pytest.mark.anyio


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any socket connection fails, as on a machine with the network off."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'docs.db'}"
    schema.upgrade(url)
    return url


@pytest.fixture
async def client(database: str, no_network: None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database))
    async with serving(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://memberbase.test") as http:
            yield http


def referenced(html: str) -> list[str]:
    """Every URL the page makes the browser load: src=, href= and the schema's url."""
    return re.findall(r"""(?:src|href)="([^"]+)"|url: '([^']+)'""", html)


async def _page_loads_only_local_assets(client: httpx.AsyncClient, page: str) -> list[str]:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = [a or b for a, b in referenced(response.text)]
    assert urls
    for url in urls:
        assert re.match(r"/[^/]", url), f"{page} loads {url} from elsewhere"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    assert "cdn." not in response.text
    assert "fonts.googleapis" not in response.text
    return urls


async def test_swagger_ui_loads_its_assets_from_this_server(client: httpx.AsyncClient) -> None:
    urls = await _page_loads_only_local_assets(client, "/docs")
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/openapi.json"} <= set(urls)
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text
    css = await client.get("/docs/assets/swagger-ui.css")
    assert css.headers["content-type"].startswith("text/css")


async def test_swagger_ui_does_not_ask_the_online_validator(client: httpx.AsyncClient) -> None:
    assert '"validatorUrl": null' in (await client.get("/docs")).text


async def test_redoc_loads_its_assets_from_this_server(client: httpx.AsyncClient) -> None:
    urls = await _page_loads_only_local_assets(client, "/redoc")
    assert "/docs/assets/redoc.standalone.js" in urls


async def test_the_docs_describe_the_api_without_credentials(client: httpx.AsyncClient) -> None:
    schema_doc = (await client.get("/openapi.json")).json()
    assert schema_doc["openapi"].startswith("3.1")  # what Swagger UI 5 renders, and 4 does not
    assert "/v2/customers" in schema_doc["paths"]
    assert "/docs" not in schema_doc["paths"]


async def test_a_missing_asset_answers_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs/assets/nothing.js")).status_code == 404
