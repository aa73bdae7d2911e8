"""Per-request facts every handler needs: the request id and the caller's user context."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memberbase.domain.audit_events import flag_entity_source
from memberbase.domain.uuids import random_16
from memberbase.observability import Metrics, access_log, current_request_id

REQUEST_ID_HEADER = "X-Cap-Requestid"
_REQUEST_ID_NAME = REQUEST_ID_HEADER.encode()
USER_CONTEXT_HEADERS = {
    "USER-CONTEXT-ENTITY-TYPE": "entityType",
    "USER-CONTEXT-ENTITY-ID": "entityId",
    "USER-CONTEXT-ENTITY-SOURCE": "entitySource",
    "USER-CONTEXT-ENTITY-SOURCE-ID": "entitySourceId",
}
_USER_CONTEXT_MAX = 200


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id") or "")


def user_context(request: Request) -> dict[str, str] | None:
    """The four USER-CONTEXT-* headers that were sent, for the audit row (an entity source
    outside the standard list flagged); None when none were."""
    found = {
        key: request.headers[header][:_USER_CONTEXT_MAX]
        for header, key in USER_CONTEXT_HEADERS.items()
        if request.headers.get(header)
    }
    return flag_entity_source(found) if found else None


class RequestIdMiddleware:
    """Gives every request an id, every response the X-Cap-Requestid header, and traces it.

    Tracing: the request is counted and timed in the metrics by route (the template,
    so ids in paths do not explode the label set) and, when access logging is on,
    logged as one JSON line.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, log_access: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.log_access = log_access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = random_16().hex()  # 32 hex digits, as a uuid4's; a sixth of its cost
        scope.setdefault("state", {})["request_id"] = rid
        token = current_request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((_REQUEST_ID_NAME, rid.encode()))
            await send(message)

        escaped = True
        try:
            await self.app(scope, receive, send_with_id)
            escaped = False
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], route, status, started)
            unexpected = escaped or bool(scope["state"].get("unexpected"))
            if unexpected:
                self.metrics.unexpected.inc()
            if self.log_access:
                access_log.info(
                    "request",
                    extra={
                        "request_id": rid,
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "unexpected": unexpected,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            current_request_id.reset(token)
