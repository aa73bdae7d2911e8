"""Per-request facts every handler needs: the request id and the caller's user context."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Cap-Requestid"
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
    """The four USER-CONTEXT-* headers that were sent, for the audit row; None when none were."""
    found = {
        key: request.headers[header][:_USER_CONTEXT_MAX]
        for header, key in USER_CONTEXT_HEADERS.items()
        if request.headers.get(header)
    }
    return found or None


class RequestIdMiddleware:
    """Gives every request an id and every response the X-Cap-Requestid header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((REQUEST_ID_HEADER.encode(), rid.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)
