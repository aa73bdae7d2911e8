"""FastAPI dependencies shared by the API versions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.auth.basic import BasicAuthenticator
from memberbase.auth.principal import Principal
from memberbase.domain.access import Level, Resource
from memberbase.domain.codes import Codes
from memberbase.http.errors import ApiError
from memberbase.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    authenticator: BasicAuthenticator


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def till_principal(request: Request) -> Principal:
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
