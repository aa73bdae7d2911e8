"""FastAPI dependencies shared by the API versions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.auth.basic import BasicAuthenticator
from memberbase.auth.oauth import OAuthService, UnknownAttributionTill
from memberbase.auth.principal import Principal
from memberbase.auth.tokens import TokenExpired
from memberbase.domain.access import Level, Resource
from memberbase.domain.codes import Codes
from memberbase.http.errors import ApiError
from memberbase.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    authenticator: BasicAuthenticator
    oauth: OAuthService


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


TOKEN_HEADERS = ("X-CAP-API-OAUTH-TOKEN", "CAP-API-ACCESS-TOKEN")


def _attribution(request: Request) -> str | None:
    """The till an OAuth call is attributed to, from the hosted API's attribution headers."""
    till = request.headers.get("X-CAP-API-ATTRIBUTION-TILL-CODE")
    if till:
        return till
    kind = request.headers.get("X-CAP-API-ATTRIBUTION-ENTITY-TYPE", "TILL").upper()
    code = request.headers.get("X-CAP-API-ATTRIBUTION-ENTITY-CODE")
    if code and kind != "TILL":
        raise ApiError(
            Codes.INVALID_ATTRIBUTION_TILL, 400, f"attribution by {kind} is not supported; use TILL"
        )
    return code or None


async def _token_principal(request: Request, token: str) -> Principal:
    try:
        principal = await services(request).oauth.authenticate(token, _attribution(request))
    except TokenExpired as expired:
        raise ApiError(Codes.TOKEN_EXPIRED, 498, args=(expired.expired_at.isoformat(),)) from expired
    except UnknownAttributionTill as unknown:
        raise ApiError(
            Codes.INVALID_ATTRIBUTION_TILL, 400, f"{unknown.code!r} is not a till of this org"
        ) from None
    if principal is None:
        raise ApiError(Codes.UNAUTHORIZED, 401)
    return principal


async def till_principal(request: Request) -> Principal:
    """Who is calling: an OAuth token when one is sent, else HTTP Basic as a till."""
    token = next((request.headers[h] for h in TOKEN_HEADERS if request.headers.get(h)), None)
    if token is not None:
        return await _token_principal(request, token)
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    if principal is None:
        raise ApiError(Codes.UNAUTHORIZED, 401, headers={"WWW-Authenticate": 'Basic realm="memberbase"'})
    return principal


def _requires(resource: Resource, needed: Level) -> Callable[[Request], Awaitable[Principal]]:
    async def check(request: Request) -> Principal:
        principal = await till_principal(request)
        if not principal.may(resource, needed):
            what = f"{needed.name.lower()} access to {resource.value}"
            raise ApiError(
                Codes.ACCESS_DENIED, 403, f"the access group {principal.access.name!r} has no {what}"
            )
        return principal

    return check


TillPrincipal = Annotated[Principal, Depends(till_principal)]
CustomerReader = Annotated[Principal, Depends(_requires(Resource.CUSTOMER, Level.READ))]
CustomerWriter = Annotated[Principal, Depends(_requires(Resource.CUSTOMER, Level.WRITE))]
AppServices = Annotated[Services, Depends(services)]
