"""POST /v3/oauth/token/generate: an API client's key and secret for an access token."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.responses import Response

from memberbase.auth.verification import Busy, LockedOut
from memberbase.domain.codes import Codes
from memberbase.domain.text import has_control
from memberbase.http.body import read_json
from memberbase.http.deps import AppServices, busy, guard_login, locked_out
from memberbase.http.errors import ApiError
from memberbase.http.responses import JsonResponse

router = APIRouter(prefix="/v3/oauth", tags=["oauth"])


@router.post("/token/generate", summary="Exchange an API client's key and secret for an access token")
async def generate_token(request: Request, svc: AppServices) -> Response:
    body = await read_json(request, 16_384)
    key = body.get("key") if isinstance(body, dict) else None
    secret = body.get("secret") if isinstance(body, dict) else None
    if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
        raise ApiError(Codes.INPUT_INVALID, 400, 'send {"key": "...", "secret": "..."}')
    if has_control(key) or has_control(secret) or len(key) > 100 or len(secret) > 500:
        raise ApiError(Codes.INVALID_CLIENT, 401)
    await guard_login(svc, f"client:{key}")
    try:
        issued = await svc.oauth.generate(key, secret, dt.datetime.now(dt.UTC))
    except Busy as exc:
        raise busy(exc) from None
    except LockedOut as exc:
        raise locked_out(exc.verdict, f"client:{key}") from None
    if issued is None:  # (the failure is counted already: the check kept the slot it took)
        raise ApiError(Codes.INVALID_CLIENT, 401)
    return JsonResponse(
        {"data": {"accessToken": issued.token, "ttlSeconds": issued.ttl_seconds}, "errors": None}
    )
