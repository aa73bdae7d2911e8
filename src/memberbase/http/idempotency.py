"""The Idempotency-Key header of every write: replay the first answer, refuse a changed request.

A retry with the key and the same request (method, path, query and body) gets the stored
answer, byte for byte, with `Idempotent-Replayed: true`, and nothing runs again. The same
key with another request is refused (422). Keys are per org; answers are kept
`idempotency_hours` (24 h by default). Only answers of writes that changed something are
kept: a refused request wrote nothing, so running it again is as safe as replaying it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.responses import Response

from memberbase.domain.codes import Codes, V2Codes
from memberbase.http.deps import Services
from memberbase.http.errors import ApiError
from memberbase.storage import idempotency
from memberbase.storage.database import reading
from memberbase.storage.idempotency import StoredAnswer
from memberbase.usecases.idempotency import IdempotentWrite, KeyTaken

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX = 255


def _is_v2(request: Request) -> bool:
    return request.url.path.startswith("/v2/")


def _key(request: Request) -> str | None:
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= KEY_MAX or not all(33 <= ord(ch) <= 126 for ch in key):
        code = V2Codes.IDEMPOTENCY_KEY_INVALID if _is_v2(request) else Codes.IDEMPOTENCY_KEY_INVALID
        raise ApiError(code, 400)
    return key


def fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    for part in (request.method, request.url.path, query):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(getattr(request.state, "raw_body", b""))
    return digest.hexdigest()


def _parts(response: Response) -> tuple[int, str, str]:
    return response.status_code, response.media_type or "application/json", bytes(response.body).decode()


def _replay(request: Request, stored: StoredAnswer, asked: str) -> Response:
    if stored.fingerprint != asked:
        code = V2Codes.IDEMPOTENCY_KEY_REUSED if _is_v2(request) else Codes.IDEMPOTENCY_KEY_REUSED
        raise ApiError(code, 422, "send a new key for a new request")
    return Response(
        stored.body,
        status_code=stored.status_code,
        media_type=stored.media_type,
        headers={REPLAYED_HEADER: "true"},
    )


async def _stored(svc: Services, org_id: int, key: str) -> StoredAnswer | None:
    async with reading(svc.engine) as conn:
        return await idempotency.find(conn, org_id, key, dt.datetime.now(dt.UTC))


async def idempotent(
    request: Request,
    svc: Services,
    org_id: int,
    render: Callable[[Any], Response],
    run: Callable[[IdempotentWrite | None], Awaitable[Any]],
) -> Response:
    """`run` the write (handing it the key's `IdempotentWrite` to seal) and `render` its result;
    or replay the answer a request with the same key already got."""
    key = _key(request)
    if key is None:
        return render(await run(None))
    asked = fingerprint(request)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=svc.settings.idempotency_hours)
    write = IdempotentWrite(org_id, key, asked, expires, lambda result: _parts(render(result)))
    try:
        # No look-up first: a first attempt (the common case) costs one statement more, in
        # its own transaction. A retry runs until that statement finds the key, rolls back
        # whatever it wrote, and replays the answer kept (below).
        result = await run(write)
    except KeyTaken:
        stored = await _stored(svc, org_id, key)
        if stored is None:  # expired between the two statements: ask for a retry
            busy = V2Codes.CONCURRENT_ACTIONS if _is_v2(request) else Codes.CONCURRENT_ACTIONS
            raise ApiError(busy, 409, "retry with the same key") from None
        return _replay(request, stored, asked)
    if write.answer is None:  # nothing was written: a retry runs again, as safely
        stored = await _stored(svc, org_id, key)
        if stored is not None:  # ... unless the key's first request did write
            return _replay(request, stored, asked)
        return render(result)
    return Response(
        write.answer.body, status_code=write.answer.status_code, media_type=write.answer.media_type
    )
