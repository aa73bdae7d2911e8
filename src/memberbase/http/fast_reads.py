"""A shorter way into the hottest read routes, past FastAPI's routing and dependency injection.

`GET /v1.1/customer/get` and `GET /v2/customers/lookup`, called the way tills call them
(HTTP Basic, a login this process already verified and keeps, an access group that may
read customers, within the API's per-minute limit), are answered here by the very endpoint
functions the routes run: the same answer, without the router's matching, the dependency
solver and FastAPI's error and body-limit layers around them (it sits outside them, inside
only the request-id middleware). Any other call, and any call its endpoint refuses (an
ApiError) or fails, takes the usual way, which answers it exactly as before; the endpoints
only read, so running one twice is harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from memberbase.auth.basic import parse_basic
from memberbase.auth.principal import Principal
from memberbase.domain.access import Level, Resource
from memberbase.http.deps import COUNTED, TOKEN_HEADERS, Services

FAST_READ_PATHS = ("/v1.1/customer/get", "/v2/customers/lookup")
Endpoint = Callable[[Request, Principal, Services], Awaitable[Response]]
_TOKEN_HEADERS = {h.lower().encode() for h in TOKEN_HEADERS}


def _authorization(scope: Scope) -> str | None:
    found = None
    for name, value in scope["headers"]:
        if name in _TOKEN_HEADERS:
            return None  # an OAuth call: the usual way resolves the token
        if name == b"authorization":
            found = value.decode("latin-1")
    return found


class FastReads:
    def __init__(self, app: ASGIApp, routes: list[Any]) -> None:
        self.app = app
        # path -> (route, endpoint, the API's name in the org's rate limits)
        self._routes: dict[str, tuple[Route, Endpoint, str]] = {
            route.path: (route, route.endpoint, f"GET {route.path}") for route in routes
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._routes.get(scope["path"]) if scope["type"] == "http" else None
        if target is not None and scope["method"] == "GET":
            response = await self._answer(scope, receive, *target)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(
        self, scope: Scope, receive: Receive, route: Route, endpoint: Endpoint, api: str
    ) -> Response | None:
        svc: Services | None = getattr(scope["app"].state, "services", None)
        credentials = parse_basic(_authorization(scope))
        if svc is None or credentials is None:
            return None
        principal = svc.logins.recall(*credentials)
        if principal is None or not principal.may(Resource.CUSTOMER, Level.READ):
            return None
        per_minute = principal.org.rate_limits.limit(api)
        if per_minute is not None:
            verdict = await svc.rate_limiter.request(principal.org.id, api, per_minute)
            scope[COUNTED] = verdict
            if not verdict.allowed:
                return None  # the usual way answers the 429, in its API's shape
        scope["route"] = route  # as routing would: the metrics and access log name the route
        try:
            return await endpoint(Request(scope, receive), principal, svc)
        except Exception:
            # Refused (an ApiError), or failed (the database away): the usual way answers it,
            # through FastAPI's error handling, which this short way sits outside of.
            return None
