"""Reading a JSON request body safely: bounded size, known content type, no NULs."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from memberbase.domain.codes import Codes
from memberbase.http.errors import ApiError

_JSON_TYPES = {"application/json", "text/json", "text/plain"}


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # clients of the hosted API often send none; the body decides
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or media.endswith("+json") or media == "*/*"


async def read_json(request: Request, limit: int) -> Any:
    if not _is_json(request.headers.get("content-type")):
        raise ApiError(
            Codes.UNSUPPORTED_MEDIA_TYPE,
            415,
            f"send the body as JSON with Content-Type: application/json "
            f"(got {request.headers.get('content-type')!r})",
        )
    raw = await read_bounded(request, limit)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(Codes.INPUT_INVALID, 400, f"malformed JSON ({exc})") from exc


async def read_bounded(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 beyond `limit` bytes and with 400 when empty."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(Codes.BODY_TOO_LARGE, 413, f"the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(Codes.BODY_TOO_LARGE, 413, f"the limit is {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    request.state.raw_body = raw  # what an Idempotency-Key's fingerprint covers
    if not raw.strip():
        raise ApiError(Codes.INPUT_INVALID, 400, "the request body is empty")
    return raw
