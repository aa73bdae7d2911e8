"""uvicorn's HTTP protocol, sending each response's head and body in one write.

uvicorn writes a response's head when the app starts the response and its body when
the app sends it: two writes, two system calls, two TCP segments. On a loaded server
those writes are the largest single cost of answering a lookup (profiled: `write` was
28% of a server process's samples, half of them heads). Here the head waits for the
body and both go in one write. A head is never held longer than the response: a
response without a body (HEAD, a 204) sends it when it completes, closing sends it
first, and interim heads (100 Continue) go at once, since the client waits for them.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_STATUS_LINE = b"HTTP/1.1 "


class HeadWithBody:
    """A transport that holds a final response head until the next write (or a flush)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head + bytes(data))
        elif data[:9] == _STATUS_LINE and data[9:10] != b"1":
            self._head = bytes(data)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)  # everything else is the real transport's


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a `HeadWithBody` transport (`--http` class for uvicorn)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, HeadWithBody(transport)))

    def on_response_complete(self) -> None:
        cast(HeadWithBody, self.transport).flush()
        super().on_response_complete()
