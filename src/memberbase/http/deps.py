"""FastAPI dependencies shared by the API versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.auth.basic import BasicAuthenticator
from memberbase.auth.principal import Principal
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


TillPrincipal = Annotated[Principal, Depends(till_principal)]
AppServices = Annotated[Services, Depends(services)]
