"""FastAPI dependencies shared by the API versions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.auth.basic import BasicAuthenticator, parse_basic
from memberbase.auth.login_cache import LoginCache
from memberbase.auth.oauth import OAuthService, UnknownAttributionTill
from memberbase.auth.principal import Principal
from memberbase.auth.tokens import TokenExpired
from memberbase.auth.verification import Busy, LockedOut
from memberbase.domain.access import Level, Resource
from memberbase.domain.codes import Codes
from memberbase.http.errors import ApiError
from memberbase.login_attempts import LoginAttempts
from memberbase.rate_limiter import RateLimiter, Verdict
from memberbase.settings import Settings
from memberbase.storage.notices import LOGIN_FAILED, announce_now


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    authenticator: BasicAuthenticator
    oauth: OAuthService
    rate_limiter: RateLimiter
    logins: LoginCache
    login_attempts: LoginAttempts
    # Logins whose failure this process is announcing right now (see _login_failed).
    announcing: set[str] = field(default_factory=set)


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a hop on every request.
    return services_of(request)


# Where a call already counted against its rate limit (http/fast_reads) keeps the verdict,
# so the usual way, answering it after all, does not count it twice.
COUNTED = "memberbase.rate_limit_verdict"
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
        principal = await services_of(request).oauth.authenticate(token, _attribution(request))
    except TokenExpired as expired:
        raise ApiError(Codes.TOKEN_EXPIRED, 498, args=(expired.expired_at.isoformat(),)) from expired
    except UnknownAttributionTill as unknown:
        raise ApiError(
            Codes.INVALID_ATTRIBUTION_TILL, 400, f"{unknown.code!r} is not a till of this org"
        ) from None
    if principal is None:
        raise ApiError(Codes.UNAUTHORIZED, 401)
    return principal


def too_many(verdict: Verdict, what: str) -> ApiError:
    headers = {
        "Retry-After": str(verdict.reset_after),
        "RateLimit-Limit": str(verdict.limit),
        "RateLimit-Remaining": str(verdict.remaining),
        "RateLimit-Reset": str(verdict.reset_after),
    }
    return ApiError(Codes.RATE_LIMITED, 429, what, headers=headers)


def busy(exc: Busy) -> ApiError:
    """Too many password checks running and waiting in this process: 429, never a queue without end."""
    headers = {"Retry-After": str(exc.retry_after)}
    return ApiError(
        Codes.RATE_LIMITED, 429, "too many password checks in progress; retry later", headers=headers
    )


def locked_out(verdict: Verdict, login: str) -> ApiError:
    return too_many(verdict, f"too many failed logins for {login!r}; try again later")


async def guard_login(svc: Services, login: str) -> None:
    """Refuse a login that used up its failed attempts, even with the right secret (guessing
    must not pay off). The check itself takes its slot atomically (auth/verification.py)."""
    blocked = await svc.login_attempts.blocked(login, svc.settings.failed_logins_per_5_minutes)
    if blocked is not None:
        raise locked_out(blocked, login)


async def till_principal(request: Request) -> Principal:
    """Who is calling: an OAuth token when one is sent, else HTTP Basic as a till."""
    token = next((request.headers[h] for h in TOKEN_HEADERS if request.headers.get(h)), None)
    if token is not None:
        return await _token_principal(request, token)
    svc = services_of(request)
    header = request.headers.get("authorization")
    credentials = parse_basic(header)
    if credentials is None:
        raise _unauthorized()
    login, secret = credentials
    remembered = svc.logins.recall(login, secret)
    if remembered is not None:
        return remembered
    seen = svc.logins.generation
    await guard_login(svc, login)
    try:
        principal = await svc.authenticator.authenticate(header)
    except Busy as exc:
        raise busy(exc) from None
    except LockedOut as exc:
        raise locked_out(exc.verdict, login) from None
    if principal is None:
        await _login_failed(svc, login)
        raise _unauthorized()
    svc.logins.remember(login, secret, principal, seen)
    return principal


def _unauthorized() -> ApiError:
    return ApiError(Codes.UNAUTHORIZED, 401, headers={"WWW-Authenticate": 'Basic realm="memberbase"'})


async def _login_failed(svc: Services, login: str) -> None:
    # The failure is counted already: its check kept the slot it took. Every process drops
    # the login it kept, so the right password meets the lockout check again.
    svc.logins.forget_login(login)
    if login in svc.announcing:
        return  # a flood of one login's failures is announced once at a time, not once each
    svc.announcing.add(login)
    try:
        await announce_now(svc.engine, LOGIN_FAILED, login)
    finally:
        svc.announcing.discard(login)


def _requires(resource: Resource, needed: Level) -> Callable[[Request], Awaitable[Principal]]:
    async def check(request: Request) -> Principal:
        principal = await till_principal(request)
        if not principal.may(resource, needed):
            what = f"{needed.name.lower()} access to {resource.value}"
            raise ApiError(
                Codes.ACCESS_DENIED, 403, f"the access group {principal.access.name!r} has no {what}"
            )
        await _within_rate_limit(request, principal)
        return principal

    return check


async def _within_rate_limit(request: Request, principal: Principal) -> None:
    route = request.scope.get("route")
    # Not getattr(route, "path", request.url.path): that builds the URL on every call.
    api = f"{request.method} {route.path if route is not None else request.url.path}"
    per_minute = principal.org.rate_limits.limit(api)
    if per_minute is None:
        return
    verdict = request.scope.get(COUNTED) or await services_of(request).rate_limiter.request(
        principal.org.id, api, per_minute
    )
    if not verdict.allowed:
        raise too_many(verdict, f"{per_minute} requests per minute for {api}")


TillPrincipal = Annotated[Principal, Depends(till_principal)]
CustomerReader = Annotated[Principal, Depends(_requires(Resource.CUSTOMER, Level.READ))]
CustomerWriter = Annotated[Principal, Depends(_requires(Resource.CUSTOMER, Level.WRITE))]
AppServices = Annotated[Services, Depends(services)]
