"""The API's documentation pages, whole without a network: /docs (Swagger UI) and /redoc.

FastAPI's own pages load Swagger UI and ReDoc from a CDN and stay blank on a machine that
cannot reach it. These serve the same pages with their scripts, style and icon from the
pinned `fastapi-offline` package, which ships current Swagger UI 5 (needed for OpenAPI 3.1)
and ReDoc builds. Only its static folder is used: its FastAPI factory would replace the
application class that create_app builds. A release that moves the folder fails at start-up
(StaticFiles checks it) and in tests/api/test_docs.py.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "/docs/assets"
ASSET_PACKAGE = ("fastapi_offline", "static")


def install_docs(app: FastAPI) -> None:
    """Mount the assets and add the two pages; create the app with docs_url=redoc_url=None."""
    app.mount(ASSETS, StaticFiles(packages=[ASSET_PACKAGE]), name="docs-assets")

    def paths(request: Request) -> tuple[str, str]:
        root = request.scope.get("root_path", "")  # behind a proxy that mounts us under a prefix
        return f"{root}{app.openapi_url}", f"{root}{ASSETS}"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        openapi, assets = paths(request)
        return get_swagger_ui_html(
            openapi_url=openapi,
            title=f"{app.title} - API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            # The default asks validator.swagger.io to judge the schema: a call out, and a
            # broken badge offline.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        openapi, assets = paths(request)
        return get_redoc_html(
            openapi_url=openapi,
            title=f"{app.title} - API",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        )
