"""Reading a JSON request body safely: bounded size, known content type, no NULs."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from memberbase.domain.codes import Codes
from memberbase.http.errors import ApiError

# One rule for every body (docs/api.md, "Request bodies"): JSON types, and for v1.1 XML
# types, in UTF-8; anything else is 415. The one tolerance: no Content-Type at all, which
# tills of the hosted API often send, is read as JSON (as XML with v1.1's format=xml).
_JSON_TYPES = frozenset({"application/json", "text/json"})
_XML_TYPES = frozenset({"application/xml", "text/xml"})
_UTF8 = frozenset({"utf-8", "utf8"})


def _parameters(content_type: str) -> tuple[str, dict[str, str]]:
    media, *rest = content_type.split(";")
    params = {}
    for param in rest:
        name, _, value = param.partition("=")
        params[name.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), params


def body_format(content_type: str | None, *, xml: bool = False) -> str | None:
    """ "json" or "xml" by the Content-Type (no Content-Type: "json"); None when the type, or
    its charset, is not one this API reads: XML types count only where `xml` is allowed."""
    if not content_type or not content_type.strip():
        return "json"
    media, params = _parameters(content_type)
    if params.get("charset", "utf-8") not in _UTF8:
        return None
    if media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json")):
        return "json"
    if xml and (media in _XML_TYPES or (media.startswith("application/") and media.endswith("+xml"))):
        return "xml"
    return None


def unsupported(content_type: str | None, *, xml: bool = False) -> ApiError:
    wanted = "application/json or application/xml" if xml else "application/json"
    return ApiError(
        Codes.UNSUPPORTED_MEDIA_TYPE,
        415,
        f"send the body as Content-Type: {wanted}, in UTF-8 (got {content_type!r})",
    )


async def read_json(request: Request, limit: int) -> Any:
    content_type = request.headers.get("content-type")
    if body_format(content_type) != "json":
        raise unsupported(content_type)
    return await parse_json(request, limit)


async def parse_json(request: Request, limit: int) -> Any:
    """The body as JSON, whatever its Content-Type says (the caller checked it)."""
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
